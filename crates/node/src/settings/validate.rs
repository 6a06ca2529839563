//! Range checks on every setting, each failure naming the key as it is written in the file.
//!
//! The rules are data ([`RANGE_RULES`], [`NOT_ABOVE_RULES`]) so that the desktop app can hand
//! the very same table to its form: one source for what the node accepts.

use super::Settings;

/// A setting with a value the policy cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSetting {
    /// A number outside its allowed range.
    #[error("{key} = {value} is out of range {min}..={max}")]
    OutOfRange {
        /// The key, e.g. `policy.owner_cpu_pause_percent`.
        key: &'static str,
        /// The value found.
        value: u64,
        /// Smallest allowed value.
        min: u64,
        /// Largest allowed value.
        max: u64,
    },
    /// A number above another setting that bounds it.
    #[error("{key} = {value} must not be above {bound_key} = {bound}")]
    AboveOther {
        /// The key, e.g. `policy.owner_cpu_resume_percent`.
        key: &'static str,
        /// The value found.
        value: u64,
        /// The key that bounds it.
        bound_key: &'static str,
        /// That key's value.
        bound: u64,
    },
}

impl InvalidSetting {
    /// The key the problem belongs to, as written in the file.
    pub fn key(&self) -> &'static str {
        match self {
            InvalidSetting::OutOfRange { key, .. } | InvalidSetting::AboveOther { key, .. } => key,
        }
    }
}

/// Every problem [`Settings::validate`] found, in the order of the rule tables (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct InvalidSettings {
    /// The problems, one per bad key.
    pub problems: Vec<InvalidSetting>,
}

/// One numeric setting's allowed range.
#[derive(Debug, Clone, Copy)]
pub struct RangeRule {
    /// The key, e.g. `policy.input_idle_secs`.
    pub key: &'static str,
    /// Smallest allowed value.
    pub min: u64,
    /// Largest allowed value.
    pub max: u64,
    /// Whether the setting may be absent (absent means "no limit" or "automatic").
    pub optional: bool,
    /// Reads the value (`None` = absent).
    value: fn(&Settings) -> Option<u64>,
}

impl RangeRule {
    /// The value this rule checks in `settings` (`None` = absent).
    pub fn value(&self, settings: &Settings) -> Option<u64> {
        (self.value)(settings)
    }
}

/// One setting that must not be above another.
#[derive(Debug, Clone, Copy)]
pub struct NotAboveRule {
    /// The bounded key, e.g. `policy.owner_cpu_resume_percent`.
    pub key: &'static str,
    /// The key that bounds it, e.g. `policy.owner_cpu_pause_percent`.
    pub bound_key: &'static str,
    /// Reads the bounded value and the bound.
    values: fn(&Settings) -> (u64, u64),
}

/// Largest allowed network cap in KiB/s (about 10 GB/s): above it, "uncapped" is meant.
const MAX_CAP_KIB_PER_SEC: u64 = 10_000_000;
/// Largest cache quota in MiB (16 TiB), so byte arithmetic can never overflow.
const MAX_CACHE_MIB: u64 = 16 * 1024 * 1024;
/// Most cores a setting may name; far above any machine, small enough to stay sane.
const MAX_CORES: u64 = 65_536;

/// A required numeric setting.
const fn required(
    key: &'static str,
    min: u64,
    max: u64,
    value: fn(&Settings) -> Option<u64>,
) -> RangeRule {
    RangeRule {
        key,
        min,
        max,
        optional: false,
        value,
    }
}

/// A numeric setting that may be absent.
const fn optional(
    key: &'static str,
    min: u64,
    max: u64,
    value: fn(&Settings) -> Option<u64>,
) -> RangeRule {
    RangeRule {
        key,
        min,
        max,
        optional: true,
        value,
    }
}

