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

use idleshare_coordinator::{Coordinator, CoordinatorConfig, CoordinatorError};
use idleshare_node::settings::Settings;
use idleshare_node::{KeyStorePreference, NodeConfig, NodeError, NodeHandle, start_node};
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
}

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
        let mut coordinator_config = CoordinatorConfig::new(listen, config.coordinator_dir);
        coordinator_config.http = Some(config.http);
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
        let demo = match coordinator.http_addr() {
            Some(http) => match DemoFeeder::start(http, observer) {
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
