//! `idleshare bench sessions`: a coordinator holding many node sessions — its memory per
//! session and heartbeat round trips under load, against one session on the same coordinator.
//!
//! The coordinator is a child process so its RSS excludes the clients; the clients are
//! simulated sessions in this process sharing one UDP socket, so N sessions cost no N file
//! descriptors.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use idleshare_base::sync::Mutex;
use idleshare_node::capabilities::local_capabilities;
use idleshare_protocol::CoordinatorAddress;
use quinn::Endpoint;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::coordinator_child::{BENCH_ID_DIFFICULTY, CoordinatorChild};
use super::process::{ScratchDir, rss_kib};
use super::sim_session::{Recorder, Target, proven_identities, register};
use super::stats::{Summary, ms, print_json_line, ratio};
use crate::args::SessionsBenchArgs;

/// Handshakes in flight at once: enough to keep both sides busy without a thundering herd.
const HANDSHAKE_CONCURRENCY: usize = 64;
/// Pause before reading RSS, so start-up and connection set-up have finished.
const SETTLE: Duration = Duration::from_secs(2);
/// The baseline heartbeats faster than the load so its p50 rests on dozens of samples, not
/// two or three (well within the coordinator's frame-rate limit).
const BASELINE_INTERVAL: Duration = Duration::from_millis(100);
/// Coordinator memory per session the design aims for.
const GOAL_KIB_PER_SESSION: u64 = 50;
/// Heartbeat round trip p99 under load the design aims for.
const GOAL_P99: Duration = Duration::from_millis(50);
/// How long sessions get to say goodbye once told to stop.
const STOP_GRACE: Duration = Duration::from_secs(10);

pub async fn run(args: SessionsBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.nodes > 0, "--nodes must be at least 1");
    anyhow::ensure!(args.seconds > 0, "--seconds must be at least 1");
    anyhow::ensure!(
        (50..=600_000).contains(&args.heartbeat_ms),
        "--heartbeat-ms must be between 50 and 600000 (the coordinator's range)"
    );
    let exe = std::env::current_exe().context("cannot find the idleshare executable")?;
    let scratch = ScratchDir::new("sessions")?;
    let max_connections = args.nodes + 100;
    let coordinator =
        CoordinatorChild::start(&exe, scratch.path(), args.heartbeat_ms, max_connections).await?;
    println!(
        "bench sessions: {} simulated nodes, heartbeat every {} ms, coordinator pid {} at {}",
        args.nodes, args.heartbeat_ms, coordinator.pid, coordinator.address
    );
    let measured = measure(&args, &coordinator).await;
    // Stopped whatever happened above, so no coordinator outlives the bench.
    let stopped = coordinator.stop().await;
    let figures = measured?;
    let clean_exit = matches!(&stopped, Ok(status) if status.success());
    match &stopped {
        Ok(status) => println!("coordinator stopped: {status}"),
        Err(e) => println!("coordinator did not stop cleanly: {e:#}"),
    }
    report(&args, &figures, clean_exit);
    Ok(())
}

/// Everything measured, before any derived figure.
struct Figures {
    rss_idle_kib: Option<u64>,
    rss_loaded_kib: Option<u64>,
    rss_end_kib: Option<u64>,
    baseline_interval: Duration,
    baseline: Vec<Duration>,
    loaded: Vec<Duration>,
    registered: usize,
    setup: Duration,
    errors: u64,
    first_errors: Vec<String>,
}

