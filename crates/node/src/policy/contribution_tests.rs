//! Table tests of every rule and of the precedence between them (hysteresis over time is
//! in `sequence_tests`).

use std::time::Duration;

use idleshare_protocol::Budget;

use super::test_fixtures::*;
use super::{ContributionPolicy, Decision, PauseReason, WeeklySchedule};
use crate::monitor::{BatteryReading, GpuReading, Snapshot};
use crate::settings::Settings;

fn default_budget() -> Budget {
    Budget {
        cores: 7,
        cpu_percent: 100,
        memory_bytes: 8 * GIB,
        gpu: true,
        network: true,
        upload_bytes_per_sec: None,
        download_bytes_per_sec: None,
        cache_disk_bytes: 10 * GIB,
    }
}

fn run_with(change: fn(&mut Budget)) -> Decision {
    let mut budget = default_budget();
    change(&mut budget);
    Decision::Run { budget }
}

type SettingsChange = fn(&mut Settings);
type SnapshotChange = fn(&mut Snapshot);

#[test]
fn each_rule_gives_its_exact_decision() {
    let keep_settings: SettingsChange = |_| {};
    let keep_snapshot: SnapshotChange = |_| {};
    #[rustfmt::skip]
    let cases: Vec<(&str, SettingsChange, SnapshotChange, Decision)> = vec![
        ("defaults on an idle desktop run with the default budget",
            keep_settings, keep_snapshot, run_with(|_| {})),
        ("the master switch pauses",
            |s| s.contribution.enabled = false, keep_snapshot, paused(PauseReason::SwitchedOff)),
        ("a snooze until later pauses",
            |s| s.contribution.snooze_until_ms = Some(NOW_MS + 1), keep_snapshot,
            paused(PauseReason::Snoozed { until_ms: NOW_MS + 1 })),
        ("a snooze ending now no longer pauses",
            |s| s.contribution.snooze_until_ms = Some(NOW_MS), keep_snapshot, run_with(|_| {})),
        ("outside the compute schedule pauses",
            |s| s.schedule.compute = schedule(&["thu 00:00-24:00"]), keep_snapshot,
            paused(PauseReason::OutsideSchedule)),
        ("an empty compute schedule never runs",
            |s| s.schedule.compute = schedule(&[]), keep_snapshot,
            paused(PauseReason::OutsideSchedule)),
        ("outside the network schedule runs without network",
            |s| s.schedule.network = schedule(&["mon-fri 18:00-08:00"]), keep_snapshot,
            run_with(|b| b.network = false)),
        ("battery power pauses",
            keep_settings, |s| s.battery = Some(BatteryReading { present: true, on_battery_power: true, ..BatteryReading::default() }),
            paused(PauseReason::OnBattery)),
        ("battery power with pause_on_battery off runs",
            |s| s.policy.pause_on_battery = false,
            |s| s.battery = Some(BatteryReading { present: true, on_battery_power: true, ..BatteryReading::default() }),
            run_with(|_| {})),
        ("an unreadable battery counts as mains",
            keep_settings, |s| s.battery = None, run_with(|_| {})),
        ("a CPU above its limit pauses",
            keep_settings, |s| s.cpu_temperature_c = Some(86.2),
            paused(PauseReason::CpuTooHot { celsius: 86, limit: 85 })),
        ("a CPU exactly at its limit runs",
            keep_settings, |s| s.cpu_temperature_c = Some(85.0), run_with(|_| {})),
        ("an unknown CPU temperature runs",
            keep_settings, |s| s.cpu_temperature_c = None, run_with(|_| {})),
        ("the hottest GPU above its limit pauses",
            keep_settings,
            |s| {
                let hot = GpuReading { temperature_c: Some(81.0), ..GpuReading::default() };
                s.gpus.push(hot);
            },
            paused(PauseReason::GpuTooHot { celsius: 81, limit: 80 })),
        ("an unknown GPU temperature runs",
            keep_settings, |s| s.gpus[0].temperature_c = None, run_with(|_| {})),
        ("a full-screen app pauses",
            keep_settings, |s| s.fullscreen_app = Some(true), paused(PauseReason::FullscreenApp)),
        ("a full-screen app with pause_on_fullscreen off runs",
            |s| s.policy.pause_on_fullscreen = false, |s| s.fullscreen_app = Some(true),
            run_with(|_| {})),
        ("unknown full-screen state runs",
            keep_settings, |s| s.fullscreen_app = None, run_with(|_| {})),
        ("recent input pauses",
            keep_settings, |s| s.input_idle = Some(Duration::from_secs(120)),
            paused(PauseReason::OwnerActive { idle_secs: 120, required_secs: 180 })),
        ("input exactly the idle time ago runs",
            keep_settings, |s| s.input_idle = Some(Duration::from_secs(180)), run_with(|_| {})),
        ("unknown input idleness (headless server) counts as idle, GPU included",
            keep_settings, |s| s.input_idle = None, run_with(|_| {})),
        ("zero idle seconds run while typing",
            |s| s.policy.input_idle_secs = 0, |s| s.input_idle = Some(Duration::ZERO),
            run_with(|_| {})),
        ("one sample of busy owner CPU does not pause (it must be held)",
            keep_settings, |s| set_owner_cpu(s, 90.0), run_with(|_| {})),
        ("with no hold time one busy sample pauses",
            |s| s.policy.owner_cpu_pause_after_secs = 0, |s| set_owner_cpu(s, 90.4),
            paused(PauseReason::OwnerCpuBusy { percent: 90 })),
        ("free memory below the floor pauses",
            keep_settings, |s| set_used_memory(s, 15 * GIB),
            paused(PauseReason::LowMemory { free_mib: 1024 })),
        ("a zero floor never pauses for memory",
            |s| s.policy.min_free_memory_percent = 0, |s| set_used_memory(s, 16 * GIB),
            run_with(|_| {})),
        ("unknown memory pauses, as no budget can be sized",
            keep_settings, |s| s.memory = None, paused(PauseReason::MemoryUnknown)),
        ("max_cores below the machine caps the budget",
            |s| s.budget.max_cores = Some(4), keep_snapshot, run_with(|b| b.cores = 4)),
        ("unknown CPU gives one core and never pauses for owner CPU",
            keep_settings, |s| s.cpu = None, run_with(|b| b.cores = 1)),
        ("the budget carries CPU share, memory ceiling, caps and quota",
            |s| {
                s.budget.max_cpu_percent_per_core = 40;
                s.budget.max_memory_percent = 25;
                s.budget.upload_cap_kib_per_sec = Some(512);
                s.budget.download_cap_kib_per_sec = Some(2048);
                s.budget.cache_disk_quota_mib = 0;
            },
            keep_snapshot,
            run_with(|b| {
                b.cpu_percent = 40;
                b.memory_bytes = 4 * GIB;
                b.upload_bytes_per_sec = Some(512 * 1024);
                b.download_bytes_per_sec = Some(2048 * 1024);
                b.cache_disk_bytes = 0;
            })),
        ("GPU switched off keeps it out of the budget",
            |s| s.budget.gpu_enabled = false, keep_snapshot, run_with(|b| b.gpu = false)),
    ];
    for (name, change_settings, change_snapshot, expected) in cases {
        let mut settings = Settings::default();
        change_settings(&mut settings);
        let mut snapshot = idle_desktop();
        change_snapshot(&mut snapshot);
        let decision = ContributionPolicy::new().decide(&settings, &snapshot, clock_at(NOW_MS));
        assert_eq!(decision, expected, "{name}");
    }
}

