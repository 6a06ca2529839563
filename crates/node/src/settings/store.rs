//! Settings that change at run time: validate, persist, then publish on a `watch` channel.

use idleshare_base::sync::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::{Settings, SettingsError, file};

/// The live settings of one node, shared by the node and the desktop app.
///
/// Every change goes through [`SettingsStore::update`], which publishes only settings that
/// are valid and already on disk, so subscribers never see a value that a restart would lose.
#[derive(Debug)]
pub struct SettingsStore {
    path: PathBuf,
    current: watch::Sender<Settings>,
    /// Serialises updates: without it two concurrent updates could each start from the same
    /// old value and the second would silently drop the first one's change.
    updating: Mutex<()>,
}

impl SettingsStore {
    /// Loads the settings at `path` (a missing file means defaults; nothing is written until
    /// the first update).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, SettingsError> {
        let path = path.into();
        let settings = file::load(&path)?;
        Ok(Self::with_settings(path, settings))
    }

    /// A store starting from `settings` (not written until the first update).
    pub fn with_settings(path: impl Into<PathBuf>, settings: Settings) -> Self {
        Self {
            path: path.into(),
            current: watch::Sender::new(settings),
            updating: Mutex::new(()),
        }
    }

    /// The settings file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A copy of the current settings.
    pub fn current(&self) -> Settings {
        self.current.borrow().clone()
    }

    /// A receiver that sees every published change (`changed().await`).
    pub fn subscribe(&self) -> watch::Receiver<Settings> {
        self.current.subscribe()
    }

    /// Applies `change` to a copy of the current settings, validates it, writes it to the
    /// file, and only then publishes it. On any error nothing changes, on disk or in memory.
    /// The write is blocking file IO of a few hundred bytes; async callers on a busy runtime
    /// may prefer `spawn_blocking`.
    pub fn update(&self, change: impl FnOnce(&mut Settings)) -> Result<Settings, SettingsError> {
        // A panic in another update's closure poisons the lock but leaves no half-done
        // state behind (the published value is replaced whole), so carry on.
        let _one_at_a_time = self.updating.lock();
        let mut next = self.current();
        change(&mut next);
        file::save(&self.path, &next)?;
        self.current.send_replace(next.clone());
        Ok(next)
    }

    /// Re-reads the file (someone edited it by hand or with another command) and publishes
    /// its settings if they differ. An invalid file changes nothing and says why; the
    /// settings in force stay in force.
    pub fn reload(&self) -> Result<bool, SettingsError> {
        let _one_at_a_time = self.updating.lock();
        let loaded = file::load(&self.path)?;
        Ok(self.current.send_if_modified(|current| {
            let changed = *current != loaded;
            if changed {
                *current = loaded;
            }
            changed
        }))
    }

    /// Snoozes contributing for `hours` from `now_ms` (0 ends the snooze), persisted.
    pub fn snooze(&self, hours: u32, now_ms: u64) -> Result<Settings, SettingsError> {
        self.update(|settings| settings.snooze(hours, now_ms))
    }

    /// Follows edits made to the file by others (an editor, another program): every
    /// `every`, when its modification time changed, [`SettingsStore::reload`]s it and passes
    /// the outcome to `report` (`Ok(true)`: new settings in force; `Err`: the edit was
    /// invalid and ignored, the settings in force stay). Runs until dropped.
    pub async fn follow_file(
        store: Arc<SettingsStore>,
        every: Duration,
        report: impl Fn(Result<bool, SettingsError>),
    ) {
        let modified = |path: &Path| -> Option<SystemTime> {
            std::fs::metadata(path).and_then(|m| m.modified()).ok()
        };
        let mut seen = modified(store.path());
        loop {
            tokio::time::sleep(every).await;
            let now = modified(store.path());
            if now != seen {
                seen = now;
                report(store.reload());
            }
        }
    }
}
