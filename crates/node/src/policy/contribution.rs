//! [`ContributionPolicy`]: the rules in their order of precedence, plus the memory the
//! hysteresis needs between two decisions.

use super::budget::{Permissions, budget_for};
use super::clock::PolicyClock;
use super::hysteresis::{HoldLatch, LatchThresholds};
use super::{Decision, PauseReason};
use crate::monitor::Snapshot;
use crate::settings::{PolicySettings, Settings};

/// After a low-memory pause, free memory must be this many points above the floor again.
pub const LOW_MEMORY_RESUME_MARGIN_PERCENT: u32 = 5;

/// Decides, once per snapshot, whether to contribute and within which budget.
///
/// The only state is the hysteresis (owner CPU, CPU and GPU heat, low memory); everything
/// else comes in as arguments, so the same inputs in the same order give the same answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContributionPolicy {
    owner_cpu: HoldLatch,
    cpu_heat: HoldLatch,
    gpu_heat: HoldLatch,
    low_memory: HoldLatch,
}

impl ContributionPolicy {
    /// A policy with no history: nothing tripped.
    pub fn new() -> Self {
        Self::default()
    }

    /// The decision for `snapshot` at `clock`. Feed every snapshot, in order, even while
    /// paused: the hold timers count across decisions. Reads no clock and does no IO.
    pub fn decide(
        &mut self,
        settings: &Settings,
        snapshot: &Snapshot,
        clock: PolicyClock,
    ) -> Decision {
        // Every latch sees every snapshot, whichever rule ends up deciding, so a pause for
        // one reason does not freeze another rule's hold timer.
        self.update_latches(&settings.policy, snapshot, clock.now_ms);
        if let Some(reason) = self.pause_reason(settings, snapshot, &clock) {
            return Decision::Paused { reason };
        }
        let Some(memory_total_bytes) = known_memory_total(snapshot) else {
            return Decision::Paused {
                reason: PauseReason::MemoryUnknown,
            };
        };
        let owner_away = input_idle_satisfied(&settings.policy, snapshot);
        let allowed = Permissions {
            network: settings.schedule.network.is_open(&clock),
            // GPU work makes a desktop stutter, so it needs the owner away as well as the
            // setting; today every `Run` already implies that, but say it where it matters.
            gpu: settings.budget.gpu_enabled && owner_away,
        };
        Decision::Run {
            budget: budget_for(&settings.budget, snapshot, memory_total_bytes, allowed),
        }
    }

    fn update_latches(&mut self, policy: &PolicySettings, snapshot: &Snapshot, now_ms: u64) {
        let owner_cpu = snapshot.cpu.as_ref().map(|cpu| cpu.owner_percent());
        self.owner_cpu
            .update(owner_cpu, &owner_cpu_thresholds(policy), now_ms);
        let cpu_limits = heat_thresholds(policy.cpu_max_celsius, policy);
        self.cpu_heat
            .update(snapshot.cpu_temperature_c, &cpu_limits, now_ms);
        let gpu_limits = heat_thresholds(policy.gpu_max_celsius, policy);
        self.gpu_heat
            .update(hottest_gpu(snapshot), &gpu_limits, now_ms);
        let memory_limits = memory_thresholds(policy);
        self.low_memory
            .update(used_memory_percent(snapshot), &memory_limits, now_ms);
    }

