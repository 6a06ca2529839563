//! The commands the UI calls (typed by tauri-specta into `ui/src/bindings.ts`). Each is a
//! thin shell over the node library and this crate's pure modules; blocking work (SQLite,
//! files, the keychain) runs off the async threads.

use std::sync::Arc;

use chrono::Local;
use idleshare_base::clock::unix_ms;
use idleshare_node::wallet::Wallet;
use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt;

use crate::autostart;
use crate::contribution;
use crate::earnings::{self, EarningsPoint, ExportFormat, ReceiptPage, WalletCheck};
use crate::error::AppError;
use crate::node_info::{self, NodeInfo};
use crate::overview::Overview;
use crate::preferences::{self, Preferences};
use crate::settings_view::{self, SettingProblem, SettingsView};
use crate::state::AppState;

/// Runs `work` on the wallet on a blocking thread.
async fn with_wallet<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Wallet) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let wallet: Arc<Wallet> = state.runtime.wallet()?;
    tauri::async_runtime::spawn_blocking(move || work(&wallet))
        .await
        .map_err(AppError::io)?
}

/// Everything the dashboard shows.
#[tauri::command]
#[specta::specta]
pub async fn overview(state: State<'_, AppState>) -> Result<Overview, AppError> {
    Ok(state.overview())
}

/// Switches contributing on (ending a snooze) or off.
#[tauri::command]
#[specta::specta]
pub async fn set_contributing(
    state: State<'_, AppState>,
    enabled: bool,
) -> Result<Overview, AppError> {
    contribution::set_contributing(state.runtime.settings(), enabled)?;
    Ok(state.overview())
}

/// Snoozes for `hours` (0 ends a snooze).
#[tauri::command]
#[specta::specta]
pub async fn snooze(state: State<'_, AppState>, hours: u32) -> Result<Overview, AppError> {
    contribution::snooze_hours(state.runtime.settings(), hours, unix_ms())?;
    Ok(state.overview())
}

/// Snoozes until tomorrow morning.
#[tauri::command]
#[specta::specta]
pub async fn snooze_until_tomorrow(state: State<'_, AppState>) -> Result<Overview, AppError> {
    let until = contribution::tomorrow_morning_ms(&Local::now());
    contribution::snooze_until(state.runtime.settings(), until)?;
    Ok(state.overview())
}

/// Cumulative earnings over the last `days` days.
#[tauri::command]
#[specta::specta]
pub async fn earnings_series(
    state: State<'_, AppState>,
    days: u32,
) -> Result<Vec<EarningsPoint>, AppError> {
    let now = unix_ms();
    with_wallet(&state, move |wallet| earnings::series(wallet, days, now)).await
}

/// A page of receipts, newest first.
#[tauri::command]
#[specta::specta]
pub async fn receipts(
    state: State<'_, AppState>,
    offset: u32,
    limit: u32,
) -> Result<ReceiptPage, AppError> {
    with_wallet(&state, move |wallet| earnings::page(wallet, offset, limit)).await
}

/// Re-verifies every receipt offline.
#[tauri::command]
#[specta::specta]
pub async fn verify_wallet(state: State<'_, AppState>) -> Result<WalletCheck, AppError> {
    with_wallet(&state, |wallet| Ok(earnings::verify(wallet))).await
}

/// Exports every receipt to the Downloads folder (the data folder where there is none);
/// returns the file's path.
#[tauri::command]
#[specta::specta]
pub async fn export_receipts(
    state: State<'_, AppState>,
    format: ExportFormat,
) -> Result<String, AppError> {
    let dir = directories::UserDirs::new()
        .and_then(|dirs| dirs.download_dir().map(|d| d.to_path_buf()))
        .filter(|dir| dir.is_dir())
        .unwrap_or_else(|| state.runtime.paths().data_dir.clone());
    let stamp = Local::now().format("%Y%m%d-%H%M%S").to_string();
    let path = with_wallet(&state, move |wallet| {
        earnings::export_to(wallet, format, &dir, &stamp)
    })
    .await?;
    Ok(path.display().to_string())
}

/// The node's settings.
#[tauri::command]
#[specta::specta]
pub async fn settings(state: State<'_, AppState>) -> Result<SettingsView, AppError> {
    Ok(SettingsView::from(&state.runtime.settings().current()))
}

/// Every problem in the settings form as it stands, each at its field (schedules and ranges
/// alike); empty when `save_settings` would accept it. Saves nothing.
#[tauri::command]
#[specta::specta]
pub async fn validate_settings(settings: SettingsView) -> Vec<SettingProblem> {
    settings.problems()
}

/// Checks and saves the node's settings (they apply at once); the error names the key. The
/// stored switch and snooze stay, whatever was sent (see `saved_over`).
#[tauri::command]
#[specta::specta]
pub async fn save_settings(
    state: State<'_, AppState>,
    settings: SettingsView,
) -> Result<SettingsView, AppError> {
    let next = settings.to_settings()?;
    let store = state.runtime.settings().clone();
    let saved = tauri::async_runtime::spawn_blocking(move || {
        store.update(|s| *s = settings_view::saved_over(next, s))
    })
    .await
    .map_err(AppError::io)??;
    Ok(SettingsView::from(&saved))
}

/// The Node page.
#[tauri::command]
#[specta::specta]
pub async fn node_info(state: State<'_, AppState>) -> Result<NodeInfo, AppError> {
    let status = state
        .runtime
        .status()
        .borrow()
        .clone()
        .ok_or(AppError::NodeNotRunning)?;
    let node_dir = state.runtime.paths().node_dir();
    let hardware =
        tauri::async_runtime::spawn_blocking(move || node_info::stored_hardware(&node_dir))
            .await
            .map_err(AppError::io)?;
    let reputation = state.runtime.reputation().await;
    Ok(node_info::node_info(&status, hardware, reputation))
}

fn current_preferences(app: &AppHandle, state: &AppState) -> Preferences {
    let stored = state.preferences();
    Preferences {
        autostart: autostart::is_enabled(app.autolaunch().inner()),
        coordinator: stored.coordinator,
        notifications: stored.notifications,
    }
}

/// The app's preferences.
#[tauri::command]
#[specta::specta]
pub async fn preferences(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<Preferences, AppError> {
    Ok(current_preferences(&app, &state))
}

/// Saves the app's preferences: start-at-login is switched in the OS, and a changed
/// coordinator restarts the node in its new network.
#[tauri::command]
#[specta::specta]
pub async fn set_preferences(
    app: AppHandle,
    state: State<'_, AppState>,
    p: Preferences,
) -> Result<Preferences, AppError> {
    let stored = preferences::to_stored(&p)?;
    autostart::set(app.autolaunch().inner(), p.autostart)?;
    let network_changed = stored.coordinator != state.preferences().coordinator;
    let coordinator = stored.coordinator_address()?;
    state.save_preferences(stored)?;
    if network_changed {
        state.runtime.start(coordinator).await?;
    }
    Ok(current_preferences(&app, &state))
}
