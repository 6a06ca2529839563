//! One session with the coordinator: connect, register, heartbeat until something ends it.
//!
//! The reader runs in its own task and hands decoded frames over a channel, so the
//! heartbeat loop can `select!` on frames, its ticker and the stop signal without ever
//! cancelling a half-read frame.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use idleshare_protocol::BandwidthReport;
use idleshare_protocol::{
    Capabilities, CoordinatorAddress, CoordinatorMessage, ErrorCode, Hello, MAX_CONTROL_FRAME_LEN,
    NodeActivity, NodeId, NodeMessage, SUPPORTED_VERSIONS, Welcome,
};
use idleshare_transport::tls::SERVER_NAME;
use idleshare_transport::{
    EndpointError, FramedError, TransportLimits, client_config, recv_frame, send_frame,
};
use quinn::{Connection, Endpoint, RecvStream, SendStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::backoff::Backoff;
use crate::bandwidth;
use crate::heartbeat::Unacked;
use crate::status::{ConnectionState, NodeStatus};

/// How long registration may take once connected. It takes milliseconds; a coordinator that
/// died between recording the registration and welcoming us must not hold the node longer.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for the coordinator to close after our goodbye.
const GOODBYE_GRACE: Duration = Duration::from_millis(500);

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
}

/// Inputs the session watches.
pub(crate) struct SessionSignals<'a> {
    pub status: &'a watch::Sender<NodeStatus>,
    pub activity: &'a watch::Receiver<NodeActivity>,
    pub stop: &'a mut watch::Receiver<bool>,
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
    let stale = measured
        .is_none_or(|report| !bandwidth::is_fresh(&report, unix_ms(), ctx.bandwidth_max_age));
    if stale {
        let connection = session.connection.clone();
        session.bandwidth_test = Some(tokio::spawn(async move {
            bandwidth::measure(&connection, unix_ms()).await
        }));
    }
    status.send_modify(|s| s.bandwidth = measured);
    let result = session.heartbeat_loop(ctx, status, activity, stop).await;
    if let Some(test) = session.bandwidth_test.take() {
        test.abort();
    }
    session.close(result.is_ok()).await;
    result
}

async fn connect(ctx: &SessionContext) -> Result<(Endpoint, Connection), SessionError> {
    let host = ctx.address.host_port();
    let remote = tokio::net::lookup_host(&host)
        .await
        .map_err(|e| SessionError::Resolve {
            host: host.clone(),
            detail: e.to_string(),
        })?
        .next()
        .ok_or_else(|| SessionError::Resolve {
            host: host.clone(),
            detail: "no addresses".into(),
        })?;
    let bind: SocketAddr = if remote.is_ipv6() {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    };
    let endpoint = Endpoint::client(bind).map_err(SessionError::Endpoint)?;
    let config = client_config(&ctx.key, ctx.address.key, &ctx.limits)?;
    let connection = endpoint
        .connect_with(config, remote, SERVER_NAME)?
        .await
        .map_err(SessionError::Handshake)?;
    Ok((endpoint, connection))
}

async fn register(
    ctx: &SessionContext,
    endpoint: Endpoint,
    connection: Connection,
    mut send: SendStream,
    mut recv: RecvStream,
) -> Result<Session, SessionError> {
    let hello = NodeMessage::Hello(Hello {
        versions: SUPPORTED_VERSIONS.to_vec(),
        node_id: NodeId::from(ctx.key.verifying_key()),
    });
    send_frame(&mut send, &hello).await?;
    let mut capabilities = ctx.capabilities.subscribe();
    let register = NodeMessage::Register {
        capabilities: capabilities.borrow_and_update().clone(),
    };
    send_frame(&mut send, &register).await?;
    let answer = tokio::time::timeout(
        REGISTER_TIMEOUT,
        recv_frame::<CoordinatorMessage>(&mut recv, MAX_CONTROL_FRAME_LEN),
    )
    .await
    .map_err(|_| SessionError::RegisterTimeout)??;
    let welcome = match answer {
        Some(CoordinatorMessage::Welcome(welcome)) => welcome,
        other => return Err(unexpected(other)),
    };
    let (frames_tx, frames) = mpsc::channel(16);
    tokio::spawn(forward_frames(recv, frames_tx));
    Ok(Session {
        endpoint,
        connection,
        send,
        frames,
        welcome,
        capabilities,
        bandwidth_test: None,
    })
}

/// Maps a frame that is not the one expected to the session error it means.
fn unexpected(frame: Option<CoordinatorMessage>) -> SessionError {
    match frame {
        None => SessionError::StreamClosed,
        Some(CoordinatorMessage::Error { code, message }) => {
            SessionError::Refused { code, message }
        }
        Some(CoordinatorMessage::Goodbye { reason }) => SessionError::CoordinatorLeft(reason),
        Some(other) => SessionError::Unexpected(format!("{other:?}")),
    }
}

