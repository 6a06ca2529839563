use super::*;
use crate::monitor::snapshot::{BatteryReading, CpuUsage, GpuReading, MemoryUsage, NetworkRates};
use crate::monitor::unknown::{NoGpu, UnknownFullscreen, UnknownInputIdle, UnknownTemperature};

/// A source that returns a fixed value under a fixed name, for any of the traits.
struct Fed<T>(T, &'static str);

macro_rules! fed_source {
    ($trait:ident, $out:ty) => {
        impl $trait for Fed<$out> {
            fn read(&mut self) -> $out {
                self.0.clone()
            }
            fn name(&self) -> &'static str {
                self.1
            }
        }
    };
}

fed_source!(CpuSource, Option<CpuUsage>);
fed_source!(MemorySource, Option<MemoryUsage>);
fed_source!(GpuSource, Vec<GpuReading>);
fed_source!(BatterySource, Option<BatteryReading>);
fed_source!(TemperatureSource, Option<f32>);
fed_source!(NetworkSource, Option<NetworkRates>);
fed_source!(FullscreenSource, Option<bool>);
fed_source!(InputIdleSource, Option<Duration>);

fn fed_cpu() -> CpuUsage {
    CpuUsage {
        cores: 2,
        total_percent: 60.0,
        idleshare_percent: 45.0,
        per_core_percent: vec![70.0, 50.0],
    }
}

fn fed_sources() -> MonitorSources {
    MonitorSources {
        cpu: Box::new(Fed(Some(fed_cpu()), "fake-cpu")),
        memory: Box::new(Fed(
            Some(MemoryUsage {
                total_bytes: 8 << 30,
                used_bytes: 3 << 30,
                idleshare_bytes: 200 << 20,
            }),
            "fake-memory",
        )),
        gpu: Box::new(Fed(
            vec![GpuReading {
                name: "Test GPU".into(),
                vendor: "amd".into(),
                utilization_percent: Some(12.0),
                ..GpuReading::default()
            }],
            "fake-gpu",
        )),
        battery: Box::new(Fed(
            Some(BatteryReading {
                present: true,
                on_battery_power: true,
                charging: false,
                level_percent: Some(42.0),
            }),
            "fake-battery",
        )),
        temperature: Box::new(Fed(Some(71.5), "fake-thermal")),
        network: Box::new(Fed(
            Some(NetworkRates {
                download_bytes_per_sec: 1000,
                upload_bytes_per_sec: 10,
            }),
            "fake-net",
        )),
        fullscreen: Box::new(Fed(Some(true), "fake-fullscreen")),
        input_idle: Box::new(Fed(Some(Duration::from_secs(300)), "fake-idle")),
    }
}

#[test]
fn fed_sources_fill_every_field_of_the_snapshot_and_its_source_names() {
    let mut monitor = ResourceMonitor::with_sources(fed_sources());
    let snapshot = monitor.sample(1_700_000_000_000);
    assert_eq!(snapshot.taken_at_ms, 1_700_000_000_000);
    assert_eq!(snapshot.cpu, Some(fed_cpu()));
    assert_eq!(
        snapshot.cpu.as_ref().map(CpuUsage::owner_percent),
        Some(15.0)
    );
    assert_eq!(snapshot.memory.map(|m| m.idleshare_bytes), Some(200 << 20));
    assert_eq!(snapshot.gpus.len(), 1);
    assert_eq!(snapshot.gpus[0].utilization_percent, Some(12.0));
    assert_eq!(snapshot.battery.and_then(|b| b.level_percent), Some(42.0));
    assert_eq!(snapshot.cpu_temperature_c, Some(71.5));
    assert_eq!(
        snapshot.network.map(|n| n.download_bytes_per_sec),
        Some(1000)
    );
    assert_eq!(snapshot.fullscreen_app, Some(true));
    assert_eq!(snapshot.input_idle, Some(Duration::from_secs(300)));
    assert_eq!(
        snapshot.sources,
        SourceNames {
            cpu: "fake-cpu".into(),
            memory: "fake-memory".into(),
            gpu: "fake-gpu".into(),
            battery: "fake-battery".into(),
            temperature: "fake-thermal".into(),
            network: "fake-net".into(),
            fullscreen: "fake-fullscreen".into(),
            input_idle: "fake-idle".into(),
        }
    );
    assert_eq!(monitor.input_idle(), Some(Duration::from_secs(300)));
}

#[test]
fn unknown_sources_give_an_all_unknown_snapshot_that_says_so() {
    let mut monitor = ResourceMonitor::with_sources(MonitorSources {
        cpu: Box::new(UnknownCpu),
        memory: Box::new(UnknownMemory),
        gpu: Box::new(NoGpu),
        battery: Box::new(UnknownBattery),
        temperature: Box::new(UnknownTemperature),
        network: Box::new(UnknownNetwork),
        fullscreen: Box::new(UnknownFullscreen),
        input_idle: Box::new(UnknownInputIdle),
    });
    let snapshot = monitor.sample(5);
    let expected = Snapshot {
        taken_at_ms: 5,
        sources: monitor.source_names(),
        ..Snapshot::default()
    };
    assert_eq!(snapshot, expected);
    assert_eq!(snapshot.sources.cpu, "unknown");
    assert_eq!(snapshot.sources.gpu, "none");
    assert_eq!(snapshot.sources.input_idle, "unknown");
}

#[test]
fn the_real_system_sources_on_this_machine_return_without_error() {
    let mut monitor =
        ResourceMonitor::system(Box::new(UnknownInputIdle), Box::new(UnknownFullscreen));
    let first = monitor.sample(1);
    let second = monitor.sample(2);
    for snapshot in [&first, &second] {
        let cpu = snapshot
            .cpu
            .as_ref()
            .expect("CPU readable on supported OSes");
        assert!(cpu.cores >= 1 && cpu.idleshare_percent <= cpu.total_percent);
        let memory = snapshot.memory.as_ref().expect("memory readable");
        assert!(memory.total_bytes > 0 && memory.idleshare_bytes > 0);
        assert!(snapshot.network.is_some());
        // No battery here: "none" (present false) or unknown; elsewhere anything well-formed.
        if let Some(battery) = &snapshot.battery {
            assert!(battery.present || !battery.on_battery_power);
        }
        if let Some(t) = snapshot.cpu_temperature_c {
            assert!((-40.0..=150.0).contains(&t));
        }
        assert_eq!(snapshot.input_idle, None);
    }
    if cfg!(target_os = "linux") {
        assert_eq!(first.sources.cpu, "procfs");
        assert_eq!(first.sources.battery, "sysfs");
    }
    println!("{second:#?}");
}
