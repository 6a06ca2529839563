//! A simulated node session: the real protocol (the node's own hello and registration, then
//! heartbeats) with no node runtime behind it, so one process can hold thousands of them on
//! one UDP socket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use ed25519_dalek::SigningKey;
use idleshare_base::sync::Mutex;
use idleshare_node::session::hello_and_register;
use idleshare_protocol::proof::{self, IdentityProof};
use idleshare_protocol::{
    Capabilities, CoordinatorMessage, MAX_CONTROL_FRAME_LEN, NodeActivity, NodeId, NodeMessage,
};
use idleshare_transport::keyfile::generate_key;
use idleshare_transport::tls::SERVER_NAME;
use idleshare_transport::{TransportLimits, client_config, recv_frame, send_frame};
use quinn::{Connection, Endpoint, RecvStream, SendStream};
use tokio::sync::watch;

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
    /// Identities with their proofs, computed before the clock starts; each session takes
    /// one.
    pub identities: Arc<Mutex<Vec<ProvenIdentity>>>,
}

/// A fresh key and its identity proof.
pub type ProvenIdentity = (SigningKey, IdentityProof);

/// `count` fresh keys with proofs of `bits`, ground on every core (so the bench measures
/// the coordinator, not the grinding).
pub fn proven_identities(count: usize, bits: u8) -> anyhow::Result<Vec<ProvenIdentity>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = count.div_ceil(threads);
    let grinders: Vec<_> = (0..threads)
        .map(|index| {
            let mine = per_thread.min(count.saturating_sub(index * per_thread));
            std::thread::spawn(move || -> anyhow::Result<Vec<ProvenIdentity>> {
                (0..mine)
                    .map(|_| {
                        let key = generate_key()?;
                        let id = NodeId::from(key.verifying_key());
                        let proof = proof::search(&id, bits, 0, u64::MAX)
                            .context("no identity proof in the whole nonce space")?;
                        Ok((key, proof))
                    })
                    .collect()
            })
        })
        .collect();
    let mut all = Vec::with_capacity(count);
    for grinder in grinders {
        let ground = grinder
            .join()
            .map_err(|_| anyhow::anyhow!("a proof thread panicked"))??;
        all.extend(ground);
    }
    Ok(all)
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
        self.rtts.lock().clear();
        self.recording.store(true, Ordering::SeqCst);
    }

    /// Ends the window and returns the round trips recorded in it.
    pub fn stop_recording(&self) -> Vec<Duration> {
        self.recording.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.rtts.lock())
    }

    fn record(&self, rtt: Duration) {
        if self.recording.load(Ordering::SeqCst) {
            self.rtts.lock().push(rtt);
        }
    }

    pub fn error(&self, error: &anyhow::Error) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut kept = self.first_errors.lock();
        if kept.len() < KEPT_ERRORS {
            kept.push(format!("{error:#}"));
        }
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    pub fn first_errors(&self) -> Vec<String> {
        self.first_errors.lock().clone()
    }
}

/// A session the coordinator has welcomed.
pub struct Registered {
    connection: Connection,
    send: SendStream,
    recv: RecvStream,
    /// The heartbeat interval the welcome asked for.
    pub interval: Duration,
}

/// Connects with a fresh identity (one of the target's proven ones) and registers, as a
/// node's first session does.
pub async fn register(target: &Target) -> anyhow::Result<Registered> {
    let (key, proof) = target
        .identities
        .lock()
        .pop()
        .context("no precomputed identity left")?;
    let config = client_config(&key, target.coordinator, &TransportLimits::default())?;
    let connection = target
        .endpoint
        .connect_with(config, target.addr, SERVER_NAME)?
        .await
        .context("handshake")?;
    let (mut send, mut recv) = connection.open_bi().await.context("opening stream")?;
    let node_id = NodeId::from(key.verifying_key());
    let capabilities = target.capabilities.clone();
    let welcome = hello_and_register(node_id, capabilities, proof, &mut send, &mut recv)
        .await
        .context("registering")?;
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
