//! A coordinator in its own process, so its memory can be read without the clients in it.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context;
use idleshare_protocol::CoordinatorAddress;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::process::terminate;

/// How long the coordinator may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// The coordinator waits up to 3 s for sessions at shutdown; leave room beyond that.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The identity proof difficulty of the benches' coordinators: real proofs (so the
/// coordinator verifies each one), cheap enough to precompute 10,000 of them in seconds.
pub const BENCH_ID_DIFFICULTY: u8 = 12;

pub struct CoordinatorChild {
    child: Child,
    pub pid: u32,
    pub address: CoordinatorAddress,
}

impl CoordinatorChild {
    /// Starts `idleshare coordinator` on loopback and reads its `address:` line.
    pub async fn start(
        exe: &Path,
        data: &Path,
        heartbeat_ms: u64,
        max_connections: usize,
    ) -> anyhow::Result<Self> {
        let mut child = Command::new(exe)
            .args([
                "coordinator",
                "--listen",
                "127.0.0.1:0",
                "--http",
                "127.0.0.1:0",
            ])
            .arg("--data")
            .arg(data)
            .args(["--heartbeat-ms", &heartbeat_ms.to_string()])
            .args(["--max-connections", &max_connections.to_string()])
            // Every simulated node comes from one loopback address.
            .args(["--max-connections-per-ip", &max_connections.to_string()])
            .args(["--max-node-sessions", &max_connections.to_string()])
            // Ids carry proofs of BENCH_ID_DIFFICULTY, computed before the clock starts, and
            // all of them register from one address.
            .args(["--id-difficulty", &BENCH_ID_DIFFICULTY.to_string()])
            .args(["--registrations-per-ip", &max_connections.to_string()])
            .args(["--registrations-per-network", &max_connections.to_string()])
            // Warnings still reach our stderr; per-node info lines would drown the figures.
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start idleshare coordinator")?;
        let pid = child.id().context("coordinator exited at once")?;
        let stdout = child
            .stdout
            .take()
            .context("coordinator stdout not piped")?;
        let mut lines = BufReader::new(stdout).lines();
        let address = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(address) = line.strip_prefix("address: ") {
                    return Ok(address.parse::<CoordinatorAddress>()?);
                }
            }
            anyhow::bail!("coordinator exited before printing its address")
        })
        .await
        .context("coordinator did not print its address in time")??;
        // Keep reading: a coordinator printing into a closed pipe would fail.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            pid,
            address,
        })
    }

    /// SIGTERM, so it says goodbye and saves its registry, then waits for it to exit.
    pub async fn stop(mut self) -> anyhow::Result<ExitStatus> {
        terminate(&mut self.child, STOP_GRACE).await
    }
}
