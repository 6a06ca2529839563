//! What the node shows the world: a snapshot published on a `tokio::sync::watch`.

use idleshare_protocol::{BandwidthReport, MicroTokens, NodeActivity, NodeId};
use serde::{Deserialize, Serialize};

use crate::identity::KeyStorage;
use crate::monitor::{NetworkRates, Snapshot};
use crate::policy::Decision;
use crate::work::WorkStats;

/// Where the node is in its life with the coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectionState {
    /// Dialling the coordinator (attempt counts failures since the last success).
    Connecting {
        /// Consecutive failed attempts before this one.
        attempt: u32,
    },
    /// Registered and heartbeating.
    Registered,
    /// Waiting before the next attempt.
    Backoff {
        /// Milliseconds until the next attempt.
        retry_in_ms: u64,
    },
    /// Stopped by its owner.
    Stopped,
    /// Waiting for the OS keychain, which holds this node's key but cannot be reached yet
    /// (locked at login); the node does not make a new identity meanwhile.
    WaitingForKeychain {
        /// Why the keychain is unusable, in words.
        reason: String,
    },
    /// Computing the identity proof of work the coordinator asked for (once per identity
    /// and difficulty; it is kept in the data directory).
    ProvingIdentity {
        /// The difficulty, in leading zero bits.
        bits: u8,
        /// The expected time for the whole search at the rate measured so far, in seconds.
        expected_secs: Option<u64>,
    },
}

/// A snapshot of the node's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeStatus {
    /// This node's id.
    pub node_id: NodeId,
    /// Where its key is kept (the file fallback is shown to the user).
    pub key_storage: KeyStorage,
    /// The coordinator address in use.
    pub coordinator: String,
    /// Connection state.
    pub connection: ConnectionState,
    /// What the node reports in heartbeats.
    pub activity: NodeActivity,
    /// When the last heartbeat was acknowledged (Unix ms).
    pub last_heartbeat_ms: Option<u64>,
    /// Round trip of the last acknowledged heartbeat, in microseconds.
    pub last_rtt_us: Option<u64>,
    /// When the current registration was accepted (Unix ms).
    pub registered_at_ms: Option<u64>,
    /// The most recent error, in words.
    pub last_error: Option<String>,
    /// Successful registrations since start.
    pub sessions: u64,
    /// The latest bandwidth test against the coordinator.
    pub bandwidth: Option<BandwidthReport>,
    /// The monitor's latest reading (None until the first sample).
    pub snapshot: Option<Snapshot>,
    /// The contribution policy's latest decision (None until the first sample).
    pub decision: Option<Decision>,
    /// Compute units held and reported.
    #[serde(default)]
    pub work: WorkStats,
    /// What the wallet holds.
    #[serde(default)]
    pub earnings: Earnings,
    /// The edge cache: space, content held and what serving it earned.
    #[serde(default)]
    pub cache: CacheStats,
}

/// The edge cache at a glance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStats {
    /// Bytes on disk (content and its hash trees).
    pub used_bytes: u64,
    /// The owner's disk quota for the cache.
    pub quota_bytes: u64,
    /// Content items held, complete and verified.
    pub items: u32,
    /// Bytes served to clients since the node started.
    pub served_bytes: u64,
    /// Tokens credited for serving, all time.
    pub earned_serving: MicroTokens,
    /// The cache's own traffic over the last second: serving (up) and filling (down).
    #[serde(default)]
    pub traffic: NetworkRates,
}

/// The wallet at a glance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Earnings {
    /// Sum of all receipts.
    pub balance: MicroTokens,
    /// Receipts held from the current coordinator.
    pub receipts: u64,
    /// When the last receipt arrived (Unix ms).
    pub last_receipt_ms: Option<u64>,
}

impl NodeStatus {
    /// A status for a node that has not connected yet.
    pub fn starting(node_id: NodeId, key_storage: KeyStorage, coordinator: String) -> Self {
        Self {
            node_id,
            key_storage,
            coordinator,
            connection: ConnectionState::Connecting { attempt: 0 },
            activity: NodeActivity::Starting,
            last_heartbeat_ms: None,
            last_rtt_us: None,
            registered_at_ms: None,
            last_error: None,
            sessions: 0,
            bandwidth: None,
            snapshot: None,
            decision: None,
            work: WorkStats::default(),
            earnings: Earnings::default(),
            cache: CacheStats::default(),
        }
    }

    /// One human line: state, coordinator and the latest error if any.
    pub fn summary(&self) -> String {
        let state = match &self.connection {
            ConnectionState::Connecting { attempt: 0 } => "connecting".to_owned(),
            ConnectionState::Connecting { attempt } => format!("connecting (retry {attempt})"),
            ConnectionState::Registered => match self.last_rtt_us {
                Some(rtt) => format!("registered, heartbeat rtt {:.2} ms", rtt as f64 / 1000.0),
                None => "registered".to_owned(),
            },
            ConnectionState::Backoff { retry_in_ms } => {
                format!("retrying in {:.1} s", *retry_in_ms as f64 / 1000.0)
            }
            ConnectionState::Stopped => "stopped".to_owned(),
            ConnectionState::WaitingForKeychain { reason } => {
                format!("waiting for the OS keychain: {reason}")
            }
            ConnectionState::ProvingIdentity {
                expected_secs: Some(secs),
                ..
            } => format!("proving its identity to the network (about {secs} s)"),
            ConnectionState::ProvingIdentity { bits, .. } => {
                format!("proving its identity to the network ({bits}-bit proof of work)")
            }
        };
        match (&self.connection, &self.last_error) {
            (
                ConnectionState::Registered
                | ConnectionState::ProvingIdentity { .. }
                | ConnectionState::WaitingForKeychain { .. },
                _,
            )
            | (_, None) => state,
            (_, Some(error)) => format!("{state}: {error}"),
        }
    }
}
