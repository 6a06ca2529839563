//! The tray: its menu items and what each does, as plain functions (no tray host is needed
//! to test them; there is none under Xvfb), and the tray's look for each state.

use chrono::{DateTime, TimeZone};
use idleshare_node::settings::{Settings, SettingsStore};

use crate::contribution;
use crate::error::AppError;
use crate::overview::{ContributionState, Overview};

/// One tray menu item that does something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayAction {
    /// The "Contribute" check item: flips the master switch.
    ToggleContributing,
    /// "Snooze 1 hour".
    SnoozeHour,
    /// "Snooze until tomorrow".
    SnoozeUntilTomorrow,
    /// "Open dashboard".
    OpenDashboard,
    /// "Quit".
    Quit,
}

impl TrayAction {
    /// Every action, in menu order.
    pub const ALL: [TrayAction; 5] = [
        TrayAction::ToggleContributing,
        TrayAction::SnoozeHour,
        TrayAction::SnoozeUntilTomorrow,
        TrayAction::OpenDashboard,
        TrayAction::Quit,
    ];

    /// The menu item id.
    pub fn id(self) -> &'static str {
        match self {
            TrayAction::ToggleContributing => "contribute",
            TrayAction::SnoozeHour => "snooze-hour",
            TrayAction::SnoozeUntilTomorrow => "snooze-tomorrow",
            TrayAction::OpenDashboard => "open-dashboard",
            TrayAction::Quit => "quit",
        }
    }

    /// The menu item text.
    pub fn label(self) -> &'static str {
        match self {
            TrayAction::ToggleContributing => "Contribute",
            TrayAction::SnoozeHour => "Snooze 1 hour",
            TrayAction::SnoozeUntilTomorrow => "Snooze until tomorrow",
            TrayAction::OpenDashboard => "Open dashboard",
            TrayAction::Quit => "Quit",
        }
    }

    /// The action of a menu item id (`None` for the status line or an unknown id).
    pub fn from_id(id: &str) -> Option<TrayAction> {
        TrayAction::ALL.into_iter().find(|action| action.id() == id)
    }
}

/// What the shell must do after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayOutcome {
    /// The settings changed (already saved and published to the node).
    SettingsChanged(Settings),
    /// Show the dashboard window.
    OpenDashboard,
    /// Quit the app.
    Quit,
}

/// Carries out `action` at `now`.
pub fn handle<Tz: TimeZone>(
    action: TrayAction,
    settings: &SettingsStore,
    now: &DateTime<Tz>,
) -> Result<TrayOutcome, AppError> {
    let now_ms = now.timestamp_millis().max(0) as u64;
    let changed = match action {
        TrayAction::ToggleContributing => {
            let enabled = settings.current().contribution.enabled;
            contribution::set_contributing(settings, !enabled)?
        }
        TrayAction::SnoozeHour => contribution::snooze_hours(settings, 1, now_ms)?,
        TrayAction::SnoozeUntilTomorrow => {
            contribution::snooze_until(settings, contribution::tomorrow_morning_ms(now))?
        }
        TrayAction::OpenDashboard => return Ok(TrayOutcome::OpenDashboard),
        TrayAction::Quit => return Ok(TrayOutcome::Quit),
    };
    Ok(TrayOutcome::SettingsChanged(changed))
}

/// What the tray shows for one overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayLook {
    /// Which icon.
    pub state: ContributionState,
    /// The tooltip (also the menu's first, disabled line: Linux trays show no tooltips).
    pub tooltip: String,
    /// Whether "Contribute" is checked.
    pub contribute_checked: bool,
}

/// The tray's look: state, reason and today's tokens.
pub fn tray_look(overview: &Overview) -> TrayLook {
    TrayLook {
        state: overview.state,
        tooltip: format!(
            "Idleshare: {} · {} tokens today\n{}",
            overview.state.label(),
            format_tokens(overview.tokens.today),
            overview.reason
        ),
        contribute_checked: overview.contributing,
    }
}

/// Micro-tokens for people: two decimals from one token up, otherwise up to six
/// significant decimals (`0.0042`), `0` for nothing.
pub fn format_tokens(micro: u64) -> String {
    let whole = micro / 1_000_000;
    let fraction = micro % 1_000_000;
    if whole > 0 {
        let cents = (fraction + 5_000) / 10_000;
        let (whole, cents) = if cents == 100 {
            (whole + 1, 0)
        } else {
            (whole, cents)
        };
        return format!("{whole}.{cents:02}");
    }
    if fraction == 0 {
        return "0".into();
    }
    let text = format!("0.{fraction:06}");
    text.trim_end_matches('0').to_owned()
}

/// The PNG of each state's tray icon (rendered from `assets/icons/tray-*.svg`).
pub fn icon_png(state: ContributionState) -> &'static [u8] {
    match state {
        ContributionState::Contributing => {
            include_bytes!("../../assets/icons/png/tray-contributing.png")
        }
        ContributionState::Waiting => include_bytes!("../../assets/icons/png/tray-waiting.png"),
        ContributionState::Paused => include_bytes!("../../assets/icons/png/tray-paused.png"),
        ContributionState::Offline => include_bytes!("../../assets/icons/png/tray-offline.png"),
    }
}

#[cfg(test)]
#[path = "tray_menu_tests.rs"]
mod tests;
