//! Scenario tests of where tokens go: a job's escrow pays exactly min(fuel, limit) × rate
//! plus the fee and refunds the rest; a report above the fuel limit is invalid and paid
//! nothing; serving is paid only under an open order, once per serial, never past its
//! ceiling, and unused escrow returns at expiry; storage pays holders per period and ends.

use ed25519_dalek::SigningKey;
use idleshare_protocol::api::{Pot, UnitState};
use idleshare_protocol::cache::ServiceReceipt;
use idleshare_protocol::{ContentId, MicroTokens, NodeId};

use super::WorkConfig;
use super::accounts::MoneyError;
use super::ops::Changes;
use super::orders::{CLAIM_GRACE_MS, OrderRefused, OrderRequest, Payer};
use super::storage::{DAY_MS, StorageRequest};
use super::tests::{FUEL, FUNDS, Harness, customer, node, output};

fn audit_balances(h: &Harness) {
    let totals = h.book.accounts().totals();
    assert!(totals.balanced(), "{totals:?}");
    assert_eq!(
        totals.paid,
        u128::from(h.book.ledger().summary().total.0),
        "paid to nodes = the receipts"
    );
}

#[test]
fn a_funded_job_pays_exactly_and_refunds_the_rest() {
    let mut h = Harness::new(WorkConfig::default());
    let job = h.submit(2, 2);
    let limit_price = 10_000_000u64; // 10 Gfuel at 1000 micro-tokens per Mfuel
    let escrow = 2 * 2 * (limit_price + limit_price / 20);
    assert_eq!(
        h.book.job_status(job).unwrap().escrowed,
        MicroTokens(escrow)
    );
    let a = h.join(1, 2);
    let b = h.join(2, 2);
    for (seed, leases) in [(1, &a), (2, &b)] {
        for assignment in leases.iter() {
            h.report(seed, output(assignment.lease, 0));
        }
    }
    let status = h.book.job_status(job).unwrap();
    assert!(status.finished);
    let per_result = FUEL / 1_000_000 * 1000;
    let fee = per_result / 20;
    assert_eq!(status.paid, MicroTokens(4 * per_result));
    assert_eq!(status.spent, MicroTokens(4 * (per_result + fee)));
    assert_eq!(
        status.refunded,
        MicroTokens(escrow - 4 * (per_result + fee))
    );
    let account = h.book.accounts().view(&customer());
    assert_eq!(account.balance, MicroTokens(FUNDS - 4 * (per_result + fee)));
    assert_eq!(account.escrowed, MicroTokens(0));
    assert_eq!(
        (h.balance(1), h.balance(2)),
        (2 * per_result, 2 * per_result)
    );
    audit_balances(&h);
}

#[test]
fn colluding_reports_above_the_fuel_limit_are_invalid_and_paid_nothing() {
    let mut h = Harness::new(WorkConfig::default());
    let job = h.submit(1, 2);
    let a = h.join(1, 1);
    let b = h.join(2, 1);
    let greedy = |lease| {
        let mut report = output(lease, 0);
        report.fuel = u64::MAX / 2;
        report
    };
    h.report(1, greedy(a[0].lease));
    h.report(2, greedy(b[0].lease));
    assert_eq!(
        h.state(a[0].unit),
        UnitState::Pending,
        "two liars do not make a quorum"
    );
    assert_eq!((h.balance(1), h.balance(2)), (0, 0));
    for seed in [1, 2] {
        let record = h.book.reputation(&node(seed));
        assert_eq!((record.invalid, record.consecutive_valid), (1, 0));
    }
    assert!(
        h.want(1, 1).is_empty(),
        "a liar gets no second replica of the unit"
    );
    // Two honest nodes settle it and are paid; the job refunds what they did not use.
    let c = h.join(3, 1);
    let d = h.join(4, 1);
    h.report(3, output(c[0].lease, 0));
    h.report(4, output(d[0].lease, 0));
    assert_eq!(h.state(a[0].unit), UnitState::Done);
    assert_eq!(h.balance(3), FUEL / 1000);
    assert!(h.book.job_status(job).unwrap().refunded.0 > 0);
    audit_balances(&h);
}

