//! Tokens as signed receipts.
//!
//! Every credit the coordinator gives a node is a [`Receipt`] signed with the coordinator's
//! key (the same ed25519 key its address pins). A node's receipts form a chain: sequence
//! numbers count up from 1 without gaps, and each receipt carries the hash of the one before,
//! so a node (or anyone) can check offline that no receipt was altered, dropped or invented,
//! and the balance is simply the sum of the chain.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::content::ContentId;
use crate::ids::NodeId;
use crate::job::UnitId;

/// Domain separation: these bytes start every signed message, so a receipt signature can
/// never be mistaken for (or replayed as) a TLS or other signature by the same key.
const SIGNING_CONTEXT: &[u8] = b"idleshare receipt v2\0";

/// An amount of tokens, in millionths of a token.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MicroTokens(pub u64);

impl fmt::Display for MicroTokens {
    /// `12.345678` (always six decimals).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

impl fmt::Debug for MicroTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self} tokens")
    }
}

/// The price of work the coordinator publishes: micro-tokens per million units of fuel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditRate {
    /// Micro-tokens paid per 1,000,000 fuel.
    pub micro_tokens_per_megafuel: u64,
}

impl CreditRate {
    /// What `fuel` validated fuel earns (rounded down; never overflows).
    pub fn credit(&self, fuel: u64) -> MicroTokens {
        let micro = u128::from(fuel) * u128::from(self.micro_tokens_per_megafuel) / 1_000_000;
        MicroTokens(u64::try_from(micro).unwrap_or(u64::MAX))
    }
}

/// The price of serving cached content: micro-tokens per GiB a client verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServingRate {
    /// Micro-tokens paid per 2^30 bytes served.
    pub micro_tokens_per_gib: u64,
}

impl ServingRate {
    /// What serving `bytes` earns (rounded down; never overflows).
    pub fn credit(&self, bytes: u64) -> MicroTokens {
        let micro = (u128::from(bytes) * u128::from(self.micro_tokens_per_gib)) >> 30;
        MicroTokens(u64::try_from(micro).unwrap_or(u64::MAX))
    }
}

/// The price of keeping published content: micro-tokens per GiB per day, for each copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageRate {
    /// Micro-tokens per 2^30 bytes kept for 86,400 s.
    pub micro_tokens_per_gib_day: u64,
}

impl StorageRate {
    /// What keeping `bytes` for `ms` milliseconds costs (rounded up, so any stored byte
    /// costs something; `None` past u64).
    pub fn price(&self, bytes: u64, ms: u64) -> Option<MicroTokens> {
        let numerator = u128::from(bytes)
            .checked_mul(u128::from(ms))?
            .checked_mul(u128::from(self.micro_tokens_per_gib_day))?;
        let denominator = (1u128 << 30) * 86_400_000;
        u64::try_from(numerator.div_ceil(denominator))
            .ok()
            .map(MicroTokens)
    }
}

/// What a receipt pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Credit {
    /// A validated compute unit (a node is credited at most once per unit).
    Unit(UnitId),
    /// Cached content served, as a client's signed service receipt attests. Receipts of one
    /// client session are cumulative: this credit covers `upto - bytes .. upto`.
    Serving {
        /// The content served.
        content: ContentId,
        /// The client that signed for it.
        client: NodeId,
        /// The client's fetch session.
        session: u64,
        /// Bytes newly credited by this receipt.
        bytes: u64,
        /// Bytes of the session credited so far, this receipt included.
        upto: u64,
    },
    /// Keeping a copy of published content for one storage period (paid once per node,
    /// content and period).
    Storage {
        /// The content kept.
        content: ContentId,
        /// Which period since it was published, from 0.
        period: u32,
    },
}

impl Credit {
    /// What kind of work it pays: `compute`, `serving` or `storage`.
    pub fn source(&self) -> &'static str {
        match self {
            Credit::Unit(_) => "compute",
            Credit::Serving { .. } => "serving",
            Credit::Storage { .. } => "storage",
        }
    }

    /// Which customer's escrow paid it: every credit is taken from money a customer
    /// deposited and set aside (a job's escrow, an order limit, a publisher's storage).
    pub fn paid_from(&self) -> String {
        match self {
            Credit::Unit(unit) => format!("the escrow of the job that {unit} belongs to"),
            Credit::Serving { session, .. } => {
                format!("order {session}, escrowed by the client")
            }
            Credit::Storage { content, .. } => {
                format!("the publisher's storage escrow for {}", content.short())
            }
        }
    }

    /// The unit, for compute credits.
    pub fn unit(&self) -> Option<UnitId> {
        match self {
            Credit::Unit(unit) => Some(*unit),
            Credit::Serving { .. } | Credit::Storage { .. } => None,
        }
    }
}

