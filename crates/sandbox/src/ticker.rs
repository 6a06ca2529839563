//! The epoch ticker: one thread per sandbox that advances the engine's epoch every tick
//! while some unit is inside a step, and parks (no CPU at all) while none is.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use wasmtime::Engine;

struct TickerState {
    stepping: AtomicUsize,
    stop: AtomicBool,
}

/// Owns the ticker thread; dropping the last handle stops it.
pub(crate) struct EpochTicker {
    state: Arc<TickerState>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub(crate) fn start(engine: Engine, tick: Duration) -> std::io::Result<Self> {
        let state = Arc::new(TickerState {
            stepping: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let thread_state = state.clone();
        let thread = thread::Builder::new()
            .name("idleshare-epoch".into())
            .spawn(move || tick_while_stepping(&engine, &thread_state, tick))?;
        Ok(Self {
            state,
            thread: Some(thread),
        })
    }

    /// Marks a step as started (waking the ticker) until the guard drops.
    pub(crate) fn stepping(&self) -> SteppingGuard<'_> {
        if self.state.stepping.fetch_add(1, Ordering::AcqRel) == 0
            && let Some(thread) = &self.thread
        {
            thread.thread().unpark();
        }
        SteppingGuard { ticker: self }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// Held for the length of one step.
pub(crate) struct SteppingGuard<'a> {
    ticker: &'a EpochTicker,
}

impl Drop for SteppingGuard<'_> {
    fn drop(&mut self) {
        self.ticker.state.stepping.fetch_sub(1, Ordering::AcqRel);
    }
}

fn tick_while_stepping(engine: &Engine, state: &TickerState, tick: Duration) {
    while !state.stop.load(Ordering::Acquire) {
        if state.stepping.load(Ordering::Acquire) == 0 {
            // A step starting after this check unparks us, so the wake-up is not lost.
            thread::park();
            continue;
        }
        thread::sleep(tick);
        engine.increment_epoch();
    }
}