/// Every numeric setting's range, in file order. `contribution.*` accept any value, and
/// schedules are checked as they are parsed.
pub const RANGE_RULES: [RangeRule; 15] = [
    required("policy.input_idle_secs", 0, 24 * 60 * 60, |s| {
        Some(s.policy.input_idle_secs.into())
    }),
    required("policy.owner_cpu_pause_percent", 1, 100, |s| {
        Some(s.policy.owner_cpu_pause_percent.into())
    }),
    required("policy.owner_cpu_pause_after_secs", 0, 3_600, |s| {
        Some(s.policy.owner_cpu_pause_after_secs.into())
    }),
    required("policy.owner_cpu_resume_percent", 0, 100, |s| {
        Some(s.policy.owner_cpu_resume_percent.into())
    }),
    required("policy.owner_cpu_resume_after_secs", 0, 86_400, |s| {
        Some(s.policy.owner_cpu_resume_after_secs.into())
    }),
    required("policy.cpu_max_celsius", 40, 110, |s| {
        Some(s.policy.cpu_max_celsius.into())
    }),
    required("policy.gpu_max_celsius", 40, 110, |s| {
        Some(s.policy.gpu_max_celsius.into())
    }),
    required("policy.thermal_resume_margin_celsius", 0, 30, |s| {
        Some(s.policy.thermal_resume_margin_celsius.into())
    }),
    required("policy.min_free_memory_percent", 0, 90, |s| {
        Some(s.policy.min_free_memory_percent.into())
    }),
    optional("budget.max_cores", 1, MAX_CORES, |s| {
        s.budget.max_cores.map(u64::from)
    }),
    required("budget.max_cpu_percent_per_core", 1, 100, |s| {
        Some(s.budget.max_cpu_percent_per_core.into())
    }),
    required("budget.max_memory_percent", 1, 100, |s| {
        Some(s.budget.max_memory_percent.into())
    }),
    optional(
        "budget.upload_cap_kib_per_sec",
        1,
        MAX_CAP_KIB_PER_SEC,
        |s| s.budget.upload_cap_kib_per_sec,
    ),
    optional(
        "budget.download_cap_kib_per_sec",
        1,
        MAX_CAP_KIB_PER_SEC,
        |s| s.budget.download_cap_kib_per_sec,
    ),
    required("budget.cache_disk_quota_mib", 0, MAX_CACHE_MIB, |s| {
        Some(s.budget.cache_disk_quota_mib)
    }),
];

/// Settings bounded by others. Resuming above the pause threshold would defeat the
/// hysteresis.
pub const NOT_ABOVE_RULES: [NotAboveRule; 1] = [NotAboveRule {
    key: "policy.owner_cpu_resume_percent",
    bound_key: "policy.owner_cpu_pause_percent",
    values: |s| {
        (
            s.policy.owner_cpu_resume_percent.into(),
            s.policy.owner_cpu_pause_percent.into(),
        )
    },
}];

impl Settings {
    /// Checks every value and reports every problem at once, each naming its key. A key
    /// out of its range is not also compared with another key.
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        let mut problems: Vec<InvalidSetting> = RANGE_RULES
            .iter()
            .filter_map(|rule| {
                let value = rule.value(self)?;
                (!(rule.min..=rule.max).contains(&value)).then_some(InvalidSetting::OutOfRange {
                    key: rule.key,
                    value,
                    min: rule.min,
                    max: rule.max,
                })
            })
            .collect();
        let out_of_range = |key: &str| problems.iter().any(|p| p.key() == key);
        let above: Vec<InvalidSetting> = NOT_ABOVE_RULES
            .iter()
            .filter(|rule| !out_of_range(rule.key) && !out_of_range(rule.bound_key))
            .filter_map(|rule| {
                let (value, bound) = (rule.values)(self);
                (value > bound).then_some(InvalidSetting::AboveOther {
                    key: rule.key,
                    value,
                    bound_key: rule.bound_key,
                    bound,
                })
            })
            .collect();
        problems.extend(above);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(InvalidSettings { problems })
        }
    }
}
