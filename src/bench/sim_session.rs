//! A simulated node session: the real protocol (hello, register, heartbeats) with no node
//! runtime behind it, so one process can hold thousands of them on one UDP socket.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use idleshare_protocol::{
    Capabilities, CoordinatorMessage, Hello, MAX_CONTROL_FRAME_LEN, NodeActivity, NodeId,
    NodeMessage, SUPPORTED_VERSIONS,
};
use idleshare_transport::keyfile::generate_key;
use idleshare_transport::tls::SERVER_NAME;
use idleshare_transport::{TransportLimits, client_config, recv_frame, send_frame};
use quinn::{Connection, Endpoint, RecvStream, SendStream};
use tokio::sync::watch;

/// How long the coordinator may take to answer registration.
const WELCOME_TIMEOUT: Duration = Duration::from_secs(10);
/// How long we wait for the coordinator to close after our goodbye.
const GOODBYE_GRACE: Duration = Duration::from_secs(1);
/// Error messages kept for printing; the count covers the rest.
const KEPT_ERRORS: usize = 5;

/// Where every simulated session connects.
#[derive(Clone)]
pub struct Target {
    /// Shared by all sessions: one socket, however many connections.
    pub endpoint: Endpoint,
    pub addr: SocketAddr,
    pub coordinator: NodeId,
    pub capabilities: Capabilities,
}

/// Heartbeat round trips and errors from all sessions.
#[derive(Default)]
pub struct Recorder {
    recording: AtomicBool,
    rtts: Mutex<Vec<Duration>>,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Recorder {
    /// Starts a measurement window, discarding round trips from before it.
    pub fn start_recording(&self) {
        lock(&self.rtts).clear();
        self.recording.store(true, Ordering::SeqCst);
    }

    /// Ends the window and returns the round trips recorded in it.
    pub fn stop_recording(&self) -> Vec<Duration> {
        self.recording.store(false, Ordering::SeqCst);
        std::mem::take(&mut *lock(&self.rtts))
    }

    fn record(&self, rtt: Duration) {
        if self.recording.load(Ordering::SeqCst) {
            lock(&self.rtts).push(rtt);
        }
    }

    pub fn error(&self, error: &anyhow::Error) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut kept = lock(&self.first_errors);
        if kept.len() < KEPT_ERRORS {
            kept.push(format!("{error:#}"));
        }
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    pub fn first_errors(&self) -> Vec<String> {
        lock(&self.first_errors).clone()
    }
}

/// A poisoned lock only means another session panicked; its samples are still good.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A session the coordinator has welcomed.
pub struct Registered {
    connection: Connection,
    send: SendStream,
    recv: RecvStream,
    /// The heartbeat interval the welcome asked for.
    pub interval: Duration,
}

/// Connects with a fresh identity and registers, as a node's first session does.
pub async fn register(target: &Target) -> anyhow::Result<Registered> {
    let key = generate_key()?;
    let config = client_config(&key, target.coordinator, &TransportLimits::default())?;
    let connection = target
        .endpoint
        .connect_with(config, target.addr, SERVER_NAME)?
        .await
        .context("handshake")?;
    let (mut send, mut recv) = connection.open_bi().await.context("opening stream")?;
    let hello = NodeMessage::Hello(Hello {
        versions: SUPPORTED_VERSIONS.to_vec(),
        node_id: NodeId::from(key.verifying_key()),
    });
    send_frame(&mut send, &hello).await?;
    let capabilities = target.capabilities.clone();
    send_frame(&mut send, &NodeMessage::Register { capabilities }).await?;
    let answer = tokio::time::timeout(
        WELCOME_TIMEOUT,
        recv_frame::<CoordinatorMessage>(&mut recv, MAX_CONTROL_FRAME_LEN),
    )
    .await
    .context("no welcome in time")??;
    let welcome = match answer {
        Some(CoordinatorMessage::Welcome(welcome)) => welcome,
        other => anyhow::bail!("expected welcome, got {other:?}"),
    };
    Ok(Registered {
        connection,
        send,
        recv,
        interval: Duration::from_millis(welcome.heartbeat_interval_ms.into()),
    })
}

impl Registered {
    /// Heartbeats every `interval` until `stop` turns true, then says goodbye.
    pub async fn heartbeat(
        mut self,
        interval: Duration,
        recorder: &Recorder,
        mut stop: watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        // Same deadline as a real node; an ack later than this would end its session too.
        let ack_timeout = interval.mul_f64(1.5);
        // A random phase, so N sessions started together do not heartbeat in lockstep.
        let mut next = Instant::now() + interval.mul_f64(rand::random::<f64>());
        for seq in 1u64.. {
            tokio::select! {
                _ = stop.wait_for(|&stop| stop) => break,
                _ = tokio::time::sleep_until(next.into()) => {}
            }
            let sent = Instant::now();
            let activity = NodeActivity::Starting;
            send_frame(&mut self.send, &NodeMessage::Heartbeat { seq, activity }).await?;
            let ack = tokio::select! {
                _ = stop.wait_for(|&stop| stop) => break,
                ack = tokio::time::timeout(ack_timeout, recv_frame(&mut self.recv, MAX_CONTROL_FRAME_LEN)) => ack,
            };
            match ack.with_context(|| format!("no heartbeat ack within {ack_timeout:?}"))?? {
                Some(CoordinatorMessage::HeartbeatAck { seq: acked }) if acked == seq => {
                    recorder.record(sent.elapsed());
                }
                other => anyhow::bail!("expected ack of heartbeat {seq}, got {other:?}"),
            }
            next = sent + interval;
        }
        self.close().await;
        Ok(())
    }

    /// Leaves on purpose: goodbye, so the coordinator ends the session as a clean one.
    async fn close(mut self) {
        let goodbye = NodeMessage::Goodbye {
            reason: "bench done".into(),
        };
        if send_frame(&mut self.send, &goodbye).await.is_ok() && self.send.finish().is_ok() {
            let _ = tokio::time::timeout(GOODBYE_GRACE, self.connection.closed()).await;
        }
        self.connection.close(0u32.into(), b"bench done");
    }
}
