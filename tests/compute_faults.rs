//! Hostile job modules and a paused unit, with real processes: every bad module fails
//! with a clear error within its budget while the node keeps working, and a unit paused
//! mid-run resumes to the same output.

mod support;

use std::time::{Duration, Instant};

use support::compute::*;
use support::{CoordinatorProcess, wait_online, wait_until};

const ALLOC: &str = r#"(func (export "idleshare_alloc") (param i32) (result i32) i32.const 1024)"#;

fn module_with(body: &str) -> String {
    format!(r#"(module (memory (export "memory") 1) {ALLOC} {body})"#)
}

/// (name, WAT, expected failure kind label)
fn hostile_modules() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "endless_loop",
            module_with(
                r#"(func (export "run") (param i32 i32) (result i64) (loop $l (br $l)) i64.const 0)"#,
            ),
            "fuel_exhausted",
        ),
        (
            "memory_bomb",
            module_with(
                r#"(func (export "run") (param i32 i32) (result i64)
                     (loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
                     unreachable)"#,
            ),
            "memory_limit",
        ),
        (
            "deep_recursion",
            module_with(
                r#"(func $down (param i32) (result i32) (call $down (i32.add (local.get 0) (i32.const 1))))
                   (func (export "run") (param i32 i32) (result i64) (drop (call $down (i32.const 0))) i64.const 0)"#,
            ),
            "stack_overflow",
        ),
        (
            "oversized_output",
            module_with(r#"(func (export "run") (param i32 i32) (result i64) i64.const 65536)"#),
            "output_too_large",
        ),
    ]
}

#[test]
fn hostile_modules_fail_clearly_within_budget_while_the_node_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let node = start_worker(&coordinator, &dir.path().join("node"), &[]);
    wait_online(&coordinator, &node.id, Duration::from_secs(30));
    let inputs = write_spin_inputs(dir.path(), "inputs", 2, 10);

    // Refused before anything is uploaded: the CLI checks the ABI first (the coordinator's
    // own check answers 422 the same way: crates/coordinator/tests/http_jobs.rs).
    let malformed = dir.path().join("malformed.wasm");
    std::fs::write(&malformed, b"\0asm\x01\0\0\0\x01\xff\xff").unwrap();
    let importing = write_module(
        dir.path(),
        "importing",
        &format!(
            r#"(module (import "env" "now" (func $now (result i64))) (memory (export "memory") 1) {ALLOC}
               (func (export "run") (param i32 i32) (result i64) call $now))"#
        ),
    );
    for (module, expected) in [
        (&malformed, "not valid WebAssembly"),
        (&importing, "imports env::now"),
    ] {
        let api = api(&coordinator);
        let output = cli(
            &[
                "submit",
                module.to_str().unwrap(),
                inputs.to_str().unwrap(),
                "--api",
                &api,
            ],
            Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(expected),
            "{stderr}"
        );
    }

    // Run, and fail the same way on every replica, each within its fuel or memory budget.
    let started = Instant::now();
    let jobs: Vec<(u64, &str)> = hostile_modules()
        .into_iter()
        .map(|(name, wat, kind)| {
            let module = write_module(dir.path(), name, &wat);
            let job = submit(
                &coordinator,
                &module,
                &inputs,
                &[
                    "--replication",
                    "1",
                    "--fuel",
                    "200000000",
                    "--memory-mib",
                    "16",
                    "--output-kib",
                    "16",
                ],
            );
            (job, kind)
        })
        .collect();
    for (job, kind) in &jobs {
        let status = wait_finished(&coordinator, *job, Duration::from_secs(60));
        assert_eq!(status["units"]["failed"], 2, "{status}");
        let results = job_results(&coordinator, *job);
        for unit in results["units"].as_array().unwrap() {
            assert_eq!(unit["failure"]["kind"], *kind, "{unit}");
            assert!(
                !unit["failure"]["message"].as_str().unwrap().is_empty(),
                "{unit}"
            );
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "hostile units took {:?}",
        started.elapsed()
    );

    // The node is still alive and does honest work.
    let module = write_module(dir.path(), "spin", SPIN_WAT);
    let good = write_spin_inputs(dir.path(), "good", 3, 1000);
    let job = submit(&coordinator, &module, &good, &["--replication", "1"]);
    let status = wait_finished(&coordinator, job, Duration::from_secs(60));
    assert_eq!(status["units"]["done"], 3, "{status}");
    assert_eq!(coordinator.node(&node.id).unwrap()["state"], "online");
}

#[test]
fn a_unit_paused_mid_run_resumes_to_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let data = dir.path().join("node");
    let node = start_worker(&coordinator, &data, &[]);
    wait_online(&coordinator, &node.id, Duration::from_secs(30));
    let module = write_module(dir.path(), "spin", SPIN_WAT);
    // Several seconds of work (about 17 fuel per iteration).
    let iterations = 1_500_000_000;
    let inputs = write_spin_inputs(dir.path(), "inputs", 1, iterations);
    let job = submit(
        &coordinator,
        &module,
        &inputs,
        &["--replication", "1", "--fuel", "100000000000"],
    );
    wait_until(Duration::from_secs(30), "the unit running", || {
        (node_status(&data)["status"]["work"]["held"] == 1).then_some(())
    });
    std::thread::sleep(Duration::from_millis(300));

    // The owner switches contributing off mid-unit: the unit stays held, paused in memory.
    let settings = data.with_extension("settings.toml");
    std::fs::write(
        &settings,
        format!("{WORKER_SETTINGS}\n[contribution]\nenabled = false\n"),
    )
    .unwrap();
    wait_until(Duration::from_secs(20), "the node paused", || {
        (coordinator.node(&node.id).unwrap()["activity"] == "paused").then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    let status = job_status(&coordinator, job);
    assert_eq!(
        status["units"]["pending"], 1,
        "the unit finished while paused: {status}"
    );
    assert_eq!(node_status(&data)["status"]["work"]["held"], 1);

    std::fs::write(&settings, WORKER_SETTINGS).unwrap();
    let status = wait_finished(&coordinator, job, Duration::from_secs(120));
    assert_eq!(status["units"]["done"], 1, "{status}");
    let results = job_results(&coordinator, job);
    let expected = idleshare_protocol::ContentId::of(&spin_native(iterations, 1)).to_string();
    assert_eq!(results["units"][0]["output"], expected.as_str());
}
