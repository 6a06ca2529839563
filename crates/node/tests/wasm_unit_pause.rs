//! A WebAssembly unit on the real executor: paused mid-unit it makes no progress, and
//! resumed it finishes with exactly the output and fuel of an uninterrupted run.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use idleshare_node::executor::{ExecutorConfig, SliceOutcome, WasmUnit, WorkExecutor, WorkSlice};
use idleshare_protocol::{Budget, ContentId, JobLimits};
use idleshare_sandbox::{RunOutcome, Sandbox, SandboxConfig};

/// Long waits: SCHED_IDLE workers may be starved on a busy machine, which slows the test
/// down but must not fail it.
const PATIENCE: Duration = Duration::from_secs(120);

/// Counts the slices the executor ran, around the real [`WasmUnit`].
struct CountedSlices {
    unit: WasmUnit,
    slices: Arc<AtomicU64>,
}

impl WorkSlice for CountedSlices {
    fn run_slice(&mut self) -> SliceOutcome {
        let outcome = self.unit.run_slice();
        self.slices.fetch_add(1, Ordering::SeqCst);
        outcome
    }
}

fn sha256_chain_module(sandbox: &Sandbox) -> idleshare_sandbox::LoadedModule {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/workloads/wasm/sha256_chain.wasm");
    let bytes = std::fs::read(&path).expect("committed sample module");
    sandbox
        .load(ContentId::of(&bytes), &bytes, "run")
        .expect("sample module loads")
}

fn chain_input(rounds: u64) -> Vec<u8> {
    let mut input = vec![0x5a; 32];
    input.extend_from_slice(&rounds.to_le_bytes());
    input
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_paused_wasm_unit_stands_still_and_resumes_to_the_uninterrupted_result() {
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("sandbox");
    let module = sha256_chain_module(&sandbox);
    let input = chain_input(400_000);
    let limits = JobLimits::default();
    let uninterrupted = sandbox
        .start(&module, "run", input.clone(), limits)
        .run_to_end();
    assert!(matches!(uninterrupted, RunOutcome::Output { .. }));

    let executor = WorkExecutor::start(ExecutorConfig {
        lower_session_autogroup: false,
        ..ExecutorConfig::new(1)
    })
    .expect("executor");
    let (sender, outcomes) = mpsc::channel();
    let slices = Arc::new(AtomicU64::new(0));
    let unit = WasmUnit::new(
        sandbox.start(&module, "run", input, limits),
        Box::new(move |outcome| {
            let _ = sender.send(outcome);
        }),
    );
    executor
        .submit(Box::new(CountedSlices {
            unit,
            slices: slices.clone(),
        }))
        .expect("submit");
    executor.set_budget(Some(Budget {
        cores: 1,
        cpu_percent: 100,
        ..Budget::default()
    }));
    wait_for("a few slices", || slices.load(Ordering::SeqCst) >= 10);

    executor.pause_now();
    // The worker finishes the slice it is in (about one epoch tick), then parks.
    std::thread::sleep(Duration::from_millis(50));
    let slices_when_paused = slices.load(Ordering::SeqCst);
    let cpu_when_paused = executor.worker_cpu_times()[0];
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        slices.load(Ordering::SeqCst),
        slices_when_paused,
        "no slice while paused"
    );
    assert_eq!(
        executor.worker_cpu_times()[0],
        cpu_when_paused,
        "no CPU while paused"
    );
    assert!(
        outcomes.try_recv().is_err(),
        "the unit did not finish while paused"
    );

    executor.set_budget(Some(Budget {
        cores: 1,
        cpu_percent: 100,
        ..Budget::default()
    }));
    let resumed = outcomes.recv_timeout(PATIENCE).expect("the unit finishes");
    assert_eq!(resumed, uninterrupted);
    assert!(slices.load(Ordering::SeqCst) > slices_when_paused);
}

#[test]
fn a_unit_dropped_unfinished_reports_nothing() {
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("sandbox");
    let module = sha256_chain_module(&sandbox);
    let (sender, outcomes) = mpsc::channel::<RunOutcome>();
    {
        let executor = WorkExecutor::start(ExecutorConfig {
            lower_session_autogroup: false,
            ..ExecutorConfig::new(1)
        })
        .expect("executor");
        let unit = WasmUnit::new(
            sandbox.start(&module, "run", chain_input(u64::MAX), JobLimits::default()),
            Box::new(move |outcome| {
                let _ = sender.send(outcome);
            }),
        );
        executor.submit(Box::new(unit)).expect("submit");
        executor.set_budget(Some(Budget {
            cores: 1,
            cpu_percent: 100,
            ..Budget::default()
        }));
        std::thread::sleep(Duration::from_millis(30));
        // Dropping the executor stops the worker after its slice and drops the unit.
    }
    assert!(matches!(
        outcomes.recv_timeout(Duration::from_secs(5)),
        Err(mpsc::RecvTimeoutError::Disconnected)
    ));
}