async fn forward_frames(
    mut recv: RecvStream,
    frames: mpsc::Sender<Result<CoordinatorMessage, FramedError>>,
) {
    loop {
        let frame = recv_frame::<CoordinatorMessage>(&mut recv, MAX_CONTROL_FRAME_LEN).await;
        let end = !matches!(frame, Ok(Some(_)));
        let item = match frame {
            Ok(Some(message)) => Ok(message),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        if frames.send(item).await.is_err() || end {
            return;
        }
    }
}

struct Session {
    endpoint: Endpoint,
    connection: Connection,
    send: SendStream,
    frames: mpsc::Receiver<Result<CoordinatorMessage, FramedError>>,
    welcome: Welcome,
    /// What we offer; each change is sent as an update.
    capabilities: watch::Receiver<Capabilities>,
    bandwidth_test: Option<JoinHandle<Result<BandwidthReport, bandwidth::BandwidthError>>>,
}

impl Session {
    async fn heartbeat_loop(
        &mut self,
        ctx: &SessionContext,
        status: &watch::Sender<NodeStatus>,
        activity: &watch::Receiver<NodeActivity>,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), SessionError> {
        let interval = Duration::from_millis(self.welcome.heartbeat_interval_ms.max(50).into());
        let ack_deadline = interval.mul_f64(1.5);
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seq = 0u64;
        let mut unacked = Unacked::default();
        let mut activity = activity.clone();
        activity.mark_unchanged();
        loop {
            let deadline = unacked.deadline(ack_deadline);
            tokio::select! {
                _ = stop.changed() => return Ok(()),
                _ = ticker.tick(), if unacked.is_empty() => {
                    seq += 1;
                    let current = activity.borrow_and_update().clone();
                    self.send_heartbeat(seq, current).await?;
                    unacked.sent(seq, Instant::now());
                }
                _ = sleep_until_opt(deadline) => return Err(SessionError::HeartbeatTimeout(ack_deadline)),
                result = join_opt(&mut self.bandwidth_test) => {
                    self.bandwidth_test = None;
                    record_bandwidth(ctx, status, result);
                }
                Ok(()) = self.capabilities.changed() => {
                    let capabilities = self.capabilities.borrow_and_update().clone();
                    send_frame(&mut self.send, &NodeMessage::UpdateCapabilities { capabilities }).await?;
                }
                Ok(()) = activity.changed() => {
                    // A new decision reaches the coordinator now, not at the next beat.
                    seq += 1;
                    let current = activity.borrow_and_update().clone();
                    self.send_heartbeat(seq, current).await?;
                    unacked.sent(seq, Instant::now());
                }
                frame = self.frames.recv() => match frame {
                    Some(Ok(CoordinatorMessage::HeartbeatAck { seq: acked })) => {
                        if let Some(rtt) = unacked.acked(acked, Instant::now()) {
                            let now = unix_ms();
                            status.send_modify(|s| {
                                s.last_heartbeat_ms = Some(now);
                                s.last_rtt_us = Some(rtt.as_micros() as u64);
                            });
                        }
                    }
                    Some(Ok(other)) => return Err(unexpected(Some(other))),
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(unexpected(None)),
                },
            }
        }
    }

    async fn send_heartbeat(
        &mut self,
        seq: u64,
        activity: NodeActivity,
    ) -> Result<(), SessionError> {
        send_frame(&mut self.send, &NodeMessage::Heartbeat { seq, activity }).await?;
        Ok(())
    }

    /// Ends the session: a goodbye when we chose to leave, then closes the connection.
    async fn close(mut self, stopping: bool) {
        if stopping {
            let goodbye = NodeMessage::Goodbye {
                reason: "node stopping".into(),
            };
            if send_frame(&mut self.send, &goodbye).await.is_ok() {
                let _ = self.send.finish();
                // The coordinator closes the connection once it has read our goodbye.
                let _ = tokio::time::timeout(GOODBYE_GRACE, self.connection.closed()).await;
            }
        }
        self.connection.close(0u32.into(), b"bye");
        let _ = tokio::time::timeout(GOODBYE_GRACE, self.endpoint.wait_idle()).await;
    }
}

/// Stores a finished bandwidth test; the capabilities watch carries it to the coordinator.
fn record_bandwidth(
    ctx: &SessionContext,
    status: &watch::Sender<NodeStatus>,
    result: Result<Result<BandwidthReport, bandwidth::BandwidthError>, tokio::task::JoinError>,
) {
    let report = match result {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => return tracing::warn!("bandwidth test failed: {e}"),
        Err(e) => return tracing::warn!("bandwidth test task failed: {e}"),
    };
    tracing::info!(
        "bandwidth: {:.1} Mbit/s down, {:.1} Mbit/s up, rtt {:.2} ms",
        report.download_kbps as f64 / 1000.0,
        report.upload_kbps as f64 / 1000.0,
        report.rtt_us as f64 / 1000.0
    );
    if let Err(e) = bandwidth::store_report(&ctx.data_dir, &report) {
        tracing::warn!("cannot store the bandwidth result: {e}");
    }
    ctx.capabilities.send_modify(|c| c.bandwidth = Some(report));
    status.send_modify(|s| s.bandwidth = Some(report));
}

/// Waits for the task if there is one; never resolves otherwise.
async fn join_opt<T>(task: &mut Option<JoinHandle<T>>) -> Result<T, tokio::task::JoinError> {
    match task {
        Some(task) => task.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// Milliseconds since the Unix epoch (the one place the node reads the wall clock).
pub(crate) fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
