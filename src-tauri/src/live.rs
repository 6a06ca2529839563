//! What flows out of the node while the app runs: on every status or settings change (and
//! every half minute, for the time-based notices) the overview is assembled; the UI gets it
//! as `overview-changed` when it changed, at most twice a second; the tray shows it; the
//! notice watch decides what to notify.

use std::path::Path;
use std::time::Duration;

use chrono::{Local, NaiveDate, Timelike};
use idleshare_node::ConnectionState;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;
use tauri_specta::Event;

use crate::bindings::OverviewChanged;
use crate::notices::{NoticeInput, NoticeWatch};
use crate::overview::Overview;
use crate::state::AppState;
use crate::tray::Tray;
use crate::tray_menu::{TrayLook, tray_look};

/// Fastest rate of `overview-changed` events.
const MIN_INTERVAL: Duration = Duration::from_millis(500);
/// How often time alone is checked (the evening summary, the five-minute outage).
const TICK: Duration = Duration::from_secs(30);

/// What the app keeps between runs (`app-state.json`).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Remembered {
    last_daily_summary: Option<NaiveDate>,
}

fn remembered(path: &Path) -> Remembered {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

fn remember(path: &Path, state: &Remembered) {
    let written = serde_json::to_vec(state)
        .map_err(std::io::Error::other)
        .and_then(|bytes| std::fs::write(path, bytes));
    if let Err(error) = written {
        tracing::warn!("cannot write {}: {error}", path.display());
    }
}

/// Runs until the app exits.
pub async fn run(app: AppHandle) {
    let state = app.state::<AppState>();
    let mut status = state.runtime.status();
    let mut settings = state.runtime.settings().subscribe();
    let memory_path = state.runtime.paths().app_state_file();
    let mut watch = NoticeWatch::new(remembered(&memory_path).last_daily_summary);
    let mut tick = tokio::time::interval(TICK);
    let mut shown: Option<Overview> = None;
    let mut look: Option<TrayLook> = None;
    loop {
        tokio::select! {
            changed = status.changed() => if changed.is_err() { return },
            changed = settings.changed() => if changed.is_err() { return },
            _ = tick.tick() => {}
        }
        let overview = state.overview();
        if shown.as_ref() != Some(&overview) {
            if let Err(error) = OverviewChanged(overview.clone()).emit(&app) {
                tracing::warn!("cannot send the overview: {error}");
            }
            shown = Some(overview.clone());
        }
        let next_look = tray_look(&overview);
        if look.as_ref() != Some(&next_look) {
            if let Some(tray) = app.try_state::<Tray>() {
                tray.show(&next_look, look.as_ref());
            }
            look = Some(next_look);
        }
        notify(&app, &state, &mut watch, &overview, &memory_path);
        tokio::time::sleep(MIN_INTERVAL).await;
    }
}

fn notify(
    app: &AppHandle,
    state: &AppState,
    watch: &mut NoticeWatch,
    overview: &Overview,
    memory_path: &Path,
) {
    let now = Local::now();
    let status = state.runtime.status().borrow().clone();
    let Some(status) = status else { return };
    let before = watch.last_summary();
    let notices = watch.observe(
        &NoticeInput {
            now_ms: now.timestamp_millis().max(0) as u64,
            local_date: now.date_naive(),
            local_minute: now.hour() * 60 + now.minute(),
            connected: status.connection == ConnectionState::Registered,
            decision: status.decision.as_ref(),
            balance: overview.tokens.total,
            today: overview.tokens.today,
        },
        &state.preferences().notifications,
    );
    if watch.last_summary() != before {
        remember(
            memory_path,
            &Remembered {
                last_daily_summary: watch.last_summary(),
            },
        );
    }
    for notice in notices {
        tracing::info!("notify: {}: {}", notice.title, notice.body);
        let shown = app
            .notification()
            .builder()
            .title(&notice.title)
            .body(&notice.body)
            .show();
        if let Err(error) = shown {
            tracing::warn!("cannot show a notification: {error}");
        }
    }
}
