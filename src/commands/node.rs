//! `idleshare node` and `idleshare node id`.

use anyhow::Context;
use idleshare_node::cache::CacheConfig;
use idleshare_node::{
    KeychainWaitHook, NodeConfig, NodeStatus, load_or_create_identity, start_node,
};
use tokio::sync::watch;

use crate::cli::{NodeIdArgs, NodeRunArgs};

/// Prints the node id on stdout and where its key is kept on stderr.
pub fn print_id(args: NodeIdArgs) -> anyhow::Result<()> {
    let data_dir = super::data_dir(args.data, "node")?;
    let identity = load_or_create_identity(&data_dir, args.key_store.into())
        .context("cannot load the node identity")?;
    println!("{}", identity.id());
    eprintln!("key storage: {}", identity.storage);
    Ok(())
}

pub async fn run(args: NodeRunArgs) -> anyhow::Result<()> {
    let coordinator = args
        .coordinator
        .context("--coordinator KEY@HOST:PORT is required (printed by `idleshare coordinator`)")?;
    let settings_path = match args.settings {
        Some(path) => path,
        None => super::default_settings_path()?,
    };
    let settings = super::open_settings(settings_path)?;
    let mut config = NodeConfig::new(coordinator, super::data_dir(args.data, "node")?);
    config.key_store = args.key_store.into();
    config.settings = settings.subscribe();
    config.bind_ip = args.bind;
    config.on_keychain_wait = Some(KeychainWaitHook(std::sync::Arc::new(|status| {
        println!("node: {}", status.summary())
    })));
    config.cache = Some(CacheConfig {
        listen: args.cache_listen.0,
        scrub_every: super::seconds("--scrub-secs", args.scrub_secs)?,
        scrub_min_age: super::seconds("--scrub-age-hours", args.scrub_age_hours * 3600.0)?,
        ..CacheConfig::default()
    });
    #[cfg(feature = "test-hooks")]
    make_bad_node(
        &mut config,
        args.test_corrupt_outputs,
        args.test_corrupt_cache,
    );
    #[cfg(feature = "test-hooks")]
    {
        config.inflate_fuel = args.test_inflate_fuel;
        config.hoard_work = args.test_hoard_work;
        if let Some(honest) = args.test_lie_after {
            config.corrupt_outputs_after = Some(honest);
        }
    }
    let node = start_node(config).await.context("cannot start the node")?;
    let status = node.status();
    {
        let current = status.borrow();
        println!("node id: {}", current.node_id);
        println!("key storage: {}", current.key_storage);
        println!("settings: {}", settings.path().display());
    }
    match node.cache().map(|cache| cache.port()) {
        Some(Some(port)) => println!("cache endpoint: UDP port {port}"),
        Some(None) => println!("cache endpoint: off (served through the coordinator's relay)"),
        None => println!("cache: off"),
    }
    tokio::select! {
        _ = print_status_changes(status, "node") => {}
        _ = idleshare_node::stop_requested() => {}
    }
    node.stop().await;
    println!("node: stopped");
    Ok(())
}

/// Test only (the `test-hooks` feature): a node that lies about its outputs and/or serves
/// damaged cache bytes, for the tests of validation and of verified fetching.
#[cfg(feature = "test-hooks")]
fn make_bad_node(config: &mut NodeConfig, corrupt_outputs: bool, corrupt_cache: bool) {
    if corrupt_outputs {
        config.corrupt_outputs_after = Some(0);
    }
    if let Some(cache) = config.cache.as_mut()
        && corrupt_cache
    {
        cache.tamper = idleshare_cache::Tamper::FlipGroups;
    }
}

/// Prints a line whenever the connection state or the contribution decision changes (not
/// merely the heartbeat time or a resource reading).
pub async fn print_status_changes(mut status: watch::Receiver<NodeStatus>, label: &str) {
    let mut last_lines = (String::new(), String::new());
    let mut earnings = EarningsLine::default();
    loop {
        if let Some(line) = earnings.update(&status.borrow()) {
            println!("{label}: {line}");
        }
        let lines = {
            let current = status.borrow_and_update();
            (
                connection_line(&current),
                // The announced activity changes with the outcome, not every reading.
                match current.activity {
                    idleshare_protocol::NodeActivity::Starting => String::new(),
                    ref activity => activity.to_string(),
                },
            )
        };
        if lines.0 != last_lines.0 {
            println!("{label}: {}", lines.0);
        }
        if lines.1 != last_lines.1 && !lines.1.is_empty() {
            println!("{label}: {}", lines.1);
        }
        last_lines = lines;
        if status.changed().await.is_err() {
            return;
        }
    }
}

/// The earnings line, printed when the balance changed, at most every few seconds.
#[derive(Default)]
struct EarningsLine {
    printed: Option<(idleshare_protocol::MicroTokens, std::time::Instant)>,
}

impl EarningsLine {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(5);

    fn update(&mut self, status: &NodeStatus) -> Option<String> {
        let balance = status.earnings.balance;
        let due = match self.printed {
            None => balance.0 > 0,
            Some((shown, at)) => shown != balance && at.elapsed() >= Self::EVERY,
        };
        if !due {
            return None;
        }
        self.printed = Some((balance, std::time::Instant::now()));
        Some(format!(
            "balance {balance} tokens ({} receipts; {} units reported, {} running)",
            status.earnings.receipts, status.work.reported, status.work.held
        ))
    }
}

fn connection_line(status: &NodeStatus) -> String {
    use idleshare_node::ConnectionState::*;
    match &status.connection {
        Registered => format!("registered with {}", status.coordinator),
        _ => status.summary(),
    }
}
