//! One worker thread: lower its priority, then run jobs slice by slice while the gate
//! allows, giving a stopped job back to the queue whole.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::Sender;
use std::time::Instant;

use super::duty_cycle::DutyCycle;
use super::gate::Gate;
use super::priority::{self, WorkerPriority};
use super::{SliceOutcome, WorkSlice};

/// The thread body of worker `index`; reports its priority on `started`, runs until shutdown.
pub(crate) fn run(index: usize, gate: &Gate, started: Sender<WorkerPriority>) {
    let _ = started.send(priority::lower_current_thread());
    drop(started);
    let mut duty = DutyCycle::new(Instant::now());
    while let Some(job) = gate.next_job(index) {
        duty.restart(Instant::now());
        run_until_stopped(index, job, gate, &mut duty);
    }
}

/// Runs `job` until it finishes, panics, or the gate stops this worker.
fn run_until_stopped(index: usize, mut job: Box<dyn WorkSlice>, gate: &Gate, duty: &mut DutyCycle) {
    loop {
        let started = Instant::now();
        // A panicking job must not take its worker (and a core of the budget) with it.
        match catch_unwind(AssertUnwindSafe(|| job.run_slice())) {
            Ok(SliceOutcome::Continue) => {}
            Ok(SliceOutcome::Done) => {
                gate.job_finished();
                return;
            }
            Err(_) => {
                tracing::warn!("a job panicked in worker {index}; dropped it");
                return;
            }
        }
        if !gate.may_run(index) {
            gate.give_back(job);
            return;
        }
        let now = Instant::now();
        if let Some(rest) = duty.after_slice(now - started, gate.cpu_percent(), now) {
            gate.rest(rest);
            if !gate.may_run(index) {
                gate.give_back(job);
                return;
            }
        }
    }
}
