//! The node inside the app: the embedded local network (no coordinator configured) or a
//! node registered with a real coordinator, started, stopped and switched at run time.
//! Its status is relayed into one `watch` that outlives restarts, so the UI and the tray
//! follow whichever node runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use idleshare_base::sync::Mutex;
use idleshare_devnet::{DemoEvent, Devnet, DevnetConfig};
use idleshare_node::settings::{Settings, SettingsStore};
use idleshare_node::wallet::Wallet;
use idleshare_node::{KeychainWaitHook, NodeConfig, NodeHandle, NodeStatus, start_node};
use idleshare_protocol::CoordinatorAddress;
use idleshare_protocol::api::Reputation;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::AppError;
use crate::launch::AppPaths;

/// In the local network the node waits at most this long for the owner to be idle, so a
/// new user sees it earn within a minute; a real coordinator gets the owner's setting.
pub const LOCAL_MAX_INPUT_IDLE_SECS: u32 = 30;

/// The settings the node applies: the owner's, with the local network's shorter wait.
pub fn effective_settings(settings: &Settings, local: bool) -> Settings {
    let mut effective = settings.clone();
    if local {
        effective.policy.input_idle_secs = effective
            .policy
            .input_idle_secs
            .min(LOCAL_MAX_INPUT_IDLE_SECS);
    }
    effective
}

enum Network {
    Local(Devnet),
    Remote(NodeHandle),
}

struct Running {
    network: Network,
    tasks: Vec<JoinHandle<()>>,
}

/// The app's node, whichever network it is in.
pub struct NodeRuntime {
    paths: AppPaths,
    settings: Arc<SettingsStore>,
    status: watch::Sender<Option<NodeStatus>>,
    running: tokio::sync::Mutex<Option<Running>>,
    wallet: Mutex<Option<Arc<Wallet>>>,
    local: AtomicBool,
    start_error: Mutex<Option<String>>,
}

impl NodeRuntime {
    /// A runtime with no node yet.
    pub fn new(paths: AppPaths, settings: Arc<SettingsStore>) -> Self {
        Self {
            paths,
            settings,
            status: watch::Sender::new(None),
            running: tokio::sync::Mutex::new(None),
            wallet: Mutex::new(None),
            local: AtomicBool::new(true),
            start_error: Mutex::new(None),
        }
    }

    /// The running node's status (`None` while none runs).
    pub fn status(&self) -> watch::Receiver<Option<NodeStatus>> {
        self.status.subscribe()
    }

    /// Whether the node is (or is about to be) in the embedded local network.
    pub fn is_local(&self) -> bool {
        self.local.load(Ordering::Relaxed)
    }

    /// Why the node could not start, if it could not.
    pub fn start_error(&self) -> Option<String> {
        self.start_error.lock().clone()
    }

    /// The node's wallet.
    pub fn wallet(&self) -> Result<Arc<Wallet>, AppError> {
        self.wallet.lock().clone().ok_or(AppError::NodeNotRunning)
    }

    /// The owner's settings.
    pub fn settings(&self) -> &Arc<SettingsStore> {
        &self.settings
    }

    /// Where the app's files are.
    pub fn paths(&self) -> &AppPaths {
        &self.paths
    }

    /// Stops whatever runs, then starts the node: with `coordinator`, or in the local
    /// network when `None`.
    pub async fn start(&self, coordinator: Option<CoordinatorAddress>) -> Result<(), AppError> {
        let mut running = self.running.lock().await;
        if let Some(old) = running.take() {
            stop_running(old).await;
        }
        *self.wallet.lock() = None;
        self.status.send_replace(None);
        let local = coordinator.is_none();
        self.local.store(local, Ordering::Relaxed);
        let started = match coordinator {
            None => self.start_local().await,
            Some(address) => self.start_remote(address).await,
        };
        let started = match started {
            Ok(started) => started,
            Err(error) => {
                tracing::error!("{error}");
                *self.start_error.lock() = Some(error.to_string());
                return Err(error);
            }
        };
        *self.start_error.lock() = None;
        let node = node_of(&started.network);
        let status = node.status();
        *self.wallet.lock() = node.wallet();
        let mut started = started;
        started
            .tasks
            .push(tokio::spawn(relay(status, self.status.clone())));
        *running = Some(started);
        Ok(())
    }

