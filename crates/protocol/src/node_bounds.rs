//! Bounds on every text and list a node sends on its control stream: the frame limit alone
//! would let a node park 64 KiB of text in the coordinator's registry with every heartbeat.
//!
//! [`NodeMessage::validate`] checks a whole message; a coordinator answers a failure with
//! `InvalidContent` and the field it names. Honest nodes never hit a bound: their texts are
//! short, and those built from error messages are cut with [`clip_text`] before they leave.
//! (Requests on bulk streams have their own check, [`crate::bulk::BulkRequest::validate`].)

use crate::bounds::{BoundsError, check_len, check_range};
use crate::cache::{MAX_INVENTORY, MAX_RECEIPTS_PER_FRAME, PinOutcome, SignedServiceReceipt};
use crate::messages::{MAX_TEXT_LEN, NodeActivity, NodeMessage};

/// Most protocol versions a hello may list.
pub const MAX_HELLO_VERSIONS: usize = 64;
/// Length of an ed25519 signature, the only length a service receipt's may have.
pub const SIGNATURE_LEN: usize = 64;

/// Cuts `text` to at most `max` bytes at a character boundary.
pub fn clip_text(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

impl NodeActivity {
    /// Checks the pause reason is within [`MAX_TEXT_LEN`].
    pub fn validate(&self) -> Result<(), BoundsError> {
        match self {
            NodeActivity::Paused { reason } => check_len("pause reason", reason, MAX_TEXT_LEN),
            NodeActivity::Starting | NodeActivity::Contributing { .. } => Ok(()),
        }
    }
}

impl PinOutcome {
    /// Checks the reason is within [`MAX_TEXT_LEN`].
    pub fn validate(&self) -> Result<(), BoundsError> {
        match self {
            PinOutcome::Failed { reason } | PinOutcome::Dropped { reason } => {
                check_len("pin report reason", reason, MAX_TEXT_LEN)
            }
            PinOutcome::Stored => Ok(()),
        }
    }

    /// The same outcome with its reason cut to [`MAX_TEXT_LEN`] (what a node sends).
    pub fn clipped(self) -> Self {
        match self {
            PinOutcome::Failed { reason } => PinOutcome::Failed {
                reason: clip_text(&reason, MAX_TEXT_LEN),
            },
            PinOutcome::Dropped { reason } => PinOutcome::Dropped {
                reason: clip_text(&reason, MAX_TEXT_LEN),
            },
            PinOutcome::Stored => PinOutcome::Stored,
        }
    }
}

impl SignedServiceReceipt {
    /// Checks the signature has an ed25519 signature's length (the signature itself is
    /// checked by [`SignedServiceReceipt::verify`]).
    pub fn validate(&self) -> Result<(), BoundsError> {
        let len = self.signature.len() as u64;
        let exact = SIGNATURE_LEN as u64;
        check_range("service receipt signature length", len, exact, exact)
    }
}

impl NodeMessage {
    /// Checks every text and list in the message against its bound.
    pub fn validate(&self) -> Result<(), BoundsError> {
        let count = |field, len: usize, max: usize| check_range(field, len as u64, 0, max as u64);
        match self {
            NodeMessage::Hello(hello) => {
                count("hello versions", hello.versions.len(), MAX_HELLO_VERSIONS)
            }
            NodeMessage::Register { capabilities, .. }
            | NodeMessage::UpdateCapabilities { capabilities } => capabilities.validate(),
            NodeMessage::Heartbeat { activity, .. } => activity.validate(),
            NodeMessage::Abandon { reason, .. } => {
                check_len("abandon reason", reason, MAX_TEXT_LEN)
            }
            NodeMessage::Goodbye { reason } => check_len("goodbye reason", reason, MAX_TEXT_LEN),
            NodeMessage::CacheInventory { contents, .. } => {
                count("cache inventory items", contents.len(), MAX_INVENTORY)
            }
            NodeMessage::PinReport { outcome, .. } => outcome.validate(),
            NodeMessage::ServiceReceipts(receipts) => {
                count("service receipts", receipts.len(), MAX_RECEIPTS_PER_FRAME)?;
                receipts.iter().try_for_each(SignedServiceReceipt::validate)
            }
            NodeMessage::WantWork { .. } | NodeMessage::SyncReceipts { .. } => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::ServiceReceipt;
    use crate::content::ContentId;
    use crate::ids::NodeId;
    use crate::job::LeaseId;
    use crate::messages::{Capabilities, Hello};

    fn long() -> String {
        "x".repeat(MAX_TEXT_LEN + 1)
    }

    fn receipt(signature_len: usize) -> SignedServiceReceipt {
        let id = NodeId::from(ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key());
        SignedServiceReceipt {
            receipt: ServiceReceipt {
                client: id,
                node: id,
                content: ContentId::of(b"x"),
                session: 1,
                bytes: 1,
                signed_at_ms: 1,
            },
            signature: vec![0; signature_len],
        }
    }

    #[test]
    fn each_oversized_field_is_refused_by_name() {
        let content = ContentId::of(b"x");
        let id = receipt(0).receipt.client;
        let table: Vec<(NodeMessage, &str)> = vec![
            (
                NodeMessage::Hello(Hello {
                    versions: vec![1; MAX_HELLO_VERSIONS + 1],
                    node_id: id,
                }),
                "hello versions",
            ),
            (
                NodeMessage::UpdateCapabilities {
                    capabilities: Capabilities {
                        cpu_model: long(),
                        ..Capabilities::default()
                    },
                },
                "capability cpu_model",
            ),
            (
                NodeMessage::Heartbeat {
                    seq: 1,
                    activity: NodeActivity::Paused { reason: long() },
                },
                "pause reason",
            ),
            (
                NodeMessage::Abandon {
                    lease: LeaseId(1),
                    reason: long(),
                },
                "abandon reason",
            ),
            (NodeMessage::Goodbye { reason: long() }, "goodbye reason"),
            (
                NodeMessage::CacheInventory {
                    contents: vec![content; MAX_INVENTORY + 1],
                    last: true,
                },
                "cache inventory items",
            ),
            (
                NodeMessage::PinReport {
                    content,
                    outcome: PinOutcome::Dropped { reason: long() },
                },
                "pin report reason",
            ),
            (
                NodeMessage::ServiceReceipts(vec![receipt(64); MAX_RECEIPTS_PER_FRAME + 1]),
                "service receipts",
            ),
            (
                NodeMessage::ServiceReceipts(vec![receipt(64), receipt(4096)]),
                "service receipt signature length",
            ),
        ];
        for (message, field) in table {
            let error = message.validate().expect_err(field);
            assert_eq!(error.field(), field, "{error}");
        }
    }

    #[test]
    fn messages_within_bounds_pass() {
        let fine = [
            NodeMessage::Heartbeat {
                seq: 1,
                activity: NodeActivity::Paused {
                    reason: "x".repeat(MAX_TEXT_LEN),
                },
            },
            NodeMessage::Goodbye {
                reason: "node stopping".into(),
            },
            NodeMessage::ServiceReceipts(vec![receipt(64); MAX_RECEIPTS_PER_FRAME]),
            NodeMessage::WantWork { slots: 4 },
        ];
        for message in fine {
            assert_eq!(message.validate(), Ok(()), "{message:?}");
        }
    }

    #[test]
    fn clipping_keeps_whole_characters_and_fits_the_bound() {
        let clipped = PinOutcome::Failed {
            reason: "é".repeat(MAX_TEXT_LEN),
        }
        .clipped();
        assert_eq!(clipped.validate(), Ok(()));
        assert_eq!(clip_text("héllo", 2), "h");
        assert_eq!(clip_text("short", 100), "short");
    }
}
