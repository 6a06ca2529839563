//! Re-hashing stored content now and then, on a lowest-priority thread: an item whose bytes
//! no longer match its id is evicted and the coordinator told, so it pins a fresh copy
//! elsewhere.

use idleshare_base::clock::unix_ms;
use std::sync::{Arc, Weak};
use std::time::Duration;

use idleshare_cache::ScrubOutcome;
use idleshare_protocol::cache::PinOutcome;

use super::CacheService;

/// Starts the scrubber; it ends when the service is gone.
pub(super) fn start(service: &Arc<CacheService>, every: Duration, min_age: Duration) {
    let service = Arc::downgrade(service);
    let spawned = std::thread::Builder::new()
        .name("idleshare-scrub".into())
        .spawn(move || {
            crate::executor::lower_current_thread();
            scrub_loop(service, every, min_age)
        });
    if let Err(e) = spawned {
        tracing::warn!("cache: cannot start the scrubber: {e}");
    }
}

fn scrub_loop(service: Weak<CacheService>, every: Duration, min_age: Duration) {
    loop {
        std::thread::sleep(every);
        let Some(service) = service.upgrade() else {
            return;
        };
        if service.tasks_stopped() {
            return;
        }
        let now = unix_ms();
        match service.store.scrub_next(now, min_age.as_millis() as u64) {
            Ok(Some(ScrubOutcome::Corrupt { id, damage })) => {
                let reason = format!("corrupt on disk: {damage}");
                service.report(id, PinOutcome::Dropped { reason });
            }
            Ok(Some(ScrubOutcome::Intact(id))) => tracing::debug!("cache: {} intact", id.short()),
            Ok(None) => {}
            Err(e) => tracing::warn!("cache scrub: {e}"),
        }
    }
}
