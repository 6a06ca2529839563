//! Cached content on the coordinator: publishing (an origin copy and its metadata), the pin
//! plan that keeps copies on nodes, serving and relaying cache streams, spot checks, the
//! HTTP gateway, and paying nodes for bytes clients signed for.
//!
//! - [`book`]: the pure content book (contents, pins, reputations, the pin plan);
//! - `placement`: which fitting nodes get new copies (random, one per network);
//! - `reputation`: spot-check counts and the cache quota they make believable;
//! - `db`: its SQLite file;
//! - `serve`: cache connections to the coordinator (origin copies, relay, receipts);
//! - `spot`: spot checks of nodes;
//! - `reach`: checking that a node's own endpoint can be dialled;
//! - `http` and `gateway`: the HTTP routes.

pub mod book;
mod db;
mod gateway;
pub(crate) mod http;
mod orders;
pub(crate) mod paid;
mod placement;
mod reach;
mod reputation;
pub(crate) mod serve;
mod spot;

use idleshare_base::sync::Mutex;
use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use idleshare_cache::ContentStore;
use idleshare_protocol::MicroTokens;
use idleshare_protocol::api::{ContentStatus, PinView};
use idleshare_protocol::cache::{MAX_INVENTORY, PinOrder, PinOutcome, SignedServiceReceipt};
use idleshare_protocol::net::NetworkPrefix;
use idleshare_protocol::{ContentId, CoordinatorMessage, NodeId};
use idleshare_transport::bind_endpoint;
use quinn::Endpoint;
use tokio::sync::Notify;

use self::book::{
    Changes, CheckOutcome, ContentBook, ContentRecord, NodeView, PinAction, PinState,
};
pub use self::db::CONTENT_DATABASE_FILE_NAME;
use self::db::ContentDb;
use crate::jobs::orders::{OrderRequest, Payer};
use crate::registry::NodeState;
use idleshare_base::clock::unix_ms;

use crate::server::Shared;
use crate::store::StoreError;

/// Content items a node may list in its inventory (more are ignored).
const MAX_INVENTORY_ITEMS: usize = 64 * MAX_INVENTORY;

/// How cached content is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentConfig {
    /// Live copies wanted for new content, unless the publisher asks otherwise.
    pub replicas: u8,
    /// Largest piece of content accepted for publishing.
    pub max_publish_bytes: u64,
    /// How often a stored copy on some node is spot-checked.
    pub spot_check_every: Duration,
    /// How often the pin plan runs (it also runs on every relevant event).
    pub plan_every: Duration,
    /// Never two copies of one piece on nodes of one network (IPv4 /24, IPv6 /48), so one
    /// owner's many identities hold one copy. Off only where every node shares a network
    /// and one owner (a network on one machine, one LAN).
    pub one_copy_per_network: bool,
}

impl Default for ContentConfig {
    /// 3 copies; up to 8 GiB; a spot check every 30 s; the plan every 2 s; one copy per
    /// network.
    fn default() -> Self {
        Self {
            replicas: 3,
            max_publish_bytes: 8 << 30,
            spot_check_every: Duration::from_secs(30),
            plan_every: Duration::from_secs(2),
            one_copy_per_network: true,
        }
    }
}

/// The coordinator's content state.
pub(crate) struct ContentService {
    pub config: ContentConfig,
    /// Origin copies, unbounded.
    pub origin: Arc<ContentStore>,
    db: ContentDb,
    book: Mutex<ContentBook>,
    /// Nodes' own endpoints that answered a dial-back.
    reachable: Mutex<HashMap<NodeId, SocketAddr>>,
    /// Inventories being received, per node, until their last frame.
    inventories: Mutex<HashMap<NodeId, Vec<ContentId>>>,
    /// A client endpoint for dial-backs and spot checks.
    pub client: Endpoint,
    /// Wakes the planner.
    replan: Notify,
    /// Copies being checked after a client's report.
    reported: Mutex<HashSet<(ContentId, NodeId)>>,
}

/// Why the content state could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] StoreError),
    /// The origin store failed.
    #[error(transparent)]
    Origin(#[from] idleshare_cache::StoreError),
    /// The client endpoint could not be opened.
    #[error("cannot open a client endpoint: {0}")]
    Endpoint(std::io::Error),
}

