//! Rebuilding the book from stored rows after a restart. Leases held at the crash lapse
//! (their units are re-issued), but their late results are still accepted.

use idleshare_protocol::api::{Reputation, UnitState};
use idleshare_protocol::{
    ContentId, JobId, JobSpec, LeaseId, NodeId, SignedReceipt, UnitId, UnitReport,
};

use super::WorkConfig;
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

/// Everything stored, in id order.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Jobs: id, spec, submission time, first unit.
    pub jobs: Vec<(JobId, JobSpec, u64, UnitId)>,
    /// Units.
    pub units: Vec<UnitRow>,
    /// Leases: id, unit, node.
    pub leases: Vec<(LeaseId, UnitId, NodeId)>,
    /// Results of units still pending.
    pub results: Vec<(UnitId, NodeId, UnitReport)>,
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
        for (id, spec, submitted, first_unit) in snapshot.jobs {
            book.jobs.insert(id, new_job(spec, submitted, first_unit));
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
        for (expected, (id, unit, node)) in (1u64..).zip(snapshot.leases) {
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
                state: LeaseState::Lapsed,
                expires_at_ms: 0,
            });
        }
        for (unit, node, report) in snapshot.results {
            if let Some(lease) = book.lease_mut(report.lease) {
                lease.state = LeaseState::Reported;
            }
            if let Some(row) = book
                .unit_mut(unit)
                .filter(|u| u.state == UnitState::Pending)
            {
                row.results.push(ResultRec {
                    lease: report.lease,
                    node,
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
