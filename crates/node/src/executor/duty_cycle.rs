//! Duty cycling: a worker allowed `cpu_percent` of a core runs for that share of each
//! period and rests for the remainder.

use std::time::{Duration, Instant};

/// Short enough that the load looks steady to a temperature or fan controller, long
/// enough that the OS timer granularity (≈ 0.1 ms) is a small error.
pub(crate) const DUTY_PERIOD: Duration = Duration::from_millis(50);

pub(crate) struct DutyCycle {
    period_start: Instant,
    busy: Duration,
}

impl DutyCycle {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            period_start: now,
            busy: Duration::ZERO,
        }
    }

    pub(crate) fn restart(&mut self, now: Instant) {
        *self = Self::new(now);
    }

    /// Records a slice that ran for `slice`; returns how long to rest before the next one,
    /// if this period's share is used up.
    pub(crate) fn after_slice(
        &mut self,
        slice: Duration,
        cpu_percent: u8,
        now: Instant,
    ) -> Option<Duration> {
        if cpu_percent >= 100 {
            return None;
        }
        self.busy += slice;
        let share = DUTY_PERIOD * u32::from(cpu_percent) / 100;
        let elapsed = now.saturating_duration_since(self.period_start);
        if self.busy < share {
            if elapsed >= DUTY_PERIOD {
                // The period passed without using its share (slow slices, preemption): start
                // a fresh one rather than carry a debt.
                self.restart(now);
            }
            return None;
        }
        let rest = DUTY_PERIOD.saturating_sub(elapsed);
        self.restart(now + rest);
        (!rest.is_zero()).then_some(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_budget_never_rests() {
        let start = Instant::now();
        let mut duty = DutyCycle::new(start);
        for step in 1..=200 {
            let now = start + Duration::from_millis(step);
            assert_eq!(duty.after_slice(Duration::from_millis(1), 100, now), None);
        }
    }

    #[test]
    fn quarter_budget_runs_a_quarter_of_each_period() {
        let start = Instant::now();
        let mut duty = DutyCycle::new(start);
        let slice = Duration::from_millis(1);
        let (mut now, mut busy) = (start, Duration::ZERO);
        while now < start + Duration::from_secs(1) {
            now += slice;
            busy += slice;
            if let Some(rest) = duty.after_slice(slice, 25, now) {
                now += rest;
            }
        }
        let share = busy.as_secs_f64() / (now - start).as_secs_f64();
        assert!((0.22..=0.28).contains(&share), "ran {share:.3} of the time");
    }
}
