//! Answering a range request: the verified encoding, read from the store, checked again on
//! the way out, and paced by the upload cap.
//!
//! A reader thread reads and checks batches of the encoding while the async side sends the
//! previous batch, so disk, hashing and the network overlap. Every group is checked against
//! the content id before it leaves: a disk that rots makes the transfer fail here (and the
//! item is evicted by the caller), never sends bad bytes to a client.

use std::sync::Arc;

use idleshare_protocol::cache::{CacheResponse, RangeRequest};
use idleshare_protocol::tree::{ByteRange, PARENT_BYTES, RangeDecoder, Step, TreeError};
use idleshare_transport::{FramedError, send_frame};
use quinn::SendStream;
use tokio::sync::mpsc;

use crate::pace::Pacer;
use crate::store::ContentReader;

/// Bytes of encoding per batch handed from the reader thread to the sender.
const BATCH: usize = 256 * 1024;
/// Batches read ahead of the network.
const READ_AHEAD: usize = 2;

/// Why a range could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The stored item failed its check while being read: it must be evicted.
    #[error("stored copy is corrupt: {0}")]
    Corrupt(TreeError),
    /// The stored item could not be read.
    #[error("reading the stored copy: {0}")]
    Read(std::io::Error),
    /// The request does not fit the content.
    #[error(transparent)]
    BadRange(TreeError),
    /// The client went away or the stream failed.
    #[error("sending: {0}")]
    Send(String),
}

impl From<FramedError> for ServeError {
    fn from(error: FramedError) -> Self {
        ServeError::Send(error.to_string())
    }
}

/// Test only (the `test-hooks` feature): how a deliberately bad node damages what it serves.
#[cfg(feature = "test-hooks")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tamper {
    /// Serve the true bytes.
    #[default]
    None,
    /// Flip one bit in every group after it has been checked.
    FlipGroups,
}

/// Sends the answer header and the encoding of `request.range` from `reader`; returns the
/// content bytes sent (the requested range's length) once the stream is finished.
pub async fn send_range(
    reader: ContentReader,
    request: RangeRequest,
    send: &mut SendStream,
    pacer: &Pacer,
) -> Result<u64, ServeError> {
    send_encoding(reader, request, send, pacer, Damage::default()).await
}

/// Test only (the `test-hooks` feature): [`send_range`] from a deliberately bad node, which
/// damages the groups with `tamper` after checking them.
#[cfg(feature = "test-hooks")]
pub async fn send_tampered_range(
    reader: ContentReader,
    request: RangeRequest,
    send: &mut SendStream,
    pacer: &Pacer,
    tamper: Tamper,
) -> Result<u64, ServeError> {
    send_encoding(reader, request, send, pacer, Damage { tamper }).await
}

/// What a deliberately bad node does to the groups it sends. Without the `test-hooks`
/// feature it is empty and does nothing: no tampering code is compiled.
#[derive(Clone, Copy, Default)]
struct Damage {
    #[cfg(feature = "test-hooks")]
    tamper: Tamper,
}

impl Damage {
    /// Damages `group` (the bytes `bytes` of the content, of the range `range` asked for)
    /// after it was checked.
    #[cfg_attr(not(feature = "test-hooks"), allow(unused_variables))]
    fn apply(self, range: ByteRange, bytes: ByteRange, group: &mut [u8]) {
        #[cfg(feature = "test-hooks")]
        if self.tamper == Tamper::FlipGroups && !group.is_empty() {
            let at = (range.start.max(bytes.start) - bytes.start) as usize;
            let last = group.len() - 1;
            group[at.min(last)] ^= 0x01;
        }
    }
}

async fn send_encoding(
    reader: ContentReader,
    request: RangeRequest,
    send: &mut SendStream,
    pacer: &Pacer,
    damage: Damage,
) -> Result<u64, ServeError> {
    let size = reader.size();
    let decoder = RangeDecoder::new(reader.id(), size, request.range).map_err(ServeError::BadRange);
    let decoder = match decoder {
        Ok(decoder) => decoder,
        Err(e) => {
            let refusal = CacheResponse::Refused {
                message: e.to_string(),
            };
            send_frame(send, &refusal).await?;
            let _ = send.finish();
            return Err(e);
        }
    };
    send_frame(send, &CacheResponse::Sending { size }).await?;
    let (batches_tx, mut batches) = mpsc::channel(READ_AHEAD);
    let mut encoder = Encoder {
        reader: Arc::new(reader),
        decoder,
        damage,
        range: request.range,
    };
    let producer = tokio::task::spawn_blocking(move || {
        loop {
            let batch = encoder.next_batch();
            let last = !matches!(batch, Ok(Some(_)));
            if batches_tx.blocking_send(batch).is_err() || last {
                return;
            }
        }
    });
    let mut sent = 0u64;
    while let Some(batch) = batches.recv().await {
        let Some(batch) = batch? else { break };
        pacer.take(batch.len() as u64).await;
        send.write_all(&batch)
            .await
            .map_err(|e| ServeError::Send(e.to_string()))?;
        sent += batch.len() as u64;
    }
    drop(batches);
    let _ = producer.await;
    send.finish().map_err(|e| ServeError::Send(e.to_string()))?;
    tracing::trace!("served {sent} encoded bytes of {}", request.content.short());
    Ok(request.range.len())
}

/// Produces the encoding batch by batch, checking it as it goes.
struct Encoder {
    reader: Arc<ContentReader>,
    decoder: RangeDecoder,
    damage: Damage,
    range: ByteRange,
}

impl Encoder {
    /// The next batch of at least one piece, or `None` at the end.
    fn next_batch(&mut self) -> Result<Option<Vec<u8>>, ServeError> {
        let mut batch = Vec::with_capacity(BATCH + 16 * 1024);
        let mut group = Vec::new();
        while batch.len() < BATCH {
            let Some(step) = self.decoder.next_step() else {
                break;
            };
            match step {
                Step::Parent { index } => {
                    let parent = self.reader.read_parent(index).map_err(ServeError::Read)?;
                    self.decoder.parent(&parent).map_err(ServeError::Corrupt)?;
                    batch.extend_from_slice(&parent[..PARENT_BYTES]);
                }
                Step::Group { bytes, .. } => {
                    self.reader
                        .read_range(bytes, &mut group)
                        .map_err(ServeError::Read)?;
                    self.decoder.group(&group).map_err(ServeError::Corrupt)?;
                    self.damage.apply(self.range, bytes, &mut group);
                    batch.extend_from_slice(&group);
                }
            }
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}
