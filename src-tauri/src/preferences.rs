//! The app's own preferences (the node's settings are `settings.toml`, the node library's):
//! the coordinator to use (none = the embedded local network) and which notifications to
//! show, kept in `preferences.toml`. Start-at-login is not stored here: the OS entry is the
//! truth, read back each time.

use std::path::Path;

use idleshare_protocol::CoordinatorAddress;
use serde::{Deserialize, Serialize};
use specta::Type;

use crate::error::AppError;

/// Which notifications to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Notifications {
    /// Contributing paused because of the battery or heat.
    pub paused_for_battery_or_heat: bool,
    /// The coordinator has been unreachable for more than five minutes.
    pub coordinator_unreachable: bool,
    /// The first tokens ever earned.
    pub first_tokens: bool,
    /// An evening summary of the day's earnings.
    pub daily_summary: bool,
}

impl Default for Notifications {
    fn default() -> Self {
        Self {
            paused_for_battery_or_heat: true,
            coordinator_unreachable: true,
            first_tokens: true,
            daily_summary: true,
        }
    }
}

/// The app's preferences as the UI edits them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    /// Start at login, minimised to the tray.
    pub autostart: bool,
    /// `KEY@HOST:PORT` of a real coordinator; `None` = the embedded local network.
    pub coordinator: Option<String>,
    /// Which notifications to show.
    pub notifications: Notifications,
}

/// What `preferences.toml` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoredPreferences {
    /// The coordinator address, absent for the local network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coordinator: Option<String>,
    /// Notification switches.
    pub notifications: Notifications,
}

impl StoredPreferences {
    /// The coordinator to use, parsed (`None` = the local network).
    pub fn coordinator_address(&self) -> Result<Option<CoordinatorAddress>, AppError> {
        parse_coordinator(self.coordinator.as_deref())
    }
}

/// Parses a coordinator address; empty or absent means the local network.
pub fn parse_coordinator(text: Option<&str>) -> Result<Option<CoordinatorAddress>, AppError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|error| {
            AppError::invalid(
                "coordinator",
                format!("{error} (expected KEY@HOST:PORT, as `idleshare coordinator` prints)"),
            )
        }),
    }
}

/// The stored half of `preferences`, checked: a bad coordinator address is refused with
/// the key `coordinator`, and an empty one means the local network.
pub fn to_stored(preferences: &Preferences) -> Result<StoredPreferences, AppError> {
    let coordinator = parse_coordinator(preferences.coordinator.as_deref())?;
    Ok(StoredPreferences {
        coordinator: coordinator.map(|address| address.to_string()),
        notifications: preferences.notifications,
    })
}

/// Loads `path`; a missing file means defaults.
pub fn load(path: &Path) -> Result<StoredPreferences, AppError> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .map_err(|error| AppError::io(format!("{}: {error}", path.display()))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(error) => Err(AppError::io(format!("{}: {error}", path.display()))),
    }
}

/// Writes `path` atomically (a temporary file renamed over it).
pub fn save(path: &Path, preferences: &StoredPreferences) -> Result<(), AppError> {
    let fail = |error: &dyn std::fmt::Display| AppError::io(format!("{}: {error}", path.display()));
    let text = toml::to_string(preferences).map_err(|e| fail(&e))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    }
    let temporary = path.with_extension("toml.tmp");
    std::fs::write(&temporary, format!("# Idleshare app preferences.\n{text}"))
        .map_err(|e| fail(&e))?;
    std::fs::rename(&temporary, path).map_err(|e| fail(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_means_the_local_network_and_every_notification() {
        let dir = tempfile::tempdir().unwrap();
        let stored = load(&dir.path().join("preferences.toml")).unwrap();
        assert_eq!(stored, StoredPreferences::default());
        assert_eq!(stored.coordinator_address().unwrap(), None);
        assert!(stored.notifications.daily_summary);
    }

    #[test]
    fn preferences_survive_a_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config/preferences.toml");
        let stored = StoredPreferences {
            coordinator: None,
            notifications: Notifications {
                daily_summary: false,
                ..Notifications::default()
            },
        };
        save(&path, &stored).unwrap();
        assert_eq!(load(&path).unwrap(), stored);
    }

    #[test]
    fn a_bad_coordinator_address_is_refused_under_its_key() {
        let preferences = Preferences {
            autostart: false,
            coordinator: Some("not an address".into()),
            notifications: Notifications::default(),
        };
        match to_stored(&preferences) {
            Err(AppError::InvalidSetting { key, .. }) => assert_eq!(key, "coordinator"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_empty_coordinator_means_the_local_network() {
        let preferences = Preferences {
            autostart: false,
            coordinator: Some("  ".into()),
            notifications: Notifications::default(),
        };
        assert_eq!(to_stored(&preferences).unwrap().coordinator, None);
    }

    #[test]
    fn a_real_coordinator_address_is_kept_in_its_canonical_form() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key();
        let id = idleshare_protocol::NodeId::from_bytes(key.to_bytes()).unwrap();
        let address = format!("{id}@127.0.0.1:7350");
        let preferences = Preferences {
            autostart: true,
            coordinator: Some(format!(" {address} ")),
            notifications: Notifications::default(),
        };
        let stored = to_stored(&preferences).unwrap();
        assert_eq!(stored.coordinator.as_deref(), Some(address.as_str()));
        assert!(stored.coordinator_address().unwrap().is_some());
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("preferences.toml");
        std::fs::write(&path, "coordinator = 5").unwrap();
        match load(&path) {
            Err(AppError::Io { message }) => assert!(message.contains("preferences.toml")),
            other => panic!("{other:?}"),
        }
    }
}
