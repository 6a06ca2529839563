//! `idleshare bench sample`: what the node's once-a-second monitor sample costs here.
//!
//! The monitor runs over this machine's real sources, the desktop ones detected as the node
//! detects them (X11, logind, or none). First whole samples are timed back to back, then
//! each source's read on its own, so a slow source shows by name. Every figure is the mean
//! per round over `--rounds` rounds: a single read takes microseconds, below what one
//! timing could resolve.

use std::time::Instant;

use anyhow::Context;
use idleshare_base::clock::unix_ms;
use idleshare_node::monitor::desktop::{detect_fullscreen_source, detect_input_idle_source};
use idleshare_node::monitor::{MonitorSources, ResourceMonitor};
use serde_json::json;

use super::stats::print_json_line;
use crate::args::SampleBenchArgs;

/// The node samples once a second: a sample costing more than this share of it is too much.
const GOAL_SAMPLE_US: f64 = 1000.0;

/// The mean cost of one read of one source.
struct SourceCost {
    reading: &'static str,
    source: &'static str,
    micros: f64,
}

pub async fn run(args: SampleBenchArgs) -> anyhow::Result<()> {
    // The sources block (files, NVML, X11): off the runtime threads, like the node's loop.
    tokio::task::spawn_blocking(move || run_blocking(args))
        .await
        .context("the benchmark thread failed")?
}

fn run_blocking(args: SampleBenchArgs) -> anyhow::Result<()> {
    let rounds = args.rounds;
    let mut monitor =
        ResourceMonitor::system(detect_input_idle_source(), detect_fullscreen_source());
    println!("bench sample: the node monitor's sample, mean of {rounds} rounds each");
    let now = unix_ms();
    let started = Instant::now();
    for round in 0..rounds {
        std::hint::black_box(monitor.sample(now + u64::from(round)));
    }
    let sample_us = micros_per_round(started, rounds);
    drop(monitor);

    let sources = MonitorSources::system(detect_input_idle_source(), detect_fullscreen_source());
    let costs = source_costs(sources, rounds);
    println!("  whole sample:  {sample_us:>9.1} µs");
    for cost in &costs {
        println!(
            "  {:<13} {:>9.1} µs  ({})",
            format!("{}:", cost.reading),
            cost.micros,
            cost.source
        );
    }
    println!(
        "  goal: a sample ≤ {GOAL_SAMPLE_US:.0} µs (0.1 % of the 1 s interval): {}",
        if sample_us <= GOAL_SAMPLE_US {
            "met"
        } else {
            "NOT met"
        }
    );
    let per_source: serde_json::Map<String, serde_json::Value> = costs
        .iter()
        .map(|cost| {
            let figures = json!({ "source": cost.source, "us": round1(cost.micros) });
            (cost.reading.to_owned(), figures)
        })
        .collect();
    print_json_line(&json!({
        "bench": "sample",
        "rounds": rounds,
        "sample_us": round1(sample_us),
        "sources": per_source,
        "goal_sample_us": GOAL_SAMPLE_US,
    }));
    Ok(())
}

/// Times `rounds` reads of each source in turn.
fn source_costs(mut s: MonitorSources, rounds: u32) -> Vec<SourceCost> {
    fn time<T>(rounds: u32, mut read: impl FnMut() -> T) -> f64 {
        let started = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(read());
        }
        micros_per_round(started, rounds)
    }
    let cost = |reading, source, micros| SourceCost {
        reading,
        source,
        micros,
    };
    vec![
        cost("cpu", s.cpu.name(), time(rounds, || s.cpu.read())),
        cost("memory", s.memory.name(), time(rounds, || s.memory.read())),
        cost("gpu", s.gpu.name(), time(rounds, || s.gpu.read())),
        cost(
            "battery",
            s.battery.name(),
            time(rounds, || s.battery.read()),
        ),
        cost(
            "temperature",
            s.temperature.name(),
            time(rounds, || s.temperature.read()),
        ),
        cost(
            "network",
            s.network.name(),
            time(rounds, || s.network.read()),
        ),
        cost(
            "fullscreen",
            s.fullscreen.name(),
            time(rounds, || s.fullscreen.read()),
        ),
        cost(
            "input_idle",
            s.input_idle.name(),
            time(rounds, || s.input_idle.read()),
        ),
        cost("names", "-", time(rounds, || s.names())),
    ]
}

fn micros_per_round(started: Instant, rounds: u32) -> f64 {
    started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds.max(1))
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}
