//! Sources that always read "unknown": for OSes without a real one, headless nodes with
//! no desktop, and tests that only care about other readings.

use std::time::Duration;

use super::snapshot::{
    BatteryReading, BatterySource, CpuSource, CpuUsage, FullscreenSource, GpuReading, GpuSource,
    InputIdleSource, MemorySource, MemoryUsage, NetworkRates, NetworkSource, TemperatureSource,
};

/// Name every unknown source reports.
const UNKNOWN: &str = "unknown";

/// CPU use: unknown.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnknownCpu;

impl CpuSource for UnknownCpu {
    fn read(&mut self) -> Option<CpuUsage> {
        None
    }
    fn name(&self) -> &'static str {
        UNKNOWN
    }
}

/// Memory use: unknown.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnknownMemory;

impl MemorySource for UnknownMemory {
    fn read(&mut self) -> Option<MemoryUsage> {
        None
    }
    fn name(&self) -> &'static str {
        UNKNOWN
    }
}

/// Graphics adapters: none found.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoGpu;

impl GpuSource for NoGpu {
    fn read(&mut self) -> Vec<GpuReading> {
        Vec::new()
    }
    fn name(&self) -> &'static str {
        "none"
    }
}

/// Battery: unknown (OSes without a battery source yet).
#[derive(Debug, Default, Clone, Copy)]
pub struct UnknownBattery;

impl BatterySource for UnknownBattery {
    fn read(&mut self) -> Option<BatteryReading> {
        None
    }
    fn name(&self) -> &'static str {
        UNKNOWN
    }
}

/// CPU temperature: unknown.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnknownTemperature;

impl TemperatureSource for UnknownTemperature {
    fn read(&mut self) -> Option<f32> {
        None
    }
    fn name(&self) -> &'static str {
        UNKNOWN
    }
}

/// Network throughput: unknown.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnknownNetwork;

impl NetworkSource for UnknownNetwork {
    fn read(&mut self) -> Option<NetworkRates> {
        None
    }
    fn name(&self) -> &'static str {
        UNKNOWN
    }
}

/// Full-screen detection: unknown (no desktop session, or none built for this desktop).
#[derive(Debug, Default, Clone, Copy)]
pub struct UnknownFullscreen;

impl FullscreenSource for UnknownFullscreen {
    fn read(&mut self) -> Option<bool> {
        None
    }
    fn name(&self) -> &'static str {
        UNKNOWN
    }
}

/// Input idle time: unknown (a server with no desktop session).
#[derive(Debug, Default, Clone, Copy)]
pub struct UnknownInputIdle;

impl InputIdleSource for UnknownInputIdle {
    fn read(&mut self) -> Option<Duration> {
        None
    }
    fn name(&self) -> &'static str {
        UNKNOWN
    }
}
