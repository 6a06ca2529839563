//! Rebuilding the book from stored rows after a restart. Leases held at the crash lapse
//! (their units are re-issued), but their late results are still accepted.

use idleshare_protocol::api::{Reputation, UnitState};
use idleshare_protocol::{
    ContentId, JobId, JobSpec, LeaseId, NodeId, SignedReceipt, UnitId, UnitReport,
};

use idleshare_protocol::auth::AccountId;
use idleshare_protocol::order::OrderLimit;

use super::WorkConfig;
use super::accounts::Movement;
use super::book::{Book, Lease, LeaseState, ResultRec, new_job};
use super::ops::Settlement;
use super::receipts::Ledger;
use super::settle::count_settled;

/// A stored unit.
#[derive(Debug, Clone)]
pub struct UnitRow {
    /// Its id.
    pub id: UnitId,
    /// Its job.
    pub job: JobId,
    /// Its input.
    pub input: ContentId,
    /// The input's length.
    pub input_len: u32,
    /// Its quorum.
    pub quorum: u8,
    /// Its state.
    pub state: UnitState,
    /// Its settlement, when settled.
    pub settlement: Option<Settlement>,
}

/// A stored job.
#[derive(Debug, Clone)]
pub struct JobRow {
    /// Its id.
    pub id: JobId,
    /// Who pays (none for jobs stored before accounts).
    pub owner: Option<AccountId>,
    /// What it pays at (none for jobs stored before accounts: today's price).
    pub price: Option<super::book::JobPrice>,
    /// What was asked.
    pub spec: JobSpec,
    /// When it was accepted.
    pub submitted_at_ms: u64,
    /// The network it was sent from, if known.
    pub network: Option<idleshare_protocol::net::NetworkPrefix>,
    /// Its first unit.
    pub first_unit: UnitId,
}

/// A stored lease.
#[derive(Debug, Clone)]
pub struct StoredLease {
    /// Its id.
    pub id: LeaseId,
    /// Its unit.
    pub unit: UnitId,
    /// The node it went to.
    pub node: NodeId,
    /// The network the node held it from, if known.
    pub network: Option<idleshare_protocol::net::NetworkPrefix>,
}

/// A stored result of a unit still pending.
#[derive(Debug, Clone)]
pub struct StoredResult {
    /// Its unit.
    pub unit: UnitId,
    /// Who reported it.
    pub node: NodeId,
    /// What it said.
    pub report: UnitReport,
    /// Already judged invalid (more fuel than the limit, or its node was caught lying).
    pub invalid: bool,
}

/// Everything stored, in id order.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Every movement of tokens, in the order applied.
    pub movements: Vec<Movement>,
    /// Storage still paid for.
    pub storage: Vec<super::storage::StorageTerm>,
    /// Every order limit, its price, and whether it is closed.
    pub orders: Vec<(OrderLimit, super::orders::OrderPrice, bool)>,
    /// Jobs.
    pub jobs: Vec<JobRow>,
    /// Units.
    pub units: Vec<UnitRow>,
    /// Leases, in id order.
    pub leases: Vec<StoredLease>,
    /// Results of units still pending.
    pub results: Vec<StoredResult>,
    /// Abandons of units still pending.
    pub abandons: Vec<(UnitId, NodeId)>,
    /// Reputations.
    pub reputations: Vec<(NodeId, Reputation)>,
    /// Receipts, by node then sequence.
    pub receipts: Vec<SignedReceipt>,
}

/// Why stored rows do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored work is inconsistent: {0}")]
pub struct RestoreError(pub String);

