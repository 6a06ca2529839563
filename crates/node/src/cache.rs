//! The node's edge cache: keeps the content the coordinator pins here, serves it to clients
//! over QUIC (on the node's own endpoint, and through the coordinator's relay when the node
//! has no reachable port), and collects the receipts clients sign for what they received.
//!
//! The [`CacheService`] outlives sessions, like the work runner: fills, serving and scrubbing
//! go on while the node reconnects; pin reports and unpaid receipts wait for the next
//! session. It follows the policy: a paused node answers "busy" at once, fills wait for the
//! network schedule, and the owner's quota and upload cap apply as they change.
//!
//! - `permission`: what the policy allows right now (pure);
//! - `claims`: service receipts until paid (pure);
//! - `server`: answering cache streams;
//! - `fill`: storing pinned content from peers or the origin;
//! - `scrub`: re-hashing stored content now and then.

mod claims;
mod fill;
mod order_use;
mod permission;
mod scrub;
mod server;

use idleshare_base::clock::unix_ms;
use idleshare_base::sync::Mutex;
use std::collections::{HashSet, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use idleshare_cache::{ContentStore, Pacer, StoreError, Usage};
use idleshare_protocol::cache::{PinOrder, PinOutcome, RangeRequest, SignedServiceReceipt};
use idleshare_protocol::order::OrderCheck;
use idleshare_protocol::{ContentId, CoordinatorAddress, NodeActivity, NodeId};
use quinn::Endpoint;
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use self::claims::ClaimBook;
pub(crate) use self::permission::{NetworkPermission, network_permission};
pub(crate) use self::server::serve_stream;
use crate::monitor::NetworkRates;
use crate::monitor::network::per_second;
use crate::settings::Settings;
use crate::status::{CacheStats, NodeStatus};
use crate::wallet::Wallet;

/// Clients served at once; more are told the node is busy.
const MAX_CONCURRENT_STREAMS: usize = 64;
/// Pin reports kept while disconnected.
const MAX_QUEUED_REPORTS: usize = 4096;

/// How the cache runs.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Where the node's own cache endpoint listens (`None`: no endpoint; clients reach the
    /// node only through the coordinator's relay).
    pub listen: Option<SocketAddr>,
    /// How often the scrubber looks for an item to re-hash.
    pub scrub_every: Duration,
    /// An item is re-hashed when its last check is older than this.
    pub scrub_min_age: Duration,
    /// Test only (the `test-hooks` feature): serve damaged bytes.
    #[cfg(feature = "test-hooks")]
    pub tamper: idleshare_cache::Tamper,
}

impl Default for CacheConfig {
    /// An endpoint on any free UDP port; one item looked at every 10 minutes, each checked
    /// about weekly.
    fn default() -> Self {
        Self {
            listen: Some(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))),
            scrub_every: Duration::from_secs(10 * 60),
            scrub_min_age: Duration::from_secs(7 * 24 * 60 * 60),
            #[cfg(feature = "test-hooks")]
            tamper: idleshare_cache::Tamper::None,
        }
    }
}

/// Why the cache could not start.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The endpoint could not be opened.
    #[error("cache endpoint: {0}")]
    Endpoint(#[from] idleshare_cache::ConnectError),
}

/// The cache of one node.
pub struct CacheService {
    node: NodeId,
    key: SigningKey,
    coordinator: CoordinatorAddress,
    store: Arc<ContentStore>,
    activity: watch::Receiver<NodeActivity>,
    upload: Pacer,
    download: Pacer,
    streams: Semaphore,
    served_bytes: AtomicU64,
    order_use: Mutex<order_use::OrderUse>,
    claims: Mutex<ClaimBook>,
    reports: Mutex<VecDeque<(ContentId, PinOutcome)>>,
    /// Wakes the session when a report or a claim waits to be sent.
    outgoing: Notify,
    orders: mpsc::UnboundedSender<PinOrder>,
    unpinned: Mutex<HashSet<ContentId>>,
    endpoint: Option<Endpoint>,
    #[cfg(feature = "test-hooks")]
    tamper: idleshare_cache::Tamper,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    stopped: AtomicBool,
}

