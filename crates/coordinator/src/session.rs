//! One node's session on the coordinator: hello, registration, heartbeats, goodbye.
//!
//! Every way a session can go wrong ends in [`SessionEnd`]; refusals are sent to the node
//! as an error frame with a reason code *and* as the QUIC close reason, so the node can
//! always say why it was refused, even if the frame is lost with the connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use idleshare_protocol::proof::{self, IdentityProof};
use idleshare_protocol::{
    CoordinatorMessage, ErrorCode, FrameError, MAX_CONTROL_FRAME_LEN, NodeId, NodeMessage,
    SUPPORTED_VERSIONS, Welcome, negotiate,
};
use idleshare_transport::{FramedError, peer_node_id, recv_frame, send_frame};
use quinn::{Connection, RecvStream, SendStream};

use crate::metrics::code_label;
use crate::rate::TokenBucket;
use crate::server::Shared;

/// How long a new connection may take to open its control stream and say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long we wait for a goodbye or error frame to reach the node before closing.
const FLUSH_GRACE: Duration = Duration::from_millis(500);

/// How a session ended.
#[derive(Debug)]
pub(crate) enum SessionEnd {
    /// We refused the node, with a reason it is told.
    Rejected(ErrorCode, String),
    /// We refused the registration with a frame that tells the node what to do (prove its
    /// identity at a difficulty, wait); the code counts it and closes the connection.
    RefusedWith(ErrorCode, String, CoordinatorMessage),
    /// The connection failed under us; nothing can be sent.
    Lost(String),
    /// The node said goodbye.
    Goodbye(String),
    /// The coordinator is shutting down.
    Shutdown,
}

impl From<FramedError> for SessionEnd {
    fn from(error: FramedError) -> Self {
        match error {
            FramedError::Frame(FrameError::TooLarge { len, max }) => SessionEnd::Rejected(
                ErrorCode::FrameTooLarge,
                format!("frame of {len} bytes exceeds the limit of {max} bytes"),
            ),
            FramedError::Frame(e) => SessionEnd::Rejected(ErrorCode::MalformedFrame, e.to_string()),
            other => SessionEnd::Lost(other.to_string()),
        }
    }
}

/// Serves one accepted connection until its session ends.
pub(crate) async fn serve_connection(connection: Connection, shared: Arc<Shared>) {
    let remote = connection.remote_address();
    let opened = tokio::time::timeout(HELLO_TIMEOUT, connection.accept_bi()).await;
    let (mut send, mut recv) = match opened {
        Ok(Ok(streams)) => streams,
        Ok(Err(e)) => return tracing::debug!("{remote}: closed before opening a stream: {e}"),
        Err(_) => {
            connection.close(
                close_code(ErrorCode::UnexpectedMessage),
                b"no control stream opened in time",
            );
            return;
        }
    };
    let mut shutdown = shared.shutdown_signal();
    let end = tokio::select! {
        end = run(&connection, &mut send, &mut recv, &shared, remote) => end,
        _ = shutdown.changed() => (None, SessionEnd::Shutdown),
    };
    let (node, end) = end;
    if let Some(node) = node {
        shared.session_ended(&node, &connection);
    }
    finish(&connection, &mut send, &shared, remote, node, end).await;
}

/// Runs the session; returns the registered node id (if any) and how it ended.
async fn run(
    connection: &Connection,
    send: &mut SendStream,
    recv: &mut RecvStream,
    shared: &Arc<Shared>,
    remote: SocketAddr,
) -> (Option<NodeId>, SessionEnd) {
    let mut bucket = TokenBucket::new(
        shared.config.max_frames_per_second,
        shared.config.frame_burst,
        Instant::now(),
    );
    let node = match admit(connection, send, recv, shared, remote, &mut bucket).await {
        Ok(node) => node,
        Err(end) => return (None, end),
    };
    let outbox = shared.open_outbox(node, remote);
    // Bulk transfers get their own streams so they never delay a heartbeat.
    let bulk = tokio::spawn(crate::bulk::serve_bulk_streams(
        connection.clone(),
        shared.clone(),
        node,
    ));
    let end =
        crate::session_loop::serve_registered(node, send, recv, shared, &mut bucket, outbox).await;
    bulk.abort();
    (Some(node), end)
}

