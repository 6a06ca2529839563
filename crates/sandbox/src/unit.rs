//! A unit's whole life as one future that owns its store: instantiate, allocate, copy the
//! input in, call the entry, copy the output out, count the fuel. Epoch yields inside the
//! guest suspend it; the future's owner ([`crate::UnitRun`]) polls it a step at a time.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use idleshare_protocol::FailureKind;
use idleshare_protocol::JobLimits;
use idleshare_protocol::abi::{ALLOC_EXPORT, MEMORY_EXPORT};
use wasmtime::{Engine, Instance, Module, Store, UpdateDeadline};

use crate::limits::UnitLimiter;
use crate::outcome::{describe, failure_kind, is_interrupt, unpack_output};

/// How the unit's future ended, before the running time is known.
pub(crate) struct Ended {
    pub(crate) ending: Ending,
    pub(crate) fuel: u64,
}

pub(crate) enum Ending {
    Output(Vec<u8>),
    Failed(FailureKind, String),
    Interrupted,
}

/// The unit from start to end, owning its store.
pub(crate) async fn run_unit(
    engine: Engine,
    module: Module,
    entry: String,
    input: Vec<u8>,
    limits: JobLimits,
    deadline_passed: Arc<AtomicBool>,
) -> Ended {
    let (mut store, instance) = loop {
        let mut store = new_store(&engine, limits, deadline_passed.clone());
        match Instance::new_async(&mut store, &module, &[]).await {
            // A full pool says nothing about the unit, so it must not fail it: give the
            // slot-less store back, let this step end, and try again on the next one.
            Err(error) if error.is::<wasmtime::PoolConcurrencyLimitError>() => {
                drop(store);
                std::thread::sleep(Duration::from_millis(1));
                YieldOnce(false).await;
            }
            instance => break (store, instance),
        }
    };
    let ending = match instance {
        Ok(instance) => call_entry(&mut store, instance, &entry, &input, limits.output_bytes).await,
        Err(error) => guest_failure(&store, error),
    };
    let remaining = store.get_fuel().unwrap_or(0);
    Ended {
        ending,
        fuel: limits.fuel.saturating_sub(remaining),
    }
}

/// A store with the unit's limits, its fuel, and an epoch callback that yields at every
/// tick, or interrupts the guest once the wall deadline has passed.
fn new_store(
    engine: &Engine,
    limits: JobLimits,
    deadline_passed: Arc<AtomicBool>,
) -> Store<UnitLimiter> {
    let mut store = Store::new(engine, UnitLimiter::new(limits.memory_bytes));
    store.limiter(|limiter| limiter);
    store.epoch_deadline_callback(move |_| {
        if deadline_passed.load(Ordering::Acquire) {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    store.set_epoch_deadline(1);
    // Fails only on an engine without fuel metering, which `engine.rs` never builds; the
    // unit would then report zero fuel used.
    if let Err(error) = store.set_fuel(limits.fuel) {
        tracing::error!("sandbox: cannot set fuel: {error}");
    }
    store
}

/// The ending for an error the guest (or instantiating it) raised.
fn guest_failure(store: &Store<UnitLimiter>, error: wasmtime::Error) -> Ending {
    if is_interrupt(&error) {
        Ending::Interrupted
    } else {
        let kind = failure_kind(&error, store.data().refused_memory());
        Ending::Failed(kind, describe(&error))
    }
}

async fn call_entry(
    store: &mut Store<UnitLimiter>,
    instance: Instance,
    entry: &str,
    input: &[u8],
    output_limit: u32,
) -> Ending {
    let abi = |message: String| Ending::Failed(FailureKind::AbiViolation, message);
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