impl CacheService {
    /// Opens the store in `data_dir/cache`, binds the endpoint and starts the background
    /// tasks (serving, fills, quota and caps from the settings, scrubbing).
    pub fn start(
        config: &CacheConfig,
        key: SigningKey,
        data_dir: &Path,
        coordinator: CoordinatorAddress,
        activity: watch::Receiver<NodeActivity>,
        settings: watch::Receiver<Settings>,
    ) -> Result<Arc<Self>, CacheError> {
        let quota = quota_of(&settings.borrow());
        let store = ContentStore::open(&data_dir.join("cache"), quota)?;
        let endpoint = match config.listen {
            Some(listen) => Some(idleshare_cache::server_endpoint(&key, listen)?),
            None => None,
        };
        let (orders, order_queue) = mpsc::unbounded_channel();
        let service = Arc::new(Self {
            node: NodeId::from(key.verifying_key()),
            key,
            coordinator,
            store,
            activity,
            upload: Pacer::new(None),
            download: Pacer::new(None),
            streams: Semaphore::new(MAX_CONCURRENT_STREAMS),
            served_bytes: AtomicU64::new(0),
            order_use: Mutex::new(order_use::OrderUse::default()),
            claims: Mutex::new(ClaimBook::default()),
            reports: Mutex::new(VecDeque::new()),
            outgoing: Notify::new(),
            orders,
            unpinned: Mutex::new(HashSet::new()),
            endpoint,
            #[cfg(feature = "test-hooks")]
            tamper: config.tamper,
            tasks: Mutex::new(Vec::new()),
            stopped: AtomicBool::new(false),
        });
        let mut tasks = vec![
            tokio::spawn(fill::run_pins(service.clone(), order_queue)),
            tokio::spawn(follow_settings(service.clone(), settings)),
            tokio::spawn(follow_caps(service.clone())),
        ];
        if let Some(endpoint) = service.endpoint.clone() {
            tasks.push(tokio::spawn(server::accept_clients(
                service.clone(),
                endpoint,
            )));
        }
        *service.tasks.lock() = tasks;
        scrub::start(&service, config.scrub_every, config.scrub_min_age);
        Ok(service)
    }

    /// The UDP port of the node's own endpoint, if it listens.
    pub fn port(&self) -> Option<u16> {
        self.endpoint
            .as_ref()
            .and_then(|e| e.local_addr().ok())
            .map(|addr| addr.port())
    }

    /// Bytes the cache has sent (serving) and received (filling) since it started.
    pub fn traffic(&self) -> Traffic {
        Traffic {
            sent: self.upload.passed(),
            received: self.download.passed(),
        }
    }

    /// Space, items and bytes served, for the status.
    pub fn usage(&self) -> (Usage, u64) {
        (
            self.store.usage(),
            self.served_bytes.load(Ordering::Relaxed),
        )
    }

    /// Content held complete.
    pub fn inventory(&self) -> Vec<ContentId> {
        self.store.items().into_iter().map(|item| item.id).collect()
    }

    /// Whether `request` comes with an order limit that pays this node for it: signed by
    /// this node's coordinator, naming this node, the content and (on a direct
    /// connection) the connection's key, not expired. Streams the coordinator opens
    /// (relay, gateway, spot checks) have no client key of their own: the coordinator
    /// checked the client before relaying. The bytes asked for count against the order's
    /// ceiling: nothing past it is served, since nothing past it is paid.
    pub(crate) fn order_permits(
        &self,
        request: &RangeRequest,
        client: Option<NodeId>,
        now_ms: u64,
    ) -> Result<(), String> {
        let Some(order) = &request.order else {
            return Err(
                "no order limit: ask the coordinator for providers with your account \
                        (`idleshare fetch`, or POST /v1/content/ID/orders)"
                    .to_owned(),
            );
        };
        let check = OrderCheck {
            issuer: self.coordinator.key,
            node: self.node,
            client: client.unwrap_or(order.limit.client),
            content: request.content,
            now_ms,
        };
        order.check(&check).map_err(|e| e.to_string())?;
        self.order_use
            .lock()
            .reserve(&order.limit, request.range.len(), now_ms)
    }

    /// A pin order from the coordinator: stored in the background, reported when done.
    pub fn pin(&self, order: PinOrder) {
        self.unpinned.lock().remove(&order.content);
        let _ = self.orders.send(order);
    }

    /// The coordinator no longer wants `content` here.
    pub fn unpin(&self, content: ContentId) {
        self.unpinned.lock().insert(content);
        match self.store.remove(&content) {
            Ok(true) => tracing::info!("cache: unpinned {}", content.short()),
            Ok(false) => {}
            Err(e) => tracing::warn!("cache: cannot remove {}: {e}", content.short()),
        }
    }

