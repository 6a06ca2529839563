//! Strangers with many ids, with real processes: nodes bind distinct loopback addresses
//! (127.A.B.C), so the coordinator sees each group as its own network.
//!
//! - 20 Sybils on one /24, with keys ground to sort first, all lying the same way, against
//!   6 honest nodes on other /24s: no wrong output is accepted and the Sybils earn nothing;
//! - a node resending `WantWork` holds at most its cores + 1 leases;
//! - a liar after a 50-unit honest streak is caught by the re-checks.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use idleshare_protocol::NodeId;
use support::compute::*;
use support::money::audit_balances;
use support::{CoordinatorProcess, NodeProcess, serial, wait_until};

/// A node key whose id sorts before almost every other (first byte 0): the ids a stranger
/// would grind to be served first under key order. `n` picks a different one.
fn low_key(n: u64) -> SigningKey {
    (0u64..)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&n.to_le_bytes());
            seed[8..16].copy_from_slice(&i.to_le_bytes());
            SigningKey::from_bytes(&seed)
        })
        .find(|key| NodeId::from(key.verifying_key()).as_bytes()[0] == 0)
        .expect("a low key")
}

/// A worker on its own loopback address `ip` (one core), with `key` if given.
fn worker_at(
    coordinator: &CoordinatorProcess,
    data: PathBuf,
    ip: &str,
    key: Option<SigningKey>,
    extra: &[&str],
) -> NodeProcess {
    if let Some(key) = key {
        std::fs::create_dir_all(&data).unwrap();
        idleshare_transport::keyfile::write_key_file(&data.join("node.key"), &key).unwrap();
    }
    let mut args = vec!["--bind", ip];
    args.extend_from_slice(extra);
    start_worker(coordinator, &data, &args)
}

fn spin_job(coordinator: &CoordinatorProcess, dir: &Path, units: u64, iterations: u64) -> u64 {
    let module = write_module(dir, "spin", SPIN_WAT);
    let inputs = write_spin_inputs(dir, &format!("inputs-{units}"), units, iterations);
    submit(coordinator, &module, &inputs, &[])
}

fn reputation(coordinator: &CoordinatorProcess, node: &NodeProcess) -> serde_json::Value {
    coordinator.node(&node.id).expect("registered")["reputation"].clone()
}

fn balance(ledger: &serde_json::Value, node: &NodeProcess) -> u64 {
    ledger["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["node"] == node.id.as_str())
        .map_or(0, |a| a["balance"].as_u64().unwrap())
}

#[test]
fn twenty_sybils_on_one_network_never_get_a_wrong_output_accepted_and_earn_nothing() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let honest: Vec<NodeProcess> = (0..6)
        .map(|i| {
            let data = dir.path().join(format!("honest{i}"));
            worker_at(
                &coordinator,
                data,
                &format!("127.0.{}.1", 30 + i),
                None,
                &[],
            )
        })
        .collect();
    let sybils: Vec<NodeProcess> = (0..20)
        .map(|i| {
            let data = dir.path().join(format!("sybil{i}"));
            let ip = format!("127.0.40.{}", i + 1);
            let key = Some(low_key(i));
            worker_at(&coordinator, data, &ip, key, &["--test-corrupt-outputs"])
        })
        .collect();
    for node in honest.iter().chain(&sybils) {
        wait_contributing(&coordinator, node);
    }
    let iterations = 20_000;
    let job = spin_job(&coordinator, dir.path(), 40, iterations);
    let status = wait_finished(&coordinator, job, Duration::from_secs(180));
    assert_eq!(status["units"]["done"], 40, "{status}");
    // Every accepted output is the honest one.
    for unit in job_results(&coordinator, job)["units"].as_array().unwrap() {
        let seed = unit["index"].as_u64().unwrap() + 1;
        let expected = idleshare_protocol::ContentId::of(&spin_native(iterations, seed));
        assert_eq!(unit["output"], expected.to_string(), "{unit}");
    }
    let ledger = ledger(&coordinator);
    let mut caught = 0;
    for sybil in &sybils {
        assert_eq!(balance(&ledger, sybil), 0, "a Sybil was paid: {ledger}");
        let record = reputation(&coordinator, sybil);
        assert_eq!(record["valid"], 0, "{record}");
        caught += record["invalid"].as_u64().unwrap();
    }
    assert!(
        caught > 0,
        "the Sybils never got a replica: the test proves nothing"
    );
    let honest_paid = honest.iter().filter(|n| balance(&ledger, n) > 0).count();
    assert!(honest_paid >= 2, "{ledger}");
    let audit = audit_balances(&coordinator);
    assert!(audit.balanced, "{audit:?}");
}

#[test]
fn a_node_resending_want_work_holds_at_most_its_cores_plus_one_leases() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    // One core (the worker settings), asking for 1024 units again and again.
    let hoarder = worker_at(
        &coordinator,
        dir.path().join("hoarder"),
        "127.0.50.1",
        None,
        &["--test-hoard-work"],
    );
    wait_contributing(&coordinator, &hoarder);
    // Units long enough that none finishes while we look.
    let module = write_module(dir.path(), "spin", SPIN_WAT);
    let inputs = write_spin_inputs(dir.path(), "long", 20, 2_000_000_000);
    submit(&coordinator, &module, &inputs, &["--replication", "1"]);
    wait_until(Duration::from_secs(20), "the hoarder gets work", || {
        (coordinator.metric("idleshare_units_assigned_total") > 0).then_some(())
    });
    // Through several heartbeats and work requests, it never holds more than cores + 1
    // (replication 1: a lease is held from its assignment until its unit settles).
    let mut most = 0;
    for _ in 0..12 {
        std::thread::sleep(Duration::from_millis(500));
        let assigned = coordinator.metric("idleshare_units_assigned_total");
        let settled = coordinator.metric("idleshare_units_settled_total");
        let held = assigned - settled;
        assert!(held <= 2, "a one-core node holds {held} leases");
        most = most.max(held);
    }
    assert_eq!(most, 2, "it does get its cores + 1");
}

#[test]
fn a_liar_after_a_fifty_unit_honest_streak_is_caught_by_the_rechecks() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let liar = worker_at(
        &coordinator,
        dir.path().join("liar"),
        "127.0.60.1",
        None,
        &["--test-lie-after", "60"],
    );
    let checkers: Vec<NodeProcess> = (0..2)
        .map(|i| {
            let data = dir.path().join(format!("checker{i}"));
            worker_at(
                &coordinator,
                data,
                &format!("127.0.{}.1", 61 + i),
                None,
                &[],
            )
        })
        .collect();
    for node in checkers.iter().chain([&liar]) {
        wait_contributing(&coordinator, node);
    }
    // Small units, many of them: the liar builds its streak, then lies on every unit.
    let job = spin_job(&coordinator, dir.path(), 600, 1_000);
    wait_until(Duration::from_secs(240), "the liar caught", || {
        let record = reputation(&coordinator, &liar);
        (record["invalid"].as_u64() > Some(0)).then_some(())
    });
    let record = reputation(&coordinator, &liar);
    assert!(record["valid"].as_u64().unwrap() >= 50, "{record}");
    wait_finished(&coordinator, job, Duration::from_secs(240));
    let record = reputation(&coordinator, &liar);
    assert_eq!(
        record["consecutive_valid"], 0,
        "a caught liar keeps no streak: {record}"
    );
    let audit = audit_balances(&coordinator);
    assert!(audit.balanced, "{audit:?}");
}
