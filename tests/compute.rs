//! Compute jobs end to end with real processes: a coordinator, nodes running units in the
//! WebAssembly sandbox, quorum validation, signed receipts in each node's wallet.
//!
//! The tests share two cores, so they run one at a time.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use support::compute::*;
use support::{CoordinatorProcess, NodeProcess, serial, wait_until};

/// Nodes online and contributing.
fn start_workers(
    coordinator: &CoordinatorProcess,
    dir: &Path,
    count: usize,
    extra: &[&str],
) -> Vec<NodeProcess> {
    let nodes: Vec<NodeProcess> = (0..count)
        .map(|i| start_worker(coordinator, &dir.join(format!("node{i}")), extra))
        .collect();
    for node in &nodes {
        wait_contributing(coordinator, node);
    }
    nodes
}

/// Checks every unit is done with the output the native twin computes.
fn assert_outputs_match(coordinator: &CoordinatorProcess, job: u64, iterations: u64) {
    let results = job_results(coordinator, job);
    let units = results["units"].as_array().unwrap();
    let api = api(coordinator);
    for unit in units {
        assert_eq!(unit["state"], "done", "{unit}");
        let seed = unit["index"].as_u64().unwrap() + 1;
        let id = unit["output"].as_str().unwrap();
        let expected = spin_native(iterations, seed);
        assert_eq!(
            id,
            blake3_hex(&expected),
            "unit {unit} output differs from native"
        );
        let _ = &api;
    }
}

fn blake3_hex(bytes: &[u8]) -> String {
    idleshare_protocol::ContentId::of(bytes).to_string()
}

/// Stops the nodes, then checks every wallet verifies offline, nobody was paid twice for a
/// unit, and the coordinator's ledger equals the sum of the wallets.
fn assert_paid_exactly_once(
    coordinator: &CoordinatorProcess,
    nodes: Vec<NodeProcess>,
) -> HashMap<String, u64> {
    let ledger = ledger(coordinator);
    let mut balances = HashMap::new();
    let mut wallet_total = 0;
    for mut node in nodes {
        // Receipts are pushed after the ledger commits them: wait for the last to arrive.
        let account = ledger["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["node"] == node.id.as_str());
        let due = account.map_or(0, |a| a["receipts"].as_u64().unwrap());
        wait_until(Duration::from_secs(20), "receipts delivered", || {
            (node_status(&node.data)["status"]["earnings"]["receipts"].as_u64() >= Some(due))
                .then_some(())
        });
        node.process.terminate();
        let (balance, receipts) = verified_wallet(&node.data);
        let units: HashSet<u64> = receipts
            .iter()
            .map(|r| r["unit"].as_u64().unwrap())
            .collect();
        assert_eq!(
            units.len(),
            receipts.len(),
            "node {} was paid twice for a unit",
            node.id
        );
        let account = ledger["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["node"] == node.id.as_str());
        let (ledger_balance, ledger_receipts) = account.map_or((0, 0), |a| {
            (
                a["balance"].as_u64().unwrap(),
                a["receipts"].as_u64().unwrap(),
            )
        });
        assert_eq!(balance, ledger_balance, "node {} wallet vs ledger", node.id);
        assert_eq!(
            receipts.len() as u64,
            ledger_receipts,
            "node {} receipts vs ledger",
            node.id
        );
        wallet_total += balance;
        balances.insert(node.id.clone(), balance);
    }
    assert_eq!(
        ledger["total"].as_u64().unwrap(),
        wallet_total,
        "ledger total = sum of wallets"
    );
    let audit = support::money::audit_balances(coordinator);
    assert_eq!(
        audit.paid_to_nodes.0, wallet_total,
        "every token paid came from escrow"
    );
    balances
}

#[test]
fn three_nodes_run_200_units_all_validated_and_each_paid_exactly_once() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let nodes = start_workers(&coordinator, dir.path(), 3, &[]);
    let module = write_module(dir.path(), "spin", SPIN_WAT);
    let iterations = 20_000;
    let inputs = write_spin_inputs(dir.path(), "inputs", 200, iterations);
    let out = dir.path().join("out");
    let api = api(&coordinator);
    support::money::ensure_funded(&coordinator, &coordinator.customer_dir());
    let customer = support::money::customer_args(&coordinator.customer_dir());
    let mut args = vec![
        "submit",
        module.to_str().unwrap(),
        inputs.to_str().unwrap(),
        "--wait",
        "--out",
        out.to_str().unwrap(),
        "--api",
        &api,
    ];
    args.extend(customer.iter().map(String::as_str));
    let printed = cli_ok(&args, Duration::from_secs(180));
    assert!(printed.contains("200/200 done"), "{printed}");
    for seed in [1u64, 77, 200] {
        let bytes = std::fs::read(out.join(format!("{seed:05}.in.out"))).unwrap();
        assert_eq!(bytes, spin_native(iterations, seed));
    }
    assert_outputs_match(&coordinator, 1, iterations);
    let status = job_status(&coordinator, 1);
    assert!(
        status["fuel"].as_u64().unwrap() > 200 * iterations,
        "{status}"
    );
    let balances = assert_paid_exactly_once(&coordinator, nodes);
    assert!(
        balances.values().filter(|b| **b > 0).count() >= 2,
        "{balances:?}"
    );
}

#[test]
fn a_lying_node_is_outvoted_its_results_rejected_and_it_earns_nothing() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let mut nodes = start_workers(&coordinator, dir.path(), 2, &[]);
    let liar = start_worker(
        &coordinator,
        &dir.path().join("liar"),
        &["--test-corrupt-outputs"],
    );
    wait_contributing(&coordinator, &liar);
    let module = write_module(dir.path(), "spin", SPIN_WAT);
    let iterations = 50_000;
    let inputs = write_spin_inputs(dir.path(), "inputs", 30, iterations);
    let job = submit(&coordinator, &module, &inputs, &[]);
    wait_finished(&coordinator, job, Duration::from_secs(120));
    assert_outputs_match(&coordinator, job, iterations);
    let liar_entry = coordinator.node(&liar.id).unwrap();
    assert!(
        liar_entry["reputation"]["invalid"].as_u64().unwrap() > 0,
        "{liar_entry}"
    );
    assert_eq!(liar_entry["reputation"]["valid"], 0, "{liar_entry}");
    let liar_id = liar.id.clone();
    nodes.push(liar);
    let balances = assert_paid_exactly_once(&coordinator, nodes);
    assert_eq!(
        balances[&liar_id], 0,
        "the liar earned something: {balances:?}"
    );
    assert!(
        balances.values().filter(|b| **b > 0).count() == 2,
        "{balances:?}"
    );
}

