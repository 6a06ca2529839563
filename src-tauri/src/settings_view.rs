//! The node's settings as the UI sees them: the same sections and snake_case keys as
//! `settings.toml` (so an error's key names both the file's key and the form's field),
//! schedules as lists of window texts, absent optional values as `null`. In TypeScript the
//! types keep the node's names (`Settings`, `PolicySettings`, …).

use idleshare_node::policy::schedule::{ScheduleWindow, WeeklySchedule};
use idleshare_node::settings::{
    BudgetSettings, ContributionSettings, InvalidSetting, PolicySettings, ScheduleSettings,
    Settings,
};
use serde::{Deserialize, Serialize};
use specta::Type;

use crate::error::AppError;

/// `[contribution]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename = "ContributionSettings")]
pub struct ContributionView {
    /// The master switch.
    pub enabled: bool,
    /// Snoozed until this Unix time in ms.
    pub snooze_until_ms: Option<u64>,
}

/// `[policy]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename = "PolicySettings")]
#[allow(missing_docs)]
pub struct PolicyView {
    pub input_idle_secs: u32,
    pub owner_cpu_pause_percent: u32,
    pub owner_cpu_pause_after_secs: u32,
    pub owner_cpu_resume_percent: u32,
    pub owner_cpu_resume_after_secs: u32,
    pub pause_on_battery: bool,
    pub pause_on_fullscreen: bool,
    pub cpu_max_celsius: u32,
    pub gpu_max_celsius: u32,
    pub thermal_resume_margin_celsius: u32,
    pub min_free_memory_percent: u32,
}

/// `[budget]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename = "BudgetSettings")]
#[allow(missing_docs)]
pub struct BudgetView {
    pub max_cores: Option<u32>,
    pub max_cpu_percent_per_core: u32,
    pub max_memory_percent: u32,
    pub gpu_enabled: bool,
    pub upload_cap_kib_per_sec: Option<u64>,
    pub download_cap_kib_per_sec: Option<u64>,
    pub cache_disk_quota_mib: u64,
}

/// `[schedule]`: each entry a window such as `"mon-fri 18:00-08:00"`; empty = never.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename = "ScheduleSettings")]
#[allow(missing_docs)]
pub struct ScheduleView {
    pub compute: Vec<String>,
    pub network: Vec<String>,
}

/// Every setting of the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename = "Settings")]
#[allow(missing_docs)]
pub struct SettingsView {
    pub contribution: ContributionView,
    pub policy: PolicyView,
    pub budget: BudgetView,
    pub schedule: ScheduleView,
}

impl From<&Settings> for SettingsView {
    fn from(s: &Settings) -> Self {
        let (p, b) = (&s.policy, &s.budget);
        let texts =
            |schedule: &WeeklySchedule| schedule.windows.iter().map(ToString::to_string).collect();
        SettingsView {
            contribution: ContributionView {
                enabled: s.contribution.enabled,
                snooze_until_ms: s.contribution.snooze_until_ms,
            },
            policy: PolicyView {
                input_idle_secs: p.input_idle_secs,
                owner_cpu_pause_percent: p.owner_cpu_pause_percent,
                owner_cpu_pause_after_secs: p.owner_cpu_pause_after_secs,
                owner_cpu_resume_percent: p.owner_cpu_resume_percent,
                owner_cpu_resume_after_secs: p.owner_cpu_resume_after_secs,
                pause_on_battery: p.pause_on_battery,
                pause_on_fullscreen: p.pause_on_fullscreen,
                cpu_max_celsius: p.cpu_max_celsius,
                gpu_max_celsius: p.gpu_max_celsius,
                thermal_resume_margin_celsius: p.thermal_resume_margin_celsius,
                min_free_memory_percent: p.min_free_memory_percent,
            },
            budget: BudgetView {
                max_cores: b.max_cores,
                max_cpu_percent_per_core: b.max_cpu_percent_per_core,
                max_memory_percent: b.max_memory_percent,
                gpu_enabled: b.gpu_enabled,
                upload_cap_kib_per_sec: b.upload_cap_kib_per_sec,
                download_cap_kib_per_sec: b.download_cap_kib_per_sec,
                cache_disk_quota_mib: b.cache_disk_quota_mib,
            },
            schedule: ScheduleView {
                compute: texts(&s.schedule.compute),
                network: texts(&s.schedule.network),
            },
        }
    }
}

/// One problem in the settings form, at its field: `key` is the file's key
/// (`policy.owner_cpu_pause_percent`) or a schedule window (`schedule.compute.1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct SettingProblem {
    /// The field.
    pub key: String,
    /// What is wrong, for people.
    pub message: String,
}

impl From<&InvalidSetting> for SettingProblem {
    fn from(problem: &InvalidSetting) -> Self {
        SettingProblem {
            key: problem.key().to_owned(),
            message: problem.to_string(),
        }
    }
}

impl From<SettingProblem> for AppError {
    fn from(problem: SettingProblem) -> Self {
        AppError::invalid(problem.key, problem.message)
    }
}

/// Parses each window of the list `name`; the windows that parse, and a problem per window
/// that does not (keyed by list and index, `schedule.compute.1`).
fn parse_windows(name: &str, texts: &[String]) -> (WeeklySchedule, Vec<SettingProblem>) {
    let mut windows = Vec::with_capacity(texts.len());
    let mut problems = Vec::new();
    for (index, text) in texts.iter().enumerate() {
        match ScheduleWindow::parse(text) {
            Ok(window) => windows.push(window),
            Err(error) => problems.push(SettingProblem {
                key: format!("schedule.{name}.{index}"),
                message: format!("\"{text}\": {error}"),
            }),
        }
    }
    (WeeklySchedule { windows }, problems)
}