impl Book {
    /// Rebuilds the book from `snapshot`.
    pub fn restore(
        config: WorkConfig,
        mut ledger: Ledger,
        snapshot: Snapshot,
    ) -> Result<Self, RestoreError> {
        let bad = |what: String| RestoreError(what);
        let mut paid: Vec<(UnitId, u64)> = Vec::with_capacity(snapshot.receipts.len());
        for receipt in &snapshot.receipts {
            ledger.restore(receipt);
            if let Some(unit) = receipt.receipt.work.unit() {
                paid.push((unit, receipt.receipt.amount.0));
            }
        }
        let mut book = Book::new(config, ledger);
        for (index, movement) in snapshot.movements.iter().enumerate() {
            book.accounts
                .apply(movement)
                .map_err(|e| bad(format!("movement {} ({movement:?}): {e}", index + 1)))?;
        }
        for (limit, price, closed) in snapshot.orders {
            if closed {
                book.orders.note_closed(limit.serial);
            } else {
                book.orders.insert(limit, price);
            }
        }
        for term in snapshot.storage {
            book.storage.insert(term);
        }
        for job in snapshot.jobs {
            let mut row = new_job(job.owner, job.spec, job.submitted_at_ms, job.first_unit);
            row.price = job.price.unwrap_or_else(|| book.price_now());
            row.network = job.network;
            book.jobs.insert(job.id, row);
        }
        for (expected, row) in (1u64..).zip(snapshot.units) {
            if row.id.0 != expected {
                return Err(bad(format!(
                    "unit ids jump to {} where {expected} was due",
                    row.id
                )));
            }
            let job = book
                .jobs
                .get_mut(&row.job)
                .ok_or_else(|| bad(format!("{} has no {}", row.id, row.job)))?;
            if row.state != UnitState::Pending {
                count_settled(&mut job.counts, row.state);
                job.fuel = job
                    .fuel
                    .saturating_add(row.settlement.as_ref().map_or(0, |s| s.fuel));
            }
            let index = (row.id.0 - job.first_unit.0) as u32;
            book.push_unit(row.job, index, row.input, row.input_len, row.quorum);
            if let Some(unit) = book.unit_mut(row.id) {
                unit.state = row.state;
                unit.settlement = row.settlement;
            }
        }
        for (
            expected,
            StoredLease {
                id,
                unit,
                node,
                network,
            },
        ) in (1u64..).zip(snapshot.leases)
        {
            if id.0 != expected {
                return Err(bad(format!(
                    "lease ids jump to {id} where {expected} was due"
                )));
            }
            let unit_row = book
                .unit_mut(unit)
                .ok_or_else(|| bad(format!("{id} names unknown {unit}")))?;
            unit_row.issued += 1;
            book.leases.push(Lease {
                unit,
                node,
                network,
                state: LeaseState::Lapsed,
                expires_at_ms: 0,
            });
        }
        for StoredResult {
            unit,
            node,
            report,
            invalid,
        } in snapshot.results
        {
            if let Some(lease) = book.lease_mut(report.lease) {
                lease.state = LeaseState::Reported;
            }
            let fuel_limit = book
                .unit(unit)
                .and_then(|u| book.jobs.get(&u.job))
                .map_or(0, |j| j.spec.limits.fuel);
            let network = book.lease(report.lease).and_then(|l| l.network);
            if let Some(row) = book
                .unit_mut(unit)
                .filter(|u| u.state == UnitState::Pending)
            {
                if invalid || report.fuel > fuel_limit {
                    row.rejected.push(node);
                    continue;
                }
                row.results.push(ResultRec {
                    lease: report.lease,
                    node,
                    network,
                    key: report.agreement_key(),
                    message: failure_message(&report),
                });
            }
        }
        for (unit, node) in snapshot.abandons {
            if let Some(row) = book
                .unit_mut(unit)
                .filter(|u| u.state == UnitState::Pending)
            {
                row.abandoned_by.push(node);
            }
        }
        for (node, reputation) in snapshot.reputations {
            book.node_mut(node).reputation = reputation;
        }
        for (unit, amount) in paid {
            if let Some(job_id) = book.unit(unit).map(|u| u.job)
                && let Some(job) = book.jobs.get_mut(&job_id)
            {
                job.paid = job.paid.saturating_add(amount);
            }
        }
        for id in 1..=book.units.len() as u64 {
            book.refresh(UnitId(id));
        }
        Ok(book)
    }
}

fn failure_message(report: &UnitReport) -> String {
    match &report.outcome {
        idleshare_protocol::UnitOutcome::Failed { message, .. } => message.clone(),
        idleshare_protocol::UnitOutcome::Output { .. } => String::new(),
    }
}
