//! Dispatch of each subcommand to its library calls.

mod account;
mod coordinator;
mod devnet;
mod fetch;
mod job;
mod node;
mod node_status;
mod publish;
mod submit;
mod wallet;

use std::path::PathBuf;

use std::sync::Arc;

use anyhow::Context;
use idleshare_node::settings::SettingsStore;

use crate::cli::{Cli, Command, CoordinatorAction, NodeAction, OperatorAccountAction};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Node(node) => match node.action {
            // Identity only: no runtime needed, and the keychain is used synchronously.
            Some(NodeAction::Id(args)) => node::print_id(args),
            Some(NodeAction::Status(args)) => node_status::print(args),
            // A node is idle nearly all the time: one thread avoids cross-thread wake-ups,
            // which dominated its CPU while paused (see `bench overhead`).
            None => single_thread_runtime()?.block_on(node::run(node.run)),
        },
        Command::Coordinator(command) => match command.action {
            Some(CoordinatorAction::Account(account)) => match account.action {
                OperatorAccountAction::Deposit(args) => coordinator::deposit(args),
            },
            Some(CoordinatorAction::Audit(args)) => coordinator::audit(args),
            Some(CoordinatorAction::Nodes(args)) => coordinator::operator_nodes(args),
            None => runtime()?.block_on(coordinator::run(command.run)),
        },
        Command::Account(args) => account::run(args),
        Command::Devnet(args) => runtime()?.block_on(devnet::run(args)),
        Command::Submit(args) => submit::run(args),
        Command::Job(job) => job::run(job.action),
        Command::Publish(args) => publish::run(args),
        Command::Fetch(args) => runtime()?.block_on(fetch::run(args)),
        Command::Wallet(wallet) => wallet::run(wallet),
        #[cfg(feature = "bench")]
        Command::Bench(bench) => runtime()?.block_on(idleshare_bench::run(bench.bench)),
    }
}

fn single_thread_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
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

/// The default settings file: `settings.toml` in the per-user config dir.
pub fn default_settings_path() -> anyhow::Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("org", "Idleshare", "idleshare")
        .context("cannot find a home directory for the settings; pass --settings FILE")?;
    Ok(dirs.config_dir().join("settings.toml"))
}

/// Opens the settings (a bad file is an error naming the key) and keeps following the file:
/// an edit applies while the node runs; an invalid edit is reported and ignored.
pub fn open_settings(path: PathBuf) -> anyhow::Result<Arc<SettingsStore>> {
    let store = SettingsStore::open(&path).context("cannot use the settings")?;
    let store = Arc::new(store);
    tokio::spawn(follow_settings_file(store.clone()));
    Ok(store)
}

async fn follow_settings_file(store: Arc<SettingsStore>) {
    let path = store.path().to_owned();
    SettingsStore::follow_file(
        store,
        std::time::Duration::from_secs(2),
        |outcome| match outcome {
            Ok(true) => eprintln!("settings: reloaded {}", path.display()),
            Ok(false) => {}
            Err(e) => eprintln!("settings: edit ignored, the previous settings stay in force: {e}"),
        },
    )
    .await
}

/// A positive number of seconds from the command line.
pub fn seconds(flag: &str, value: f64) -> anyhow::Result<std::time::Duration> {
    anyhow::ensure!(
        value.is_finite() && value > 0.0,
        "{flag} must be a positive number of seconds, got {value}"
    );
    Ok(std::time::Duration::from_secs_f64(value))
}
