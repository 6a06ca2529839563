//! Upload caps: a token bucket shared by every transfer of a node, which also counts the
//! bytes it lets through (the node's cache traffic, for the dashboard).

use idleshare_base::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Longest burst, as time at the full rate.
const BURST: Duration = Duration::from_millis(250);
/// Smallest burst, so one write of a batch never waits on itself.
const MIN_BURST_BYTES: f64 = 512.0 * 1024.0;

#[derive(Debug)]
struct Bucket {
    /// Bytes per second; `None` is uncapped.
    rate: Option<u64>,
    /// Bytes that may go now; negative is debt already promised to earlier callers.
    tokens: f64,
    last: Instant,
}

/// Paces bytes to a rate; callers wait their turn, so concurrent transfers share the rate.
#[derive(Debug)]
pub struct Pacer {
    bucket: Mutex<Bucket>,
    passed: AtomicU64,
}

impl Pacer {
    /// A pacer at `rate` bytes per second (`None`: uncapped).
    pub fn new(rate: Option<u64>) -> Self {
        Self {
            bucket: Mutex::new(Bucket {
                rate,
                tokens: 0.0,
                last: Instant::now(),
            }),
            passed: AtomicU64::new(0),
        }
    }

    /// Bytes let through since the pacer was made.
    pub fn passed(&self) -> u64 {
        self.passed.load(Ordering::Relaxed)
    }

    /// Changes the rate (the owner edited the cap, or the policy changed).
    pub fn set_rate(&self, rate: Option<u64>) {
        let mut bucket = self.bucket.lock();
        bucket.rate = rate;
    }

    /// The current rate.
    pub fn rate(&self) -> Option<u64> {
        self.bucket.lock().rate
    }

    /// Waits until `bytes` may be sent.
    pub async fn take(&self, bytes: u64) {
        self.passed.fetch_add(bytes, Ordering::Relaxed);
        if let Some(wait) = self.reserve(bytes, Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Takes `bytes` (going into debt if needed) and says how long to wait before sending.
    fn reserve(&self, bytes: u64, now: Instant) -> Option<Duration> {
        let mut bucket = self.bucket.lock();
        let rate = bucket.rate? as f64;
        if rate <= 0.0 {
            return Some(Duration::from_secs(3600));
        }
        let burst = (rate * BURST.as_secs_f64()).max(MIN_BURST_BYTES);
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.last = now;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst) - bytes as f64;
        (bucket.tokens < 0.0).then(|| Duration::from_secs_f64(-bucket.tokens / rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn what_passes_is_counted() {
        let pacer = Pacer::new(None);
        pacer.take(1000).await;
        pacer.take(24).await;
        assert_eq!(pacer.passed(), 1024);
    }

    #[test]
    fn uncapped_never_waits() {
        let pacer = Pacer::new(None);
        assert_eq!(pacer.reserve(u64::MAX, Instant::now()), None);
    }

    #[test]
    fn a_cap_spreads_bytes_over_time() {
        let pacer = Pacer::new(Some(1_000_000));
        let start = Instant::now();
        // The first 512 KiB burst is free after a quarter second of credit.
        let later = start + Duration::from_millis(600);
        assert_eq!(pacer.reserve(500_000, later), None);
        // The next 2 MB must wait about two seconds (minus what is left of the burst).
        let wait = pacer.reserve(2_000_000, later).unwrap();
        assert!(
            wait > Duration::from_millis(1900) && wait < Duration::from_millis(2000),
            "{wait:?}"
        );
        // A second caller queues behind the first one's debt.
        let second = pacer.reserve(1_000_000, later).unwrap();
        assert!(second > wait + Duration::from_millis(900), "{second:?}");
    }
}