/// Iterations that take roughly a second of wasm on this machine class.
const SLOW_UNIT: u64 = 150_000_000;

#[test]
fn a_node_killed_mid_unit_has_its_unit_reissued_and_completed() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let mut nodes = start_workers(&coordinator, dir.path(), 3, &[]);
    let module = write_module(dir.path(), "spin", SPIN_WAT);
    let inputs = write_spin_inputs(dir.path(), "inputs", 4, SLOW_UNIT);
    let job = submit(&coordinator, &module, &inputs, &[]);
    let victim = wait_until(Duration::from_secs(30), "a node holding a unit", || {
        nodes
            .iter()
            .position(|node| node_status(&node.data)["status"]["work"]["held"].as_u64() > Some(0))
    });
    nodes[victim].process.kill_hard();
    let status = wait_finished(&coordinator, job, Duration::from_secs(240));
    assert_eq!(status["units"]["done"], 4, "{status}");
    assert_outputs_match(&coordinator, job, SLOW_UNIT);
    // 4 units × 2 replicas need 8 leases; the killed node's unit needed one more.
    let leases = coordinator.metric("idleshare_units_assigned_total");
    assert!(leases > 8, "no lease was re-issued ({leases} leases)");
}

#[test]
fn coordinator_killed_and_restarted_mid_job_loses_nothing_and_pays_nothing_twice() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("coordinator");
    let mut coordinator = CoordinatorProcess::start(&data, 0);
    let mut nodes = start_workers(&coordinator, dir.path(), 3, &[]);
    let module = write_module(dir.path(), "spin", SPIN_WAT);
    let iterations = 15_000_000;
    let inputs = write_spin_inputs(dir.path(), "inputs", 24, iterations);
    let job = submit(&coordinator, &module, &inputs, &[]);
    wait_until(Duration::from_secs(60), "some units settled", || {
        let status = job_status(&coordinator, job);
        (status["units"]["done"].as_u64().unwrap() >= 4).then_some(())
    });
    // A node dies mid-job, then the coordinator is killed too.
    let mut victim = nodes.remove(0);
    let victim_data = victim.data.clone();
    victim.process.kill_hard();
    coordinator.process.kill_hard();
    let port = coordinator.quic_port;
    coordinator = CoordinatorProcess::start(&data, port);
    // The killed node comes back later with its wallet, and catches up on its receipts.
    let status = wait_finished(&coordinator, job, Duration::from_secs(180));
    let victim = start_worker(&coordinator, &victim_data, &[]);
    wait_contributing(&coordinator, &victim);
    nodes.push(victim);
    assert_eq!(status["units"]["done"], 24, "{status}");
    assert_outputs_match(&coordinator, job, iterations);
    // The job's escrow: what it spent plus what came back is what it took.
    let paid = support::money::micro(&status["paid"]);
    let spent = support::money::micro(&status["spent"]);
    let escrowed = support::money::micro(&status["escrowed"]);
    assert_eq!(
        spent + support::money::micro(&status["refunded"]),
        escrowed,
        "{status}"
    );
    assert!(spent > paid, "the fee is on top: {status}");
    // Receipts sent just before the kills reach the wallets after the reconnects; every
    // wallet verifies offline and together they hold exactly what the audit says was paid.
    std::thread::sleep(Duration::from_secs(3));
    let balances = assert_paid_exactly_once(&coordinator, nodes);
    let audit = support::money::audit_balances(&coordinator);
    assert_eq!(audit.paid_to_nodes.0, balances.values().sum::<u64>());
}
