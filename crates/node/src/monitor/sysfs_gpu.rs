//! Graphics adapters as Linux sysfs lists them under `/sys/class/drm/cardN/device`.

use std::path::{Path, PathBuf};

use super::snapshot::GpuReading;
use super::text_file::{read_hex_u32, read_trimmed, read_u64};

/// One adapter found in sysfs, with the paths its load is read from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DrmAdapter {
    /// PCI vendor id (0x10de, 0x1002, 0x8086, ...).
    pub vendor_id: u32,
    /// PCI device id.
    pub device_id: u32,
    /// Kernel driver ("amdgpu", "i915", "nvidia", "nouveau"), or "unknown".
    pub driver: String,
    /// Normalised PCI address ("0000:01:00.0"), to match NVML's devices.
    pub pci_key: Option<String>,
    /// `cardN/device`.
    pub device_dir: PathBuf,
    /// The adapter's hwmon directory (temperature, power), where its driver has one.
    pub hwmon_dir: Option<PathBuf>,
}

/// Vendor name for a PCI vendor id.
pub(crate) fn vendor_name(vendor_id: u32) -> String {
    match vendor_id {
        0x10de => "nvidia".into(),
        0x1002 => "amd".into(),
        0x8086 => "intel".into(),
        other => format!("pci:{other:04x}"),
    }
}

/// Normalises a PCI address: NVML writes "00000000:01:00.0", sysfs "0000:01:00.0".
pub(crate) fn normalise_pci_address(address: &str) -> Option<String> {
    let (domain, rest) = address.trim().split_once(':')?;
    let domain = u32::from_str_radix(domain, 16).ok()?;
    Some(format!("{domain:04x}:{}", rest.to_ascii_lowercase()))
}

/// Whether a `/sys/class/drm` entry is a card ("card0"), not a connector
/// ("card0-HDMI-A-1") or a render node ("renderD128").
fn is_card_name(name: &str) -> bool {
    name.strip_prefix("card")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Lists adapters under `<sys_root>/class/drm`; empty when there are none or it is
/// unreadable (no GPU is not an error).
pub(crate) fn list_drm_adapters(sys_root: &Path) -> Vec<DrmAdapter> {
    let Ok(entries) = std::fs::read_dir(sys_root.join("class/drm")) else {
        return Vec::new();
    };
    let mut cards: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .filter(|(name, _)| is_card_name(name))
        .collect();
    // card0 before card1, so the list keeps its order from one read to the next.
    cards.sort_by_key(|(name, _)| name[4..].parse::<u32>().unwrap_or(u32::MAX));
    let mut adapters: Vec<DrmAdapter> = Vec::new();
    for (_, card_dir) in cards {
        let Some(adapter) = read_adapter(&card_dir.join("device")) else {
            continue;
        };
        // One device can expose several cards (rare); list it once.
        let duplicate =
            adapter.pci_key.is_some() && adapters.iter().any(|a| a.pci_key == adapter.pci_key);
        if !duplicate {
            adapters.push(adapter);
        }
    }
    adapters
}

/// Reads one `cardN/device` directory; `None` without a readable vendor id (virtual
/// displays such as simpledrm have none).
fn read_adapter(device_dir: &Path) -> Option<DrmAdapter> {
    let vendor_id = read_hex_u32(&device_dir.join("vendor"))?;
    let device_id = read_hex_u32(&device_dir.join("device")).unwrap_or(0);
    let uevent = read_trimmed(&device_dir.join("uevent")).unwrap_or_default();
    let uevent_value = |key: &str| {
        uevent
            .lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_owned)
    };
    let driver = uevent_value("DRIVER")
        .or_else(|| {
            let link = std::fs::read_link(device_dir.join("driver")).ok()?;
            Some(link.file_name()?.to_str()?.to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let pci_key = uevent_value("PCI_SLOT_NAME")
        .or_else(|| {
            let real = std::fs::canonicalize(device_dir).ok()?;
            Some(real.file_name()?.to_str()?.to_owned())
        })
        .and_then(|address| normalise_pci_address(&address));
    let hwmon_dir = std::fs::read_dir(device_dir.join("hwmon"))
        .ok()
        .and_then(|mut entries| entries.find_map(|e| e.ok()).map(|e| e.path()));
    Some(DrmAdapter {
        vendor_id,
        device_id,
        driver,
        pci_key,
        device_dir: device_dir.to_owned(),
        hwmon_dir,
    })
}

impl DrmAdapter {
    /// The adapter's name and whatever load its driver publishes in sysfs (amdgpu
    /// publishes busy %, VRAM, temperature and power; most others nothing).
    pub fn read(&self) -> GpuReading {
        let vendor = vendor_name(self.vendor_id);
        let label = match vendor.as_str() {
            "nvidia" => "NVIDIA".to_owned(),
            "amd" => "AMD".to_owned(),
            "intel" => "Intel".to_owned(),
            other => other.to_owned(),
        };
        let hwmon = |file: &str| read_u64(&self.hwmon_dir.as_ref()?.join(file));
        GpuReading {
            // sysfs has no marketing names; those need the pci.ids database.
            name: format!("{label} GPU {:04x} ({})", self.device_id, self.driver),
            vendor,
            utilization_percent: read_u64(&self.device_dir.join("gpu_busy_percent"))
                .map(|p| p.min(100) as f32),
            vram_used_bytes: read_u64(&self.device_dir.join("mem_info_vram_used")),
            vram_total_bytes: read_u64(&self.device_dir.join("mem_info_vram_total")),
            // hwmon: millidegrees Celsius, microwatts.
            temperature_c: hwmon("temp1_input").map(|m| m as f32 / 1000.0),
            power_watts: hwmon("power1_average").map(|uw| uw as f32 / 1_000_000.0),
        }
    }
}
