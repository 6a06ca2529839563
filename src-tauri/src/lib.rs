//! The Idleshare desktop app: the node library in-process, a tray icon per state, and a
//! dashboard window that exists only while it is open.
//!
//! A thin shell (see docs/ARCHITECTURE.md): the decisions are pure functions in
//! [`overview`], [`tray_menu`], [`contribution`], [`notices`], [`earnings`], [`launch`];
//! Tauri glue is in [`commands`], [`tray`], [`window`], [`live`]; the node runs in
//! [`node_runtime`] (the embedded local network when no coordinator is set).
#![deny(missing_docs)]

pub mod autostart;
pub mod bindings;
pub mod commands;
pub mod contribution;
pub mod earnings;
pub mod error;
pub mod launch;
pub mod live;
pub mod node_info;
pub mod node_runtime;
pub mod notices;
pub mod overview;
pub mod preferences;
pub mod quiet;
pub mod settings_rules;
pub mod settings_view;
pub mod state;
pub mod tray;
pub mod tray_menu;
pub mod window;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use idleshare_node::settings::{Settings, SettingsStore};
use tauri::{AppHandle, Manager, RunEvent, WindowEvent};

use crate::launch::{LaunchOptions, SecondLaunch};
use crate::node_runtime::NodeRuntime;
use crate::state::AppState;

/// Runs the app until Quit; the exit code says whether it could start.
pub fn run() -> ExitCode {
    quiet::disable_gdk_gl();
    quiet::refuse_egl_in_this_process();
    init_logging();
    let options = match launch::parse(
        std::env::args_os().skip(1),
        |name| std::env::var_os(name),
        launch::default_dirs,
    ) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("idleshare-app: {error}");
            return ExitCode::from(2);
        }
    };
    let context = tauri::generate_context!();
    let instance = launch::instance_id(&context.config().identifier, &options.paths);
    let autostart_args = launch::autostart_args(&options.paths);
    let bindings = bindings::builder();
    let invoke_handler = bindings.invoke_handler();
    let app = tauri::Builder::default()
        // First, so a second launch hands over before anything else starts.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .callback(|app, argv, _cwd| on_second_launch(app, &argv))
                .dbus_id(instance)
                .build(),
        )
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .args(autostart_args)
                .build(),
        )
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(invoke_handler)
        .on_window_event(|window, event| {
            if let WindowEvent::Destroyed = event
                && window.label() == window::DASHBOARD
            {
                release_after_close(window.app_handle().clone());
            }
        })
        .setup(move |app| {
            bindings.mount_events(app);
            setup(app.handle(), options);
            Ok(())
        })
        .build(context);
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("idleshare-app: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    app.run(|app, event| match event {
        // The last window closed: keep running in the tray. Quit asks with a code.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::Exit => stop_node(app),
        _ => {}
    });
    ExitCode::SUCCESS
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Opens the settings and preferences, starts the node, the tray and the live updates,
/// and opens the dashboard unless started minimised.
fn setup(app: &AppHandle, options: LaunchOptions) {
    let paths = options.paths;
    tracing::info!(
        "data in {}, config in {}",
        paths.data_dir.display(),
        paths.config_dir.display()
    );
    let settings_file = paths.settings_file();
    let settings = SettingsStore::open(&settings_file).unwrap_or_else(|error| {
        tracing::error!("{error}; using the defaults until the settings are saved");
        SettingsStore::with_settings(&settings_file, Settings::default())
    });
    let settings = Arc::new(settings);
    tauri::async_runtime::spawn(SettingsStore::follow_file(
        settings.clone(),
        Duration::from_secs(2),
        |outcome| match outcome {
            Ok(true) => tracing::info!("settings: reloaded after an edit"),
            Ok(false) => {}
            Err(error) => tracing::warn!("settings: edit ignored: {error}"),
        },
    ));
    let stored = preferences::load(&paths.preferences_file()).unwrap_or_else(|error| {
        tracing::error!("{error}; using the default preferences");
        Default::default()
    });
    let coordinator = stored.coordinator_address().unwrap_or_else(|error| {
        tracing::error!("{error}; using the local network");
        None
    });
    let runtime = Arc::new(NodeRuntime::new(paths, settings));
    app.manage(AppState::new(runtime.clone(), stored));
    match tray::build(app) {
        Ok(tray) => {
            app.manage(tray);
        }
        Err(error) => tracing::error!("no tray icon: {error}"),
    }
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        // A failed start is shown in the overview; live updates run either way.
        let _ = runtime.start(coordinator).await;
        live::run(handle).await;
    });
    tauri::async_runtime::spawn(exit_on_signal(app.clone()));
    if options.minimized {
        // Started at login into the tray: what start-up touched can go too.
        release_after(app.clone(), quiet::SETTLED_AFTER_START);
    } else {
        window::open_dashboard(app);
    }
}

/// Quits like the tray's Quit (the node says goodbye) on Ctrl-C or SIGTERM (a logout, a
/// service manager, a test ending its session).
async fn exit_on_signal(app: AppHandle) {
    idleshare_node::stop_requested().await;
    tracing::info!("asked to stop");
    app.exit(0);
}

/// A little after the dashboard closed, if it is still closed, gives the webview's memory
/// back ([`quiet`]).
fn release_after_close(app: AppHandle) {
    release_after(app, quiet::TRIM_AFTER);
}

fn release_after(app: AppHandle, delay: Duration) {
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(delay).await;
        if app.get_webview_window(window::DASHBOARD).is_none() {
            let _ = tauri::async_runtime::spawn_blocking(quiet::release_webview_memory).await;
        }
    });
}

fn on_second_launch(app: &AppHandle, argv: &[String]) {
    match launch::second_launch(argv) {
        SecondLaunch::Focus => window::open_dashboard(app),
        SecondLaunch::CloseDashboard => window::close_dashboard(app),
        SecondLaunch::Quit => app.exit(0),
        SecondLaunch::Nothing => {}
    }
}

/// Stops the node so it says goodbye to the coordinator (bounded: the app must exit).
fn stop_node(app: &AppHandle) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let runtime = state.runtime.clone();
    tauri::async_runtime::block_on(async move {
        let _ = tokio::time::timeout(Duration::from_secs(5), runtime.stop()).await;
    });
}
