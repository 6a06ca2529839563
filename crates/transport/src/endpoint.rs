//! quinn configurations for both ends of the control connection.

use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use idleshare_protocol::{ALPN, NodeId};
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};

use crate::tls::{AnyEd25519Client, CertificateSetupError, PinnedServerKey, certificate_for};

/// Why an endpoint configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The certificate could not be made.
    #[error(transparent)]
    Certificate(#[from] CertificateSetupError),
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// quinn refused the TLS configuration.
    #[error("QUIC configuration: {0}")]
    Quic(String),
}

/// Transport-level bounds shared by both ends.
#[derive(Debug, Clone, Copy)]
pub struct TransportLimits {
    /// A connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// Send a keep-alive after this long without traffic.
    pub keep_alive: Duration,
    /// Bidirectional streams a peer may have open at once.
    pub max_bidi_streams: u32,
}

impl Default for TransportLimits {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(10),
            keep_alive: Duration::from_secs(3),
            max_bidi_streams: 8,
        }
    }
}

fn transport_config(limits: &TransportLimits) -> Arc<quinn::TransportConfig> {
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_idle_timeout(limits.idle_timeout.try_into().ok())
        .keep_alive_interval(Some(limits.keep_alive))
        .max_concurrent_bidi_streams(limits.max_bidi_streams.into())
        .max_concurrent_uni_streams(0u32.into());
    Arc::new(transport)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The coordinator's server configuration: its key, mandatory ed25519 client certificates.
pub fn server_config(
    key: &SigningKey,
    limits: &TransportLimits,
) -> Result<quinn::ServerConfig, EndpointError> {
    server_config_with_alpns(key, limits, &[ALPN])
}

/// A server configuration speaking any of `alpns` (the client picks; see
/// [`negotiated_alpn`]), with mandatory ed25519 client certificates.
pub fn server_config_with_alpns(
    key: &SigningKey,
    limits: &TransportLimits,
    alpns: &[&[u8]],
) -> Result<quinn::ServerConfig, EndpointError> {
    let (cert, private) = certificate_for(key)?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_client_cert_verifier(Arc::new(AnyEd25519Client::new()))
        .with_single_cert(vec![cert], private)?;
    tls.alpn_protocols = alpns.iter().map(|alpn| alpn.to_vec()).collect();
    let quic = QuicServerConfig::try_from(tls).map_err(|e| EndpointError::Quic(e.to_string()))?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(quic));
    config.transport_config(transport_config(limits));
    Ok(config)
}

/// A node's client configuration: its own key as client certificate, the coordinator pinned.
pub fn client_config(
    key: &SigningKey,
    coordinator: NodeId,
    limits: &TransportLimits,
) -> Result<quinn::ClientConfig, EndpointError> {
    client_config_with_alpn(key, coordinator, limits, ALPN)
}

/// The ALPN a connection agreed on.
pub fn negotiated_alpn(connection: &quinn::Connection) -> Option<Vec<u8>> {
    connection
        .handshake_data()?
        .downcast::<quinn::crypto::rustls::HandshakeData>()
        .ok()?
        .protocol
}

/// Like [`client_config`] with another ALPN (cache connections; tests of refusal), pinning
/// `server` (a coordinator or a node) and presenting `key` as client certificate.
pub fn client_config_with_alpn(
    key: &SigningKey,
    server: NodeId,
    limits: &TransportLimits,
    alpn: &[u8],
) -> Result<quinn::ClientConfig, EndpointError> {
    let (cert, private) = certificate_for(key)?;
    let mut tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServerKey::new(server)))
        .with_client_auth_cert(vec![cert], private)?;
    tls.alpn_protocols = vec![alpn.to_vec()];
    let quic = QuicClientConfig::try_from(tls).map_err(|e| EndpointError::Quic(e.to_string()))?;
    let mut config = quinn::ClientConfig::new(Arc::new(quic));
    config.transport_config(transport_config(limits));
    Ok(config)
}
