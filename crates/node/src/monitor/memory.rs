//! Memory use sources: installed, in use, and Idleshare's resident set.
//!
//! On Linux [`ProcfsMemory`] reads `/proc/meminfo` and `/proc/self/statm`; elsewhere
//! [`SysinfoMemory`] refreshes RAM figures and this one process only.

use std::path::PathBuf;

use sysinfo::{MemoryRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate, RefreshKind, System};

use super::snapshot::{MemorySource, MemoryUsage};
use super::text_file::read_into;

/// Total and used bytes from `/proc/meminfo`.
pub(crate) fn parse_meminfo(text: &str) -> Option<(u64, u64)> {
    let mut total = None;
    let mut available = None;
    let mut free_buffers_cached = [None; 3];
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let slot = match key {
            "MemTotal" => &mut total,
            "MemAvailable" => &mut available,
            "MemFree" => &mut free_buffers_cached[0],
            "Buffers" => &mut free_buffers_cached[1],
            "Cached" => &mut free_buffers_cached[2],
            _ => continue,
        };
        // Values are in kibibytes ("MemTotal:  16318032 kB").
        *slot = rest
            .split_ascii_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .map(|kib| kib.saturating_mul(1024));
        // These five are the first lines of the file: skip the other fifty.
        if total.is_some() && available.is_some() && free_buffers_cached.iter().all(Option::is_some)
        {
            break;
        }
    }
    let total = total?;
    // MemAvailable (Linux ≥ 3.14) is what the owner could still use; before it existed,
    // free + buffers + page cache was the usual estimate.
    let available = available.or_else(|| {
        free_buffers_cached
            .iter()
            .try_fold(0u64, |sum, part| Some(sum.saturating_add((*part)?)))
    })?;
    Some((total, total.saturating_sub(available)))
}

/// Resident pages from `/proc/<pid>/statm` (its second field).
pub(crate) fn parse_statm_resident_pages(text: &str) -> Option<u64> {
    text.split_ascii_whitespace().nth(1)?.parse().ok()
}

/// Linux memory source reading procfs.
pub struct ProcfsMemory {
    proc_root: PathBuf,
    page_size: u64,
    buffer: String,
}

impl ProcfsMemory {
    /// Reads the real `/proc`.
    pub fn new() -> Self {
        Self::with_proc_root("/proc", system_page_size())
    }

    /// Reads `<proc_root>/meminfo` and `<proc_root>/self/statm` (tests use fixtures).
    pub fn with_proc_root(proc_root: impl Into<PathBuf>, page_size: u64) -> Self {
        Self {
            proc_root: proc_root.into(),
            page_size,
            buffer: String::new(),
        }
    }
}

impl Default for ProcfsMemory {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(unix)]
fn system_page_size() -> u64 {
    // SAFETY: sysconf only reads a constant of the running system.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as u64 } else { 4096 }
}

#[cfg(not(unix))]
fn system_page_size() -> u64 {
    4096
}

impl MemorySource for ProcfsMemory {
    fn read(&mut self) -> Option<MemoryUsage> {
        read_into(&self.proc_root.join("meminfo"), &mut self.buffer)?;
        let (total_bytes, used_bytes) = parse_meminfo(&self.buffer)?;
        // Our own size is a detail: if only it is unreadable, still report the machine.
        let idleshare_bytes = read_into(&self.proc_root.join("self/statm"), &mut self.buffer)
            .and_then(|()| parse_statm_resident_pages(&self.buffer))
            .map_or(0, |pages| pages.saturating_mul(self.page_size));
        Some(MemoryUsage {
            total_bytes,
            used_bytes,
            idleshare_bytes,
        })
    }

    fn name(&self) -> &'static str {
        "procfs"
    }
}

/// Portable memory source over sysinfo.
pub struct SysinfoMemory {
    system: System,
    own_pid: Pid,
}

impl SysinfoMemory {
    /// `None` when sysinfo cannot read memory or our pid on this OS.
    pub fn new() -> Option<Self> {
        let kind = RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram());
        Some(Self {
            system: System::new_with_specifics(kind).ok()?,
            own_pid: sysinfo::get_current_pid().ok()?,
        })
    }
}

impl MemorySource for SysinfoMemory {
    fn read(&mut self) -> Option<MemoryUsage> {
        self.system
            .refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[self.own_pid]),
            false,
            ProcessRefreshKind::nothing().with_memory(),
        );
        let total_bytes = self.system.total_memory();
        if total_bytes == 0 {
            return None;
        }
        Some(MemoryUsage {
            total_bytes,
            used_bytes: self.system.used_memory(),
            idleshare_bytes: self.system.process(self.own_pid).map_or(0, |p| p.memory()),
        })
    }

    fn name(&self) -> &'static str {
        "sysinfo"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO: &str = "\
MemTotal:        8000000 kB
MemFree:         1000000 kB
MemAvailable:    6000000 kB
Buffers:          100000 kB
Cached:          2000000 kB
";

    #[test]
    fn meminfo_used_is_total_minus_available() {
        assert_eq!(
            parse_meminfo(MEMINFO),
            Some((8_000_000 * 1024, 2_000_000 * 1024))
        );
    }

    #[test]
    fn old_kernels_without_memavailable_use_free_buffers_and_cache() {
        let old = "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 350 kB\n";
        assert_eq!(parse_meminfo(old), Some((1000 * 1024, 500 * 1024)));
    }

    #[test]
    fn garbage_meminfo_is_none() {
        assert_eq!(parse_meminfo(""), None);
        assert_eq!(parse_meminfo("MemTotal: lots\n"), None);
        assert_eq!(parse_meminfo("MemTotal: 1000 kB\n"), None);
    }

    #[test]
    fn statm_second_field_is_resident_pages() {
        assert_eq!(
            parse_statm_resident_pages("5000 1200 300 10 0 900 0\n"),
            Some(1200)
        );
        assert_eq!(parse_statm_resident_pages("5000"), None);
    }

    #[test]
    fn procfs_source_reads_fixture_and_survives_missing_statm() {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::write(root.path().join("meminfo"), MEMINFO).expect("write");
        let mut source = ProcfsMemory::with_proc_root(root.path(), 4096);
        let usage = source.read().expect("reads");
        assert_eq!(usage.idleshare_bytes, 0);
        std::fs::create_dir(root.path().join("self")).expect("mkdir");
        std::fs::write(root.path().join("self/statm"), "10 3 1 0 0 2 0").expect("write");
        assert_eq!(source.read().expect("reads").idleshare_bytes, 3 * 4096);
    }

    #[test]
    fn real_sources_agree_that_we_use_some_memory() {
        let procfs = ProcfsMemory::new().read();
        let sysinfo = SysinfoMemory::new().and_then(|mut s| s.read());
        for usage in [procfs, sysinfo].into_iter().flatten() {
            assert!(usage.total_bytes > 0);
            assert!(usage.used_bytes <= usage.total_bytes);
            assert!(usage.idleshare_bytes > 0, "{usage:?}");
        }
    }
}
