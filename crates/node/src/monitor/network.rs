//! Network throughput sources: byte counters of every interface but loopback, turned into
//! rates from the difference between two reads and the time between them.
//!
//! On Linux [`ProcNetDev`] reads `/proc/net/dev` (one small file for all interfaces);
//! elsewhere [`SysinfoNetwork`] asks sysinfo.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use sysinfo::Networks;

use super::snapshot::{NetworkRates, NetworkSource};
use super::text_file::read_into;

/// Byte counters of one interface since it came up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InterfaceCounters {
    /// Interface name ("eth0", "wlp2s0").
    pub name: String,
    /// Bytes received.
    pub received: u64,
    /// Bytes sent.
    pub sent: u64,
}

/// Whether an interface is the loopback, on Linux ("lo"), BSD and macOS ("lo0") or
/// Windows ("Loopback Pseudo-Interface 1"): its traffic never leaves the machine.
pub(crate) fn is_loopback(name: &str) -> bool {
    name == "lo" || name == "lo0" || name.to_ascii_lowercase().contains("loopback")
}

/// Parses `/proc/net/dev`, leaving out loopback and lines it cannot read.
pub(crate) fn parse_proc_net_dev(text: &str) -> Vec<InterfaceCounters> {
    text.lines()
        .filter_map(|line| {
            // "  eth0: 1234 5 0 0 0 0 0 0 5678 9 ..." — the two header lines have no ':'.
            let (name, fields) = line.split_once(':')?;
            let name = name.trim();
            let mut fields = fields.split_ascii_whitespace();
            // Receive has 8 columns (bytes first), then transmit (bytes first).
            let received = fields.next()?.parse().ok()?;
            let sent = fields.nth(7)?.parse().ok()?;
            (!is_loopback(name)).then(|| InterfaceCounters {
                name: name.to_owned(),
                received,
                sent,
            })
        })
        .collect()
}

/// Rates between two sets of counters taken `elapsed` apart. Interfaces that appeared
/// in between count from zero next time; a counter that went backwards (interface reset)
/// counts as no traffic rather than an absurd rate.
pub(crate) fn rates_between(
    before: &[InterfaceCounters],
    after: &[InterfaceCounters],
    elapsed: Duration,
) -> NetworkRates {
    let (mut received, mut sent) = (0u64, 0u64);
    for now in after {
        if let Some(then) = before.iter().find(|b| b.name == now.name) {
            received = received.saturating_add(now.received.saturating_sub(then.received));
            sent = sent.saturating_add(now.sent.saturating_sub(then.sent));
        }
    }
    NetworkRates {
        download_bytes_per_sec: per_second(received, elapsed),
        upload_bytes_per_sec: per_second(sent, elapsed),
    }
}

/// Bytes per second; zero for a zero interval rather than a division by zero.
pub(crate) fn per_second(bytes: u64, elapsed: Duration) -> u64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        (bytes as f64 / seconds) as u64
    } else {
        0
    }
}

/// Linux network source reading `/proc/net/dev`.
pub struct ProcNetDev {
    path: PathBuf,
    buffer: String,
    previous: Option<(Vec<InterfaceCounters>, Instant)>,
}

impl ProcNetDev {
    /// Reads the real `/proc`. The first [`NetworkSource::read`] reports traffic since now.
    pub fn new() -> Self {
        Self::with_proc_root("/proc")
    }

    /// Reads `<proc_root>/net/dev` (tests point it at fixtures).
    pub fn with_proc_root(proc_root: impl Into<PathBuf>) -> Self {
        let mut source = Self {
            path: proc_root.into().join("net/dev"),
            buffer: String::new(),
            previous: None,
        };
        source.previous = source.read_counters().map(|c| (c, Instant::now()));
        source
    }

    /// Whether the file can be read here (decides between this and [`SysinfoNetwork`]).
    pub fn is_available(&self) -> bool {
        self.previous.is_some()
    }

    fn read_counters(&mut self) -> Option<Vec<InterfaceCounters>> {
        read_into(&self.path, &mut self.buffer)?;
        Some(parse_proc_net_dev(&self.buffer))
    }

    /// Rates since the previous read, as if it were `now` (tests pass their own clock).
    pub(crate) fn read_at(&mut self, now: Instant) -> Option<NetworkRates> {
        let counters = self.read_counters()?;
        let rates = self.previous.as_ref().map(|(before, then)| {
            rates_between(before, &counters, now.saturating_duration_since(*then))
        });
        self.previous = Some((counters, now));
        rates
    }
}

impl Default for ProcNetDev {
    fn default() -> Self {
        Self::new()
    }
}

impl NetworkSource for ProcNetDev {
    fn read(&mut self) -> Option<NetworkRates> {
        self.read_at(Instant::now())
    }

    fn name(&self) -> &'static str {
        "procfs"
    }
}

/// Portable network source over sysinfo.
pub struct SysinfoNetwork {
    networks: Networks,
    previous_read: Instant,
}

impl SysinfoNetwork {
    /// `None` when sysinfo cannot list interfaces on this OS.
    pub fn new() -> Option<Self> {
        Some(Self {
            networks: Networks::new_with_refreshed_list().ok()?,
            previous_read: Instant::now(),
        })
    }
}

impl NetworkSource for SysinfoNetwork {
    fn read(&mut self) -> Option<NetworkRates> {
        // sysinfo keeps per-interface "since the last refresh" deltas itself.
        self.networks.refresh(true);
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.previous_read);
        self.previous_read = now;
        let (mut received, mut sent) = (0u64, 0u64);
        for (_, data) in self
            .networks
            .iter()
            .filter(|(name, _)| !is_loopback(&name.to_string_lossy()))
        {
            received = received.saturating_add(data.received());
            sent = sent.saturating_add(data.transmitted());
        }
        Some(NetworkRates {
            download_bytes_per_sec: per_second(received, elapsed),
            upload_bytes_per_sec: per_second(sent, elapsed),
        })
    }

    fn name(&self) -> &'static str {
        "sysinfo"
    }
}

#[cfg(test)]
#[path = "network_tests.rs"]
mod tests;
