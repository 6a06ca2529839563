//! The node's identity: an ed25519 key kept in the OS keychain.
//!
//! The key is created on first start and stored through `keyring` (Secret Service on Linux,
//! Keychain on macOS, Credential Manager on Windows), one entry per data directory so
//! several nodes can share a machine. Only when no keychain is usable (no D-Bus session,
//! a headless server, CI) does the key go to `DATA_DIR/node.key` with mode 0600, and the
//! node says so: a warning in the log and [`KeyStorage::File`] in its status. A key left in
//! a file from such a time moves into the keychain once one is usable.

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use idleshare_protocol::NodeId;
use idleshare_transport::keyfile::{
    KeyFileError, generate_key, key_from_hex, key_to_hex, read_key_file, write_key_file,
};
use serde::{Deserialize, Serialize};

pub use crate::keychain_wait::{KEYCHAIN_RETRY, wait_for_key};
use crate::keychain_wait::{Unavailable, read_marker, record_keychain_marker, when_unavailable};

/// Keychain service name under which node keys are stored.
pub const KEYCHAIN_SERVICE: &str = "idleshare";
/// File name of the fallback key inside the data directory.
pub const KEY_FILE_NAME: &str = "node.key";

/// Whose key it is: the node's, or a customer's account key (the CLI's `idleshare
/// account`, `submit`, `publish`, `fetch`). Both live under the same rules; only the
/// keychain entry and the fallback file's name differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// The node's identity.
    Node,
    /// A customer account.
    Customer,
}

impl KeyRole {
    /// The fallback file's name in the data directory.
    pub fn file_name(self) -> &'static str {
        match self {
            KeyRole::Node => KEY_FILE_NAME,
            KeyRole::Customer => CUSTOMER_KEY_FILE_NAME,
        }
    }

    fn keychain_prefix(self) -> &'static str {
        match self {
            KeyRole::Node => "node-key",
            KeyRole::Customer => "customer-key",
        }
    }

    /// The marker file saying the key lives in the keychain (holds the public id only).
    pub fn marker_file_name(self) -> &'static str {
        match self {
            KeyRole::Node => "node.keychain",
            KeyRole::Customer => "customer.keychain",
        }
    }

    fn label(self) -> &'static str {
        match self {
            KeyRole::Node => "node key",
            KeyRole::Customer => "customer account key",
        }
    }
}

/// File name of a customer's fallback key inside its data directory.
pub const CUSTOMER_KEY_FILE_NAME: &str = "customer.key";

/// Where the user wants the key kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyStorePreference {
    /// The OS keychain, or the file when no keychain is usable.
    #[default]
    Auto,
    /// The OS keychain only; fail if it is unusable.
    Keychain,
    /// The 0600 file only (servers without a keychain).
    File,
}

/// Where the key actually lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStorage {
    /// In the OS keychain.
    Keychain,
    /// In an owner-only file; `reason` says why the keychain was not used.
    File {
        /// The key file.
        path: PathBuf,
        /// Why not the keychain.
        reason: String,
    },
}

impl fmt::Display for KeyStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyStorage::Keychain => f.write_str("OS keychain"),
            KeyStorage::File { path, reason } => {
                write!(f, "file {} (0600; {reason})", path.display())
            }
        }
    }
}

/// A loaded identity.
#[derive(Clone)]
pub struct NodeIdentity {
    /// The secret key.
    pub key: SigningKey,
    /// Where the key is kept.
    pub storage: KeyStorage,
    /// Whether it was created during this load.
    pub created: bool,
}

impl NodeIdentity {
    /// The public node id.
    pub fn id(&self) -> NodeId {
        NodeId::from(self.key.verifying_key())
    }
}

/// Why the identity could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The keychain was required but is unusable.
    #[error("the OS keychain is not usable: {0}")]
    KeychainUnavailable(String),
    /// The keychain answered with an error that is not "unavailable".
    #[error("the OS keychain failed: {0}")]
    Keychain(String),
    /// The keychain holds something that is not a key.
    #[error("the keychain entry {account:?} does not hold a valid key")]
    CorruptKeychainEntry {
        /// The entry's account name.
        account: String,
    },
    /// The key file failed.
    #[error(transparent)]
    File(#[from] KeyFileError),
    /// The key lives in the keychain (this data directory's marker says so) and the
    /// keychain cannot be reached right now (locked at login, its service not started):
    /// the node waits for it instead of making a new identity.
    #[error(
        "waiting for the OS keychain: {reason} (this node's identity {node_id} lives there; \
         unlock the keychain, or choose --key-store file to keep a new key in a file)"
    )]
    KeychainNotReady {
        /// The identity the marker names.
        node_id: String,
        /// Why the keychain is unusable.
        reason: String,
    },
    /// The data directory could not be created or resolved.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Loads the node's key for `data_dir`, creating it on first start.
