//! Executor tests. They assert on CPU time the worker threads consumed, never on wall time,
//! and wait for progress with long timeouts: `SCHED_IDLE` workers may be starved for a
//! while on a busy machine, which must slow these tests down, not fail them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use idleshare_protocol::Budget;

use super::*;
use crate::monitor::snapshot::InputIdleSource;

const PATIENCE: Duration = Duration::from_secs(120);
/// CPU a paused worker may still use: finishing its current 0.5 ms slice, then parking.
const PAUSED_CPU_ALLOWANCE: Duration = Duration::from_millis(2);

fn executor(workers: usize) -> WorkExecutor {
    let config = ExecutorConfig {
        // Tests share the test harness's session; leave its autogroup alone.
        lower_session_autogroup: false,
        ..ExecutorConfig::new(workers)
    };
    WorkExecutor::start(config).expect("start executor")
}

/// Queues `count` jobs that burn CPU until stopped.
fn submit_burners(executor: &WorkExecutor, count: usize) {
    for _ in 0..count {
        executor
            .submit(Box::new(BurnCpu::forever()))
            .expect("submit");
    }
}

fn budget(cores: u32, cpu_percent: u8) -> Option<Budget> {
    Some(Budget {
        cores,
        cpu_percent,
        ..Budget::default()
    })
}

fn cpu_times(executor: &WorkExecutor) -> Vec<Duration> {
    let times = executor.worker_cpu_times();
    times
        .into_iter()
        .map(|t| t.expect("thread CPU time"))
        .collect()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn executor_workers_get_the_lowest_priority() {
    let executor = executor(1);
    assert_eq!(executor.worker_priority(), WorkerPriority::SchedIdle);
}

#[test]
fn executor_paused_workers_consume_no_cpu() {
    let executor = executor(2);
    submit_burners(&executor, 2);
    executor.set_budget(budget(2, 100));
    wait_for("both workers to burn 10 ms", || {
        cpu_times(&executor)
            .iter()
            .all(|t| *t >= Duration::from_millis(10))
    });

    executor.pause_now();
    // Both jobs back in the queue: both workers have left their slices.
    wait_for("both jobs to be given back", || executor.queued_jobs() == 2);
    let before = cpu_times(&executor);
    std::thread::sleep(Duration::from_millis(300));
    let after = cpu_times(&executor);
    for (worker, (before, after)) in before.iter().zip(&after).enumerate() {
        let used = after.saturating_sub(*before);
        assert!(
            used <= PAUSED_CPU_ALLOWANCE,
            "paused worker {worker} used {used:?} of CPU in 300 ms"
        );
    }
}

#[test]
fn executor_resume_continues_the_same_job() {
    let executor = executor(1);
    let job = BurnCpu::forever();
    let progress = job.progress();
    executor.submit(Box::new(job)).expect("submit");
    executor.set_budget(budget(1, 100));
    wait_for("progress", || progress.load(Ordering::Relaxed) > 0);

    executor.set_budget(None);
    wait_for("the job to be given back", || executor.queued_jobs() == 1);
    let paused_at = progress.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        progress.load(Ordering::Relaxed),
        paused_at,
        "progress while paused"
    );

    executor.set_budget(budget(1, 100));
    wait_for("progress after resuming", || {
        progress.load(Ordering::Relaxed) > paused_at
    });
    assert_eq!(
        executor.completed_jobs(),
        0,
        "the job went on, not restarted"
    );
    assert_eq!(executor.queued_jobs(), 0);
}

#[test]
fn executor_one_core_budget_runs_one_worker() {
    let executor = executor(2);
    submit_burners(&executor, 2);
    executor.set_budget(budget(1, 100));
    wait_for("worker 0 to burn 10 ms", || {
        cpu_times(&executor)[0] >= Duration::from_millis(10)
    });
    let idle_worker = cpu_times(&executor)[1];
    assert!(
        idle_worker <= PAUSED_CPU_ALLOWANCE,
        "worker 1 used {idle_worker:?} outside the budget"
    );
    assert_eq!(executor.queued_jobs(), 1, "the second job waits its turn");
}

