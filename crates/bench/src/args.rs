//! The command line of each benchmark (`idleshare bench NAME --option …`).

use clap::{Args, Subcommand};

/// One benchmark and its options.
#[derive(Debug, Subcommand)]
pub enum Bench {
    /// Node process start → registered, over loopback.
    Register(RegisterBenchArgs),
    /// A coordinator holding many node sessions: memory per session, heartbeat latency.
    Sessions(SessionsBenchArgs),
    /// Owner input → contributed work off the CPU (Xvfb + xdotool), and pause_now → off.
    Yield(YieldBenchArgs),
    /// A paused headless node: its CPU and memory cost while it only watches.
    Overhead(OverheadBenchArgs),
    /// The coordinator's assign → result → validate → credit path with its SQLite store.
    Coordinator(CoordinatorBenchArgs),
    /// The sample kernels natively vs in the WebAssembly sandbox (same source, same output).
    Wasm(WasmBenchArgs),
    /// pause_now() → a running WebAssembly unit stops executing.
    Pause(PauseBenchArgs),
    /// The edge cache over loopback QUIC: verified serving vs raw quinn, cache-hit time to
    /// first byte, many concurrent clients.
    Cache(CacheBenchArgs),
    /// The node monitor's sample: the cost of one whole sample and of each source.
    Sample(SampleBenchArgs),
}

/// Options of `bench register`.
#[derive(Debug, Args)]
pub struct RegisterBenchArgs {
    /// Number of node starts to time.
    #[arg(long, default_value_t = 30)]
    pub trials: usize,
}

/// Options of `bench sessions`.
#[derive(Debug, Args)]
pub struct SessionsBenchArgs {
    /// Simulated node sessions to hold open.
    #[arg(long, default_value_t = 1000)]
    pub nodes: usize,
    /// Seconds of steady-state heartbeats to measure.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Heartbeat interval the coordinator asks for, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub heartbeat_ms: u64,
}

/// Options of `bench yield`.
#[derive(Debug, Args)]
pub struct YieldBenchArgs {
    /// Number of input events to time (and as many direct pauses for the baseline).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub trials: u64,
    /// Worker threads burning CPU during each trial.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub workers: u64,
}

/// Options of `bench overhead`.
#[derive(Debug, Args)]
pub struct OverheadBenchArgs {
    /// Seconds to measure the paused node.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
}

/// Options of `bench wasm`.
#[derive(Debug, Args)]
pub struct WasmBenchArgs {
    /// Timed runs of each kernel on each side (the median is compared).
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub reps: u64,
}

/// Options of `bench pause`.
#[derive(Debug, Args)]
pub struct PauseBenchArgs {
    /// Pauses to time.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub trials: u64,
}

/// Options of `bench cache`.
#[derive(Debug, Args)]
pub struct CacheBenchArgs {
    /// MiB of content sent each way for the throughput comparison.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub mib: u64,
    /// Timed transfers of each kind (alternated; medians compared).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub reps: u64,
    /// One-group range requests timed to their answer header.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub ttfb_requests: u64,
    /// Clients fetching at once, each on its own connection with its own key.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=500))]
    pub clients: u64,
}

/// Options of `bench coordinator`.
#[derive(Debug, Args)]
pub struct CoordinatorBenchArgs {
    /// Units to settle (replication 2: two results and two receipts each).
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub units: u64,
    /// Simulated nodes (in-process tasks).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(2..=10_000))]
    pub nodes: u64,
    /// Units each node runs at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub slots: u32,
}

/// Options of `bench sample`.
#[derive(Debug, Args)]
pub struct SampleBenchArgs {
    /// Samples (and reads of each source) to time; the mean per round is reported.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rounds: u32,
}
