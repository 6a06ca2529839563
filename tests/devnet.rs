//! `idleshare devnet`, the README's main job: an embedded coordinator and a node register
//! in one process, the node runs the demo jobs, keeps and serves the demo site, earns
//! receipts that verify, and the process stops cleanly.

mod support;

use std::time::Duration;

use support::Process;
use support::compute::cli_ok;

#[test]
fn devnet_registers_its_node_earns_tokens_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let mut devnet = Process::start(
        &[
            "devnet",
            "--data",
            data,
            "--http",
            "127.0.0.1:0",
            "--seconds",
            "120",
        ],
        &[],
    );
    devnet.wait_for_line("devnet: coordinator ", Duration::from_secs(20));
    let registry = devnet.wait_for_line("devnet: registry at http://", Duration::from_secs(5));
    let http: std::net::SocketAddr = support::value_after(&registry, "registry at http://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    devnet.wait_for_line("devnet: node: registered with", Duration::from_secs(20));
    devnet.wait_for_line("devnet: published a demo site", Duration::from_secs(20));
    devnet.wait_for_line("devnet: submitted demo job-1", Duration::from_secs(20));
    devnet.wait_for_line("devnet: node: balance ", Duration::from_secs(60));
    devnet.wait_for_line(
        "devnet: a visitor read the demo site",
        Duration::from_secs(90),
    );
    // The demo customer paid for all of it from the deposit the local operator made.
    let audit = idleshare_coordinator::client::ApiClient::at(http)
        .audit()
        .expect("the audit");
    assert!(audit.balanced, "{audit:?}");
    assert!(
        audit.deposits.0 > 0 && audit.paid_to_nodes.0 > 0,
        "{audit:?}"
    );
    let status = devnet.terminate();
    assert!(status.success(), "{}", devnet.output());
    assert!(
        devnet.output().contains("devnet: stopped"),
        "{}",
        devnet.output()
    );
    assert!(dir.path().join("coordinator/coordinator.db").exists());

    let node = dir.path().join("node");
    let verified = cli_ok(
        &["wallet", "verify", "--data", node.to_str().unwrap()],
        Duration::from_secs(20),
    );
    assert!(verified.starts_with("verified "), "{verified}");
    // The node kept the demo site in its cache.
    let status = support::compute::node_status(&node);
    assert_eq!(status["status"]["cache"]["items"], 1, "{status}");
}
