//! `idleshare bench pause`: `pause_now()` → a running WebAssembly unit stops executing.
//!
//! One long unit (the sample SHA-256 chain, effectively endless) runs as a `WasmUnit` on a
//! real one-worker `WorkExecutor`. Each trial resumes the executor, waits until the unit is
//! stepping again, lets it run a random 2–20 ms (so the pause lands at any phase of an epoch
//! tick), then calls `pause_now()`. A thin wrapper around the unit stamps the end of every
//! slice; once no slice has ended for a while, the worker has stopped, and the trial's
//! latency is the last slice end minus the pause call. The executor's semantics are
//! unchanged: the wrapper only reads the clock after each real slice.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use idleshare_node::executor::{ExecutorConfig, SliceOutcome, WasmUnit, WorkExecutor, WorkSlice};
use idleshare_protocol::job::{MAX_FUEL, MAX_WALL_MS};
use idleshare_protocol::{Budget, ContentId, JobLimits};
use idleshare_sandbox::{Sandbox, SandboxConfig};
use rand::Rng;
use serde_json::json;
use workload_kernels::sha256;

use super::stats::{Summary, ms, print_json_line};
use crate::args::PauseBenchArgs;

const SHA256_WASM: &[u8] = include_bytes!("../../../assets/workloads/wasm/sha256_chain.wasm");
const GOAL_P99: Duration = Duration::from_millis(50);
/// No slice for this long after the pause: the worker has stopped (a slice is ~1 ms).
const QUIET_FOR: Duration = Duration::from_millis(15);
const TRIAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Slice count and the end of the latest slice (nanoseconds after `origin`).
struct SliceClock {
    origin: Instant,
    slices: AtomicU64,
    last_end_ns: AtomicU64,
}

impl SliceClock {
    fn last_end(&self) -> Instant {
        self.origin + Duration::from_nanos(self.last_end_ns.load(Ordering::Acquire))
    }
}

/// The real unit, stamping each slice's end.
struct StampedUnit {
    unit: WasmUnit,
    clock: Arc<SliceClock>,
}

impl WorkSlice for StampedUnit {
    fn run_slice(&mut self) -> SliceOutcome {
        let outcome = self.unit.run_slice();
        let ended = self.clock.origin.elapsed().as_nanos() as u64;
        self.clock.last_end_ns.store(ended, Ordering::Release);
        self.clock.slices.fetch_add(1, Ordering::AcqRel);
        outcome
    }
}

pub async fn run(args: PauseBenchArgs) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || run_blocking(args))
        .await
        .context("the benchmark thread failed")?
}

fn run_blocking(args: PauseBenchArgs) -> anyhow::Result<()> {
    let sandbox = Sandbox::new(SandboxConfig::default()).context("cannot start the sandbox")?;
    let module = sandbox
        .load(ContentId::of(SHA256_WASM), SHA256_WASM, "run")
        .context("cannot load sha256_chain.wasm")?;
    let executor = WorkExecutor::start(ExecutorConfig {
        // A benchmark run from a terminal must not lower the terminal's session.
        lower_session_autogroup: false,
        ..ExecutorConfig::new(1)
    })?;
    let clock = Arc::new(SliceClock {
        origin: Instant::now(),
        slices: AtomicU64::new(0),
        last_end_ns: AtomicU64::new(0),
    });
    let limits = JobLimits {
        fuel: MAX_FUEL,
        wall_ms: MAX_WALL_MS,
        ..JobLimits::default()
    };
    let input = sha256::encode_chain_input([7; 32], u64::MAX).to_vec();
    let run = sandbox.start(&module, "run", input, limits);
    let unit = WasmUnit::new(run, Box::new(|_| {}));
    executor.submit(Box::new(StampedUnit {
        unit,
        clock: clock.clone(),
    }))?;
    println!(
        "bench pause: pause_now() → the worker stops stepping a wasm unit ({} trials, {:?} epoch ticks, worker priority {:?})",
        args.trials,
        SandboxConfig::default().epoch_tick,
        executor.worker_priority()
    );

    let load_before = load_average();
    let mut latencies = Vec::with_capacity(args.trials as usize);
    let mut rng = rand::rng();
    for _ in 0..args.trials {
        latencies.push(trial(&executor, &clock, rng.random_range(2_000..20_000))?);
    }
    let slices = clock.slices.load(Ordering::Acquire);
    drop(executor);

    let summary = Summary::of(&latencies).context("no trials")?;
    let load_after = load_average();
    println!("  pause → stopped: {}", summary.line());
    println!(
        "  load average (1 min) {load_before:.2} → {load_after:.2}: the worker runs at the lowest \
         priority, so other busy processes stretch its slices"
    );
    println!(
        "  {slices} slices in all; goal p99 ≤ {} ms: {}",
        GOAL_P99.as_millis(),
        if summary.p99 <= GOAL_P99 {
            "met"
        } else {
            "NOT met"
        }
    );
    print_json_line(&json!({
        "p50_ms": ms(summary.p50),
        "p99_ms": ms(summary.p99),
        "min_ms": ms(summary.min),
        "max_ms": ms(summary.max),
        "trials": summary.count,
        "epoch_tick_ms": ms(SandboxConfig::default().epoch_tick),
        "goal_p99_ms": ms(GOAL_P99),
        "load_average_1m": load_after,
    }));
    Ok(())
}

/// The 1-minute load average (Linux); 0 where unknown.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// One resume → run → pause → stopped cycle; the latency from the pause call to the end of
/// the last slice (zero when that slice ended before the call took effect).
fn trial(executor: &WorkExecutor, clock: &SliceClock, run_us: u64) -> anyhow::Result<Duration> {
    let before = clock.slices.load(Ordering::Acquire);
    executor.set_budget(Some(Budget {
        cores: 1,
        cpu_percent: 100,
        ..Budget::default()
    }));
    let deadline = Instant::now() + TRIAL_TIMEOUT;
    while clock.slices.load(Ordering::Acquire) == before {
        if Instant::now() > deadline {
            bail!("the unit did not resume within {TRIAL_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    std::thread::sleep(Duration::from_micros(run_us));
    let paused_at = Instant::now();
    executor.pause_now();
    loop {
        let count = clock.slices.load(Ordering::Acquire);
        std::thread::sleep(QUIET_FOR);
        if clock.slices.load(Ordering::Acquire) == count {
            break;
        }
        if Instant::now() > deadline {
            bail!("the worker did not stop within {TRIAL_TIMEOUT:?} of the pause");
        }
    }
    Ok(clock.last_end().saturating_duration_since(paused_at))
}
