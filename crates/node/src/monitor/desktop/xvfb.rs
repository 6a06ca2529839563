//! A private virtual X server (Xvfb) for tests and benchmarks, stopped when dropped.
//!
//! `-displayfd` lets Xvfb pick a free display number itself and report it once it accepts
//! connections, so there is no race over display numbers and no socket polling.
//! `-noreset` keeps it from resetting (and forgetting idle state) whenever its last client
//! disconnects.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long Xvfb gets to start accepting connections.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long Xvfb gets after SIGTERM to remove its socket and lock file before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Why Xvfb could not be started.
#[derive(Debug, thiserror::Error)]
pub enum XvfbError {
    /// The `Xvfb` program could not be run (see [`XvfbError::is_not_installed`]).
    #[error("cannot run Xvfb: {0}")]
    Spawn(std::io::Error),
    /// It ran but did not report a display.
    #[error("Xvfb did not start: {0}")]
    NotReady(String),
}

impl XvfbError {
    /// Whether the `Xvfb` binary is missing (package `xvfb`), as opposed to failing.
    pub fn is_not_installed(&self) -> bool {
        matches!(self, XvfbError::Spawn(error) if error.kind() == std::io::ErrorKind::NotFound)
    }
}

/// A running Xvfb on its own display; dropping it stops the server.
pub struct XvfbServer {
    child: Child,
    display: String,
    /// Kept open: Xvfb may write to its `-displayfd` again, and a closed pipe would kill it.
    _display_pipe: Option<ChildStdout>,
}

impl XvfbServer {
    /// Starts `Xvfb -noreset -screen 0 1280x800x24` on a free display and waits until it
    /// accepts connections.
    pub fn start() -> Result<Self, XvfbError> {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-noreset", "-nolisten", "tcp"])
            .args(["-screen", "0", "1280x800x24"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(XvfbError::Spawn)?;
        let pipe = child.stdout.take();
        // From here on, any early return drops the guard, which stops the server.
        let mut server = XvfbServer {
            child,
            display: String::new(),
            _display_pipe: None,
        };
        let pipe = pipe.ok_or_else(|| XvfbError::NotReady("no stdout pipe".into()))?;
        let (number, pipe) = read_display_number(pipe)?;
        server.display = format!(":{number}");
        server._display_pipe = Some(pipe);
        Ok(server)
    }

    /// The display name, such as `:1`, for `DISPLAY` or an X connection.
    pub fn display(&self) -> &str {
        &self.display
    }
}

/// Reads the display number Xvfb writes once ready; a reader thread makes it time out.
fn read_display_number(pipe: ChildStdout) -> Result<(u32, ChildStdout), XvfbError> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = String::new();
        let read = reader.read_line(&mut line);
        let _ = sender.send((read, line, reader.into_inner()));
    });
    let (read, line, pipe) = receiver
        .recv_timeout(START_TIMEOUT)
        .map_err(|_| XvfbError::NotReady(format!("no display within {START_TIMEOUT:?}")))?;
    read.map_err(|error| XvfbError::NotReady(error.to_string()))?;
    let number = line
        .trim()
        .parse()
        .map_err(|_| XvfbError::NotReady(format!("exited or wrote {line:?}, not a display")))?;
    Ok((number, pipe))
}

impl Drop for XvfbServer {
    fn drop(&mut self) {
        // SIGTERM first: Xvfb then removes its socket and /tmp/.X*-lock file.
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) with our own child's pid (not yet reaped, so not reused).
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
