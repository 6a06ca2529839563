use super::*;

/// A sysfs-like root holding `class/power_supply` with the given entries' files.
fn power_supply_tree(entries: &[(&str, &[(&str, &str)])]) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    let class = root.path().join("class/power_supply");
    std::fs::create_dir_all(&class).expect("mkdir");
    for (entry, files) in entries {
        std::fs::create_dir(class.join(entry)).expect("mkdir");
        for (file, content) in *files {
            std::fs::write(class.join(entry).join(file), content).expect("write");
        }
    }
    root
}

fn read(root: &tempfile::TempDir) -> Option<BatteryReading> {
    SysfsBattery::with_sys_root(root.path()).read()
}

#[test]
fn laptop_unplugged_and_discharging_at_42_percent() {
    let root = power_supply_tree(&[
        ("AC", &[("type", "Mains\n"), ("online", "0\n")]),
        (
            "BAT0",
            &[
                ("type", "Battery\n"),
                ("status", "Discharging\n"),
                ("capacity", "42\n"),
            ],
        ),
    ]);
    let reading = read(&root).expect("readable");
    assert_eq!(
        reading,
        BatteryReading {
            present: true,
            on_battery_power: true,
            charging: false,
            level_percent: Some(42.0),
        }
    );
}

#[test]
fn laptop_plugged_in_and_charging() {
    let root = power_supply_tree(&[
        ("ACAD", &[("type", "Mains"), ("online", "1")]),
        (
            "BAT1",
            &[
                ("type", "Battery"),
                ("status", "Charging"),
                ("capacity", "80"),
            ],
        ),
    ]);
    let reading = read(&root).expect("readable");
    assert!(reading.present && reading.charging && !reading.on_battery_power);
    assert_eq!(reading.level_percent, Some(80.0));
}

#[test]
fn without_an_adapter_entry_the_battery_status_decides() {
    let full = power_supply_tree(&[("BAT0", &[("type", "Battery"), ("status", "Full")])]);
    assert!(!read(&full).expect("readable").on_battery_power);
    let draining =
        power_supply_tree(&[("BAT0", &[("type", "Battery"), ("status", "Discharging")])]);
    assert!(read(&draining).expect("readable").on_battery_power);
}

#[test]
fn two_batteries_average_their_levels() {
    let root = power_supply_tree(&[
        (
            "BAT0",
            &[
                ("type", "Battery"),
                ("status", "Not charging"),
                ("capacity", "90"),
            ],
        ),
        (
            "BAT1",
            &[
                ("type", "Battery"),
                ("status", "Not charging"),
                ("capacity", "50"),
            ],
        ),
    ]);
    assert_eq!(read(&root).expect("readable").level_percent, Some(70.0));
}

#[test]
fn desktop_with_only_mains_online_has_no_battery() {
    let root = power_supply_tree(&[("AC", &[("type", "Mains"), ("online", "1")])]);
    assert_eq!(read(&root), Some(BatteryReading::default()));
}

#[test]
fn no_power_supply_entries_means_no_battery() {
    let root = power_supply_tree(&[]);
    let reading = read(&root).expect("readable");
    assert!(!reading.present && !reading.on_battery_power);
}

#[test]
fn a_missing_power_supply_class_is_unknown() {
    let root = tempfile::tempdir().expect("temp dir");
    assert_eq!(SysfsBattery::with_sys_root(root.path()).read(), None);
}

#[test]
fn a_wireless_mouse_battery_is_not_the_machines_battery() {
    let root = power_supply_tree(&[(
        "hidpp_battery_0",
        &[
            ("type", "Battery"),
            ("scope", "Device"),
            ("status", "Discharging"),
            ("capacity", "5"),
        ],
    )]);
    assert_eq!(read(&root), Some(BatteryReading::default()));
}

#[test]
fn garbage_files_read_as_unknown_values_without_failing() {
    let root = power_supply_tree(&[
        ("AC", &[("type", "Mains"), ("online", "maybe")]),
        (
            "BAT0",
            &[
                ("type", "Battery"),
                ("status", "\u{0}\u{ff}"),
                ("capacity", "-3"),
            ],
        ),
        ("weird", &[("type", "Flux capacitor")]),
        ("empty", &[]),
    ]);
    let reading = read(&root).expect("readable");
    assert!(reading.present);
    assert!(!reading.charging && !reading.on_battery_power);
    assert_eq!(reading.level_percent, None);
}

#[test]
fn the_real_battery_source_returns_without_error() {
    // This machine has an empty power_supply class: a battery-less machine on mains.
    if let Some(reading) = SysfsBattery::new().read()
        && !reading.present
    {
        assert!(!reading.on_battery_power && reading.level_percent.is_none());
    }
}
