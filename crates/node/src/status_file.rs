//! The running node's status in `DATA_DIR/status.json`, so `idleshare node status` (another
//! process) can show the live snapshot and decision without a control socket.
//!
//! Written atomically (temporary file + rename): at once when the connection or the decision
//! changes, otherwise at most every [`READINGS_INTERVAL`] for fresh readings, and once more
//! when the node stops. A reader judges liveness by `written_at_ms`. Rewriting the file
//! every second was a large share of a paused node's CPU (`idleshare bench overhead`).

use idleshare_base::clock::unix_ms;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::status::NodeStatus;

/// File name inside the data directory.
pub const STATUS_FILE_NAME: &str = "status.json";
/// Fastest rate of rewrites when only readings changed.
pub const READINGS_INTERVAL: Duration = Duration::from_secs(5);
/// Fastest rate of rewrites for state changes (coalesces bursts).
const STATE_INTERVAL: Duration = Duration::from_millis(200);

/// What the file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusFile {
    /// When it was written (Unix ms).
    pub written_at_ms: u64,
    /// The node process.
    pub pid: u32,
    /// The node's status at that time.
    pub status: NodeStatus,
}

/// Why the status file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatusFileError {
    /// No node has run with this data directory (or it could not be read).
    #[error("no status at {path}: {source} (is a node running with this --data?)")]
    Missing {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid status JSON.
    #[error("status file {path} is unreadable: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

/// The status file of a data directory.
pub fn status_path(data_dir: &Path) -> PathBuf {
    data_dir.join(STATUS_FILE_NAME)
}

/// Reads the status a node last wrote for `data_dir`.
pub fn read_status_file(data_dir: &Path) -> Result<StatusFile, StatusFileError> {
    let path = status_path(data_dir);
    let text = std::fs::read_to_string(&path).map_err(|source| StatusFileError::Missing {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| StatusFileError::Corrupt {
        path,
        detail: e.to_string(),
    })
}

fn write_status_file(path: &Path, status: &NodeStatus, now_ms: u64) -> std::io::Result<()> {
    let file = StatusFile {
        written_at_ms: now_ms,
        pid: std::process::id(),
        status: status.clone(),
    };
    let json = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json)?;
    std::fs::rename(tmp, path)
}

/// Records the node's last state when it stops.
pub fn write_final(data_dir: &Path, status: &NodeStatus) {
    let path = status_path(data_dir);
    if let Err(e) = write_status_file(&path, status, unix_ms()) {
        tracing::warn!("cannot write {}: {e}", path.display());
    }
}

/// Whether a change is one a reader should see at once (not merely newer readings).
fn state_changed(written: &NodeStatus, current: &NodeStatus) -> bool {
    written.connection != current.connection
        || written.activity != current.activity
        || written.last_error != current.last_error
        || written.bandwidth != current.bandwidth
        || written.work.held != current.work.held
}

/// Mirrors `status` into the data directory until aborted or the sender is dropped.
pub async fn mirror_status(data_dir: PathBuf, mut status: watch::Receiver<NodeStatus>) {
    let path = status_path(&data_dir);
    let mut warned = false;
    loop {
        let written = status.borrow_and_update().clone();
        if let Err(e) = write_status_file(&path, &written, unix_ms())
            && !warned
        {
            tracing::warn!("cannot write {}: {e}", path.display());
            warned = true;
        }
        let readings_due = tokio::time::sleep(READINGS_INTERVAL);
        tokio::select! {
            changed = state_change(&mut status, &written) => {
                if changed.is_err() {
                    return;
                }
                // Coalesce a burst of changes into one write.
                tokio::time::sleep(STATE_INTERVAL).await;
            }
            _ = readings_due => {}
        }
    }
}

/// Resolves at the first change a reader should see at once.
async fn state_change(
    status: &mut watch::Receiver<NodeStatus>,
    written: &NodeStatus,
) -> Result<(), watch::error::RecvError> {
    loop {
        status.changed().await?;
        if state_changed(written, &status.borrow()) {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::KeyStorage;
    use idleshare_protocol::NodeId;

    #[test]
    fn written_status_reads_back_and_garbage_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let id = NodeId::from(ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key());
        let status = NodeStatus::starting(id, KeyStorage::Keychain, "addr".into());
        write_status_file(&status_path(dir.path()), &status, 42).unwrap();
        let read = read_status_file(dir.path()).unwrap();
        assert_eq!((read.written_at_ms, read.status), (42, status));
        std::fs::write(status_path(dir.path()), "{").unwrap();
        assert!(matches!(
            read_status_file(dir.path()),
            Err(StatusFileError::Corrupt { .. })
        ));
        let empty = tempfile::tempdir().unwrap();
        let err = read_status_file(empty.path()).unwrap_err();
        assert!(err.to_string().contains("is a node running"), "{err}");
    }
}
