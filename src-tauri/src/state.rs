//! The app's state, handed to commands and handlers through `tauri::State` (no globals),
//! and the current overview assembled from it.

use std::sync::Arc;

use chrono::Local;
use idleshare_base::clock::{local_day_start_ms, unix_ms};
use idleshare_base::sync::Mutex;
use idleshare_node::wallet::Wallet;
use idleshare_protocol::MicroTokens;

use crate::error::AppError;
use crate::node_runtime::NodeRuntime;
use crate::overview::{self, Overview, OverviewInputs};
use crate::preferences::{self, StoredPreferences};

/// Everything the app keeps.
pub struct AppState {
    /// The node.
    pub runtime: Arc<NodeRuntime>,
    /// The app's preferences, as last saved.
    preferences: Mutex<StoredPreferences>,
    /// Today's earnings, cached until the balance or the day changes.
    today: Mutex<TodayTokens>,
}

impl AppState {
    /// State around `runtime` with `preferences` as loaded.
    pub fn new(runtime: Arc<NodeRuntime>, preferences: StoredPreferences) -> Self {
        Self {
            runtime,
            preferences: Mutex::new(preferences),
            today: Mutex::new(TodayTokens::default()),
        }
    }

    /// The preferences in force.
    pub fn preferences(&self) -> StoredPreferences {
        self.preferences.lock().clone()
    }

    /// Saves `stored` to the preferences file, then puts it in force.
    pub fn save_preferences(&self, stored: StoredPreferences) -> Result<(), AppError> {
        preferences::save(&self.runtime.paths().preferences_file(), &stored)?;
        *self.preferences.lock() = stored;
        Ok(())
    }

    /// The overview now.
    pub fn overview(&self) -> Overview {
        let now_ms = unix_ms();
        let status = self.runtime.status().borrow().clone();
        let settings = self.runtime.settings().current();
        let today = match (&status, self.runtime.wallet()) {
            (Some(status), Ok(wallet)) => {
                self.today
                    .lock()
                    .get(&wallet, status.earnings.balance, now_ms)
            }
            _ => MicroTokens(0),
        };
        let mut overview = overview::overview(&OverviewInputs {
            status: status.as_ref(),
            settings: &settings,
            local: self.runtime.is_local(),
            today,
            now_ms,
            tz: &Local,
        });
        if status.is_none()
            && let Some(error) = self.runtime.start_error()
        {
            overview.reason = format!("The node could not start: {error}");
        }
        overview
    }
}

/// Today's earnings ([`Wallet::earned_today`]), asked again only when the balance or the
/// day changed.
#[derive(Debug, Default)]
pub struct TodayTokens {
    key: Option<(MicroTokens, u64)>,
    value: MicroTokens,
}

impl TodayTokens {
    /// Today's earnings for `balance` on the local day of `now_ms`.
    pub fn get(&mut self, wallet: &Wallet, balance: MicroTokens, now_ms: u64) -> MicroTokens {
        let key = Some((balance, local_day_start_ms(now_ms)));
        if self.key != key {
            match wallet.earned_today(now_ms) {
                Ok(value) => {
                    self.value = value;
                    self.key = key;
                }
                Err(error) => tracing::warn!("cannot read today's earnings: {error}"),
            }
        }
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todays_sum_is_asked_again_only_when_balance_or_day_change() {
        let dir = tempfile::tempdir().unwrap();
        let node = crate::overview::tests::node_id();
        let wallet = Wallet::open(dir.path(), node).unwrap();
        let mut today = TodayTokens::default();
        assert_eq!(today.get(&wallet, MicroTokens(0), 0), MicroTokens(0));
        // A cached value stays for the same key even if the wallet were to change.
        today.value = MicroTokens(7);
        assert_eq!(today.get(&wallet, MicroTokens(0), 0), MicroTokens(7));
        assert_eq!(today.get(&wallet, MicroTokens(1), 0), MicroTokens(0));
    }
}
