//! How a coordinator is run, and why it may fail to start.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use idleshare_transport::EndpointError;
use idleshare_transport::keyfile::KeyFileError;

use crate::content::{ContentConfig, ContentError};
use crate::jobs::{EngineError, WorkConfig};
use crate::store::StoreError;

/// How a coordinator is run.
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    /// UDP address of the QUIC endpoint.
    pub listen: SocketAddr,
    /// TCP address of the HTTP API, if any.
    pub http: Option<SocketAddr>,
    /// Where the key and the database live.
    pub data_dir: PathBuf,
    /// Host name put in the printed address (default: the listen IP, loopback if unspecified).
    pub public_host: Option<String>,
    /// How often nodes heartbeat.
    pub heartbeat_interval: Duration,
    /// Most connections open at once; more are refused.
    pub max_connections: usize,
    /// Average frames per second a node may send.
    pub max_frames_per_second: f64,
    /// Burst of frames a node may send at once.
    pub frame_burst: u32,
    /// How often heartbeat times are written to the database.
    pub flush_interval: Duration,
    /// Leases, validation and credit.
    pub work: WorkConfig,
    /// Cached content: copies wanted, publish limit, spot checks.
    pub content: ContentConfig,
}

impl CoordinatorConfig {
    /// Defaults for a coordinator on `listen` keeping its state in `data_dir`.
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            listen,
            http: None,
            data_dir,
            public_host: None,
            heartbeat_interval: Duration::from_secs(2),
            max_connections: 10_000,
            max_frames_per_second: 20.0,
            frame_burst: 40,
            flush_interval: Duration::from_secs(1),
            work: WorkConfig::default(),
            content: ContentConfig::default(),
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
