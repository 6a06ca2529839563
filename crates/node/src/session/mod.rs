//! One session with the coordinator: connect, register, heartbeat until something ends it.
//!
//! The reader runs in its own task and hands decoded frames over a channel, so the
//! heartbeat loop can `select!` on frames, its ticker and the stop signal without ever
//! cancelling a half-read frame.
//!
//! - `handshake`: connect, hello, registration, welcome;
//! - `running`: heartbeats, capability updates, the bandwidth test, goodbye.

mod cache_link;
mod handshake;
mod receipts;
mod running;
mod work_link;

use idleshare_base::clock::unix_ms;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use idleshare_protocol::{
    Capabilities, CoordinatorAddress, CoordinatorMessage, ErrorCode, NodeActivity,
};
use idleshare_transport::{EndpointError, FramedError, TransportLimits};
use tokio::sync::watch;

use self::cache_link::CacheLink;
pub use self::handshake::{REGISTER_TIMEOUT, hello_and_register};
use self::handshake::{connect, register};
use self::work_link::WorkLink;
pub(crate) use self::work_link::WorkParts;
use crate::backoff::Backoff;
use crate::cache::CacheService;
use crate::status::{ConnectionState, NodeStatus};
use crate::wallet::Wallet;

/// Why a session ended (other than a requested stop).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The coordinator's host name did not resolve.
    #[error("cannot resolve {host}: {detail}")]
    Resolve {
        /// The host:port.
        host: String,
        /// The resolver's answer.
        detail: String,
    },
    /// The local UDP socket could not be opened.
    #[error("cannot open a local QUIC endpoint: {0}")]
    Endpoint(std::io::Error),
    /// The TLS/QUIC configuration could not be built.
    #[error(transparent)]
    Config(#[from] EndpointError),
    /// quinn refused to start the connection.
    #[error("cannot connect: {0}")]
    Connect(#[from] quinn::ConnectError),
    /// The QUIC/TLS handshake failed (wrong coordinator key, unreachable, refused).
    #[error("handshake with the coordinator failed: {0}")]
    Handshake(quinn::ConnectionError),
    /// Opening the control stream failed.
    #[error("connection lost: {0}")]
    Connection(quinn::ConnectionError),
    /// A frame could not be sent or received.
    #[error("control stream: {0}")]
    Framed(#[from] FramedError),
    /// The coordinator refused or ended the session with an error.
    #[error("coordinator refused the session ({code:?}): {message}")]
    Refused {
        /// The reason code.
        code: ErrorCode,
        /// The coordinator's words.
        message: String,
    },
    /// The coordinator said goodbye (for example it is shutting down).
    #[error("coordinator said goodbye: {0}")]
    CoordinatorLeft(String),
    /// A heartbeat was not acknowledged in time.
    #[error("no heartbeat acknowledgement within {0:?}")]
    HeartbeatTimeout(Duration),
    /// Registration was not answered in time.
    #[error("no answer to registration within {REGISTER_TIMEOUT:?}")]
    RegisterTimeout,
    /// The coordinator closed the control stream.
    #[error("coordinator closed the control stream")]
    StreamClosed,
    /// A valid message arrived at the wrong time.
    #[error("unexpected message from coordinator: {0}")]
    Unexpected(String),
    /// The coordinator wants a stronger identity proof; the node computes one and comes
    /// back.
    #[error("the coordinator requires an identity proof of {required_bits} bits: {message}")]
    ProofRequired {
        /// The difficulty required.
        required_bits: u8,
        /// The coordinator's words.
        message: String,
    },
    /// Too many registrations from this address or network; the node waits.
    #[error("the coordinator is throttling registrations: {message}")]
    Throttled {
        /// How long the coordinator asks us to wait.
        retry_after: Duration,
        /// The coordinator's words.
        message: String,
    },
}

impl SessionError {
    /// What a frame that is not the one expected means: the stream closed, a refusal, a
    /// goodbye, or a message out of turn.
    pub(crate) fn unexpected(frame: Option<CoordinatorMessage>) -> Self {
        match frame {
            None => Self::StreamClosed,
            Some(CoordinatorMessage::Error { code, message }) => Self::Refused { code, message },
            Some(CoordinatorMessage::Goodbye { reason }) => Self::CoordinatorLeft(reason),
            Some(CoordinatorMessage::ProofRequired {
                required_bits,
                message,
            }) => Self::ProofRequired {
                required_bits,
                message,
            },
            Some(CoordinatorMessage::Throttled {
                retry_after_ms,
                message,
            }) => Self::Throttled {
                retry_after: Duration::from_millis(retry_after_ms),
                message,
            },
            Some(other) => Self::Unexpected(format!("{other:?}")),
        }
    }
}

/// What a session needs: who we are, where to go, what we offer.
#[derive(Clone)]
pub(crate) struct SessionContext {
    pub key: SigningKey,
    pub address: CoordinatorAddress,
    /// What this node offers; a change is reported to the coordinator at once.
    pub capabilities: Arc<watch::Sender<Capabilities>>,
    pub limits: TransportLimits,
    /// Where the bandwidth result is kept.
    pub data_dir: PathBuf,
    /// A stored bandwidth result younger than this is reused.
    pub bandwidth_max_age: Duration,
    /// Where receipts are kept (none: receipts are not stored).
    pub wallet: Option<Arc<Wallet>>,
    /// The edge cache (none: this node caches nothing).
    pub cache: Option<Arc<CacheService>>,
    /// The local address connections leave from (`None`: any).
    pub bind_ip: Option<std::net::IpAddr>,
    /// The identity proof sent at registration (nonce 0 until one is computed).
    pub proof: idleshare_protocol::proof::IdentityProof,
}

/// Inputs the session watches.
pub(crate) struct SessionSignals<'a> {
    pub status: &'a watch::Sender<NodeStatus>,
    pub activity: &'a watch::Receiver<NodeActivity>,
    pub stop: &'a mut watch::Receiver<bool>,
    /// The unit runner, when this node runs work.
    pub work: Option<&'a mut WorkParts>,
}

/// Runs one session. `Ok(())` means it ended because stop was requested.
pub(crate) async fn run_session(
    ctx: &SessionContext,
    signals: SessionSignals<'_>,
    backoff: &mut Backoff,
) -> Result<(), SessionError> {
    let SessionSignals {
        status,
        activity,
        stop,
        work,
    } = signals;
    let registration = async {
        let (endpoint, connection) = connect(ctx).await?;
        let (send, recv) = connection
            .open_bi()
            .await
            .map_err(SessionError::Connection)?;
        register(ctx, endpoint, connection, send, recv).await
    };
    let mut session = tokio::select! {
        session = registration => session?,
        _ = stop.changed() => return Ok(()),
    };
    backoff.reset();
    let now = unix_ms();
    status.send_modify(|s| {
        s.connection = ConnectionState::Registered;
        s.registered_at_ms = Some(now);
        s.last_error = None;
        s.sessions += 1;
    });
    tracing::info!(
        "registered with coordinator {} (protocol v{}, heartbeat every {} ms)",
        ctx.address.host_port(),
        session.welcome.version,
        session.welcome.heartbeat_interval_ms
    );
    let measured = session.capabilities.borrow().bandwidth;
    status.send_modify(|s| s.bandwidth = measured);
    let link = WorkLink::new(
        work,
        ctx.wallet.clone(),
        ctx.cache.clone(),
        ctx.address.key,
        session.connection.clone(),
    );
    let cache = CacheLink::new(ctx.cache.clone(), &session.connection);
    let result = session
        .heartbeat_loop(ctx, status, activity, stop, link, cache)
        .await;
    if let Some(test) = session.bandwidth_test.take() {
        test.abort();
    }
    session.close(result.is_ok()).await;
    result
}