#[test]
fn an_unfunded_job_is_refused_with_what_it_needs() {
    let mut h = Harness::new(WorkConfig::default());
    let mut ch = Changes::default();
    let poor = node(77);
    let refused = h
        .book
        .submit(poor, None, super::tests::spec(1, 2), vec![4], 1, &mut ch)
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "insufficient balance: need 21.000000, have 0.000000"
    );
    assert!(ch.ops.is_empty(), "a refused job writes nothing");
    audit_balances(&h);
    // A price that does not fit in an amount is refused, not wrapped.
    let mut dear = WorkConfig::default();
    dear.credit_rate.micro_tokens_per_megafuel = u64::MAX;
    let mut h = Harness::new(dear);
    let refused = h.book.submit(
        customer(),
        None,
        super::tests::spec(2, 2),
        vec![4, 4],
        1,
        &mut ch,
    );
    assert!(
        matches!(refused, Err(super::SubmitError::TooExpensive)),
        "{refused:?}"
    );
}

fn claim(client: &SigningKey, node_id: NodeId, serial: u64, bytes: u64, at: u64) -> ServiceReceipt {
    ServiceReceipt {
        client: NodeId::from(client.verifying_key()),
        node: node_id,
        content: ContentId::of(b"site"),
        session: serial,
        bytes,
        signed_at_ms: at,
    }
}

#[test]
fn serving_pays_only_under_an_order_once_and_up_to_its_ceiling() {
    let mut h = Harness::new(WorkConfig::default());
    let client = SigningKey::from_bytes(&[60; 32]);
    let mut ch = Changes::default();
    // 200 fresh keys sign receipts for a node that served nothing: no order, no money.
    for seed in 0..200u32 {
        let mut bytes = [0u8; 32];
        bytes[..4].copy_from_slice(&seed.to_le_bytes());
        bytes[31] = 1;
        let forger = SigningKey::from_bytes(&bytes);
        let forged = claim(&forger, node(1), u64::from(seed) + 1, 1 << 30, 10);
        assert!(matches!(
            h.book.credit_serving(&forged, 10, &mut ch),
            Err(OrderRefused::Unknown(_))
        ));
    }
    assert_eq!(h.book.ledger().summary().total, MicroTokens(0));

    let gib = 1u64 << 30;
    let request = OrderRequest {
        payer: Payer::Account(customer()),
        client: NodeId::from(client.verifying_key()),
        node: node(1),
        content: ContentId::of(b"site"),
        max_bytes: gib,
        expires_at_ms: 1_000_000,
    };
    let order = h
        .book
        .issue_order(request, 10, &mut h.rng, &mut ch)
        .unwrap();
    let serial = order.limit.serial;
    let escrowed = 1_000_000 + 50_000;
    assert_eq!(
        h.book.accounts().pot(&Pot::Order(serial)).unwrap().held(),
        escrowed
    );
    // Half, then the same receipt again (a replay), then past the ceiling.
    let half = claim(&client, node(1), serial, gib / 2, 20);
    assert_eq!(
        h.book.credit_serving(&half, 20, &mut ch).unwrap(),
        Some(MicroTokens(500_000))
    );
    assert_eq!(h.book.credit_serving(&half, 21, &mut ch).unwrap(), None);
    let beyond = claim(&client, node(1), serial, 4 * gib, 30);
    assert_eq!(
        h.book.credit_serving(&beyond, 30, &mut ch).unwrap(),
        Some(MicroTokens(500_000))
    );
    // Another node, another client, or after expiry: refused.
    let elsewhere = claim(&client, node(2), serial, gib, 40);
    assert_eq!(
        h.book.credit_serving(&elsewhere, 40, &mut ch),
        Err(OrderRefused::Mismatch(serial))
    );
    let late = claim(&client, node(1), serial, gib, 1_000_001);
    assert_eq!(
        h.book.credit_serving(&late, 1_000_001, &mut ch),
        Err(OrderRefused::Expired(serial))
    );
    h.take(ch);
    assert_eq!(h.balance(1), 1_000_000);
    audit_balances(&h);
}

