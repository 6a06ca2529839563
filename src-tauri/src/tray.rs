//! The tray icon and its menu (Tauri glue; the choices are in [`crate::tray_menu`]).
//!
//! Linux trays (AppIndicator) show no tooltips and send no clicks: there the tooltip text is
//! also the menu's first, disabled line, and "Open dashboard" is in the menu.

use chrono::Local;
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager};

use crate::overview::ContributionState;
use crate::state::AppState;
use crate::tray_menu::{self, TrayAction, TrayLook, TrayOutcome};
use crate::window;

/// The live parts of the tray, kept to update them.
pub struct Tray {
    icon: TrayIcon,
    status_line: MenuItem<tauri::Wry>,
    contribute: CheckMenuItem<tauri::Wry>,
}

/// Builds the tray in its starting look (offline, connecting).
pub fn build(app: &AppHandle) -> tauri::Result<Tray> {
    let status_line =
        MenuItem::with_id(app, "status", "Idleshare: starting…", false, None::<&str>)?;
    let item = |action: TrayAction| {
        MenuItem::with_id(app, action.id(), action.label(), true, None::<&str>)
    };
    let contribute = CheckMenuItem::with_id(
        app,
        TrayAction::ToggleContributing.id(),
        TrayAction::ToggleContributing.label(),
        true,
        true,
        None::<&str>,
    )?;
    let menu = Menu::with_items(
        app,
        &[
            &status_line,
            &PredefinedMenuItem::separator(app)?,
            &contribute,
            &item(TrayAction::SnoozeHour)?,
            &item(TrayAction::SnoozeUntilTomorrow)?,
            &PredefinedMenuItem::separator(app)?,
            &item(TrayAction::OpenDashboard)?,
            &item(TrayAction::Quit)?,
        ],
    )?;
    let icon = TrayIconBuilder::with_id("idleshare")
        .icon(Image::from_bytes(tray_menu::icon_png(
            ContributionState::Offline,
        ))?)
        .tooltip("Idleshare: starting…")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| on_menu(app, event.id().as_ref()))
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                window::open_dashboard(tray.app_handle());
            }
        })
        .build(app)?;
    Ok(Tray {
        icon,
        status_line,
        contribute,
    })
}

impl Tray {
    /// Shows `look`, changing only what differs from `shown` (the look on screen, if any):
    /// the reason in the tooltip changes every second or so, and a new icon costs a PNG
    /// decode and, on Linux, a file the tray reloads.
    pub fn show(&self, look: &TrayLook, shown: Option<&TrayLook>) {
        let mut results = Vec::new();
        if shown.map(|s| s.state) != Some(look.state) {
            results.push(
                Image::from_bytes(tray_menu::icon_png(look.state))
                    .and_then(|icon| self.icon.set_icon(Some(icon))),
            );
        }
        if shown.map(|s| &s.tooltip) != Some(&look.tooltip) {
            let first_line = look.tooltip.lines().next().unwrap_or_default();
            results.push(self.icon.set_tooltip(Some(&look.tooltip)));
            results.push(self.status_line.set_text(first_line));
        }
        if shown.map(|s| s.contribute_checked) != Some(look.contribute_checked) {
            results.push(self.contribute.set_checked(look.contribute_checked));
        }
        for result in results {
            if let Err(error) = result {
                tracing::warn!("cannot update the tray: {error}");
            }
        }
    }
}

fn on_menu(app: &AppHandle, id: &str) {
    let Some(action) = TrayAction::from_id(id) else {
        return;
    };
    let state = app.state::<AppState>();
    match tray_menu::handle(action, state.runtime.settings(), &Local::now()) {
        // The node and the overview follow the settings by themselves.
        Ok(TrayOutcome::SettingsChanged(_)) => {}
        Ok(TrayOutcome::OpenDashboard) => window::open_dashboard(app),
        Ok(TrayOutcome::Quit) => app.exit(0),
        Err(error) => tracing::error!("{}: {error}", action.label()),
    }
}