impl fmt::Display for Credit {
    /// `unit-42` or `served 1048576 bytes of 3f2a9c0d1e7b`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credit::Unit(unit) => write!(f, "{unit}"),
            Credit::Serving { content, bytes, .. } => {
                write!(f, "served {bytes} bytes of {}", content.short())
            }
            Credit::Storage { content, period } => {
                write!(f, "kept {} (period {period})", content.short())
            }
        }
    }
}

/// Hash of a signed receipt, which the next receipt of the same node carries.
pub type ReceiptHash = [u8; 32];

/// One credit to one node: for a validated unit or for bytes served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The coordinator that signed it.
    pub issuer: NodeId,
    /// The node credited.
    pub node: NodeId,
    /// What the credit is for.
    pub work: Credit,
    /// The amount.
    pub amount: MicroTokens,
    /// When it was issued (Unix ms).
    pub issued_at_ms: u64,
    /// Position in this node's chain, from 1.
    pub seq: u64,
    /// Hash of this node's previous receipt (all zeros for the first).
    pub prev: ReceiptHash,
}

/// A receipt and the coordinator's signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedReceipt {
    /// What is signed.
    pub receipt: Receipt,
    /// ed25519 signature over the context string and the postcard encoding of `receipt`.
    pub signature: Vec<u8>,
}

/// Why a receipt or a chain of them does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// Signed by a different key than expected.
    #[error("receipt {seq} was issued by {found}, not the expected coordinator {expected}")]
    WrongIssuer {
        /// Sequence number.
        seq: u64,
        /// The coordinator expected.
        expected: NodeId,
        /// The issuer named in the receipt.
        found: NodeId,
    },
    /// The signature does not match.
    #[error("receipt {seq} has an invalid signature")]
    BadSignature {
        /// Sequence number.
        seq: u64,
    },
    /// For a different node than the chain's.
    #[error("receipt {seq} credits another node ({found})")]
    WrongNode {
        /// Sequence number.
        seq: u64,
        /// The node named in the receipt.
        found: NodeId,
    },
    /// Not the next number in the chain.
    #[error("receipt {found} arrived where receipt {expected} was due")]
    OutOfSequence {
        /// The number due.
        expected: u64,
        /// The number found.
        found: u64,
    },
    /// Its previous-hash does not match the previous receipt.
    #[error("receipt {seq} does not link to the receipt before it")]
    BrokenLink {
        /// Sequence number.
        seq: u64,
    },
}

fn signing_bytes(receipt: &Receipt) -> Vec<u8> {
    let mut bytes = SIGNING_CONTEXT.to_vec();
    // Encoding a plain struct of fixed-size fields into a Vec cannot fail.
    bytes.extend(postcard::to_stdvec(receipt).unwrap_or_default());
    bytes
}

impl Receipt {
    /// Signs the receipt with the coordinator's key.
    pub fn sign(self, key: &SigningKey) -> SignedReceipt {
        let signature = key.sign(&signing_bytes(&self)).to_bytes().to_vec();
        SignedReceipt {
            receipt: self,
            signature,
        }
    }
}

impl SignedReceipt {
    /// The hash the next receipt of the same node must carry.
    pub fn hash(&self) -> ReceiptHash {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&signing_bytes(&self.receipt));
        hasher.update(&self.signature);
        *hasher.finalize().as_bytes()
    }

    /// Checks the issuer and the signature (not the chain: see [`ChainTip`]).
    pub fn verify_signature(&self, issuer: &NodeId) -> Result<(), ReceiptError> {
        let seq = self.receipt.seq;
        if self.receipt.issuer != *issuer {
            return Err(ReceiptError::WrongIssuer {
                seq,
                expected: *issuer,
                found: self.receipt.issuer,
            });
        }
        let bad = || ReceiptError::BadSignature { seq };
        let key = VerifyingKey::from_bytes(issuer.as_bytes()).map_err(|_| bad())?;
        let signature = Signature::from_slice(&self.signature).map_err(|_| bad())?;
        key.verify(&signing_bytes(&self.receipt), &signature)
            .map_err(|_| bad())
    }
}

/// The end of a node's verified chain: the next receipt must follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainTip {
    /// Sequence number of the last receipt (0 before the first).
    pub seq: u64,
    /// Its hash (zeros before the first).
    pub hash: ReceiptHash,
    /// Sum of the chain so far.
    pub balance: MicroTokens,
}

impl ChainTip {
    /// The tip of an empty chain.
    pub const GENESIS: ChainTip = ChainTip {
        seq: 0,
        hash: [0; 32],
        balance: MicroTokens(0),
    };

