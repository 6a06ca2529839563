//! Real processes over loopback: nodes register, survive a killed coordinator, and leave
//! cleanly.

mod support;

use std::time::{Duration, Instant};

use support::{CoordinatorProcess, NodeProcess, wait_online, wait_until};

#[test]
fn three_nodes_register_and_show_in_the_registry_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let nodes: Vec<NodeProcess> = (0..3)
        .map(|i| NodeProcess::start(&coordinator.address, &dir.path().join(format!("node{i}"))))
        .collect();
    for node in &nodes {
        let entry = wait_online(&coordinator, &node.id, Duration::from_secs(20));
        assert!(
            entry["capabilities"]["cpu_cores"].as_u64().unwrap() >= 1,
            "{entry}"
        );
        assert!(
            entry["capabilities"]["memory_bytes"].as_u64().unwrap() > 0,
            "{entry}"
        );
        assert!(
            entry["remote_addr"].as_str().unwrap().starts_with("127."),
            "{entry}"
        );
    }
    // Each node reports its policy's decision: a budget, or a reason people can read.
    for node in &nodes {
        let entry = wait_until(Duration::from_secs(10), "a decision", || {
            coordinator
                .node(&node.id)
                .filter(|n| n["activity"] != "starting")
        });
        match entry["activity"].as_str().unwrap() {
            "contributing" => assert!(entry["budget"]["cores"].as_u64().unwrap() >= 1, "{entry}"),
            "paused" => assert!(
                !entry["pause_reason"].as_str().unwrap().is_empty(),
                "{entry}"
            ),
            other => panic!("unexpected activity {other}: {entry}"),
        }
    }
    assert_eq!(coordinator.nodes().len(), 3);
    assert_eq!(coordinator.metric("idleshare_nodes{state=\"online\"}"), 3);
    // Heartbeats keep arriving.
    wait_until(Duration::from_secs(10), "heartbeats", || {
        (coordinator.metric("idleshare_heartbeats_total") >= 6).then_some(())
    });
}

#[test]
fn killed_coordinator_restarts_and_every_node_is_back_within_10_s_with_its_entry_intact() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("coordinator");
    let mut coordinator = CoordinatorProcess::start(&data, 0);
    let nodes: Vec<NodeProcess> = (0..3)
        .map(|i| NodeProcess::start(&coordinator.address, &dir.path().join(format!("node{i}"))))
        .collect();
    let before: Vec<serde_json::Value> = nodes
        .iter()
        .map(|n| wait_online(&coordinator, &n.id, Duration::from_secs(20)))
        .collect();

    coordinator.process.kill_hard();
    let restarted_at = Instant::now();
    let restart_ms = idleshare_base::clock::unix_ms();
    let coordinator2 = CoordinatorProcess::start(&data, coordinator.quic_port);
    assert_eq!(
        coordinator2.address, coordinator.address,
        "same key, same port"
    );

    let back_online = |node: &NodeProcess| {
        coordinator2
            .node(&node.id)
            .filter(|n| n["state"] == "online" && n["last_seen_ms"].as_u64().unwrap() >= restart_ms)
    };
    while nodes.iter().any(|n| back_online(n).is_none()) {
        assert!(
            restarted_at.elapsed() <= Duration::from_secs(10),
            "not every node was back within 10 s; node output:\n{}",
            nodes
                .iter()
                .map(|n| n.process.output())
                .collect::<Vec<_>>()
                .join("\n---\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "every node back {:?} after the restart",
        restarted_at.elapsed()
    );
    for (node, old) in nodes.iter().zip(&before) {
        let entry = back_online(node).expect("online");
        assert_eq!(
            entry["first_seen_ms"], old["first_seen_ms"],
            "registry entry kept"
        );
        for key in ["cpu_model", "cpu_cores", "memory_bytes", "os"] {
            assert_eq!(
                entry["capabilities"][key], old["capabilities"][key],
                "{key}"
            );
        }
    }
    assert_eq!(coordinator2.nodes().len(), 3, "no duplicates after restart");
}

#[test]
fn graceful_shutdown_says_goodbye_and_a_stopped_node_goes_offline_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let mut leaving = NodeProcess::start(&coordinator.address, &dir.path().join("leaving"));
    let staying = NodeProcess::start(&coordinator.address, &dir.path().join("staying"));
    wait_online(&coordinator, &leaving.id, Duration::from_secs(20));
    wait_online(&coordinator, &staying.id, Duration::from_secs(20));

    // A node told to stop says goodbye: offline immediately, not after missed heartbeats.
    assert!(leaving.process.terminate().success());
    wait_until(Duration::from_secs(2), "stopped node offline", || {
        coordinator
            .node(&leaving.id)
            .filter(|n| n["state"] == "offline")
    });

    // A coordinator told to stop tells its nodes goodbye and exits cleanly.
    assert!(
        coordinator.process.terminate().success(),
        "{}",
        coordinator.process.output()
    );
    staying
        .process
        .wait_for_line("coordinator said goodbye", Duration::from_secs(5));
}

#[test]
fn a_node_that_stops_heartbeating_is_marked_offline() {
    let dir = tempfile::tempdir().unwrap();
    // 300 ms heartbeats: offline after three missed, 0.9 s.
    let coordinator = CoordinatorProcess::start_with(
        &dir.path().join("coordinator"),
        0,
        &["--heartbeat-ms", "300"],
    );
    let mut node = NodeProcess::start(&coordinator.address, &dir.path().join("node"));
    wait_online(&coordinator, &node.id, Duration::from_secs(20));
    node.process.kill_hard();
    let entry = wait_until(Duration::from_secs(10), "killed node offline", || {
        coordinator
            .node(&node.id)
            .filter(|n| n["state"] == "offline")
    });
    assert!(entry["last_seen_ms"].as_u64().unwrap() > 0);
}

#[test]
fn a_node_measures_its_bandwidth_once_and_reports_it_in_its_capabilities() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let data = dir.path().join("node");
    let mut node = NodeProcess::start(&coordinator.address, &data);
    let measured = wait_until(Duration::from_secs(20), "bandwidth in capabilities", || {
        coordinator
            .node(&node.id)
            .map(|n| n["capabilities"]["bandwidth"].clone())
            .filter(|b| b["download_kbps"].as_u64().unwrap_or(0) > 0)
    });
    assert!(measured["upload_kbps"].as_u64().unwrap() > 0, "{measured}");
    assert!(measured["rtt_us"].as_u64().unwrap() > 0, "{measured}");
    assert!(data.join("bandwidth.json").exists());

    // A restart within a day reuses the stored result instead of testing again.
    assert!(node.process.terminate().success());
    let node = NodeProcess::start(&coordinator.address, &data);
    let entry = wait_online(&coordinator, &node.id, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(500));
    let again = coordinator.node(&node.id).unwrap()["capabilities"]["bandwidth"].clone();
    assert_eq!(entry["capabilities"]["bandwidth"], measured);
    assert_eq!(again, measured, "no second test within a day");
}
