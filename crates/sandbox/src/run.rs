//! One unit in flight: a fresh instance driven one epoch tick at a time.
//!
//! The whole unit (instantiate, allocate, copy the input in, call the entry, copy the
//! output out) is one future that owns its store. [`UnitRun::step`] polls it once with a
//! no-op waker: wasmtime suspends the guest on its fiber at the next epoch tick and the poll
//! returns, so between steps the unit sits in memory, paused, losing nothing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use idleshare_protocol::JobLimits;
use wasmtime::{Engine, Module};

use crate::outcome::{RunOutcome, Step};
use crate::ticker::EpochTicker;
use crate::unit::{Ended, Ending, run_unit};

type UnitFuture = Pin<Box<dyn Future<Output = Ended> + Send>>;

/// A unit started by [`crate::Sandbox::start`]; nothing runs until [`UnitRun::step`].
pub struct UnitRun {
    state: RunState,
    ticker: Arc<EpochTicker>,
    deadline_passed: Arc<AtomicBool>,
    wall_limit: Duration,
    running: Duration,
}

enum RunState {
    Running(UnitFuture),
    Finished(RunOutcome),
}

impl UnitRun {
    pub(crate) fn new(
        engine: Engine,
        ticker: Arc<EpochTicker>,
        module: Module,
        entry: String,
        input: Vec<u8>,
        limits: JobLimits,
    ) -> Self {
        let deadline_passed = Arc::new(AtomicBool::new(false));
        let future = run_unit(
            engine,
            module,
            entry,
            input,
            limits,
            deadline_passed.clone(),
        );
        Self {
            state: RunState::Running(Box::pin(future)),
            ticker,
            deadline_passed,
            wall_limit: Duration::from_millis(limits.wall_ms),
            running: Duration::ZERO,
        }
    }

    /// Runs until the next epoch yield (about one tick) or the end. Never blocks longer than
    /// about a tick past the call. After the end it returns the same outcome again.
    pub fn step(&mut self) -> Step {
        let future = match &mut self.state {
            RunState::Finished(outcome) => return Step::Finished(outcome.clone()),
            RunState::Running(future) => future,
        };
        if self.running >= self.wall_limit {
            // The epoch callback interrupts the guest at the next tick.
            self.deadline_passed.store(true, Ordering::Release);
        }
        let started = Instant::now();
        let poll = {
            let _stepping = self.ticker.stepping();
            future
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
        };
        self.running += started.elapsed();
        match poll {
            Poll::Pending => Step::Running,
            Poll::Ready(ended) => {
                let outcome = self.outcome_of(ended);
                self.state = RunState::Finished(outcome.clone());
                Step::Finished(outcome)
            }
        }
    }

    /// Steps until the end (tests, benchmarks).
    pub fn run_to_end(mut self) -> RunOutcome {
        loop {
            if let Step::Finished(outcome) = self.step() {
                return outcome;
            }
        }
    }

    /// Time spent inside [`UnitRun::step`], that is, running, not paused.
    pub fn running_time(&self) -> Duration {
        self.running
    }

    fn outcome_of(&self, ended: Ended) -> RunOutcome {
        let fuel = ended.fuel;
        match ended.ending {
            Ending::Output(bytes) => RunOutcome::Output { bytes, fuel },
            Ending::Failed(kind, message) => RunOutcome::failed(kind, message, fuel),
            Ending::Interrupted => RunOutcome::DeadlineExceeded {
                ran_for: self.running,
                fuel,
            },
        }
    }
}
