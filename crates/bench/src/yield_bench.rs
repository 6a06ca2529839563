//! `idleshare bench yield`: the owner moves the mouse → contributed work is off the CPU.
//!
//! Runs on `$DISPLAY` when it works, else on a private Xvfb started here (stopped at the end,
//! also on error). Each trial waits until X reports 300 ms without input, runs `BurnCpu` on
//! the executor's workers with the real [`InputWatcher`] polling X every 10 ms, lets it burn
//! 200–210 ms (random, so the input lands at any phase of the watcher's polling), then moves
//! the mouse with `xdotool` (real XTEST input, alternating positions).
//!
//! Clocks, all `Instant`s on this machine:
//! - t0, input: a side probe reads the X server's idle counter every ~0.5 ms; on the first
//!   read after the reset, t0 = that read's time − the reported `ms_since_user_input`. So t0
//!   is when the server processed the input, to about 1 ms (the counter's resolution), and
//!   xdotool's own start-up (an exec, ≈ ms) is not charged to us.
//! - CPU off: the workers' CPU clocks are sampled at the same pace; the yield ends at the
//!   last sample that saw them grow (so it may be late by one sample, ≈ 0.5 ms).
//! - The watcher's pause time splits the yield into detection (t0 → pause) and pausing.
//!
//! A baseline in the same run times `pause_now()` → CPU off with no input path at all.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use idleshare_node::executor::{
    BurnCpu, ExecutorConfig, InputWatcher, InputWatcherConfig, WorkExecutor, YieldEvent,
};
use idleshare_node::monitor::InputIdleSource;
use idleshare_node::monitor::desktop::x11::X11InputIdle;
use idleshare_node::monitor::desktop::xvfb::XvfbServer;
use idleshare_protocol::Budget;

use super::stats::{Summary, ms, print_json_line};
use crate::args::YieldBenchArgs;

/// Stands in for the policy's minutes of required idle, so trials take seconds.
const BENCH_REQUIRED_IDLE: Duration = Duration::from_millis(250);
/// Each trial starts once X reports this long without input.
const RESET_IDLE: Duration = Duration::from_millis(300);
const BURN_BEFORE_INPUT: Duration = Duration::from_millis(200);
/// Up to one watcher poll interval added to each burn at random: the watcher starts polling
/// when work starts, so a fixed burn would land every input at the same poll phase, and a
/// person's input lands at any phase.
const BURN_JITTER: Duration = Duration::from_millis(10);
const SAMPLE_INTERVAL: Duration = Duration::from_micros(500);
/// CPU clocks flat for this long after the event: the workers have stopped.
const FLAT_FOR: Duration = Duration::from_millis(100);
const TRIAL_TIMEOUT: Duration = Duration::from_secs(5);
const GOAL_P99: Duration = Duration::from_millis(50);

pub async fn run(args: YieldBenchArgs) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || run_blocking(args))
        .await
        .context("the benchmark thread failed")?
}

/// The X display the trials use; a private Xvfb is stopped when this is dropped.
struct BenchDisplay {
    name: String,
    own_server: Option<XvfbServer>,
}

fn bench_display() -> anyhow::Result<BenchDisplay> {
    if let Ok(name) = std::env::var("DISPLAY")
        && !name.is_empty()
        && X11InputIdle::connect(Some(&name)).is_ok()
    {
        println!("using DISPLAY={name}: this benchmark moves its mouse pointer");
        return Ok(BenchDisplay {
            name,
            own_server: None,
        });
    }
    let server = XvfbServer::start().context("no usable DISPLAY and cannot start Xvfb")?;
    Ok(BenchDisplay {
        name: server.display().to_owned(),
        own_server: Some(server),
    })
}

