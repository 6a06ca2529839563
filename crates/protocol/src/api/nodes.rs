//! The registry, in two views: the public `GET /v1/nodes` → a list of [`NodeView`] (what a
//! customer needs: capabilities and track record, never where a node is or whether its
//! owner is at the keyboard now), and the operator's `GET /v1/operator/nodes` (signed with
//! the coordinator's own key) → a list of [`OperatorNodeView`], with addresses and live
//! state.

use serde::{Deserialize, Serialize};

use crate::ids::NodeId;
use crate::messages::{Budget, Capabilities};

/// Whether a node currently holds a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    /// Registered and heartbeating.
    Online,
    /// Known, but without a live session.
    Offline,
}

impl NodeState {
    /// The lowercase label stored and shown.
    pub fn label(self) -> &'static str {
        match self {
            NodeState::Online => "online",
            NodeState::Offline => "offline",
        }
    }

    /// Parses a stored label; anything unknown reads as offline.
    pub fn from_label(label: &str) -> Self {
        if label == "online" {
            NodeState::Online
        } else {
            NodeState::Offline
        }
    }
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

/// How coarse the public view's times are: whole hours, so they do not tell the minute a
/// node's owner came or left.
pub const PUBLIC_TIME_GRANULARITY_MS: u64 = 3_600_000;

/// `ms` rounded down to [`PUBLIC_TIME_GRANULARITY_MS`].
pub fn coarse_ms(ms: u64) -> u64 {
    ms - ms % PUBLIC_TIME_GRANULARITY_MS
}

/// One node as the public `GET /v1/nodes` shows it: no address, no activity, pause reason
/// or budget (they tell who is away right now), times to the hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    /// The node.
    pub id: NodeId,
    /// `online` or `offline`.
    pub state: NodeState,
    /// What the node registered with.
    pub capabilities: Capabilities,
    /// First registration (Unix ms, rounded down to the hour).
    pub first_seen_ms: u64,
    /// Last registration or heartbeat (Unix ms, rounded down to the hour).
    pub last_seen_ms: u64,
    /// Its track record of validated results.
    pub reputation: Reputation,
}

/// One node as the operator's `GET /v1/operator/nodes` shows it: everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorNodeView {
    /// The node.
    pub id: NodeId,
    /// `online` or `offline`.
    pub state: NodeState,
    /// `starting`, `contributing` or `paused`.
    pub activity: String,
    /// Why the node is paused, in words (when paused).
    pub pause_reason: Option<String>,
    /// What work may use on this node (when contributing).
    pub budget: Option<Budget>,
    /// What the node registered with.
    pub capabilities: Capabilities,
    /// First registration (Unix ms).
    pub first_seen_ms: u64,
    /// Last registration or heartbeat (Unix ms).
    pub last_seen_ms: u64,
    /// Remote address of the latest session.
    pub remote_addr: String,
    /// Its track record of validated results.
    pub reputation: Reputation,
}

impl OperatorNodeView {
    /// What the public may see of this node.
    pub fn public(&self) -> NodeView {
        NodeView {
            id: self.id,
            state: self.state,
            capabilities: self.capabilities.clone(),
            first_seen_ms: coarse_ms(self.first_seen_ms),
            last_seen_ms: coarse_ms(self.last_seen_ms),
            reputation: self.reputation,
        }
    }
}
