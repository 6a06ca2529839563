//! Compute jobs on the coordinator: accepting jobs, leasing units to nodes, validating
//! results by quorum, and paying with signed receipts.
//!
//! Decisions are pure and live in memory ([`book::Book`], with [`schedule`], [`validate`]
//! and [`receipts`]); each one returns its durable writes and its messages ([`ops`]). The
//! [`engine::Engine`] wraps the book behind a lock, writes the changes to SQLite in
//! batched transactions ([`store`]; group commit), and releases messages to nodes only once
//! their writes are committed. [`http`] is the customer-facing API.

pub mod accounts;
#[cfg(test)]
mod accounts_tests;
mod assign;
pub mod audit;
pub mod blob_stream;
pub mod book;
pub mod engine;
pub mod http;
pub(crate) mod money_http;
pub mod ops;
pub mod orders;
pub mod receipts;
mod restore;
pub mod schedule;
mod settle;
pub mod storage;
pub mod store;
mod store_load;
pub mod trust;
pub mod validate;

#[cfg(test)]
mod money_tests;
#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod sybil_tests;
#[cfg(test)]
mod tests;

use std::time::Duration;

use idleshare_protocol::{CreditRate, ServingRate, StorageRate};

pub use assign::LeaseError;
pub use book::{Book, SubmitError};
pub use engine::{Engine, EngineError};
pub use restore::{Snapshot, StoredLease, StoredResult};
pub use settle::ReportOutcome;

/// File name of the work database inside the data directory (beside the registry's).
pub const WORK_DATABASE_FILE_NAME: &str = "work.db";

/// How work is leased, validated and paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkConfig {
    /// How long a node may hold a unit before it is re-issued, in milliseconds.
    pub lease_ms: u64,
    /// What validated fuel earns.
    pub credit_rate: CreditRate,
    /// What serving cached content earns.
    pub serving_rate: ServingRate,
    /// Results allowed beyond the quorum before a unit is given up ("no quorum").
    pub extra_results: u8,
    /// Distinct nodes abandoning a unit before it is given up.
    pub max_abandons: u8,
    /// Valid results in a row, on other customers' jobs, from which a node may run units
    /// alone (adaptive replication).
    pub adaptive_streak: u64,
    /// Valid results a new node needs before it may run any unit alone (until then it is
    /// vetted: every unit it gets is replicated).
    pub vetting_results: u64,
    /// Replicas of one unit go to different networks (IPv4 /24, IPv6 /48). Off only for a
    /// network on one machine (`idleshare devnet`), where every node shares one address.
    pub one_replica_per_network: bool,
    /// The operator's fee in basis points, on top of every payment to a node.
    pub fee_bps: u32,
    /// What keeping published content costs per copy.
    pub storage_rate: StorageRate,
    /// How often nodes holding copies are paid, in ms.
    pub storage_period_ms: u64,
}

impl Default for WorkConfig {
    /// 10-minute leases; 1000 micro-tokens per megafuel (a 1e8-fuel unit earns 0.1 token);
    /// one token per GiB served; 3 extra results; given up after 3 abandons; adaptive from
    /// 10 valid in a row once vetted by 20 valid results; one replica per network; a 5 %
    /// operator fee; storage at 0.05 token per GiB-day per copy,
    /// paid hourly.
    fn default() -> Self {
        Self {
            lease_ms: 600_000,
            credit_rate: CreditRate {
                micro_tokens_per_megafuel: 1000,
            },
            serving_rate: ServingRate {
                micro_tokens_per_gib: 1_000_000,
            },
            extra_results: 3,
            max_abandons: 3,
            adaptive_streak: 10,
            vetting_results: 20,
            one_replica_per_network: true,
            fee_bps: 500,
            storage_rate: StorageRate {
                micro_tokens_per_gib_day: 50_000,
            },
            storage_period_ms: 3_600_000,
        }
    }
}

impl WorkConfig {
    /// The lease length as a duration.
    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms)
    }
}
