//! `idleshare bench NAME`: benchmarks that print readable figures and end with one JSON line.

use crate::cli::Bench;

pub async fn run(bench: Bench) -> anyhow::Result<()> {
    match bench {
        Bench::Register(_) | Bench::Sessions(_) => anyhow::bail!("not yet implemented"),
    }
}
