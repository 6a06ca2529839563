//! `idleshare node` and `idleshare node id`.

use anyhow::Context;
use idleshare_node::{NodeConfig, NodeStatus, load_or_create_identity, start_node};
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
    let mut config = NodeConfig::new(coordinator, super::data_dir(args.data, "node")?);
    config.key_store = args.key_store.into();
    let node = start_node(config).await.context("cannot start the node")?;
    let status = node.status();
    {
        let current = status.borrow();
        println!("node id: {}", current.node_id);
        println!("key storage: {}", current.key_storage);
    }
    tokio::select! {
        _ = print_status_changes(status, "node") => {}
        _ = super::stop_requested() => {}
    }
    node.stop().await;
    println!("node: stopped");
    Ok(())
}

/// Prints a line whenever the connection state (not merely the heartbeat time) changes.
pub async fn print_status_changes(mut status: watch::Receiver<NodeStatus>, label: &str) {
    let mut last_line = String::new();
    loop {
        let line = {
            let current = status.borrow_and_update();
            line_for(&current)
        };
        if line != last_line {
            println!("{label}: {line}");
            last_line = line;
        }
        if status.changed().await.is_err() {
            return;
        }
    }
}

fn line_for(status: &NodeStatus) -> String {
    use idleshare_node::ConnectionState::*;
    match &status.connection {
        Registered => format!("registered with {}", status.coordinator),
        _ => status.summary(),
    }
}
