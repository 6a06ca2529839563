//! The registered part of a node's session: frames from the node (heartbeats, work requests,
//! abandons, receipt syncs) and messages to it (acks, assignments, revokes, receipts) on one
//! control stream.
//!
//! Every frame is checked against the protocol's bounds first
//! ([`idleshare_protocol::NodeMessage::validate`]): an oversized text or list ends the session
//! with `InvalidContent` naming the field.
//!
//! Frames are read by a future of their own feeding a small channel, so a half-read frame is
//! never lost when an outbound message wins the `select!`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use idleshare_protocol::{CoordinatorMessage, MAX_CONTROL_FRAME_LEN, NodeId, NodeMessage};
use idleshare_transport::{FramedError, recv_frame, send_frame};
use quinn::{RecvStream, SendStream};
use tokio::sync::mpsc;

use crate::rate::TokenBucket;
use idleshare_base::clock::unix_ms;

use crate::server::Shared;
use crate::session::{SessionEnd, unexpected};

/// Most slots a node may ask for at once.
const MAX_SLOTS: u32 = 1024;
/// Receipts read from the store per page of a sync.
const SYNC_PAGE: usize = 256;

/// A frame read from the node, boxed: the channel between the reader and the loop keeps a
/// block of slots per session, and a boxed frame is one pointer instead of a whole message
/// (capabilities are some 200 bytes), about 7 KiB less per session across 10,000.
type Frame = Box<Result<Option<NodeMessage>, FramedError>>;

/// Per-session state the loop keeps.
struct Session<'a> {
    node: NodeId,
    send: &'a mut SendStream,
    shared: &'a Arc<Shared>,
    /// The cores of its last contributing budget (`None`: not contributing).
    contributing: Option<u32>,
    /// Highest receipt sequence number sent by a sync (live copies at or below are skipped).
    synced_to: u64,
}

/// Serves a registered node until its session ends.
pub(crate) async fn serve_registered(
    node: NodeId,
    send: &mut SendStream,
    recv: &mut RecvStream,
    shared: &Arc<Shared>,
    bucket: &mut TokenBucket,
    mut outbox: mpsc::Receiver<CoordinatorMessage>,
) -> SessionEnd {
    let offline_after = shared.config.offline_after();
    let (frames_tx, mut frames) = mpsc::channel::<Frame>(8);
    let reader = read_frames(recv, frames_tx);
    tokio::pin!(reader);
    let mut reader_done = false;
    let silence = tokio::time::sleep(offline_after);
    tokio::pin!(silence);
    let mut session = Session {
        node,
        send,
        shared,
        contributing: None,
        synced_to: 0,
    };
    loop {
        tokio::select! {
            () = &mut reader, if !reader_done => reader_done = true,
            frame = frames.recv() => {
                let message = match frame.map(|frame| *frame) {
                    Some(Ok(Some(message))) => message,
                    Some(Err(e)) => return e.into(),
                    Some(Ok(None)) | None => {
                        return SessionEnd::Lost("node closed its control stream".into());
                    }
                };
                if !bucket.try_take(Instant::now()) {
                    return SessionEnd::Rejected(
                        idleshare_protocol::ErrorCode::RateLimited,
                        "too many frames per second".into(),
                    );
                }
                silence.as_mut().reset(tokio::time::Instant::now() + offline_after);
                if let Err(e) = message.validate() {
                    return SessionEnd::Rejected(
                        idleshare_protocol::ErrorCode::InvalidContent,
                        e.to_string(),
                    );
                }
                if let Some(end) = session.handle(message).await {
                    return end;
                }
            }
            message = outbox.recv() => {
                let Some(message) = message else {
                    return SessionEnd::Lost("replaced by a newer session".into());
                };
                if let Err(e) = session.forward(message).await {
                    return e.into();
                }
            }
            () = &mut silence => {
                return SessionEnd::Lost(format!("no heartbeat within {offline_after:?}"));
            }
        }
    }
}

/// Reads frames into `frames` until the stream ends or fails (that last result included).
async fn read_frames(recv: &mut RecvStream, frames: mpsc::Sender<Frame>) {
    loop {
        let frame = recv_frame::<NodeMessage>(recv, MAX_CONTROL_FRAME_LEN).await;
        let last = !matches!(frame, Ok(Some(_)));
        if frames.send(Box::new(frame)).await.is_err() || last {
            return;
        }
    }
}

