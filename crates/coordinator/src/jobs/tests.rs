//! Scenario tests of the pure book: quorum, disagreement, leases, abandons, adaptive
//! replication, duplicates and receipts.

use ed25519_dalek::SigningKey;
use idleshare_protocol::api::UnitState;
use idleshare_protocol::net::NetworkPrefix;
use idleshare_protocol::receipt::verify_chain;
use idleshare_protocol::{
    Assignment, ContentId, FailureKind, JobId, JobLimits, JobSpec, LeaseId, NodeId, SignedReceipt,
    UnitId, UnitOutcome, UnitReport,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::accounts::Movement;
use super::ops::{Changes, Outbound};
use super::receipts::Ledger;
use super::{Book, ReportOutcome, WorkConfig};

pub(super) const FUEL: u64 = 100_000_000;

pub(super) fn node(seed: u8) -> NodeId {
    NodeId::from(SigningKey::from_bytes(&[seed; 32]).verifying_key())
}

/// The network node `seed` connects from: each node its own (127.0.SEED.0/24).
pub(super) fn net(seed: u8) -> Option<NetworkPrefix> {
    Some(NetworkPrefix::V4([127, 0, seed]))
}

/// Cores every test node's budget grants.
pub(super) const CORES: u32 = 16;

/// The account that pays for the jobs in these tests.
pub(super) fn customer() -> NodeId {
    node(150)
}

/// What the test customer starts with (plenty).
pub(super) const FUNDS: u64 = 1_000_000_000_000;

pub(super) fn coordinator_key() -> SigningKey {
    SigningKey::from_bytes(&[200; 32])
}

pub(super) fn spec(inputs: usize, replication: u8) -> JobSpec {
    JobSpec {
        module: ContentId::of(b"module"),
        entry: "run".into(),
        inputs: (0..inputs)
            .map(|i| ContentId::of(&i.to_le_bytes()))
            .collect(),
        limits: JobLimits::default(),
        replication,
    }
}

/// An honest (tag 0) or lying (other tags) output report.
pub(super) fn output(lease: LeaseId, tag: u8) -> UnitReport {
    UnitReport {
        lease,
        fuel: FUEL,
        outcome: UnitOutcome::Output {
            id: ContentId::from_bytes([tag; 32]),
            len: 4,
        },
    }
}

pub(super) struct Harness {
    pub book: Book,
    pub rng: StdRng,
    pub now: u64,
    pub receipts: Vec<SignedReceipt>,
    pub revoked: Vec<LeaseId>,
}

impl Harness {
    pub fn new(config: WorkConfig) -> Self {
        let ledger = Ledger::new(coordinator_key(), config.credit_rate, config.serving_rate);
        let mut book = Book::new(config, ledger);
        let deposit = Movement::Deposit {
            account: customer(),
            amount: FUNDS,
        };
        book.money(deposit, String::new(), 0, &mut Changes::default())
            .unwrap();
        Self {
            book,
            rng: StdRng::seed_from_u64(1),
            now: 1_000,
            receipts: Vec::new(),
            revoked: Vec::new(),
        }
    }

    pub fn submit(&mut self, inputs: usize, replication: u8) -> JobId {
        let mut ch = Changes::default();
        let (job, _) = self
            .book
            .submit(
                customer(),
                None,
                spec(inputs, replication),
                vec![4; inputs],
                self.now,
                &mut ch,
            )
            .unwrap();
        self.book.dispatch(self.now, &mut self.rng, &mut ch);
        self.take(ch);
        job
    }

    /// Keeps receipts and revokes; returns the assignments.
    pub fn take(&mut self, ch: Changes) -> Vec<Assignment> {
        let mut assigned = Vec::new();
        for out in ch.out {
            match out {
                Outbound::Assign { assignment, .. } => assigned.push(*assignment),
                Outbound::Revoke { lease, .. } => self.revoked.push(lease),
                Outbound::Receipt { receipt, .. } => self.receipts.push(*receipt),
            }
        }
        assigned
    }

    /// Connects a contributing node from its own network; returns what it is assigned for
    /// `slots`.
    pub fn join(&mut self, seed: u8, slots: u32) -> Vec<Assignment> {
        self.join_from(seed, net(seed), slots)
    }

    /// [`Self::join`] from `network`.
    pub fn join_from(
        &mut self,
        seed: u8,
        network: Option<NetworkPrefix>,
        slots: u32,
    ) -> Vec<Assignment> {
        let mut ch = Changes::default();
        let (now, rng) = (self.now, &mut self.rng);
        self.book
            .node_connected(node(seed), network, now, rng, &mut ch);
        self.book
            .node_activity(node(seed), Some(CORES), now, rng, &mut ch);
        self.book.want_work(node(seed), slots, now, rng, &mut ch);
        self.take(ch)
    }

    pub fn want(&mut self, seed: u8, slots: u32) -> Vec<Assignment> {
        let mut ch = Changes::default();
        self.book
            .want_work(node(seed), slots, self.now, &mut self.rng, &mut ch);
        self.take(ch)
    }

    /// Reports; returns the outcome and what got assigned as a consequence.
    pub fn report(&mut self, seed: u8, report: UnitReport) -> (ReportOutcome, Vec<Assignment>) {
        let mut ch = Changes::default();
        let outcome = self
            .book
            .report(node(seed), &report, self.now, &mut self.rng, &mut ch)
            .unwrap();
        (outcome, self.take(ch))
    }

    pub fn state(&self, unit: UnitId) -> UnitState {
        self.book.unit(unit).unwrap().state
    }

    pub fn balance(&self, seed: u8) -> u64 {
        let mine: Vec<&SignedReceipt> = self
            .receipts
            .iter()
            .filter(|r| r.receipt.node == node(seed))
            .collect();
        let issuer = NodeId::from(coordinator_key().verifying_key());
        verify_chain(mine, &issuer, &node(seed)).unwrap().balance.0
    }
}

#[test]
fn two_agreeing_results_settle_done_and_pay_both_nodes() {
    let mut h = Harness::new(WorkConfig::default());
    let job = h.submit(1, 2);
    let a = h.join(1, 4);
    let b = h.join(2, 4);
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_eq!(h.report(1, output(a[0].lease, 0)).0, ReportOutcome::Counted);
    assert_eq!(h.state(a[0].unit), UnitState::Pending);
    h.report(2, output(b[0].lease, 0));
    assert_eq!(h.state(a[0].unit), UnitState::Done);
    let paid = FUEL / 1_000_000 * 1000;
    assert_eq!((h.balance(1), h.balance(2)), (paid, paid));
    let status = h.book.job_status(job).unwrap();
    assert!(status.finished);
    assert_eq!(
        (status.units.done, status.paid.0, status.fuel),
        (1, 2 * paid, FUEL)
    );
    let results = h.book.job_results(job).unwrap();
    assert_eq!(
        results.units[0].output,
        Some(ContentId::from_bytes([0; 32]))
    );
    assert_eq!(h.book.ledger().summary().total.0, 2 * paid);
    assert_eq!(h.book.reputation(&node(1)).consecutive_valid, 1);
}

#[test]
fn disagreement_adds_a_replica_and_the_honest_majority_wins() {
    let mut h = Harness::new(WorkConfig::default());
    h.submit(1, 2);
    let honest = h.join(1, 1);
    let liar = h.join(2, 1);
    h.report(2, output(liar[0].lease, 9));
    let (_, extra) = h.report(1, output(honest[0].lease, 0));
    assert!(extra.is_empty(), "nobody else is connected yet");
    assert_eq!(h.state(honest[0].unit), UnitState::Pending);
    let third = h.join(3, 1);
    assert_eq!(third.len(), 1, "a third replica after the disagreement");
    h.report(3, output(third[0].lease, 0));
    assert_eq!(h.state(honest[0].unit), UnitState::Done);
    assert!(h.balance(1) > 0 && h.balance(3) > 0);
    assert_eq!(h.balance(2), 0, "the liar is not credited");
    let liar_record = h.book.reputation(&node(2));
    assert_eq!((liar_record.invalid, liar_record.consecutive_valid), (1, 0));
    assert_eq!(h.book.reputation(&node(1)).valid, 1);
}

#[test]
fn a_node_never_gets_two_replicas_of_one_unit_and_quorum_units_go_first() {
    let mut h = Harness::new(WorkConfig::default());
    h.submit(3, 2);
    let first = h.join(1, 10);
    let units: Vec<UnitId> = first.iter().map(|a| a.unit).collect();
    assert_eq!(
        units,
        vec![UnitId(1), UnitId(2), UnitId(3)],
        "one replica each"
    );
    assert!(h.want(1, 10).is_empty());
    // Unit 3 has a result waiting for its quorum: offered before units 1 and 2.
    h.report(1, output(first[2].lease, 0));
    let second = h.join(2, 1);
    assert_eq!(second[0].unit, UnitId(3));
}

#[test]
fn only_connected_contributing_nodes_get_work() {
    let mut h = Harness::new(WorkConfig::default());
    h.submit(1, 1);
    let mut ch = Changes::default();
    h.book
        .node_connected(node(1), net(1), h.now, &mut h.rng, &mut ch);
    h.book.want_work(node(1), 3, h.now, &mut h.rng, &mut ch);
    assert!(h.take(ch).is_empty(), "not contributing yet");
    let mut ch = Changes::default();
    h.book
        .node_activity(node(1), Some(CORES), h.now, &mut h.rng, &mut ch);
    assert_eq!(h.take(ch).len(), 1, "work arrives once it contributes");
}

#[test]
fn an_expired_lease_is_reissued_and_its_late_result_still_counts() {
    let config = WorkConfig::default();
    let mut h = Harness::new(config);
    h.submit(1, 1);
    let slow = h.join(1, 1);
    assert!(h.join(2, 1).is_empty(), "replication 1: one replica");
    h.now += config.lease_ms + 1;
    let mut ch = Changes::default();
    assert_eq!(h.book.expire(h.now, &mut h.rng, &mut ch), 1);
    let reissued = h.take(ch);
    assert_eq!(reissued.len(), 1, "node 2 gets the replica");
    assert_eq!(
        h.report(1, output(slow[0].lease, 0)).0,
        ReportOutcome::Counted
    );
    assert_eq!(h.state(slow[0].unit), UnitState::Done);
    assert_eq!(
        h.revoked,
        vec![reissued[0].lease],
        "the re-issued replica is revoked"
    );
    assert_eq!(
        h.report(2, output(reissued[0].lease, 0)).0,
        ReportOutcome::Settled
    );
    assert_eq!(h.balance(2), 0);
}

#[test]
fn a_disconnect_reissues_the_nodes_replicas() {
    let mut h = Harness::new(WorkConfig::default());
    h.submit(2, 1);
    assert_eq!(h.join(1, 2).len(), 2);
    assert!(h.join(2, 2).is_empty());
    let mut ch = Changes::default();
    h.book
        .node_disconnected(node(1), h.now, &mut h.rng, &mut ch);
    let moved: Vec<NodeId> = ch.out.iter().map(Outbound::node).collect();
    assert_eq!(moved, vec![node(2), node(2)]);
}

#[test]
fn abandons_reissue_until_three_nodes_gave_up_the_unit() {
    let mut h = Harness::new(WorkConfig::default());
    h.submit(1, 1);
    let mut lease = h.join(1, 1)[0].lease;
    for seed in 2..=3 {
        assert!(h.join(seed, 1).is_empty());
        let mut ch = Changes::default();
        h.book
            .abandon(
                node(seed - 1),
                lease,
                "deadline",
                h.now,
                &mut h.rng,
                &mut ch,
            )
            .unwrap();
        let next = h.take(ch);
        assert_eq!(next.len(), 1, "re-issued to node {seed}");
        lease = next[0].lease;
    }
    let mut ch = Changes::default();
    let refused = h
        .book
        .abandon(node(1), lease, "x", h.now, &mut h.rng, &mut ch);
    assert!(refused.is_err(), "not node 1's lease");
    h.book
        .abandon(node(3), lease, "stopping", h.now, &mut h.rng, &mut ch)
        .unwrap();
    assert_eq!(h.state(UnitId(1)), UnitState::GaveUp);
    let why = h.book.unit(UnitId(1)).unwrap().settlement.clone().unwrap();
    assert!(why.gave_up.unwrap().contains("abandoned by 3 nodes"));
}

#[test]
fn disagreement_beyond_the_attempt_cap_gives_up_without_paying() {
    let mut h = Harness::new(WorkConfig::default());
    h.submit(1, 2);
    for seed in 1..=5 {
        let got = h.join(seed, 1);
        assert_eq!(got.len(), 1, "replica {seed}");
        h.report(seed, output(got[0].lease, seed));
    }
    assert_eq!(h.state(UnitId(1)), UnitState::GaveUp);
    assert!(h.join(6, 1).is_empty());
    assert!(h.receipts.is_empty());
}

#[test]
fn a_duplicate_result_counts_once() {
    let mut h = Harness::new(WorkConfig::default());
    h.submit(1, 2);
    let a = h.join(1, 1);
    assert_eq!(h.report(1, output(a[0].lease, 0)).0, ReportOutcome::Counted);
    assert_eq!(
        h.report(1, output(a[0].lease, 0)).0,
        ReportOutcome::Duplicate
    );
    assert_eq!(
        h.state(a[0].unit),
        UnitState::Pending,
        "one node is no quorum"
    );
    let b = h.join(2, 1);
    h.report(2, output(b[0].lease, 0));
    assert_eq!(h.report(1, output(a[0].lease, 0)).0, ReportOutcome::Settled);
    assert_eq!(h.receipts.len(), 2);
}

#[test]
fn agreeing_failures_settle_as_failed_with_the_message() {
    let mut h = Harness::new(WorkConfig::default());
    h.submit(1, 2);
    let trap = |lease| UnitReport {
        lease,
        fuel: 77,
        outcome: UnitOutcome::Failed {
            kind: FailureKind::Trap,
            message: "unreachable".into(),
        },
    };
    let a = h.join(1, 1);
    let b = h.join(2, 1);
    h.report(1, trap(a[0].lease));
    h.report(2, trap(b[0].lease));
    let settled = h.book.unit(UnitId(1)).unwrap();
    assert_eq!(settled.state, UnitState::Failed);
    let failure = settled.settlement.clone().unwrap().failure.unwrap();
    assert_eq!(
        (failure.kind, failure.message.as_str()),
        (FailureKind::Trap, "unreachable")
    );
}

#[test]
fn adaptive_replication_starts_only_once_vetted_with_ten_consecutive_valid() {
    let mut h = Harness::new(WorkConfig::default());
    // Nodes 1 and 2 agree on 19 units: a streak of 19 but one result short of vetting, so
    // every unit still gets two replicas.
    h.submit(19, 2);
    for _ in 0..19 {
        let a = h.join(1, 1);
        let b = h.join(2, 1);
        assert_eq!((a.len(), b.len()), (1, 1));
        h.report(1, output(a[0].lease, 0));
        h.report(2, output(b[0].lease, 0));
    }
    assert_eq!(h.book.reputation(&node(1)).consecutive_valid, 19);
    // One more: 20 valid, vetted. Now most units node 1 starts need no second replica.
    h.submit(1, 2);
    let a = h.join(1, 1);
    let b = h.join(2, 1);
    h.report(1, output(a[0].lease, 0));
    h.report(2, output(b[0].lease, 0));
    assert_eq!(h.book.reputation(&node(1)).consecutive_valid, 20);
    h.submit(200, 2);
    let mut alone = 0;
    for _ in 0..200 {
        let a = h.join(1, 1);
        let unit = a[0].unit;
        h.report(1, output(a[0].lease, 0));
        if h.state(unit) == UnitState::Done {
            alone += 1;
        } else {
            let b = h.join(2, 1);
            h.report(2, output(b[0].lease, 0));
        }
    }
    // 1 − 1/streak with the streak growing from 20, capped at 95 %: about 188 of 200,
    // and never all of them (the re-checks).
    assert!(
        (175..198).contains(&alone),
        "{alone} of 200 ran unreplicated"
    );
}

#[test]
fn receipt_chains_verify_and_the_ledger_total_is_their_sum() {
    let mut h = Harness::new(WorkConfig {
        adaptive_streak: u64::MAX,
        ..WorkConfig::default()
    });
    h.submit(20, 2);
    for _ in 0..20 {
        for seed in [1, 2, 3] {
            for a in h.want(seed, 1) {
                h.report(seed, output(a.lease, 0));
            }
            h.join(seed, 1).into_iter().for_each(|a| {
                h.report(seed, output(a.lease, 0));
            });
        }
    }
    let summary = h.book.ledger().summary();
    let sum: u64 = [1, 2, 3].iter().map(|s| h.balance(*s)).sum();
    assert_eq!(summary.total.0, sum);
    assert_eq!(summary.receipts, 40, "two credits per unit");
}
