//! Order limits: the coordinator's signed promise that serving `content` from `node` to
//! `client` will be paid, up to `max_bytes`, until `expires_at_ms`.
//!
//! The coordinator signs one when a customer asks for providers with its account, and
//! escrows the ceiling's price from that account first. The client hands the order to the
//! node with each range request; the node serves only under a valid order that names it
//! and the content, signed by its coordinator. The client's cumulative service receipts
//! name the order's `serial` as their session, and the coordinator pays a node only for
//! receipts that match an order it issued, each serial once, never beyond the ceiling.
//! What the client did not use goes back to its balance when the order expires.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};
use serde::{Deserialize, Serialize};

use crate::content::ContentId;
use crate::ids::NodeId;

const ORDER_CONTEXT: &[u8] = b"idleshare order limit v1\0";

/// What the coordinator promises to pay for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrderLimit {
    /// The coordinator that signs and pays.
    pub issuer: NodeId,
    /// The client (an account key) that will sign service receipts.
    pub client: NodeId,
    /// The node that may serve.
    pub node: NodeId,
    /// What it may serve.
    pub content: ContentId,
    /// Unique per order; service receipts use it as their session.
    pub serial: u64,
    /// Bytes paid at most.
    pub max_bytes: u64,
    /// Not valid from this time on (Unix ms).
    pub expires_at_ms: u64,
}

/// An order limit and the coordinator's signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOrderLimit {
    /// What is signed.
    pub limit: OrderLimit,
    /// ed25519 signature by `limit.issuer`.
    pub signature: Vec<u8>,
}

/// Why an order limit is not good for a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// Not signed by the expected coordinator.
    #[error("the order limit is not signed by this node's coordinator")]
    BadSignature,
    /// It names another node.
    #[error("the order limit is for node {0}, not this one")]
    WrongNode(NodeId),
    /// It names another client.
    #[error("the order limit is for client {0}, not this connection's key")]
    WrongClient(NodeId),
    /// It names other content.
    #[error("the order limit is for content {0}, not the content asked for")]
    WrongContent(ContentId),
    /// It has expired.
    #[error("the order limit expired at {0} (Unix ms); ask the coordinator for a new one")]
    Expired(u64),
}

fn signing_bytes(limit: &OrderLimit) -> Vec<u8> {
    let mut bytes = ORDER_CONTEXT.to_vec();
    // Fixed-size fields only: encoding into a Vec cannot fail.
    bytes.extend(postcard::to_stdvec(limit).unwrap_or_default());
    bytes
}

impl OrderLimit {
    /// Signs it with the coordinator's key (whose public half must be `self.issuer`).
    pub fn sign(self, key: &SigningKey) -> SignedOrderLimit {
        SignedOrderLimit {
            signature: key.sign(&signing_bytes(&self)).to_bytes().to_vec(),
            limit: self,
        }
    }
}

/// What a node checks an order against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCheck {
    /// The node's coordinator.
    pub issuer: NodeId,
    /// The node itself.
    pub node: NodeId,
    /// The key of the connection asking.
    pub client: NodeId,
    /// The content asked for.
    pub content: ContentId,
    /// Now (Unix ms).
    pub now_ms: u64,
}

impl SignedOrderLimit {
    /// Checks signature, names and expiry.
    pub fn check(&self, want: &OrderCheck) -> Result<(), OrderError> {
        let limit = &self.limit;
        let key = want
            .issuer
            .verifying_key()
            .map_err(|_| OrderError::BadSignature)?;
        let signature =
            Signature::from_slice(&self.signature).map_err(|_| OrderError::BadSignature)?;
        if limit.issuer != want.issuer || key.verify(&signing_bytes(limit), &signature).is_err() {
            return Err(OrderError::BadSignature);
        }
        if limit.node != want.node {
            return Err(OrderError::WrongNode(limit.node));
        }
        if limit.client != want.client {
            return Err(OrderError::WrongClient(limit.client));
        }
        if limit.content != want.content {
            return Err(OrderError::WrongContent(limit.content));
        }
        if want.now_ms >= limit.expires_at_ms {
            return Err(OrderError::Expired(limit.expires_at_ms));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(seed: u8) -> NodeId {
        NodeId::from(SigningKey::from_bytes(&[seed; 32]).verifying_key())
    }

    fn order() -> (SignedOrderLimit, OrderCheck) {
        let coordinator = SigningKey::from_bytes(&[1; 32]);
        let limit = OrderLimit {
            issuer: id(1),
            client: id(2),
            node: id(3),
            content: ContentId::of(b"site"),
            serial: 9,
            max_bytes: 1 << 20,
            expires_at_ms: 1_000,
        };
        let check = OrderCheck {
            issuer: id(1),
            node: id(3),
            client: id(2),
            content: ContentId::of(b"site"),
            now_ms: 999,
        };
        (limit.sign(&coordinator), check)
    }

    #[test]
    fn a_good_order_checks_and_every_mismatch_is_named() {
        let (signed, check) = order();
        assert_eq!(signed.check(&check), Ok(()));
        let other = ContentId::of(b"other");
        let cases = [
            (
                OrderCheck {
                    node: id(4),
                    ..check
                },
                OrderError::WrongNode(id(3)),
            ),
            (
                OrderCheck {
                    client: id(4),
                    ..check
                },
                OrderError::WrongClient(id(2)),
            ),
            (
                OrderCheck {
                    content: other,
                    ..check
                },
                OrderError::WrongContent(ContentId::of(b"site")),
            ),
            (
                OrderCheck {
                    now_ms: 1_000,
                    ..check
                },
                OrderError::Expired(1_000),
            ),
            (
                OrderCheck {
                    issuer: id(4),
                    ..check
                },
                OrderError::BadSignature,
            ),
        ];
        for (want, error) in cases {
            assert_eq!(signed.check(&want), Err(error));
        }
    }

    #[test]
    fn a_forged_or_altered_order_fails() {
        let (mut signed, check) = order();
        signed.limit.max_bytes *= 2;
        assert_eq!(signed.check(&check), Err(OrderError::BadSignature));
        let forged = order().0.limit.sign(&SigningKey::from_bytes(&[7; 32]));
        assert_eq!(forged.check(&check), Err(OrderError::BadSignature));
    }
}
