//! The Idleshare node: the background worker behind the desktop app and the headless node.
//!
//! [`start_node`] loads (or creates) the node's identity, then keeps a session with the
//! coordinator alive: connect over QUIC, register, heartbeat, and after any failure
//! reconnect with exponential backoff and jitter, forever, until [`NodeHandle::stop`].
//! Its state is published on a `tokio::sync::watch` ([`NodeHandle::status`]).
#![deny(missing_docs)]

pub mod backoff;
pub mod bandwidth;
pub mod capabilities;
pub mod executor;
pub mod hwbench;
pub mod identity;
pub mod monitor;
pub mod policy;
pub mod session;
pub mod settings;
pub mod status;
pub mod status_file;

use std::path::PathBuf;
use std::time::Duration;

use idleshare_protocol::{CoordinatorAddress, NodeActivity};
use idleshare_transport::TransportLimits;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backoff::Backoff;
pub use crate::identity::{KeyStorage, KeyStorePreference, NodeIdentity, load_or_create_identity};
use crate::session::{SessionContext, SessionSignals, run_session};
pub use crate::status::{ConnectionState, NodeStatus};

/// How a node is started.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The coordinator to register with (its key is pinned).
    pub coordinator: CoordinatorAddress,
    /// Where the node keeps its state (and its key file, if it must).
    pub data_dir: PathBuf,
    /// Where the key should be kept.
    pub key_store: KeyStorePreference,
    /// First reconnect delay.
    pub backoff_initial: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// How old a bandwidth result may be before a new test runs at registration.
    pub bandwidth_max_age: Duration,
}

impl NodeConfig {
    /// Defaults: automatic key storage, reconnect delays from 250 ms to 30 s.
    pub fn new(coordinator: CoordinatorAddress, data_dir: PathBuf) -> Self {
        Self {
            coordinator,
            data_dir,
            key_store: KeyStorePreference::Auto,
            backoff_initial: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            bandwidth_max_age: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The identity could not be loaded or created.
    #[error("node identity: {0}")]
    Identity(#[from] identity::IdentityError),
    /// The blocking identity task panicked or was cancelled.
    #[error("node identity task failed: {0}")]
    IdentityTask(String),
}

/// A running node. Dropping it stops the node (without waiting).
pub struct NodeHandle {
    status: watch::Receiver<NodeStatus>,
    activity: watch::Sender<NodeActivity>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    mirror: JoinHandle<()>,
    data_dir: PathBuf,
}

impl NodeHandle {
    /// A receiver of the node's status; `changed().await` wakes on every update.
    pub fn status(&self) -> watch::Receiver<NodeStatus> {
        self.status.clone()
    }

    /// Sets what the node reports in its heartbeats from now on.
    pub fn set_activity(&self, activity: NodeActivity) {
        self.activity.send_replace(activity);
    }

    /// Stops the node: says goodbye to the coordinator and waits for the session to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        self.mirror.abort();
        let last = self.status.borrow().clone();
        status_file::write_final(&self.data_dir, &last);
    }
}

/// Loads the identity for `config.data_dir` (blocking keychain access runs off the
/// runtime threads) and starts the node.
pub async fn start_node(config: NodeConfig) -> Result<NodeHandle, NodeError> {
    let data_dir = config.data_dir.clone();
    let preference = config.key_store;
    let identity =
        tokio::task::spawn_blocking(move || load_or_create_identity(&data_dir, preference))
            .await
            .map_err(|e| NodeError::IdentityTask(e.to_string()))??;
    Ok(start_node_with_identity(config, identity))
}

/// Starts a node with an identity loaded beforehand.
pub fn start_node_with_identity(config: NodeConfig, identity: NodeIdentity) -> NodeHandle {
    let node_id = identity.id();
    tracing::info!("node {node_id} (key in {})", identity.storage);
    let status = NodeStatus::starting(
        node_id,
        identity.storage.clone(),
        config.coordinator.to_string(),
    );
    let (status_tx, status_rx) = watch::channel(status);
    let (activity_tx, activity_rx) = watch::channel(NodeActivity::Starting);
    let (stop_tx, stop_rx) = watch::channel(false);
    let ctx = SessionContext {
        key: identity.key,
        address: config.coordinator.clone(),
        capabilities: capabilities::local_capabilities(),
        limits: TransportLimits::default(),
        data_dir: config.data_dir.clone(),
        bandwidth_max_age: config.bandwidth_max_age,
    };
    let backoff = Backoff::new(config.backoff_initial, config.backoff_max);
    let mirror = tokio::spawn(status_file::mirror_status(
        config.data_dir.clone(),
        status_rx.clone(),
    ));
    let task = tokio::spawn(keep_session(ctx, backoff, status_tx, activity_rx, stop_rx));
    NodeHandle {
        status: status_rx,
        activity: activity_tx,
        stop: stop_tx,
        task,
        mirror,
        data_dir: config.data_dir,
    }
}

/// Runs sessions back to back, backing off between failures, until stopped.
async fn keep_session(
    ctx: SessionContext,
    mut backoff: Backoff,
    status: watch::Sender<NodeStatus>,
    activity: watch::Receiver<NodeActivity>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            break;
        }
        let attempt = backoff.failures();
        status.send_modify(|s| s.connection = ConnectionState::Connecting { attempt });
        let signals = SessionSignals {
            status: &status,
            activity: &activity,
            stop: &mut stop,
        };
        let error = match run_session(&ctx, signals, &mut backoff).await {
            Ok(()) => break,
            Err(error) => error,
        };
        let delay = backoff.next_delay(rand::random());
        tracing::warn!("session ended: {error}; retrying in {delay:.1?}");
        status.send_modify(|s| {
            s.connection = ConnectionState::Backoff {
                retry_in_ms: delay.as_millis() as u64,
            };
            s.last_error = Some(error.to_string());
        });
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => break,
        }
    }
    status.send_modify(|s| s.connection = ConnectionState::Stopped);
}
