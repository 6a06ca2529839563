//! Every token paid for, with real processes: a coordinator, nodes, the CLI as customer
//! and operator. Forged receipts mint nothing, inflated fuel earns nothing, unfunded work is
//! refused, a funded job pays exactly and refunds the rest, anonymous fetches are paid from
//! the publisher's budget, an order pays once; and the public audit balances at the end of
//! each.
//!
//! The tests share two cores, so they run one at a time.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use idleshare_protocol::api::OrdersRequest;
use idleshare_protocol::cache::{CacheRequest, CacheResponse, ServiceReceipt};
use idleshare_protocol::{ContentId, CoordinatorAddress, JobId, MicroTokens, NodeId};
use idleshare_transport::load_or_create_key_file;
use support::cache::{
    ask, dial, http_get_bytes, make_content, publish, start_cache_node, wait_stored,
};
use support::compute::*;
use support::money::*;
use support::{CoordinatorProcess, NodeProcess, serial, wait_until};

/// Nodes online and contributing.
fn workers(
    coordinator: &CoordinatorProcess,
    dir: &std::path::Path,
    names: &[&str],
    extra: &[&str],
) -> Vec<NodeProcess> {
    let nodes: Vec<NodeProcess> = names
        .iter()
        .map(|name| start_worker(coordinator, &dir.join(name), extra))
        .collect();
    for node in &nodes {
        wait_contributing(coordinator, node);
    }
    nodes
}

