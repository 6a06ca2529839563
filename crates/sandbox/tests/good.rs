//! Well-behaved modules: outputs, determinism, fuel and pausing in place.

mod common;

use std::time::{Duration, Instant};

use common::*;
use idleshare_protocol::JobLimits;
use idleshare_sandbox::{RunOutcome, Step};

fn spin_input(rounds: u32) -> Vec<u8> {
    rounds.to_le_bytes().to_vec()
}

#[test]
fn echo_module_transforms_its_input_and_reports_fuel() {
    let sandbox = sandbox();
    match run(&sandbox, ECHO_PLUS_ONE, b"hello", JobLimits::default()) {
        RunOutcome::Output { bytes, fuel } => {
            assert_eq!(bytes, b"ifmmp");
            assert!(fuel > 0);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn the_same_unit_gives_the_same_output_and_fuel_every_time() {
    let sandbox = sandbox();
    let first = run(&sandbox, SPIN, &spin_input(100_000), JobLimits::default());
    let second = run(&sandbox, SPIN, &spin_input(100_000), JobLimits::default());
    assert!(matches!(first, RunOutcome::Output { .. }));
    assert_eq!(first, second);
}

#[test]
fn an_empty_input_is_fine() {
    let sandbox = sandbox();
    let outcome = run(&sandbox, ECHO_PLUS_ONE, b"", JobLimits::default());
    assert!(matches!(outcome, RunOutcome::Output { ref bytes, .. } if bytes.is_empty()));
}

#[test]
fn a_paused_unit_resumes_with_identical_output_and_fuel_and_the_ticker_idles() {
    let sandbox = sandbox();
    let module = load(&sandbox, SPIN);
    let input = spin_input(200_000_000);
    let uninterrupted = sandbox
        .start(&module, "run", input.clone(), JobLimits::default())
        .run_to_end();

    let mut unit = sandbox.start(&module, "run", input, JobLimits::default());
    for _ in 0..5 {
        let started = Instant::now();
        assert_eq!(
            unit.step(),
            Step::Running,
            "the unit is long enough to yield"
        );
        assert!(
            started.elapsed() < Duration::from_millis(50),
            "a step is about a tick"
        );
    }
    let ran_before_pause = unit.running_time();
    let process_cpu_before = process_cpu_time();
    std::thread::sleep(Duration::from_millis(200));
    let idle_cpu = process_cpu_time() - process_cpu_before;
    // Other tests may run in parallel threads of this process; the ticker alone would be
    // far below this, a spinning ticker would use the whole 200 ms.
    assert!(
        idle_cpu < Duration::from_millis(100),
        "paused CPU {idle_cpu:?}"
    );
    assert_eq!(
        unit.running_time(),
        ran_before_pause,
        "a pause is not running time"
    );

    let resumed = unit.run_to_end();
    assert_eq!(resumed, uninterrupted);
}

#[test]
fn a_finished_unit_repeats_its_outcome() {
    let sandbox = sandbox();
    let module = load(&sandbox, ECHO_PLUS_ONE);
    let mut unit = sandbox.start(&module, "run", b"x".to_vec(), JobLimits::default());
    let first = loop {
        if let Step::Finished(outcome) = unit.step() {
            break outcome;
        }
    };
    assert_eq!(unit.step(), Step::Finished(first));
}

#[test]
fn units_from_clones_run_on_other_threads() {
    let sandbox = sandbox();
    let module = load(&sandbox, SPIN);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (sandbox, module) = (sandbox.clone(), module.clone());
            std::thread::spawn(move || {
                sandbox
                    .start(&module, "run", spin_input(1_000_000), JobLimits::default())
                    .run_to_end()
            })
        })
        .collect();
    let outcomes: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(outcomes.windows(2).all(|pair| pair[0] == pair[1]));
}

/// CPU time of the whole process (all threads).
fn process_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 11 and 12 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

#[test]
fn a_unit_waits_for_a_free_instance_slot_instead_of_failing() {
    let sandbox = idleshare_sandbox::Sandbox::new(idleshare_sandbox::SandboxConfig {
        max_instances: 1,
        ..Default::default()
    })
    .unwrap();
    let module = load(&sandbox, SPIN);
    let mut first = sandbox.start(&module, "run", spin_input(50_000_000), JobLimits::default());
    let mut second = sandbox.start(&module, "run", spin_input(1_000), JobLimits::default());
    assert_eq!(
        first.step(),
        Step::Running,
        "the first unit holds the only slot"
    );
    for _ in 0..3 {
        assert_eq!(
            second.step(),
            Step::Running,
            "the second waits for the slot"
        );
    }
    let first = first.run_to_end();
    let second = second.run_to_end();
    assert!(matches!(first, RunOutcome::Output { .. }), "{first:?}");
    assert_eq!(
        second,
        run(&sandbox, SPIN, &spin_input(1_000), JobLimits::default())
    );
}
