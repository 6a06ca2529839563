//! JSON bodies of the coordinator's HTTP API (customers, the CLI, dashboards).
//!
//! - `PUT /v1/blobs` (raw bytes, at most 16 MiB) → [`BlobStored`]; `GET /v1/blobs/{id}`
//!   → the bytes;
//! - `POST /v1/jobs` ([`crate::JobSpec`]; module and inputs uploaded first) →
//!   [`JobSubmitted`]; `GET /v1/jobs/{id}` → [`JobStatus`]; `GET /v1/jobs/{id}/results`
//!   → [`JobResults`];
//! - `GET /v1/ledger` → [`LedgerSummary`];
//! - `PUT /v1/content?name=N&replicas=R` (the raw bytes, streamed) → [`ContentPublished`];
//!   `GET /v1/content` → a list of [`ContentStatus`]; `GET /v1/content/{id}` →
//!   [`ContentStatus`] (with the providers a client fetches from); `POST
//!   /v1/content/{id}/reports` ([`BadDataReport`]) → 202; `GET /content/{id}` (with `Range`)
//!   → the bytes, fetched from nodes and checked by the coordinator.
//!
//! Errors come back as [`ApiError`] with a 4xx or 5xx status.

use serde::{Deserialize, Serialize};

use crate::cache::Provider;
use crate::content::ContentId;
use crate::ids::NodeId;
use crate::job::{JobId, UnitId};
use crate::receipt::{CreditRate, MicroTokens};
use crate::work::FailureKind;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong, for people.
    pub error: String,
}

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
    /// Tokens paid for this job so far.
    pub paid: MicroTokens,
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

/// A node's track record, shown in `GET /v1/nodes`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reputation {
    /// Valid results in a row (reset by an invalid one).
    pub consecutive_valid: u64,
    /// Valid results ever.
    pub valid: u64,
    /// Invalid results ever.
    pub invalid: u64,
}

/// Published content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentPublished {
    /// Its id (BLAKE3 of the bytes).
    pub id: ContentId,
    /// Its size in bytes.
    pub size: u64,
    /// Live copies wanted on nodes.
    pub replicas: u8,
    /// False when the same bytes were published before.
    pub new: bool,
}

/// One node's copy of a piece of content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinView {
    /// The node.
    pub node: NodeId,
    /// `assigned`, `stored` or `failed`.
    pub state: String,
    /// Why it failed, if it did.
    pub reason: Option<String>,
}

/// A piece of content and where it can be fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentStatus {
    /// Its id.
    pub id: ContentId,
    /// Its size in bytes.
    pub size: u64,
    /// The name it was published under.
    pub name: String,
    /// Live copies wanted.
    pub replicas: u8,
    /// When it was published (Unix ms).
    pub published_ms: u64,
    /// Nodes to fetch from, best first.
    pub providers: Vec<Provider>,
    /// Every node's copy.
    pub pins: Vec<PinView>,
}

/// A client's report that a node sent bytes that failed verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadDataReport {
    /// The node.
    pub node: NodeId,
    /// The first byte of the group that failed.
    pub offset: u64,
    /// What the client saw.
    pub detail: String,
}