/// The CLI as the customer in `dir`: the command's output (it may fail).
fn as_customer(
    coordinator: &CoordinatorProcess,
    dir: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    let api = api(coordinator);
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(["--api".to_owned(), api]);
    all.extend(customer_args(dir));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    cli(&all, Duration::from_secs(60))
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// What a node's ledger account holds, from `GET /v1/ledger`.
fn ledger_balance(coordinator: &CoordinatorProcess, node: &str) -> u64 {
    ledger(coordinator)["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["node"] == node)
        .map_or(0, |a| a["balance"].as_u64().unwrap())
}

#[test]
fn unfunded_jobs_and_publishes_are_refused_and_a_funded_job_pays_exactly() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let nodes = workers(&coordinator, dir.path(), &["a", "b"], &[]);
    let module = write_module(dir.path(), "spin", SPIN_WAT);
    let iterations = 2_000_000;
    let inputs = write_spin_inputs(dir.path(), "inputs", 3, iterations);

    // A stranger's account holds nothing: its job and its publish are refused, naming the
    // price, and nothing is escrowed.
    let stranger = dir.path().join("stranger");
    let said = as_customer(
        &coordinator,
        &stranger,
        &[
            "submit",
            module.to_str().unwrap(),
            inputs.to_str().unwrap(),
            "--fuel",
            "100000000",
        ],
    );
    assert!(!said.status.success());
    // 3 units × 2 replicas × 0.1 token, plus the 5 % fee.
    assert!(
        text(&said).contains("insufficient balance: need 0.630000, have 0.000000"),
        "{}",
        text(&said)
    );
    let site = dir.path().join("site.bin");
    std::fs::write(&site, make_content(10_000, 3)).unwrap();
    let said = as_customer(
        &coordinator,
        &stranger,
        &["publish", site.to_str().unwrap()],
    );
    assert!(!said.status.success());
    assert!(
        text(&said).contains("insufficient balance"),
        "{}",
        text(&said)
    );
    assert!(
        coordinator.api().content_list().unwrap().is_empty(),
        "nothing was published"
    );

    // Funded: the job escrows its most, pays min(fuel, limit) × rate per result plus the
    // fee, and gives back the rest when it finishes.
    let customer = dir.path().join("customer");
    deposit(&coordinator, &customer, "1");
    let out = as_customer(
        &coordinator,
        &customer,
        &[
            "submit",
            module.to_str().unwrap(),
            inputs.to_str().unwrap(),
            "--fuel",
            "100000000",
            "--wait",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let job = signed_api(&coordinator, &customer)
        .job_status(JobId(1))
        .unwrap();
    assert!(job.finished);
    assert_eq!(job.escrowed, MicroTokens(630_000));
    let per_result = job.fuel / 3 * 1000 / 1_000_000;
    assert_eq!(
        job.paid,
        MicroTokens(2 * job.fuel * 1000 / 1_000_000),
        "{job:?}"
    );
    assert_eq!(job.spent.0, job.paid.0 + 6 * (per_result / 20));
    assert_eq!(job.refunded.0, job.escrowed.0 - job.spent.0);
    let status = as_customer(&coordinator, &customer, &["job", "status", "1"]);
    assert!(text(&status).contains("refunded"), "{}", text(&status));
    let account = signed_api(&coordinator, &customer).account_view().unwrap();
    assert_eq!(account.balance.0, 1_000_000 - job.spent.0);
    assert_eq!(account.escrowed, MicroTokens(0));
    let shown = as_customer(&coordinator, &customer, &["account"]);
    assert!(text(&shown).contains("job-1"), "{}", text(&shown));

    // The nodes' wallets verify offline and hold exactly what the job paid.
    let mut total = 0;
    for mut node in nodes {
        wait_until(Duration::from_secs(20), "receipts delivered", || {
            (node_status(&node.data)["status"]["earnings"]["receipts"].as_u64() >= Some(3))
                .then_some(())
        });
        node.process.terminate();
        total += verified_wallet(&node.data).0;
    }
    assert_eq!(total, job.paid.0);
    let audit = audit_balances(&coordinator);
    assert_eq!(audit.deposits, MicroTokens(1_000_000));
    assert_eq!(audit.paid_to_nodes, job.paid);
}

#[test]
fn colluding_nodes_reporting_fuel_above_the_limit_get_nothing_and_are_marked_invalid() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let liars = workers(
        &coordinator,
        dir.path(),
        &["liar1", "liar2"],
        &["--test-inflate-fuel"],
    );
    let module = write_module(dir.path(), "spin", SPIN_WAT);
    let inputs = write_spin_inputs(dir.path(), "inputs", 2, 1_000_000);
    let job = submit(&coordinator, &module, &inputs, &[]);
    wait_until(Duration::from_secs(60), "both liars judged", || {
        liars
            .iter()
            .all(|liar| {
                coordinator.node(&liar.id).unwrap()["reputation"]["invalid"].as_u64() >= Some(1)
            })
            .then_some(())
    });
    assert_eq!(
        job_status(&coordinator, job)["units"]["pending"],
        2,
        "liars settle nothing"
    );
    // Honest nodes settle the job; the liars earned nothing.
    let honest = workers(&coordinator, dir.path(), &["honest1", "honest2"], &[]);
    let status = wait_finished(&coordinator, job, Duration::from_secs(120));
    assert_eq!(status["units"]["done"], 2, "{status}");
    for liar in &liars {
        assert_eq!(
            ledger_balance(&coordinator, &liar.id),
            0,
            "liar {} was paid",
            liar.id
        );
        let record = &coordinator.node(&liar.id).unwrap()["reputation"];
        assert_eq!(record["valid"], 0, "{record}");
    }
    for node in &honest {
        assert!(ledger_balance(&coordinator, &node.id) > 0);
    }
    audit_balances(&coordinator);
}

/// A coordinator and one contributing cache node reached only through its relay (no
/// spot checks to muddy the ledger).
fn relayed_cache_node(dir: &std::path::Path) -> (CoordinatorProcess, NodeProcess) {
    let coordinator =
        CoordinatorProcess::start_with(&dir.join("c"), 0, &["--spot-check-secs", "3600"]);
    let node = start_cache_node(&coordinator, &dir.join("n"), "", &["--cache-listen", "off"]);
    wait_contributing(&coordinator, &node);
    (coordinator, node)
}

#[test]
fn forged_receipts_mint_nothing_and_an_order_pays_once_up_to_its_ceiling() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let (coordinator, node) = relayed_cache_node(dir.path());
    let bytes = make_content(1 << 20, 5);
    let id = publish(
        &coordinator,
        dir.path(),
        "a.bin",
        &bytes,
        &["--replicas", "1"],
    );
    wait_stored(&coordinator, &id, 1, Duration::from_secs(60));
    let content: ContentId = id.parse().unwrap();
    let node_id: NodeId = node.id.parse().unwrap();
    let address: CoordinatorAddress = coordinator.address.parse().unwrap();
    let coordinator_addr = SocketAddr::from(([127, 0, 0, 1], coordinator.quic_port));
    let size = bytes.len() as u64;

    // A customer with an account asks for an order for this node.
    let customer = dir.path().join("customer");
    ensure_funded(&coordinator, &customer);
    let (customer_key, _) = load_or_create_key_file(&customer.join("customer.key")).unwrap();
    let exact = OrdersRequest {
        max_bytes: Some(size),
        ..OrdersRequest::default()
    };
    let orders = signed_api(&coordinator, &customer)
        .content_orders(&content, &exact)
        .unwrap();
    let order = orders.providers[0].order.clone().expect("an order");
    assert_eq!((order.limit.node, order.limit.max_bytes), (node_id, size));

    tokio::runtime::Runtime::new().unwrap().block_on(async {
        // 200 fresh keys each sign for the whole content from a node that served none of
        // it, each in a session of its own: no order, no money.
        for seed in 0..200u32 {
            let mut secret = [9u8; 32];
            secret[..4].copy_from_slice(&seed.to_le_bytes());
            let forger = SigningKey::from_bytes(&secret);
            let connection = dial(&forger, address.key, coordinator_addr).await;
            let receipt = ServiceReceipt {
                client: NodeId::from(forger.verifying_key()),
                node: node_id,
                content,
                session: u64::from(seed) + 1,
                bytes: size,
                signed_at_ms: idleshare_base::clock::unix_ms(),
            }
            .sign(&forger);
            let answer = ask(&connection, &CacheRequest::ViaReceipt(receipt)).await;
            assert!(
                matches!(&answer, CacheResponse::Refused { message } if message.contains("no open order")),
                "{answer:?}"
            );
            connection.close(0u32.into(), b"");
        }
        assert_eq!(coordinator.api().ledger().unwrap().total, MicroTokens(0));

        // The customer's own receipt under its order pays; the same receipt again, or one
        // claiming more than the ceiling, pays nothing more.
        let connection = dial(&customer_key, address.key, coordinator_addr).await;
        let claim = |bytes| {
            ServiceReceipt {
                client: NodeId::from(customer_key.verifying_key()),
                node: node_id,
                content,
                session: order.limit.serial,
                bytes,
                signed_at_ms: idleshare_base::clock::unix_ms(),
            }
            .sign(&customer_key)
        };
        for bytes in [size, size, 4 * size] {
            let answer = ask(&connection, &CacheRequest::ViaReceipt(claim(bytes))).await;
            assert_eq!(answer, CacheResponse::ReceiptTaken);
        }
    });
    // 1 MiB at one token per GiB.
    let price = 1_000_000 >> 10;
    wait_until(Duration::from_secs(10), "the node paid once", || {
        (ledger_balance(&coordinator, &node.id) == price).then_some(())
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        coordinator.api().ledger().unwrap().total,
        MicroTokens(price)
    );
    audit_balances(&coordinator);
}

#[test]
fn anonymous_gateway_fetches_are_paid_from_the_publishers_budget_or_served_by_the_origin() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let (coordinator, node) = relayed_cache_node(dir.path());
    let budgeted = make_content(2 << 20, 8);
    let with_budget = publish(
        &coordinator,
        dir.path(),
        "budget.bin",
        &budgeted,
        &["--replicas", "1", "--serving-budget", "1"],
    );
    let plain = make_content(2 << 20, 9);
    let without = publish(
        &coordinator,
        dir.path(),
        "plain.bin",
        &plain,
        &["--replicas", "1"],
    );
    wait_stored(&coordinator, &with_budget, 1, Duration::from_secs(60));
    wait_stored(&coordinator, &without, 1, Duration::from_secs(60));

    // No budget: served (by the origin), and the node is not asked for free work.
    let (status, _, body) = http_get_bytes(coordinator.http, &format!("/content/{without}"), &[]);
    assert_eq!(status, 200);
    assert!(body == plain);
    assert_eq!(ledger_balance(&coordinator, &node.id), 0);

    // With a budget: the node serves and is paid from it.
    let (status, _, body) =
        http_get_bytes(coordinator.http, &format!("/content/{with_budget}"), &[]);
    assert_eq!(status, 200);
    assert!(body == budgeted);
    let price = 2_000_000 >> 10;
    wait_until(
        Duration::from_secs(10),
        "the node paid from the budget",
        || (ledger_balance(&coordinator, &node.id) == price).then_some(()),
    );
    let left = coordinator
        .api()
        .content_status(&with_budget.parse().unwrap())
        .unwrap();
    assert!(left.serving_budget.0 < 1_000_000, "{left:?}");
    assert!(left.paid_until_ms.is_some());

    // Storage is paid for: a stranger's account cannot fetch through orders without money.
    let stranger = dir.path().join("stranger");
    let out = dir.path().join("x.out");
    let api = api(&coordinator);
    let mut args = vec![
        "fetch",
        &with_budget,
        "-o",
        out.to_str().unwrap(),
        "--api",
        &api,
    ];
    let customer = customer_args(&stranger);
    args.extend(customer.iter().map(String::as_str));
    let said = cli(&args, Duration::from_secs(60));
    assert!(!said.status.success());
    assert!(
        text(&said).contains("insufficient balance"),
        "{}",
        text(&said)
    );
    audit_balances(&coordinator);
}
