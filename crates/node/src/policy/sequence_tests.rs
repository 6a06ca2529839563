//! Hysteresis over time: sequences of snapshots, each with its time and expected decision.

use std::time::Duration;

use super::test_fixtures::*;
use super::{ContributionPolicy, PauseReason};
use crate::monitor::{MemoryUsage, Snapshot};
use crate::settings::Settings;

/// One change to the snapshot; changes carry over to later steps of the same sequence.
#[derive(Debug, Clone, Copy)]
enum Reading {
    OwnerCpu(f32),
    CpuWithIdleshare {
        total: f32,
        idleshare: f32,
    },
    CpuTemp(f32),
    GpuTemp(f32),
    /// Used memory in percent of a 10 000 MiB machine.
    UsedMemoryPercent(u64),
    Fullscreen(bool),
    InputIdleSecs(u64),
}

fn apply(reading: Reading, snapshot: &mut Snapshot) {
    match reading {
        Reading::OwnerCpu(percent) => set_owner_cpu(snapshot, percent),
        Reading::CpuWithIdleshare { total, idleshare } => {
            if let Some(cpu) = snapshot.cpu.as_mut() {
                (cpu.total_percent, cpu.idleshare_percent) = (total, idleshare);
            }
        }
        Reading::CpuTemp(celsius) => snapshot.cpu_temperature_c = Some(celsius),
        Reading::GpuTemp(celsius) => snapshot.gpus[0].temperature_c = Some(celsius),
        Reading::UsedMemoryPercent(percent) => {
            snapshot.memory = Some(MemoryUsage {
                total_bytes: 10_000 * MIB,
                used_bytes: percent * 100 * MIB,
                idleshare_bytes: 0,
            });
        }
        Reading::Fullscreen(on) => snapshot.fullscreen_app = Some(on),
        Reading::InputIdleSecs(secs) => snapshot.input_idle = Some(Duration::from_secs(secs)),
    }
}

