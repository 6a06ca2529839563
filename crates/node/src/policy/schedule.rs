//! Weekly schedule windows, written by people as `"mon-fri 18:00-08:00"`.
//!
//! A window is a set of days plus a start and end time of day. When the end is earlier than
//! the start the window crosses midnight, and the part after midnight belongs to the start
//! day: `"fri 22:00-02:00"` covers Friday 22:00 to Saturday 02:00, and `"sun 22:00-02:00"`
//! wraps the week into Monday morning. A [`WeeklySchedule`] is a list of windows; it is open
//! when any window is open, so an empty list is never open.

use std::fmt;

use chrono::Weekday;
use serde::{Deserialize, Serialize};

use super::clock::{MINUTES_PER_DAY, PolicyClock};

/// Day names in schedule strings, Monday first (the index is `Weekday::num_days_from_monday`).
pub const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Why a schedule string is not a window.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The text is not `DAYS HH:MM-HH:MM`.
    #[error("expected `DAYS HH:MM-HH:MM`, for example `mon-fri 18:00-08:00`")]
    Shape,
    /// A day name is not one of mon, tue, wed, thu, fri, sat, sun.
    #[error("`{0}` is not a day (use mon, tue, wed, thu, fri, sat, sun)")]
    UnknownDay(String),
    /// A time is not `HH:MM` between 00:00 and 24:00 (24:00 only as an end).
    #[error("`{0}` is not a time (use HH:MM from 00:00 to 24:00; 24:00 only as the end)")]
    BadTime(String),
    /// Start and end are equal, which could mean nothing or everything.
    #[error("start and end are the same; use 00:00-24:00 for a whole day")]
    EmptyWindow,
}

/// One window: some days of the week, from a start time to an end time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScheduleWindow {
    /// Bit `d` set = day `d` (0 = Monday) is a start day.
    days: u8,
    /// First minute inside the window (0–1439).
    start_minute: u16,
    /// First minute after the window (1–1440); below `start_minute` when crossing midnight.
    end_minute: u16,
}

impl ScheduleWindow {
    /// A window that is open all week.
    pub const ALWAYS: ScheduleWindow = ScheduleWindow {
        days: 0b111_1111,
        start_minute: 0,
        end_minute: MINUTES_PER_DAY,
    };

    /// Parses `"DAYS HH:MM-HH:MM"`, where DAYS is a comma list of days or day ranges
    /// (`mon`, `mon-fri`, `sat-mon`, `mon,wed,fri`), case-insensitive.
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let mut parts = text.split_whitespace();
        let (Some(days), Some(times), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ScheduleError::Shape);
        };
        let (start, end) = times.split_once('-').ok_or(ScheduleError::Shape)?;
        let start_minute = parse_time(start).filter(|m| *m < MINUTES_PER_DAY);
        let start_minute = start_minute.ok_or_else(|| ScheduleError::BadTime(start.into()))?;
        let end_minute = parse_time(end).ok_or_else(|| ScheduleError::BadTime(end.into()))?;
        if start_minute == end_minute {
            return Err(ScheduleError::EmptyWindow);
        }
        // 00:00 as an end means the coming midnight, the same instant as 24:00.
        let end_minute = if end_minute == 0 {
            MINUTES_PER_DAY
        } else {
            end_minute
        };
        Ok(Self {
            days: parse_days(days)?,
            start_minute,
            end_minute,
        })
    }

    /// Whether the window is open at this local weekday and minute.
    pub fn contains(&self, weekday: Weekday, minute_of_day: u16) -> bool {
        let today = self.starts_on(weekday);
        if self.start_minute < self.end_minute {
            return today && (self.start_minute..self.end_minute).contains(&minute_of_day);
        }
        // Crosses midnight: the evening part belongs to today, the morning part to yesterday
        // (Monday's yesterday is Sunday, so the week wraps).
        let yesterday = self.starts_on(weekday.pred());
        (today && minute_of_day >= self.start_minute)
            || (yesterday && minute_of_day < self.end_minute)
    }

    fn starts_on(&self, weekday: Weekday) -> bool {
        self.days & (1 << weekday.num_days_from_monday()) != 0
    }
}

