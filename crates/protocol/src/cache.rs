//! The edge cache on the wire: how clients ask for content, how nodes answer, the receipts
//! clients sign for bytes received, and the pin orders between coordinator and nodes.
//!
//! Serving has its own ALPN, [`CACHE_ALPN`], on three kinds of endpoint:
//! - a node's own cache endpoint (direct, where its port is reachable);
//! - the coordinator's endpoint, which serves its origin copies and relays requests to nodes
//!   through their existing control connections ([`CacheRequest::Via`]), so a node behind
//!   NAT needs no open port;
//! - a node's control connection, on streams the coordinator opens to relay.
//!
//! A stream carries one request frame and one [`CacheResponse`] frame; for
//! [`CacheResponse::Sending`] the range encoding of [`crate::tree`] follows, then the stream
//! ends. Nothing in the answer is trusted: the client checks every group against the
//! content id, with the size it got from the coordinator.

use std::net::SocketAddr;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::content::ContentId;
use crate::ids::NodeId;
use crate::order::SignedOrderLimit;
use crate::tree::ByteRange;

/// ALPN of cache connections.
pub const CACHE_ALPN: &[u8] = b"idleshare-cache/1";

/// Largest request or response frame on a cache stream.
pub const MAX_CACHE_FRAME_LEN: usize = 2048;

/// Most pieces of content named in one inventory frame.
pub const MAX_INVENTORY: usize = 1024;

/// Most service receipts a node forwards in one frame.
pub const MAX_RECEIPTS_PER_FRAME: usize = 64;

/// Domain separation for service receipts (never confused with any other signature).
const SERVICE_CONTEXT: &[u8] = b"idleshare service receipt v1\0";

/// A range of a piece of content, under an order limit that pays the node for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeRequest {
    /// The content.
    pub content: ContentId,
    /// The bytes wanted.
    pub range: ByteRange,
    /// The coordinator's order limit naming this node, this content and the client. A
    /// node serves nobody without one; the coordinator's own origin copy does not ask.
    pub order: Option<SignedOrderLimit>,
}

/// The first frame of a cache stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheRequest {
    /// Send this range as a verified encoding.
    Range(RangeRequest),
    /// Coordinator only: pass this request to `node` over its control connection.
    Via {
        /// The node to reach.
        node: NodeId,
        /// What to ask it.
        request: RangeRequest,
    },
    /// A receipt for bytes received (answered with [`CacheResponse::ReceiptTaken`]).
    Receipt(SignedServiceReceipt),
    /// Coordinator only: pass this receipt to its node.
    ViaReceipt(SignedServiceReceipt),
}

/// The answer on a cache stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CacheResponse {
    /// The encoding of the range follows; `size` is the whole content's size.
    Sending {
        /// The content size.
        size: u64,
    },
    /// Not serving now (the owner is back, the upload budget is spent, too many clients):
    /// ask another provider. Sent at once, never after a wait.
    Busy {
        /// Why, for logs.
        reason: String,
    },
    /// This endpoint holds no complete copy of the content.
    NotFound,
    /// The request is malformed or not allowed here.
    Refused {
        /// Why.
        message: String,
    },
    /// The receipt was checked and kept.
    ReceiptTaken,
}

/// A client's statement that it received and verified `bytes` bytes of `content` from
/// `node` in one fetch session (cumulative: a later receipt of the session supersedes an
/// earlier one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceReceipt {
    /// The client that signs it.
    pub client: NodeId,
    /// The node that served.
    pub node: NodeId,
    /// What was served.
    pub content: ContentId,
    /// The client's fetch session (random; bytes count per session).
    pub session: u64,
    /// Verified bytes received from `node` in this session so far.
    pub bytes: u64,
    /// When the client signed it (Unix ms).
    pub signed_at_ms: u64,
}

/// A service receipt and the client's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedServiceReceipt {
    /// What is signed.
    pub receipt: ServiceReceipt,
    /// ed25519 signature by `receipt.client` over the context and the postcard encoding.
    pub signature: Vec<u8>,
}

/// Why a service receipt does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceReceiptError {
    /// The signature does not match the client key.
    #[error("service receipt from {0} has an invalid signature")]
    BadSignature(NodeId),
    /// It pays another node.
    #[error("service receipt names node {found}, not {expected}")]
    WrongNode {
        /// The node expected.
        expected: NodeId,
        /// The node named.
        found: NodeId,
    },
}

