//! Shared fixtures for the policy's table tests: an idle desktop and a fixed moment.

use std::time::Duration;

use chrono::Weekday;

use super::{Decision, PauseReason, PolicyClock, WeeklySchedule};
use crate::monitor::{BatteryReading, CpuUsage, GpuReading, MemoryUsage, Snapshot};

pub(super) const MIB: u64 = 1024 * 1024;
pub(super) const GIB: u64 = 1024 * MIB;
/// Wednesday 2024-01-03 12:00 UTC, the moment every table starts from.
pub(super) const NOW_MS: u64 = 1_704_283_200_000;

pub(super) fn clock_at(now_ms: u64) -> PolicyClock {
    PolicyClock::new(now_ms, Weekday::Wed, 12 * 60)
}

/// An 8-core, 16 GiB desktop on mains, cool, owner away for 10 minutes.
pub(super) fn idle_desktop() -> Snapshot {
    Snapshot {
        taken_at_ms: NOW_MS,
        cpu: Some(CpuUsage {
            cores: 8,
            total_percent: 10.0,
            idleshare_percent: 5.0,
            per_core_percent: vec![10.0; 8],
        }),
        memory: Some(MemoryUsage {
            total_bytes: 16 * GIB,
            used_bytes: 4 * GIB,
            idleshare_bytes: GIB,
        }),
        gpus: vec![GpuReading {
            name: "Test GPU".into(),
            vendor: "nvidia".into(),
            temperature_c: Some(50.0),
            ..GpuReading::default()
        }],
        battery: Some(BatteryReading::default()),
        cpu_temperature_c: Some(50.0),
        fullscreen_app: Some(false),
        input_idle: Some(Duration::from_secs(600)),
        ..Snapshot::default()
    }
}

pub(super) fn paused(reason: PauseReason) -> Decision {
    Decision::Paused { reason }
}

pub(super) fn schedule(texts: &[&str]) -> WeeklySchedule {
    WeeklySchedule::parse(texts).expect("test schedules are valid")
}

pub(super) fn set_owner_cpu(snapshot: &mut Snapshot, percent: f32) {
    if let Some(cpu) = snapshot.cpu.as_mut() {
        cpu.total_percent = percent;
        cpu.idleshare_percent = 0.0;
    }
}

pub(super) fn set_used_memory(snapshot: &mut Snapshot, used_bytes: u64) {
    if let Some(memory) = snapshot.memory.as_mut() {
        memory.used_bytes = used_bytes;
    }
}
