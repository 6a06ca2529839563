//! What this machine offers, read once at start (the full monitor is a separate module).

use idleshare_protocol::Capabilities;
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind, System};

/// Reads CPU model and cores, memory and OS of this machine.
///
/// A source that cannot be read reports "unknown" (or 0), never an error: registration
/// must not depend on every counter of every OS being readable.
pub fn local_capabilities() -> Capabilities {
    let system = System::new_with_specifics(
        RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing())
            .with_memory(MemoryRefreshKind::nothing().with_ram()),
    );
    let (cpu_model, cpu_cores, memory_bytes) = match &system {
        Ok(system) => (
            system
                .cpus()
                .first()
                .map(|cpu| cpu.brand().trim().to_owned())
                .filter(|brand| !brand.is_empty())
                .unwrap_or_else(|| "unknown".into()),
            system.cpus().len() as u32,
            system.total_memory(),
        ),
        Err(e) => {
            tracing::warn!("cannot read CPU and memory information: {e}");
            ("unknown".into(), 0, 0)
        }
    };
    Capabilities {
        cpu_model,
        cpu_cores,
        memory_bytes,
        os: System::long_os_version().unwrap_or_else(|_| std::env::consts::OS.into()),
        arch: std::env::consts::ARCH.into(),
        agent_version: env!("CARGO_PKG_VERSION").into(),
        ..Capabilities::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_reports_cores_memory_and_valid_text() {
        let caps = local_capabilities();
        assert!(caps.cpu_cores >= 1);
        assert!(caps.memory_bytes > 0);
        assert!(caps.validate().is_ok());
    }
}
