//! `idleshare bench wasm`: the sample kernels natively vs in the sandbox, same source.
//!
//! The native side calls `workload-kernels` (compiled at opt-level 3 in every profile); the
//! sandbox side runs the committed `assets/workloads/wasm` modules built from the same
//! kernels, under the real configuration: fuel metering, 1 ms epoch ticks with async yields,
//! pooled instances. Each repetition times one whole unit (instantiate, copy in, run, copy
//! out; compilation is done once beforehand). Outputs must be byte-identical, or the bench
//! fails. Speeds are compared by the median of the repetitions.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use idleshare_protocol::{ContentId, JobLimits};
use idleshare_sandbox::{RunOutcome, Sandbox, SandboxConfig};
use serde_json::json;
use workload_kernels::mandelbrot::Tile;
use workload_kernels::sha256;

use super::stats::{Summary, ms, print_json_line};
use crate::args::WasmBenchArgs;

const MANDELBROT_WASM: &[u8] = include_bytes!("../../../assets/workloads/wasm/mandelbrot.wasm");
const SHA256_WASM: &[u8] = include_bytes!("../../../assets/workloads/wasm/sha256_chain.wasm");
const GOAL_RATIO: f64 = 0.85;

/// One kernel on one input, both ways.
struct Kernel {
    name: &'static str,
    module: &'static [u8],
    input: Vec<u8>,
    native: fn(&[u8]) -> Vec<u8>,
}

/// Median times of both sides and the wasm speed relative to native.
struct Comparison {
    name: &'static str,
    native: Summary,
    wasm: Summary,
    fuel: u64,
}

impl Comparison {
    /// Wasm speed ÷ native speed (= native time ÷ wasm time).
    fn ratio(&self) -> f64 {
        let ratio = self.native.p50.as_secs_f64() / self.wasm.p50.as_secs_f64().max(1e-9);
        (ratio * 1000.0).round() / 1000.0
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "kernel": self.name,
            "ratio_vs_native": self.ratio(),
            "native_ms": ms(self.native.p50),
            "wasm_ms": ms(self.wasm.p50),
            "native_best_ms": ms(self.native.min),
            "wasm_best_ms": ms(self.wasm.min),
            "fuel": self.fuel,
        })
    }
}

pub async fn run(args: WasmBenchArgs) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || run_blocking(args))
        .await
        .context("the benchmark thread failed")?
}

fn run_blocking(args: WasmBenchArgs) -> anyhow::Result<()> {
    let sandbox = Sandbox::new(SandboxConfig::default()).context("cannot start the sandbox")?;
    println!(
        "bench wasm: native kernels vs the sandbox (fuel on, 1 ms epoch yields), median of {} runs",
        args.reps
    );
    let comparisons = kernels()
        .iter()
        .map(|kernel| compare(&sandbox, kernel, args.reps as usize))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for comparison in &comparisons {
        println!(
            "  {:<13} native {:>8.2} ms   wasm {:>8.2} ms   wasm speed = {:.3} × native",
            comparison.name,
            ms(comparison.native.p50),
            ms(comparison.wasm.p50),
            comparison.ratio()
        );
    }
    let headline = &comparisons[0];
    let worst = comparisons
        .iter()
        .map(Comparison::ratio)
        .fold(f64::INFINITY, f64::min);
    println!(
        "goal: wasm ≥ {GOAL_RATIO} × native: {} (worst kernel {worst:.3})",
        if worst >= GOAL_RATIO {
            "met"
        } else {
            "NOT met"
        }
    );
    let mut results = headline.json();
    results["goal_ratio"] = json!(GOAL_RATIO);
    results["worst_ratio"] = json!(worst);
    results["reps"] = json!(args.reps);
    results["kernels"] = comparisons.iter().map(Comparison::json).collect();
    print_json_line(&results);
    Ok(())
}

fn kernels() -> [Kernel; 2] {
    let tile = Tile {
        width: 640,
        height: 480,
        max_iterations: 1000,
        re_min: -2.2,
        im_min: -1.2,
        step: 2.4 / 480.0,
    };
    [
        Kernel {
            name: "mandelbrot",
            module: MANDELBROT_WASM,
            input: tile.encode().to_vec(),
            native: |input| {
                let tile = Tile::parse(input).expect("valid tile");
                let mut out = vec![0; tile.output_len()];
                tile.render(&mut out);
                out
            },
        },
        Kernel {
            name: "sha256_chain",
            module: SHA256_WASM,
            input: sha256::encode_chain_input([0x42; 32], 500_000).to_vec(),
            native: |input| {
                let (seed, rounds) = sha256::parse_chain_input(input).expect("valid input");
                sha256::chain(seed, rounds).to_vec()
            },
        },
    ]
}

/// Alternates native and wasm runs, so a change in machine load hits both alike.
fn compare(sandbox: &Sandbox, kernel: &Kernel, reps: usize) -> anyhow::Result<Comparison> {
    let module = sandbox
        .load(ContentId::of(kernel.module), kernel.module, "run")
        .with_context(|| format!("cannot load {}.wasm", kernel.name))?;
    let limits = JobLimits {
        fuel: idleshare_protocol::job::MAX_FUEL,
        output_bytes: 16 << 20,
        ..JobLimits::default()
    };
    let (mut native_times, mut wasm_times) = (Vec::new(), Vec::new());
    let mut fuel = 0;
    for _ in 0..reps {
        let started = Instant::now();
        let native = (kernel.native)(std::hint::black_box(&kernel.input));
        native_times.push(started.elapsed());

        let started = Instant::now();
        let outcome = sandbox
            .start(&module, "run", kernel.input.clone(), limits)
            .run_to_end();
        wasm_times.push(started.elapsed());
        let RunOutcome::Output { bytes, fuel: used } = outcome else {
            bail!("{} failed in the sandbox: {outcome:?}", kernel.name);
        };
        if bytes != native {
            bail!(
                "{}: the wasm output differs from the native output",
                kernel.name
            );
        }
        fuel = used;
    }
    Ok(Comparison {
        name: kernel.name,
        native: summary(&native_times)?,
        wasm: summary(&wasm_times)?,
        fuel,
    })
}

fn summary(samples: &[Duration]) -> anyhow::Result<Summary> {
    Summary::of(samples).context("no repetitions")
}
