//! A stand-in job that only burns CPU, for the yield benchmark and the executor's tests.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{SliceOutcome, WorkSlice};

/// Iterations between two clock reads: about a microsecond of work, so reading the clock
/// costs little and the slice ends close to its length.
const ITERATIONS_PER_CHECK: u64 = 1024;

/// Burns CPU in slices of a fixed length, counting its iterations in a shared counter, so a
/// test can see progress stop while paused and resume from the same count.
pub struct BurnCpu {
    progress: Arc<AtomicU64>,
    slice: Duration,
    slices_left: Option<u64>,
    state: u64,
}

impl BurnCpu {
    /// Burns until dropped, in 0.5 ms slices.
    pub fn forever() -> Self {
        Self {
            progress: Arc::new(AtomicU64::new(0)),
            slice: Duration::from_micros(500),
            slices_left: None,
            state: 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// Burns for `count` slices, then reports [`SliceOutcome::Done`].
    pub fn slices(count: u64) -> Self {
        Self {
            slices_left: Some(count),
            ..Self::forever()
        }
    }

    /// Sets the wall time of one slice.
    pub fn with_slice(mut self, slice: Duration) -> Self {
        self.slice = slice;
        self
    }

    /// The iteration counter, shared with the job.
    pub fn progress(&self) -> Arc<AtomicU64> {
        self.progress.clone()
    }
}

impl WorkSlice for BurnCpu {
    fn run_slice(&mut self) -> SliceOutcome {
        if let Some(left) = self.slices_left.as_mut() {
            if *left == 0 {
                return SliceOutcome::Done;
            }
            *left -= 1;
        }
        let deadline = Instant::now() + self.slice;
        loop {
            for _ in 0..ITERATIONS_PER_CHECK {
                // xorshift64: cheap, and black_box keeps the optimiser from skipping it.
                self.state ^= self.state << 13;
                self.state ^= self.state >> 7;
                self.state ^= self.state << 17;
                self.state = black_box(self.state);
            }
            self.progress
                .fetch_add(ITERATIONS_PER_CHECK, Ordering::Relaxed);
            if Instant::now() >= deadline {
                break;
            }
        }
        if self.slices_left == Some(0) {
            SliceOutcome::Done
        } else {
            SliceOutcome::Continue
        }
    }
}
