//! The Idleshare node: the background worker behind the desktop app and the headless node.
//!
//! [`start_node`] loads (or creates) the node's identity, then keeps a session with the
//! coordinator alive: connect over QUIC, register, heartbeat, and after any failure
//! reconnect with exponential backoff and jitter, forever, until [`NodeHandle::stop`].
//! Its state is published on a `tokio::sync::watch` ([`NodeHandle::status`]).
#![deny(missing_docs)]

pub mod backoff;
pub mod bandwidth;
pub mod cache;
pub mod capabilities;
mod contributor;
pub mod executor;
pub mod heartbeat;
pub mod hwbench;
pub mod identity;
pub mod identity_proof;
mod keychain_wait;
pub mod monitor;
pub mod policy;
pub mod session;
pub mod settings;
pub mod status;
pub mod status_file;
pub mod wallet;
pub mod work;

use idleshare_base::clock::unix_ms;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use idleshare_protocol::proof::IdentityProof;
use idleshare_protocol::{Capabilities, CoordinatorAddress, NodeActivity};
use idleshare_transport::TransportLimits;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backoff::Backoff;
use crate::cache::{CacheConfig, CacheService};
use crate::contributor::{Contributor, ContributorParts};
use crate::executor::{ExecutorConfig, WorkExecutor};
pub use crate::identity::{
    KeyRole, KeyStorage, KeyStorePreference, NodeIdentity, load_or_create_identity,
    load_or_create_key,
};
use crate::monitor::ResourceMonitor;
use crate::monitor::desktop::{detect_fullscreen_source, detect_input_idle_source};
use crate::session::{SessionContext, SessionError, SessionSignals, WorkParts, run_session};
use crate::settings::Settings;
pub use crate::status::{CacheStats, ConnectionState, NodeStatus};
use crate::wallet::Wallet;
use crate::work::WorkRunner;
use idleshare_sandbox::SandboxConfig;

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
    /// The owner's settings; changes apply at the next sample.
    pub settings: watch::Receiver<Settings>,
    /// How often the monitor samples and the policy decides.
    pub sample_interval: Duration,
    /// Worker threads for contributed work (0: no executor, so no compute units).
    pub executor_workers: usize,
    /// Test only (the `test-hooks` feature): report corrupted outputs after this many
    /// honest units (`None`: never), to exercise the coordinator's validation.
    #[cfg(feature = "test-hooks")]
    pub corrupt_outputs_after: Option<u64>,
    /// Test only (the `test-hooks` feature): ask for far more work than it can run, again
    /// and again, to exercise the coordinator's lease cap.
    #[cfg(feature = "test-hooks")]
    pub hoard_work: bool,
    /// Test only (the `test-hooks` feature): claim far more fuel than used, to exercise
    /// what the coordinator pays.
    #[cfg(feature = "test-hooks")]
    pub inflate_fuel: bool,
    /// The edge cache (`None`: this node caches nothing).
    pub cache: Option<CacheConfig>,
    /// The local address the coordinator connection leaves from (`None`: any). Lets
    /// several nodes on one machine appear as different networks (127.A.B.C) in tests.
    pub bind_ip: Option<std::net::IpAddr>,
    /// Told, while the node waits at start for a keychain that holds its key, a status to
    /// show (`ConnectionState::WaitingForKeychain`); the node logs it either way.
    pub on_keychain_wait: Option<KeychainWaitHook>,
}

/// What a shell shows while the node waits for its keychain (see
/// [`NodeConfig::on_keychain_wait`]).
#[derive(Clone)]
pub struct KeychainWaitHook(pub Arc<dyn Fn(NodeStatus) + Send + Sync>);

