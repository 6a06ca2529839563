//! The running coordinator: QUIC endpoint, session bookkeeping, periodic flush, shutdown.

use idleshare_base::clock::unix_ms;
use idleshare_base::sync::Mutex;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use idleshare_protocol::ALPN;
use idleshare_protocol::cache::CACHE_ALPN;
use idleshare_protocol::{
    Capabilities, CoordinatorAddress, CoordinatorMessage, NodeActivity, NodeId,
};
use idleshare_transport::keyfile::load_or_create_key_file;
use idleshare_transport::{TransportLimits, bind_endpoint, server_config_with_alpns};
use quinn::{Connection, Endpoint};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

pub use crate::config::{CoordinatorConfig, CoordinatorError};
use crate::content::ContentService;
use crate::jobs::{Engine, WORK_DATABASE_FILE_NAME};
use crate::metrics::Metrics;
use crate::quic_door::QuicDoor;
use crate::registry::{NodeRecord, Registry};
use crate::store::{RegistryStore, SqliteStore, StoreError};

/// File name of the coordinator's key inside its data directory.
pub const KEY_FILE_NAME: &str = "coordinator.key";
/// File name of the registry database inside the data directory.
pub const DATABASE_FILE_NAME: &str = "coordinator.db";

/// Messages queued for one node's control stream before more are dropped (assignments are
/// bounded by the node's slots; a dropped receipt is replayed by `SyncReceipts`).
const OUTBOX_CAPACITY: usize = 1024;

/// State shared by the accept loop, sessions, the flusher and the HTTP API.
pub(crate) struct Shared {
    pub config: CoordinatorConfig,
    pub metrics: Metrics,
    pub address: CoordinatorAddress,
    /// The QUIC front door: caps before the handshake, budgets per kind after it.
    pub door: QuicDoor,
    registry: Mutex<Registry>,
    store: Arc<dyn RegistryStore>,
    live: Mutex<HashMap<NodeId, Connection>>,
    shutdown: watch::Receiver<bool>,
    registrations: broadcast::Sender<NodeId>,
    /// Jobs, leases, results and the ledger.
    pub work: Engine,
    /// Published content, pins, spot checks.
    pub content: ContentService,
    outboxes: Mutex<HashMap<NodeId, mpsc::Sender<CoordinatorMessage>>>,
    /// Nonces of signed HTTP requests already accepted.
    pub replays: crate::auth::ReplayGuard,
    /// Registrations per address and per network.
    pub admission: Mutex<crate::admission::RegistrationLimiter>,
}

impl Shared {
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    /// Records a registration durably and makes `connection` the node's live session,
    /// closing an older session of the same node.
    pub async fn register(
        &self,
        id: NodeId,
        capabilities: Capabilities,
        remote: SocketAddr,
        connection: &Connection,
    ) -> Result<NodeRecord, StoreError> {
        // Stored first, shown second: a node seen online in the registry is on disk, so a
        // coordinator killed right after keeps its entry (first_seen included).
        let record =
            self.registry
                .lock()
                .registration(id, capabilities, remote.to_string(), unix_ms());
        let store = self.store.clone();
        let saved = record.clone();
        let write = tokio::task::spawn_blocking(move || store.save_nodes(&[saved])).await;
        write.unwrap_or_else(|e| Err(StoreError::Task(e.to_string())))?;
        self.registry.lock().insert(record.clone());
        if let Some(old) = self.live.lock().insert(id, connection.clone())
            && old.stable_id() != connection.stable_id()
        {
            old.close(0u32.into(), b"replaced by a newer session of the same node");
        }
        self.metrics.registrations.fetch_add(1, Ordering::Relaxed);
        let _ = self.registrations.send(id);
        self.content.replan_soon();
        Ok(record)
    }

    /// Whether `id` is in the registry (it registered before).
    pub fn is_known(&self, id: &NodeId) -> bool {
        self.registry.lock().contains(id)
    }

    /// The live control connection of `id`, if it is connected.
    pub fn live_connection(&self, id: &NodeId) -> Option<Connection> {
        self.live.lock().get(id).cloned()
    }

    pub fn heartbeat(&self, id: &NodeId, activity: &NodeActivity) {
        self.registry.lock().heartbeat(id, activity, unix_ms());
    }

    /// Stores newer capabilities; returns the cache port they replaced.
    pub fn update_capabilities(&self, id: &NodeId, capabilities: Capabilities) -> Option<u16> {
        self.registry.lock().update_capabilities(id, capabilities)
    }

    /// Marks the node offline if `connection` is still its live session; its running
    /// leases go to other nodes.
    pub fn session_ended(&self, id: &NodeId, connection: &Connection) {
        let mut live = self.live.lock();
        if live.get(id).map(Connection::stable_id) == Some(connection.stable_id()) {
            live.remove(id);
            self.registry.lock().go_offline(id);
            self.outboxes.lock().remove(id);
            let now = unix_ms();
            self.work
                .apply(|book, rng, ch| book.node_disconnected(*id, now, rng, ch));
            self.content.replan_soon();
        }
    }