async fn measure(
    args: &SessionsBenchArgs,
    coordinator: &CoordinatorChild,
) -> anyhow::Result<Figures> {
    let endpoint = Endpoint::client(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .context("cannot open the client UDP socket")?;
    // The baseline's session and the load's, each with a fresh id and its proof.
    let count = args.nodes + 1;
    let grinding = Instant::now();
    let identities =
        tokio::task::spawn_blocking(move || proven_identities(count, BENCH_ID_DIFFICULTY))
            .await??;
    println!(
        "    {count} ids with {BENCH_ID_DIFFICULTY}-bit identity proofs precomputed in {:.1} s (not timed)",
        grinding.elapsed().as_secs_f64()
    );
    let target = Target {
        endpoint: endpoint.clone(),
        addr: resolve(&coordinator.address).await?,
        coordinator: coordinator.address.key,
        capabilities: local_capabilities(),
        identities: Arc::new(Mutex::new(identities)),
    };
    let recorder = Arc::new(Recorder::default());

    tokio::time::sleep(SETTLE).await;
    let rss_idle_kib = rss_kib(coordinator.pid);
    println!("(a) coordinator RSS idle: {}", kib(rss_idle_kib));

    let window = Duration::from_secs_f64((args.seconds as f64 / 2.0).max(1.0));
    let (baseline_interval, baseline) = single_session(&target, &recorder, window).await;
    println!(
        "(b) baseline, 1 session heartbeating every {} ms for {:.1} s: {}",
        baseline_interval.as_millis(),
        window.as_secs_f64(),
        summary_line(&baseline)
    );

    let (stop, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let (registered, mut sessions) = open_sessions(&target, args.nodes, &recorder, stop_rx).await;
    let setup = started.elapsed();
    println!(
        "(c) opened {registered}/{} sessions in {:.2} s ({:.0} connections/s, {HANDSHAKE_CONCURRENCY} handshakes at a time)",
        args.nodes,
        setup.as_secs_f64(),
        registered as f64 / setup.as_secs_f64().max(1e-9)
    );
    tokio::time::sleep(SETTLE).await;
    let rss_loaded_kib = rss_kib(coordinator.pid);
    recorder.start_recording();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let loaded = recorder.stop_recording();
    let rss_end_kib = rss_kib(coordinator.pid);
    println!(
        "    coordinator RSS loaded: {} after settling, {} after measuring",
        kib(rss_loaded_kib),
        kib(rss_end_kib)
    );
    println!(
        "    heartbeats from all sessions over {} s: {}",
        args.seconds,
        summary_line(&loaded)
    );

    let _ = stop.send(true);
    let drained = tokio::time::timeout(STOP_GRACE, async {
        while let Some(joined) = sessions.join_next().await {
            if let Err(e) = joined {
                recorder.error(&anyhow::Error::new(e).context("session task"));
            }
        }
    });
    if drained.await.is_err() {
        sessions.abort_all();
        recorder.error(&anyhow::anyhow!(
            "sessions did not close within {STOP_GRACE:?}"
        ));
    }
    endpoint.close(0u32.into(), b"bench done");
    let _ = tokio::time::timeout(Duration::from_secs(2), endpoint.wait_idle()).await;
    Ok(Figures {
        rss_idle_kib,
        rss_loaded_kib,
        rss_end_kib,
        baseline_interval,
        baseline,
        loaded,
        registered,
        setup,
        errors: recorder.errors(),
        first_errors: recorder.first_errors(),
    })
}

async fn resolve(address: &CoordinatorAddress) -> anyhow::Result<SocketAddr> {
    tokio::net::lookup_host(address.host_port())
        .await
        .with_context(|| format!("cannot resolve {}", address.host_port()))?
        .next()
        .with_context(|| format!("{} resolves to no address", address.host_port()))
}

/// One session alone on the coordinator for `window`: the unloaded round trip.
async fn single_session(
    target: &Target,
    recorder: &Recorder,
    window: Duration,
) -> (Duration, Vec<Duration>) {
    let session = match register(target).await {
        Ok(session) => session,
        Err(e) => {
            recorder.error(&e.context("baseline session"));
            return (BASELINE_INTERVAL, Vec::new());
        }
    };
    let interval = session.interval.min(BASELINE_INTERVAL);
    let (stop, stop_rx) = watch::channel(false);
    recorder.start_recording();
    let heartbeats = session.heartbeat(interval, recorder, stop_rx);
    let timer = async {
        tokio::time::sleep(window).await;
        let _ = stop.send(true);
    };
    let (result, ()) = tokio::join!(heartbeats, timer);
    if let Err(e) = result {
        recorder.error(&e.context("baseline session"));
    }
    (interval, recorder.stop_recording())
}

/// Opens `count` sessions, a bounded number of handshakes at a time; returns how many
/// registered and the tasks, which heartbeat until `stop`.
async fn open_sessions(
    target: &Target,
    count: usize,
    recorder: &Arc<Recorder>,
    stop: watch::Receiver<bool>,
) -> (usize, JoinSet<()>) {
    let permits = Arc::new(Semaphore::new(HANDSHAKE_CONCURRENCY));
    let (setup_tx, mut setup_rx) = mpsc::unbounded_channel::<bool>();
    let mut sessions = JoinSet::new();
    for _ in 0..count {
        let (target, recorder, stop) = (target.clone(), recorder.clone(), stop.clone());
        let (permits, setup_tx) = (permits.clone(), setup_tx.clone());
        sessions.spawn(async move {
            let registered = match permits.acquire_owned().await {
                Ok(_permit) => register(&target).await,
                Err(e) => Err(e.into()),
            };
            // Report set-up, then drop the sender: the count below ends when all have.
            let _ = setup_tx.send(registered.is_ok());
            drop(setup_tx);
            let result = match registered {
                Ok(session) => {
                    let interval = session.interval;
                    session.heartbeat(interval, &recorder, stop).await
                }
                Err(e) => Err(e.context("registering")),
            };
            if let Err(e) = result {
                recorder.error(&e);
            }
        });
    }
    drop(setup_tx);
    let mut registered = 0;
    while let Some(ok) = setup_rx.recv().await {
        registered += usize::from(ok);
    }
    (registered, sessions)
}

fn summary_line(samples: &[Duration]) -> String {
    Summary::of(samples).map_or_else(|| "no samples".into(), |s| s.line())
}

fn kib(value: Option<u64>) -> String {
    value.map_or_else(|| "n/a (no /proc)".into(), |v| format!("{v} KiB"))
}

fn report(args: &SessionsBenchArgs, f: &Figures, clean_exit: bool) {
    let baseline = Summary::of(&f.baseline);
    let loaded = Summary::of(&f.loaded);
    let per_session = match (f.rss_idle_kib, f.rss_loaded_kib, f.registered) {
        (Some(idle), Some(loaded), n) if n > 0 => {
            let per = (loaded as f64 - idle as f64) / n as f64;
            Some((per * 10.0).round() / 10.0)
        }
        _ => None,
    };
    let ratio_p50 = match (&loaded, &baseline) {
        (Some(loaded), Some(baseline)) => ratio(loaded.p50, baseline.p50),
        _ => None,
    };
    let setup_seconds = (f.setup.as_secs_f64() * 1000.0).round() / 1000.0;
    let per_second = (f.registered as f64 / f.setup.as_secs_f64().max(1e-9)).round();
    match per_session {
        Some(kib) => println!("(d) coordinator RSS per session: {kib:.1} KiB"),
        None => println!("(d) coordinator RSS per session: n/a"),
    }
    match ratio_p50 {
        Some(r) => println!(
            "ratio heartbeat p50, {} sessions / 1 session: {r:.2}x",
            f.registered
        ),
        None => println!("ratio heartbeat p50: n/a (missing samples)"),
    }
    println!(
        "goals: ≤ {GOAL_KIB_PER_SESSION} KiB per session, heartbeat p99 ≤ {} ms",
        GOAL_P99.as_millis()
    );
    println!("errors: {}", f.errors);
    for error in &f.first_errors {
        println!("  error: {error}");
    }
    print_json_line(&serde_json::json!({
        "bench": "sessions",
        "nodes": args.nodes,
        "registered": f.registered,
        "heartbeat_ms": args.heartbeat_ms,
        "seconds": args.seconds,
        "rss_idle_kib": f.rss_idle_kib,
        "rss_loaded_kib": f.rss_loaded_kib,
        "rss_end_kib": f.rss_end_kib,
        "rss_per_session_kib": per_session,
        "heartbeat_samples": f.loaded.len(),
        "heartbeat_p50_ms": loaded.map(|s| ms(s.p50)),
        "heartbeat_p99_ms": loaded.map(|s| ms(s.p99)),
        "baseline_interval_ms": f.baseline_interval.as_millis() as u64,
        "baseline_samples": f.baseline.len(),
        "baseline_single_p50_ms": baseline.map(|s| ms(s.p50)),
        "baseline_single_p99_ms": baseline.map(|s| ms(s.p99)),
        "ratio_p50_vs_single": ratio_p50,
        "errors": f.errors,
        "setup_seconds": setup_seconds,
        "connections_per_second": per_second,
        "coordinator_clean_exit": clean_exit,
        "id_difficulty": BENCH_ID_DIFFICULTY,
        "goal_rss_per_session_kib": GOAL_KIB_PER_SESSION,
        "goal_heartbeat_p99_ms": GOAL_P99.as_millis() as u64,
    }));
}
