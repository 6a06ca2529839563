//! Published content: `PUT /v1/content?name=N&replicas=R` ([`PublishQuery`], the raw bytes
//! streamed) → [`ContentPublished`]; `GET /v1/content` → a list of [`ContentStatus`];
//! `GET /v1/content/{id}` → [`ContentStatus`] (with the providers a client fetches from);
//! `POST /v1/content/{id}/reports` ([`BadDataReport`]) → 202; `GET /content/{id}` (with
//! `Range`) → the bytes, fetched from nodes and checked by the coordinator.

use serde::{Deserialize, Serialize};

use crate::cache::Provider;
use crate::content::ContentId;
use crate::ids::NodeId;

/// The query of `PUT /v1/content`: what to call the content, how many copies to keep, for
/// how long, and what anonymous fetches may spend.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishQuery {
    /// The name shown in the content list (the coordinator keeps 255 characters).
    pub name: Option<String>,
    /// Live copies wanted on nodes (the coordinator's default when absent).
    pub replicas: Option<u8>,
    /// Days of storage paid now (the coordinator's default when absent).
    pub days: Option<u32>,
    /// Micro-tokens set aside for fetches by people without an account (the HTTP
    /// gateway); 0 or absent: such fetches are served from the origin copy only.
    pub serving_budget: Option<u64>,
}

/// The body of `POST /v1/content/{id}/orders` (signed): order limits for fetching.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersRequest {
    /// The most bytes each provider may be paid for (default: the content's size).
    pub max_bytes: Option<u64>,
    /// How long the orders stay valid, in seconds (default one hour; 10 s to one day).
    pub ttl_secs: Option<u64>,
    /// The most providers wanted (default: every one listed).
    pub providers: Option<u8>,
}

/// Providers, each with an order limit escrowed from the asking account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentOrders {
    /// The content.
    pub id: ContentId,
    /// Its size in bytes.
    pub size: u64,
    /// Providers, best first, each with its order.
    pub providers: Vec<Provider>,
    /// Escrowed from the balance for all of them together.
    pub escrowed: crate::receipt::MicroTokens,
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
    /// Escrowed from the publisher's balance for storage (0 when already paid for).
    #[serde(default)]
    pub storage_escrowed: crate::receipt::MicroTokens,
    /// Set aside for anonymous fetches.
    #[serde(default)]
    pub serving_budget: crate::receipt::MicroTokens,
    /// Storage is paid until then (Unix ms).
    #[serde(default)]
    pub paid_until_ms: u64,
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
    /// Storage is paid until then (Unix ms); after it the content is deleted.
    #[serde(default)]
    pub paid_until_ms: Option<u64>,
    /// Left of the publisher's budget for anonymous fetches.
    #[serde(default)]
    pub serving_budget: crate::receipt::MicroTokens,
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
