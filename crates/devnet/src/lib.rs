//! A local Idleshare network in one process: an embedded coordinator on loopback, one node
//! registered with it, and a feeder of demo jobs and a demo site (served from the node's
//! cache) so the node has work to earn from.
//!
//! Both shells use it: `idleshare devnet` (prints what happens) and the desktop app, which
//! runs it when no coordinator is configured, so a new user sees the node earn at once.
//! Everything here is composition; the coordinator and the node are their own libraries.
#![deny(missing_docs)]

pub mod demo_jobs;
pub mod demo_site;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use idleshare_coordinator::{Coordinator, CoordinatorConfig, CoordinatorError};
use idleshare_node::settings::Settings;
use idleshare_node::{KeyStorePreference, NodeConfig, NodeError, NodeHandle, start_node};
use idleshare_protocol::{MicroTokens, NodeId};
use idleshare_transport::load_or_create_key_file;
use tokio::sync::watch;

pub use crate::demo_jobs::{DemoEvent, DemoFeeder, DemoObserver};
pub use idleshare_coordinator::client::ClientError;

/// How a local network is started.
#[derive(Debug, Clone)]
pub struct DevnetConfig {
    /// The embedded coordinator's key and databases.
    pub coordinator_dir: PathBuf,
    /// The node's data (its wallet, status, module cache; its key file if it must).
    pub node_dir: PathBuf,
    /// The coordinator's HTTP API (the demo feeder submits through it); port 0 = any.
    pub http: SocketAddr,
    /// The owner's settings, as the node should apply them.
    pub settings: watch::Receiver<Settings>,
    /// Where the node keeps its key.
    pub key_store: KeyStorePreference,
}

impl DevnetConfig {
    /// Everything under `dir` (`coordinator/`, `node/`), the HTTP API on a free loopback
    /// port, default settings, the key in the OS keychain where there is one.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            coordinator_dir: dir.join("coordinator"),
            node_dir: dir.join("node"),
            http: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            settings: watch::channel(Settings::default()).1,
            key_store: KeyStorePreference::Auto,
        }
    }
}

/// Why a local network could not start.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// The embedded coordinator did not start.
    #[error("cannot start the embedded coordinator: {0}")]
    Coordinator(#[from] CoordinatorError),
    /// The local node did not start.
    #[error("cannot start the local node: {0}")]
    Node(#[from] NodeError),
    /// The demo feeder's thread could not be started.
    #[error("cannot start the demo jobs: {0}")]
    Demo(std::io::Error),
    /// The demo customer's key or deposit failed.
    #[error("cannot fund the demo customer: {0}")]
    Customer(String),
}

/// The demo customer's key, in the coordinator's data directory (0600).
pub const DEMO_CUSTOMER_KEY_FILE: &str = "demo-customer.key";
/// The demo customer is topped up to this when it has less than a tenth of it.
const DEMO_FUNDS: MicroTokens = MicroTokens(1_000_000 * 1_000_000);

/// Loads (or makes) the demo customer's key and, acting as the local network's operator,
/// deposits tokens to it when it runs low: on a local network the demo pays for its work
/// like any customer, and every token it pays to the node came from a recorded deposit.
async fn fund_demo_customer(
    coordinator: &Coordinator,
    key_file: &std::path::Path,
) -> Result<SigningKey, DevnetError> {
    let (key, _) =
        load_or_create_key_file(key_file).map_err(|e| DevnetError::Customer(e.to_string()))?;
    let account = NodeId::from(key.verifying_key());
    let balance = coordinator.account(&account).balance;
    if balance.0 < DEMO_FUNDS.0 / 10 {
        let top_up = MicroTokens(DEMO_FUNDS.0 - balance.0);
        coordinator
            .deposit(account, top_up, "local network demo customer")
            .await
            .map_err(DevnetError::Customer)?;
    }
    Ok(key)
}

/// The identity proof difficulty of a local network: trivial (a few hundred hashes), so
/// the node still proves its identity the way it does on a real network.
pub const LOCAL_ID_DIFFICULTY: u8 = 8;

/// A running local network. Stop it with [`Devnet::stop`]; dropping it stops the parts
/// without waiting for them.
pub struct Devnet {
    coordinator: Coordinator,
    node: NodeHandle,
    demo: Option<DemoFeeder>,
}

impl Devnet {
    /// Starts the coordinator (QUIC on a free loopback port), then the node with its
    /// address, then the demo feeder, whose events go to `observer`.
    pub async fn start(config: DevnetConfig, observer: DemoObserver) -> Result<Self, DevnetError> {
        let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let customer_key_file = config.coordinator_dir.join(DEMO_CUSTOMER_KEY_FILE);
        let mut coordinator_config = CoordinatorConfig::new(listen, config.coordinator_dir);
        coordinator_config.http = Some(config.http);
        // Every node of a network on one machine shares one address.
        coordinator_config.work.one_replica_per_network = false;
        coordinator_config.content.one_copy_per_network = false;
        // One machine, one owner: identities need no real work here (8 bits: microseconds),
        // and the node's restarts are never throttled.
        coordinator_config.admission.id_difficulty = LOCAL_ID_DIFFICULTY;
        coordinator_config.admission.per_ip_per_minute = 600;
        coordinator_config.admission.per_network_per_minute = 600;
        let coordinator = Coordinator::start(coordinator_config).await?;
        let mut node_config = NodeConfig::new(coordinator.address().clone(), config.node_dir);
        node_config.settings = config.settings;
        node_config.key_store = config.key_store;
        let node = match start_node(node_config).await {
            Ok(node) => node,
            Err(error) => {
                coordinator.shutdown().await;
                return Err(error.into());
            }
        };
        let customer = match fund_demo_customer(&coordinator, &customer_key_file).await {
            Ok(key) => key,
            Err(error) => {
                node.stop().await;
                coordinator.shutdown().await;
                return Err(error);
            }
        };
        let demo = match coordinator.http_addr() {
            Some(http) => match DemoFeeder::start(http, customer, observer) {
                Ok(demo) => Some(demo),
                Err(error) => {
                    node.stop().await;
                    coordinator.shutdown().await;
                    return Err(DevnetError::Demo(error));
                }
            },
            None => None,
        };
        Ok(Self {
            coordinator,
            node,
            demo,
        })
    }

    /// The embedded coordinator (its address, HTTP API, registry, reputations).
    pub fn coordinator(&self) -> &Coordinator {
        &self.coordinator
    }

    /// The local node.
    pub fn node(&self) -> &NodeHandle {
        &self.node
    }

    /// Stops the demo feeder, then the node (it says goodbye), then the coordinator.
    pub async fn stop(self) {
        if let Some(demo) = self.demo {
            let _ = tokio::task::spawn_blocking(move || demo.stop()).await;
        }
        self.node.stop().await;
        self.coordinator.shutdown().await;
    }
}