/// Reads one frame, enforcing the frame rate and a read timeout.
async fn next_frame(
    recv: &mut RecvStream,
    bucket: &mut TokenBucket,
    timeout: Duration,
    what: &str,
) -> Result<NodeMessage, SessionEnd> {
    let frame = tokio::time::timeout(
        timeout,
        recv_frame::<NodeMessage>(recv, MAX_CONTROL_FRAME_LEN),
    )
    .await
    .map_err(|_| SessionEnd::Lost(format!("no {what} within {timeout:?}")))??;
    let message = frame.ok_or_else(|| SessionEnd::Lost("node closed its control stream".into()))?;
    message
        .validate()
        .map_err(|e| SessionEnd::Rejected(ErrorCode::InvalidContent, e.to_string()))?;
    if !bucket.try_take(Instant::now()) {
        return Err(SessionEnd::Rejected(
            ErrorCode::RateLimited,
            "too many frames per second".into(),
        ));
    }
    Ok(message)
}

/// Hello and registration: version, identity and capabilities checks, then welcome.
async fn admit(
    connection: &Connection,
    send: &mut SendStream,
    recv: &mut RecvStream,
    shared: &Arc<Shared>,
    remote: SocketAddr,
    bucket: &mut TokenBucket,
) -> Result<NodeId, SessionEnd> {
    let hello = match next_frame(recv, bucket, HELLO_TIMEOUT, "hello").await? {
        NodeMessage::Hello(hello) => hello,
        other => return Err(unexpected("hello", &other)),
    };
    let version = negotiate(&hello.versions, SUPPORTED_VERSIONS)
        .map_err(|e| SessionEnd::Rejected(ErrorCode::UnsupportedVersion, e.to_string()))?;
    let certified = peer_node_id(connection)
        .map_err(|e| SessionEnd::Rejected(ErrorCode::IdentityMismatch, e.to_string()))?;
    if certified != hello.node_id {
        return Err(SessionEnd::Rejected(
            ErrorCode::IdentityMismatch,
            format!(
                "claimed node id {} but the TLS certificate holds {certified}",
                hello.node_id
            ),
        ));
    }
    let (capabilities, proof) =
        match next_frame(recv, bucket, HELLO_TIMEOUT, "registration").await? {
            NodeMessage::Register {
                capabilities,
                proof,
            } => (capabilities, proof),
            other => return Err(unexpected("registration", &other)),
        };
    capabilities
        .validate()
        .map_err(|e| SessionEnd::Rejected(ErrorCode::InvalidContent, e.to_string()))?;
    // Both before anything is stored: the proof is one hash, the limiter a map lookup.
    check_proof(shared, &certified, proof)?;
    check_rate(shared, &certified, remote)?;
    let cache_port = capabilities.cache_port;
    let record = shared
        .register(certified, capabilities, remote, connection)
        .await
        .map_err(|e| {
            SessionEnd::Rejected(ErrorCode::Internal, format!("registry storage failed: {e}"))
        })?;
    let welcome = CoordinatorMessage::Welcome(Welcome {
        version,
        node_id: certified,
        heartbeat_interval_ms: shared.config.heartbeat_interval.as_millis() as u32,
        first_seen_ms: record.first_seen_ms,
    });
    send_frame(send, &welcome).await?;
    tracing::info!("node {} registered from {remote}", certified.short());
    tokio::spawn(crate::content::check_reachable(
        shared.clone(),
        certified,
        remote,
        cache_port,
    ));
    Ok(certified)
}

/// Refuses an identity proof below the coordinator's difficulty, telling the node the
/// difficulty so it can compute one and come back at once.
fn check_proof(shared: &Shared, node: &NodeId, proof: IdentityProof) -> Result<(), SessionEnd> {
    let required = shared.config.admission.id_difficulty;
    proof::verify(node, proof, required).map_err(|weak| {
        let message = weak.to_string();
        let frame = CoordinatorMessage::ProofRequired {
            required_bits: required,
            message: message.clone(),
        };
        SessionEnd::RefusedWith(ErrorCode::WeakIdentityProof, message, frame)
    })
}

