//! [`ResourceMonitor`]: owns one source per reading and turns them into a [`Snapshot`].
//!
//! The caller drives it (about once a second) and passes the time in, so the monitor
//! holds no timer and no thread of its own.

use std::time::Duration;

use super::battery::SysfsBattery;
use super::cpu::{ProcfsCpu, SysinfoCpu};
use super::gpu::NvmlSysfsGpu;
use super::memory::{ProcfsMemory, SysinfoMemory};
use super::network::{ProcNetDev, SysinfoNetwork};
use super::snapshot::{
    BatterySource, CpuSource, FullscreenSource, GpuSource, InputIdleSource, MemorySource,
    NetworkSource, Snapshot, SourceNames, TemperatureSource,
};
use super::thermal::SysinfoTemperature;
use super::unknown::{UnknownBattery, UnknownCpu, UnknownMemory, UnknownNetwork};

/// One source per reading; fields are public so tests can swap any of them.
pub struct MonitorSources {
    /// CPU use.
    pub cpu: Box<dyn CpuSource>,
    /// Memory use.
    pub memory: Box<dyn MemorySource>,
    /// Graphics adapters.
    pub gpu: Box<dyn GpuSource>,
    /// Battery.
    pub battery: Box<dyn BatterySource>,
    /// CPU temperature.
    pub temperature: Box<dyn TemperatureSource>,
    /// Network throughput.
    pub network: Box<dyn NetworkSource>,
    /// Full-screen detection.
    pub fullscreen: Box<dyn FullscreenSource>,
    /// Input idle time.
    pub input_idle: Box<dyn InputIdleSource>,
}

impl MonitorSources {
    /// The best real source of each reading on this OS. The desktop sources (input idle,
    /// full screen) come from the caller, which knows the session (X11, Wayland, none).
    pub fn system(
        input_idle: Box<dyn InputIdleSource>,
        fullscreen: Box<dyn FullscreenSource>,
    ) -> Self {
        Self {
            cpu: system_cpu(),
            memory: system_memory(),
            gpu: Box::new(NvmlSysfsGpu::new()),
            battery: system_battery(),
            temperature: Box::new(SysinfoTemperature::new()),
            network: system_network(),
            fullscreen,
            input_idle,
        }
    }

    /// Which source provides each reading.
    pub fn names(&self) -> SourceNames {
        SourceNames {
            cpu: self.cpu.name().into(),
            memory: self.memory.name().into(),
            gpu: self.gpu.name().into(),
            battery: self.battery.name().into(),
            temperature: self.temperature.name().into(),
            network: self.network.name().into(),
            fullscreen: self.fullscreen.name().into(),
            input_idle: self.input_idle.name().into(),
        }
    }
}

// procfs first where it exists (cheapest), then sysinfo, then "unknown": a node on an
// odd OS still runs, it just knows less.

fn system_cpu() -> Box<dyn CpuSource> {
    let procfs = ProcfsCpu::new();
    if procfs.is_available() {
        return Box::new(procfs);
    }
    match SysinfoCpu::new() {
        Some(source) => Box::new(source),
        None => Box::new(UnknownCpu),
    }
}

fn system_memory() -> Box<dyn MemorySource> {
    let mut procfs = ProcfsMemory::new();
    if procfs.read().is_some() {
        return Box::new(procfs);
    }
    match SysinfoMemory::new() {
        Some(source) => Box::new(source),
        None => Box::new(UnknownMemory),
    }
}

fn system_battery() -> Box<dyn BatterySource> {
    if cfg!(target_os = "linux") {
        Box::new(SysfsBattery::new())
    } else {
        Box::new(UnknownBattery)
    }
}

fn system_network() -> Box<dyn NetworkSource> {
    let procfs = ProcNetDev::new();
    if procfs.is_available() {
        return Box::new(procfs);
    }
    match SysinfoNetwork::new() {
        Some(source) => Box::new(source),
        None => Box::new(UnknownNetwork),
    }
}

/// Samples every source into a [`Snapshot`].
pub struct ResourceMonitor {
    sources: MonitorSources,
}

impl ResourceMonitor {
    /// A monitor over the given sources (tests feed fakes here).
    pub fn with_sources(sources: MonitorSources) -> Self {
        Self { sources }
    }

    /// A monitor over this machine's real sources; see [`MonitorSources::system`].
    /// Opens NVML and lists sensors, so call it once, off the async runtime threads.
    pub fn system(
        input_idle: Box<dyn InputIdleSource>,
        fullscreen: Box<dyn FullscreenSource>,
    ) -> Self {
        Self::with_sources(MonitorSources::system(input_idle, fullscreen))
    }

    /// Reads every source once. CPU and network figures cover the time since the previous
    /// call (or since construction), so call it at a steady pace, about once a second.
    pub fn sample(&mut self, now_ms: u64) -> Snapshot {
        let s = &mut self.sources;
        Snapshot {
            taken_at_ms: now_ms,
            cpu: s.cpu.read(),
            memory: s.memory.read(),
            gpus: s.gpu.read(),
            battery: s.battery.read(),
            cpu_temperature_c: s.temperature.read(),
            network: s.network.read(),
            fullscreen_app: s.fullscreen.read(),
            input_idle: s.input_idle.read(),
            sources: s.names(),
        }
    }

    /// Only the input idle time: cheap, for polling every few ms while work runs, so the
    /// owner's return pauses work without waiting for the next full sample.
    pub fn input_idle(&mut self) -> Option<Duration> {
        self.sources.input_idle.read()
    }

    /// Which source provides each reading.
    pub fn source_names(&self) -> SourceNames {
        self.sources.names()
    }
}

#[cfg(test)]
#[path = "sampler_tests.rs"]
mod tests;
