//! Desktop sources: how long since the owner last touched keyboard or mouse, and whether a
//! full-screen application is in front.
//!
//! Each platform has its own source; [`detect_input_idle_source`] and
//! [`detect_fullscreen_source`] pick the best one this session offers and fall back to an
//! "unknown" source, so a machine without a desktop (a server, CI) reads `None` and never
//! fails. Nothing here may panic when the display is missing or goes away: the `user-idle`
//! crate's X11 backend segfaults the process with no `DISPLAY`, which is why it is not used.
//!
//! - X11: the screensaver extension's `ms_since_user_input` (≈ 20 µs per read on an open
//!   connection), EWMH `_NET_ACTIVE_WINDOW` / `_NET_WM_STATE` for full screen.
//! - Wayland: no compositor-neutral idle query exists short of the `ext-idle-notify-v1`
//!   protocol (a Wayland client we do not carry), so logind's `IdleHint`, which desktop
//!   environments set, is read instead.
//! - Windows: `GetLastInputInfo`.
//! - macOS: unknown for now. `HIDIdleTime` lives in the IOKit registry and needs IOKit
//!   bindings this crate does not carry.

pub mod logind;
#[cfg(windows)]
pub mod windows;
pub mod x11;
#[cfg(unix)]
pub mod xvfb;

use crate::monitor::snapshot::{FullscreenSource, InputIdleSource};
use crate::monitor::unknown::UnknownFullscreen;
#[cfg(not(windows))]
use crate::monitor::unknown::UnknownInputIdle;

/// The best input idle source for this session: X11 when `DISPLAY` reaches a server with
/// the screensaver extension, else logind when this is a Wayland or other graphical
/// session, else (and on macOS) one that reads "unknown"; on Windows, `GetLastInputInfo`.
pub fn detect_input_idle_source() -> Box<dyn InputIdleSource> {
    #[cfg(windows)]
    {
        Box::new(windows::WindowsInputIdle)
    }
    #[cfg(not(windows))]
    {
        detect_unix_input_idle_source()
    }
}

#[cfg(not(windows))]
fn detect_unix_input_idle_source() -> Box<dyn InputIdleSource> {
    match x11::X11InputIdle::connect(None) {
        Ok(source) => return Box::new(source),
        Err(error) => tracing::debug!("no X11 input idle source: {error}"),
    }
    let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some_and(|value| !value.is_empty());
    match logind::LogindInputIdle::connect_system() {
        // A text (tty or ssh) session's IdleHint is never set by a desktop, so it would read
        // "active" forever; only a graphical session's hint means anything.
        Ok(source) if wayland || source.is_graphical_session() => return Box::new(source),
        Ok(_) => tracing::debug!("logind session is not graphical; input idle unknown"),
        Err(error) => tracing::debug!("no logind input idle source: {error}"),
    }
    Box::new(UnknownInputIdle)
}

/// The best full-screen source for this session: X11 (EWMH) when `DISPLAY` works, else one
/// that reads "unknown" (Wayland has no portable query; Windows and macOS are not done yet).
pub fn detect_fullscreen_source() -> Box<dyn FullscreenSource> {
    match x11::X11Fullscreen::connect(None) {
        Ok(source) => Box::new(source),
        Err(error) => {
            tracing::debug!("no X11 full-screen source: {error}");
            Box::new(UnknownFullscreen)
        }
    }
}
