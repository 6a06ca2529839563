//! CPU use sources: the whole machine, each core, and Idleshare's own share.
//!
//! On Linux [`ProcfsCpu`] reads `/proc/stat` and `/proc/self/stat` directly: two small
//! files, about as cheap as a CPU reading can be. Elsewhere [`SysinfoCpu`] asks sysinfo
//! for the CPU usage and for this one process only (never the whole process table).

use std::path::{Path, PathBuf};

use sysinfo::{CpuRefreshKind, Pid, ProcessRefreshKind, ProcessesToUpdate, RefreshKind, System};

use super::snapshot::{CpuSource, CpuUsage};
use super::text_file::read_into;

/// Busy and total time of one CPU line of `/proc/stat`, in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CpuTicks {
    /// Ticks spent doing anything but idling or waiting for IO.
    pub busy: u64,
    /// All ticks.
    pub total: u64,
}

/// Everything one `/proc/stat` line set holds that we use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProcStat {
    /// The aggregate `cpu` line (all cores together).
    pub all: CpuTicks,
    /// The `cpuN` lines, with their core number N.
    pub per_core: Vec<(u32, CpuTicks)>,
}

/// Parses `/proc/stat`; `None` when it has no aggregate `cpu` line.
pub(crate) fn parse_proc_stat(text: &str) -> Option<ProcStat> {
    let mut all = None;
    let mut per_core = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(label) = fields.next().and_then(|l| l.strip_prefix("cpu")) else {
            continue;
        };
        // Fields: user nice system idle iowait irq softirq steal guest guest_nice.
        // guest and guest_nice are already counted in user and nice, so stop at steal.
        let values: Vec<u64> = fields.take(8).map_while(|v| v.parse().ok()).collect();
        if values.len() < 4 {
            continue;
        }
        let total: u64 = values.iter().sum();
        let idle = values[3] + values.get(4).copied().unwrap_or(0);
        let ticks = CpuTicks {
            busy: total.saturating_sub(idle),
            total,
        };
        if label.is_empty() {
            all = Some(ticks);
        } else if let Ok(core) = label.parse() {
            per_core.push((core, ticks));
        }
    }
    Some(ProcStat {
        all: all?,
        per_core,
    })
}

