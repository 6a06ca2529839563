//! The wall clock, read in one place.
//!
//! Decisions take the time as an argument (`now_ms`); only the edges call [`unix_ms`].

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Local, NaiveDate, TimeZone};

/// Milliseconds since the Unix epoch; 0 for a clock set before 1970.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}

/// The start of the local calendar day that contains `unix_ms`, in Unix milliseconds.
///
/// On a day that starts inside a daylight-saving gap (no local midnight exists), the first
/// instant of the day that does exist is used.
pub fn local_day_start_ms(unix_ms: u64) -> u64 {
    day_start_ms_in(&Local, unix_ms)
}

/// [`local_day_start_ms`] in any time zone (tests use fixed offsets).
pub fn day_start_ms_in<Tz: TimeZone>(zone: &Tz, unix_ms: u64) -> u64 {
    let Some(instant) = i64::try_from(unix_ms)
        .ok()
        .and_then(DateTime::from_timestamp_millis)
    else {
        return 0;
    };
    let date: NaiveDate = instant.with_timezone(zone).date_naive();
    // Midnight may not exist (a DST gap at 00:00): walk forward a minute at a time.
    (0..=24 * 60)
        .filter_map(|minute| {
            let naive = date.and_hms_opt(0, 0, 0)? + chrono::Duration::minutes(minute);
            naive.and_local_timezone(zone.clone()).earliest()
        })
        .next()
        .map_or(0, |start| {
            u64::try_from(start.timestamp_millis()).unwrap_or(0)
        })
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;

    #[test]
    fn the_clock_is_after_2020() {
        assert!(unix_ms() > 1_577_836_800_000);
    }

    #[test]
    fn the_day_starts_at_local_midnight_not_utc_midnight() {
        // 2026-12-03 10:30 UTC.
        let now = 1_796_293_800_000;
        let utc = FixedOffset::east_opt(0).unwrap();
        let tokyo = FixedOffset::east_opt(9 * 3600).unwrap();
        let hawaii = FixedOffset::west_opt(10 * 3600).unwrap();
        // UTC: 2026-12-03 00:00.
        assert_eq!(day_start_ms_in(&utc, now), 1_796_256_000_000);
        // Tokyo: 19:30 on the 3rd, so its day began at 2026-12-02 15:00 UTC.
        assert_eq!(
            day_start_ms_in(&tokyo, now),
            1_796_256_000_000 - 9 * 3_600_000
        );
        // Hawaii: 00:30 on the 3rd, so its day began at 10:00 UTC on the 3rd.
        assert_eq!(
            day_start_ms_in(&hawaii, now),
            1_796_256_000_000 + 10 * 3_600_000
        );
    }

    #[test]
    fn a_day_start_is_never_after_the_instant() {
        for now in [0, 1, 86_399_999, 1_796_293_800_000] {
            let start = local_day_start_ms(now);
            assert!(start <= now, "{start} > {now}");
            assert!(
                now - start < 26 * 3_600_000,
                "{start} is too long before {now}"
            );
        }
    }
}