#[test]
fn executor_partial_cpu_percent_duty_cycles() {
    let executor = executor(1);
    executor
        .submit(Box::new(BurnCpu::forever()))
        .expect("submit");
    let start_cpu = cpu_times(&executor)[0];
    let started = Instant::now();
    executor.set_budget(budget(1, 25));
    std::thread::sleep(Duration::from_millis(1000));
    let used = cpu_times(&executor)[0] - start_cpu;
    let share = used.as_secs_f64() / started.elapsed().as_secs_f64();
    // Only an upper bound: a starved SCHED_IDLE worker may use less, never more.
    assert!(share <= 0.40, "a 25 % budget used {:.0} %", share * 100.0);
}

#[test]
fn executor_finished_jobs_are_counted_and_panics_contained() {
    struct Panics;
    impl WorkSlice for Panics {
        fn run_slice(&mut self) -> SliceOutcome {
            panic!("job failure (expected by this test)");
        }
    }
    let executor = executor(1);
    executor.submit(Box::new(Panics)).expect("submit");
    executor
        .submit(Box::new(BurnCpu::slices(5)))
        .expect("submit");
    executor.set_budget(budget(1, 100));
    wait_for("the finite job to finish", || {
        executor.completed_jobs() == 1
    });
}

#[test]
fn executor_queue_is_bounded_and_zero_workers_refused() {
    let config = ExecutorConfig {
        queue_capacity: 1,
        lower_session_autogroup: false,
        ..ExecutorConfig::new(1)
    };
    let executor = WorkExecutor::start(config).expect("start");
    executor
        .submit(Box::new(BurnCpu::forever()))
        .expect("first job");
    let refused = executor.submit(Box::new(BurnCpu::forever()));
    assert!(matches!(
        refused,
        Err(ExecutorError::QueueFull { capacity: 1 })
    ));
    let none = WorkExecutor::start(ExecutorConfig::new(0));
    assert!(matches!(none, Err(ExecutorError::NoWorkers)));
}

/// An idle source the test sets by hand, counting its reads.
struct ScriptedIdle {
    idle_ms: Arc<AtomicU64>,
    reads: Arc<AtomicUsize>,
}

impl InputIdleSource for ScriptedIdle {
    fn read(&mut self) -> Option<Duration> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        Some(Duration::from_millis(self.idle_ms.load(Ordering::Relaxed)))
    }
    fn name(&self) -> &'static str {
        "scripted"
    }
}

#[test]
fn executor_input_watcher_pauses_on_input_and_rests_while_paused() {
    let executor = executor(1);
    executor
        .submit(Box::new(BurnCpu::forever()))
        .expect("submit");
    let (idle_ms, reads) = (
        Arc::new(AtomicU64::new(10_000)),
        Arc::new(AtomicUsize::new(0)),
    );
    let source = ScriptedIdle {
        idle_ms: idle_ms.clone(),
        reads: reads.clone(),
    };
    let (events, received) = std::sync::mpsc::channel();
    let config = InputWatcherConfig::new(Duration::from_secs(5));
    let _watcher = InputWatcher::start(Box::new(source), executor.control(), config, move |e| {
        let _ = events.send(e);
    })
    .expect("start watcher");
    executor.set_budget(budget(1, 100));
    wait_for("the watcher to read twice", || {
        reads.load(Ordering::Relaxed) >= 2
    });
    assert!(!executor.is_paused(), "idle 10 s ≥ 5 s required: work runs");

    idle_ms.store(0, Ordering::Relaxed);
    let event = received.recv_timeout(PATIENCE).expect("a yield event");
    assert_eq!(event.reason, YieldReason::InputArrived);
    assert_eq!(event.idle_now, Duration::ZERO);
    assert!(executor.is_paused());

    let reads_when_paused = reads.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        reads.load(Ordering::Relaxed),
        reads_when_paused,
        "no polling while paused"
    );
}
