//! Published content: `PUT /v1/content?name=N&replicas=R` ([`PublishQuery`], the raw bytes
//! streamed) → [`ContentPublished`]; `GET /v1/content` → a list of [`ContentStatus`];
//! `GET /v1/content/{id}` → [`ContentStatus`] (with the providers a client fetches from);
//! `POST /v1/content/{id}/reports` ([`BadDataReport`]) → 202; `GET /content/{id}` (with
//! `Range`) → the bytes, fetched from nodes and checked by the coordinator.

use serde::{Deserialize, Serialize};

use crate::cache::Provider;
use crate::content::ContentId;
use crate::ids::NodeId;

/// The query of `PUT /v1/content`: what to call the content and how many copies to keep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishQuery {
    /// The name shown in the content list (the coordinator keeps 255 characters).
    pub name: Option<String>,
    /// Live copies wanted on nodes (the coordinator's default when absent).
    pub replicas: Option<u8>,
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
