//! Child processes and scratch directories for benchmarks, cleaned up whatever happens.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context;
use tokio::process::Child;

/// A fresh directory under the system temp dir, removed on drop, so an aborted run leaves
/// nothing behind.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(label: &str) -> anyhow::Result<Self> {
        let name = format!(
            "idleshare-bench-{label}-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        );
        let path = std::env::temp_dir().join(name);
        // create_dir (not create_dir_all): a name clash must fail, not share a directory.
        std::fs::create_dir(&path)
            .with_context(|| format!("cannot create scratch directory {}", path.display()))?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Asks `child` to stop with SIGTERM, as a service manager would, and waits for it.
///
/// SIGTERM (not SIGKILL) so the child runs its graceful shutdown; `kill(1)` sends it because
/// the binary has no libc/nix dependency. A child still running after `grace` is killed.
pub async fn terminate(child: &mut Child, grace: Duration) -> anyhow::Result<ExitStatus> {
    if let Some(pid) = child.id() {
        let sent = tokio::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
        if !matches!(sent, Ok(status) if status.success()) {
            // No kill(1) here, or the signal failed: stopping it hard beats leaving it behind.
            child
                .kill()
                .await
                .context("cannot kill the child process")?;
        }
    }
    match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status.context("cannot wait for the child process"),
        Err(_) => {
            child
                .kill()
                .await
                .context("cannot kill the child process")?;
            anyhow::bail!("child did not stop within {grace:?} of SIGTERM; killed it")
        }
    }
}

/// Resident set size of process `pid` in KiB, from `/proc` (so Linux only; `None` elsewhere).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    line.trim().strip_suffix("kB")?.trim().parse().ok()
}