/// How long a fill's order limits stay valid.
const FILL_ORDER_TTL_MS: u64 = 6 * 3_600_000;

/// Gives each peer of a pin order an unpaid order limit for `node`'s fill (storage pays
/// for copies, not their bytes; without an order a peer serves nobody).
fn sign_fill_orders(shared: &Shared, node: NodeId, order: &mut PinOrder) {
    let expires_at_ms = unix_ms().saturating_add(FILL_ORDER_TTL_MS);
    let (content, size) = (order.content, order.size);
    shared.work.read(|book| {
        for peer in &mut order.peers {
            let request = OrderRequest {
                payer: Payer::Account(node),
                client: node,
                node: peer.node,
                content,
                max_bytes: size,
                expires_at_ms,
            };
            peer.order = Some(book.unpaid_order(request, rand::random::<u64>() >> 1));
        }
    });
}

/// Why a service receipt pays nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimRefused {
    /// The client's signature does not verify, or the receipt pays another node.
    #[error(transparent)]
    Signature(#[from] idleshare_protocol::cache::ServiceReceiptError),
    /// The content is not published on this coordinator.
    #[error("content {0} is not published here")]
    NotPublished(ContentId),
    /// The node is banned for serving bad data.
    #[error("node {} is banned for serving bad data", .0.short())]
    Banned(NodeId),
    /// No order limit of this coordinator pays for it.
    #[error(transparent)]
    Order(#[from] crate::jobs::orders::OrderRefused),
}

impl ContentService {
    pub fn open(data_dir: &Path, config: ContentConfig) -> Result<Self, ContentError> {
        let origin = ContentStore::open(&data_dir.join("content"), u64::MAX)?;
        let db = ContentDb::open(&data_dir.join(CONTENT_DATABASE_FILE_NAME))?;
        let (contents, pins, reputations) = db.load()?;
        let book = ContentBook::restore(contents, pins, reputations);
        let client = bind_endpoint(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)), None)
            .map_err(ContentError::Endpoint)?;
        Ok(Self {
            config,
            origin,
            db,
            book: Mutex::new(book),
            reachable: Mutex::new(HashMap::new()),
            inventories: Mutex::new(HashMap::new()),
            client,
            replan: Notify::new(),
            reported: Mutex::new(HashSet::new()),
        })
    }

    /// Reads the book.
    pub fn read<R>(&self, look: impl FnOnce(&ContentBook) -> R) -> R {
        look(&self.book.lock())
    }

    /// Runs a book mutation: its rows are stored, then its orders go to the nodes.
    fn apply(&self, shared: &Shared, change: impl FnOnce(&mut ContentBook) -> Changes) {
        let changes = {
            let mut book = self.book.lock();
            let changes = change(&mut book);
            // Written under the lock, so the rows reach the file in the order they changed.
            if let Err(e) = self.db.save(&changes) {
                tracing::error!("content database: {e}");
            }
            changes
        };
        let messages = changes
            .actions
            .into_iter()
            .map(|action| match action {
                PinAction::Pin(node, mut order) => {
                    tracing::info!("pin {} on {}", order.content.short(), node.short());
                    sign_fill_orders(shared, node, &mut order);
                    (node, CoordinatorMessage::Pin(Box::new(order)))
                }
                PinAction::Unpin(node, content) => (node, CoordinatorMessage::Unpin { content }),
            })
            .collect();
        shared.send_to_nodes(messages);
    }

    /// What the planner knows of every node; its network is that of the address it
    /// registered from (as the work engine counts it).
    pub fn node_views(&self, shared: &Shared) -> Vec<NodeView> {
        let reachable = self.reachable.lock().clone();
        shared
            .records()
            .into_iter()
            .map(|record| NodeView {
                id: record.id,
                online: record.state == NodeState::Online,
                cache_quota: record
                    .activity
                    .budget()
                    .filter(|budget| budget.network)
                    .map(|budget| budget.cache_disk_bytes),
                direct: reachable.get(&record.id).copied(),
                network: network_of(&record.remote_addr),
            })
            .collect()
    }

    /// Records newly published content (stored in the origin already) and plans its pins.
    pub fn publish(&self, record: ContentRecord) -> Result<bool, StoreError> {
        let mut book = self.book.lock();
        if book.content(&record.id).is_some() {
            return Ok(false);
        }
        self.db.insert_content(&record)?;
        book.publish(record);
        drop(book);
        self.replan.notify_one();
        Ok(true)
    }

    /// Runs the pin plan now.
    pub fn plan(&self, shared: &Shared) {
        let nodes = self.node_views(shared);
        let one_per_network = self.config.one_copy_per_network;
        self.apply(shared, |book| {
            book.plan(&nodes, one_per_network, unix_ms(), &mut rand::rng())
        });
    }

    /// Asks for a plan soon (a node came, went or changed its policy).
    pub fn replan_soon(&self) {
        self.replan.notify_one();
    }

    /// A node's pin report.
    pub fn on_report(
        &self,
        shared: &Shared,
        node: NodeId,
        content: ContentId,
        outcome: PinOutcome,
    ) {
        tracing::info!("{}: {} {outcome:?}", node.short(), content.short());
        let failed = !matches!(outcome, PinOutcome::Stored);
        self.apply(shared, |book| {
            book.on_report(node, content, outcome, unix_ms())
        });
        if failed {
            self.replan.notify_one();
        }
    }

    /// One frame of a node's inventory; the last frame settles what it no longer holds.
    pub fn on_inventory(
        &self,
        shared: &Shared,
        node: NodeId,
        contents: Vec<ContentId>,
        last: bool,
    ) {
        let held = {
            let mut inventories = self.inventories.lock();
            let held = inventories.entry(node).or_default();
            let room = MAX_INVENTORY_ITEMS.saturating_sub(held.len());
            held.extend(contents.into_iter().take(room));
            if !last {
                return;
            }
            inventories.remove(&node).unwrap_or_default()
        };
        let now = unix_ms();
        let nodes = self.node_views(shared);
        self.apply(shared, |book| {
            let mut changes = book.on_inventory(node, &held, now);
            let settled = book.settle_inventory(node, &held, &nodes, now);
            changes.pins.extend(settled.pins);
            changes.actions.extend(settled.actions);
            changes
        });
        self.replan.notify_one();
    }

    /// Credits service receipts. `sender` is the node that forwarded them (each must pay
    /// it); `None` for receipts a client handed the coordinator directly. Returns the
    /// micro-tokens credited and why any receipt was refused.
    pub fn credit(
        &self,
        shared: &Shared,
        sender: Option<NodeId>,
        receipts: Vec<SignedServiceReceipt>,
    ) -> (u64, Vec<ClaimRefused>) {
        let now = unix_ms();
        let mut credited = 0;
        let mut refused = Vec::new();
        for signed in receipts {
            match self.check_claim(&signed, sender, now) {
                Ok(()) => {
                    let claim = signed.receipt;
                    let (paid, _) = shared
                        .work
                        .apply(|book, _, ch| book.credit_serving(&claim, now, ch));
                    match paid {
                        Ok(amount) => credited += amount.map_or(0, |a| a.0),
                        Err(reason) => refused.push(reason.into()),
                    }
                }
                Err(reason) => refused.push(reason),
            }
        }
        (credited, refused)
    }

    /// Checks a service receipt's signature, its content and its node; the order it
    /// names is checked by the work book when paying.
    fn check_claim(
        &self,
        signed: &SignedServiceReceipt,
        sender: Option<NodeId>,
        now: u64,
    ) -> Result<(), ClaimRefused> {
        let claim = &signed.receipt;
        let node = sender.unwrap_or(claim.node);
        signed.verify(&node)?;
        let book = self.book.lock();
        if book.content(&claim.content).is_none() {
            return Err(ClaimRefused::NotPublished(claim.content));
        }
        if book.reputation(&node).banned(now) {
            return Err(ClaimRefused::Banned(node));
        }
        Ok(())
    }

    /// Bad bytes seen from `node` (by the coordinator's own check): banned and unpinned.
    pub fn penalise(&self, shared: &Shared, node: NodeId, detail: &str) {
        tracing::warn!("{} served bad data: {detail}", node.short());
        shared
            .metrics
            .bad_cache_data
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.apply(shared, |book| {
            book.caught_serving_bad_data(node, detail, unix_ms())
        });
        self.replan.notify_one();
    }

    /// Drops content whose paid storage ran out: unpinned everywhere, the origin copy
    /// deleted.
    pub fn expire(&self, shared: &Shared, id: ContentId) {
        self.apply(shared, |book| book.unpublish(&id));
        if let Err(e) = self.origin.remove(&id) {
            tracing::error!("origin copy of {}: {e}", id.short());
        }
        tracing::info!("{id} expired: its storage was paid until now; unpinned and deleted");
    }

    /// Records a spot check's outcome.
    pub fn checked(&self, shared: &Shared, node: NodeId, outcome: CheckOutcome) {
        self.apply(shared, |book| book.record_check(node, outcome));
    }

    /// A piece of content, its pins and its providers.
    pub fn status(&self, shared: &Shared, id: &ContentId) -> Option<ContentStatus> {
        let nodes = self.node_views(shared);
        let book = self.book.lock();
        let record = book.content(id)?.clone();
        let status = status_of(&book, record, &nodes);
        drop(book);
        with_terms(shared, vec![status]).pop()
    }

    /// Every piece of content.
    pub fn list(&self, shared: &Shared) -> Vec<ContentStatus> {
        let nodes = self.node_views(shared);
        let statuses: Vec<ContentStatus> = {
            let book = self.book.lock();
            book.contents()
                .cloned()
                .map(|record| status_of(&book, record, &nodes))
                .collect()
        };
        with_terms(shared, statuses)
    }

    /// Starts a check of `node`'s copy of `content` after a report; false if one runs.
    pub fn begin_report_check(&self, content: ContentId, node: NodeId) -> bool {
        self.reported.lock().insert((content, node))
    }

    /// The check after a report is over.
    pub fn end_report_check(&self, content: ContentId, node: NodeId) {
        self.reported.lock().remove(&(content, node));
    }

    /// `node`'s own endpoint, if it answered a dial-back.
    pub fn direct_addr(&self, node: &NodeId) -> Option<SocketAddr> {
        self.reachable.lock().get(node).copied()
    }

    /// Marks `node`'s own endpoint reachable at `addr` (or not).
    fn set_reachable(&self, node: NodeId, addr: Option<SocketAddr>) {
        let mut reachable = self.reachable.lock();
        match addr {
            Some(addr) => reachable.insert(node, addr),
            None => reachable.remove(&node),
        };
    }
}

