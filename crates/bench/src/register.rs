//! `idleshare bench register`: node process start → registered, over loopback.
//!
//! The coordinator runs in this process so its registration broadcast stops the clock with
//! no polling delay. Each trial starts a real `idleshare node` with a key written in advance,
//! so we know which registration is its. Trials alternate with the baseline (spawning
//! `idleshare --version`), so drifting load on a shared machine hits both alike.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use idleshare_coordinator::{Coordinator, CoordinatorConfig};
use idleshare_node::identity::KEY_FILE_NAME;
use idleshare_node::identity_proof;
use idleshare_protocol::NodeId;
use idleshare_protocol::proof;
use idleshare_transport::keyfile::{generate_key, write_key_file};
use tokio::process::Command;
use tokio::sync::broadcast::{self, error::RecvError};

use super::coordinator_child::BENCH_ID_DIFFICULTY;
use super::process::{ScratchDir, terminate};
use super::stats::{Summary, ms, print_json_line, ratio};
use crate::args::RegisterBenchArgs;

/// A node that has not registered by then has failed, not merely been slow.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(10);
/// A node gets this long after SIGTERM to say goodbye and exit.
const STOP_GRACE: Duration = Duration::from_secs(10);
const GOAL_P50: Duration = Duration::from_millis(300);

pub async fn run(args: RegisterBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.trials > 0, "--trials must be at least 1");
    let exe = std::env::current_exe().context("cannot find the idleshare executable")?;
    let scratch = ScratchDir::new("register")?;
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let mut config = CoordinatorConfig::new(listen, scratch.path().join("coordinator"));
    // Each node's proof is written beside its key before it starts (not timed), and every
    // trial registers from this one address.
    config.admission.id_difficulty = BENCH_ID_DIFFICULTY;
    config.admission.per_ip_per_minute = 10_000;
    config.admission.per_network_per_minute = 10_000;
    let coordinator = Coordinator::start(config)
        .await
        .context("cannot start the in-process coordinator")?;
    let mut registrations = coordinator.subscribe_registrations();
    let address = coordinator.address().to_string();
    println!(
        "bench register: {} trials, node process start → registered with {address}",
        args.trials
    );

    // Untimed: the first exec pays for reading the binary from disk.
    time_spawn(&exe).await?;
    let mut spawns = Vec::with_capacity(args.trials);
    let mut registers = Vec::with_capacity(args.trials);
    for trial in 0..args.trials {
        spawns.push(time_spawn(&exe).await?);
        let data = scratch.path().join(format!("node-{trial}"));
        let took = time_registration(&exe, &address, &data, &mut registrations)
            .await
            .with_context(|| format!("trial {trial}"))?;
        registers.push(took);
    }
    coordinator.shutdown().await;

    let (Some(spawn), Some(register)) = (Summary::of(&spawns), Summary::of(&registers)) else {
        anyhow::bail!("no samples");
    };
    let ratio_vs_spawn = ratio(register.p50, spawn.p50);
    println!(
        "baseline `idleshare --version` spawn→exit: {}",
        spawn.line()
    );
    println!(
        "node start → registered:                  {}",
        register.line()
    );
    match ratio_vs_spawn {
        Some(r) => println!("ratio p50 register / p50 spawn: {r:.2}x"),
        None => println!("ratio p50 register / p50 spawn: n/a (baseline p50 is zero)"),
    }
    println!("goal: p50 ≤ {} ms", GOAL_P50.as_millis());
    print_json_line(&serde_json::json!({
        "bench": "register",
        "trials": args.trials,
        "p50_ms": ms(register.p50),
        "p99_ms": ms(register.p99),
        "min_ms": ms(register.min),
        "max_ms": ms(register.max),
        "baseline_spawn_p50_ms": ms(spawn.p50),
        "baseline_spawn_p99_ms": ms(spawn.p99),
        "ratio_vs_spawn": ratio_vs_spawn,
        "goal_p50_ms": GOAL_P50.as_millis() as u64,
    }));
    Ok(())
}

/// Spawn of `idleshare --version` until it exits: the cost of starting the binary at all.
async fn time_spawn(exe: &Path) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let status = Command::new(exe)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status()
        .await
        .context("cannot run idleshare --version")?;
    let took = started.elapsed();
    anyhow::ensure!(status.success(), "idleshare --version exited with {status}");
    Ok(took)
}

/// One node process: spawn → its registration is broadcast; then SIGTERM and reap it.
async fn time_registration(
    exe: &Path,
    address: &str,
    data: &Path,
    registrations: &mut broadcast::Receiver<NodeId>,
) -> anyhow::Result<Duration> {
    // The key is made here so we know the node id before the node starts.
    let key = generate_key()?;
    write_key_file(&data.join(KEY_FILE_NAME), &key)?;
    let id = NodeId::from(key.verifying_key());
    let proof = proof::search(&id, BENCH_ID_DIFFICULTY, 0, u64::MAX)
        .context("no identity proof in the whole nonce space")?;
    identity_proof::store(data, &id, proof)?;
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args([
            "node",
            "--coordinator",
            address,
            "--key-store",
            "file",
            "--data",
        ])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start idleshare node")?;
    let registered = tokio::select! {
        registered = tokio::time::timeout(REGISTER_TIMEOUT, registration_of(registrations, id)) => {
            registered.unwrap_or_else(|_| {
                Err(anyhow::anyhow!("node did not register within {REGISTER_TIMEOUT:?}"))
            })
        }
        // Fail at once, not after the timeout, when the node dies before registering.
        status = child.wait() => Err(anyhow::anyhow!("node exited before registering: {status:?}")),
    };
    let took = started.elapsed();
    let stopped = terminate(&mut child, STOP_GRACE).await;
    registered?;
    let status = stopped.context("stopping the node")?;
    anyhow::ensure!(status.success(), "node exited with {status} after SIGTERM");
    Ok(took)
}

async fn registration_of(
    registrations: &mut broadcast::Receiver<NodeId>,
    id: NodeId,
) -> anyhow::Result<()> {
    loop {
        match registrations.recv().await {
            Ok(registered) if registered == id => return Ok(()),
            // Another node's registration, or missed ones: ours is still to come.
            Ok(_) | Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => anyhow::bail!("the coordinator stopped"),
        }
    }
}
