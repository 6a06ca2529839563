//! The one error type every command returns: a tagged enum the UI can switch on
//! (`{ kind: "invalidSetting", key, message }` …), never a bare string.

use idleshare_node::settings::{InvalidSetting, InvalidSettings, SettingsError};
use idleshare_node::wallet::WalletError;
use serde::Serialize;
use specta::Type;

use crate::autostart::LoginLaunchError;

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type, thiserror::Error)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum AppError {
    /// A setting or preference has a value that cannot be used; `key` names it as in the
    /// settings file (`policy.owner_cpu_pause_percent`) or the preferences (`coordinator`).
    #[error("{key}: {message}")]
    InvalidSetting {
        /// The key.
        key: String,
        /// What is wrong, for people.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{message}")]
    Io {
        /// What happened, for people.
        message: String,
    },
    /// The wallet could not be read or does not verify.
    #[error("wallet: {message}")]
    Wallet {
        /// What happened, for people.
        message: String,
    },
    /// The node is not running (starting, restarting, or it failed to start).
    #[error("the node is not running")]
    NodeNotRunning,
    /// Start-at-login could not be switched.
    #[error("start at login: {message}")]
    Autostart {
        /// What the OS integration said.
        message: String,
    },
}

impl AppError {
    /// An `Io` error from anything printable.
    pub fn io(error: impl std::fmt::Display) -> Self {
        AppError::Io {
            message: error.to_string(),
        }
    }

    /// An `InvalidSetting` error for `key`.
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::InvalidSetting {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl From<InvalidSetting> for AppError {
    fn from(error: InvalidSetting) -> Self {
        AppError::invalid(error.key(), error.to_string())
    }
}

impl From<InvalidSettings> for AppError {
    /// The first problem, at its key (the settings form checks every problem beforehand).
    fn from(error: InvalidSettings) -> Self {
        match error.problems.into_iter().next() {
            Some(first) => first.into(),
            None => AppError::invalid("settings", "invalid settings"),
        }
    }
}

impl From<SettingsError> for AppError {
    fn from(error: SettingsError) -> Self {
        match error {
            SettingsError::Invalid { source, .. } => source.into(),
            SettingsError::Parse {
                key: Some(key),
                message,
                ..
            } => AppError::invalid(key, message),
            other => AppError::io(other),
        }
    }
}

impl From<LoginLaunchError> for AppError {
    fn from(error: LoginLaunchError) -> Self {
        AppError::Autostart {
            message: error.to_string(),
        }
    }
}

impl From<WalletError> for AppError {
    fn from(error: WalletError) -> Self {
        AppError::Wallet {
            message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_serialise_as_tagged_objects_with_camel_case_kinds() {
        let error = AppError::invalid("policy.input_idle_secs", "too big");
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({"kind": "invalidSetting", "key": "policy.input_idle_secs", "message": "too big"})
        );
        assert_eq!(
            serde_json::to_value(AppError::NodeNotRunning).unwrap(),
            serde_json::json!({"kind": "nodeNotRunning"})
        );
    }

    #[test]
    fn an_out_of_range_setting_names_its_key() {
        let error: AppError = InvalidSetting::OutOfRange {
            key: "budget.max_memory_percent",
            value: 0,
            min: 1,
            max: 100,
        }
        .into();
        match error {
            AppError::InvalidSetting { key, message } => {
                assert_eq!(key, "budget.max_memory_percent");
                assert!(message.contains("out of range"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
