//! A token bucket (frames per second per node, registrations per address). Pure: the caller
//! passes the time.

use std::time::{Duration, Instant};

/// Allows `rate` events per second on average, with bursts up to `burst`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(rate_per_second: f64, burst: u32, now: Instant) -> Self {
        Self {
            rate: rate_per_second,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: now,
        }
    }

    /// Takes one token if available at `now`.
    pub fn try_take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How long from `now` until a token is available (zero if one is).
    pub fn time_until_token(&self, now: Instant) -> Duration {
        let missing = 1.0 - self.tokens_at(now);
        if missing <= 0.0 || self.rate <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(missing / self.rate)
    }

    /// Whether the bucket is full at `now`: it then says no more than a new one would.
    pub fn is_full(&self, now: Instant) -> bool {
        self.tokens_at(now) >= self.burst
    }

    fn tokens_at(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.last);
        (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.burst)
    }

    fn refill(&mut self, now: Instant) {
        self.tokens = self.tokens_at(now);
        self.last = self.last.max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill_at_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 3, start);
        assert!((0..3).all(|_| bucket.try_take(start)));
        assert!(!bucket.try_take(start));
        assert!(bucket.try_take(start + Duration::from_millis(100)));
        assert!(!bucket.try_take(start + Duration::from_millis(100)));
        // A long pause refills only up to the burst.
        let later = start + Duration::from_secs(60);
        assert_eq!((0..10).filter(|_| bucket.try_take(later)).count(), 3);
    }

    #[test]
    fn says_how_long_until_the_next_token_and_when_it_is_full() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(2.0, 2, start);
        assert!(bucket.is_full(start));
        assert_eq!(bucket.time_until_token(start), Duration::ZERO);
        assert!(bucket.try_take(start) && bucket.try_take(start));
        assert!(!bucket.is_full(start));
        assert_eq!(bucket.time_until_token(start), Duration::from_millis(500));
        let later = start + Duration::from_millis(250);
        assert_eq!(bucket.time_until_token(later), Duration::from_millis(250));
        assert!(bucket.is_full(start + Duration::from_secs(1)));
    }

    #[test]
    fn time_going_backwards_grants_nothing_extra() {
        let start = Instant::now() + Duration::from_secs(1);
        let mut bucket = TokenBucket::new(1.0, 1, start);
        assert!(bucket.try_take(start));
        assert!(!bucket.try_take(start - Duration::from_secs(1)));
    }
}
