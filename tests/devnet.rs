//! `idleshare devnet`, the README's main job: an embedded coordinator and a node register
//! in one process, and the process stops cleanly.

mod support;

use std::time::Duration;

use support::Process;

#[test]
fn devnet_registers_its_node_and_stops_cleanly() {
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
            "2",
        ],
        &[],
    );
    devnet.wait_for_line("devnet: coordinator ", Duration::from_secs(20));
    devnet.wait_for_line("devnet: node: registered with", Duration::from_secs(20));
    devnet.wait_for_line("devnet: stopped", Duration::from_secs(20));
    let status = devnet.child.wait().unwrap();
    assert!(status.success(), "{}", devnet.output());
    assert!(dir.path().join("coordinator/coordinator.db").exists());
}
