//! Input idle time from systemd-logind's session `IdleHint` / `IdleSinceHint`, over D-Bus.
//!
//! This is the Wayland fallback: desktop environments (GNOME, KDE) tell logind when their
//! session goes idle, after their own idle delay (minutes). So the reading is coarse: while
//! the hint says "not idle" it reads zero, and once idle it reads the time since the hint
//! says idleness began. Good enough to decide, slower to notice the owner's return than
//! X11's per-input counter.
//!
//! The session is the caller's: logind's `session/auto` object, or, on logind versions
//! without it, `GetSessionByPID` for this process.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dbus::Path;
use dbus::blocking::Connection;
use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
use dbus::channel::Channel;

use crate::monitor::snapshot::InputIdleSource;

const LOGIND: &str = "org.freedesktop.login1";
const MANAGER_PATH: &str = "/org/freedesktop/login1";
const MANAGER_INTERFACE: &str = "org.freedesktop.login1.Manager";
const SESSION_INTERFACE: &str = "org.freedesktop.login1.Session";
const AUTO_SESSION_PATH: &str = "/org/freedesktop/login1/session/auto";
/// Bounds every call: a stuck logind must not stall the input watcher for long.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);

/// Why the logind source could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum LogindError {
    /// No bus to talk to.
    #[error("cannot connect to D-Bus: {0}")]
    Connect(dbus::Error),
    /// logind is not on the bus, or this process is in no session.
    #[error("no logind session for this process: {0}")]
    NoSession(dbus::Error),
}

/// The caller's logind session and its idle hint.
pub struct LogindInputIdle {
    connection: Connection,
    session: Path<'static>,
    /// When this source first saw the hint say "idle", for a logind that leaves
    /// `IdleSinceHint` at zero: the idle time is then at least the time since then.
    idle_first_seen: Option<Instant>,
}

impl LogindInputIdle {
    /// Connects to the system bus, where logind lives, and finds this process's session.
    pub fn connect_system() -> Result<Self, LogindError> {
        let connection = Connection::new_system().map_err(LogindError::Connect)?;
        Self::for_connection(connection)
    }

    /// Connects to the bus at `address` (for tests: a private bus where python3-dbusmock's
    /// logind template serves a fake session) and finds this process's session there.
    pub fn connect_address(address: &str) -> Result<Self, LogindError> {
        let mut channel = Channel::open_private(address).map_err(LogindError::Connect)?;
        channel.register().map_err(LogindError::Connect)?;
        Self::for_connection(Connection::from(channel))
    }

    fn for_connection(connection: Connection) -> Result<Self, LogindError> {
        let session = find_own_session(&connection)?;
        tracing::debug!("logind session {session}");
        Ok(Self {
            connection,
            session,
            idle_first_seen: None,
        })
    }

    /// The session's D-Bus object path.
    pub fn session_path(&self) -> &str {
        &self.session
    }

    /// Whether the session is a desktop one ("x11", "wayland" or "mir"), whose idle hint a
    /// desktop environment maintains; a tty or ssh session's hint never changes.
    pub fn is_graphical_session(&self) -> bool {
        let session_type: Result<String, _> = self.session_proxy().get(SESSION_INTERFACE, "Type");
        matches!(session_type.as_deref(), Ok("x11" | "wayland" | "mir"))
    }

    fn session_proxy(&self) -> dbus::blocking::Proxy<'_, &Connection> {
        self.connection
            .with_proxy(LOGIND, self.session.clone(), CALL_TIMEOUT)
    }
}

fn find_own_session(connection: &Connection) -> Result<Path<'static>, LogindError> {
    let auto = Path::from(AUTO_SESSION_PATH);
    let probe: Result<bool, _> = connection
        .with_proxy(LOGIND, auto.clone(), CALL_TIMEOUT)
        .get(SESSION_INTERFACE, "IdleHint");
    if probe.is_ok() {
        return Ok(auto);
    }
    // logind before "auto" (systemd < 243) resolves the caller's session from its pid.
    let (session,): (Path<'static>,) = connection
        .with_proxy(LOGIND, MANAGER_PATH, CALL_TIMEOUT)
        .method_call(MANAGER_INTERFACE, "GetSessionByPID", (std::process::id(),))
        .map_err(LogindError::NoSession)?;
    Ok(session)
}

impl InputIdleSource for LogindInputIdle {
    fn read(&mut self) -> Option<Duration> {
        let proxy = self.session_proxy();
        let idle: bool = proxy.get(SESSION_INTERFACE, "IdleHint").ok()?;
        if !idle {
            self.idle_first_seen = None;
            return Some(Duration::ZERO);
        }
        // Microseconds since the Unix epoch when the session went idle; 0 = not recorded.
        let since_micros: u64 = proxy.get(SESSION_INTERFACE, "IdleSinceHint").ok()?;
        let first_seen = *self.idle_first_seen.get_or_insert_with(Instant::now);
        if since_micros == 0 {
            return Some(first_seen.elapsed());
        }
        let since = UNIX_EPOCH + Duration::from_micros(since_micros);
        // A hint from the future (clock stepped back) counts as "idle from now".
        Some(SystemTime::now().duration_since(since).unwrap_or_default())
    }

    fn name(&self) -> &'static str {
        "logind"
    }
}