fn service_signing_bytes(receipt: &ServiceReceipt) -> Vec<u8> {
    let mut bytes = SERVICE_CONTEXT.to_vec();
    // Fixed-size fields only: encoding into a Vec cannot fail.
    bytes.extend(postcard::to_stdvec(receipt).unwrap_or_default());
    bytes
}

impl ServiceReceipt {
    /// Signs with the client's key (whose public half must be `self.client`).
    pub fn sign(self, key: &SigningKey) -> SignedServiceReceipt {
        let signature = key.sign(&service_signing_bytes(&self)).to_bytes().to_vec();
        SignedServiceReceipt {
            receipt: self,
            signature,
        }
    }
}

impl SignedServiceReceipt {
    /// Checks the client's signature and that it pays `node`.
    pub fn verify(&self, node: &NodeId) -> Result<(), ServiceReceiptError> {
        let receipt = &self.receipt;
        if receipt.node != *node {
            return Err(ServiceReceiptError::WrongNode {
                expected: *node,
                found: receipt.node,
            });
        }
        let bad = || ServiceReceiptError::BadSignature(receipt.client);
        let key = VerifyingKey::from_bytes(receipt.client.as_bytes()).map_err(|_| bad())?;
        let signature = Signature::from_slice(&self.signature).map_err(|_| bad())?;
        key.verify(&service_signing_bytes(receipt), &signature)
            .map_err(|_| bad())
    }
}

/// A node holding a piece of content, as clients reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    /// The node (its key is pinned when connecting directly).
    pub node: NodeId,
    /// Its own cache endpoint, when the coordinator could reach it there.
    pub direct: Option<SocketAddr>,
    /// The order limit to present to it (only in answers to an order request, and in pin
    /// orders for fills; public listings carry none).
    #[serde(default)]
    pub order: Option<SignedOrderLimit>,
}

/// Why a node no longer holds a piece of content (or never got it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PinOutcome {
    /// Stored in full and verified.
    Stored,
    /// Could not be stored.
    Failed {
        /// Why, in words.
        reason: String,
    },
    /// Removed: evicted for space, found corrupt by a scrub, or unpinned.
    Dropped {
        /// Why, in words.
        reason: String,
    },
}

/// The coordinator asks a node to keep a copy of a piece of content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinOrder {
    /// The content.
    pub content: ContentId,
    /// Its size in bytes.
    pub size: u64,
    /// Nodes that hold it already (fill from them first; the coordinator's origin copy is
    /// the fallback).
    pub peers: Vec<Provider>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn receipt(client: &SigningKey, node: NodeId) -> ServiceReceipt {
        ServiceReceipt {
            client: NodeId::from(client.verifying_key()),
            node,
            content: ContentId::of(b"page"),
            session: 7,
            bytes: 1 << 20,
            signed_at_ms: 1,
        }
    }

    #[test]
    fn a_service_receipt_verifies_only_for_its_node_and_signer() {
        let (client, node) = (key(1), NodeId::from(key(2).verifying_key()));
        let signed = receipt(&client, node).sign(&client);
        assert_eq!(signed.verify(&node), Ok(()));
        let other = NodeId::from(key(3).verifying_key());
        assert!(matches!(
            signed.verify(&other),
            Err(ServiceReceiptError::WrongNode { .. })
        ));
        let mut inflated = signed.clone();
        inflated.receipt.bytes *= 2;
        assert_eq!(
            inflated.verify(&node),
            Err(ServiceReceiptError::BadSignature(signed.receipt.client))
        );
        let forged = receipt(&client, node).sign(&key(4));
        assert!(forged.verify(&node).is_err());
    }

    #[test]
    fn the_largest_frames_fit_their_limits() {
        let (client, node) = (key(1), NodeId::from(key(2).verifying_key()));
        let frame = CacheRequest::ViaReceipt(receipt(&client, node).sign(&client));
        let len = postcard::to_stdvec(&frame).unwrap().len();
        assert!(len < MAX_CACHE_FRAME_LEN, "{len}");
        let receipts = vec![receipt(&client, node).sign(&client); MAX_RECEIPTS_PER_FRAME];
        let len = postcard::to_stdvec(&receipts).unwrap().len();
        assert!(len < crate::MAX_CONTROL_FRAME_LEN, "{len}");
    }
}
