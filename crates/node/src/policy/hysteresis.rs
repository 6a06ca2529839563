//! Hysteresis: a latch that trips on a reading held high and releases on one held low.
//!
//! A single threshold flaps whenever a reading hovers around it (owner CPU at 24–26 %, a CPU
//! at 85 °C). A [`HoldLatch`] trips only after the reading has stayed above `trip_above` for
//! `trip_after_ms`, and releases only after it has stayed below the lower `release_below`
//! for `release_after_ms`. A reading between the two thresholds keeps the current state and
//! restarts any pending hold, so "held" means "every sample in a row".

/// The thresholds and hold times of one latch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatchThresholds {
    /// The latch trips when readings are above this...
    pub trip_above: f32,
    /// ...for at least this long (0 = at the first such reading).
    pub trip_after_ms: u64,
    /// Once tripped, it releases when readings are below this...
    pub release_below: f32,
    /// ...for at least this long (0 = at the first such reading).
    pub release_after_ms: u64,
}

/// The memory of one hysteresis rule: whether it has tripped, and since when the reading has
/// been on the other side of the threshold that would change that.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HoldLatch {
    tripped: bool,
    /// When the current run of readings that would flip the state began (Unix ms).
    crossing_since_ms: Option<u64>,
}

impl HoldLatch {
    /// Whether the latch is tripped (the rule asks to pause).
    pub fn is_tripped(&self) -> bool {
        self.tripped
    }

    /// Feeds one reading taken at `now_ms` and returns whether the latch is tripped.
    ///
    /// `None` (unknown) releases the latch at once: an unknown reading never pauses work.
    /// NaN counts as unknown. If the clock steps backwards, the hold time counts as zero
    /// rather than underflowing.
    pub fn update(&mut self, reading: Option<f32>, limits: &LatchThresholds, now_ms: u64) -> bool {
        let Some(value) = reading.filter(|v| !v.is_nan()) else {
            *self = Self::default();
            return false;
        };
        let (crossing, hold_ms) = if self.tripped {
            (value < limits.release_below, limits.release_after_ms)
        } else {
            (value > limits.trip_above, limits.trip_after_ms)
        };
        if !crossing {
            self.crossing_since_ms = None;
            return self.tripped;
        }
        let since = *self.crossing_since_ms.get_or_insert(now_ms);
        if now_ms.saturating_sub(since) >= hold_ms {
            self.tripped = !self.tripped;
            self.crossing_since_ms = None;
        }
        self.tripped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER_CPU: LatchThresholds = LatchThresholds {
        trip_above: 25.0,
        trip_after_ms: 2_000,
        release_below: 15.0,
        release_after_ms: 30_000,
    };

    /// One reading: (ms, value, expected tripped state after it).
    type Step = (u64, Option<f32>, bool);

    #[test]
    fn latch_follows_each_reading_sequence() {
        let cases: &[(&str, &[Step])] = &[
            (
                "a one-second spike never trips",
                &[
                    (0, Some(90.0), false),
                    (1_000, Some(90.0), false),
                    (2_000, Some(5.0), false),
                ],
            ),
            (
                "a reading held above the limit for the hold time trips",
                &[
                    (0, Some(30.0), false),
                    (1_000, Some(30.0), false),
                    (2_000, Some(30.0), true),
                ],
            ),
            (
                "exactly at the limit is not above it",
                &[(0, Some(25.0), false), (5_000, Some(25.0), false)],
            ),
            (
                "a dip between the thresholds restarts the release hold",
                &[
                    (0, Some(50.0), false),
                    (2_000, Some(50.0), true),
                    (3_000, Some(10.0), true),
                    (20_000, Some(20.0), true),
                    (33_000, Some(10.0), true),
                    (62_000, Some(10.0), true),
                    (63_000, Some(10.0), false),
                ],
            ),
            (
                "an unknown reading releases at once",
                &[
                    (0, Some(50.0), false),
                    (2_000, Some(50.0), true),
                    (3_000, None, false),
                ],
            ),
            (
                "NaN counts as unknown",
                &[(0, Some(f32::NAN), false), (9_000, Some(f32::NAN), false)],
            ),
            (
                "a clock stepping back does not trip early",
                &[(10_000, Some(50.0), false), (5_000, Some(50.0), false)],
            ),
        ];
        for (name, readings) in cases {
            let mut latch = HoldLatch::default();
            for (at, reading, expected) in *readings {
                let tripped = latch.update(*reading, &OWNER_CPU, *at);
                assert_eq!(tripped, *expected, "{name}: at {at} ms reading {reading:?}");
                assert_eq!(latch.is_tripped(), tripped, "{name}");
            }
        }
    }
}
