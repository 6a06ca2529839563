//! Identities: a node id (and a coordinator id) is an ed25519 public key.
//!
//! The printable form is lowercase RFC 4648 base32 without padding (52 characters), chosen
//! because it survives copy-paste, URLs and case-insensitive file systems.

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_NOPAD;
use serde::{Deserialize, Serialize};

/// Length of an ed25519 public key in bytes.
pub const KEY_LEN: usize = 32;

/// A node's (or coordinator's) identity: its ed25519 public key. Base32 text in JSON, 32 raw
/// bytes in postcard.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId([u8; KEY_LEN]);

impl Serialize for NodeId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            self.0.serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            text.parse().map_err(serde::de::Error::custom)
        } else {
            let bytes = <[u8; KEY_LEN]>::deserialize(deserializer)?;
            NodeId::from_bytes(bytes).map_err(serde::de::Error::custom)
        }
    }
}

/// Why a string or byte slice is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The text is not base32.
    #[error("id is not valid base32: {0}")]
    NotBase32(String),
    /// The decoded bytes have the wrong length.
    #[error("id must be {KEY_LEN} bytes, got {0}")]
    WrongLength(usize),
    /// The bytes are not a valid ed25519 public key.
    #[error("id is not a valid ed25519 public key")]
    NotAKey,
}

impl NodeId {
    /// Wraps key bytes, checking they are a valid ed25519 point.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Result<Self, IdError> {
        ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| IdError::NotAKey)?;
        Ok(Self(bytes))
    }

    /// Wraps a slice of key bytes, checking length and validity.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, IdError> {
        let array: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| IdError::WrongLength(bytes.len()))?;
        Self::from_bytes(array)
    }

    /// The raw public key bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The ed25519 key it is (checked valid when the id was made).
    pub fn verifying_key(&self) -> Result<ed25519_dalek::VerifyingKey, IdError> {
        ed25519_dalek::VerifyingKey::from_bytes(&self.0).map_err(|_| IdError::NotAKey)
    }

    /// A short prefix of the printable form, for logs and tables.
    pub fn short(&self) -> String {
        self.to_string()[..10].to_owned()
    }
}

impl From<ed25519_dalek::VerifyingKey> for NodeId {
    fn from(key: ed25519_dalek::VerifyingKey) -> Self {
        Self(key.to_bytes())
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&BASE32_NOPAD.encode(&self.0).to_ascii_lowercase())
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({self})")
    }
}

impl FromStr for NodeId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let upper = text.trim().to_ascii_uppercase();
        let bytes = BASE32_NOPAD
            .decode(upper.as_bytes())
            .map_err(|e| IdError::NotBase32(e.to_string()))?;
        Self::from_slice(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NodeId {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        NodeId::from(key)
    }

    #[test]
    fn printable_form_round_trips_and_is_52_lowercase_chars() {
        let id = sample();
        let text = id.to_string();
        assert_eq!(text.len(), 52);
        assert_eq!(text, text.to_ascii_lowercase());
        assert_eq!(text.parse::<NodeId>().unwrap(), id);
        assert_eq!(text.to_ascii_uppercase().parse::<NodeId>().unwrap(), id);
    }

    #[test]
    fn bad_text_is_a_clear_error() {
        assert!(matches!(
            "not base32!".parse::<NodeId>(),
            Err(IdError::NotBase32(_))
        ));
        assert!(matches!(
            "aaaa".parse::<NodeId>(),
            Err(IdError::WrongLength(_))
        ));
    }

    #[test]
    fn wrong_length_slice_is_refused() {
        assert_eq!(NodeId::from_slice(&[1, 2, 3]), Err(IdError::WrongLength(3)));
    }
}
