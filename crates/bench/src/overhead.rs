//! `idleshare bench overhead`: what a paused headless node costs while it only watches.
//!
//! A coordinator child and a node child (contributing switched off in its settings, so the
//! node samples, decides "paused" and heartbeats, and nothing else). After a warm-up the
//! node's CPU time is read from the per-thread scheduler counters
//! (`/proc/PID/task/*/schedstat`, nanoseconds) at the start and end of the window, so the
//! figure has nanosecond resolution instead of the 10 ms of clock ticks. The coordinator's
//! CPU over the same window is printed beside it as the same-run reference.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use idleshare_node::ConnectionState;
use idleshare_node::status_file::read_status_file;
use tokio::process::Command;

use super::coordinator_child::CoordinatorChild;
use super::process::{ScratchDir, terminate};
use super::stats::print_json_line;
use crate::args::OverheadBenchArgs;

const GOAL_CPU_PERCENT: f64 = 0.05;
const GOAL_RSS_MB: f64 = 15.0;
/// Start-up work (identity, first samples, bandwidth test) settles within this.
const WARM_UP: Duration = Duration::from_secs(5);

pub async fn run(args: OverheadBenchArgs) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the idleshare binary")?;
    let scratch = ScratchDir::new("overhead")?;
    let coordinator = CoordinatorChild::start(&exe, &scratch.path().join("c"), 2000, 10).await?;
    let settings = scratch.path().join("settings.toml");
    std::fs::write(&settings, "[contribution]\nenabled = false\n")?;
    let data = scratch.path().join("node");
    let mut node = Command::new(&exe)
        .args(["node", "--key-store", "file", "--coordinator"])
        .arg(coordinator.address.to_string())
        .arg("--data")
        .arg(&data)
        .arg("--settings")
        .arg(&settings)
        .env("RUST_LOG", "warn")
        .env_remove("DISPLAY")
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start the node")?;
    let pid = node.id().context("node exited at once")?;
    wait_registered(&data).await?;
    println!(
        "bench overhead: paused headless node (pid {pid}), {} s after a {} s warm-up",
        args.seconds,
        WARM_UP.as_secs()
    );
    tokio::time::sleep(WARM_UP).await;

    let (node_before, coordinator_before) = (thread_cpu(pid)?, thread_cpu(coordinator.pid)?);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let elapsed = started.elapsed();
    let (node_after, coordinator_after) = (thread_cpu(pid)?, thread_cpu(coordinator.pid)?);
    let memory = memory_kib(pid)?;
    terminate(&mut node, Duration::from_secs(10)).await?;
    coordinator.stop().await?;

    let node_cpu = percent(total(&node_after) - total(&node_before), elapsed);
    let coordinator_cpu = percent(
        total(&coordinator_after) - total(&coordinator_before),
        elapsed,
    );
    let rss_mb = memory.rss as f64 / 1024.0;
    println!("node CPU: {node_cpu:.4} % of one core (goal ≤ {GOAL_CPU_PERCENT} %)");
    println!(
        "node RSS: {rss_mb:.1} MB (goal ≤ {GOAL_RSS_MB} MB); anonymous {:.1} MB, file-backed {:.1} MB, peak {:.1} MB",
        memory.anon as f64 / 1024.0,
        memory.file as f64 / 1024.0,
        memory.peak as f64 / 1024.0
    );
    println!("reference, coordinator CPU over the same window: {coordinator_cpu:.4} %");
    println!("node CPU by thread:");
    for (name, ns) in per_thread_delta(&node_before, &node_after) {
        println!("  {name:<24} {:.4} %", percent(ns, elapsed));
    }
    if node_cpu > GOAL_CPU_PERCENT || rss_mb > GOAL_RSS_MB {
        println!("goal missed: see the per-thread CPU and the anonymous/file-backed split above");
    }
    print_json_line(&serde_json::json!({
        "bench": "overhead",
        "seconds": elapsed.as_secs_f64(),
        "cpu_percent": round(node_cpu),
        "rss_mb": round(rss_mb),
        "rss_anon_mb": round(memory.anon as f64 / 1024.0),
        "coordinator_cpu_percent": round(coordinator_cpu),
        "goal_cpu_percent": GOAL_CPU_PERCENT,
        "goal_rss_mb": GOAL_RSS_MB,
    }));
    Ok(())
}

async fn wait_registered(data: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(file) = read_status_file(data)
            && file.status.connection == ConnectionState::Registered
        {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the node did not register in 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Nanoseconds on CPU per thread (keyed "name/tid"), from `/proc/PID/task/*/schedstat`.
fn thread_cpu(pid: u32) -> anyhow::Result<BTreeMap<String, u64>> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .with_context(|| format!("cannot read the threads of process {pid} (Linux only)"))?;
    let mut threads = BTreeMap::new();
    for task in tasks.flatten() {
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let Ok(schedstat) = std::fs::read_to_string(path.join("schedstat")) else {
            continue; // the thread ended between listing and reading
        };
        let on_cpu: u64 = schedstat
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let key = format!("{}/{}", name.trim(), task.file_name().to_string_lossy());
        threads.insert(key, on_cpu);
    }
    Ok(threads)
}

fn total(threads: &BTreeMap<String, u64>) -> u64 {
    threads.values().sum()
}

/// Per-thread CPU over the window, grouped by thread name, busiest first.
fn per_thread_delta(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> Vec<(String, u64)> {
    let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
    for (key, ns) in after {
        let name = key.rsplit_once('/').map_or(key.as_str(), |(name, _)| name);
        let spent = ns.saturating_sub(before.get(key).copied().unwrap_or(0));
        *by_name.entry(name.to_owned()).or_default() += spent;
    }
    let mut rows: Vec<(String, u64)> = by_name.into_iter().collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.1));
    rows
}

fn percent(ns: u64, elapsed: Duration) -> f64 {
    ns as f64 / elapsed.as_nanos().max(1) as f64 * 100.0
}

fn round(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

struct Memory {
    rss: u64,
    anon: u64,
    file: u64,
    peak: u64,
}

/// Resident memory in KiB from `/proc/PID/status`.
fn memory_kib(pid: u32) -> anyhow::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("cannot read /proc/{pid}/status"))?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Ok(Memory {
        rss: field("VmRSS:"),
        anon: field("RssAnon:"),
        file: field("RssFile:"),
        peak: field("VmHWM:"),
    })
}
