//! Blobs, jobs and the ledger: `PUT /v1/blobs` (raw bytes, at most 16 MiB) → [`BlobStored`];
//! `GET /v1/blobs/{id}` → the bytes; `POST /v1/jobs` ([`crate::JobSpec`]; module and inputs
//! uploaded first) → [`JobSubmitted`]; `GET /v1/jobs/{id}` → [`JobStatus`];
//! `GET /v1/jobs/{id}/results` → [`JobResults`]; `GET /v1/ledger` → [`LedgerSummary`].

use serde::{Deserialize, Serialize};

use crate::content::ContentId;
use crate::ids::NodeId;
use crate::job::{JobId, UnitId};
use crate::receipt::{CreditRate, MicroTokens};
use crate::work::FailureKind;

/// A stored blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStored {
    /// Its content id.
    pub id: ContentId,
    /// Its length.
    pub len: u64,
}

/// An accepted job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSubmitted {
    /// Its id.
    pub job: JobId,
    /// Units created (one per input).
    pub units: u64,
}

/// Where a unit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitState {
    /// Waiting for nodes, or running, or waiting for a quorum.
    Pending,
    /// Validated with an output.
    Done,
    /// Validated as a failure every node reproduced (a trap, fuel exhausted, ...).
    Failed,
    /// No quorum after the most attempts allowed, or abandoned by too many nodes.
    GaveUp,
}

/// Unit counts of a job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitCounts {
    /// All units.
    pub total: u64,
    /// Validated with an output.
    pub done: u64,
    /// Validated failures.
    pub failed: u64,
    /// Given up.
    pub gave_up: u64,
    /// Not settled yet.
    pub pending: u64,
}

impl UnitCounts {
    /// Units settled one way or another.
    pub fn settled(&self) -> u64 {
        self.done + self.failed + self.gave_up
    }
}

/// A job's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    /// The job.
    pub job: JobId,
    /// Its module.
    pub module: ContentId,
    /// Its entry function.
    pub entry: String,
    /// Replicas per unit asked for.
    pub replication: u8,
    /// When it was submitted (Unix ms).
    pub submitted_at_ms: u64,
    /// Unit counts.
    pub units: UnitCounts,
    /// Every unit is settled.
    pub finished: bool,
    /// Fuel of all validated units.
    pub fuel: u64,
    /// Tokens paid to nodes for this job so far.
    pub paid: MicroTokens,
    /// Set aside from the customer's balance when it was submitted.
    #[serde(default)]
    pub escrowed: MicroTokens,
    /// Spent so far: paid to nodes plus the operator's fee.
    #[serde(default)]
    pub spent: MicroTokens,
    /// Given back to the balance (when the job finished).
    #[serde(default)]
    pub refunded: MicroTokens,
}

/// A settled failure, as validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitFailure {
    /// What happened.
    pub kind: FailureKind,
    /// One node's message about it.
    pub message: String,
}

/// One unit's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitResult {
    /// Position of its input in the job.
    pub index: u64,
    /// The unit.
    pub unit: UnitId,
    /// Where it stands.
    pub state: UnitState,
    /// The validated output, when done (fetch it from `/v1/blobs/{id}`).
    pub output: Option<ContentId>,
    /// The validated failure, when failed.
    pub failure: Option<UnitFailure>,
    /// Why it was given up, when it was.
    pub gave_up: Option<String>,
    /// Validated fuel.
    pub fuel: u64,
}

/// A job's results, in input order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobResults {
    /// The job.
    pub job: JobId,
    /// One entry per unit.
    pub units: Vec<UnitResult>,
}

/// One node's account in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAccount {
    /// The node.
    pub node: NodeId,
    /// Sum of its receipts.
    pub balance: MicroTokens,
    /// Number of its receipts.
    pub receipts: u64,
}

/// The coordinator's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerSummary {
    /// The published rate.
    pub rate: CreditRate,
    /// Sum of every receipt ever issued.
    pub total: MicroTokens,
    /// Receipts issued.
    pub receipts: u64,
    /// Per node, largest balance first.
    pub accounts: Vec<NodeAccount>,
}