    async fn start_local(&self) -> Result<Running, AppError> {
        let (effective, capper) = self.effective_settings(true);
        let config = DevnetConfig {
            coordinator_dir: self.paths.local_coordinator_dir(),
            node_dir: self.paths.node_dir(),
            settings: effective,
            ..DevnetConfig::in_dir(&self.paths.data_dir)
        };
        let devnet = Devnet::start(config, Box::new(log_demo_event))
            .await
            .map_err(|e| AppError::io(format!("cannot start the local network: {e}")))?;
        tracing::info!(
            "local network: coordinator {}",
            devnet.coordinator().address()
        );
        Ok(Running {
            network: Network::Local(devnet),
            tasks: vec![capper],
        })
    }

    async fn start_remote(&self, address: CoordinatorAddress) -> Result<Running, AppError> {
        let (effective, capper) = self.effective_settings(false);
        let mut config = NodeConfig::new(address, self.paths.node_dir());
        config.settings = effective;
        // A keychain locked at login is waited for; the overview says so meanwhile.
        let shown = self.status.clone();
        config.on_keychain_wait = Some(KeychainWaitHook(std::sync::Arc::new(move |status| {
            shown.send_replace(Some(status));
        })));
        let node = start_node(config)
            .await
            .map_err(|e| AppError::io(format!("cannot start the node: {e}")))?;
        Ok(Running {
            network: Network::Remote(node),
            tasks: vec![capper],
        })
    }

    /// A receiver of the settings the node applies, kept up to date by the returned task.
    fn effective_settings(&self, local: bool) -> (watch::Receiver<Settings>, JoinHandle<()>) {
        let mut owner = self.settings.subscribe();
        let (sender, receiver) =
            watch::channel(effective_settings(&owner.borrow_and_update(), local));
        let task = tokio::spawn(async move {
            while owner.changed().await.is_ok() {
                let next = effective_settings(&owner.borrow_and_update(), local);
                if sender.send(next).is_err() {
                    return;
                }
            }
        });
        (receiver, task)
    }

    /// Stops the node (and the local network's coordinator); it says goodbye.
    pub async fn stop(&self) {
        if let Some(running) = self.running.lock().await.take() {
            stop_running(running).await;
        }
        *self.wallet.lock() = None;
    }

    /// The node's reputation, where the coordinator is at hand (the local network).
    pub async fn reputation(&self) -> Option<Reputation> {
        let running = self.running.lock().await;
        match &running.as_ref()?.network {
            Network::Local(devnet) => {
                let node = devnet.node().status().borrow().node_id;
                Some(devnet.coordinator().reputation(&node))
            }
            Network::Remote(_) => None,
        }
    }
}

fn node_of(network: &Network) -> &NodeHandle {
    match network {
        Network::Local(devnet) => devnet.node(),
        Network::Remote(node) => node,
    }
}

async fn stop_running(running: Running) {
    for task in &running.tasks {
        task.abort();
    }
    let stopping = async {
        match running.network {
            Network::Local(devnet) => devnet.stop().await,
            Network::Remote(node) => node.stop().await,
        }
    };
    if tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .is_err()
    {
        tracing::warn!("the node took more than 10 s to stop; left behind");
    }
}

async fn relay(mut from: watch::Receiver<NodeStatus>, to: watch::Sender<Option<NodeStatus>>) {
    loop {
        let status = from.borrow_and_update().clone();
        to.send_replace(Some(status));
        if from.changed().await.is_err() {
            return;
        }
    }
}

fn log_demo_event(event: DemoEvent) {
    match event {
        DemoEvent::Submitted(job) => {
            tracing::info!(
                "local network: submitted demo {} ({} tiles)",
                job.job,
                job.units
            )
        }
        DemoEvent::Finished(status) => {
            tracing::info!(
                "local network: demo {} done, paid {}",
                status.job,
                status.paid
            )
        }
        DemoEvent::Failed(error) => tracing::warn!("local network: demo work failed: {error}"),
        DemoEvent::SitePublished(site) => {
            tracing::info!("local network: demo site {} in the cache", site.id.short())
        }
        DemoEvent::SiteVisited { bytes } => {
            tracing::info!("local network: demo site read through the gateway ({bytes} bytes)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_network_waits_at_most_half_a_minute_and_a_real_one_as_set() {
        let settings = Settings::default();
        assert_eq!(settings.policy.input_idle_secs, 180);
        let local = effective_settings(&settings, true);
        assert_eq!(local.policy.input_idle_secs, LOCAL_MAX_INPUT_IDLE_SECS);
        assert_eq!(effective_settings(&settings, false), settings);
        let mut quick = Settings::default();
        quick.policy.input_idle_secs = 5;
        assert_eq!(effective_settings(&quick, true).policy.input_idle_secs, 5);
    }
}
