//! The dashboard window: created when asked for and destroyed (not hidden) when closed, so
//! that with the window closed the webview and its WebKit processes are gone and the app
//! idles in the tray with the node alone.

use tauri::{AppHandle, Manager, WebviewUrl, WebviewWindowBuilder};

/// The dashboard window's label (the capability in `capabilities/default.json` names it).
pub const DASHBOARD: &str = "main";

/// Shows the dashboard: focuses the window if it exists, otherwise creates it.
pub fn open_dashboard(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(DASHBOARD) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let built = WebviewWindowBuilder::new(app, DASHBOARD, WebviewUrl::App("index.html".into()))
        .title("Idleshare")
        .inner_size(1100.0, 760.0)
        .min_inner_size(760.0, 520.0)
        .build();
    if let Err(error) = built {
        tracing::error!("cannot open the dashboard: {error}");
    }
}

/// Closes the dashboard, releasing its webview; the app stays in the tray.
pub fn close_dashboard(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(DASHBOARD)
        && let Err(error) = window.destroy()
    {
        tracing::warn!("cannot close the dashboard: {error}");
    }
}
