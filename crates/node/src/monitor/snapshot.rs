//! One reading of everything the contribution policy looks at, and the source traits.
//!
//! Every field that a machine may be unable to provide is an `Option`: `None` means
//! "unknown" (the source is unavailable here), which the UI shows as such and the policy
//! treats by documented rules, never as an error.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// CPU use over the last sampling interval.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuUsage {
    /// Logical cores.
    pub cores: u32,
    /// Whole-machine use, 0–100 (100 = every core busy).
    pub total_percent: f32,
    /// Idleshare's own share of `total_percent` (its process and contributed work).
    pub idleshare_percent: f32,
    /// Per-core use, 0–100 each.
    pub per_core_percent: Vec<f32>,
}

impl CpuUsage {
    /// The owner's use: everything that is not Idleshare, 0–100.
    pub fn owner_percent(&self) -> f32 {
        (self.total_percent - self.idleshare_percent).max(0.0)
    }
}

/// Memory use now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryUsage {
    /// Installed memory in bytes.
    pub total_bytes: u64,
    /// In use by everything, in bytes.
    pub used_bytes: u64,
    /// In use by Idleshare (resident set), in bytes.
    pub idleshare_bytes: u64,
}

/// One graphics adapter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuReading {
    /// Adapter name, e.g. "NVIDIA GeForce RTX 3060".
    pub name: String,
    /// Vendor, e.g. "nvidia", "amd", "intel".
    pub vendor: String,
    /// Utilisation 0–100, where the driver reports it.
    pub utilization_percent: Option<f32>,
    /// Video memory in use, in bytes.
    pub vram_used_bytes: Option<u64>,
    /// Video memory installed, in bytes.
    pub vram_total_bytes: Option<u64>,
    /// Temperature in °C.
    pub temperature_c: Option<f32>,
    /// Power draw in watts.
    pub power_watts: Option<f32>,
}

/// The battery, when the machine has one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatteryReading {
    /// Whether a battery is installed at all (`false` on desktops).
    pub present: bool,
    /// Whether the machine runs from the battery (mains unplugged).
    pub on_battery_power: bool,
    /// Whether the battery is charging.
    pub charging: bool,
    /// Charge level 0–100.
    pub level_percent: Option<f32>,
}

/// Network throughput over the last sampling interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRates {
    /// Bytes per second received, all interfaces but loopback.
    pub download_bytes_per_sec: u64,
    /// Bytes per second sent, all interfaces but loopback.
    pub upload_bytes_per_sec: u64,
}

/// Everything the monitor read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When it was taken (Unix ms).
    pub taken_at_ms: u64,
    /// CPU use; `None` = unknown.
    pub cpu: Option<CpuUsage>,
    /// Memory use; `None` = unknown.
    pub memory: Option<MemoryUsage>,
    /// Graphics adapters; empty = none found.
    pub gpus: Vec<GpuReading>,
    /// Battery; `None` = unknown.
    pub battery: Option<BatteryReading>,
    /// Hottest CPU sensor in °C; `None` = unknown.
    pub cpu_temperature_c: Option<f32>,
    /// Network throughput; `None` = unknown.
    pub network: Option<NetworkRates>,
    /// Whether a full-screen application is in front; `None` = unknown.
    pub fullscreen_app: Option<bool>,
    /// Time since the owner last touched keyboard or mouse; `None` = unknown
    /// (for example a server with no desktop session).
    pub input_idle: Option<Duration>,
    /// Which source each reading came from, for the status view ("x11", "sysfs", "unknown").
    pub sources: SourceNames,
}

/// Names of the sources behind a snapshot, so the UI can say what is measured and how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceNames {
    /// CPU source.
    pub cpu: String,
    /// Memory source.
    pub memory: String,
    /// GPU source.
    pub gpu: String,
    /// Battery source.
    pub battery: String,
    /// Temperature source.
    pub temperature: String,
    /// Network source.
    pub network: String,
    /// Full-screen detection source.
    pub fullscreen: String,
    /// Input idle source.
    pub input_idle: String,
}

/// CPU use, read about once a second.
pub trait CpuSource: Send {
    /// Use since the previous call.
    fn read(&mut self) -> Option<CpuUsage>;
    /// Short name for the status view.
    fn name(&self) -> &'static str;
}

/// Memory use.
pub trait MemorySource: Send {
    /// Current use.
    fn read(&mut self) -> Option<MemoryUsage>;
    /// Short name for the status view.
    fn name(&self) -> &'static str;
}

/// Graphics adapters and their load.
pub trait GpuSource: Send {
    /// Every adapter found (empty when none).
    fn read(&mut self) -> Vec<GpuReading>;
    /// Short name for the status view.
    fn name(&self) -> &'static str;
}

/// The battery.
pub trait BatterySource: Send {
    /// Current state; `None` when it cannot be read.
    fn read(&mut self) -> Option<BatteryReading>;
    /// Short name for the status view.
    fn name(&self) -> &'static str;
}

/// CPU temperature.
pub trait TemperatureSource: Send {
    /// Hottest CPU sensor in °C.
    fn read(&mut self) -> Option<f32>;
    /// Short name for the status view.
    fn name(&self) -> &'static str;
}

/// Network counters.
pub trait NetworkSource: Send {
    /// Throughput since the previous call.
    fn read(&mut self) -> Option<NetworkRates>;
    /// Short name for the status view.
    fn name(&self) -> &'static str;
}

/// Whether a full-screen application is in front.
pub trait FullscreenSource: Send {
    /// `Some(true)` when the active window is full screen.
    fn read(&mut self) -> Option<bool>;
    /// Short name for the status view.
    fn name(&self) -> &'static str;
}

/// Time since the last keyboard or mouse input. Called often (every few ms while work
/// runs), so implementations must be cheap: keep connections open between calls.
pub trait InputIdleSource: Send {
    /// Time since the last input.
    fn read(&mut self) -> Option<Duration>;
    /// Short name for the status view.
    fn name(&self) -> &'static str;
}
