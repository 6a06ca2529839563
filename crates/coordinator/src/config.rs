//! How a coordinator is run, and why it may fail to start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use idleshare_transport::EndpointError;
use idleshare_transport::keyfile::KeyFileError;

use crate::admission::AdmissionConfig;
use crate::content::{ContentConfig, ContentError};
use crate::http_door::HttpLimits;
use crate::jobs::{EngineError, WorkConfig};
use crate::store::StoreError;

/// How a coordinator is run.
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    /// UDP address of the QUIC endpoint.
    pub listen: SocketAddr,
    /// TCP address of the HTTP API, if any.
    pub http: Option<SocketAddr>,
    /// What one HTTP client may hold: timeouts, connections, requests in flight, bodies.
    pub http_limits: HttpLimits,
    /// Where the key and the database live.
    pub data_dir: PathBuf,
    /// Host name put in the printed address (default: the listen IP, loopback if unspecified).
    pub public_host: Option<String>,
    /// How often nodes heartbeat.
    pub heartbeat_interval: Duration,
    /// Most QUIC connections open at once, handshakes and both kinds included; more are
    /// refused before their handshake.
    pub max_connections: usize,
    /// Most connections open at once from one source (an IPv4 address, an IPv6 /64).
    pub max_connections_per_ip: usize,
    /// Handshakes in progress above which a client must prove its address (QUIC Retry).
    pub retry_above_handshakes: usize,
    /// Most node control sessions open at once.
    pub max_node_sessions: usize,
    /// Most cache clients connected at once.
    pub max_cache_clients: usize,
    /// Average frames per second a node may send.
    pub max_frames_per_second: f64,
    /// Burst of frames a node may send at once.
    pub frame_burst: u32,
    /// How often changed registry rows are written to the database.
    pub flush_interval: Duration,
    /// A node offline for longer than this is removed from the registry (it registers as
    /// new if it ever returns).
    pub prune_offline_after: Duration,
    /// How often the registry is searched for nodes to remove.
    pub prune_interval: Duration,
    /// Leases, validation and credit.
    pub work: WorkConfig,
    /// Cached content: copies wanted, publish limit, spot checks.
    pub content: ContentConfig,
    /// Identity proof difficulty and registration limits.
    pub admission: AdmissionConfig,
}

impl CoordinatorConfig {
    /// Defaults for a coordinator on `listen` keeping its state in `data_dir`.
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            listen,
            http: None,
            http_limits: HttpLimits::default(),
            data_dir,
            public_host: None,
            heartbeat_interval: Duration::from_secs(2),
            max_connections: 12_000,
            max_connections_per_ip: 64,
            retry_above_handshakes: 128,
            max_node_sessions: 10_000,
            max_cache_clients: 2_000,
            max_frames_per_second: 20.0,
            frame_burst: 40,
            flush_interval: Duration::from_secs(1),
            prune_offline_after: Duration::from_secs(30 * 24 * 3600),
            prune_interval: Duration::from_secs(3600),
            work: WorkConfig::default(),
            content: ContentConfig::default(),
            admission: AdmissionConfig::default(),
        }
    }

    /// The bounds of the QUIC front door before the handshake.
    pub fn gate_limits(&self) -> idleshare_transport::GateLimits {
        idleshare_transport::GateLimits {
            max_connections: self.max_connections,
            max_per_source: self.max_connections_per_ip,
            retry_above_handshakes: self.retry_above_handshakes,
        }
    }

    /// The budgets of each kind of connection after the handshake.
    pub fn session_budgets(&self) -> crate::quic_door::SessionBudgets {
        crate::quic_door::SessionBudgets {
            max_node_sessions: self.max_node_sessions,
            max_cache_clients: self.max_cache_clients,
        }
    }

    /// A node silent for this long is offline: three missed heartbeats.
    pub fn offline_after(&self) -> Duration {
        self.heartbeat_interval * 3
    }
}

/// Why the coordinator could not start.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    /// The data directory could not be created.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The coordinator key could not be loaded or created.
    #[error(transparent)]
    Key(#[from] KeyFileError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The work store failed to open or restore.
    #[error(transparent)]
    Work(#[from] EngineError),
    /// The content store failed to open.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// The QUIC configuration failed.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// A socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}
