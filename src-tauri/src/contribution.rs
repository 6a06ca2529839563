//! The owner's direct controls (the master switch and the snooze), shared by the commands
//! and the tray menu. Each change is validated and written to `settings.toml` before the
//! node sees it (see `SettingsStore::update`).

use chrono::{DateTime, Days, NaiveTime, TimeZone};
use idleshare_node::settings::{Settings, SettingsStore};

use crate::error::AppError;

/// "Snooze until tomorrow" ends at this local hour.
pub const MORNING_HOUR: u32 = 8;
/// Before this local hour, "tomorrow" still means this coming morning (the night belongs
/// to the day before).
const NIGHT_ENDS_HOUR: u32 = 4;
/// Longest snooze through the `snooze` command, in hours (a week).
pub const MAX_SNOOZE_HOURS: u32 = 24 * 7;

/// Switches contributing on or off; switching on also ends a snooze, since the owner asked
/// for work now.
pub fn set_contributing(store: &SettingsStore, enabled: bool) -> Result<Settings, AppError> {
    Ok(store.update(|settings| {
        settings.contribution.enabled = enabled;
        if enabled {
            settings.contribution.snooze_until_ms = None;
        }
    })?)
}

/// Snoozes for `hours` from `now_ms`; 0 ends a snooze.
pub fn snooze_hours(store: &SettingsStore, hours: u32, now_ms: u64) -> Result<Settings, AppError> {
    if hours > MAX_SNOOZE_HOURS {
        return Err(AppError::invalid(
            "contribution.snooze_until_ms",
            format!("a snooze is at most {MAX_SNOOZE_HOURS} hours"),
        ));
    }
    Ok(store.snooze(hours, now_ms)?)
}

/// Snoozes until `until_ms` (Unix ms).
pub fn snooze_until(store: &SettingsStore, until_ms: u64) -> Result<Settings, AppError> {
    Ok(store.update(|settings| settings.contribution.snooze_until_ms = Some(until_ms))?)
}

/// The end of "snooze until tomorrow": the next day's [`MORNING_HOUR`] in `now`'s time
/// zone, or this morning's when it is still night (before [`NIGHT_ENDS_HOUR`]). Where that
/// local time does not exist (a daylight-saving gap) it is an hour later; where it exists
/// twice, the first.
pub fn tomorrow_morning_ms<Tz: TimeZone>(now: &DateTime<Tz>) -> u64 {
    use chrono::Timelike;
    let today = now.date_naive();
    let day = if now.hour() < NIGHT_ENDS_HOUR {
        today
    } else {
        today.checked_add_days(Days::new(1)).unwrap_or(today)
    };
    let tz = now.timezone();
    let at_hour = |hour| {
        NaiveTime::from_hms_opt(hour, 0, 0)
            .and_then(|time| tz.from_local_datetime(&day.and_time(time)).earliest())
    };
    let morning = at_hour(MORNING_HOUR).or_else(|| at_hour(MORNING_HOUR + 1));
    match morning {
        Some(at) => at.timestamp_millis().max(0) as u64,
        // No such local time at all: a day from now.
        None => (now.timestamp_millis().max(0) as u64).saturating_add(24 * 3_600_000),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, Utc};

    use super::*;

    fn store() -> (tempfile::TempDir, SettingsStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SettingsStore::open(dir.path().join("settings.toml")).unwrap();
        (dir, store)
    }

    #[test]
    fn switching_on_ends_a_snooze_and_both_are_written_to_the_file() {
        let (_dir, store) = store();
        snooze_hours(&store, 2, 1_000).unwrap();
        set_contributing(&store, false).unwrap();
        let reread = SettingsStore::open(store.path()).unwrap().current();
        assert!(!reread.contribution.enabled);
        assert_eq!(
            reread.contribution.snooze_until_ms,
            Some(1_000 + 2 * 3_600_000)
        );
        set_contributing(&store, true).unwrap();
        let reread = SettingsStore::open(store.path()).unwrap().current();
        assert!(reread.contribution.enabled);
        assert_eq!(reread.contribution.snooze_until_ms, None);
    }

    #[test]
    fn an_overlong_snooze_is_refused() {
        let (_dir, store) = store();
        assert!(matches!(
            snooze_hours(&store, MAX_SNOOZE_HOURS + 1, 0),
            Err(AppError::InvalidSetting { .. })
        ));
        assert_eq!(store.current(), Settings::default());
    }

    #[test]
    fn tomorrow_means_next_morning_at_eight_local_time() {
        let paris = FixedOffset::east_opt(3600).unwrap();
        let evening = paris.with_ymd_and_hms(2026, 3, 10, 21, 30, 0).unwrap();
        let expected = paris.with_ymd_and_hms(2026, 3, 11, 8, 0, 0).unwrap();
        assert_eq!(
            tomorrow_morning_ms(&evening),
            expected.timestamp_millis() as u64
        );
    }

    #[test]
    fn after_midnight_tomorrow_means_this_morning() {
        let night = Utc.with_ymd_and_hms(2026, 3, 11, 1, 15, 0).unwrap();
        let expected = Utc.with_ymd_and_hms(2026, 3, 11, 8, 0, 0).unwrap();
        assert_eq!(
            tomorrow_morning_ms(&night),
            expected.timestamp_millis() as u64
        );
        let early = Utc.with_ymd_and_hms(2026, 3, 11, 5, 0, 0).unwrap();
        let next = Utc.with_ymd_and_hms(2026, 3, 12, 8, 0, 0).unwrap();
        assert_eq!(tomorrow_morning_ms(&early), next.timestamp_millis() as u64);
    }

    #[test]
    fn the_end_of_year_rolls_over() {
        let eve = Utc.with_ymd_and_hms(2026, 12, 31, 18, 0, 0).unwrap();
        let expected = Utc.with_ymd_and_hms(2027, 1, 1, 8, 0, 0).unwrap();
        assert_eq!(
            tomorrow_morning_ms(&eve),
            expected.timestamp_millis() as u64
        );
    }
}
