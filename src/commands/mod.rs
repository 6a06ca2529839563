//! Dispatch of each subcommand to its library calls.

mod coordinator;
mod devnet;
mod node;
mod node_status;

use std::path::PathBuf;

use anyhow::Context;

use crate::cli::{Cli, Command, NodeAction};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Node(node) => match node.action {
            // Identity only: no runtime needed, and the keychain is used synchronously.
            Some(NodeAction::Id(args)) => node::print_id(args),
            Some(NodeAction::Status(args)) => node_status::print(args),
            None => runtime()?.block_on(node::run(node.run)),
        },
        Command::Coordinator(args) => runtime()?.block_on(coordinator::run(args)),
        Command::Devnet(args) => runtime()?.block_on(devnet::run(args)),
        Command::Bench(bench) => runtime()?.block_on(crate::bench::run(bench.bench)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The per-user data directory for `role` (`node`, `coordinator`, `devnet`), unless given.
pub fn data_dir(given: Option<PathBuf>, role: &str) -> anyhow::Result<PathBuf> {
    if let Some(dir) = given {
        return Ok(dir);
    }
    let dirs = directories::ProjectDirs::from("org", "Idleshare", "idleshare")
        .context("cannot find a home directory for the default data dir; pass --data DIR")?;
    Ok(dirs.data_local_dir().join(role))
}

/// Resolves when the process is asked to stop (Ctrl-C, or SIGTERM on Unix).
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
