//! `idleshare devnet`: an embedded coordinator and one local node in one process.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use idleshare_coordinator::{Coordinator, CoordinatorConfig};
use idleshare_node::{NodeConfig, start_node};

use crate::cli::DevnetArgs;

pub async fn run(args: DevnetArgs) -> anyhow::Result<()> {
    let data_dir = super::data_dir(args.data, "devnet")?;
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let mut config = CoordinatorConfig::new(listen, data_dir.join("coordinator"));
    config.http = Some(args.http);
    let coordinator = Coordinator::start(config)
        .await
        .context("cannot start the embedded coordinator")?;
    println!("devnet: data in {}", data_dir.display());
    println!("devnet: coordinator {}", coordinator.address());
    if let Some(http) = coordinator.http_addr() {
        println!("devnet: registry at http://{http}/v1/nodes, metrics at http://{http}/metrics");
    }
    let settings_path = args
        .settings
        .unwrap_or_else(|| data_dir.join("settings.toml"));
    let settings = super::open_settings(settings_path)?;
    let mut node_config = NodeConfig::new(coordinator.address().clone(), data_dir.join("node"));
    node_config.settings = settings.subscribe();
    let node = start_node(node_config)
        .await
        .context("cannot start the local node")?;
    {
        let status = node.status();
        let current = status.borrow();
        println!(
            "devnet: node {} (key in {})",
            current.node_id, current.key_storage
        );
    }
    // Demo jobs, so the local node has work to earn from.
    let demo_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let demo = coordinator.http_addr().map(|http| {
        let stop = demo_stop.clone();
        std::thread::spawn(move || super::demo_jobs::feed(http, stop))
    });
    let stop_after = async {
        match args.seconds {
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = super::node::print_status_changes(node.status(), "devnet: node") => {}
        _ = super::stop_requested() => {}
        _ = stop_after => {}
    }
    demo_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(demo) = demo {
        let _ = tokio::task::spawn_blocking(move || demo.join()).await;
    }
    node.stop().await;
    coordinator.shutdown().await;
    println!("devnet: stopped");
    Ok(())
}