#[test]
fn unused_order_escrow_returns_after_expiry_and_the_order_is_closed() {
    let mut h = Harness::new(WorkConfig::default());
    let client = SigningKey::from_bytes(&[61; 32]);
    let mut ch = Changes::default();
    let request = OrderRequest {
        payer: Payer::Account(customer()),
        client: NodeId::from(client.verifying_key()),
        node: node(1),
        content: ContentId::of(b"site"),
        max_bytes: 1 << 30,
        expires_at_ms: 5_000,
    };
    let order = h
        .book
        .issue_order(request, 10, &mut h.rng, &mut ch)
        .unwrap();
    let quarter = claim(&client, node(1), order.limit.serial, 1 << 28, 100);
    h.book.credit_serving(&quarter, 100, &mut ch).unwrap();
    assert_eq!(h.book.close_orders(5_000 + CLAIM_GRACE_MS - 1, &mut ch), 0);
    assert_eq!(h.book.close_orders(5_000 + CLAIM_GRACE_MS, &mut ch), 1);
    let spent = 250_000 + 12_500;
    assert_eq!(
        h.book.accounts().view(&customer()).balance,
        MicroTokens(FUNDS - spent)
    );
    assert!(matches!(
        h.book.credit_serving(&quarter, 200, &mut ch),
        Err(OrderRefused::Unknown(_))
    ));
    // An account that cannot cover a ceiling gets no order.
    let poor = OrderRequest {
        payer: Payer::Account(node(99)),
        ..request
    };
    assert!(matches!(
        h.book.issue_order(poor, 10, &mut h.rng, &mut ch),
        Err(MoneyError::Insufficient { .. })
    ));
    audit_balances(&h);
}

#[test]
fn storage_pays_holders_each_period_then_ends_and_refunds_the_rest() {
    let config = WorkConfig {
        storage_period_ms: DAY_MS,
        ..WorkConfig::default()
    };
    let mut h = Harness::new(config);
    let mut ch = Changes::default();
    let content = ContentId::of(b"site");
    let request = StorageRequest {
        owner: customer(),
        content,
        size: 1 << 30,
        replicas: 2,
        days: 3,
        serving_budget: 7,
    };
    let funded = h.book.fund_storage(request, 0, &mut ch).unwrap();
    let per_copy_day = 50_000;
    let nodes_part = 3 * 2 * per_copy_day;
    assert_eq!(
        funded.storage,
        nodes_part + nodes_part / 20 + 3 * per_copy_day
    );
    assert_eq!(funded.paid_until_ms, 3 * DAY_MS);
    let again = h.book.fund_storage(request, 1, &mut ch).unwrap();
    assert!(!again.new && again.storage == 0, "paid once");
    // Day 1 with three holders: only the two copies paid for earn; a second look pays nothing.
    let holders = [node(1), node(2), node(3)];
    assert_eq!(h.book.pay_storage(content, &holders, DAY_MS, &mut ch), 2);
    assert_eq!(
        h.book.pay_storage(content, &holders, DAY_MS + 5, &mut ch),
        0
    );
    // Day 2 nobody holds it; day 3 one node does.
    assert_eq!(
        h.book.pay_storage(content, &[node(1)], 3 * DAY_MS, &mut ch),
        1
    );
    let ended = h.book.end_storage(3 * DAY_MS, &mut ch);
    assert_eq!(ended, vec![content]);
    assert!(h.book.storage().term(&content).is_none());
    let paid = 3 * per_copy_day;
    let fees = paid / 20 + 3 * per_copy_day;
    let account = h.book.accounts().view(&customer());
    assert_eq!(account.balance, MicroTokens(FUNDS - paid - fees));
    assert_eq!(account.escrowed, MicroTokens(0));
    // An unfunded publisher is refused whole.
    let poor = StorageRequest {
        owner: node(98),
        content: ContentId::of(b"other"),
        ..request
    };
    assert!(matches!(
        h.book.fund_storage(poor, 0, &mut ch),
        Err(MoneyError::Insufficient { .. })
    ));
    audit_balances(&h);
}

#[test]
fn a_publishers_serving_budget_pays_anonymous_orders_until_spent() {
    let mut h = Harness::new(WorkConfig::default());
    let mut ch = Changes::default();
    let content = ContentId::of(b"site");
    let budget = 1_050_000; // one GiB's ceiling and its fee
    let request = StorageRequest {
        owner: customer(),
        content,
        size: 1 << 20,
        replicas: 1,
        days: 1,
        serving_budget: budget,
    };
    h.book.fund_storage(request, 0, &mut ch).unwrap();
    let gateway = OrderRequest {
        payer: Payer::Budget(content),
        client: node(200),
        node: node(1),
        content,
        max_bytes: 1 << 30,
        expires_at_ms: 1_000,
    };
    h.book.issue_order(gateway, 1, &mut h.rng, &mut ch).unwrap();
    assert!(matches!(
        h.book.issue_order(gateway, 2, &mut h.rng, &mut ch),
        Err(MoneyError::PotShort { .. })
    ));
    audit_balances(&h);
}