/// Removes one cause of pausing.
type Fix = fn(&mut Settings, &mut Snapshot);

#[test]
fn reasons_follow_the_documented_precedence() {
    // Start with every rule failing, then fix them one at a time from the top: each step
    // must reveal the next reason in the documented order.
    let mut settings = Settings::default();
    settings.contribution.enabled = false;
    settings.contribution.snooze_until_ms = Some(NOW_MS + 60_000);
    settings.schedule.compute = schedule(&["sun 00:00-01:00"]);
    settings.policy.owner_cpu_pause_after_secs = 0;
    let mut snapshot = idle_desktop();
    snapshot.battery = Some(BatteryReading {
        present: true,
        on_battery_power: true,
        ..BatteryReading::default()
    });
    snapshot.cpu_temperature_c = Some(99.0);
    snapshot.gpus[0].temperature_c = Some(99.0);
    snapshot.fullscreen_app = Some(true);
    snapshot.input_idle = Some(Duration::from_secs(1));
    set_owner_cpu(&mut snapshot, 60.0);
    set_used_memory(&mut snapshot, 16 * GIB - 100 * MIB);

    #[rustfmt::skip]
    let steps: Vec<(PauseReason, Fix)> = vec![
        (PauseReason::SwitchedOff, |s, _| s.contribution.enabled = true),
        (PauseReason::Snoozed { until_ms: NOW_MS + 60_000 }, |s, _| s.snooze(0, NOW_MS)),
        (PauseReason::OutsideSchedule, |s, _| s.schedule.compute = WeeklySchedule::always()),
        (PauseReason::OnBattery, |_, n| n.battery = None),
        (PauseReason::CpuTooHot { celsius: 99, limit: 85 }, |_, n| n.cpu_temperature_c = None),
        (PauseReason::GpuTooHot { celsius: 99, limit: 80 }, |_, n| n.gpus.clear()),
        (PauseReason::FullscreenApp, |_, n| n.fullscreen_app = None),
        (PauseReason::OwnerActive { idle_secs: 1, required_secs: 180 }, |_, n| n.input_idle = None),
        (PauseReason::OwnerCpuBusy { percent: 60 }, |_, n| set_owner_cpu(n, 1.0)),
        (PauseReason::LowMemory { free_mib: 100 }, |_, n| set_used_memory(n, GIB)),
    ];
    for (expected, fix) in steps {
        let decision = ContributionPolicy::new().decide(&settings, &snapshot, clock_at(NOW_MS));
        assert_eq!(decision, paused(expected.clone()), "expected {expected}");
        fix(&mut settings, &mut snapshot);
    }
    let decision = ContributionPolicy::new().decide(&settings, &snapshot, clock_at(NOW_MS));
    assert!(decision.is_run(), "all fixed: {decision:?}");
}
