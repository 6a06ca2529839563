//! Cache connections: endpoints and dialling with the cache ALPN, keys pinned both ways.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use idleshare_protocol::NodeId;
use idleshare_protocol::cache::CACHE_ALPN;
use idleshare_transport::{
    EndpointError, TransportLimits, bind_endpoint, client_config_with_alpn,
    server_config_with_alpns,
};
use quinn::{Connection, Endpoint};

/// Bounds of cache connections: more concurrent streams than a control connection (a client
/// fetches segments and sends receipts side by side), a longer idle time.
pub fn cache_limits() -> TransportLimits {
    TransportLimits {
        idle_timeout: Duration::from_secs(15),
        keep_alive: Duration::from_secs(4),
        max_bidi_streams: 64,
    }
}

/// Why a cache connection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Config(#[from] EndpointError),
    /// The local socket could not be opened.
    #[error("cannot open a local QUIC endpoint: {0}")]
    Endpoint(std::io::Error),
    /// quinn refused to start the connection.
    #[error("cannot connect to {addr}: {detail}")]
    Start {
        /// The address.
        addr: SocketAddr,
        /// quinn's reason.
        detail: String,
    },
    /// The handshake failed (unreachable, wrong key, refused).
    #[error("connecting to {addr}: {detail}")]
    Handshake {
        /// The address.
        addr: SocketAddr,
        /// What failed.
        detail: String,
    },
    /// The name could not be resolved to an address.
    #[error("cannot resolve {host_port}: {source}")]
    Resolve {
        /// What was looked up.
        host_port: String,
        /// The resolver's answer (an empty answer is `NotFound`).
        source: std::io::Error,
    },
    /// No answer in time.
    #[error("no answer from {addr} within {after:?}")]
    Timeout {
        /// The address.
        addr: SocketAddr,
        /// How long we waited.
        after: Duration,
    },
}

/// The first address `host_port` resolves to.
pub async fn resolve(host_port: &str) -> Result<SocketAddr, ConnectError> {
    let error = |source| ConnectError::Resolve {
        host_port: host_port.to_owned(),
        source,
    };
    tokio::net::lookup_host(host_port)
        .await
        .map_err(error)?
        .next()
        .ok_or_else(|| {
            error(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no address",
            ))
        })
}

/// A client-only endpoint on an ephemeral port of the family of `towards`.
pub fn client_endpoint(towards: SocketAddr) -> Result<Endpoint, ConnectError> {
    let bind: SocketAddr = match towards {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    bind_endpoint(bind, None).map_err(ConnectError::Endpoint)
}

/// A node's cache endpoint on `listen`: its key, any ed25519 client.
pub fn server_endpoint(key: &SigningKey, listen: SocketAddr) -> Result<Endpoint, ConnectError> {
    let config = server_config_with_alpns(key, &cache_limits(), &[CACHE_ALPN])?;
    bind_endpoint(listen, Some(config)).map_err(ConnectError::Endpoint)
}

/// Dials `server` (a node or the coordinator, its key pinned) at `addr` as `key`.
pub async fn connect(
    endpoint: &Endpoint,
    key: &SigningKey,
    server: NodeId,
    addr: SocketAddr,
    timeout: Duration,
) -> Result<Connection, ConnectError> {
    let config = client_config_with_alpn(key, server, &cache_limits(), CACHE_ALPN)?;
    let connecting = endpoint
        .connect_with(config, addr, "idleshare")
        .map_err(|e| ConnectError::Start {
            addr,
            detail: e.to_string(),
        })?;
    match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(e)) => Err(ConnectError::Handshake {
            addr,
            detail: e.to_string(),
        }),
        Err(_) => Err(ConnectError::Timeout {
            addr,
            after: timeout,
        }),
    }
}