impl SettingsView {
    /// The node's settings and every problem in them, checked as the file would be: each
    /// schedule window parsed (the key names the list and the window, `schedule.compute.1`),
    /// then every rule of the node's table.
    fn checked(&self) -> (Settings, Vec<SettingProblem>) {
        let (compute, mut problems) = parse_windows("compute", &self.schedule.compute);
        let (network, network_problems) = parse_windows("network", &self.schedule.network);
        problems.extend(network_problems);
        let (p, b) = (&self.policy, &self.budget);
        let settings = Settings {
            contribution: ContributionSettings {
                enabled: self.contribution.enabled,
                snooze_until_ms: self.contribution.snooze_until_ms,
            },
            policy: PolicySettings {
                input_idle_secs: p.input_idle_secs,
                owner_cpu_pause_percent: p.owner_cpu_pause_percent,
                owner_cpu_pause_after_secs: p.owner_cpu_pause_after_secs,
                owner_cpu_resume_percent: p.owner_cpu_resume_percent,
                owner_cpu_resume_after_secs: p.owner_cpu_resume_after_secs,
                pause_on_battery: p.pause_on_battery,
                pause_on_fullscreen: p.pause_on_fullscreen,
                cpu_max_celsius: p.cpu_max_celsius,
                gpu_max_celsius: p.gpu_max_celsius,
                thermal_resume_margin_celsius: p.thermal_resume_margin_celsius,
                min_free_memory_percent: p.min_free_memory_percent,
            },
            budget: BudgetSettings {
                max_cores: b.max_cores,
                max_cpu_percent_per_core: b.max_cpu_percent_per_core,
                max_memory_percent: b.max_memory_percent,
                gpu_enabled: b.gpu_enabled,
                upload_cap_kib_per_sec: b.upload_cap_kib_per_sec,
                download_cap_kib_per_sec: b.download_cap_kib_per_sec,
                cache_disk_quota_mib: b.cache_disk_quota_mib,
            },
            schedule: ScheduleSettings { compute, network },
        };
        if let Err(invalid) = settings.validate() {
            problems.extend(invalid.problems.iter().map(SettingProblem::from));
        }
        (settings, problems)
    }

    /// Every problem in these settings, schedules first; empty when they would save.
    pub fn problems(&self) -> Vec<SettingProblem> {
        self.checked().1
    }

    /// The node's settings, or the first problem (the live form shows them all, from
    /// [`SettingsView::problems`]).
    pub fn to_settings(&self) -> Result<Settings, AppError> {
        let (settings, problems) = self.checked();
        match problems.into_iter().next() {
            Some(problem) => Err(problem.into()),
            None => Ok(settings),
        }
    }
}

/// What saving the settings form makes of `stored`: everything from the form but the switch
/// and snooze, which the dashboard and the tray own (a click there while the form was open
/// is kept).
pub fn saved_over(form: Settings, stored: &Settings) -> Settings {
    Settings {
        contribution: stored.contribution.clone(),
        ..form
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saving_the_form_keeps_the_stored_switch_and_snooze() {
        let mut stored = Settings::default();
        stored.contribution.enabled = false;
        stored.contribution.snooze_until_ms = Some(123);
        let mut form = Settings::default();
        form.policy.input_idle_secs = 5;
        let saved = saved_over(form, &stored);
        assert_eq!(saved.contribution, stored.contribution);
        assert_eq!(saved.policy.input_idle_secs, 5);
    }

    #[test]
    fn defaults_survive_the_round_trip_through_the_view() {
        let settings = Settings::default();
        let view = SettingsView::from(&settings);
        assert_eq!(view.schedule.compute, vec!["mon-sun 00:00-24:00"]);
        assert_eq!(view.to_settings().unwrap(), settings);
    }

    #[test]
    fn a_bad_range_names_the_file_key() {
        let mut view = SettingsView::from(&Settings::default());
        view.policy.owner_cpu_pause_percent = 0;
        match view.to_settings() {
            Err(AppError::InvalidSetting { key, .. }) => {
                assert_eq!(key, "policy.owner_cpu_pause_percent")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_bad_schedule_window_names_its_list_and_index() {
        let mut view = SettingsView::from(&Settings::default());
        view.schedule.network = vec!["mon-fri 18:00-08:00".into(), "someday 25:00-26:00".into()];
        match view.to_settings() {
            Err(AppError::InvalidSetting { key, message }) => {
                assert_eq!(key, "schedule.network.1");
                assert!(message.contains("someday"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn problems_lists_every_bad_window_and_every_bad_range_at_once() {
        let mut view = SettingsView::from(&Settings::default());
        view.schedule.compute = vec!["mon 18:00-18:00".into(), "mon 18:00-19:00".into()];
        view.schedule.network = vec!["someday 10:00-11:00".into()];
        view.policy.cpu_max_celsius = 200;
        view.budget.max_memory_percent = 0;
        let keys: Vec<_> = view.problems().into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "schedule.compute.0",
                "schedule.network.0",
                "policy.cpu_max_celsius",
                "budget.max_memory_percent"
            ]
        );
        assert!(
            SettingsView::from(&Settings::default())
                .problems()
                .is_empty()
        );
    }

    #[test]
    fn the_view_uses_the_file_keys_in_json() {
        let json = serde_json::to_value(SettingsView::from(&Settings::default())).unwrap();
        assert_eq!(json["policy"]["input_idle_secs"], 180);
        assert_eq!(json["budget"]["max_cores"], serde_json::Value::Null);
    }
}
