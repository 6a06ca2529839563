//! `idleshare devnet`: a local network (an embedded coordinator, one node, demo jobs) from
//! the `idleshare-devnet` library, printing what happens.

use std::time::Duration;

use idleshare_devnet::{DemoEvent, Devnet, DevnetConfig};
use idleshare_protocol::api::routes;

use crate::cli::DevnetArgs;

pub async fn run(args: DevnetArgs) -> anyhow::Result<()> {
    let data_dir = super::data_dir(args.data, "devnet")?;
    let settings_path = args
        .settings
        .unwrap_or_else(|| data_dir.join("settings.toml"));
    let settings = super::open_settings(settings_path)?;
    let config = DevnetConfig {
        http: args.http,
        settings: settings.subscribe(),
        ..DevnetConfig::in_dir(&data_dir)
    };
    let devnet = Devnet::start(config, Box::new(print_demo_event)).await?;
    let coordinator = devnet.coordinator();
    println!("devnet: data in {}", data_dir.display());
    println!("devnet: coordinator {}", coordinator.address());
    if let Some(http) = coordinator.http_addr() {
        let (nodes, metrics) = (routes::NODES, routes::METRICS);
        println!("devnet: registry at http://{http}{nodes}, metrics at http://{http}{metrics}");
    }
    let status = devnet.node().status();
    {
        let current = status.borrow();
        println!(
            "devnet: node {} (key in {})",
            current.node_id, current.key_storage
        );
    }
    let stop_after = async {
        match args.seconds {
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = super::node::print_status_changes(status, "devnet: node") => {}
        _ = idleshare_node::stop_requested() => {}
        _ = stop_after => {}
    }
    devnet.stop().await;
    println!("devnet: stopped");
    Ok(())
}

fn print_demo_event(event: DemoEvent) {
    match event {
        DemoEvent::Submitted(job) => println!(
            "devnet: submitted demo {} ({} Mandelbrot tiles; replication 1: a local network of one node)",
            job.job, job.units
        ),
        DemoEvent::Finished(status) => println!(
            "devnet: demo {} done: {} tiles, fuel {}, paid {} tokens",
            status.job, status.units.done, status.fuel, status.paid
        ),
        DemoEvent::Failed(error) => {
            eprintln!("devnet: demo work failed: {error:#}");
        }
        DemoEvent::SitePublished(site) => println!(
            "devnet: published a demo site to the cache: {} ({} bytes)",
            site.id, site.size
        ),
        DemoEvent::SiteVisited { bytes } => println!(
            "devnet: a visitor read the demo site through the gateway ({bytes} bytes, checked)"
        ),
    }
}
