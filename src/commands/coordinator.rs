//! `idleshare coordinator`.

use std::time::Duration;

use anyhow::Context;
use idleshare_coordinator::{Coordinator, CoordinatorConfig};

use crate::cli::CoordinatorArgs;

pub async fn run(args: CoordinatorArgs) -> anyhow::Result<()> {
    let mut config =
        CoordinatorConfig::new(args.listen, super::data_dir(args.data, "coordinator")?);
    config.http = Some(args.http);
    config.public_host = args.public_host;
    config.heartbeat_interval = Duration::from_millis(args.heartbeat_ms);
    config.max_connections = args.max_connections;
    config.work.lease_ms = args.lease_secs * 1000;
    config.work.credit_rate.micro_tokens_per_megafuel = args.credit_rate;
    config.work.serving_rate.micro_tokens_per_gib = args.serving_rate;
    config.content.replicas = args.replicas;
    config.content.spot_check_every = super::seconds("--spot-check-secs", args.spot_check_secs)?;
    config.content.max_publish_bytes = args.max_publish_mib.saturating_mul(1 << 20);
    let data_dir = config.data_dir.clone();
    let coordinator = Coordinator::start(config)
        .await
        .context("cannot start the coordinator")?;
    // Machine-readable first lines: scripts and tests read the address from here.
    println!("address: {}", coordinator.address());
    if let Some(http) = coordinator.http_addr() {
        println!("http: http://{http}");
    }
    println!("data: {}", data_dir.display());
    println!(
        "Nodes join with: idleshare node --coordinator {}",
        coordinator.address()
    );
    idleshare_node::stop_requested().await;
    eprintln!("shutting down: telling nodes goodbye and saving the registry");
    coordinator.shutdown().await;
    Ok(())
}
