//! Background tasks of the work engine: messages released to nodes once committed (small
//! inputs read and put inline in their assignments), and lease expiry once a second.

use std::sync::Arc;
use std::time::Duration;

use idleshare_protocol::work::MAX_INLINE_INPUT;
use idleshare_protocol::{CoordinatorMessage, NodeId};

use crate::jobs::ops::Outbound;
use idleshare_base::clock::unix_ms;

use crate::server::Shared;

/// How often leases are checked for expiry.
const EXPIRY_TICK: Duration = Duration::from_secs(1);

/// Sends every committed message to its node's session, in commit order.
pub(crate) async fn deliver_committed(shared: Arc<Shared>) {
    let mut commits = shared.work.subscribe();
    loop {
        let out = shared.work.take_committed_outbound();
        if !out.is_empty() {
            let messages = if out.iter().any(needs_input) {
                let reading = shared.clone();
                tokio::task::spawn_blocking(move || with_inputs(&reading, out))
                    .await
                    .unwrap_or_default()
            } else {
                out.into_iter()
                    .map(|o| (o.node(), o.into_message()))
                    .collect()
            };
            shared.send_to_nodes(messages);
            continue;
        }
        if commits.changed().await.is_err() {
            return;
        }
    }
}

fn needs_input(out: &Outbound) -> bool {
    matches!(out, Outbound::Assign { input_len, .. } if *input_len as usize <= MAX_INLINE_INPUT)
}

/// Turns outbound messages into frames, reading small inputs into their assignments.
fn with_inputs(shared: &Shared, out: Vec<Outbound>) -> Vec<(NodeId, CoordinatorMessage)> {
    out.into_iter()
        .map(|mut o| {
            if needs_input(&o)
                && let Outbound::Assign { assignment, .. } = &mut o
            {
                match shared.work.store().blob(&assignment.input) {
                    Ok(bytes) => assignment.inline_input = bytes,
                    Err(e) => tracing::warn!("input {} not read: {e}", assignment.input.short()),
                }
            }
            (o.node(), o.into_message())
        })
        .collect()
}

/// Lapses expired leases (their units go to other nodes) and closes order limits whose
/// claim time is over (their unused escrow goes back), once a second.
pub(crate) async fn expire_leases(shared: Arc<Shared>) {
    let mut ticker = tokio::time::interval(EXPIRY_TICK);
    loop {
        ticker.tick().await;
        let now = unix_ms();
        let ((expired, closed), _) = shared
            .work
            .apply(|book, rng, ch| (book.expire(now, rng, ch), book.close_orders(now, ch)));
        if expired > 0 {
            tracing::info!("{expired} lease(s) expired; their units are offered again");
        }
        if closed > 0 {
            tracing::info!("{closed} order limit(s) closed; unused escrow returned");
        }
    }
}