/// Takes a registration token from the node's address and network, or refuses with the
/// time until there is one.
fn check_rate(shared: &Shared, node: &NodeId, remote: SocketAddr) -> Result<(), SessionEnd> {
    let known = shared.is_known(node);
    let ip = remote.ip().to_canonical();
    let admitted = shared.admission.lock().admit(ip, known, Instant::now());
    admitted.map_err(|throttle| {
        let message = throttle.to_string();
        let retry_after_ms = u64::try_from(throttle.retry_after().as_millis()).unwrap_or(u64::MAX);
        let frame = CoordinatorMessage::Throttled {
            retry_after_ms: retry_after_ms.max(1),
            message: message.clone(),
        };
        SessionEnd::RefusedWith(ErrorCode::Throttled, message, frame)
    })
}

pub(crate) fn unexpected(expected: &str, got: &NodeMessage) -> SessionEnd {
    let got = match got {
        NodeMessage::Hello(_) => "hello",
        NodeMessage::Register { .. } => "registration",
        NodeMessage::Heartbeat { .. } => "heartbeat",
        NodeMessage::UpdateCapabilities { .. } => "capabilities update",
        NodeMessage::WantWork { .. } => "work request",
        NodeMessage::Abandon { .. } => "abandoned lease",
        NodeMessage::SyncReceipts { .. } => "receipt sync",
        NodeMessage::CacheInventory { .. } => "cache inventory",
        NodeMessage::PinReport { .. } => "pin report",
        NodeMessage::ServiceReceipts(_) => "service receipts",
        NodeMessage::Goodbye { .. } => "goodbye",
    };
    SessionEnd::Rejected(
        ErrorCode::UnexpectedMessage,
        format!("expected {expected}, got {got}"),
    )
}

/// The QUIC application close code for an error code (0 is a normal close).
pub(crate) fn close_code(code: ErrorCode) -> quinn::VarInt {
    let index = crate::metrics::ERROR_CODES
        .iter()
        .position(|c| *c == code)
        .unwrap_or(0);
    quinn::VarInt::from_u32(index as u32 + 1)
}

/// Tells the node how the session ended (when it can be told) and closes the connection.
async fn finish(
    connection: &Connection,
    send: &mut SendStream,
    shared: &Shared,
    remote: SocketAddr,
    node: Option<NodeId>,
    end: SessionEnd,
) {
    let who = node.map_or_else(|| remote.to_string(), |n| n.short());
    let (message, code, reason) = match end {
        SessionEnd::Rejected(code, message) => {
            shared.metrics.rejected(code);
            tracing::warn!("{who}: session refused ({}): {message}", code_label(code));
            let reason = format!("{}: {message}", code_label(code));
            (
                Some(CoordinatorMessage::Error { code, message }),
                close_code(code),
                reason,
            )
        }
        SessionEnd::RefusedWith(code, message, frame) => {
            shared.metrics.rejected(code);
            // A flood of these is expected under attack: counted, not logged one by one.
            tracing::debug!(
                "{who}: registration refused ({}): {message}",
                code_label(code)
            );
            let reason = format!("{}: {message}", code_label(code));
            (Some(frame), close_code(code), reason)
        }
        SessionEnd::Shutdown => {
            let reason = "coordinator shutting down".to_owned();
            let goodbye = CoordinatorMessage::Goodbye {
                reason: reason.clone(),
            };
            (Some(goodbye), quinn::VarInt::from_u32(0), reason)
        }
        SessionEnd::Goodbye(reason) => {
            tracing::info!("{who}: said goodbye ({reason})");
            (None, quinn::VarInt::from_u32(0), "goodbye".to_owned())
        }
        SessionEnd::Lost(detail) => {
            tracing::info!("{who}: session ended: {detail}");
            (None, quinn::VarInt::from_u32(0), detail)
        }
    };
    if let Some(message) = message
        && send_frame(send, &message).await.is_ok()
        && send.finish().is_ok()
    {
        let _ = tokio::time::timeout(FLUSH_GRACE, send.stopped()).await;
    }
    let mut reason = reason.into_bytes();
    reason.truncate(512);
    connection.close(code, &reason);
}