///
/// This blocks on the keychain (D-Bus on Linux): call it outside async tasks or through
/// `spawn_blocking`.
pub fn load_or_create_identity(
    data_dir: &Path,
    preference: KeyStorePreference,
) -> Result<NodeIdentity, IdentityError> {
    load_or_create_key(data_dir, preference, KeyRole::Node)
}

/// Loads the key of `role` for `data_dir` (keychain first, the same fallback rules as the
/// node's), creating it on first use. Blocks on the keychain.
pub fn load_or_create_key(
    data_dir: &Path,
    preference: KeyStorePreference,
    role: KeyRole,
) -> Result<NodeIdentity, IdentityError> {
    std::fs::create_dir_all(data_dir).map_err(|source| IdentityError::DataDir {
        path: data_dir.to_owned(),
        source,
    })?;
    let data_dir = data_dir
        .canonicalize()
        .map_err(|source| IdentityError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
    let file = data_dir.join(role.file_name());
    if preference == KeyStorePreference::File {
        return from_file(&file, "file storage chosen by configuration".into());
    }
    let account = role_keychain_account(role, &data_dir);
    let loaded = keychain_entry(&account)
        .and_then(|entry| load_from_keychain(&entry, &account, &file, role));
    let marker = data_dir.join(role.marker_file_name());
    match loaded {
        Ok(identity) => {
            record_keychain_marker(&marker, &identity);
            Ok(identity)
        }
        Err(KeychainOutcome::Unavailable(reason)) => {
            match when_unavailable(preference, read_marker(&marker)) {
                Unavailable::UseFile => {}
                Unavailable::Wait(node_id) => {
                    return Err(IdentityError::KeychainNotReady { node_id, reason });
                }
                Unavailable::Fail => return Err(IdentityError::KeychainUnavailable(reason)),
            }
            tracing::warn!(
                "no usable OS keychain ({reason}); keeping the {} in {} (mode 0600)",
                role.label(),
                file.display()
            );
            from_file(&file, format!("no usable OS keychain: {reason}"))
        }
        Err(KeychainOutcome::Failed(error)) => Err(error),
    }
}

/// The keychain account name for a data directory.
pub fn keychain_account(data_dir: &Path) -> String {
    role_keychain_account(KeyRole::Node, data_dir)
}

fn role_keychain_account(role: KeyRole, data_dir: &Path) -> String {
    format!("{}:{}", role.keychain_prefix(), data_dir.display())
}

enum KeychainOutcome {
    Unavailable(String),
    Failed(IdentityError),
}

fn classify(error: keyring::Error) -> KeychainOutcome {
    match error {
        keyring::Error::PlatformFailure(e) => KeychainOutcome::Unavailable(e.to_string()),
        keyring::Error::NoStorageAccess(e) => KeychainOutcome::Unavailable(e.to_string()),
        other => KeychainOutcome::Failed(IdentityError::Keychain(other.to_string())),
    }
}

fn keychain_entry(account: &str) -> Result<keyring::Entry, KeychainOutcome> {
    keyring::Entry::new(KEYCHAIN_SERVICE, account).map_err(classify)
}

fn load_from_keychain(
    entry: &keyring::Entry,
    account: &str,
    file: &Path,
    role: KeyRole,
) -> Result<NodeIdentity, KeychainOutcome> {
    match entry.get_password() {
        Ok(text) => {
            let key = key_from_hex(&text).ok_or_else(|| {
                KeychainOutcome::Failed(IdentityError::CorruptKeychainEntry {
                    account: account.to_owned(),
                })
            })?;
            Ok(keychain_identity(key, false))
        }
        Err(keyring::Error::NoEntry) => store_new_in_keychain(entry, file, role),
        Err(other) => Err(classify(other)),
    }
}

/// Stores a key in the keychain: the one left in a fallback file, or a fresh one.
fn store_new_in_keychain(
    entry: &keyring::Entry,
    file: &Path,
    role: KeyRole,
) -> Result<NodeIdentity, KeychainOutcome> {
    let from_file = read_key_file(file).map_err(|e| KeychainOutcome::Failed(e.into()))?;
    let created = from_file.is_none();
    let key = match from_file {
        Some(key) => key,
        None => generate_key().map_err(|e| KeychainOutcome::Failed(e.into()))?,
    };
    entry.set_password(&key_to_hex(&key)).map_err(classify)?;
    // Read back: a keychain that silently drops secrets must not cost the node its id.
    let stored = entry.get_password().map_err(classify)?;
    if key_from_hex(&stored).map(|k| k.to_bytes()) != Some(key.to_bytes()) {
        return Err(KeychainOutcome::Unavailable(
            "the keychain did not return the key just stored".into(),
        ));
    }
    if !created {
        tracing::info!(
            "moved the {} from {} into the OS keychain",
            role.label(),
            file.display()
        );
        if let Err(e) = std::fs::remove_file(file) {
            tracing::warn!("could not remove the old key file {}: {e}", file.display());
        }
    }
    Ok(keychain_identity(key, created))
}

fn keychain_identity(key: SigningKey, created: bool) -> NodeIdentity {
    NodeIdentity {
        key,
        storage: KeyStorage::Keychain,
        created,
    }
}

fn from_file(path: &Path, reason: String) -> Result<NodeIdentity, IdentityError> {
    let (key, created) = match read_key_file(path)? {
        Some(key) => (key, false),
        None => {
            let key = generate_key()?;
            write_key_file(path, &key)?;
            (key, true)
        }
    };
    Ok(NodeIdentity {
        key,
        storage: KeyStorage::File {
            path: path.to_owned(),
            reason,
        },
        created,
    })
}

/// Removes this data directory's node key from the keychain (tests and `node forget`).
pub fn delete_keychain_key(data_dir: &Path) -> Result<(), IdentityError> {
    delete_role_key(data_dir, KeyRole::Node)
}

/// Removes this data directory's key of `role` from the keychain.
pub fn delete_role_key(data_dir: &Path, role: KeyRole) -> Result<(), IdentityError> {
    let data_dir = data_dir
        .canonicalize()
        .map_err(|source| IdentityError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
    let entry = keyring::Entry::new(KEYCHAIN_SERVICE, &role_keychain_account(role, &data_dir))
        .map_err(|e| IdentityError::Keychain(e.to_string()))?;
    match entry.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(IdentityError::Keychain(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_preference_creates_then_reuses_a_0600_key() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_identity(dir.path(), KeyStorePreference::File).unwrap();
        assert!(first.created);
        assert!(matches!(first.storage, KeyStorage::File { .. }));
        let second = load_or_create_identity(dir.path(), KeyStorePreference::File).unwrap();
        assert!(!second.created);
        assert_eq!(first.id(), second.id());
        assert!(second.storage.to_string().contains("0600"));
    }

    #[test]
    fn a_customer_key_lives_beside_the_node_key_and_differs_from_it() {
        let dir = tempfile::tempdir().unwrap();
        let node = load_or_create_identity(dir.path(), KeyStorePreference::File).unwrap();
        let customer =
            load_or_create_key(dir.path(), KeyStorePreference::File, KeyRole::Customer).unwrap();
        assert_ne!(node.id(), customer.id());
        assert!(dir.path().join(CUSTOMER_KEY_FILE_NAME).exists());
        let again =
            load_or_create_key(dir.path(), KeyStorePreference::File, KeyRole::Customer).unwrap();
        assert_eq!((again.id(), again.created), (customer.id(), false));
    }

    #[test]
    fn corrupt_key_file_is_an_error_not_a_new_identity() {
        let dir = tempfile::tempdir().unwrap();
        load_or_create_identity(dir.path(), KeyStorePreference::File).unwrap();
        std::fs::write(dir.path().join(KEY_FILE_NAME), "garbage").unwrap();
        let err = load_or_create_identity(dir.path(), KeyStorePreference::File)
            .err()
            .unwrap();
        assert!(err.to_string().contains("corrupt"), "{err}");
    }
}
