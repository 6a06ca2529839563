//! The node library as the desktop app uses it: start a node, watch its status, stop it.
//! In one process, against the coordinator library, over real loopback QUIC.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use idleshare_coordinator::{Coordinator, CoordinatorConfig};
use idleshare_node::{ConnectionState, KeyStorePreference, NodeConfig, NodeStatus, start_node};
use tokio::sync::watch;

/// Waits until the status satisfies `check`, or panics with the last status.
async fn wait_for(
    status: &mut watch::Receiver<NodeStatus>,
    what: &str,
    check: impl Fn(&NodeStatus) -> bool,
) -> NodeStatus {
    let waited = tokio::time::timeout(Duration::from_secs(20), async {
        status.wait_for(|s| check(s)).await.map(|s| s.clone())
    })
    .await;
    match waited {
        Ok(Ok(status)) => status,
        _ => panic!("no {what} within 20 s; last status: {:?}", status.borrow()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_node_registers_retests_its_bandwidth_as_it_ages_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let mut coordinator_config = CoordinatorConfig::new(listen, dir.path().join("c"));
    coordinator_config.admission.id_difficulty = 8;
    let coordinator = Coordinator::start(coordinator_config).await.unwrap();
    let mut config = NodeConfig::new(coordinator.address().clone(), dir.path().join("node"));
    config.key_store = KeyStorePreference::File;
    config.executor_workers = 0;
    // A result older than a second is stale: the connected node tests again.
    config.bandwidth_max_age = Duration::from_secs(1);
    let node = start_node(config).await.unwrap();
    let mut status = node.status();

    wait_for(&mut status, "registration", |s| {
        s.connection == ConnectionState::Registered
    })
    .await;
    let first = wait_for(&mut status, "a bandwidth result", |s| s.bandwidth.is_some())
        .await
        .bandwidth
        .unwrap();
    let second = wait_for(&mut status, "a newer bandwidth result", |s| {
        s.bandwidth
            .is_some_and(|b| b.measured_at_ms > first.measured_at_ms)
    })
    .await
    .bandwidth
    .unwrap();
    assert!(second.download_kbps > 0 && second.upload_kbps > 0);
    let recorded = coordinator.nodes()[0].capabilities.bandwidth.unwrap();
    assert!(
        recorded.measured_at_ms >= first.measured_at_ms,
        "{recorded:?}"
    );
    assert_eq!(
        coordinator.nodes()[0].state,
        idleshare_coordinator::NodeState::Online
    );

    node.stop().await;
    assert_eq!(status.borrow().connection, ConnectionState::Stopped);
    // Goodbye: the coordinator knows at once, not after missed heartbeats.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        coordinator.nodes()[0].state,
        idleshare_coordinator::NodeState::Offline
    );
    coordinator.shutdown().await;
}
