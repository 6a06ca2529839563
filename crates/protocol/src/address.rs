//! The coordinator address: where to connect and which key to pin, as one token.
//!
//! Form: `KEY@HOST:PORT`, for example
//! `mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpjqwey3eovsq@coord.example.org:7350`.
//! IPv6 hosts are bracketed (`KEY@[::1]:7350`). An optional `idleshare://` prefix is
//! accepted so the token can be pasted as a link. The key is the coordinator's ed25519 public
//! key; a node refuses to talk to a server presenting any other key, so no certificate
//! authority is involved.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{IdError, NodeId};

const SCHEME: &str = "idleshare://";

/// A parsed coordinator address: host, port and the pinned coordinator key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorAddress {
    /// DNS name or IP literal (without brackets).
    pub host: String,
    /// UDP port of the QUIC endpoint.
    pub port: u16,
    /// The coordinator's public key, pinned by the node.
    pub key: NodeId,
}

/// Why an address string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// No `@` between key and host.
    #[error("address must look like KEY@HOST:PORT (missing '@')")]
    MissingAt,
    /// The key part is not a valid id.
    #[error("address key is invalid: {0}")]
    BadKey(#[from] IdError),
    /// No `:PORT` after the host.
    #[error("address must end with :PORT")]
    MissingPort,
    /// The port is not a number in 1..=65535.
    #[error("address port {0:?} is not a number between 1 and 65535")]
    BadPort(String),
    /// The host part is empty or malformed.
    #[error("address host {0:?} is empty or malformed")]
    BadHost(String),
}

impl CoordinatorAddress {
    /// `host:port` as a string suitable for DNS resolution (IPv6 bracketed).
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for CoordinatorAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.key, self.host_port())
    }
}

impl FromStr for CoordinatorAddress {
    type Err = AddressError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let text = text.strip_prefix(SCHEME).unwrap_or(text);
        let (key, rest) = text.split_once('@').ok_or(AddressError::MissingAt)?;
        let key: NodeId = key.parse()?;
        let (host, port) = split_host_port(rest)?;
        let port = match port.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => return Err(AddressError::BadPort(port.to_owned())),
        };
        Ok(Self {
            host: host.to_owned(),
            port,
            key,
        })
    }
}

fn split_host_port(rest: &str) -> Result<(&str, &str), AddressError> {
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| AddressError::BadHost(rest.to_owned()))?;
        let port = after.strip_prefix(':').ok_or(AddressError::MissingPort)?;
        (host, port)
    } else {
        let (host, port) = rest.rsplit_once(':').ok_or(AddressError::MissingPort)?;
        if host.contains(':') {
            return Err(AddressError::BadHost(host.to_owned()));
        }
        (host, port)
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    if !host_ok {
        return Err(AddressError::BadHost(host.to_owned()));
    }
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> NodeId {
        NodeId::from(ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]).verifying_key())
    }

    #[test]
    fn ipv4_dns_and_ipv6_round_trip() {
        for host in ["127.0.0.1", "coord.example.org", "::1"] {
            let addr = CoordinatorAddress {
                host: host.into(),
                port: 7350,
                key: key(),
            };
            let text = addr.to_string();
            assert_eq!(text.parse::<CoordinatorAddress>().unwrap(), addr, "{text}");
        }
    }

    #[test]
    fn scheme_prefix_and_whitespace_are_accepted() {
        let text = format!("  idleshare://{}@localhost:9 ", key());
        let addr: CoordinatorAddress = text.parse().unwrap();
        assert_eq!(addr.host_port(), "localhost:9");
    }

    #[test]
    fn malformed_addresses_name_the_problem() {
        let k = key();
        let cases = [
            ("127.0.0.1:7350".to_owned(), AddressError::MissingAt),
            (format!("{k}@127.0.0.1"), AddressError::MissingPort),
            (
                format!("{k}@127.0.0.1:0"),
                AddressError::BadPort("0".into()),
            ),
            (
                format!("{k}@127.0.0.1:99999"),
                AddressError::BadPort("99999".into()),
            ),
            (format!("{k}@:7350"), AddressError::BadHost("".into())),
            (format!("{k}@::1:7350"), AddressError::BadHost("::1".into())),
            (format!("{k}@a b:1"), AddressError::BadHost("a b".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<CoordinatorAddress>(), Err(expected), "{text}");
        }
        assert!(matches!(
            "zzz@127.0.0.1:1".parse::<CoordinatorAddress>(),
            Err(AddressError::BadKey(_))
        ));
    }
}
