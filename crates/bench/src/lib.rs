//! The benchmarks behind `idleshare bench NAME`: each prints readable figures and ends with
//! one JSON line (the results object, for scripts to compare runs).
//!
//! A library, not part of the product: the `idleshare` binary links it behind its default-on
//! `bench` feature and hands the parsed [`Bench`] to [`run`]. Some benchmarks start
//! `idleshare node` or `idleshare coordinator` processes from the running executable, so
//! [`run`] is meant to be called from the `idleshare` binary itself.
#![deny(missing_docs)]

mod args;
mod cache_bench;
mod coordinator;
mod coordinator_child;
mod overhead;
mod pause_bench;
mod process;
mod register;
mod sample_bench;
mod sessions;
mod sim_session;
mod stats;
mod wasm_bench;
mod yield_bench;

pub use args::*;

/// Runs one benchmark to the end, printing its figures and its JSON line on stdout.
pub async fn run(bench: Bench) -> anyhow::Result<()> {
    match bench {
        Bench::Register(args) => register::run(args).await,
        Bench::Sessions(args) => sessions::run(args).await,
        Bench::Yield(args) => yield_bench::run(args).await,
        Bench::Overhead(args) => overhead::run(args).await,
        Bench::Coordinator(args) => coordinator::run(args).await,
        Bench::Wasm(args) => wasm_bench::run(args).await,
        Bench::Pause(args) => pause_bench::run(args).await,
        Bench::Cache(args) => cache_bench::run(args).await,
        Bench::Sample(args) => sample_bench::run(args).await,
    }
}
