//! Helpers for tests/desktop_idle.rs: a private Xvfb, xdotool/xprop runs, a fake logind on a
//! private D-Bus, and guards that stop every process started, whatever the outcome.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use idleshare_node::monitor::desktop::xvfb::XvfbServer;

pub const PATIENCE: Duration = Duration::from_secs(30);

/// Whether missing tools fail the tests instead of skipping them (scripts/test.sh, CI).
pub fn required() -> bool {
    std::env::var("IDLESHARE_REQUIRE_XVFB").as_deref() == Ok("1")
}

/// A private Xvfb, or `None` (skip) when Xvfb is not installed and not required.
pub fn xvfb() -> Option<XvfbServer> {
    match XvfbServer::start() {
        Ok(server) => Some(server),
        Err(error) if error.is_not_installed() && !required() => {
            eprintln!(
                "SKIP: Xvfb is not installed (package xvfb); IDLESHARE_REQUIRE_XVFB=1 fails instead"
            );
            None
        }
        Err(error) => panic!("cannot start Xvfb: {error}"),
    }
}

/// A child process stopped with SIGTERM (then SIGKILL) when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if !matches!(self.0.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs an X client on `display`; panics unless it succeeds. Returns its stdout.
pub fn run_ok(program: &str, args: &[&str], display: &str) -> String {
    let output = Command::new(program)
        .args(args)
        .env("DISPLAY", display)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (package xdotool / x11-utils): {e}"));
    assert!(output.status.success(), "{program} {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Real pointer motion through XTEST, as a person's mouse would make.
pub fn move_mouse(display: &str, x: u32, y: u32) {
    run_ok(
        "xdotool",
        &["mousemove", &x.to_string(), &y.to_string()],
        display,
    );
}

/// The id of the first window titled `title`, once it exists.
pub fn wait_for_window(display: &str, title: &str) -> String {
    wait_until("the window to appear", || {
        // Exits 1 while no window matches yet.
        let found = Command::new("xdotool")
            .args(["search", "--name", title])
            .env("DISPLAY", display)
            .output()
            .expect("run xdotool");
        let found = String::from_utf8_lossy(&found.stdout);
        found.lines().next().map(str::to_owned)
    })
}

/// Polls `probe` every 5 ms until it gives a value; panics after [`PATIENCE`].
pub fn wait_until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Drives python3-dbusmock's logind template (with the system python, which has `dbus`).
const MOCK_CONTROL: &str = r#"
import dbus, sys, time
bus = dbus.bus.BusConnection(sys.argv[1])
for _ in range(400):
    if bus.name_has_owner('org.freedesktop.login1'): break
    time.sleep(0.05)
mock = 'org.freedesktop.DBus.Mock'
if sys.argv[2] == 'add-session':
    o = bus.get_object('org.freedesktop.login1', '/org/freedesktop/login1')
    o.AddSession('auto', 'seat0', dbus.UInt32(1000), 'owner', True, dbus_interface=mock)
else:
    idle = sys.argv[2] == 'idle'
    since = int((time.time() - float(sys.argv[3])) * 1e6) if idle else 0
    o = bus.get_object('org.freedesktop.login1', '/org/freedesktop/login1/session/auto')
    o.UpdateProperties('org.freedesktop.login1.Session',
        {'IdleHint': idle, 'IdleSinceHint': dbus.UInt64(since)}, dbus_interface=mock)
"#;

/// A private bus with python3-dbusmock's logind on it and one session, "auto".
pub struct FakeLogind {
    pub address: String,
    // Field order is drop order: the mock goes before its bus.
    _mock: Guard,
    _bus: Guard,
}

impl FakeLogind {
    /// `None` (skip) when python3-dbusmock is not installed and not required.
    pub fn start() -> Option<Self> {
        let has_dbusmock = Command::new("/usr/bin/python3")
            .args(["-c", "import dbusmock"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !has_dbusmock && !required() {
            eprintln!(
                "SKIP: python3-dbusmock is not installed; IDLESHARE_REQUIRE_XVFB=1 fails instead"
            );
            return None;
        }
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            // It complains that it cannot raise its fd limit when unprivileged; harmless.
            .stderr(Stdio::null())
            .spawn()
            .expect("run dbus-daemon");
        let stdout = bus.stdout.take().expect("stdout");
        let bus = Guard(bus);
        let mut address = String::new();
        BufReader::new(stdout)
            .read_line(&mut address)
            .expect("bus address");
        let address = address.trim().to_owned();
        let mock = Command::new("/usr/bin/python3")
            .args(["-m", "dbusmock", "--session", "--template", "logind"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdout(Stdio::null())
            .spawn()
            .expect("run python3-dbusmock");
        let logind = Self {
            address,
            _mock: Guard(mock),
            _bus: bus,
        };
        logind.control(&["add-session"]);
        Some(logind)
    }

    /// Marks the session idle since `seconds` ago.
    pub fn set_idle_for(&self, seconds: u32) {
        self.control(&["idle", &seconds.to_string()]);
    }

    /// Marks the session active.
    pub fn set_active(&self) {
        self.control(&["active"]);
    }

    fn control(&self, args: &[&str]) {
        let status = Command::new("/usr/bin/python3")
            .args(["-c", MOCK_CONTROL, &self.address])
            .args(args)
            .status()
            .expect("run python3");
        assert!(status.success(), "mock control {args:?} failed");
    }
}