/// The network of a registry record's remote address (`None` if it is not one, as in rows
/// of nodes never connected).
fn network_of(remote_addr: &str) -> Option<NetworkPrefix> {
    let addr: SocketAddr = remote_addr.parse().ok()?;
    Some(NetworkPrefix::of(addr.ip()))
}

fn status_of(book: &ContentBook, record: ContentRecord, nodes: &[NodeView]) -> ContentStatus {
    let providers = book.providers(&record.id, nodes, unix_ms());
    let pins = book
        .pins(&record.id)
        .into_iter()
        .map(|(node, state)| {
            let (state, reason) = match state {
                PinState::Assigned { .. } => ("assigned", None),
                PinState::Stored { .. } => ("stored", None),
                PinState::Failed { reason, .. } => ("failed", Some(reason)),
            };
            PinView {
                node,
                state: state.to_owned(),
                reason,
            }
        })
        .collect();
    ContentStatus {
        id: record.id,
        size: record.size,
        name: record.name,
        replicas: record.replicas,
        published_ms: record.published_ms,
        providers,
        pins,
        paid_until_ms: None,
        serving_budget: MicroTokens(0),
    }
}

/// Adds what the work book knows to each status (until when its storage is paid, the
/// serving budget left), in one read of the book.
fn with_terms(shared: &Shared, mut statuses: Vec<ContentStatus>) -> Vec<ContentStatus> {
    shared.work.read(|book| {
        for status in &mut statuses {
            if let Some(term) = book.storage().term(&status.id) {
                status.paid_until_ms = Some(term.paid_until_ms());
                let budget = book.accounts().pot(&term.pots()[1]).map_or(0, |p| p.held());
                status.serving_budget = MicroTokens(budget);
            }
        }
    });
    statuses
}

/// Runs the pin plan on every event and at least every `plan_every`.
pub(crate) async fn plan_loop(shared: Arc<Shared>) {
    let every = shared.content.config.plan_every;
    loop {
        shared.content.plan(&shared);
        let _ = tokio::time::timeout(every, shared.content.replan.notified()).await;
        // Let a burst of events settle into one plan.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) use self::reach::check_reachable;
pub(crate) use self::spot::{check as spot_check, spot_check_loop};
