//! A WebAssembly unit as executor work: each slice is one sandbox step, which returns at
//! the next epoch yield (about a millisecond), so a pause leaves the instance suspended in
//! memory and a resume continues it exactly where it was.

use idleshare_sandbox::{RunOutcome, Step, UnitRun};

use super::{SliceOutcome, WorkSlice};

/// Called once with the unit's outcome, on the worker thread that finished it.
pub type OnFinish = Box<dyn FnOnce(RunOutcome) + Send>;

/// A sandboxed unit that reports its outcome through a callback. Dropped unfinished (the
/// executor shutting down, or the unit revoked), it reports nothing.
pub struct WasmUnit {
    run: UnitRun,
    on_finish: Option<OnFinish>,
}

impl WasmUnit {
    /// Wraps a started unit.
    pub fn new(run: UnitRun, on_finish: OnFinish) -> Self {
        Self {
            run,
            on_finish: Some(on_finish),
        }
    }
}

impl WorkSlice for WasmUnit {
    fn run_slice(&mut self) -> SliceOutcome {
        match self.run.step() {
            Step::Running => SliceOutcome::Continue,
            Step::Finished(outcome) => {
                if let Some(on_finish) = self.on_finish.take() {
                    on_finish(outcome);
                }
                SliceOutcome::Done
            }
        }
    }
}
