//! When to notify the owner, decided by a pure state machine fed one observation at a time
//! (status, time, earnings). The shell shows what it returns; nothing here touches the OS.
//!
//! - paused for battery or heat: once per episode, when the pause starts;
//! - coordinator unreachable: once per outage, after [`UNREACHABLE_AFTER_MS`];
//! - first tokens: when the wallet goes from empty to earning (an app started with tokens
//!   already earned never says it);
//! - daily summary: once a day from [`SUMMARY_MINUTE`] local time, on days with earnings.
//!
//! A switched-off kind is still tracked, so switching it on later does not fire a stale one.

use chrono::NaiveDate;
use idleshare_node::policy::{Decision, PauseReason};

use crate::preferences::Notifications;
use crate::tray_menu::format_tokens;

/// How long the coordinator must be unreachable before the owner hears of it.
pub const UNREACHABLE_AFTER_MS: u64 = 5 * 60 * 1000;
/// The daily summary is due from this local time (minutes after midnight: 20:00).
pub const SUMMARY_MINUTE: u32 = 20 * 60;

/// The kinds, each with its own switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Paused because of the battery or heat.
    PausedForBatteryOrHeat,
    /// The coordinator has been unreachable for a while.
    CoordinatorUnreachable,
    /// The first tokens.
    FirstTokens,
    /// The day's earnings.
    DailySummary,
}

/// One notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Its kind.
    pub kind: NoticeKind,
    /// The title line.
    pub title: String,
    /// The text.
    pub body: String,
}

/// One observation.
#[derive(Debug, Clone, Copy)]
pub struct NoticeInput<'a> {
    /// Now (Unix ms).
    pub now_ms: u64,
    /// Today's local date.
    pub local_date: NaiveDate,
    /// Minutes since local midnight.
    pub local_minute: u32,
    /// Registered with the coordinator.
    pub connected: bool,
    /// The policy's decision, if any yet.
    pub decision: Option<&'a Decision>,
    /// Wallet balance (micro-tokens).
    pub balance: u64,
    /// Earned since local midnight (micro-tokens).
    pub today: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Condition {
    Battery,
    Heat,
}

/// The state between observations.
#[derive(Debug, Clone, Default)]
pub struct NoticeWatch {
    condition: Option<Condition>,
    offline_since_ms: Option<u64>,
    told_unreachable: bool,
    first_balance: Option<u64>,
    told_first_tokens: bool,
    last_summary: Option<NaiveDate>,
}

impl NoticeWatch {
    /// A watch that last sent a daily summary on `last_summary` (kept across restarts).
    pub fn new(last_summary: Option<NaiveDate>) -> Self {
        Self {
            last_summary,
            ..Self::default()
        }
    }

    /// The day of the last daily summary, to keep across restarts.
    pub fn last_summary(&self) -> Option<NaiveDate> {
        self.last_summary
    }

    /// Takes one observation; returns what to show, filtered by `switches`.
    pub fn observe(&mut self, input: &NoticeInput<'_>, switches: &Notifications) -> Vec<Notice> {
        let mut notices = Vec::new();
        if let Some(notice) = self.pause(input) {
            notices.push(notice);
        }
        if let Some(notice) = self.unreachable(input) {
            notices.push(notice);
        }
        if let Some(notice) = self.first_tokens(input) {
            notices.push(notice);
        }
        if let Some(notice) = self.summary(input) {
            notices.push(notice);
        }
        notices.retain(|notice| match notice.kind {
            NoticeKind::PausedForBatteryOrHeat => switches.paused_for_battery_or_heat,
            NoticeKind::CoordinatorUnreachable => switches.coordinator_unreachable,
            NoticeKind::FirstTokens => switches.first_tokens,
            NoticeKind::DailySummary => switches.daily_summary,
        });
        notices
    }

    fn pause(&mut self, input: &NoticeInput<'_>) -> Option<Notice> {
        let (condition, reason) = match input.decision {
            Some(Decision::Paused { reason }) => match reason {
                PauseReason::OnBattery => (Some(Condition::Battery), reason.to_string()),
                PauseReason::CpuTooHot { .. } | PauseReason::GpuTooHot { .. } => {
                    (Some(Condition::Heat), reason.to_string())
                }
                _ => (None, String::new()),
            },
            _ => (None, String::new()),
        };
        let started = condition.is_some() && condition != self.condition;
        self.condition = condition;
        started.then(|| Notice {
            kind: NoticeKind::PausedForBatteryOrHeat,
            title: "Idleshare paused".into(),
            body: format!("Contributing paused: {reason}. It resumes by itself."),
        })
    }

    fn unreachable(&mut self, input: &NoticeInput<'_>) -> Option<Notice> {
        if input.connected {
            self.offline_since_ms = None;
            self.told_unreachable = false;
            return None;
        }
        let since = *self.offline_since_ms.get_or_insert(input.now_ms);
        if self.told_unreachable || input.now_ms.saturating_sub(since) < UNREACHABLE_AFTER_MS {
            return None;
        }
        self.told_unreachable = true;
        Some(Notice {
            kind: NoticeKind::CoordinatorUnreachable,
            title: "Coordinator unreachable".into(),
            body: format!(
                "Idleshare has not reached its coordinator for {} minutes; it keeps trying.",
                input.now_ms.saturating_sub(since) / 60_000
            ),
        })
    }

    fn first_tokens(&mut self, input: &NoticeInput<'_>) -> Option<Notice> {
        let first = *self.first_balance.get_or_insert(input.balance);
        if first > 0 || input.balance == 0 || self.told_first_tokens {
            return None;
        }
        self.told_first_tokens = true;
        Some(Notice {
            kind: NoticeKind::FirstTokens,
            title: "Your first tokens".into(),
            body: format!(
                "Idleshare earned its first {} tokens from your idle computer.",
                format_tokens(input.balance)
            ),
        })
    }

    fn summary(&mut self, input: &NoticeInput<'_>) -> Option<Notice> {
        if input.local_minute < SUMMARY_MINUTE || self.last_summary == Some(input.local_date) {
            return None;
        }
        self.last_summary = Some(input.local_date);
        (input.today > 0).then(|| Notice {
            kind: NoticeKind::DailySummary,
            title: "Today on Idleshare".into(),
            body: format!(
                "You earned {} tokens today ({} in all).",
                format_tokens(input.today),
                format_tokens(input.balance)
            ),
        })
    }
}

#[cfg(test)]
#[path = "notices_tests.rs"]
mod tests;