/// (ms after the start, changes, expected pause reason or `None` for run).
type Step = (u64, &'static [Reading], Option<PauseReason>);

type SettingsChange = fn(&mut Settings);

fn busy(percent: u8) -> Option<PauseReason> {
    Some(PauseReason::OwnerCpuBusy { percent })
}

fn cpu_hot(celsius: u16) -> Option<PauseReason> {
    Some(PauseReason::CpuTooHot { celsius, limit: 85 })
}

fn low_memory(free_mib: u64) -> Option<PauseReason> {
    Some(PauseReason::LowMemory { free_mib })
}

#[test]
fn hysteresis_sequences_give_the_expected_decisions() {
    use Reading::*;
    let defaults: SettingsChange = |_| {};
    #[rustfmt::skip]
    let sequences: Vec<(&str, SettingsChange, Vec<Step>)> = vec![
        ("an owner CPU spike shorter than the hold never pauses", defaults, vec![
            (0, &[OwnerCpu(90.0)], None),
            (1_000, &[OwnerCpu(90.0)], None),
            (2_000, &[OwnerCpu(10.0)], None),
            (3_000, &[OwnerCpu(90.0)], None),
            (4_000, &[OwnerCpu(90.0)], None),
        ]),
        ("owner CPU held 2 s pauses; 30 s below 15 % resumes", defaults, vec![
            (0, &[OwnerCpu(30.0)], None),
            (1_000, &[], None),
            (2_000, &[], busy(30)),
            (3_000, &[OwnerCpu(20.0)], busy(20)),
            (4_000, &[OwnerCpu(10.0)], busy(10)),
            (33_000, &[], busy(10)),
            (34_000, &[], None),
        ]),
        ("a reading between the thresholds restarts the resume hold", defaults, vec![
            (0, &[OwnerCpu(50.0)], None),
            (2_000, &[], busy(50)),
            (3_000, &[OwnerCpu(10.0)], busy(10)),
            (20_000, &[OwnerCpu(20.0)], busy(20)),
            (33_000, &[OwnerCpu(10.0)], busy(10)),
            (62_000, &[], busy(10)),
            (63_000, &[], None),
        ]),
        ("Idleshare's own CPU use is not the owner's", defaults, vec![
            (0, &[CpuWithIdleshare { total: 95.0, idleshare: 90.0 }], None),
            (2_000, &[], None),
            (60_000, &[], None),
        ]),
        ("custom owner CPU thresholds and holds are honoured",
            |s| {
                s.policy.owner_cpu_pause_percent = 50;
                s.policy.owner_cpu_pause_after_secs = 5;
                s.policy.owner_cpu_resume_percent = 40;
                s.policy.owner_cpu_resume_after_secs = 0;
            },
            vec![
                (0, &[OwnerCpu(45.0)], None),
                (1_000, &[OwnerCpu(60.0)], None),
                (5_000, &[], None),
                (6_000, &[], busy(60)),
                (7_000, &[OwnerCpu(45.0)], busy(45)),
                (8_000, &[OwnerCpu(39.0)], None),
            ]),
        ("CPU heat pauses above 85 °C and resumes below 80 °C", defaults, vec![
            (0, &[CpuTemp(86.0)], cpu_hot(86)),
            (1_000, &[CpuTemp(84.0)], cpu_hot(84)),
            (2_000, &[CpuTemp(80.0)], cpu_hot(80)),
            (3_000, &[CpuTemp(79.5)], None),
            (4_000, &[CpuTemp(85.0)], None),
            (5_000, &[CpuTemp(85.5)], cpu_hot(86)),
        ]),
        ("GPU heat pauses above 80 °C and resumes below 75 °C", defaults, vec![
            (0, &[GpuTemp(81.0)], Some(PauseReason::GpuTooHot { celsius: 81, limit: 80 })),
            (1_000, &[GpuTemp(76.0)], Some(PauseReason::GpuTooHot { celsius: 76, limit: 80 })),
            (2_000, &[GpuTemp(74.9)], None),
        ]),
        ("low memory pauses below 10 % free and resumes at 15 % free", defaults, vec![
            (0, &[UsedMemoryPercent(95)], low_memory(500)),
            (1_000, &[UsedMemoryPercent(87)], low_memory(1_300)),
            (2_000, &[UsedMemoryPercent(85)], low_memory(1_500)),
            (3_000, &[UsedMemoryPercent(84)], None),
            (4_000, &[UsedMemoryPercent(90)], None),
            (5_000, &[UsedMemoryPercent(91)], low_memory(900)),
        ]),
        ("input pauses at once and resumes after the idle time", defaults, vec![
            (0, &[InputIdleSecs(600)], None),
            (1_000, &[InputIdleSecs(0)],
                Some(PauseReason::OwnerActive { idle_secs: 0, required_secs: 180 })),
            (180_000, &[InputIdleSecs(179)],
                Some(PauseReason::OwnerActive { idle_secs: 179, required_secs: 180 })),
            (181_000, &[InputIdleSecs(180)], None),
        ]),
        ("the owner CPU hold keeps counting while another rule pauses", defaults, vec![
            (0, &[Fullscreen(true), OwnerCpu(90.0)], Some(PauseReason::FullscreenApp)),
            (1_000, &[], Some(PauseReason::FullscreenApp)),
            (2_000, &[], Some(PauseReason::FullscreenApp)),
            (3_000, &[Fullscreen(false)], busy(90)),
        ]),
    ];
    for (name, change_settings, steps) in sequences {
        let mut settings = Settings::default();
        change_settings(&mut settings);
        let mut policy = ContributionPolicy::new();
        let mut snapshot = idle_desktop();
        for (at_ms, readings, expected) in steps {
            for reading in readings {
                apply(*reading, &mut snapshot);
            }
            let now_ms = NOW_MS + at_ms;
            snapshot.taken_at_ms = now_ms;
            let decision = policy.decide(&settings, &snapshot, clock_at(now_ms));
            match expected {
                Some(reason) => assert_eq!(decision, paused(reason), "{name}: at {at_ms} ms"),
                None => assert!(decision.is_run(), "{name}: at {at_ms} ms got {decision:?}"),
            }
        }
    }
}
