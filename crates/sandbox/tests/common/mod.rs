//! WebAssembly test modules (text format) and helpers shared by the sandbox tests.
#![allow(dead_code)]

use idleshare_protocol::{ContentId, JobLimits};
use idleshare_sandbox::{LoadedModule, RunOutcome, Sandbox, SandboxConfig};

/// A bump allocator after 1 KiB, and `run` writing each input byte plus one after it.
pub const ECHO_PLUS_ONE: &str = r#"(module
  (memory (export "memory") 2)
  (global $next (mut i32) (i32.const 1024))
  (func (export "idleshare_alloc") (param $len i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len)))
    (local.get $p))
  (func (export "run") (param $ptr i32) (param $len i32) (result i64)
    (local $i i32) (local $out i32)
    (local.set $out (global.get $next))
    (block $done (loop $next_byte
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (i32.store8 (i32.add (local.get $out) (local.get $i))
        (i32.add (i32.load8_u (i32.add (local.get $ptr) (local.get $i))) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next_byte)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $out)) (i64.const 32))
            (i64.extend_i32_u (local.get $len)))))"#;

/// `run` reads a little-endian u32 count N from the input, runs N rounds of xorshift64 and
/// outputs the 8-byte state: long-running, deterministic work.
pub const SPIN: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "idleshare_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param $ptr i32) (param $len i32) (result i64)
    (local $n i32) (local $x i64)
    (local.set $n (i32.load (local.get $ptr)))
    (local.set $x (i64.const 0x9E3779B97F4A7C15))
    (block $done (loop $round
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
      (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $round)))
    (i64.store (i32.const 2048) (local.get $x))
    (i64.const 0x0000080000000008)))"#;

/// A module whose `run` body is `body` (params $ptr $len, result i64) and whose other
/// parts are minimal; `extra` goes inside the module (helper functions, globals).
pub fn module_with_run(body: &str, extra: &str) -> String {
    format!(
        r#"(module
  (memory (export "memory") 1)
  (func (export "idleshare_alloc") (param i32) (result i32) (i32.const 1024))
  {extra}
  (func (export "run") (param $ptr i32) (param $len i32) (result i64) {body}))"#
    )
}

/// Compiles WebAssembly text to bytes.
pub fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("test module is valid text")
}

/// A sandbox with the default configuration.
pub fn sandbox() -> Sandbox {
    Sandbox::new(SandboxConfig::default()).expect("sandbox starts")
}

/// Loads a text module under its true content id, entry `run`.
pub fn load(sandbox: &Sandbox, text: &str) -> LoadedModule {
    let bytes = wasm(text);
    sandbox
        .load(ContentId::of(&bytes), &bytes, "run")
        .expect("module loads")
}

/// Runs `text` on `input` to the end.
pub fn run(sandbox: &Sandbox, text: &str, input: &[u8], limits: JobLimits) -> RunOutcome {
    let module = load(sandbox, text);
    sandbox
        .start(&module, "run", input.to_vec(), limits)
        .run_to_end()
}

/// Checks the sandbox still runs a good module correctly.
pub fn assert_still_works(sandbox: &Sandbox) {
    match run(sandbox, ECHO_PLUS_ONE, b"abc", JobLimits::default()) {
        RunOutcome::Output { bytes, .. } => assert_eq!(bytes, b"bcd"),
        other => panic!("good module failed after a hostile one: {other:?}"),
    }
}

/// Small limits for hostile modules.
pub fn small_limits() -> JobLimits {
    JobLimits {
        fuel: 5_000_000,
        memory_bytes: 4 << 20,
        wall_ms: 10_000,
        output_bytes: 1 << 20,
    }
}
