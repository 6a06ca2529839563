//! Hostile modules fail cleanly, with the failure every node reproduces, and the sandbox
//! keeps running good modules after each.

mod common;

use std::time::{Duration, Instant};

use common::*;
use idleshare_protocol::abi::AbiError;
use idleshare_protocol::{ContentId, FailureKind, JobLimits};
use idleshare_sandbox::{LoadError, RunOutcome};

fn failure(outcome: RunOutcome) -> (FailureKind, String, u64) {
    match outcome {
        RunOutcome::Failed {
            kind,
            message,
            fuel,
        } => (kind, message, fuel),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn an_endless_loop_exhausts_its_fuel_quickly() {
    let sandbox = sandbox();
    let endless = module_with_run("(loop $forever (br $forever)) (i64.const 0)", "");
    let started = Instant::now();
    let (kind, _, fuel) = failure(run(&sandbox, &endless, b"", small_limits()));
    assert_eq!(kind, FailureKind::FuelExhausted);
    assert_eq!(fuel, small_limits().fuel, "all the fuel, and not more");
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_still_works(&sandbox);
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    let sandbox = sandbox();
    let bomb = module_with_run(
        "(loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) unreachable",
        "",
    );
    let (kind, message, _) = failure(run(&sandbox, &bomb, b"", small_limits()));
    assert_eq!(kind, FailureKind::MemoryLimit, "{message}");
    assert_still_works(&sandbox);
}

#[test]
fn memory_never_grows_past_the_limit() {
    let sandbox = sandbox();
    // Grows until refused, then outputs the final size in pages as 4 bytes.
    let grow_then_report = module_with_run(
        "(loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
         (i32.store (i32.const 0) (memory.size))
         (i64.const 4)",
        "",
    );
    let limits = small_limits();
    match run(&sandbox, &grow_then_report, b"", limits) {
        RunOutcome::Output { bytes, .. } => {
            let pages = u32::from_le_bytes(bytes.try_into().unwrap());
            assert_eq!(u64::from(pages) * 65536, limits.memory_bytes);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn an_initial_memory_over_the_limit_is_a_memory_limit_failure() {
    let sandbox = sandbox();
    let big = module_with_run("(i64.const 0)", "").replace(
        "(memory (export \"memory\") 1)",
        "(memory (export \"memory\") 128)",
    );
    let (kind, message, _) = failure(run(&sandbox, &big, b"", small_limits()));
    assert_eq!(kind, FailureKind::MemoryLimit, "{message}");
    assert_still_works(&sandbox);
}

#[test]
fn runaway_recursion_overflows_the_stack() {
    let sandbox = sandbox();
    let recursion = module_with_run(
        "(call $deeper (i32.const 0)) (i64.const 0)",
        "(func $deeper (param i32) (call $deeper (i32.add (local.get 0) (i32.const 1))))",
    );
    let limits = JobLimits {
        fuel: 1 << 32,
        ..small_limits()
    };
    let (kind, message, _) = failure(run(&sandbox, &recursion, b"", limits));
    assert_eq!(kind, FailureKind::StackOverflow, "{message}");
    assert_still_works(&sandbox);
}

#[test]
fn an_output_over_the_limit_is_refused() {
    let sandbox = sandbox();
    // Claims 2 MiB at address 0 (beyond memory too: the size check comes first).
    let oversized = module_with_run("(i64.const 0x200000)", "");
    let (kind, message, _) = failure(run(&sandbox, &oversized, b"", small_limits()));
    assert_eq!(kind, FailureKind::OutputTooLarge);
    assert!(message.contains("2097152"), "{message}");
    assert_still_works(&sandbox);
}

#[test]
fn an_output_outside_memory_breaks_the_abi() {
    let sandbox = sandbox();
    let outside = module_with_run("(i64.const 0x0000FFF800000010)", "");
    let (kind, _, _) = failure(run(&sandbox, &outside, b"", small_limits()));
    assert_eq!(kind, FailureKind::AbiViolation);
    assert_still_works(&sandbox);
}

#[test]
fn an_allocation_outside_memory_breaks_the_abi() {
    let sandbox = sandbox();
    let bad_alloc = module_with_run("(i64.const 0)", "").replace(
        "(param i32) (result i32) (i32.const 1024)",
        "(param i32) (result i32) (i32.const 65530)",
    );
    let (kind, message, _) = failure(run(&sandbox, &bad_alloc, b"0123456789", small_limits()));
    assert_eq!(kind, FailureKind::AbiViolation);
    assert!(
        message.contains("idleshare_alloc returned 65530"),
        "{message}"
    );
    assert_still_works(&sandbox);
}

#[test]
fn a_trap_keeps_wasmtimes_message() {
    let sandbox = sandbox();
    let trap = module_with_run("unreachable", "");
    let (kind, message, fuel) = failure(run(&sandbox, &trap, b"", small_limits()));
    assert_eq!(kind, FailureKind::Trap);
    assert!(
        message.starts_with("wasm trap: wasm `unreachable`"),
        "{message}"
    );
    assert!(message.len() <= idleshare_protocol::work::MAX_FAILURE_MESSAGE);
    assert!(fuel > 0);
    assert_still_works(&sandbox);
}

#[test]
fn an_import_is_refused_by_name() {
    let sandbox = sandbox();
    let importing = module_with_run("(i64.const 0)", "").replacen(
        "(memory",
        r#"(import "env" "clock" (func (result i64))) (memory"#,
        1,
    );
    let bytes = wasm(&importing);
    let error = sandbox
        .load(ContentId::of(&bytes), &bytes, "run")
        .err()
        .expect("refused");
    assert!(matches!(
        error,
        LoadError::BadModule(AbiError::Import { .. })
    ));
    assert!(error.to_string().contains("env::clock"), "{error}");
    assert_still_works(&sandbox);
}

#[test]
fn malformed_bytes_are_a_bad_module() {
    let sandbox = sandbox();
    let bytes = b"\0asm\x01\0\0\0\x01\xffgarbage".to_vec();
    let error = sandbox.load(ContentId::of(&bytes), &bytes, "run").err();
    assert!(matches!(
        error,
        Some(LoadError::BadModule(AbiError::Invalid(_)))
    ));
    assert_still_works(&sandbox);
}

#[test]
fn bytes_that_are_not_the_named_content_are_refused() {
    let sandbox = sandbox();
    let bytes = wasm(ECHO_PLUS_ONE);
    let named = ContentId::of(b"something else");
    match sandbox.load(named, &bytes, "run") {
        Err(LoadError::WrongContent { expected, found }) => {
            assert_eq!(expected, named);
            assert_eq!(found, ContentId::of(&bytes));
        }
        other => panic!("unexpected {:?}", other.err()),
    }
}

#[test]
fn a_unit_past_its_wall_deadline_is_stopped() {
    let sandbox = sandbox();
    let endless = module_with_run("(loop $forever (br $forever)) (i64.const 0)", "");
    let limits = JobLimits {
        fuel: 1 << 40,
        wall_ms: 50,
        ..small_limits()
    };
    let started = Instant::now();
    match run(&sandbox, &endless, b"", limits) {
        RunOutcome::DeadlineExceeded { ran_for, fuel } => {
            assert!(ran_for >= Duration::from_millis(50));
            assert!(fuel > 0);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_still_works(&sandbox);
}
