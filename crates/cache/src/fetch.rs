//! Asking one provider for a range and checking every piece as it arrives.
//!
//! A [`Route`] says how to reach the bytes: a node's own endpoint, a node through the
//! coordinator's relay, the coordinator's origin copy, or (inside the coordinator) a node's
//! control connection. [`fetch_range`] sends the request, then reads the encoding piece by
//! piece through a [`RangeDecoder`]: a bad piece ends the transfer at once with
//! [`FetchError::Corrupt`], naming the byte offset, so the caller can report the node and
//! switch provider having lost at most one group.

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use idleshare_protocol::cache::{
    CacheRequest, CacheResponse, MAX_CACHE_FRAME_LEN, RangeRequest, ServiceReceipt,
};
use idleshare_protocol::order::SignedOrderLimit;
use idleshare_protocol::tree::{ByteRange, RangeDecoder, TreeError, TreeShape};
use idleshare_protocol::{ContentId, NodeId};
use idleshare_transport::{FramedError, recv_frame, send_frame};
use quinn::{Connection, RecvStream};
use tokio::sync::mpsc;

use crate::pace::Pacer;
use crate::store::StoreError;
use crate::verifier::{Checked, StreamVerifier};

/// How a client reaches a copy.
#[derive(Debug, Clone)]
pub struct Route {
    /// The connection streams are opened on.
    pub connection: Connection,
    /// Through the coordinator's relay to this node.
    pub via: Option<NodeId>,
    /// The node serving (who is paid and who is blamed); `None` for the origin copy.
    pub node: Option<NodeId>,
    /// The order limit presented with each request (a node serves nobody without one).
    pub order: Option<SignedOrderLimit>,
}

impl Route {
    /// A node's own endpoint (or its control connection, from inside the coordinator).
    pub fn node(connection: Connection, node: NodeId) -> Self {
        Self {
            connection,
            via: None,
            node: Some(node),
            order: None,
        }
    }

    /// A node through the coordinator's relay.
    pub fn relay(coordinator: Connection, node: NodeId) -> Self {
        Self {
            connection: coordinator,
            via: Some(node),
            node: Some(node),
            order: None,
        }
    }

    /// The coordinator's origin copy.
    pub fn origin(coordinator: Connection) -> Self {
        Self {
            connection: coordinator,
            via: None,
            node: None,
            order: None,
        }
    }

    /// The same route, presenting `order` with every request.
    pub fn with_order(mut self, order: Option<SignedOrderLimit>) -> Self {
        self.order = order;
        self
    }

    /// The session service receipts for this route name: its order's serial.
    pub fn serial(&self) -> Option<u64> {
        self.order.as_ref().map(|o| o.limit.serial)
    }

    fn request(&self, mut request: RangeRequest) -> CacheRequest {
        request.order = self.order.clone();
        match self.via {
            Some(node) => CacheRequest::Via { node, request },
            None => CacheRequest::Range(request),
        }
    }

    /// Who this route reaches, for messages.
    pub fn label(&self) -> String {
        match (self.node, self.via) {
            (Some(node), Some(_)) => format!("node {} (relayed)", node.short()),
            (Some(node), None) => format!("node {}", node.short()),
            (None, _) => "the origin".to_owned(),
        }
    }
}

/// Why a range could not be fetched from a provider.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The provider is not serving now; try another.
    #[error("{who} is busy: {reason}")]
    Busy {
        /// The provider.
        who: String,
        /// Its reason.
        reason: String,
    },
    /// The provider holds no copy.
    #[error("{0} has no copy")]
    NotFound(String),
    /// The provider refused the request.
    #[error("{who} refused: {message}")]
    Refused {
        /// The provider.
        who: String,
        /// Its reason.
        message: String,
    },
    /// The provider sent bytes that do not match the content id.
    #[error("{who} sent bad data: {error}")]
    Corrupt {
        /// The provider.
        who: String,
        /// What failed, with the offset.
        error: TreeError,
    },
    /// The provider claims another size than the coordinator published.
    #[error("{who} says the content has {claimed} bytes, not {size}")]
    WrongSize {
        /// The provider.
        who: String,
        /// Its claim.
        claimed: u64,
        /// The published size.
        size: u64,
    },
    /// Nothing arrived for too long.
    #[error("{who} stalled: nothing for {after:?}")]
    Stalled {
        /// The provider.
        who: String,
        /// How long.
        after: Duration,
    },
    /// The connection or stream failed.
    #[error("{who}: {detail}")]
    Transport {
        /// The provider.
        who: String,
        /// What failed.
        detail: String,
    },
    /// The caller's sink refused a piece (for example a full disk).
    #[error("storing what arrived: {0}")]
    Sink(#[source] StoreError),
}

