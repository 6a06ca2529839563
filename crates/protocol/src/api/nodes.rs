//! The registry: `GET /v1/nodes` → a list of [`NodeView`], each with its [`Reputation`].

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

/// One node as `GET /v1/nodes` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
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