fn run_blocking(args: YieldBenchArgs) -> anyhow::Result<()> {
    let display = bench_display()?;
    let workers = usize::try_from(args.workers)?;
    let config = ExecutorConfig {
        // The autogroup is the calling terminal's session, and stays lowered after we exit;
        // it only matters against other sessions' load, which this benchmark does not add.
        lower_session_autogroup: false,
        ..ExecutorConfig::new(workers)
    };
    let executor = WorkExecutor::start(config)?;
    for _ in 0..workers {
        executor.submit(Box::new(BurnCpu::forever()))?;
    }
    let mut probe = X11InputIdle::connect(Some(&display.name))?;
    let watched = X11InputIdle::connect(Some(&display.name))?;
    let source_name = watched.name();
    let (events, yields) = mpsc::channel();
    let watcher_config = InputWatcherConfig::new(BENCH_REQUIRED_IDLE);
    let poll = watcher_config.poll_interval;
    let _watcher = InputWatcher::start(
        Box::new(watched),
        executor.control(),
        watcher_config,
        move |e| {
            let _ = events.send(e);
        },
    )?;
    let server = if display.own_server.is_some() {
        "own Xvfb"
    } else {
        "existing display"
    };
    println!(
        "bench yield: {} trials on {} ({server}), {workers} workers at {:?}, watcher polls {} every {poll:?}",
        args.trials,
        display.name,
        executor.worker_priority(),
        source_name
    );

    // Untimed: the first exec of xdotool pays for reading it from disk.
    move_mouse(&display.name, 0)?;
    let (mut yields_total, mut detections, mut pauses, mut baselines) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for trial in 0..args.trials {
        baselines.push(
            time_direct_pause(&executor, &mut probe)
                .with_context(|| format!("baseline {trial}"))?,
        );
        let timed = time_input_yield(&executor, &mut probe, &yields, &display.name, trial)
            .with_context(|| format!("trial {trial}"))?;
        yields_total.push(timed.total);
        detections.push(timed.detection);
        pauses.push(timed.total.saturating_sub(timed.detection));
    }
    let summaries = (
        Summary::of(&yields_total),
        Summary::of(&detections),
        Summary::of(&pauses),
        Summary::of(&baselines),
    );
    let (Some(total), Some(detect), Some(pause), Some(baseline)) = summaries else {
        anyhow::bail!("no samples");
    };
    println!("input → workers off CPU:         {}", total.line());
    println!("  input → watcher paused:        {}", detect.line());
    println!("  watcher paused → off CPU:      {}", pause.line());
    println!("baseline pause_now → off CPU:    {}", baseline.line());
    let met = if total.p99 <= GOAL_P99 {
        "met"
    } else {
        "NOT met"
    };
    println!("goal: p99 ≤ {} ms ({met})", GOAL_P99.as_millis());
    print_json_line(&serde_json::json!({
        "bench": "yield",
        "trials": args.trials,
        "p50_ms": ms(total.p50),
        "p99_ms": ms(total.p99),
        "min_ms": ms(total.min),
        "max_ms": ms(total.max),
        "detect_p50_ms": ms(detect.p50),
        "detect_p99_ms": ms(detect.p99),
        "pause_after_detect_p50_ms": ms(pause.p50),
        "pause_after_detect_p99_ms": ms(pause.p99),
        "baseline_pause_now_p50_ms": ms(baseline.p50),
        "baseline_pause_now_p99_ms": ms(baseline.p99),
        "baseline_pause_now_max_ms": ms(baseline.max),
        "idle_source": source_name,
        "watcher_poll_ms": ms(poll),
        "workers": workers,
        "worker_priority": format!("{:?}", executor.worker_priority()),
        "display": server,
        "goal_p99_ms": GOAL_P99.as_millis() as u64,
    }));
    Ok(())
}

struct TimedYield {
    total: Duration,
    detection: Duration,
}

/// Input through X, the watcher and the gate: t0 (server saw input) → CPU off.
fn time_input_yield(
    executor: &WorkExecutor,
    probe: &mut X11InputIdle,
    yields: &mpsc::Receiver<YieldEvent>,
    display: &str,
    trial: u64,
) -> anyhow::Result<TimedYield> {
    start_burning(executor, probe)?;
    while yields.try_recv().is_ok() {}
    let idle_before = probe.read().context("X idle time unreadable")?;
    let mut xdotool = spawn_mouse_move(display, trial + 1)?;
    let spawned = Instant::now();
    let (mut input_at, mut cpu) = (None, CpuWatch::new(executor, spawned));
    let result = loop {
        std::thread::sleep(SAMPLE_INTERVAL);
        let now = Instant::now();
        if input_at.is_none()
            && let Some(idle) = probe.read()
            && idle < idle_before
        {
            input_at = Some(now.checked_sub(idle).unwrap_or(now));
        }
        cpu.sample(executor, now);
        if let Some(t0) = input_at
            && now.saturating_duration_since(cpu.last_increase.max(t0)) >= FLAT_FOR
        {
            break Ok((t0, cpu.last_increase));
        }
        if now - spawned > TRIAL_TIMEOUT {
            break Err(anyhow::anyhow!("no input seen or CPU never stopped"));
        }
    };
    let status = xdotool.wait().context("cannot wait for xdotool")?;
    anyhow::ensure!(status.success(), "xdotool exited with {status}");
    let (t0, off_cpu) = result?;
    let event = yields
        .recv_timeout(TRIAL_TIMEOUT)
        .context("the watcher never paused work")?;
    Ok(TimedYield {
        total: off_cpu.saturating_duration_since(t0),
        detection: event.paused_at.saturating_duration_since(t0),
    })
}