/// A schedule window that does not parse, with its text (serde's message; the TOML layer
/// adds the key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad schedule window \"{text}\": {error}")]
pub struct BadScheduleWindow {
    /// The text given.
    pub text: String,
    /// What is wrong with it.
    pub error: ScheduleError,
}

impl TryFrom<String> for ScheduleWindow {
    type Error = BadScheduleWindow;

    fn try_from(text: String) -> Result<Self, BadScheduleWindow> {
        Self::parse(&text).map_err(|error| BadScheduleWindow { text, error })
    }
}

impl From<ScheduleWindow> for String {
    fn from(window: ScheduleWindow) -> String {
        window.to_string()
    }
}

impl fmt::Display for ScheduleWindow {
    /// The canonical text: days as ranges Monday first, e.g. `mon,wed-fri 18:00-08:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut day = 0;
        while day < 7 {
            if self.days & (1 << day) == 0 {
                day += 1;
                continue;
            }
            let mut last = day;
            while last + 1 < 7 && self.days & (1 << (last + 1)) != 0 {
                last += 1;
            }
            f.write_str(if first { "" } else { "," })?;
            f.write_str(DAY_NAMES[day])?;
            if last > day {
                write!(f, "-{}", DAY_NAMES[last])?;
            }
            first = false;
            day = last + 1;
        }
        let (start, end) = (self.start_minute, self.end_minute);
        write!(
            f,
            " {:02}:{:02}-{:02}:{:02}",
            start / 60,
            start % 60,
            end / 60,
            end % 60
        )
    }
}

/// When something may happen: open whenever any of its windows is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WeeklySchedule {
    /// The windows; empty = never open.
    pub windows: Vec<ScheduleWindow>,
}

impl WeeklySchedule {
    /// Open all week (the default for both compute and network).
    pub fn always() -> Self {
        Self {
            windows: vec![ScheduleWindow::ALWAYS],
        }
    }

    /// Parses each string as a [`ScheduleWindow`]; the error carries the failing index.
    pub fn parse<S: AsRef<str>>(texts: &[S]) -> Result<Self, (usize, ScheduleError)> {
        let windows = texts.iter().enumerate().map(|(index, text)| {
            ScheduleWindow::parse(text.as_ref()).map_err(|error| (index, error))
        });
        Ok(Self {
            windows: windows.collect::<Result<_, _>>()?,
        })
    }

    /// Whether the schedule is open at `clock`'s local weekday and minute.
    pub fn is_open(&self, clock: &PolicyClock) -> bool {
        let (day, minute) = (clock.weekday, clock.minute_of_day);
        self.windows.iter().any(|w| w.contains(day, minute))
    }
}

/// `HH:MM` to minutes after midnight, up to 24:00.
fn parse_time(text: &str) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if hours.is_empty()
        || hours.len() > 2
        || minutes.len() != 2
        || !digits(hours)
        || !digits(minutes)
    {
        return None;
    }
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = minutes.parse().ok()?;
    let total = hours.checked_mul(60)?.checked_add(minutes)?;
    (minutes < 60 && total <= MINUTES_PER_DAY).then_some(total)
}

/// `mon-fri,sun` to a bit set of start days; a range may wrap (`sat-mon`).
fn parse_days(text: &str) -> Result<u8, ScheduleError> {
    let mut days = 0u8;
    for item in text.split(',') {
        let (first, last) = item.split_once('-').unwrap_or((item, item));
        let (first, last) = (day_index(first)?, day_index(last)?);
        let mut day = first;
        loop {
            days |= 1 << day;
            if day == last {
                break;
            }
            day = (day + 1) % 7;
        }
    }
    Ok(days)
}

fn day_index(name: &str) -> Result<usize, ScheduleError> {
    let lower = name.to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|day| *day == lower)
        .ok_or_else(|| ScheduleError::UnknownDay(name.into()))
}
