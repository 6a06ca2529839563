//! The hardware benchmark a node runs on first start: integer and floating-point speed of
//! one core and memory copy bandwidth, about one second in all.
//!
//! The scores go to the coordinator in the node's capabilities, so it can size work to the
//! machine. They are kept in `DATA_DIR/hardware.json` so later starts skip the second of
//! full load. Each workload is timed rather than fixed-size, so a slow machine does not
//! take longer; `std::hint::black_box` keeps the optimiser from deleting the work.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use idleshare_protocol::HardwareScores;

/// File the scores are kept in, inside the data directory.
pub const HARDWARE_FILE: &str = "hardware.json";

/// How long each CPU workload runs.
const CPU_RUN: Duration = Duration::from_millis(200);
/// Memory buffer copied: larger than any CPU cache, so the copy measures RAM.
const MEMORY_BUFFER_BYTES: usize = 64 << 20;
/// Most timed copies of the buffer (each about 3–15 ms on current machines).
const MEMORY_COPIES: u32 = 32;
/// Stop copying early after this long, for slow machines.
const MEMORY_RUN: Duration = Duration::from_millis(300);

/// Why scores could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum HwBenchError {
    /// The data directory or the scores file could not be written.
    #[error("cannot write hardware scores to {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The scores could not be encoded (not expected for plain integers).
    #[error("cannot encode hardware scores: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Returns the stored scores from `data_dir`, or measures (about a second of full load on
/// one core), stores and returns them. A missing or unreadable file is re-measured.
/// Blocking: call it from `spawn_blocking`, not on an async runtime thread.
pub fn load_or_run(data_dir: &Path) -> Result<HardwareScores, HwBenchError> {
    load_or_run_with(data_dir, run)
}

/// [`load_or_run`] with the benchmark passed in (tests count whether it ran).
fn load_or_run_with(
    data_dir: &Path,
    benchmark: impl FnOnce() -> HardwareScores,
) -> Result<HardwareScores, HwBenchError> {
    let path = data_dir.join(HARDWARE_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(scores) => return Ok(scores),
            Err(e) => tracing::warn!("{}: unreadable ({e}); measuring again", path.display()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("{}: cannot read ({e}); measuring again", path.display()),
    }
    let scores = benchmark();
    tracing::info!(
        "hardware scores: {} int Mops/s, {} MFLOPS, {} MB/s memory",
        scores.cpu_int_mops,
        scores.cpu_float_mflops,
        scores.memory_mb_per_sec
    );
    store(&path, &scores)?;
    Ok(scores)
}

/// Writes the scores atomically: a temporary file in the same directory, flushed, then
/// renamed over the old one, so a crash leaves the old file or the new, never half of one.
fn store(path: &Path, scores: &HardwareScores) -> Result<(), HwBenchError> {
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| HwBenchError::Write { path, source }
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write_error(dir))?;
    }
    let json = serde_json::to_vec_pretty(scores)?;
    let temporary = path.with_extension("json.tmp");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&temporary).map_err(write_error(&temporary))?;
        file.write_all(&json).map_err(write_error(&temporary))?;
        file.sync_all().map_err(write_error(&temporary))?;
    }
    std::fs::rename(&temporary, path).map_err(write_error(path))
}

/// Runs all three measurements now (about one second, one core).
pub fn run() -> HardwareScores {
    HardwareScores {
        cpu_int_mops: integer_mops(CPU_RUN),
        cpu_float_mflops: float_mflops(CPU_RUN),
        memory_mb_per_sec: memory_copy_mb_per_sec(),
    }
}

/// Runs `step` (which does `ops_per_step` operations) in batches until `duration` has
/// passed; returns millions of operations per second. Checking the clock only every
/// batch keeps its cost out of the measurement.
fn millions_per_second(duration: Duration, ops_per_step: u64, mut step: impl FnMut()) -> u64 {
    const STEPS_PER_BATCH: u64 = 4096;
    let start = Instant::now();
    let mut steps = 0u64;
    loop {
        for _ in 0..STEPS_PER_BATCH {
            step();
        }
        steps += STEPS_PER_BATCH;
        let elapsed = start.elapsed();
        if elapsed >= duration {
            let ops = steps as f64 * ops_per_step as f64;
            // At least 1: a score of 0 would read as "not measured".
            return ((ops / elapsed.as_secs_f64() / 1e6) as u64).max(1);
        }
    }
}

/// Integer score: four independent xorshift64* generators (so the core's several ALUs
/// all work), each step 3 shifts + 3 xors + 1 multiply = 7 operations per generator.
fn integer_mops(duration: Duration) -> u64 {
    // Seeds through black_box and the result into it: the work can be neither
    // precomputed nor dropped.
    let mut state = black_box([
        0x9E37_79B9_7F4A_7C15u64,
        0xBF58_476D_1CE4_E5B9,
        0x94D0_49BB_1331_11EB,
        0x2545_F491_4F6C_DD1D,
    ]);
    let score = millions_per_second(duration, 4 * 7, || {
        for x in state.iter_mut() {
            let mut v = *x;
            v ^= v >> 12;
            v ^= v << 25;
            v ^= v >> 27;
            *x = v.wrapping_mul(0x2545_F491_4F6C_DD1D);
        }
    });
    black_box(state);
    score
}

/// Floating-point score: eight independent multiply-add chains `x = x·a + b` (one
/// multiply, one add = 2 FLOPs each) that converge, so values never overflow to inf.
fn float_mflops(duration: Duration) -> u64 {
    let mut lanes = black_box([0.5f64, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]);
    let (a, b) = (black_box(0.999_999f64), black_box(1e-6f64));
    let score = millions_per_second(duration, 8 * 2, || {
        for x in lanes.iter_mut() {
            *x = *x * a + b;
        }
    });
    black_box(lanes);
    score
}

/// Memory score: copies a 64 MiB buffer (after one untimed copy that faults its pages
/// in) and counts bytes copied per second, in MB (10⁶ bytes).
fn memory_copy_mb_per_sec() -> u64 {
    // Non-zero fill: a zeroed allocation may be lazily mapped zero pages, not real RAM.
    let source = vec![0xA5u8; MEMORY_BUFFER_BYTES];
    let mut target = vec![0u8; MEMORY_BUFFER_BYTES];
    target.copy_from_slice(&source);
    let start = Instant::now();
    let mut copies = 0u32;
    while copies < MEMORY_COPIES && start.elapsed() < MEMORY_RUN {
        target.copy_from_slice(black_box(&source));
        black_box(&mut target);
        copies += 1;
    }
    let bytes = f64::from(copies) * MEMORY_BUFFER_BYTES as f64;
    ((bytes / start.elapsed().as_secs_f64() / 1e6) as u64).max(1)
}

#[cfg(test)]
#[path = "hwbench_tests.rs"]
mod tests;
