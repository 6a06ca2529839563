//! Waiting for a keychain that holds the key: the marker a key kept in the keychain leaves
//! in the data directory (its public id), the decision when the keychain cannot be reached
//! (wait, use the file, or fail), and the retry loop.

use std::path::Path;

use crate::identity::{
    IdentityError, KeyRole, KeyStorePreference, NodeIdentity, load_or_create_key,
};

/// What to do when the keychain cannot be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unavailable {
    /// Keep the key in a file (no keychain has ever held it).
    UseFile,
    /// Wait: the identity named lives in the keychain.
    Wait(String),
    /// The owner asked for the keychain only.
    Fail,
}

/// The decision, from the owner's preference and the marker left when the key was last
/// in the keychain (`None`: never was). Pure.
pub(crate) fn when_unavailable(
    preference: KeyStorePreference,
    marker: Option<String>,
) -> Unavailable {
    match (preference, marker) {
        (KeyStorePreference::Keychain, _) => Unavailable::Fail,
        (KeyStorePreference::File, _) => Unavailable::UseFile,
        (_, Some(node_id)) => Unavailable::Wait(node_id),
        (_, None) => Unavailable::UseFile,
    }
}

/// Notes, in the data directory, that this key lives in the keychain (its public id only),
/// so a keychain unreachable at a later start is waited for, not replaced by a new key.
pub(crate) fn record_keychain_marker(marker: &Path, identity: &NodeIdentity) {
    let id = identity.id().to_string();
    if read_marker(marker).as_deref() == Some(id.as_str()) {
        return;
    }
    let tmp = marker.with_extension("tmp");
    let written =
        std::fs::write(&tmp, format!("{id}\n")).and_then(|()| std::fs::rename(&tmp, marker));
    if let Err(e) = written {
        tracing::warn!(
            "cannot record that the key lives in the keychain ({}): {e}",
            marker.display()
        );
    }
}

pub(crate) fn read_marker(marker: &Path) -> Option<String> {
    let text = std::fs::read_to_string(marker).ok()?;
    Some(text.trim().to_owned()).filter(|id| !id.is_empty())
}

/// How often a node waiting for its keychain tries again.
pub const KEYCHAIN_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

/// [`load_or_create_key`], waiting while the key's keychain is not ready: `waiting` hears
/// each unsuccessful try (its error says what the node waits for), and `stopped` ends the
/// wait with the last error. Blocks; call it through `spawn_blocking`.
pub fn wait_for_key(
    data_dir: &Path,
    preference: KeyStorePreference,
    role: KeyRole,
    mut waiting: impl FnMut(&IdentityError),
    stopped: impl Fn() -> bool,
) -> Result<NodeIdentity, IdentityError> {
    loop {
        match load_or_create_key(data_dir, preference, role) {
            Err(error @ IdentityError::KeychainNotReady { .. }) => {
                waiting(&error);
                if stopped() {
                    return Err(error);
                }
                std::thread::sleep(KEYCHAIN_RETRY);
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::load_or_create_identity;

    #[test]
    fn an_unreachable_keychain_is_waited_for_only_when_it_held_the_key() {
        use KeyStorePreference::*;
        let id = || Some("ID".to_owned());
        // (preference, marker, decision)
        let cases = [
            (Auto, None, Unavailable::UseFile),
            (Auto, id(), Unavailable::Wait("ID".into())),
            (Keychain, None, Unavailable::Fail),
            (Keychain, id(), Unavailable::Fail),
            (File, id(), Unavailable::UseFile),
        ];
        for (preference, marker, decision) in cases {
            assert_eq!(
                when_unavailable(preference, marker.clone()),
                decision,
                "{preference:?} {marker:?}"
            );
        }
    }

    #[test]
    fn the_marker_is_written_once_and_read_back_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join(KeyRole::Node.marker_file_name());
        assert_eq!(read_marker(&marker), None);
        let identity = load_or_create_identity(dir.path(), KeyStorePreference::File).unwrap();
        record_keychain_marker(&marker, &identity);
        assert_eq!(read_marker(&marker), Some(identity.id().to_string()));
        std::fs::write(&marker, "\n").unwrap();
        assert_eq!(read_marker(&marker), None);
    }
}
