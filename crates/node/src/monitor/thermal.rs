//! CPU temperature source over sysinfo's sensor list (hwmon on Linux, SMC on macOS, WMI
//! on Windows).
//!
//! The sensor list is built once (and again every few minutes): listing walks every
//! hwmon chip, while refreshing a known sensor reads one file.

use sysinfo::Components;

use super::snapshot::TemperatureSource;

/// Rebuild the sensor list this often (in reads): drivers loading late add sensors.
const RELIST_EVERY_READS: u32 = 300;

/// Label fragments of CPU sensors across drivers and OSes ("coretemp Package id 0",
/// "k10temp Tctl", "CPU Proximity").
const CPU_LABEL_WORDS: &[&str] = &[
    "cpu",
    "package",
    "core",
    "coretemp",
    "k10temp",
    "zenpower",
    "tctl",
    "tdie",
    "x86_pkg_temp",
];

/// Whether a sensor label names a CPU sensor (and not, say, "amdgpu edge" or "GPU core").
pub(crate) fn is_cpu_sensor_label(label: &str) -> bool {
    let label = label.to_ascii_lowercase();
    !label.contains("gpu") && CPU_LABEL_WORDS.iter().any(|word| label.contains(word))
}

/// The hottest plausible reading; sensors report garbage such as -273 or 255 when
/// disconnected, so only -40…150 °C counts.
pub(crate) fn hottest(temperatures: impl IntoIterator<Item = Option<f32>>) -> Option<f32> {
    temperatures
        .into_iter()
        .flatten()
        .filter(|t| (-40.0..=150.0).contains(t))
        .reduce(f32::max)
}

/// CPU temperature from sysinfo's components.
pub struct SysinfoTemperature {
    components: Option<Components>,
    reads_since_listing: u32,
}

impl SysinfoTemperature {
    /// Lists this machine's sensors (none is fine: readings are then unknown).
    pub fn new() -> Self {
        Self {
            components: Components::new_with_refreshed_list().ok(),
            reads_since_listing: 0,
        }
    }

    fn has_cpu_sensor(&self) -> bool {
        self.components
            .as_ref()
            .is_some_and(|list| list.iter().any(|c| is_cpu_sensor_label(c.label())))
    }
}

impl Default for SysinfoTemperature {
    fn default() -> Self {
        Self::new()
    }
}

impl TemperatureSource for SysinfoTemperature {
    fn read(&mut self) -> Option<f32> {
        self.reads_since_listing += 1;
        let relist = self.reads_since_listing >= RELIST_EVERY_READS;
        if relist {
            self.reads_since_listing = 0;
        }
        let components = self.components.as_mut()?;
        if relist {
            components.refresh(true);
        } else {
            // Between listings, refresh only the CPU sensors themselves.
            for sensor in components.iter_mut() {
                if is_cpu_sensor_label(sensor.label()) {
                    sensor.refresh();
                }
            }
        }
        hottest(
            components
                .iter()
                .filter(|c| is_cpu_sensor_label(c.label()))
                .map(|c| c.temperature()),
        )
    }

    fn name(&self) -> &'static str {
        if self.has_cpu_sensor() {
            "sysinfo"
        } else {
            "none"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_sensor_labels_across_drivers_are_recognised() {
        for label in [
            "coretemp Package id 0",
            "coretemp Core 3",
            "k10temp Tctl",
            "zenpower Tdie",
            "CPU Proximity",
            "x86_pkg_temp",
        ] {
            assert!(is_cpu_sensor_label(label), "{label}");
        }
        for label in [
            "amdgpu edge",
            "nvme Composite",
            "acpitz temp1",
            "GPU core",
            "",
        ] {
            assert!(!is_cpu_sensor_label(label), "{label}");
        }
    }

    #[test]
    fn hottest_ignores_missing_and_implausible_readings() {
        assert_eq!(
            hottest([Some(41.0), None, Some(67.5), Some(55.0)]),
            Some(67.5)
        );
        assert_eq!(hottest([Some(-273.0), Some(255.0), Some(f32::NAN)]), None);
        assert_eq!(hottest([]), None);
    }

    #[test]
    fn the_real_temperature_source_returns_without_error() {
        let mut source = SysinfoTemperature::new();
        let reading = source.read();
        // This machine has no hwmon sensors: unknown, and the name says so.
        if reading.is_none() {
            assert!(matches!(source.name(), "none" | "sysinfo"));
        } else {
            assert_eq!(source.name(), "sysinfo");
        }
    }
}
