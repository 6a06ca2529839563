//! The coordinator's HTTP API, typed: every route's path ([`routes`]) and every JSON body
//! it takes or gives, shared by the server, its client and the shells (customers, the CLI,
//! dashboards).
//!
//! - [`nodes`]: `GET /v1/nodes` (public) and `GET /v1/operator/nodes` (the operator's);
//! - [`coordinator`]: `GET /v1/coordinator`;
//! - [`jobs`]: blobs, jobs and the ledger;
//! - [`accounts`]: customer accounts, deposits and the audit;
//! - [`content`]: publishing, content status, bad-data reports and the gateway;
//! - `GET /metrics`: counters in the Prometheus text format (not JSON).
//!
//! Errors come back as [`ApiError`] with a 4xx or 5xx status.

pub mod accounts;
pub mod content;
pub mod coordinator;
pub mod jobs;
pub mod nodes;
pub mod routes;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use accounts::{AccountView, AuditReport, DepositRequest, Deposited, Pot, PotView};
pub use content::{
    BadDataReport, ContentOrders, ContentPublished, ContentStatus, OrdersRequest, PinView,
    PublishQuery,
};
pub use coordinator::CoordinatorInfo;
pub use jobs::{
    BlobStored, JobResults, JobStatus, JobSubmitted, LedgerSummary, NodeAccount, UnitCounts,
    UnitFailure, UnitResult, UnitState,
};
pub use nodes::{NodeState, NodeView, OperatorNodeView, Reputation};

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong, for people.
    pub error: String,
}