    /// Checks `next` (issuer, signature, node, sequence, link) and returns the new tip.
    pub fn accept(
        &self,
        next: &SignedReceipt,
        issuer: &NodeId,
        node: &NodeId,
    ) -> Result<ChainTip, ReceiptError> {
        next.verify_signature(issuer)?;
        let receipt = &next.receipt;
        if receipt.node != *node {
            return Err(ReceiptError::WrongNode {
                seq: receipt.seq,
                found: receipt.node,
            });
        }
        if receipt.seq != self.seq + 1 {
            return Err(ReceiptError::OutOfSequence {
                expected: self.seq + 1,
                found: receipt.seq,
            });
        }
        if receipt.prev != self.hash {
            return Err(ReceiptError::BrokenLink { seq: receipt.seq });
        }
        Ok(ChainTip {
            seq: receipt.seq,
            hash: next.hash(),
            balance: MicroTokens(self.balance.0.saturating_add(receipt.amount.0)),
        })
    }
}

/// Verifies a whole chain from its first receipt; returns its tip (with the balance).
pub fn verify_chain<'a>(
    receipts: impl IntoIterator<Item = &'a SignedReceipt>,
    issuer: &NodeId,
    node: &NodeId,
) -> Result<ChainTip, ReceiptError> {
    receipts
        .into_iter()
        .try_fold(ChainTip::GENESIS, |tip, receipt| {
            tip.accept(receipt, issuer, node)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn id(key: &SigningKey) -> NodeId {
        NodeId::from(key.verifying_key())
    }

    /// A chain of `amounts.len()` receipts from coordinator key 1 to node key 2.
    fn chain(amounts: &[u64]) -> Vec<SignedReceipt> {
        let (coordinator, node) = (key(1), id(&key(2)));
        let mut tip = ChainTip::GENESIS;
        let mut receipts = Vec::new();
        for (index, amount) in amounts.iter().enumerate() {
            let signed = Receipt {
                issuer: id(&coordinator),
                node,
                work: Credit::Unit(UnitId(index as u64 + 10)),
                amount: MicroTokens(*amount),
                issued_at_ms: 1_700_000_000_000,
                seq: tip.seq + 1,
                prev: tip.hash,
            }
            .sign(&coordinator);
            tip = tip.accept(&signed, &id(&coordinator), &node).unwrap();
            receipts.push(signed);
        }
        receipts
    }

    #[test]
    fn a_chain_verifies_and_sums() {
        let tip = verify_chain(&chain(&[5, 7, 11]), &id(&key(1)), &id(&key(2))).unwrap();
        assert_eq!(tip.seq, 3);
        assert_eq!(tip.balance, MicroTokens(23));
    }

    #[test]
    fn an_altered_amount_breaks_the_signature() {
        let mut receipts = chain(&[5, 7]);
        receipts[1].receipt.amount = MicroTokens(7_000_000);
        assert_eq!(
            verify_chain(&receipts, &id(&key(1)), &id(&key(2))),
            Err(ReceiptError::BadSignature { seq: 2 })
        );
    }

    #[test]
    fn a_dropped_or_reordered_receipt_is_caught() {
        let mut receipts = chain(&[5, 7, 11]);
        receipts.remove(1);
        assert_eq!(
            verify_chain(&receipts, &id(&key(1)), &id(&key(2))),
            Err(ReceiptError::OutOfSequence {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn another_key_or_node_is_refused() {
        let receipts = chain(&[5]);
        assert!(matches!(
            verify_chain(&receipts, &id(&key(3)), &id(&key(2))),
            Err(ReceiptError::WrongIssuer { .. })
        ));
        assert!(matches!(
            verify_chain(&receipts, &id(&key(1)), &id(&key(3))),
            Err(ReceiptError::WrongNode { .. })
        ));
    }

    #[test]
    fn a_forged_signature_from_another_key_fails() {
        let mut receipts = chain(&[5]);
        let forged = receipts[0].receipt.clone().sign(&key(9));
        receipts[0].signature = forged.signature;
        assert_eq!(
            verify_chain(&receipts, &id(&key(1)), &id(&key(2))),
            Err(ReceiptError::BadSignature { seq: 1 })
        );
    }

    #[test]
    fn credit_is_fuel_times_rate_without_overflow() {
        let rate = CreditRate {
            micro_tokens_per_megafuel: 250,
        };
        assert_eq!(rate.credit(4_000_000), MicroTokens(1000));
        assert_eq!(rate.credit(999_999), MicroTokens(249));
        let huge = CreditRate {
            micro_tokens_per_megafuel: u64::MAX,
        };
        assert_eq!(huge.credit(u64::MAX), MicroTokens(u64::MAX));
        assert_eq!(MicroTokens(12_345_678).to_string(), "12.345678");
    }
}
