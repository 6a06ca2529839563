//! X11 sources over long-lived connections: input idle time from the screensaver extension,
//! and the active window's full-screen state from EWMH properties.
//!
//! A connection that fails (the server went away, the owner logged out) makes reads return
//! `None` and is dialled again at most once per [`RECONNECT_INTERVAL`]: the watcher reads
//! every few milliseconds, and a dead server must not cost a connect attempt each time.

use std::time::{Duration, Instant};

use x11rb::connection::{Connection, RequestConnection};
use x11rb::errors::{ConnectError, ConnectionError, ReplyError};
use x11rb::protocol::screensaver::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{Atom, AtomEnum, ConnectionExt as _, Window};
use x11rb::rust_connection::RustConnection;

use crate::monitor::snapshot::{FullscreenSource, InputIdleSource};

/// Shortest time between two attempts to reach a server that failed.
pub const RECONNECT_INTERVAL: Duration = Duration::from_secs(1);

/// Why an X11 source could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum X11Error {
    /// No display named, or its server refused or is not there.
    #[error("cannot connect to the X server: {0}")]
    Connect(#[from] ConnectError),
    /// The connection broke while sending a request.
    #[error("X connection failed: {0}")]
    Connection(#[from] ConnectionError),
    /// The server answered a request with an error, or the connection broke meanwhile.
    #[error("X request failed: {0}")]
    Reply(#[from] ReplyError),
    /// x11rb panicked while connecting (x11rb-protocol 0.13 overflows on display numbers
    /// above 59535 in builds with overflow checks); caught, so a strange `DISPLAY` is only
    /// "no display".
    #[error("connecting to X display {0:?} panicked inside x11rb")]
    ConnectPanicked(Option<String>),
    /// The server lacks the MIT-SCREEN-SAVER extension, so it cannot report idle time.
    #[error("the X server has no MIT-SCREEN-SAVER extension")]
    NoScreensaverExtension,
}

/// A connection opened by `open`, dropped when a read fails and reopened later.
struct Reconnecting<T> {
    display: Option<String>,
    open: fn(Option<&str>) -> Result<T, X11Error>,
    live: Option<T>,
    next_attempt: Instant,
}

impl<T> Reconnecting<T> {
    /// Opens the first connection; failing here means the source is not available at all.
    fn connect(
        display: Option<&str>,
        open: fn(Option<&str>) -> Result<T, X11Error>,
    ) -> Result<Self, X11Error> {
        let live = open(display)?;
        Ok(Self {
            display: display.map(str::to_owned),
            open,
            live: Some(live),
            next_attempt: Instant::now(),
        })
    }

    /// Runs `read` on the connection, reopening it first if it failed and the retry
    /// interval has passed; `None` when there is no working connection.
    fn read<R>(&mut self, read: impl FnOnce(&T) -> Result<R, X11Error>) -> Option<R> {
        if self.live.is_none() {
            if Instant::now() < self.next_attempt {
                return None;
            }
            match (self.open)(self.display.as_deref()) {
                Ok(live) => self.live = Some(live),
                Err(error) => return self.failed(error),
            }
        }
        match read(self.live.as_ref()?) {
            Ok(value) => Some(value),
            Err(error) => self.failed(error),
        }
    }

    fn failed<R>(&mut self, error: X11Error) -> Option<R> {
        if self.live.take().is_some() {
            tracing::info!("X11 source lost its connection: {error}");
        }
        self.next_attempt = Instant::now() + RECONNECT_INTERVAL;
        None
    }
}

/// An open connection and the root window of its default screen.
struct RootConnection {
    conn: RustConnection,
    root: Window,
}

fn connect_root(display: Option<&str>) -> Result<RootConnection, X11Error> {
    let connected = std::panic::catch_unwind(|| x11rb::connect(display))
        .map_err(|_| X11Error::ConnectPanicked(display.map(str::to_owned)))?;
    let (conn, screen) = connected?;
    let root = conn
        .setup()
        .roots
        .get(screen)
        .or_else(|| conn.setup().roots.first())
        .map(|screen| screen.root)
        .ok_or(X11Error::Connect(ConnectError::InvalidScreen))?;
    Ok(RootConnection { conn, root })
}

/// Input idle time from the X server's screensaver extension (`ms_since_user_input`).
pub struct X11InputIdle {
    connection: Reconnecting<RootConnection>,
}

impl X11InputIdle {
    /// Connects to `display` (`None` = `$DISPLAY`) and checks that idle time can be read.
    /// Fails cleanly, without touching the process, when there is no display.
    pub fn connect(display: Option<&str>) -> Result<Self, X11Error> {
        Ok(Self {
            connection: Reconnecting::connect(display, open_idle_connection)?,
        })
    }
}

fn open_idle_connection(display: Option<&str>) -> Result<RootConnection, X11Error> {
    let root = connect_root(display)?;
    if root
        .conn
        .extension_information(screensaver::X11_EXTENSION_NAME)?
        .is_none()
    {
        return Err(X11Error::NoScreensaverExtension);
    }
    query_idle(&root)?;
    Ok(root)
}

fn query_idle(root: &RootConnection) -> Result<Duration, X11Error> {
    let info = root.conn.screensaver_query_info(root.root)?.reply()?;
    Ok(Duration::from_millis(info.ms_since_user_input.into()))
}

impl InputIdleSource for X11InputIdle {
    fn read(&mut self) -> Option<Duration> {
        self.connection.read(query_idle)
    }

    fn name(&self) -> &'static str {
        "x11"
    }
}

/// Whether the active window is full screen, as EWMH window managers publish it.
pub struct X11Fullscreen {
    connection: Reconnecting<FullscreenConnection>,
}

struct FullscreenConnection {
    root: RootConnection,
    active_window: Atom,
    wm_state: Atom,
    fullscreen: Atom,
}

impl X11Fullscreen {
    /// Connects to `display` (`None` = `$DISPLAY`) and interns the EWMH atoms once.
    pub fn connect(display: Option<&str>) -> Result<Self, X11Error> {
        Ok(Self {
            connection: Reconnecting::connect(display, open_fullscreen_connection)?,
        })
    }
}

fn open_fullscreen_connection(display: Option<&str>) -> Result<FullscreenConnection, X11Error> {
    let root = connect_root(display)?;
    // Three requests in flight before the first reply: one round trip, not three.
    let active_window = root.conn.intern_atom(false, b"_NET_ACTIVE_WINDOW")?;
    let wm_state = root.conn.intern_atom(false, b"_NET_WM_STATE")?;
    let fullscreen = root.conn.intern_atom(false, b"_NET_WM_STATE_FULLSCREEN")?;
    let (active_window, wm_state, fullscreen) = (
        active_window.reply()?.atom,
        wm_state.reply()?.atom,
        fullscreen.reply()?.atom,
    );
    Ok(FullscreenConnection {
        root,
        active_window,
        wm_state,
        fullscreen,
    })
}

/// `None` when no EWMH window manager publishes an active window (nothing to go by).
fn active_window_is_fullscreen(link: &FullscreenConnection) -> Result<Option<bool>, X11Error> {
    let conn = &link.root.conn;
    let active = conn
        .get_property(
            false,
            link.root.root,
            link.active_window,
            AtomEnum::ANY,
            0,
            1,
        )?
        .reply()?;
    if active.type_ == u32::from(AtomEnum::NONE) {
        return Ok(None);
    }
    let Some(window) = active.value32().and_then(|mut values| values.next()) else {
        return Ok(None);
    };
    if window == x11rb::NONE {
        return Ok(Some(false));
    }
    let state = conn.get_property(false, window, link.wm_state, AtomEnum::ATOM, 0, 64)?;
    match state.reply() {
        Ok(state) => {
            Ok(Some(state.value32().is_some_and(|mut atoms| {
                atoms.any(|atom| atom == link.fullscreen)
            })))
        }
        // The window closed between the two requests: it is not in front any more.
        Err(ReplyError::X11Error(_)) => Ok(Some(false)),
        Err(error) => Err(error.into()),
    }
}

impl FullscreenSource for X11Fullscreen {
    fn read(&mut self) -> Option<bool> {
        self.connection.read(active_window_is_fullscreen).flatten()
    }

    fn name(&self) -> &'static str {
        "x11"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_or_malformed_display_fails_cleanly() {
        // ":59000" has no server; ":59999" overflows x11rb's TCP port arithmetic (a panic
        // we catch); "not a display" does not parse. None of them may panic through.
        for display in [":59000", ":59999", "not a display"] {
            assert!(X11InputIdle::connect(Some(display)).is_err(), "{display}");
            assert!(X11Fullscreen::connect(Some(display)).is_err(), "{display}");
        }
    }
}
