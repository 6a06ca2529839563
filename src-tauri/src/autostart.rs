//! Start at login: the toggle, over whatever the OS offers (tauri-plugin-autostart: an XDG
//! autostart entry on Linux, a Launch Agent on macOS, the Run key on Windows). The OS entry
//! is the truth: the toggle switches it and reads it back, and nothing else stores it.

/// Why start-at-login could not be read or switched.
#[derive(Debug, thiserror::Error)]
pub enum LoginLaunchError {
    /// The OS integration failed; its own words.
    #[error(transparent)]
    Os(#[from] tauri_plugin_autostart::Error),
    /// The entry was switched without error but reads back unchanged.
    #[error("asked to turn it {}, but it is still {}", on_off(*wanted), on_off(!*wanted))]
    DidNotChange {
        /// The state asked for.
        wanted: bool,
    },
}

/// An OS facility that starts the app at login.
pub trait LoginLaunch {
    /// Whether the app starts at login now.
    fn is_enabled(&self) -> Result<bool, LoginLaunchError>;
    /// Creates the entry.
    fn enable(&self) -> Result<(), LoginLaunchError>;
    /// Removes the entry.
    fn disable(&self) -> Result<(), LoginLaunchError>;
}

impl LoginLaunch for tauri_plugin_autostart::AutoLaunchManager {
    fn is_enabled(&self) -> Result<bool, LoginLaunchError> {
        Ok(tauri_plugin_autostart::AutoLaunchManager::is_enabled(self)?)
    }

    fn enable(&self) -> Result<(), LoginLaunchError> {
        Ok(tauri_plugin_autostart::AutoLaunchManager::enable(self)?)
    }

    fn disable(&self) -> Result<(), LoginLaunchError> {
        Ok(tauri_plugin_autostart::AutoLaunchManager::disable(self)?)
    }
}

/// Whether the app starts at login; an unreadable state reads as off.
pub fn is_enabled(launch: &dyn LoginLaunch) -> bool {
    launch.is_enabled().unwrap_or_else(|error| {
        tracing::warn!("cannot read the start-at-login state: {error}");
        false
    })
}

/// Switches start-at-login to `wanted` (nothing to do when it already is) and returns the
/// state read back from the OS.
pub fn set(launch: &dyn LoginLaunch, wanted: bool) -> Result<bool, LoginLaunchError> {
    let current = launch.is_enabled()?;
    if current != wanted {
        if wanted {
            launch.enable()?;
        } else {
            launch.disable()?;
        }
    }
    let now = launch.is_enabled()?;
    if now != wanted {
        return Err(LoginLaunchError::DidNotChange { wanted });
    }
    Ok(now)
}

fn on_off(flag: bool) -> &'static str {
    if flag { "on" } else { "off" }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;
    use crate::error::AppError;

    /// `set`, its error as the UI receives it.
    fn set_for_ui(launch: &dyn LoginLaunch, wanted: bool) -> Result<bool, AppError> {
        set(launch, wanted).map_err(AppError::from)
    }

    /// An entry in memory; `stuck` ignores changes, `broken` fails them.
    #[derive(Default)]
    struct FakeEntry {
        enabled: Cell<bool>,
        stuck: bool,
        broken: bool,
        calls: RefCell<Vec<&'static str>>,
    }

    impl LoginLaunch for FakeEntry {
        fn is_enabled(&self) -> Result<bool, LoginLaunchError> {
            Ok(self.enabled.get())
        }
        fn enable(&self) -> Result<(), LoginLaunchError> {
            self.calls.borrow_mut().push("enable");
            if self.broken {
                let denied = std::io::Error::other("permission denied");
                return Err(tauri_plugin_autostart::Error::Io(denied).into());
            }
            if !self.stuck {
                self.enabled.set(true);
            }
            Ok(())
        }
        fn disable(&self) -> Result<(), LoginLaunchError> {
            self.calls.borrow_mut().push("disable");
            if !self.stuck {
                self.enabled.set(false);
            }
            Ok(())
        }
    }

    #[test]
    fn toggling_creates_and_removes_the_entry() {
        let entry = FakeEntry::default();
        assert_eq!(set_for_ui(&entry, true), Ok(true));
        assert!(entry.enabled.get());
        assert_eq!(set_for_ui(&entry, false), Ok(false));
        assert!(!entry.enabled.get());
        assert_eq!(*entry.calls.borrow(), vec!["enable", "disable"]);
    }

    #[test]
    fn asking_for_the_current_state_changes_nothing() {
        let entry = FakeEntry::default();
        assert_eq!(set_for_ui(&entry, false), Ok(false));
        assert!(entry.calls.borrow().is_empty());
    }

    #[test]
    fn a_failure_is_a_typed_error_with_the_os_words() {
        let entry = FakeEntry {
            broken: true,
            ..FakeEntry::default()
        };
        assert_eq!(
            set_for_ui(&entry, true),
            Err(AppError::Autostart {
                message: "permission denied".into()
            })
        );
    }

    #[test]
    fn an_entry_that_does_not_change_is_reported() {
        let entry = FakeEntry {
            stuck: true,
            ..FakeEntry::default()
        };
        match set_for_ui(&entry, true) {
            Err(AppError::Autostart { message }) => assert!(message.contains("still off")),
            other => panic!("{other:?}"),
        }
    }
}