impl Session<'_> {
    /// Handles one frame from the node; `Some` ends the session.
    async fn handle(&mut self, message: NodeMessage) -> Option<SessionEnd> {
        let (node, shared, now) = (self.node, self.shared, unix_ms());
        match message {
            NodeMessage::Heartbeat { seq, activity } => {
                shared.metrics.heartbeats.fetch_add(1, Ordering::Relaxed);
                shared.heartbeat(&node, &activity);
                let contributing = activity.budget().map(|budget| budget.cores);
                if contributing != self.contributing {
                    self.contributing = contributing;
                    shared.work.apply(|book, rng, ch| {
                        book.node_activity(node, contributing, now, rng, ch)
                    });
                    shared.content.replan_soon();
                }
                let ack = CoordinatorMessage::HeartbeatAck { seq };
                if let Err(e) = send_frame(self.send, &ack).await {
                    return Some(e.into());
                }
            }
            NodeMessage::UpdateCapabilities { capabilities } => {
                let cache_port = capabilities.cache_port;
                let old_port = shared.update_capabilities(&node, capabilities);
                if old_port != cache_port
                    && let Some(connection) = shared.live_connection(&node)
                {
                    let remote = connection.remote_address();
                    let check =
                        crate::content::check_reachable(shared.clone(), node, remote, cache_port);
                    tokio::spawn(check);
                }
            }
            NodeMessage::WantWork { slots } => {
                let slots = slots.min(MAX_SLOTS);
                shared
                    .work
                    .apply(|book, rng, ch| book.want_work(node, slots, now, rng, ch));
            }
            NodeMessage::Abandon { lease, reason } => {
                let (result, _) = shared
                    .work
                    .apply(|book, rng, ch| book.abandon(node, lease, &reason, now, rng, ch));
                match result {
                    Ok(()) => tracing::info!("{}: abandoned {lease}: {reason}", node.short()),
                    Err(e) => tracing::info!("{}: abandon ignored: {e}", node.short()),
                }
            }
            NodeMessage::SyncReceipts { from_seq } => {
                if let Err(e) = self.sync_receipts(from_seq).await {
                    return Some(e);
                }
            }
            NodeMessage::CacheInventory { contents, last } => {
                shared.content.on_inventory(shared, node, contents, last);
            }
            NodeMessage::PinReport { content, outcome } => {
                shared.content.on_report(shared, node, content, outcome);
            }
            NodeMessage::ServiceReceipts(receipts) => {
                let (credited, refused) = shared.content.credit(shared, Some(node), receipts);
                for reason in refused {
                    tracing::info!("{}: service receipt refused: {reason}", node.short());
                }
                tracing::debug!("{}: {credited} micro-tokens for serving", node.short());
            }
            NodeMessage::Goodbye { reason } => return Some(SessionEnd::Goodbye(reason)),
            other => return Some(unexpected("heartbeat", &other)),
        }
        None
    }

    /// Sends a queued message, skipping receipts a sync already sent.
    async fn forward(&mut self, message: CoordinatorMessage) -> Result<(), FramedError> {
        if let CoordinatorMessage::Receipt(receipt) = &message
            && receipt.receipt.seq <= self.synced_to
        {
            return Ok(());
        }
        send_frame(self.send, &message).await
    }

    /// Replays the node's committed receipts from `from_seq` on, in order.
    async fn sync_receipts(&mut self, from_seq: u64) -> Result<(), SessionEnd> {
        let mut next = from_seq.max(1);
        loop {
            let shared = self.shared.clone();
            let node = self.node;
            let page = tokio::task::spawn_blocking(move || {
                shared.work.store().receipts(&node, next, SYNC_PAGE)
            })
            .await
            .map_err(|e| SessionEnd::Lost(format!("receipt sync task failed: {e}")))?
            .map_err(|e| {
                SessionEnd::Rejected(
                    idleshare_protocol::ErrorCode::Internal,
                    format!("receipt store failed: {e}"),
                )
            })?;
            let full = page.len() == SYNC_PAGE;
            for receipt in page {
                next = receipt.receipt.seq + 1;
                self.synced_to = self.synced_to.max(receipt.receipt.seq);
                let message = CoordinatorMessage::Receipt(Box::new(receipt));
                send_frame(self.send, &message).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }
}