/// Parses `/proc/<pid>/stat` into the process's user + system time in clock ticks,
/// summed over all its threads (the kernel does that summing).
pub(crate) fn parse_process_stat_ticks(text: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may itself hold spaces or ')',
    // so count fields from the last ')'.
    let after_name = &text[text.rfind(')')? + 1..];
    let mut fields = after_name.split_ascii_whitespace();
    // After the name: state is field 3, utime field 14, stime field 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Percentage of `part` in `whole`, clamped to 0–100.
fn percent(part: u64, whole: u64) -> f32 {
    if whole == 0 {
        return 0.0;
    }
    ((part as f64 / whole as f64) * 100.0).clamp(0.0, 100.0) as f32
}

fn busy_percent(before: CpuTicks, after: CpuTicks) -> f32 {
    // Saturating: some kernels let iowait (hence busy) step backwards between reads.
    percent(
        after.busy.saturating_sub(before.busy),
        after.total.saturating_sub(before.total),
    )
}

/// CPU use between two pairs of readings of `/proc/stat` and our own process ticks.
pub(crate) fn usage_between(
    before: &ProcStat,
    before_own: u64,
    after: &ProcStat,
    after_own: u64,
) -> CpuUsage {
    let total_percent = busy_percent(before.all, after.all);
    // Both counters are in the same clock ticks and the aggregate line counts every
    // core, so this is already "share of the whole machine".
    let own_ticks = after_own.saturating_sub(before_own);
    let all_ticks = after.all.total.saturating_sub(before.all.total);
    let idleshare_percent = percent(own_ticks, all_ticks).min(total_percent);
    let per_core_percent = after
        .per_core
        .iter()
        .enumerate()
        .map(|(position, (core, now))| {
            // Match by core number: a core may have gone offline or come back between
            // reads. Usually it sits at the same position, so look there first.
            before
                .per_core
                .get(position)
                .filter(|(c, _)| c == core)
                .or_else(|| before.per_core.iter().find(|(c, _)| c == core))
                .map_or(0.0, |(_, then)| busy_percent(*then, *now))
        })
        .collect();
    CpuUsage {
        cores: after.per_core.len() as u32,
        total_percent,
        idleshare_percent,
        per_core_percent,
    }
}

/// Linux CPU source reading procfs.
pub struct ProcfsCpu {
    proc_root: PathBuf,
    buffer: String,
    previous: Option<(ProcStat, u64)>,
}

impl ProcfsCpu {
    /// Reads the real `/proc`. The first [`CpuSource::read`] reports use since this call.
    pub fn new() -> Self {
        Self::with_proc_root("/proc")
    }

    /// Reads `<proc_root>/stat` and `<proc_root>/self/stat` (tests point it at fixtures).
    pub fn with_proc_root(proc_root: impl Into<PathBuf>) -> Self {
        let mut source = Self {
            proc_root: proc_root.into(),
            buffer: String::new(),
            previous: None,
        };
        source.previous = source.read_counters();
        source
    }

    /// Whether the files can be read here (decides between this and [`SysinfoCpu`]).
    pub fn is_available(&self) -> bool {
        self.previous.is_some()
    }

    fn read_counters(&mut self) -> Option<(ProcStat, u64)> {
        read_into(&self.proc_root.join("stat"), &mut self.buffer)?;
        let stat = parse_proc_stat(&self.buffer)?;
        read_into(
            &self.proc_root.join(Path::new("self/stat")),
            &mut self.buffer,
        )?;
        let own = parse_process_stat_ticks(&self.buffer)?;
        Some((stat, own))
    }
}

impl Default for ProcfsCpu {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuSource for ProcfsCpu {
    fn read(&mut self) -> Option<CpuUsage> {
        let now = self.read_counters()?;
        // With no earlier reading (the first one failed) this call only sets the baseline.
        let usage = self
            .previous
            .as_ref()
            .map(|(stat, own)| usage_between(stat, *own, &now.0, now.1));
        self.previous = Some(now);
        usage
    }

    fn name(&self) -> &'static str {
        "procfs"
    }
}

/// Portable CPU source over sysinfo, refreshing only CPU usage and this process.
pub struct SysinfoCpu {
    system: System,
    own_pid: Pid,
}

impl SysinfoCpu {
    /// `None` when sysinfo cannot read CPUs or our pid on this OS.
    pub fn new() -> Option<Self> {
        let kind = RefreshKind::nothing().with_cpu(CpuRefreshKind::nothing().with_usage());
        let own_pid = sysinfo::get_current_pid().ok()?;
        let mut source = Self {
            system: System::new_with_specifics(kind).ok()?,
            own_pid,
        };
        // Usage is a difference between refreshes: take the baseline now.
        source.refresh_own_process();
        Some(source)
    }

    fn refresh_own_process(&mut self) {
        self.system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[self.own_pid]),
            false,
            ProcessRefreshKind::nothing().with_cpu(),
        );
    }
}

impl CpuSource for SysinfoCpu {
    fn read(&mut self) -> Option<CpuUsage> {
        self.system.refresh_cpu_usage();
        self.refresh_own_process();
        let per_core_percent: Vec<f32> = self.system.cpus().iter().map(|c| c.usage()).collect();
        let cores = per_core_percent.len().max(1) as u32;
        // sysinfo reports a process's usage as a share of one core (up to 100 × cores).
        let own_of_one_core = self
            .system
            .process(self.own_pid)
            .map_or(0.0, |p| p.cpu_usage());
        let total_percent = self.system.global_cpu_usage().clamp(0.0, 100.0);
        Some(CpuUsage {
            cores: per_core_percent.len() as u32,
            total_percent,
            idleshare_percent: (own_of_one_core / cores as f32).clamp(0.0, total_percent),
            per_core_percent,
        })
    }

    fn name(&self) -> &'static str {
        "sysinfo"
    }
}

#[cfg(test)]
#[path = "cpu_tests.rs"]
mod tests;
