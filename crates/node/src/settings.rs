//! The owner's settings: when to contribute and how much, kept in a TOML file.
//!
//! [`Settings`] mirrors the file section by section (`[contribution]`, `[policy]`,
//! `[budget]`, `[schedule]`); every key has a default, so a missing file or a missing key
//! means "the default". [`load`] and [`save`] read and atomically write the file,
//! [`Settings::validate`] checks every value against [`RANGE_RULES`] and [`NOT_ABOVE_RULES`]
//! and names every offending key, and
//! [`SettingsStore`] lets the node and the desktop app change settings at run time.
//!
//! The file normally lives at `settings.toml` in the OS config directory
//! (`ProjectDirs::from("org", "Idleshare", "idleshare").config_dir()`); the shell works the
//! path out and passes it in, so this library needs no directory-lookup dependency.

mod file;
mod store;
mod validate;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use self::file::{SettingsError, TextPosition, load, parse, save, to_toml};
pub use self::store::SettingsStore;
pub use self::validate::{
    InvalidSetting, InvalidSettings, NOT_ABOVE_RULES, NotAboveRule, RANGE_RULES, RangeRule,
};
use crate::policy::schedule::WeeklySchedule;

/// Milliseconds in an hour, for the snooze.
const HOUR_MS: u64 = 3_600_000;

/// Everything the owner can set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The master switch and the snooze.
    pub contribution: ContributionSettings,
    /// When to pause.
    pub policy: PolicySettings,
    /// What work may use while it runs.
    pub budget: BudgetSettings,
    /// When compute and network work may run, by day and time.
    pub schedule: ScheduleSettings,
}

impl Settings {
    /// Snoozes contributing for `hours` from `now_ms` (Unix ms); 0 hours ends a snooze.
    pub fn snooze(&mut self, hours: u32, now_ms: u64) {
        self.contribution.snooze_until_ms =
            (hours > 0).then(|| now_ms.saturating_add(u64::from(hours) * HOUR_MS));
    }
}

/// `[contribution]`: the owner's direct controls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContributionSettings {
    /// Master switch; `false` pauses everything. Default `true`.
    pub enabled: bool,
    /// Paused until this Unix time in ms (absent = not snoozed). Kept in the file so a
    /// snooze survives a restart; see [`Settings::snooze`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snooze_until_ms: Option<u64>,
}

impl Default for ContributionSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            snooze_until_ms: None,
        }
    }
}

/// `[policy]`: when the owner counts as busy or the machine as unfit for work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicySettings {
    /// Contribute only after keyboard and mouse have been idle this many seconds (default
    /// 180, three minutes; seconds so that tests and impatient owners can go lower). Where input idleness is unknown (a server without a desktop session), the
    /// machine counts as idle: nobody is sitting at it.
    pub input_idle_secs: u32,
    /// Pause when the owner's CPU use is above this percent... (default 25)
    pub owner_cpu_pause_percent: u32,
    /// ...for this many seconds in a row (default 2).
    pub owner_cpu_pause_after_secs: u32,
    /// Resume only when the owner's CPU use is below this percent... (default 15)
    pub owner_cpu_resume_percent: u32,
    /// ...for this many seconds in a row (default 30).
    pub owner_cpu_resume_after_secs: u32,
    /// Pause while running from the battery (default `true`; no battery = mains).
    pub pause_on_battery: bool,
    /// Pause while a full-screen app is in front (default `true`; unknown = not full screen).
    pub pause_on_fullscreen: bool,
    /// Pause when the CPU is hotter than this, in °C (default 85; unknown = no pause).
    pub cpu_max_celsius: u32,
    /// Pause when any GPU is hotter than this, in °C (default 80; unknown = no pause).
    pub gpu_max_celsius: u32,
    /// After a heat pause, resume only below the limit minus this many °C (default 5).
    pub thermal_resume_margin_celsius: u32,
    /// Pause when free memory is below this percent of total (default 10); resume once it
    /// is 5 points above again.
    pub min_free_memory_percent: u32,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            input_idle_secs: 180,
            owner_cpu_pause_percent: 25,
            owner_cpu_pause_after_secs: 2,
            owner_cpu_resume_percent: 15,
            owner_cpu_resume_after_secs: 30,
            pause_on_battery: true,
            pause_on_fullscreen: true,
            cpu_max_celsius: 85,
            gpu_max_celsius: 80,
            thermal_resume_margin_celsius: 5,
            min_free_memory_percent: 10,
        }
    }
}

/// `[budget]`: how much of the machine work may use while it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetSettings {
    /// Most cores to use (absent = all but one, at least one; never more than the machine has).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cores: Option<u32>,
    /// Share of each granted core, in percent (default 100).
    pub max_cpu_percent_per_core: u32,
    /// Memory ceiling for work, in percent of total memory (default 50).
    pub max_memory_percent: u32,
    /// Whether GPU work may run (default `true`); it runs only while the owner is away.
    pub gpu_enabled: bool,
    /// Upload cap in KiB/s (absent = uncapped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_cap_kib_per_sec: Option<u64>,
    /// Download cap in KiB/s (absent = uncapped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_cap_kib_per_sec: Option<u64>,
    /// Disk space for the content cache, in MiB (default 10240 = 10 GiB; 0 = no cache).
    pub cache_disk_quota_mib: u64,
}

impl Default for BudgetSettings {
    fn default() -> Self {
        Self {
            max_cores: None,
            max_cpu_percent_per_core: 100,
            max_memory_percent: 50,
            gpu_enabled: true,
            upload_cap_kib_per_sec: None,
            download_cap_kib_per_sec: None,
            cache_disk_quota_mib: 10 * 1024,
        }
    }
}

/// `[schedule]`: weekly windows such as `"mon-fri 18:00-08:00"` (see
/// [`crate::policy::schedule`]); an empty list means never.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleSettings {
    /// When compute work may run; outside it the node pauses (default: always).
    pub compute: WeeklySchedule,
    /// When network work (cache serving and filling) may run, within a running budget
    /// (default: always).
    pub network: WeeklySchedule,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        Self {
            compute: WeeklySchedule::always(),
            network: WeeklySchedule::always(),
        }
    }
}
