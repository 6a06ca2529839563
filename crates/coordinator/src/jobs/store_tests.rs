//! The engine over a real SQLite file: what is acknowledged survives a restart, nothing is
//! paid twice, receipts replay in chain order and sum to the ledger.

use std::sync::Arc;
use std::time::Duration;

use idleshare_protocol::api::UnitState;
use idleshare_protocol::receipt::verify_chain;
use idleshare_protocol::{ContentId, JobId, LeaseId, UnitId};

use super::accounts::Movement;
use super::ops::{Op, Outbound};
use super::tests::{FUNDS, coordinator_key, customer, node, output, spec};
use super::{Engine, ReportOutcome, WorkConfig};

const WAIT: Duration = Duration::from_secs(10);

fn open(path: &std::path::Path) -> Engine {
    let config = WorkConfig {
        adaptive_streak: u64::MAX,
        ..WorkConfig::default()
    };
    Engine::open_seeded(
        path,
        coordinator_key(),
        config,
        3,
        idleshare_base::db::Durability::PowerLoss,
    )
    .unwrap()
}

/// Connects contributing node `seed` asking for `slots`; returns its leases once committed.
async fn join(engine: &Engine, seed: u8, slots: u32) -> Vec<(LeaseId, UnitId)> {
    join_from(engine, seed, seed, slots).await
}

/// [`join`] from the /24 of `network` (see `tests::net`).
async fn join_from(engine: &Engine, seed: u8, network: u8, slots: u32) -> Vec<(LeaseId, UnitId)> {
    let (_, ticket) = engine.apply(|book, rng, ch| {
        book.node_connected(node(seed), super::tests::net(network), 10, rng, ch);
        book.node_activity(node(seed), Some(super::tests::CORES), 10, rng, ch);
        book.want_work(node(seed), slots, 10, rng, ch);
    });
    engine.wait_committed(ticket, WAIT).await.unwrap();
    engine
        .take_committed_outbound()
        .into_iter()
        .filter_map(|o| match o {
            Outbound::Assign { assignment, .. } => Some((assignment.lease, assignment.unit)),
            _ => None,
        })
        .collect()
}

async fn report(engine: &Engine, seed: u8, lease: LeaseId) -> ReportOutcome {
    let (outcome, ticket) =
        engine.apply(|book, rng, ch| book.report(node(seed), &output(lease, 0), 20, rng, ch));
    engine.wait_committed(ticket, WAIT).await.unwrap();
    outcome.unwrap()
}

fn snapshot(engine: &Engine) -> String {
    engine.read(|book| {
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}",
            book.job_status(JobId(1)),
            book.job_results(JobId(1)),
            book.ledger().summary(),
            [1, 2, 3].map(|s| book.reputation(&node(s)))
        )
    })
}

#[tokio::test]
async fn a_restart_loses_nothing_committed_and_pays_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("work.db");
    let engine = open(&path);
    let blob = Arc::<[u8]>::from(&b"input"[..]);
    let ticket = engine.write(vec![Op::Blob {
        id: ContentId::of(&blob),
        owner: customer(),
        bytes: blob.clone(),
    }]);
    let (submitted, _) = engine.apply(|book, _, ch| {
        let deposit = Movement::Deposit {
            account: customer(),
            amount: FUNDS,
        };
        book.money(deposit, String::new(), 1, ch).unwrap();
        book.submit(customer(), None, spec(4, 2), vec![5; 4], 5, ch)
    });
    assert_eq!(submitted.unwrap().0, JobId(1));
    engine.wait_committed(ticket + 1, WAIT).await.unwrap();
    let one = join(&engine, 1, 4).await;
    let two = join(&engine, 2, 4).await;
    assert_eq!((one.len(), two.len()), (4, 4));
    // Units 1 and 2 settle; unit 3 has one result; unit 4 none.
    for (lease, unit) in &one[..3] {
        report(&engine, 1, *lease).await;
        if unit.0 <= 2 {
            let other = two.iter().find(|(_, u)| u == unit).unwrap().0;
            report(&engine, 2, other).await;
        }
    }
    let before = snapshot(&engine);
    drop(engine);

    let engine = open(&path);
    assert_eq!(snapshot(&engine), before, "state equal after reopening");
    assert_eq!(
        engine
            .store()
            .blob(&ContentId::of(&blob))
            .unwrap()
            .as_deref(),
        Some(&blob[..])
    );
    // Duplicates of settled or recorded results count for nothing.
    assert_eq!(report(&engine, 1, one[0].0).await, ReportOutcome::Settled);
    assert_eq!(report(&engine, 1, one[2].0).await, ReportOutcome::Duplicate);
    // Leases held at the crash lapsed (re-issued), but node 2's late result still counts.
    let late = two.iter().find(|(_, u)| *u == UnitId(3)).unwrap().0;
    assert_eq!(report(&engine, 2, late).await, ReportOutcome::Counted);
    let three = join(&engine, 3, 4).await;
    assert_eq!(
        three.iter().map(|l| l.1).collect::<Vec<_>>(),
        vec![UnitId(4)]
    );
    let summary = engine.read(|book| book.ledger().summary());
    assert_eq!(summary.receipts, 6, "two per settled unit, once each");
    let stored = engine.store().stored_totals().unwrap();
    assert_eq!(
        (stored.receipts_total, stored.receipts),
        (summary.total.0, 6)
    );
    let audit = super::audit::audit(&engine).await.unwrap();
    assert!(audit.balanced, "{:?}", audit.problems);
    assert_eq!(audit.paid_to_nodes, summary.total);
    for seed in [1, 2] {
        let chain = engine.store().receipts(&node(seed), 1, 100).unwrap();
        let tip = verify_chain(&chain, &engine.issuer(), &node(seed)).unwrap();
        assert_eq!(tip.seq, 3);
        let tail = engine.store().receipts(&node(seed), 2, 100).unwrap();
        assert_eq!(tail.first().map(|r| r.receipt.seq), Some(2));
    }
    assert_eq!(
        engine.read(|b| b.unit(UnitId(3)).map(|u| u.state)),
        Some(UnitState::Done)
    );
}

#[tokio::test]
async fn the_network_of_a_replica_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("work.db");
    let engine = open(&path);
    let (submitted, ticket) = engine.apply(|book, _, ch| {
        let deposit = Movement::Deposit {
            account: customer(),
            amount: FUNDS,
        };
        book.money(deposit, String::new(), 1, ch).unwrap();
        book.submit(customer(), None, spec(1, 2), vec![5], 5, ch)
    });
    submitted.unwrap();
    engine.wait_committed(ticket, WAIT).await.unwrap();
    // Node 1 on network 9 reports; the unit waits for a second opinion.
    let (lease, _) = join_from(&engine, 1, 9, 1).await[0];
    report(&engine, 1, lease).await;
    drop(engine);

    let engine = open(&path);
    assert!(
        join_from(&engine, 2, 9, 1).await.is_empty(),
        "network 9 already has a result, after the restart too"
    );
    let units: Vec<UnitId> = join_from(&engine, 3, 10, 1)
        .await
        .into_iter()
        .map(|(_, unit)| unit)
        .collect();
    assert_eq!(units, vec![UnitId(1)]);
}