impl std::fmt::Debug for KeychainWaitHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeychainWaitHook")
    }
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
            settings: watch::channel(Settings::default()).1,
            sample_interval: Duration::from_secs(1),
            executor_workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            #[cfg(feature = "test-hooks")]
            corrupt_outputs_after: None,
            #[cfg(feature = "test-hooks")]
            hoard_work: false,
            #[cfg(feature = "test-hooks")]
            inflate_fuel: false,
            cache: Some(CacheConfig::default()),
            bind_ip: None,
            on_keychain_wait: None,
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
    executor: Option<Arc<WorkExecutor>>,
    contributor: Option<Contributor>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    mirror: JoinHandle<()>,
    cache: Option<(Arc<CacheService>, JoinHandle<()>)>,
    wallet: Option<Arc<Wallet>>,
    data_dir: PathBuf,
}

impl NodeHandle {
    /// A receiver of the node's status; `changed().await` wakes on every update.
    pub fn status(&self) -> watch::Receiver<NodeStatus> {
        self.status.clone()
    }

    /// The edge cache, if this node keeps one.
    pub fn cache(&self) -> Option<Arc<CacheService>> {
        self.cache.as_ref().map(|(cache, _)| cache.clone())
    }

    /// The wallet the node keeps its receipts in (`None` when it could not be opened).
    pub fn wallet(&self) -> Option<Arc<Wallet>> {
        self.wallet.clone()
    }

    /// The executor that runs contributed work under the policy's budget, if any.
    pub fn executor(&self) -> Option<Arc<WorkExecutor>> {
        self.executor.clone()
    }

    /// Stops the node: pauses work, says goodbye to the coordinator and waits for the
    /// session to end.
    pub async fn stop(mut self) {
        if let Some(contributor) = self.contributor.take() {
            // Joining the thread blocks for at most one source read.
            let _ = tokio::task::spawn_blocking(move || drop(contributor)).await;
        }
        let _ = self.stop.send(true);
        let _ = (&mut self.task).await;
        self.mirror.abort();
        self.stop_cache();
        let last = self.status.borrow().clone();
        status_file::write_final(&self.data_dir, &last);
    }

    /// Ends the cache's tasks, which hold the service (at most once).
    fn stop_cache(&mut self) {
        if let Some((cache, stats)) = self.cache.take() {
            stats.abort();
            cache.stop();
        }
    }
}

impl Drop for NodeHandle {
    /// The cache's tasks hold the service; stop them so it does not outlive the node.
    fn drop(&mut self) {
        self.stop_cache();
    }
}