    /// Stops the background tasks and closes the endpoint.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
        if let Some(endpoint) = &self.endpoint {
            endpoint.close(0u32.into(), b"node stopping");
        }
    }

    fn tasks_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    fn report(&self, content: ContentId, outcome: PinOutcome) {
        let mut reports = self.reports.lock();
        if reports.len() >= MAX_QUEUED_REPORTS {
            reports.pop_front();
        }
        // Reasons built from error messages can be long; the coordinator takes 512 bytes.
        reports.push_back((content, outcome.clipped()));
        drop(reports);
        self.outgoing.notify_one();
    }

    /// Reports of evictions, as the coordinator must hear of them.
    fn report_evicted(&self, evicted: Vec<ContentId>, why: &str) {
        for content in evicted {
            tracing::info!("cache: evicted {} ({why})", content.short());
            let reason = format!("evicted: {why}");
            self.report(content, PinOutcome::Dropped { reason });
        }
    }

    fn claim(&self, receipt: SignedServiceReceipt) {
        self.claims.lock().add(receipt, unix_ms());
        self.outgoing.notify_one();
    }

    /// Waits until a report or a claim is waiting to be sent.
    pub(crate) async fn outgoing(&self) {
        self.outgoing.notified().await;
    }

    /// Pin reports waiting (taken: the session sends them now).
    pub(crate) fn take_reports(&self) -> Vec<(ContentId, PinOutcome)> {
        self.reports.lock().drain(..).collect()
    }

    /// Puts reports back at the front after a failed send.
    pub(crate) fn requeue_reports(&self, reports: Vec<(ContentId, PinOutcome)>) {
        let mut queue = self.reports.lock();
        for report in reports.into_iter().rev() {
            queue.push_front(report);
        }
    }

    /// Unsent service receipts, at most `max`.
    pub(crate) fn take_claims(&self, max: usize) -> Vec<SignedServiceReceipt> {
        self.claims.lock().take_unsent(max)
    }

    /// Whether more claims wait.
    pub(crate) fn has_claims(&self) -> bool {
        self.claims.lock().has_unsent()
    }

    /// A new session: every unpaid claim goes out again.
    pub(crate) fn resend_claims(&self) {
        self.claims.lock().resend_all(unix_ms());
    }

    /// A ledger receipt paid a client session up to `upto` bytes.
    pub(crate) fn claim_paid(&self, client: NodeId, session: u64, upto: u64) {
        self.claims.lock().paid(client, session, upto);
    }
}

/// Keeps the status's cache figures current: space and bytes served once a second, the
/// serving earnings from the wallet at start (sessions add each new credit).
pub(crate) async fn publish_stats(
    service: Arc<CacheService>,
    wallet: Option<Arc<Wallet>>,
    status: Arc<watch::Sender<NodeStatus>>,
) {
    if let Some(wallet) = wallet {
        let earned = tokio::task::spawn_blocking(move || wallet.earned_serving()).await;
        if let Ok(Ok(earned)) = earned {
            status.send_modify(|s| s.cache.earned_serving = earned);
        }
    }
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let mut before = (service.traffic(), tokio::time::Instant::now());
    loop {
        ticker.tick().await;
        let (usage, served_bytes) = service.usage();
        let now = (service.traffic(), tokio::time::Instant::now());
        let traffic = before.0.rates_until(now.0, now.1.duration_since(before.1));
        before = now;
        status.send_if_modified(|s| {
            let next = CacheStats {
                used_bytes: usage.used_bytes,
                quota_bytes: usage.quota_bytes,
                items: usage.items,
                served_bytes,
                earned_serving: s.cache.earned_serving,
                traffic,
            };
            let changed = s.cache != next;
            s.cache = next;
            changed
        });
    }
}

/// Byte counters of the cache's transfers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Bytes sent to clients and peers.
    pub sent: u64,
    /// Bytes received while filling.
    pub received: u64,
}

impl Traffic {
    /// The rates from these counters to `later`, taken `elapsed` after.
    pub fn rates_until(self, later: Traffic, elapsed: Duration) -> NetworkRates {
        NetworkRates {
            download_bytes_per_sec: per_second(
                later.received.saturating_sub(self.received),
                elapsed,
            ),
            upload_bytes_per_sec: per_second(later.sent.saturating_sub(self.sent), elapsed),
        }
    }
}

/// The quota the settings give the cache.
fn quota_of(settings: &Settings) -> u64 {
    settings.budget.cache_disk_quota_mib.saturating_mul(1 << 20)
}

/// Applies quota changes as the owner edits them.
async fn follow_settings(service: Arc<CacheService>, mut settings: watch::Receiver<Settings>) {
    while settings.changed().await.is_ok() {
        let quota = quota_of(&settings.borrow_and_update());
        if quota == service.store.usage().quota_bytes {
            continue;
        }
        match service.store.set_quota(quota) {
            Ok(evicted) => service.report_evicted(evicted, "the quota was lowered"),
            Err(e) => tracing::warn!("cache: cannot apply the new quota: {e}"),
        }
    }
}

/// Applies the policy's upload and download caps as they change.
async fn follow_caps(service: Arc<CacheService>) {
    let mut activity = service.activity.clone();
    loop {
        if let NetworkPermission::Open { upload, download } =
            network_permission(&activity.borrow_and_update())
        {
            service.upload.set_rate(upload);
            service.download.set_rate(download);
        }
        if activity.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_rates_are_the_counters_growth_per_second() {
        let before = Traffic {
            sent: 1_000,
            received: 5_000,
        };
        let after = Traffic {
            sent: 3_001_000,
            received: 6_000,
        };
        let rates = before.rates_until(after, Duration::from_millis(500));
        assert_eq!(rates.upload_bytes_per_sec, 6_000_000);
        assert_eq!(rates.download_bytes_per_sec, 2_000);
        // No time passed: no rate rather than a division by zero.
        assert_eq!(
            before.rates_until(after, Duration::ZERO),
            NetworkRates::default()
        );
    }
}
