//! `idleshare bench NAME`: benchmarks that print readable figures and end with one JSON line.

mod cache_bench;
mod coordinator;
mod coordinator_child;
mod overhead;
mod pause_bench;
mod process;
mod register;
mod sessions;
mod sim_session;
mod stats;
mod wasm_bench;
mod yield_bench;

use crate::cli::Bench;

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
    }
}