    /// Opens the node's outbound queue (replacing an older session's) and tells the work
    /// engine the node is connected from `remote`'s network.
    pub fn open_outbox(
        &self,
        id: NodeId,
        remote: SocketAddr,
    ) -> mpsc::Receiver<CoordinatorMessage> {
        let (sender, receiver) = mpsc::channel(OUTBOX_CAPACITY);
        self.outboxes.lock().insert(id, sender);
        let now = unix_ms();
        let network = Some(idleshare_protocol::net::NetworkPrefix::of(remote.ip()));
        self.work
            .apply(|book, rng, ch| book.node_connected(id, network, now, rng, ch));
        receiver
    }

    /// Queues messages for nodes' control streams; a full or closed queue drops them.
    pub fn send_to_nodes(&self, messages: Vec<(NodeId, CoordinatorMessage)>) {
        let outboxes = self.outboxes.lock();
        for (node, message) in messages {
            if let Some(outbox) = outboxes.get(&node)
                && let Err(e) = outbox.try_send(message)
            {
                tracing::warn!("{}: message not queued: {e}", node.short());
            }
        }
    }

    pub fn records(&self) -> Vec<NodeRecord> {
        self.registry.lock().records()
    }

    pub fn counts(&self) -> (usize, usize) {
        self.registry.lock().counts()
    }

    /// Writes every changed record and deletes pruned ones; what fails is kept for the
    /// next flush.
    fn flush(&self) -> Result<(), StoreError> {
        let (dirty, pruned) = {
            let mut registry = self.registry.lock();
            (registry.take_dirty(), registry.take_pruned())
        };
        // Disjoint sets (a pruned node is not dirty; a node back is no longer pruned).
        let saved = self.store.save_nodes(&dirty).inspect_err(|_| {
            self.registry.lock().mark_dirty(dirty.iter().map(|r| r.id));
        });
        let deleted = self.store.delete_nodes(&pruned).inspect_err(|_| {
            self.registry.lock().mark_pruned(pruned.iter().copied());
        });
        saved.and(deleted)
    }

    /// Forgets nodes offline for longer than the configured time (their rows go at the
    /// next flush).
    fn prune(&self) {
        let offline_for_ms = self.config.prune_offline_after.as_millis() as u64;
        let pruned = self.registry.lock().prune(unix_ms(), offline_for_ms);
        if !pruned.is_empty() {
            let days = self.config.prune_offline_after.as_secs() / 86_400;
            tracing::info!(
                "forgot {} node(s) offline for more than {days} days",
                pruned.len()
            );
        }
    }
}

/// A running coordinator.
pub struct Coordinator {
    shared: Arc<Shared>,
    endpoint: Endpoint,
    http_addr: Option<SocketAddr>,
    shutdown: watch::Sender<bool>,
    accept_task: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
}

