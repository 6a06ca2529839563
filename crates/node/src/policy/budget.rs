//! Sizing the budget that a `Run` decision carries, from the settings and the machine.

use idleshare_protocol::Budget;

use crate::monitor::Snapshot;
use crate::settings::BudgetSettings;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

/// What the rules allowed beyond the numbers in the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Permissions {
    /// The network schedule is open.
    pub network: bool,
    /// The GPU may run (setting on and the owner away).
    pub gpu: bool,
}

/// The budget for `snapshot`'s machine with `memory_total_bytes` of memory installed.
///
/// The budget depends only on settings and installed hardware, never on momentary load, so
/// it stays the same from one second to the next and a `Run` decision does not churn.
pub(super) fn budget_for(
    settings: &BudgetSettings,
    snapshot: &Snapshot,
    memory_total_bytes: u64,
    allowed: Permissions,
) -> Budget {
    let machine_cores = snapshot
        .cpu
        .as_ref()
        .map(|cpu| cpu.cores)
        .filter(|c| *c > 0);
    Budget {
        cores: cores_for(settings.max_cores, machine_cores),
        // Validation keeps this within 1..=100; the clamp guards settings built in code.
        cpu_percent: settings.max_cpu_percent_per_core.clamp(1, 100) as u8,
        memory_bytes: percent_of(memory_total_bytes, settings.max_memory_percent),
        gpu: allowed.gpu,
        network: allowed.network,
        upload_bytes_per_sec: settings
            .upload_cap_kib_per_sec
            .map(|kib| kib.saturating_mul(KIB)),
        download_bytes_per_sec: settings
            .download_cap_kib_per_sec
            .map(|kib| kib.saturating_mul(KIB)),
        cache_disk_bytes: settings.cache_disk_quota_mib.saturating_mul(MIB),
    }
}

/// Cores to grant: the setting capped at the machine's cores, or by default all but one so
/// the owner always has a core to come back to; at least one either way. With the core
/// count unknown, an explicit setting is trusted and the default falls back to one core.
fn cores_for(max_cores: Option<u32>, machine_cores: Option<u32>) -> u32 {
    let cores = match (max_cores, machine_cores) {
        (Some(max), Some(machine)) => max.min(machine),
        (Some(max), None) => max,
        (None, Some(machine)) => machine.saturating_sub(1),
        (None, None) => 1,
    };
    cores.max(1)
}

/// `percent` % of `total`, without overflow.
fn percent_of(total: u64, percent: u32) -> u64 {
    let share = u128::from(total) * u128::from(percent.min(100)) / 100;
    u64::try_from(share).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_follow_the_setting_and_the_machine() {
        let cases = [
            (None, Some(8), 7, "default leaves one core to the owner"),
            (None, Some(1), 1, "a single-core machine still gets one"),
            (Some(4), Some(8), 4, "the setting caps below the machine"),
            (Some(16), Some(8), 8, "the machine caps the setting"),
            (Some(3), None, 3, "unknown machine: the setting is trusted"),
            (None, None, 1, "unknown machine, no setting: one core"),
        ];
        for (setting, machine, expected, name) in cases {
            assert_eq!(cores_for(setting, machine), expected, "{name}");
        }
    }

    #[test]
    fn percent_of_is_exact_and_does_not_overflow() {
        assert_eq!(percent_of(16 * 1024 * MIB, 50), 8 * 1024 * MIB);
        assert_eq!(percent_of(1000, 33), 330);
        assert_eq!(percent_of(u64::MAX, 100), u64::MAX);
    }
}
