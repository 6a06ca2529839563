//! Schedule parsing and window matching, including midnight and the Sunday→Monday wrap.

use chrono::Weekday::{self, Fri, Mon, Sat, Sun, Thu, Tue, Wed};

use super::clock::PolicyClock;
use super::schedule::{ScheduleError, ScheduleWindow, WeeklySchedule};

fn window(text: &str) -> ScheduleWindow {
    ScheduleWindow::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

fn minute(hh_mm: &str) -> u16 {
    let (h, m) = hh_mm.split_once(':').expect("HH:MM");
    h.parse::<u16>().expect("hour") * 60 + m.parse::<u16>().expect("minute")
}

#[test]
fn valid_windows_parse_to_their_canonical_text() {
    let cases = [
        ("mon-fri 18:00-08:00", "mon-fri 18:00-08:00"),
        ("sat-sun 00:00-24:00", "sat-sun 00:00-24:00"),
        ("Wed 9:30-17:00", "wed 09:30-17:00"),
        ("mon,wed,thu,fri 10:00-12:00", "mon,wed-fri 10:00-12:00"),
        ("sat-mon 22:00-00:00", "mon,sat-sun 22:00-24:00"),
        ("  sun   23:59-00:01 ", "sun 23:59-00:01"),
        ("mon-sun 00:00-24:00", "mon-sun 00:00-24:00"),
    ];
    for (text, canonical) in cases {
        assert_eq!(window(text).to_string(), canonical, "{text:?}");
        assert_eq!(
            window(canonical),
            window(text),
            "{canonical:?} reparses equal"
        );
    }
    assert_eq!(window("mon-sun 00:00-24:00"), ScheduleWindow::ALWAYS);
}

#[test]
fn malformed_windows_are_rejected_with_the_reason() {
    let bad_time = |t: &str| ScheduleError::BadTime(t.into());
    let cases = [
        ("", ScheduleError::Shape),
        ("mon-fri", ScheduleError::Shape),
        ("mon-fri 18:00", ScheduleError::Shape),
        ("mon-fri 18:00-08:00 extra", ScheduleError::Shape),
        (
            "mon-fry 18:00-08:00",
            ScheduleError::UnknownDay("fry".into()),
        ),
        (
            "monday 18:00-08:00",
            ScheduleError::UnknownDay("monday".into()),
        ),
        (",mon 18:00-08:00", ScheduleError::UnknownDay("".into())),
        ("mon 25:00-08:00", bad_time("25:00")),
        ("mon 18:60-20:00", bad_time("18:60")),
        ("mon 24:00-08:00", bad_time("24:00")),
        ("mon 18:00-24:01", bad_time("24:01")),
        ("mon 8-9", bad_time("8")),
        ("mon +1:00-09:00", bad_time("+1:00")),
        ("mon 18:0-20:00", bad_time("18:0")),
        ("mon 10:00-10:00", ScheduleError::EmptyWindow),
        ("mon 00:00-00:00", ScheduleError::EmptyWindow),
    ];
    for (text, expected) in cases {
        assert_eq!(ScheduleWindow::parse(text), Err(expected), "{text:?}");
    }
}

#[test]
fn windows_match_days_and_times_across_midnight_and_the_week_wrap() {
    #[rustfmt::skip]
    let cases: &[(&str, Weekday, &str, bool)] = &[
        // Same-day window: start inclusive, end exclusive.
        ("wed 09:00-17:00", Wed, "09:00", true),
        ("wed 09:00-17:00", Wed, "16:59", true),
        ("wed 09:00-17:00", Wed, "17:00", false),
        ("wed 09:00-17:00", Wed, "08:59", false),
        ("wed 09:00-17:00", Thu, "10:00", false),
        // Crossing midnight: the morning belongs to the previous (start) day.
        ("mon-fri 18:00-08:00", Fri, "23:00", true),
        ("mon-fri 18:00-08:00", Sat, "07:59", true),
        ("mon-fri 18:00-08:00", Sat, "08:00", false),
        ("mon-fri 18:00-08:00", Sat, "18:00", false),
        ("mon-fri 18:00-08:00", Mon, "07:00", false),
        ("mon-fri 18:00-08:00", Mon, "18:00", true),
        ("mon-fri 18:00-08:00", Tue, "03:00", true),
        ("mon-fri 18:00-08:00", Wed, "12:00", false),
        // Week wrap: Sunday night runs into Monday morning.
        ("sun 22:00-02:00", Mon, "01:59", true),
        ("sun 22:00-02:00", Mon, "02:00", false),
        ("sun 22:00-02:00", Sun, "01:00", false),
        ("sun 22:00-02:00", Sun, "22:00", true),
        // A day range that wraps the week.
        ("sat-mon 10:00-11:00", Sun, "10:30", true),
        ("sat-mon 10:00-11:00", Mon, "10:30", true),
        ("sat-mon 10:00-11:00", Tue, "10:30", false),
        // Whole days, and an end of 00:00 meaning midnight.
        ("sat-sun 00:00-24:00", Sun, "23:59", true),
        ("sat-sun 00:00-24:00", Mon, "00:00", false),
        ("fri 20:00-00:00", Fri, "23:59", true),
        ("fri 20:00-00:00", Sat, "00:00", false),
    ];
    for (text, day, at, expected) in cases {
        let open = window(text).contains(*day, minute(at));
        assert_eq!(open, *expected, "{text:?} on {day} at {at}");
    }
}

#[test]
fn a_schedule_is_open_when_any_window_is_and_never_when_empty() {
    let schedule = WeeklySchedule::parse(&["mon-fri 18:00-08:00", "sat-sun 00:00-24:00"]);
    let schedule = schedule.expect("valid schedule");
    let at = |day, hh_mm| PolicyClock::new(0, day, minute(hh_mm));
    assert!(schedule.is_open(&at(Sat, "12:00")));
    // Monday 07:00 belongs to a window starting Sunday 18:00, which this schedule lacks.
    assert!(!schedule.is_open(&at(Mon, "07:00")));
    assert!(
        schedule.is_open(&at(Sat, "07:00")),
        "Friday night runs into Saturday"
    );
    assert!(schedule.is_open(&at(Tue, "19:00")));
    assert!(!schedule.is_open(&at(Tue, "12:00")));
    assert!(!WeeklySchedule { windows: vec![] }.is_open(&at(Sat, "12:00")));
    assert!(WeeklySchedule::always().is_open(&at(Thu, "03:33")));
}

#[test]
fn schedule_parse_reports_the_index_of_the_bad_window() {
    let parsed = WeeklySchedule::parse(&["mon 10:00-11:00", "xyz 10:00-11:00"]);
    assert_eq!(parsed, Err((1, ScheduleError::UnknownDay("xyz".into()))));
}
