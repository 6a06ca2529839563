//! The app in a real window for the tests: a private Xvfb, tauri-driver (with
//! WebKitWebDriver behind it) on free ports, the app binary launched by it with its own
//! data, config and home directories, and a WebDriver client (fantoccini).
//!
//! Every process started is stopped, whatever the outcome; tauri-driver with SIGTERM,
//! never SIGKILL (SIGKILL orphans WebKitWebDriver, which then holds the port).
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use idleshare_node::monitor::desktop::xvfb::XvfbServer;

/// How long a page element may take to appear.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Window tests run one at a time: each starts a whole app with a local network, and two
/// at once on a small machine would make each other's timing (and CPU policy) flaky.
/// (An async mutex: it is held across awaits, and a failed test does not poison it.)
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Holds the one-at-a-time lock for a test.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

/// Whether missing tools fail the tests instead of skipping them (scripts/test.sh, CI).
pub fn required() -> bool {
    std::env::var("IDLESHARE_REQUIRE_XVFB").as_deref() == Ok("1")
}

fn find_program(name: &str) -> Option<PathBuf> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|home| home.join("bin"));
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(cargo_bin)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The tools, or `None` (skip) when one is missing and not required.
pub fn tools() -> Option<(PathBuf, PathBuf)> {
    let driver = find_program("tauri-driver");
    let native = find_program("WebKitWebDriver");
    match (driver, native) {
        (Some(driver), Some(native)) => Some((driver, native)),
        (driver, native) => {
            let missing = format!(
                "{}{}",
                if driver.is_none() {
                    "tauri-driver (cargo install tauri-driver --locked) "
                } else {
                    ""
                },
                if native.is_none() {
                    "WebKitWebDriver (package webkit2gtk-driver)"
                } else {
                    ""
                },
            );
            assert!(!required(), "window tests need {missing}");
            eprintln!("SKIP: missing {missing}; IDLESHARE_REQUIRE_XVFB=1 fails instead");
            None
        }
    }
}

/// A free TCP port on loopback (closed again; good enough for a test on its own machine).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// One profile of the app: data, config and home directories of its own.
pub struct Profile {
    pub root: tempfile::TempDir,
}

impl Profile {
    /// A fresh profile whose node contributes at once: no idle wait, and no CPU pause
    /// (the window's own rendering would otherwise count as the owner's work).
    pub fn contributing_at_once() -> Profile {
        let profile = Profile {
            root: tempfile::tempdir().expect("temp dir"),
        };
        for dir in [profile.data(), profile.config(), profile.home()] {
            std::fs::create_dir_all(dir).expect("profile dir");
        }
        std::fs::write(
            profile.config().join("settings.toml"),
            "[policy]\ninput_idle_secs = 0\nowner_cpu_pause_percent = 100\n\
             owner_cpu_pause_after_secs = 3600\npause_on_fullscreen = false\n",
        )
        .expect("write settings");
        profile
    }

    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    pub fn config(&self) -> PathBuf {
        self.root.path().join("config")
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    pub fn settings_text(&self) -> String {
        std::fs::read_to_string(self.config().join("settings.toml")).unwrap_or_default()
    }
}

/// A child stopped with SIGTERM when dropped (then waited for, at most a few seconds).
struct Terminated(Child);

impl Drop for Terminated {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.0.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("tauri-driver did not stop within 10 s of SIGTERM; left running");
    }
}

/// Xvfb and tauri-driver, ready for sessions.
pub struct Desktop {
    // Field order is drop order: the driver goes before its display.
    driver: Terminated,
    port: u16,
    xvfb: XvfbServer,
}

impl Desktop {
    /// Starts both, or `None` (skip) when a tool is missing and not required.
    pub fn start(profile: &Profile) -> Option<Desktop> {
        let (driver_path, native) = tools()?;
        let xvfb = match XvfbServer::start() {
            Ok(xvfb) => xvfb,
            Err(error) if error.is_not_installed() && !required() => {
                eprintln!("SKIP: Xvfb is not installed (package xvfb)");
                return None;
            }
            Err(error) => panic!("cannot start Xvfb: {error}"),
        };
        let (port, native_port) = (free_port(), free_port());
        let log = std::fs::File::create(profile.root.path().join("driver.log")).expect("log");
        // The app inherits this environment through WebKitWebDriver.
        let child = Command::new(driver_path)
            .args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .arg("--native-driver")
            .arg(native)
            .env("DISPLAY", xvfb.display())
            .env("HOME", profile.home())
            .env("IDLESHARE_DATA_DIR", profile.data())
            .env("IDLESHARE_CONFIG_DIR", profile.config())
            .env("RUST_LOG", "info")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start tauri-driver");
        let desktop = Desktop {
            driver: Terminated(child),
            port,
            xvfb,
        };
        let deadline = Instant::now() + PATIENCE;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(desktop)
    }

