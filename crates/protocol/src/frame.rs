//! Length-prefixed postcard frames with a hard size limit.
//!
//! A frame is a 4-byte big-endian payload length followed by that many bytes of postcard.
//! The decoder never trusts the length: anything above the caller's maximum is refused
//! before a byte of payload is buffered, and any byte string decodes to `Ok` or `Err`,
//! never a panic (see the property tests and the fuzz target in `fuzz/`).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Size of the length prefix in bytes.
pub const LENGTH_PREFIX_LEN: usize = 4;

/// Largest control-stream payload either side accepts (64 KiB).
pub const MAX_CONTROL_FRAME_LEN: usize = 64 * 1024;

/// Why a frame could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The announced or actual payload is bigger than allowed.
    #[error("frame of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Payload length.
        len: usize,
        /// The limit in force.
        max: usize,
    },
    /// A frame with an empty payload.
    #[error("empty frame")]
    Empty,
    /// The payload is not a valid message.
    #[error("malformed frame: {0}")]
    Malformed(String),
}

/// Serialises `message` into one frame, refusing payloads above `max`.
pub fn encode_frame<T: Serialize>(message: &T, max: usize) -> Result<Vec<u8>, FrameError> {
    let payload = postcard::to_stdvec(message).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if payload.len() > max {
        return Err(FrameError::TooLarge {
            len: payload.len(),
            max,
        });
    }
    let mut frame = Vec::with_capacity(LENGTH_PREFIX_LEN + payload.len());
    frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    frame.extend_from_slice(&payload);
    Ok(frame)
}

/// Reads the payload length from a prefix, refusing lengths above `max` or zero.
pub fn payload_len(prefix: [u8; LENGTH_PREFIX_LEN], max: usize) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(prefix) as usize;
    if len == 0 {
        return Err(FrameError::Empty);
    }
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    Ok(len)
}

/// Decodes one payload (without its prefix); trailing bytes are an error.
pub fn decode_payload<T: DeserializeOwned>(payload: &[u8]) -> Result<T, FrameError> {
    let (message, rest) =
        postcard::take_from_bytes(payload).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(FrameError::Malformed(format!(
            "{} trailing bytes after message",
            rest.len()
        )));
    }
    Ok(message)
}

