//! The policy's notion of "now": Unix time for timers, local weekday and minute for the schedule.
//!
//! The policy never reads a clock itself; the caller builds a [`PolicyClock`] at the edge
//! (usually with [`PolicyClock::local_now`]) so that every decision is reproducible in tests.

use chrono::{DateTime, Datelike, TimeZone, Timelike, Weekday};

/// Minutes in a day; a minute of day is always below this.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// One moment as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyClock {
    /// Unix time in milliseconds, for the snooze and the hold timers of the hysteresis.
    pub now_ms: u64,
    /// The local day of the week, for the schedule.
    pub weekday: Weekday,
    /// Minutes since local midnight (0–1439), for the schedule.
    pub minute_of_day: u16,
}

impl PolicyClock {
    /// A clock from its parts; `minute_of_day` is clamped to the last minute of the day.
    pub fn new(now_ms: u64, weekday: Weekday, minute_of_day: u16) -> Self {
        Self {
            now_ms,
            weekday,
            minute_of_day: minute_of_day.min(MINUTES_PER_DAY - 1),
        }
    }

    /// The current moment in the machine's local time zone. This is the only clock read in
    /// the policy module; call it at the edge and pass the result in.
    pub fn local_now() -> Self {
        Self::from_datetime(&chrono::Local::now())
    }

    /// The moment `at`, with weekday and minute taken in `at`'s own time zone.
    pub fn from_datetime<Tz: TimeZone>(at: &DateTime<Tz>) -> Self {
        // Before 1970 cannot happen on a real machine; clamping keeps the type unsigned.
        let now_ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
        // hour() < 24 and minute() < 60, so this fits in u16 and below MINUTES_PER_DAY.
        let minute_of_day = (at.hour() * 60 + at.minute()) as u16;
        Self::new(now_ms, at.weekday(), minute_of_day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn from_datetime_uses_the_local_weekday_and_minute_of_the_given_zone() {
        // 2024-01-07 23:30 UTC is a Sunday; at UTC+2 it is already Monday 01:30.
        let utc = chrono::Utc.with_ymd_and_hms(2024, 1, 7, 23, 30, 0).single();
        let utc = utc.expect("valid date");
        let plus_two = FixedOffset::east_opt(2 * 3600).expect("valid offset");
        let local = utc.with_timezone(&plus_two);

        let clock = PolicyClock::from_datetime(&local);

        assert_eq!(clock.now_ms, 1_704_670_200_000);
        assert_eq!(clock.weekday, Weekday::Mon);
        assert_eq!(clock.minute_of_day, 90);
        assert_eq!(PolicyClock::from_datetime(&utc).weekday, Weekday::Sun);
    }

    #[test]
    fn new_clamps_minute_of_day_into_the_day() {
        assert_eq!(PolicyClock::new(0, Weekday::Tue, 5000).minute_of_day, 1439);
    }
}
