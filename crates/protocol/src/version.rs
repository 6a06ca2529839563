//! Protocol versions and their negotiation.
//!
//! A node offers every version it speaks in its hello; the coordinator picks the highest
//! one it also speaks, or refuses with a message naming the versions it supports.

/// The TLS application protocol (ALPN) of the node↔coordinator control connection.
pub const ALPN: &[u8] = b"idleshare/1";

/// The protocol version this build prefers.
///
/// 2: registration carries an identity proof of work (`NodeMessage::Register::proof`); the
/// coordinator may answer `ProofRequired` or `Throttled`. Version 1 nodes cannot prove their
/// identity and are refused at hello, by name.
pub const PROTOCOL_VERSION: u16 = 2;

/// Every protocol version this build can speak, highest first.
pub const SUPPORTED_VERSIONS: &[u16] = &[PROTOCOL_VERSION];

/// No version is common to both sides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported protocol version(s) {offered:?}; this side supports {supported:?}")]
pub struct VersionError {
    /// What the peer offered.
    pub offered: Vec<u16>,
    /// What this side supports.
    pub supported: Vec<u16>,
}

/// Picks the highest version present in both `offered` and `supported`.
pub fn negotiate(offered: &[u16], supported: &[u16]) -> Result<u16, VersionError> {
    offered
        .iter()
        .copied()
        .filter(|v| supported.contains(v))
        .max()
        .ok_or_else(|| VersionError {
            offered: offered.to_vec(),
            supported: supported.to_vec(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_highest_common_version() {
        assert_eq!(negotiate(&[1, 2, 3], &[2, 1]), Ok(2));
        assert_eq!(negotiate(&[2], SUPPORTED_VERSIONS), Ok(2));
    }

    #[test]
    fn no_common_version_names_what_is_supported() {
        let err = negotiate(&[99], &[1]).unwrap_err();
        assert_eq!(err.supported, vec![1]);
        assert!(err.to_string().contains("supports [1]"), "{err}");
    }

    #[test]
    fn empty_offer_is_refused() {
        assert!(negotiate(&[], &[1]).is_err());
    }
}