impl FetchError {
    /// Whether the provider is to blame for bad data (and should be reported).
    pub fn is_corrupt(&self) -> bool {
        matches!(
            self,
            FetchError::Corrupt { .. } | FetchError::WrongSize { .. }
        )
    }
}

/// A checked piece of the encoding.
#[derive(Debug)]
pub enum Piece<'a> {
    /// A parent node at its pre-order index.
    Parent {
        /// Pre-order index.
        index: u64,
        /// Its 64 bytes.
        bytes: &'a [u8],
    },
    /// Content bytes at `at` (already clipped to the range asked for).
    Content {
        /// Where they belong.
        at: ByteRange,
        /// The bytes.
        bytes: &'a [u8],
    },
}

/// What one range transfer took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transfer {
    /// Content bytes received and checked (the range's length).
    pub bytes: u64,
    /// Request sent → answer header received.
    pub first_byte: Duration,
    /// Request sent → last piece checked.
    pub total: Duration,
}

/// How a range is fetched.
#[derive(Debug, Clone, Copy)]
pub struct FetchOptions<'a> {
    /// Longest wait for any single read (a provider silent this long has stalled).
    pub stall: Duration,
    /// A download cap, if any.
    pub pacer: Option<&'a Pacer>,
}

/// Fetches `range` of `content` (`size` bytes, as published) over `route`, handing each
/// checked piece to `sink`.
pub async fn fetch_range(
    route: &Route,
    content: ContentId,
    size: u64,
    range: ByteRange,
    options: FetchOptions<'_>,
    mut sink: impl FnMut(Piece<'_>) -> Result<(), StoreError>,
) -> Result<Transfer, FetchError> {
    let stall = options.stall;
    let who = route.label();
    let transport = |detail: String| FetchError::Transport {
        who: who.clone(),
        detail,
    };
    let decoder = RangeDecoder::new(content, size, range).map_err(|error| FetchError::Refused {
        who: "this client".into(),
        message: error.to_string(),
    })?;
    let started = Instant::now();
    let (mut send, mut recv) = within(stall, &who, route.connection.open_bi())
        .await?
        .map_err(|e| transport(e.to_string()))?;
    let request = route.request(RangeRequest {
        content,
        range,
        order: None,
    });
    send_frame(&mut send, &request)
        .await
        .map_err(|e| transport(e.to_string()))?;
    let _ = send.finish();
    let header = within(
        stall,
        &who,
        recv_frame::<CacheResponse>(&mut recv, MAX_CACHE_FRAME_LEN),
    )
    .await?
    .map_err(|e: FramedError| transport(e.to_string()))?
    .ok_or_else(|| transport("stream ended before an answer".into()))?;
    let first_byte = started.elapsed();
    match header {
        CacheResponse::Sending { size: claimed } if claimed == size => {}
        CacheResponse::Sending { size: claimed } => {
            return Err(FetchError::WrongSize { who, claimed, size });
        }
        CacheResponse::Busy { reason } => return Err(FetchError::Busy { who, reason }),
        CacheResponse::NotFound => return Err(FetchError::NotFound(who)),
        CacheResponse::Refused { message } => return Err(FetchError::Refused { who, message }),
        CacheResponse::ReceiptTaken => {
            return Err(transport("answered a range request as a receipt".into()));
        }
    }
    let expected =
        TreeShape::new(size)
            .encoded_len(range)
            .map_err(|error| FetchError::Corrupt {
                who: who.clone(),
                error,
            })?;
    let verifier = StreamVerifier::new(decoder, range);
    receive_checked(&mut recv, verifier, expected, &options, &who, &mut sink).await?;
    Ok(Transfer {
        bytes: range.len(),
        first_byte,
        total: started.elapsed(),
    })
}

/// Bytes asked of the stream per read.
const READ_CHUNK: usize = 256 * 1024;
/// Chunks in flight between the receiving task and the checking thread.
const CHUNKS_AHEAD: usize = 4;

type CheckedBatch = Result<Vec<Checked>, TreeError>;

/// Reads the `expected` bytes of the encoding while a blocking thread checks them, so
/// hashing overlaps with receiving; hands the checked pieces to `sink` in order.
async fn receive_checked(
    recv: &mut RecvStream,
    verifier: StreamVerifier,
    expected: u64,
    options: &FetchOptions<'_>,
    who: &str,
    sink: &mut impl FnMut(Piece<'_>) -> Result<(), StoreError>,
) -> Result<(), FetchError> {
    let (chunks, mut chunk_queue) = mpsc::channel::<Vec<u8>>(CHUNKS_AHEAD);
    let (results, mut checked) = mpsc::channel::<CheckedBatch>(CHUNKS_AHEAD);
    // Returns whether every piece arrived and passed.
    let checker = tokio::task::spawn_blocking(move || {
        let mut verifier = verifier;
        while let Some(chunk) = chunk_queue.blocking_recv() {
            let mut out = Vec::new();
            let result = verifier.push(&chunk, &mut out).map(|()| out);
            let failed = result.is_err();
            if results.blocking_send(result).is_err() || failed {
                return false;
            }
        }
        verifier.is_done()
    });
    let mut buffer = vec![0u8; READ_CHUNK];
    let mut received = 0u64;
    while received < expected {
        while let Ok(batch) = checked.try_recv() {
            deliver(batch, who, sink)?;
        }
        let want = READ_CHUNK.min((expected - received) as usize);
        let read = within(options.stall, who, recv.read(&mut buffer[..want])).await?;
        let n = match read {
            Ok(Some(n)) => n,
            Ok(None) => {
                return Err(FetchError::Transport {
                    who: who.to_owned(),
                    detail: format!("the stream ended after {received} of {expected} bytes"),
                });
            }
            Err(e) => {
                return Err(FetchError::Transport {
                    who: who.to_owned(),
                    detail: format!("reading the encoding: {e}"),
                });
            }
        };
        received += n as u64;
        if let Some(pacer) = options.pacer {
            pacer.take(n as u64).await;
        }
        if chunks.send(buffer[..n].to_vec()).await.is_err() {
            // The checker stopped: it found a bad piece, which waits in `checked`.
            break;
        }
    }
    drop(chunks);
    while let Some(batch) = checked.recv().await {
        deliver(batch, who, sink)?;
    }
    match checker.await {
        Ok(true) => Ok(()),
        _ => Err(FetchError::Transport {
            who: who.to_owned(),
            detail: "the encoding ended before every piece was checked".into(),
        }),
    }
}

/// Hands a batch of checked pieces to the caller, or reports the bad one.
fn deliver(
    batch: CheckedBatch,
    who: &str,
    sink: &mut impl FnMut(Piece<'_>) -> Result<(), StoreError>,
) -> Result<(), FetchError> {
    let batch = batch.map_err(|error| FetchError::Corrupt {
        who: who.to_owned(),
        error,
    })?;
    for piece in &batch {
        let piece = match piece {
            Checked::Parent { index, bytes } => Piece::Parent {
                index: *index,
                bytes,
            },
            Checked::Content { at, bytes } => Piece::Content { at: *at, bytes },
        };
        sink(piece).map_err(FetchError::Sink)?;
    }
    Ok(())
}

async fn within<T>(
    limit: Duration,
    who: &str,
    future: impl Future<Output = T>,
) -> Result<T, FetchError> {
    tokio::time::timeout(limit, future)
        .await
        .map_err(|_| FetchError::Stalled {
            who: who.to_owned(),
            after: limit,
        })
}

/// Signs a cumulative service receipt and hands it to the node over `route` (relayed routes
/// go through the coordinator). Does nothing for the origin.
pub async fn send_receipt(
    route: &Route,
    key: &SigningKey,
    content: ContentId,
    session: u64,
    bytes: u64,
    now_ms: u64,
    timeout: Duration,
) -> Result<(), FetchError> {
    let Some(node) = route.node else {
        return Ok(());
    };
    let who = route.label();
    let receipt = ServiceReceipt {
        client: NodeId::from(key.verifying_key()),
        node,
        content,
        session,
        bytes,
        signed_at_ms: now_ms,
    }
    .sign(key);
    let request = match route.via {
        Some(_) => CacheRequest::ViaReceipt(receipt),
        None => CacheRequest::Receipt(receipt),
    };
    let transport = |detail: String| FetchError::Transport {
        who: who.clone(),
        detail,
    };
    let exchange = async {
        let (mut send, mut recv) = route
            .connection
            .open_bi()
            .await
            .map_err(|e| transport(e.to_string()))?;
        send_frame(&mut send, &request)
            .await
            .map_err(|e| transport(e.to_string()))?;
        let _ = send.finish();
        match recv_frame::<CacheResponse>(&mut recv, MAX_CACHE_FRAME_LEN).await {
            Ok(Some(CacheResponse::ReceiptTaken)) => Ok(()),
            Ok(Some(CacheResponse::Refused { message })) => Err(FetchError::Refused {
                who: who.clone(),
                message,
            }),
            Ok(other) => Err(transport(format!(
                "unexpected answer to a receipt: {other:?}"
            ))),
            Err(e) => Err(transport(e.to_string())),
        }
    };
    within(timeout, &route.label(), exchange).await?
}
