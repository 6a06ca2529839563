//! QUIC transport shared by nodes and coordinators.
//!
//! - [`tls`]: self-signed certificates over an ed25519 key, and rustls verifiers that pin
//!   keys instead of trusting certificate authorities (the node pins the coordinator key;
//!   the coordinator accepts any ed25519 client certificate and later checks it against the
//!   id the node claims);
//! - [`endpoint`]: quinn client and server configurations with their ALPNs (`idleshare/1`
//!   for node control, `idleshare-cache/1` for cache clients), endpoints with large UDP buffers;
//! - [`gate`]: the door of a server endpoint: connection caps in all and per source, and QUIC
//!   Retry when handshakes pile up;
//! - [`framed`]: reading and writing length-prefixed frames on QUIC streams;
//! - [`keyfile`]: an ed25519 key in a file only its owner can read (0600).
#![deny(missing_docs)]

pub mod der;
pub mod endpoint;
pub mod framed;
pub mod gate;
pub mod keyfile;
pub mod socket;
pub mod tls;

pub use endpoint::{
    EndpointError, TransportLimits, client_config, client_config_with_alpn, negotiated_alpn,
    server_config, server_config_with_alpns,
};
pub use framed::{FramedError, recv_frame, send_frame};
pub use gate::{ConnectionGate, GateLimits, GateTicket, Gated, Refusal};
pub use keyfile::{KeyFileError, generate_key, load_or_create_key_file};
pub use socket::bind_endpoint;
pub use tls::peer_node_id;