/// The pausing path alone: `pause_now()` → CPU off.
fn time_direct_pause(
    executor: &WorkExecutor,
    probe: &mut X11InputIdle,
) -> anyhow::Result<Duration> {
    start_burning(executor, probe)?;
    let paused = Instant::now();
    executor.pause_now();
    let mut cpu = CpuWatch::new(executor, paused);
    loop {
        std::thread::sleep(SAMPLE_INTERVAL);
        let now = Instant::now();
        cpu.sample(executor, now);
        if now.saturating_duration_since(cpu.last_increase) >= FLAT_FOR {
            return Ok(cpu.last_increase.saturating_duration_since(paused));
        }
        anyhow::ensure!(
            now - paused <= TRIAL_TIMEOUT,
            "CPU never stopped after pause_now"
        );
    }
}

/// Waits for X to report [`RESET_IDLE`] without input, then runs the workers for
/// [`BURN_BEFORE_INPUT`] (plus jitter) and checks that they burned.
fn start_burning(executor: &WorkExecutor, probe: &mut X11InputIdle) -> anyhow::Result<()> {
    let deadline = Instant::now() + TRIAL_TIMEOUT;
    while probe.read().context("X idle time unreadable")? < RESET_IDLE {
        anyhow::ensure!(
            Instant::now() < deadline,
            "X never went idle: is someone using it?"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let before = total_cpu(executor);
    let cores = u32::try_from(executor.worker_count())?;
    executor.set_budget(Some(Budget {
        cores,
        cpu_percent: 100,
        ..Budget::default()
    }));
    std::thread::sleep(BURN_BEFORE_INPUT + BURN_JITTER.mul_f64(rand::random::<f64>()));
    anyhow::ensure!(
        !executor.is_paused(),
        "the watcher paused work before any input"
    );
    anyhow::ensure!(
        total_cpu(executor) > before,
        "the workers got no CPU in {BURN_BEFORE_INPUT:?}: other programs keep every core \
         busy, and SCHED_IDLE work yields to them, so there is nothing to measure"
    );
    Ok(())
}

/// The workers' summed CPU clocks, and when they last grew.
struct CpuWatch {
    total: Duration,
    last_increase: Instant,
}

impl CpuWatch {
    fn new(executor: &WorkExecutor, now: Instant) -> Self {
        Self {
            total: total_cpu(executor),
            last_increase: now,
        }
    }

    fn sample(&mut self, executor: &WorkExecutor, now: Instant) {
        let total = total_cpu(executor);
        if total > self.total {
            (self.total, self.last_increase) = (total, now);
        }
    }
}

fn total_cpu(executor: &WorkExecutor) -> Duration {
    executor.worker_cpu_times().into_iter().flatten().sum()
}

/// Moves the pointer to one of two spots (alternating, so every move is real motion).
fn spawn_mouse_move(display: &str, step: u64) -> anyhow::Result<std::process::Child> {
    let (x, y) = if step.is_multiple_of(2) {
        ("100", "100")
    } else {
        ("900", "600")
    };
    Command::new("xdotool")
        .args(["mousemove", x, y])
        .env("DISPLAY", display)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot run xdotool (package xdotool)")
}

fn move_mouse(display: &str, step: u64) -> anyhow::Result<()> {
    let status = spawn_mouse_move(display, step)?.wait()?;
    anyhow::ensure!(status.success(), "xdotool exited with {status}");
    Ok(())
}