    /// The first rule that asks to pause, in the documented order of precedence.
    fn pause_reason(
        &self,
        settings: &Settings,
        snapshot: &Snapshot,
        clock: &PolicyClock,
    ) -> Option<PauseReason> {
        let policy = &settings.policy;
        if !settings.contribution.enabled {
            return Some(PauseReason::SwitchedOff);
        }
        if let Some(until_ms) = settings.contribution.snooze_until_ms
            && clock.now_ms < until_ms
        {
            return Some(PauseReason::Snoozed { until_ms });
        }
        if !settings.schedule.compute.is_open(clock) {
            return Some(PauseReason::OutsideSchedule);
        }
        // A missing battery, or one we cannot read, means mains power.
        let on_battery = snapshot.battery.as_ref();
        if policy.pause_on_battery && on_battery.is_some_and(|b| b.present && b.on_battery_power) {
            return Some(PauseReason::OnBattery);
        }
        if self.cpu_heat.is_tripped() {
            let celsius = snapshot.cpu_temperature_c.map_or(0, whole_degrees);
            let limit = whole_degrees(policy.cpu_max_celsius as f32);
            return Some(PauseReason::CpuTooHot { celsius, limit });
        }
        if self.gpu_heat.is_tripped() {
            let celsius = hottest_gpu(snapshot).map_or(0, whole_degrees);
            let limit = whole_degrees(policy.gpu_max_celsius as f32);
            return Some(PauseReason::GpuTooHot { celsius, limit });
        }
        if policy.pause_on_fullscreen && snapshot.fullscreen_app == Some(true) {
            return Some(PauseReason::FullscreenApp);
        }
        if !input_idle_satisfied(policy, snapshot) {
            return Some(PauseReason::OwnerActive {
                idle_secs: snapshot.input_idle.map_or(0, |idle| idle.as_secs()),
                required_secs: required_idle_secs(policy),
            });
        }
        if self.owner_cpu.is_tripped() {
            let percent = snapshot.cpu.as_ref().map_or(0.0, |cpu| cpu.owner_percent());
            return Some(PauseReason::OwnerCpuBusy {
                percent: percent.round().clamp(0.0, 100.0) as u8,
            });
        }
        if self.low_memory.is_tripped() {
            let free_bytes = snapshot
                .memory
                .as_ref()
                .map_or(0, |m| m.total_bytes.saturating_sub(m.used_bytes));
            return Some(PauseReason::LowMemory {
                free_mib: free_bytes / (1024 * 1024),
            });
        }
        None
    }
}

/// Whether the owner has been away long enough. Unknown idleness (no desktop session, as
/// on a headless server) counts as idle: nobody is at the keyboard to disturb.
fn input_idle_satisfied(policy: &PolicySettings, snapshot: &Snapshot) -> bool {
    let required = required_idle_secs(policy);
    snapshot
        .input_idle
        .is_none_or(|idle| idle.as_secs() >= required)
}

fn required_idle_secs(policy: &PolicySettings) -> u64 {
    u64::from(policy.input_idle_secs)
}

fn owner_cpu_thresholds(policy: &PolicySettings) -> LatchThresholds {
    LatchThresholds {
        trip_above: policy.owner_cpu_pause_percent as f32,
        trip_after_ms: u64::from(policy.owner_cpu_pause_after_secs) * 1000,
        release_below: policy.owner_cpu_resume_percent as f32,
        release_after_ms: u64::from(policy.owner_cpu_resume_after_secs) * 1000,
    }
}

/// Heat pauses at once above the limit (a hot chip must not wait) and resumes once the
/// reading is below the limit minus the margin, so it does not flap at the limit.
fn heat_thresholds(limit_celsius: u32, policy: &PolicySettings) -> LatchThresholds {
    let resume = limit_celsius.saturating_sub(policy.thermal_resume_margin_celsius);
    LatchThresholds {
        trip_above: limit_celsius as f32,
        trip_after_ms: 0,
        release_below: resume as f32,
        release_after_ms: 0,
    }
}

/// Low memory, read as "used percent": pause above `100 - floor`, resume once used memory
/// is [`LOW_MEMORY_RESUME_MARGIN_PERCENT`] points lower. A floor of 0 never pauses.
fn memory_thresholds(policy: &PolicySettings) -> LatchThresholds {
    let pause_above = 100u32.saturating_sub(policy.min_free_memory_percent);
    LatchThresholds {
        trip_above: pause_above as f32,
        trip_after_ms: 0,
        release_below: pause_above.saturating_sub(LOW_MEMORY_RESUME_MARGIN_PERCENT) as f32,
        release_after_ms: 0,
    }
}

fn known_memory_total(snapshot: &Snapshot) -> Option<u64> {
    snapshot
        .memory
        .as_ref()
        .map(|m| m.total_bytes)
        .filter(|total| *total > 0)
}

fn used_memory_percent(snapshot: &Snapshot) -> Option<f32> {
    let memory = snapshot.memory.as_ref().filter(|m| m.total_bytes > 0)?;
    Some((memory.used_bytes as f64 * 100.0 / memory.total_bytes as f64) as f32)
}

/// The hottest GPU with a known temperature.
fn hottest_gpu(snapshot: &Snapshot) -> Option<f32> {
    let temperatures = snapshot.gpus.iter().filter_map(|gpu| gpu.temperature_c);
    temperatures.filter(|t| !t.is_nan()).reduce(f32::max)
}

fn whole_degrees(celsius: f32) -> u16 {
    celsius.round().clamp(0.0, f32::from(u16::MAX)) as u16
}
