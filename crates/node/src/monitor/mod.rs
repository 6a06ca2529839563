//! The resource monitor: samples every source about once a second into a [`Snapshot`].
//!
//! Each source sits behind a trait (see [`snapshot`]) so tests can feed it; a source that
//! is unavailable reads "unknown" and never fails the node. [`ResourceMonitor`] owns one
//! source per reading; [`MonitorSources::system`] picks the real ones for this OS.

pub mod battery;
pub mod cpu;
pub mod desktop;
pub mod gpu;
pub mod memory;
pub mod network;
pub mod sampler;
pub mod snapshot;
pub mod thermal;
pub mod unknown;

mod sysfs_gpu;
mod text_file;

pub use battery::SysfsBattery;
pub use cpu::{ProcfsCpu, SysinfoCpu};
pub use gpu::NvmlSysfsGpu;
pub use memory::{ProcfsMemory, SysinfoMemory};
pub use network::{ProcNetDev, SysinfoNetwork};
pub use sampler::{MonitorSources, ResourceMonitor};
pub use snapshot::*;
pub use thermal::SysinfoTemperature;
pub use unknown::{
    NoGpu, UnknownBattery, UnknownCpu, UnknownFullscreen, UnknownInputIdle, UnknownMemory,
    UnknownNetwork, UnknownTemperature,
};
