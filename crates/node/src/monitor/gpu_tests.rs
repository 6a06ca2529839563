use std::path::Path;

use super::*;
use crate::monitor::sysfs_gpu::vendor_name;

/// Writes `files` (path relative to root, content) into a fresh sysfs-like tree.
fn sysfs_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    for (path, content) in files {
        let path = root.path().join(path);
        std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
    root
}

fn read_all(root: &Path) -> Vec<GpuReading> {
    NvmlSysfsGpu::with_sys_root(root, false).read()
}

#[test]
fn cards_of_every_vendor_are_listed_and_connectors_and_render_nodes_skipped() {
    let root = sysfs_tree(&[
        ("class/drm/card0/device/vendor", "0x8086\n"),
        ("class/drm/card0/device/device", "0x9a49\n"),
        (
            "class/drm/card0/device/uevent",
            "DRIVER=i915\nPCI_SLOT_NAME=0000:00:02.0\n",
        ),
        ("class/drm/card0-HDMI-A-1/status", "connected\n"),
        ("class/drm/renderD128/dev", "226:128\n"),
        ("class/drm/card1/device/vendor", "0x10de\n"),
        ("class/drm/card1/device/device", "0x2504\n"),
        (
            "class/drm/card1/device/uevent",
            "DRIVER=nvidia\nPCI_SLOT_NAME=0000:01:00.0\n",
        ),
        ("class/drm/card2/device/vendor", "0x1002\n"),
        ("class/drm/card2/device/device", "0x73bf\n"),
        (
            "class/drm/card2/device/uevent",
            "DRIVER=amdgpu\nPCI_SLOT_NAME=0000:03:00.0\n",
        ),
        ("class/drm/card2/device/gpu_busy_percent", "37\n"),
        ("class/drm/card2/device/mem_info_vram_used", "1073741824\n"),
        (
            "class/drm/card2/device/mem_info_vram_total",
            "17163091968\n",
        ),
        ("class/drm/card2/device/hwmon/hwmon4/temp1_input", "54000\n"),
        (
            "class/drm/card2/device/hwmon/hwmon4/power1_average",
            "32000000\n",
        ),
    ]);
    let gpus = read_all(root.path());
    let vendors: Vec<&str> = gpus.iter().map(|g| g.vendor.as_str()).collect();
    assert_eq!(vendors, ["intel", "nvidia", "amd"]);
    assert_eq!(gpus[0].name, "Intel GPU 9a49 (i915)");
    assert_eq!(gpus[0].utilization_percent, None);
    // Without NVML an NVIDIA card is still listed, its load unknown.
    assert_eq!(gpus[1].vram_total_bytes, None);
    let amd = &gpus[2];
    assert_eq!(amd.utilization_percent, Some(37.0));
    assert_eq!(amd.vram_used_bytes, Some(1 << 30));
    assert_eq!(amd.vram_total_bytes, Some(17_163_091_968));
    assert_eq!(amd.temperature_c, Some(54.0));
    assert_eq!(amd.power_watts, Some(32.0));
}

#[test]
fn cards_with_garbage_or_missing_vendor_are_skipped_and_other_garbage_reads_unknown() {
    let root = sysfs_tree(&[
        ("class/drm/card0/device/vendor", "not hex\n"),
        ("class/drm/card1/uevent", "simpledrm has no device dir\n"),
        ("class/drm/card2/device/vendor", "0x1002"),
        ("class/drm/card2/device/gpu_busy_percent", "lots"),
        ("class/drm/card2/device/mem_info_vram_used", "\u{0}\u{1}"),
    ]);
    let gpus = read_all(root.path());
    assert_eq!(gpus.len(), 1);
    assert_eq!(gpus[0].vendor, "amd");
    assert_eq!(gpus[0].name, "AMD GPU 0000 (unknown)");
    assert_eq!(gpus[0].utilization_percent, None);
    assert_eq!(gpus[0].vram_used_bytes, None);
}

#[test]
fn no_drm_directory_means_no_gpus() {
    let root = tempfile::tempdir().expect("temp dir");
    assert!(read_all(root.path()).is_empty());
}

#[test]
fn pci_addresses_from_nvml_and_sysfs_normalise_alike() {
    assert_eq!(
        normalise_pci_address("00000000:01:00.0"),
        normalise_pci_address("0000:01:00.0")
    );
    assert_eq!(
        normalise_pci_address("00000000:0A:00.0").as_deref(),
        Some("0000:0a:00.0")
    );
    assert_eq!(normalise_pci_address("garbage"), None);
}

#[test]
fn vendor_ids_map_to_names() {
    assert_eq!(vendor_name(0x10de), "nvidia");
    assert_eq!(vendor_name(0x1002), "amd");
    assert_eq!(vendor_name(0x8086), "intel");
    assert_eq!(vendor_name(0x1af4), "pci:1af4");
}

fn reading(vendor: &str, name: &str) -> GpuReading {
    GpuReading {
        name: name.into(),
        vendor: vendor.into(),
        ..GpuReading::default()
    }
}

#[test]
fn nvml_readings_land_in_the_nvidia_entry_with_the_same_pci_address() {
    let key = |s: &str| Some(s.to_owned());
    let sysfs = vec![
        (key("0000:00:02.0"), reading("intel", "Intel GPU")),
        (
            key("0000:01:00.0"),
            reading("nvidia", "NVIDIA GPU 2504 (nvidia)"),
        ),
        (
            key("0000:02:00.0"),
            reading("nvidia", "NVIDIA GPU 2204 (nvidia)"),
        ),
    ];
    let mut loaded = reading("nvidia", "NVIDIA GeForce RTX 3090");
    loaded.utilization_percent = Some(80.0);
    let merged = merge_nvml(sysfs, vec![(key("0000:02:00.0"), loaded.clone())]);
    assert_eq!(merged.len(), 3);
    assert_eq!(merged[2], loaded);
    assert_eq!(merged[1].name, "NVIDIA GPU 2504 (nvidia)");
}

#[test]
fn nvml_devices_without_a_match_fill_unmatched_nvidia_entries_then_are_appended() {
    let sysfs = vec![(None, reading("nvidia", "sysfs"))];
    let nvml = vec![
        (Some("0000:05:00.0".into()), reading("nvidia", "first")),
        (None, reading("nvidia", "second")),
    ];
    let merged = merge_nvml(sysfs, nvml);
    let names: Vec<&str> = merged.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["first", "second"]);
    // With no sysfs at all (Windows) NVML's list is the list.
    assert_eq!(
        merge_nvml(Vec::new(), vec![(None, reading("nvidia", "x"))]).len(),
        1
    );
}

#[test]
fn the_real_gpu_source_returns_without_error() {
    let mut source = NvmlSysfsGpu::new();
    let gpus = source.read();
    // This test machine has no GPU; elsewhere, whatever is there must be well-formed.
    for gpu in &gpus {
        assert!(!gpu.vendor.is_empty() && !gpu.name.is_empty());
    }
    assert!(!source.name().is_empty());
}
