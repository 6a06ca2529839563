//! Graphics adapters: every vendor's cards from Linux sysfs, NVIDIA's load from NVML.
//!
//! sysfs (`/sys/class/drm/cardN/device`) lists every adapter with a kernel driver and,
//! for amdgpu, even its load and VRAM. NVML (the NVIDIA driver's library) is opened once;
//! where it is missing (no NVIDIA driver) the NVIDIA cards are still listed, without load.

use std::path::PathBuf;

use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::TemperatureSensor;

use super::snapshot::{GpuReading, GpuSource};
use super::sysfs_gpu::{DrmAdapter, list_drm_adapters, normalise_pci_address};

/// Re-list adapters this often (in reads): hot-plugged GPUs are rare, the load is not.
const RELIST_EVERY_READS: u32 = 60;

/// One NVIDIA device as NVML listed it when opened.
struct NvmlDevice {
    index: u32,
    pci_key: Option<String>,
    name: String,
}

/// NVML, opened once, with its device list.
struct NvmlGpus {
    nvml: Nvml,
    devices: Vec<NvmlDevice>,
}

impl NvmlGpus {
    /// `None` when the NVIDIA driver (libnvidia-ml) is absent: not an error here.
    fn open() -> Option<Self> {
        let nvml = match Nvml::init() {
            Ok(nvml) => nvml,
            Err(e) => {
                tracing::debug!("no NVML ({e}): NVIDIA load will be unknown");
                return None;
            }
        };
        let count = nvml.device_count().unwrap_or(0);
        let devices = (0..count)
            .filter_map(|index| {
                let device = nvml.device_by_index(index).ok()?;
                Some(NvmlDevice {
                    index,
                    pci_key: device
                        .pci_info()
                        .ok()
                        .and_then(|pci| normalise_pci_address(&pci.bus_id)),
                    name: device.name().unwrap_or_else(|_| "NVIDIA GPU".into()),
                })
            })
            .collect();
        Some(Self { nvml, devices })
    }

    /// Current load of each device, each value `None` where the driver declines it.
    fn read(&self) -> Vec<(Option<String>, GpuReading)> {
        let mut readings = Vec::with_capacity(self.devices.len());
        for listed in &self.devices {
            // Device handles borrow `nvml`, so they are looked up again (cheap) each read.
            let Ok(device) = self.nvml.device_by_index(listed.index) else {
                continue;
            };
            let memory = device.memory_info().ok();
            readings.push((
                listed.pci_key.clone(),
                GpuReading {
                    name: listed.name.clone(),
                    vendor: "nvidia".into(),
                    utilization_percent: device.utilization_rates().ok().map(|u| u.gpu as f32),
                    vram_used_bytes: memory.as_ref().map(|m| m.used),
                    vram_total_bytes: memory.as_ref().map(|m| m.total),
                    temperature_c: device
                        .temperature(TemperatureSensor::Gpu)
                        .ok()
                        .map(|t| t as f32),
                    power_watts: device.power_usage().ok().map(|mw| mw as f32 / 1000.0),
                },
            ));
        }
        readings
    }
}

/// Puts NVML's readings into the matching NVIDIA sysfs entries: by PCI address first,
/// then in order for entries without one; NVML devices sysfs did not list are appended
/// (the case on Windows, where there is no sysfs).
pub(crate) fn merge_nvml(
    mut sysfs: Vec<(Option<String>, GpuReading)>,
    nvml: Vec<(Option<String>, GpuReading)>,
) -> Vec<GpuReading> {
    let mut unmatched = Vec::new();
    let mut filled = vec![false; sysfs.len()];
    for (key, reading) in nvml {
        let slot = (0..sysfs.len()).find(|&i| {
            !filled[i] && key.is_some() && sysfs[i].0 == key && sysfs[i].1.vendor == "nvidia"
        });
        match slot {
            Some(i) => {
                sysfs[i].1 = reading;
                filled[i] = true;
            }
            None => unmatched.push(reading),
        }
    }
    let mut appended = Vec::new();
    for reading in unmatched {
        let slot = (0..sysfs.len()).find(|&i| !filled[i] && sysfs[i].1.vendor == "nvidia");
        match slot {
            Some(i) => {
                sysfs[i].1 = reading;
                filled[i] = true;
            }
            None => appended.push(reading),
        }
    }
    sysfs.into_iter().map(|(_, r)| r).chain(appended).collect()
}

/// GPU source: sysfs adapters of every vendor, NVML's load merged into NVIDIA's.
pub struct NvmlSysfsGpu {
    sys_root: PathBuf,
    nvml: Option<NvmlGpus>,
    adapters: Vec<DrmAdapter>,
    reads_since_listing: u32,
}

impl NvmlSysfsGpu {
    /// Lists the real `/sys` adapters and opens NVML if the driver is installed.
    pub fn new() -> Self {
        Self::with_sys_root("/sys", true)
    }

    /// Lists adapters under `<sys_root>/class/drm`; `use_nvml` false keeps tests
    /// independent of whatever driver the test machine has.
    pub fn with_sys_root(sys_root: impl Into<PathBuf>, use_nvml: bool) -> Self {
        let sys_root = sys_root.into();
        Self {
            adapters: list_drm_adapters(&sys_root),
            sys_root,
            nvml: if use_nvml { NvmlGpus::open() } else { None },
            reads_since_listing: 0,
        }
    }
}

impl Default for NvmlSysfsGpu {
    fn default() -> Self {
        Self::new()
    }
}

impl GpuSource for NvmlSysfsGpu {
    fn read(&mut self) -> Vec<GpuReading> {
        self.reads_since_listing += 1;
        if self.reads_since_listing >= RELIST_EVERY_READS {
            self.adapters = list_drm_adapters(&self.sys_root);
            self.reads_since_listing = 0;
        }
        let sysfs = self
            .adapters
            .iter()
            .map(|a| (a.pci_key.clone(), a.read()))
            .collect();
        let nvml = self.nvml.as_ref().map(NvmlGpus::read).unwrap_or_default();
        merge_nvml(sysfs, nvml)
    }

    fn name(&self) -> &'static str {
        match (self.nvml.is_some(), cfg!(target_os = "linux")) {
            (true, true) => "nvml+sysfs",
            (true, false) => "nvml",
            (false, true) => "sysfs",
            (false, false) => "none",
        }
    }
}

#[cfg(test)]
#[path = "gpu_tests.rs"]
mod tests;
