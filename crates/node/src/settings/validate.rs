//! Range checks on every setting, each failure naming the key as it is written in the file.

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

/// Largest allowed network cap in KiB/s (about 10 GB/s): above it, "uncapped" is meant.
const MAX_CAP_KIB_PER_SEC: u64 = 10_000_000;
/// Largest cache quota in MiB (16 TiB), so byte arithmetic can never overflow.
const MAX_CACHE_MIB: u64 = 16 * 1024 * 1024;
/// Most cores a setting may name; far above any machine, small enough to stay sane.
const MAX_CORES: u64 = 65_536;

impl Settings {
    /// Checks every value; the error names the first bad key. `contribution.enabled` and
    /// `contribution.snooze_until_ms` accept any value, and schedules are checked as they
    /// are parsed.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let (policy, budget) = (&self.policy, &self.budget);
        let ranges: [(&'static str, Option<u64>, u64, u64); 15] = [
            (
                "policy.input_idle_secs",
                Some(policy.input_idle_secs.into()),
                0,
                24 * 60 * 60,
            ),
            (
                "policy.owner_cpu_pause_percent",
                Some(policy.owner_cpu_pause_percent.into()),
                1,
                100,
            ),
            (
                "policy.owner_cpu_pause_after_secs",
                Some(policy.owner_cpu_pause_after_secs.into()),
                0,
                3_600,
            ),
            (
                "policy.owner_cpu_resume_percent",
                Some(policy.owner_cpu_resume_percent.into()),
                0,
                100,
            ),
            (
                "policy.owner_cpu_resume_after_secs",
                Some(policy.owner_cpu_resume_after_secs.into()),
                0,
                86_400,
            ),
            (
                "policy.cpu_max_celsius",
                Some(policy.cpu_max_celsius.into()),
                40,
                110,
            ),
            (
                "policy.gpu_max_celsius",
                Some(policy.gpu_max_celsius.into()),
                40,
                110,
            ),
            (
                "policy.thermal_resume_margin_celsius",
                Some(policy.thermal_resume_margin_celsius.into()),
                0,
                30,
            ),
            (
                "policy.min_free_memory_percent",
                Some(policy.min_free_memory_percent.into()),
                0,
                90,
            ),
            (
                "budget.max_cores",
                budget.max_cores.map(u64::from),
                1,
                MAX_CORES,
            ),
            (
                "budget.max_cpu_percent_per_core",
                Some(budget.max_cpu_percent_per_core.into()),
                1,
                100,
            ),
            (
                "budget.max_memory_percent",
                Some(budget.max_memory_percent.into()),
                1,
                100,
            ),
            (
                "budget.upload_cap_kib_per_sec",
                budget.upload_cap_kib_per_sec,
                1,
                MAX_CAP_KIB_PER_SEC,
            ),
            (
                "budget.download_cap_kib_per_sec",
                budget.download_cap_kib_per_sec,
                1,
                MAX_CAP_KIB_PER_SEC,
            ),
            (
                "budget.cache_disk_quota_mib",
                Some(budget.cache_disk_quota_mib),
                0,
                MAX_CACHE_MIB,
            ),
        ];
        for (key, value, min, max) in ranges {
            match value {
                Some(value) if !(min..=max).contains(&value) => {
                    return Err(InvalidSetting::OutOfRange {
                        key,
                        value,
                        min,
                        max,
                    });
                }
                _ => {}
            }
        }
        // Resuming above the pause threshold would defeat the hysteresis.
        if policy.owner_cpu_resume_percent > policy.owner_cpu_pause_percent {
            return Err(InvalidSetting::AboveOther {
                key: "policy.owner_cpu_resume_percent",
                value: policy.owner_cpu_resume_percent.into(),
                bound_key: "policy.owner_cpu_pause_percent",
                bound: policy.owner_cpu_pause_percent.into(),
            });
        }
        Ok(())
    }
}
