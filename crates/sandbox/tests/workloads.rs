//! The committed sample modules (assets/workloads/wasm) load, and compute exactly what the
//! same kernels compute natively.

use std::path::PathBuf;

use idleshare_protocol::{ContentId, FailureKind, JobLimits};
use idleshare_sandbox::{RunOutcome, Sandbox, SandboxConfig};
use workload_kernels::mandelbrot::Tile;
use workload_kernels::render::Frame;
use workload_kernels::sha256;

fn module_bytes(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/workloads/wasm")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn run_workload(name: &str, input: &[u8], limits: JobLimits) -> RunOutcome {
    let sandbox = Sandbox::new(SandboxConfig::default()).unwrap();
    let bytes = module_bytes(name);
    let module = sandbox.load(ContentId::of(&bytes), &bytes, "run").unwrap();
    sandbox
        .start(&module, "run", input.to_vec(), limits)
        .run_to_end()
}

fn output(outcome: RunOutcome) -> Vec<u8> {
    match outcome {
        RunOutcome::Output { bytes, .. } => bytes,
        other => panic!("expected an output, got {other:?}"),
    }
}

#[test]
fn mandelbrot_tile_matches_the_native_kernel() {
    let tile = Tile {
        width: 64,
        height: 48,
        max_iterations: 500,
        re_min: -2.0,
        im_min: -1.2,
        step: 0.05,
    };
    let wasm = output(run_workload(
        "mandelbrot",
        &tile.encode(),
        JobLimits::default(),
    ));
    let mut native = vec![0; tile.output_len()];
    tile.render(&mut native);
    assert_eq!(wasm, native);
    assert!(native.chunks(2).any(|count| count == 500u16.to_le_bytes()));
}

#[test]
fn sha256_chain_matches_the_native_kernel_and_the_standard() {
    let input = sha256::encode_chain_input([0; 32], 1);
    let wasm = output(run_workload("sha256_chain", &input, JobLimits::default()));
    // SHA-256 of 32 zero bytes.
    let known = "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925";
    let hex: String = wasm.iter().map(|byte| format!("{byte:02x}")).collect();
    assert_eq!(hex, known);
    let input = sha256::encode_chain_input([9; 32], 1000);
    let wasm = output(run_workload("sha256_chain", &input, JobLimits::default()));
    assert_eq!(wasm, sha256::chain([9; 32], 1000));
}

#[test]
fn render_gives_a_large_pgm_image() {
    let frame = Frame {
        width: 2048,
        height: 1536,
        frame: 7,
    };
    let limits = JobLimits {
        output_bytes: 4 << 20,
        ..JobLimits::default()
    };
    let wasm = output(run_workload("render", &frame.encode(), limits));
    assert!(wasm.starts_with(b"P5\n2048 1536\n255\n"));
    assert_eq!(wasm.len(), frame.output_len());
    let mut native = vec![0; frame.output_len()];
    frame.render(&mut native);
    assert_eq!(wasm, native);
}

#[test]
fn a_malformed_input_is_a_trap() {
    let outcome = run_workload("mandelbrot", b"short", JobLimits::default());
    assert!(matches!(
        outcome,
        RunOutcome::Failed {
            kind: FailureKind::Trap,
            ..
        }
    ));
}

#[test]
fn an_image_bigger_than_the_memory_limit_hits_it() {
    let frame = Frame {
        width: 8192,
        height: 8192,
        frame: 0,
    };
    let limits = JobLimits {
        memory_bytes: 16 << 20,
        output_bytes: 16 << 20,
        ..JobLimits::default()
    };
    let outcome = run_workload("render", &frame.encode(), limits);
    assert!(
        matches!(
            outcome,
            RunOutcome::Failed {
                kind: FailureKind::MemoryLimit,
                ..
            }
        ),
        "{outcome:?}"
    );
}
