//! Reconnect delays: exponential growth with jitter, capped. Pure; randomness is passed in.

use std::time::Duration;

/// Exponential backoff state for reconnect attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// Starts at `initial`, doubling per failure up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            failures: 0,
        }
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a failure and returns how long to wait before the next attempt.
    ///
    /// `unit_random` in `[0, 1)` spreads the delay over `[ceiling/2, ceiling)` so that many
    /// nodes cut off at once do not come back in lockstep.
    pub fn next_delay(&mut self, unit_random: f64) -> Duration {
        let exponent = self.failures.min(20);
        self.failures = self.failures.saturating_add(1);
        let ceiling = self.initial.saturating_mul(1 << exponent).min(self.max);
        let spread = 0.5 + 0.5 * unit_random.clamp(0.0, 1.0);
        ceiling.mul_f64(spread)
    }

    /// Records a success: the next failure starts from `initial` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_then_cap_and_stay_within_jitter_band() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let ceilings = [100, 200, 400, 800, 1600, 2000, 2000];
        for ceiling in ceilings {
            let low = backoff.clone().next_delay(0.0);
            let high = backoff.clone().next_delay(0.999_999);
            assert_eq!(low, Duration::from_millis(ceiling / 2));
            assert!(high < Duration::from_millis(ceiling) && high > low);
            backoff.next_delay(0.5);
        }
    }

    #[test]
    fn reset_starts_over_and_huge_failure_counts_do_not_overflow() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        for _ in 0..1000 {
            backoff.next_delay(0.5);
        }
        assert_eq!(backoff.next_delay(0.0), Duration::from_millis(2500));
        backoff.reset();
        assert_eq!(backoff.next_delay(0.0), Duration::from_millis(50));
    }
}
