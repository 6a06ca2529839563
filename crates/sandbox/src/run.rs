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

use idleshare_protocol::FailureKind;
use idleshare_protocol::JobLimits;
use idleshare_protocol::abi::{ALLOC_EXPORT, MEMORY_EXPORT};
use wasmtime::{Engine, Instance, Module, Store, UpdateDeadline};

use crate::limits::UnitLimiter;
use crate::outcome::{RunOutcome, Step, describe, failure_kind, is_interrupt, unpack_output};
use crate::ticker::EpochTicker;

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

/// How the unit's future ended, before the running time is known.
struct Ended {
    ending: Ending,
    fuel: u64,
}

enum Ending {
    Output(Vec<u8>),
    Failed(FailureKind, String),
    Interrupted,
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

/// The unit from start to end, owning its store.
async fn run_unit(
    engine: Engine,
    module: Module,
    entry: String,
    input: Vec<u8>,
    limits: JobLimits,
    deadline_passed: Arc<AtomicBool>,
) -> Ended {
    let mut store = Store::new(&engine, UnitLimiter::new(limits.memory_bytes));
    store.limiter(|limiter| limiter);
    store.epoch_deadline_callback(move |_| {
        if deadline_passed.load(Ordering::Acquire) {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    store.set_epoch_deadline(1);
    let ending = match store.set_fuel(limits.fuel) {
        Ok(()) => call_entry(&mut store, &module, &entry, &input, limits.output_bytes).await,
        Err(error) => Ending::Failed(FailureKind::Trap, format!("cannot set fuel: {error}")),
    };
    let remaining = store.get_fuel().unwrap_or(0);
    Ended {
        ending,
        fuel: limits.fuel.saturating_sub(remaining),
    }
}

async fn call_entry(
    store: &mut Store<UnitLimiter>,
    module: &Module,
    entry: &str,
    input: &[u8],
    output_limit: u32,
) -> Ending {
    let guest_failure = |store: &Store<UnitLimiter>, error: wasmtime::Error| {
        if is_interrupt(&error) {
            Ending::Interrupted
        } else {
            let kind = failure_kind(&error, store.data().refused_memory());
            Ending::Failed(kind, describe(&error))
        }
    };
    let abi = |message: String| Ending::Failed(FailureKind::AbiViolation, message);

    let instance = match instantiate(store, module).await {
        Ok(instance) => instance,
        Err(error) => return guest_failure(store, error),
    };
    let Some(memory) = instance.get_memory(&mut *store, MEMORY_EXPORT) else {
        return abi(format!("no memory export {MEMORY_EXPORT:?}"));
    };
    let functions = instance
        .get_typed_func::<i32, i32>(&mut *store, ALLOC_EXPORT)
        .and_then(|alloc| {
            Ok((
                alloc,
                instance.get_typed_func::<(i32, i32), i64>(&mut *store, entry)?,
            ))
        });
    let (alloc, run) = match functions {
        Ok(functions) => functions,
        Err(error) => return Ending::Failed(FailureKind::BadModule, format!("{error}")),
    };
    let Ok(input_len) = i32::try_from(input.len()) else {
        return abi(format!(
            "input of {} bytes does not fit a 32-bit guest",
            input.len()
        ));
    };
    let input_ptr = match alloc.call_async(&mut *store, input_len).await {
        Ok(pointer) => pointer,
        Err(error) => return guest_failure(store, error),
    };
    if memory
        .write(&mut *store, input_ptr as u32 as usize, input)
        .is_err()
    {
        return abi(format!(
            "{ALLOC_EXPORT} returned {}, but {input_len} bytes there lie outside memory",
            input_ptr as u32
        ));
    }
    let packed = match run.call_async(&mut *store, (input_ptr, input_len)).await {
        Ok(packed) => packed,
        Err(error) => return guest_failure(store, error),
    };
    let (output_ptr, output_len) = unpack_output(packed);
    if output_len > output_limit {
        return Ending::Failed(
            FailureKind::OutputTooLarge,
            format!("output of {output_len} bytes is over the limit of {output_limit}"),
        );
    }
    let mut output = vec![0; output_len as usize];
    if memory
        .read(&*store, output_ptr as usize, &mut output)
        .is_err()
    {
        return abi(format!(
            "output of {output_len} bytes at {output_ptr} lies outside memory"
        ));
    }
    Ending::Output(output)
}

/// Instantiates, waiting (a tick at a time) while every pooled slot is taken: a full pool
/// says nothing about the unit, so it must not fail it.
async fn instantiate(
    store: &mut Store<UnitLimiter>,
    module: &Module,
) -> wasmtime::Result<Instance> {
    loop {
        match Instance::new_async(&mut *store, module, &[]).await {
            Err(error) if error.is::<wasmtime::PoolConcurrencyLimitError>() => {
                std::thread::sleep(Duration::from_millis(1));
                YieldOnce(false).await;
            }
            result => return result,
        }
    }
}

/// Returns `Pending` once, so the step ends and the executor may run something else.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}
