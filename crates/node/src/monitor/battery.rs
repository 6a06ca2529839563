//! Battery source: Linux `/sys/class/power_supply`.
//!
//! Rules, so the policy can rely on them:
//! - the directory lists nothing that powers the machine → `present: false` (a desktop
//!   on mains);
//! - the directory cannot be listed at all → `None` (unknown);
//! - other OSes → `None` until they get a source of their own.

use std::path::{Path, PathBuf};

use super::snapshot::{BatteryReading, BatterySource};
use super::text_file::{read_trimmed, read_u64};

/// One `power_supply` entry, as far as it matters here.
#[derive(Debug, Clone, PartialEq)]
enum Supply {
    /// A battery that powers the machine, with its status text and charge level.
    Battery { status: String, level: Option<f32> },
    /// An external supply (mains adapter, USB-C charger) and whether it is plugged in.
    External { online: Option<bool> },
}

/// Reads one entry; `None` for kinds that say nothing about the machine's power.
fn read_supply(dir: &Path) -> Option<Supply> {
    let kind = read_trimmed(&dir.join("type"))?;
    match kind.as_str() {
        "Battery" => {
            // A wireless mouse or headset battery has scope "Device": not ours to judge.
            if read_trimmed(&dir.join("scope")).is_some_and(|s| s == "Device") {
                return None;
            }
            let level = read_u64(&dir.join("capacity")).map(|c| c.min(100) as f32);
            let status = read_trimmed(&dir.join("status")).unwrap_or_default();
            Some(Supply::Battery { status, level })
        }
        "Mains" | "USB" | "USB_C" | "USB_PD" => Some(Supply::External {
            online: read_u64(&dir.join("online")).map(|v| v != 0),
        }),
        _ => None,
    }
}

/// Combines every entry into one reading.
fn combine(supplies: &[Supply]) -> BatteryReading {
    let mut levels = Vec::new();
    let mut any_battery = false;
    let mut charging = false;
    let mut discharging = false;
    let mut external_online = None;
    for supply in supplies {
        match supply {
            Supply::Battery { status, level } => {
                any_battery = true;
                charging |= status == "Charging";
                discharging |= status == "Discharging";
                levels.extend(level);
            }
            Supply::External { online: Some(on) } => {
                external_online = Some(external_online.unwrap_or(false) || *on);
            }
            Supply::External { online: None } => {}
        }
    }
    if !any_battery {
        return BatteryReading::default();
    }
    // An adapter's "online" is the clearest answer; without one, a discharging battery
    // means we run from it ("Full" and "Not charging" are what batteries say on mains).
    let on_battery_power = external_online.map_or(discharging, |online| !online);
    let level_percent =
        (!levels.is_empty()).then(|| levels.iter().sum::<f32>() / levels.len() as f32);
    BatteryReading {
        present: true,
        on_battery_power,
        charging,
        level_percent,
    }
}

/// Reads every entry of `<sys_root>/class/power_supply`.
pub(crate) fn read_power_supplies(sys_root: &Path) -> Option<BatteryReading> {
    let entries = std::fs::read_dir(sys_root.join("class/power_supply")).ok()?;
    let supplies: Vec<Supply> = entries
        .flatten()
        .filter_map(|entry| read_supply(&entry.path()))
        .collect();
    Some(combine(&supplies))
}

/// Battery source over Linux sysfs.
pub struct SysfsBattery {
    sys_root: PathBuf,
}

impl SysfsBattery {
    /// Reads the real `/sys`.
    pub fn new() -> Self {
        Self::with_sys_root("/sys")
    }

    /// Reads `<sys_root>/class/power_supply` (tests point it at fixtures).
    pub fn with_sys_root(sys_root: impl Into<PathBuf>) -> Self {
        Self {
            sys_root: sys_root.into(),
        }
    }
}

impl Default for SysfsBattery {
    fn default() -> Self {
        Self::new()
    }
}

impl BatterySource for SysfsBattery {
    fn read(&mut self) -> Option<BatteryReading> {
        read_power_supplies(&self.sys_root)
    }

    fn name(&self) -> &'static str {
        "sysfs"
    }
}

#[cfg(test)]
#[path = "battery_tests.rs"]
mod tests;