    pub fn display(&self) -> &str {
        self.xvfb.display()
    }

    /// Launches the app in a new WebDriver session.
    pub async fn launch(&self) -> Client {
        let app = env!("CARGO_BIN_EXE_idleshare-app");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "wry".into());
        capabilities.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("start a WebDriver session with the app")
    }
}

/// Waits for the element at `css`.
pub async fn element(client: &Client, css: &str) -> Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css} within {PATIENCE:?}: {e}"))
}

/// Clicks the element at `css`, scrolled to the middle of the window first (a sticky bar
/// would otherwise cover an element scrolled just into view).
pub async fn click(client: &Client, css: &str) {
    let target = element(client, css).await;
    let arg = serde_json::to_value(&target).expect("element as a script argument");
    client
        .execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
        .await
        .expect("scroll into view");
    target
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// The app processes of `profile` (found by their environment), for waiting on an exit.
pub fn app_pids(profile: &Profile) -> Vec<u32> {
    let marker = format!("IDLESHARE_DATA_DIR={}", profile.data().display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            comm.trim() == "idleshare-app"
                && environ
                    .split(|byte| *byte == 0)
                    .any(|var| var == marker.as_bytes())
        })
        .collect()
}

/// The GL driver libraries (Mesa's DRI drivers, its EGL, LLVM) mapped by process `pid`.
pub fn gl_driver_mappings(pid: u32) -> Vec<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let mut found: Vec<String> = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .filter(|path| {
            path.contains("/dri/") || path.contains("libEGL_mesa") || path.contains("libLLVM")
        })
        .map(str::to_owned)
        .collect();
    found.dedup();
    found
}

/// Ends the WebDriver session and waits until the app has exited (WebKitWebDriver closes
/// its window, and the app would stay in the tray): it is asked with SIGTERM after 5 s.
pub async fn end_session(client: Client, profile: &Profile) {
    let _ = client.close().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !app_pids(profile).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for pid in app_pids(profile) {
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    eventually("the app to exit", PATIENCE, || async {
        app_pids(profile).is_empty().then_some(())
    })
    .await;
}

/// Polls `probe` every 250 ms until it gives a value; panics with `what` after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The text of the element at `css` (empty when it is not there).
pub async fn text_of(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Shows `page` (dashboard, earnings, settings, node) through its navigation button.
pub async fn open_page(client: &Client, page: &str) {
    let label = match page {
        "dashboard" => "Dashboard",
        "earnings" => "Earnings",
        "settings" => "Settings",
        "node" => "Node",
        other => panic!("no page {other}"),
    };
    element(
        client,
        &format!("nav button[aria-label=\"{label}\"], button[aria-label=\"{label}\"]"),
    )
    .await
    .click()
    .await
    .expect("click the navigation button");
    element(client, &format!("[data-page=\"{page}\"]")).await;
}

/// Saves a screenshot of the window as `target/screenshots/NAME.png`; returns its path.
pub async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let png = client.screenshot().await.expect("take a screenshot");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write the screenshot");
    path
}

/// The micro-tokens the dashboard shows in `tokens-total` (its `data-micro`).
pub async fn tokens_total(client: &Client) -> Option<u64> {
    micro_of(client, "tokens-total").await
}

/// What the dashboard's earnings chart says was earned in its range, in micro-tokens.
pub async fn chart_earned(client: &Client) -> Option<u64> {
    micro_of(client, "chart-summary").await
}

async fn micro_of(client: &Client, testid: &str) -> Option<u64> {
    let element = client
        .find(Locator::Css(&format!("[data-testid=\"{testid}\"]")))
        .await
        .ok()?;
    element.attr("data-micro").await.ok()??.parse().ok()
}