impl Coordinator {
    /// Opens the data directory, binds the sockets and starts serving.
    pub async fn start(config: CoordinatorConfig) -> Result<Self, CoordinatorError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| CoordinatorError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
        let (key, _) = load_or_create_key_file(&config.data_dir.join(KEY_FILE_NAME))?;
        let store = SqliteStore::open(&config.data_dir.join(DATABASE_FILE_NAME))?;
        let work = Engine::open(
            &config.data_dir.join(WORK_DATABASE_FILE_NAME),
            key.clone(),
            config.work,
        )?;
        let registry = Registry::from_records(store.load_nodes()?);
        let content = ContentService::open(&config.data_dir, config.content)?;
        // Nodes' control sessions, and cache clients (origin copies, relay, receipts).
        let server =
            server_config_with_alpns(&key, &TransportLimits::default(), &[ALPN, CACHE_ALPN])?;
        let endpoint = bind_endpoint(config.listen, Some(server)).map_err(|source| {
            CoordinatorError::Bind {
                addr: config.listen,
                source,
            }
        })?;
        let quic_addr = endpoint
            .local_addr()
            .map_err(|source| CoordinatorError::Bind {
                addr: config.listen,
                source,
            })?;
        let address = CoordinatorAddress {
            host: config
                .public_host
                .clone()
                .unwrap_or_else(|| advertised_ip(quic_addr.ip()).to_string()),
            port: quic_addr.port(),
            key: NodeId::from(key.verifying_key()),
        };
        let http_listener = match config.http {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| CoordinatorError::Bind { addr, source })?,
            ),
            None => None,
        };
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let admission = crate::admission::RegistrationLimiter::new(&config.admission);
        let door = QuicDoor::new(config.gate_limits(), config.session_budgets());
        let shared = Arc::new(Shared {
            config,
            metrics: Metrics::default(),
            address,
            door,
            registry: Mutex::new(registry),
            store: Arc::new(store),
            live: Mutex::new(HashMap::new()),
            shutdown: shutdown_rx,
            registrations: broadcast::channel(1024).0,
            work,
            content,
            outboxes: Mutex::new(HashMap::new()),
            replays: crate::auth::ReplayGuard::starting_at(unix_ms()),
            admission: Mutex::new(admission),
        });
        let mut background = vec![
            tokio::spawn(flush_periodically(shared.clone())),
            tokio::spawn(crate::delivery::deliver_committed(shared.clone())),
            tokio::spawn(crate::delivery::expire_leases(shared.clone())),
            tokio::spawn(crate::content::plan_loop(shared.clone())),
            tokio::spawn(crate::content::spot_check_loop(shared.clone())),
            tokio::spawn(crate::content::paid::storage_loop(shared.clone())),
        ];
        let mut http_addr = None;
        if let Some(listener) = http_listener {
            http_addr = listener.local_addr().ok();
            background.push(tokio::spawn(crate::http::serve(listener, shared.clone())));
        }
        let accept_task =
            tokio::spawn(crate::accept::accept_loop(endpoint.clone(), shared.clone()));
        tracing::info!(
            "coordinator listening on {quic_addr} (QUIC) as {}",
            shared.address
        );
        Ok(Self {
            shared,
            endpoint,
            http_addr,
            shutdown: shutdown_tx,
            accept_task,
            background,
        })
    }

    /// The address string nodes use: `KEY@HOST:PORT`.
    pub fn address(&self) -> &CoordinatorAddress {
        &self.shared.address
    }

    /// The bound UDP address of the QUIC endpoint.
    pub fn quic_addr(&self) -> Option<SocketAddr> {
        self.endpoint.local_addr().ok()
    }

    /// The bound TCP address of the HTTP API, if it runs.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// Every registration from now on, as the node id.
    pub fn subscribe_registrations(&self) -> broadcast::Receiver<NodeId> {
        self.shared.registrations.subscribe()
    }

    /// A snapshot of the registry.
    pub fn nodes(&self) -> Vec<NodeRecord> {
        self.shared.records()
    }

    /// Records an operator's deposit to `account` (in process: the local network funds its
    /// demo customer this way); returned once it is on disk.
    pub async fn deposit(
        &self,
        account: idleshare_protocol::auth::AccountId,
        amount: idleshare_protocol::MicroTokens,
        note: &str,
    ) -> Result<idleshare_protocol::api::Deposited, String> {
        crate::jobs::money_http::record_deposit(&self.shared, account, amount, note.to_owned())
            .await
            .map_err(|failure| failure.message().to_owned())
    }

    /// An account's balance, deposits and spending.
    pub fn account(
        &self,
        account: &idleshare_protocol::auth::AccountId,
    ) -> idleshare_protocol::api::AccountView {
        self.shared.work.read(|book| book.accounts().view(account))
    }

    /// A node's track record of validated results (zeros for a node never judged), as
    /// `GET /v1/nodes` shows it; for an embedding process such as the desktop app.
    pub fn reputation(&self, node: &NodeId) -> idleshare_protocol::api::Reputation {
        self.shared.work.read(|book| book.reputation(node))
    }

    /// Says goodbye to every node, writes the registry and stops.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.accept_task.await;
        self.shared.registry.lock().all_offline();
        let shared = self.shared.clone();
        match tokio::task::spawn_blocking(move || shared.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("final registry flush failed: {e}"),
            Err(e) => tracing::error!("final registry flush task failed: {e}"),
        }
        let shared = self.shared.clone();
        let _ = tokio::task::spawn_blocking(move || shared.work.shutdown()).await;
        self.endpoint
            .close(0u32.into(), b"coordinator shutting down");
        let _ = tokio::time::timeout(Duration::from_secs(1), self.endpoint.wait_idle()).await;
        for task in self.background {
            task.abort();
        }
        tracing::info!("coordinator stopped");
    }
}

/// Loopback for an unspecified listen address, so the printed address works locally.
fn advertised_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}

/// Writes the registry's changes every `flush_interval`, and prunes long-offline nodes
/// every `prune_interval` (the first time at start).
async fn flush_periodically(shared: Arc<Shared>) {
    let mut ticker = tokio::time::interval(shared.config.flush_interval);
    let mut last_prune: Option<std::time::Instant> = None;
    loop {
        ticker.tick().await;
        if last_prune.is_none_or(|at| at.elapsed() >= shared.config.prune_interval) {
            shared.prune();
            last_prune = Some(std::time::Instant::now());
        }
        let flushing = shared.clone();
        match tokio::task::spawn_blocking(move || flushing.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("registry flush failed (will retry): {e}"),
            Err(e) => tracing::error!("registry flush task failed: {e}"),
        }
    }
}