/// Resolves when the process is asked to stop: Ctrl-C, or SIGTERM on Unix (a logout, a
/// service manager, a test ending its process). For the shells that run a node.
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Loads the identity for `config.data_dir` (blocking keychain access runs off the
/// runtime threads) and starts the node. A key known to live in the keychain is waited
/// for while the keychain cannot be reached (logged, and shown through
/// [`NodeConfig::on_keychain_wait`]), never replaced by a new one.
pub async fn start_node(config: NodeConfig) -> Result<NodeHandle, NodeError> {
    let data_dir = config.data_dir.clone();
    let preference = config.key_store;
    let hook = config.on_keychain_wait.clone();
    let coordinator = config.coordinator.to_string();
    let identity = tokio::task::spawn_blocking(move || {
        let mut last = String::new();
        let waiting = |error: &identity::IdentityError| {
            let line = error.to_string();
            if line == last {
                return;
            }
            tracing::warn!("{line}; trying again every {:?}", identity::KEYCHAIN_RETRY);
            last = line;
            if let (Some(hook), identity::IdentityError::KeychainNotReady { node_id, reason }) =
                (&hook, error)
                && let Ok(node_id) = node_id.parse()
            {
                let mut status =
                    NodeStatus::starting(node_id, KeyStorage::Keychain, coordinator.clone());
                status.connection = ConnectionState::WaitingForKeychain {
                    reason: reason.clone(),
                };
                (hook.0)(status);
            }
        };
        identity::wait_for_key(&data_dir, preference, KeyRole::Node, waiting, || false)
    })
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
    let status_tx = Arc::new(status_tx);
    let (activity_tx, activity_rx) = watch::channel(NodeActivity::Starting);
    let (stop_tx, stop_rx) = watch::channel(false);

    let mut monitor =
        ResourceMonitor::system(detect_input_idle_source(), detect_fullscreen_source());
    let first = monitor.sample(unix_ms());
    let offer = Capabilities {
        gpus: first.gpus.iter().map(|gpu| gpu.name.clone()).collect(),
        bandwidth: bandwidth::load_report(&config.data_dir),
        ..capabilities::local_capabilities()
    };
    let cache = config.cache.as_ref().and_then(|cache_config| {
        CacheService::start(
            cache_config,
            identity.key.clone(),
            &config.data_dir,
            config.coordinator.clone(),
            activity_rx.clone(),
            config.settings.clone(),
        )
        .inspect_err(|e| tracing::error!("cannot start the cache; caching nothing: {e}"))
        .ok()
    });
    let offer = Capabilities {
        cache_port: cache.as_ref().and_then(|cache| cache.port()),
        ..offer
    };
    let capabilities = Arc::new(watch::channel(offer).0);
    let executor = start_executor(config.executor_workers);
    let contributor = Contributor::start(ContributorParts {
        monitor,
        settings: config.settings.clone(),
        executor: executor.clone(),
        status: status_tx.clone(),
        activity: activity_tx,
        sample_interval: config.sample_interval,
        on_first_run: Some(measure_hardware(
            config.data_dir.clone(),
            capabilities.clone(),
        )),
    })
    .inspect_err(|e| tracing::error!("cannot start the contribution loop: {e}"))
    .ok();

    let wallet = Wallet::open(&config.data_dir, node_id)
        .inspect_err(|e| tracing::error!("cannot open the wallet; receipts will not be kept: {e}"))
        .ok()
        .map(Arc::new);
    // What was earned before this start shows at once, not only after the next receipt.
    if let Some(held) = &wallet
        && let (Ok(balance), Ok(receipts)) = (held.balance(), held.receipt_count())
    {
        status_tx.send_modify(|s| {
            s.earnings = status::Earnings {
                balance,
                receipts,
                last_receipt_ms: None,
            }
        });
    }
    let cache_status = cache.clone().map(|cache| {
        tokio::spawn(cache::publish_stats(
            cache,
            wallet.clone(),
            status_tx.clone(),
        ))
    });
    let work = executor
        .clone()
        .map(|executor| start_work(&config, executor));
    let ctx = SessionContext {
        key: identity.key,
        address: config.coordinator.clone(),
        capabilities,
        limits: TransportLimits::default(),
        data_dir: config.data_dir.clone(),
        bandwidth_max_age: config.bandwidth_max_age,
        wallet: wallet.clone(),
        cache: cache.clone(),
        bind_ip: config.bind_ip,
        proof: identity_proof::load(&config.data_dir, &node_id)
            .unwrap_or(IdentityProof { nonce: 0 }),
    };
    let backoff = Backoff::new(config.backoff_initial, config.backoff_max);
    let mirror = tokio::spawn(status_file::mirror_status(
        config.data_dir.clone(),
        status_rx.clone(),
    ));
    let task = tokio::spawn(keep_session(
        ctx,
        backoff,
        status_tx,
        activity_rx,
        stop_rx,
        work,
    ));
    NodeHandle {
        status: status_rx,
        executor,
        contributor,
        stop: stop_tx,
        task,
        mirror,
        cache: cache.zip(cache_status),
        wallet,
        data_dir: config.data_dir,
    }
}

/// The unit runner on `executor` (its sandbox starts with the first unit).
fn start_work(config: &NodeConfig, executor: Arc<WorkExecutor>) -> WorkParts {
    let sandbox_config = SandboxConfig {
        cache_dir: Some(config.data_dir.join("modules")),
        ..SandboxConfig::default()
    };
    let (runner, events) = WorkRunner::new(sandbox_config, executor);
    #[cfg(feature = "test-hooks")]
    if let Some(honest) = config.corrupt_outputs_after {
        tracing::warn!("test mode: this node reports corrupted outputs after {honest} units");
        runner.lie_about_outputs_after(honest);
    }
    #[cfg(feature = "test-hooks")]
    if config.hoard_work {
        tracing::warn!("test mode: this node hoards work");
        runner.hoard_work();
    }
    #[cfg(feature = "test-hooks")]
    if config.inflate_fuel {
        tracing::warn!("test mode: this node claims more fuel than it used");
        runner.lie_about_fuel();
    }
    WorkParts { runner, events }
}

/// Worker threads at the lowest priority; without them the node still registers.
fn start_executor(workers: usize) -> Option<Arc<WorkExecutor>> {
    if workers == 0 {
        return None;
    }
    let config = ExecutorConfig {
        // Lowering the autogroup lowers the whole session; only right when the node has a
        // session of its own (a service, or started with setsid).
        lower_session_autogroup: is_session_leader(),
        ..ExecutorConfig::new(workers)
    };
    WorkExecutor::start(config)
        .inspect_err(|e| tracing::error!("cannot start the executor: {e}"))
        .ok()
        .map(Arc::new)
}

#[cfg(unix)]
fn is_session_leader() -> bool {
    // SAFETY: getsid and getpid have no preconditions and touch no memory.
    unsafe { libc::getsid(0) == libc::getpid() }
}

#[cfg(not(unix))]
fn is_session_leader() -> bool {
    false
}

/// The hardware benchmark, run once the owner is first away (so their work does not skew
/// it) on a lowest-priority thread; stored scores are reused without measuring.
fn measure_hardware(
    data_dir: PathBuf,
    capabilities: Arc<watch::Sender<Capabilities>>,
) -> Box<dyn FnOnce() + Send> {
    Box::new(move || {
        let spawned = std::thread::Builder::new()
            .name("idleshare-hwbench".into())
            .spawn(move || {
                executor::lower_current_thread();
                match hwbench::load_or_run(&data_dir) {
                    Ok(scores) => capabilities.send_modify(|c| c.hardware = Some(scores)),
                    Err(e) => tracing::warn!("hardware benchmark: {e}"),
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the hardware benchmark: {e}");
        }
    })
}

/// The longest a throttled node waits, whatever the coordinator asks.
const MAX_THROTTLE_WAIT: Duration = Duration::from_secs(15 * 60);

/// Runs sessions back to back, backing off between failures, until stopped. A coordinator
/// asking for a stronger identity proof gets one (computed here, stored, then straight
/// back); a throttled node waits at least as long as it is told.
async fn keep_session(
    mut ctx: SessionContext,
    mut backoff: Backoff,
    status: Arc<watch::Sender<NodeStatus>>,
    activity: watch::Receiver<NodeActivity>,
    mut stop: watch::Receiver<bool>,
    mut work: Option<WorkParts>,
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
            work: work.as_mut(),
        };
        let error = match run_session(&ctx, signals, &mut backoff).await {
            Ok(()) => break,
            Err(error) => error,
        };
        let mut delay = backoff.next_delay(rand::random());
        match &error {
            SessionError::ProofRequired { required_bits, .. }
                if identity_proof::worth_computing(&ctx, *required_bits) =>
            {
                match identity_proof::prove(&ctx, *required_bits, &status, &mut stop).await {
                    Ok(Some(proof)) => {
                        ctx.proof = proof;
                        backoff.reset();
                        continue;
                    }
                    Ok(None) => break,
                    Err(e) => tracing::error!("{e}"),
                }
            }
            SessionError::Throttled { retry_after, .. } => {
                delay = delay.max(*retry_after).min(MAX_THROTTLE_WAIT);
            }
            _ => {}
        }
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