/// Decodes the first frame in `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, or the message and how many bytes of
/// `buf` it used.
pub fn decode_frame<T: DeserializeOwned>(
    buf: &[u8],
    max: usize,
) -> Result<Option<(T, usize)>, FrameError> {
    let Some(prefix) = buf.first_chunk::<LENGTH_PREFIX_LEN>() else {
        return Ok(None);
    };
    let len = payload_len(*prefix, max)?;
    let Some(payload) = buf.get(LENGTH_PREFIX_LEN..LENGTH_PREFIX_LEN + len) else {
        return Ok(None);
    };
    Ok(Some((decode_payload(payload)?, LENGTH_PREFIX_LEN + len)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::{MAX_INVENTORY, PinOrder, PinOutcome, Provider};
    use crate::content::ContentId;
    use crate::ids::NodeId;
    use crate::messages::*;
    use proptest::prelude::*;

    fn node_id(seed: u8) -> NodeId {
        NodeId::from(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key())
    }

    fn every_node_message() -> Vec<NodeMessage> {
        vec![
            NodeMessage::Hello(Hello {
                versions: vec![1, 2],
                node_id: node_id(1),
            }),
            NodeMessage::Register {
                capabilities: Capabilities {
                    cpu_model: "Test CPU".into(),
                    cpu_cores: 8,
                    memory_bytes: 16 << 30,
                    os: "Debian 12".into(),
                    arch: "x86_64".into(),
                    agent_version: "0.1.0".into(),
                    gpus: vec!["llvmpipe".into()],
                    hardware: Some(HardwareScores {
                        cpu_int_mops: 1000,
                        cpu_float_mflops: 500,
                        memory_mb_per_sec: 8000,
                    }),
                    bandwidth: Some(BandwidthReport {
                        download_kbps: 100_000,
                        upload_kbps: 20_000,
                        rtt_us: 1500,
                        measured_at_ms: 1,
                    }),
                    cache_port: Some(7351),
                },
                proof: crate::proof::IdentityProof { nonce: u64::MAX },
            },
            NodeMessage::Heartbeat {
                seq: u64::MAX,
                activity: NodeActivity::Paused {
                    reason: "owner active".into(),
                },
            },
            NodeMessage::Heartbeat {
                seq: 7,
                activity: NodeActivity::Contributing {
                    budget: Budget {
                        cores: 3,
                        cpu_percent: 80,
                        memory_bytes: 1 << 30,
                        gpu: true,
                        network: true,
                        upload_bytes_per_sec: Some(1_000_000),
                        download_bytes_per_sec: None,
                        cache_disk_bytes: 10 << 30,
                    },
                },
            },
            NodeMessage::UpdateCapabilities {
                capabilities: Capabilities::default(),
            },
            NodeMessage::CacheInventory {
                contents: vec![ContentId::of(b"a"); MAX_INVENTORY],
                last: true,
            },
            NodeMessage::PinReport {
                content: ContentId::of(b"b"),
                outcome: PinOutcome::Dropped {
                    reason: "corrupt on disk".into(),
                },
            },
            NodeMessage::Goodbye {
                reason: "bye".into(),
            },
        ]
    }

    fn every_coordinator_message() -> Vec<CoordinatorMessage> {
        vec![
            CoordinatorMessage::Welcome(Welcome {
                version: 1,
                node_id: node_id(2),
                heartbeat_interval_ms: 2000,
                first_seen_ms: 1_700_000_000_000,
            }),
            CoordinatorMessage::HeartbeatAck { seq: 42 },
            CoordinatorMessage::ProofRequired {
                required_bits: 25,
                message: "identity proof too weak".into(),
            },
            CoordinatorMessage::Throttled {
                retry_after_ms: 1500,
                message: "too many registrations from 192.0.2.0/24".into(),
            },
            CoordinatorMessage::Error {
                code: ErrorCode::UnsupportedVersion,
                message: "supported: [1]".into(),
            },
            CoordinatorMessage::Pin(Box::new(PinOrder {
                content: ContentId::of(b"c"),
                size: 100 << 20,
                peers: vec![Provider {
                    node: node_id(3),
                    direct: Some("[::1]:7351".parse().unwrap()),
                    order: None,
                }],
            })),
            CoordinatorMessage::Unpin {
                content: ContentId::of(b"c"),
            },
            CoordinatorMessage::Goodbye {
                reason: "shutting down".into(),
            },
        ]
    }

    #[test]
    fn every_message_round_trips_through_a_frame() {
        for message in every_node_message() {
            let frame = encode_frame(&message, MAX_CONTROL_FRAME_LEN).unwrap();
            let (back, used) = decode_frame::<NodeMessage>(&frame, MAX_CONTROL_FRAME_LEN)
                .unwrap()
                .unwrap();
            assert_eq!((back, used), (message, frame.len()));
        }
        for message in every_coordinator_message() {
            let frame = encode_frame(&message, MAX_CONTROL_FRAME_LEN).unwrap();
            let (back, _) = decode_frame::<CoordinatorMessage>(&frame, MAX_CONTROL_FRAME_LEN)
                .unwrap()
                .unwrap();
            assert_eq!(back, message);
        }
    }

    #[test]
    fn partial_frames_ask_for_more_bytes() {
        let frame = encode_frame(&every_node_message()[0], MAX_CONTROL_FRAME_LEN).unwrap();
        for cut in 0..frame.len() {
            assert_eq!(
                decode_frame::<NodeMessage>(&frame[..cut], MAX_CONTROL_FRAME_LEN),
                Ok(None)
            );
        }
    }

    #[test]
    fn oversized_length_is_refused_before_the_payload_arrives() {
        let prefix = (10u32 << 20).to_be_bytes();
        assert_eq!(
            decode_frame::<NodeMessage>(&prefix, MAX_CONTROL_FRAME_LEN),
            Err(FrameError::TooLarge {
                len: 10 << 20,
                max: MAX_CONTROL_FRAME_LEN
            })
        );
    }

    #[test]
    fn oversized_message_is_refused_on_encode() {
        let message = NodeMessage::Goodbye {
            reason: "x".repeat(100),
        };
        assert!(matches!(
            encode_frame(&message, 10),
            Err(FrameError::TooLarge { max: 10, .. })
        ));
    }

    #[test]
    fn empty_and_trailing_garbage_frames_are_malformed() {
        assert_eq!(
            decode_frame::<NodeMessage>(&[0, 0, 0, 0], MAX_CONTROL_FRAME_LEN),
            Err(FrameError::Empty)
        );
        let mut frame = encode_frame(&every_node_message()[5], MAX_CONTROL_FRAME_LEN).unwrap();
        frame.push(0);
        let len = (frame.len() - 4) as u32;
        frame[..4].copy_from_slice(&len.to_be_bytes());
        assert!(matches!(
            decode_frame::<NodeMessage>(&frame, MAX_CONTROL_FRAME_LEN),
            Err(FrameError::Malformed(_))
        ));
    }

    #[test]
    fn hello_encoding_is_frozen() {
        // Any coordinator version must read this exact byte layout.
        let hello = NodeMessage::Hello(Hello {
            versions: vec![1],
            node_id: node_id(1),
        });
        let payload = postcard::to_stdvec(&hello).unwrap();
        assert_eq!(
            &payload[..3],
            &[0, 1, 1],
            "variant 0, one version, version 1"
        );
        assert_eq!(&payload[3..], node_id(1).as_bytes());
    }

    proptest! {
        #[test]
        fn any_bytes_decode_to_ok_or_err_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = decode_frame::<NodeMessage>(&bytes, MAX_CONTROL_FRAME_LEN);
            let _ = decode_frame::<CoordinatorMessage>(&bytes, MAX_CONTROL_FRAME_LEN);
            let _ = decode_payload::<NodeMessage>(&bytes);
        }

        #[test]
        fn heartbeats_round_trip(seq in any::<u64>(), reason in ".{0,64}") {
            let message = NodeMessage::Heartbeat { seq, activity: NodeActivity::Paused { reason } };
            let frame = encode_frame(&message, MAX_CONTROL_FRAME_LEN).unwrap();
            let decoded = decode_frame::<NodeMessage>(&frame, MAX_CONTROL_FRAME_LEN).unwrap().unwrap();
            prop_assert_eq!(decoded.0, message);
        }

        #[test]
        fn valid_prefix_with_random_payload_never_panics(payload in proptest::collection::vec(any::<u8>(), 1..512)) {
            let mut frame = (payload.len() as u32).to_be_bytes().to_vec();
            frame.extend_from_slice(&payload);
            let _ = decode_frame::<NodeMessage>(&frame, MAX_CONTROL_FRAME_LEN);
        }
    }
}
