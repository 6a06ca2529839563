//! How a unit ends, and the pure mapping from wasmtime's errors to the protocol's failure
//! kinds.

use std::time::Duration;

use idleshare_protocol::FailureKind;
use idleshare_protocol::work::clip_message;
use wasmtime::Trap;

/// What one [`crate::UnitRun::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The unit yielded at an epoch tick and stays suspended until the next step.
    Running,
    /// The unit ended.
    Finished(RunOutcome),
}

/// How a unit ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// The entry function returned an output within the limits.
    Output {
        /// The output bytes.
        bytes: Vec<u8>,
        /// Fuel consumed.
        fuel: u64,
    },
    /// A failure every honest node reproduces exactly (validated like an output).
    Failed {
        /// What happened.
        kind: FailureKind,
        /// Details for people, clipped to the protocol's bound.
        message: String,
        /// Fuel consumed.
        fuel: u64,
    },
    /// The unit ran (not counting pauses) longer than its wall limit. Not deterministic:
    /// the node gives the lease back instead of reporting it.
    DeadlineExceeded {
        /// Running time when it was stopped.
        ran_for: Duration,
        /// Fuel consumed until then.
        fuel: u64,
    },
}

impl RunOutcome {
    /// Fuel the unit consumed, whatever the ending.
    pub fn fuel(&self) -> u64 {
        match self {
            RunOutcome::Output { fuel, .. }
            | RunOutcome::Failed { fuel, .. }
            | RunOutcome::DeadlineExceeded { fuel, .. } => *fuel,
        }
    }

    pub(crate) fn failed(kind: FailureKind, message: impl AsRef<str>, fuel: u64) -> Self {
        RunOutcome::Failed {
            kind,
            message: clip_message(message.as_ref()),
            fuel,
        }
    }
}

/// The failure kind for an error raised while the guest ran. `memory_refused` says whether
/// the limiter refused a `memory.grow` during the run (the guest's trap is then its way of
/// reporting the missing memory).
pub(crate) fn failure_kind(error: &wasmtime::Error, memory_refused: bool) -> FailureKind {
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => FailureKind::FuelExhausted,
        Some(Trap::StackOverflow) => FailureKind::StackOverflow,
        _ if memory_refused => FailureKind::MemoryLimit,
        _ => FailureKind::Trap,
    }
}

/// A message for people: the root cause first (the trap), then wasmtime's context (the
/// guest backtrace), so clipping keeps the important part.
pub(crate) fn describe(error: &wasmtime::Error) -> String {
    let root = error.root_cause().to_string();
    let context: Vec<String> = error
        .chain()
        .map(ToString::to_string)
        .filter(|text| *text != root)
        .collect();
    if context.is_empty() {
        root
    } else {
        format!("{root}\n{}", context.join("\n"))
    }
}

/// Whether the error is the epoch callback's interruption (the wall deadline).
pub(crate) fn is_interrupt(error: &wasmtime::Error) -> bool {
    matches!(error.downcast_ref::<Trap>(), Some(Trap::Interrupt))
}

/// Where the entry function's packed return value says the output lies.
pub(crate) fn unpack_output(packed: i64) -> (u32, u32) {
    let bits = packed as u64;
    ((bits >> 32) as u32, bits as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_output_splits_into_pointer_and_length() {
        assert_eq!(unpack_output((1024 << 32) | 5), (1024, 5));
        assert_eq!(unpack_output(-1), (u32::MAX, u32::MAX));
    }

    #[test]
    fn traps_map_to_failure_kinds() {
        let fuel = wasmtime::Error::new(Trap::OutOfFuel);
        assert_eq!(failure_kind(&fuel, true), FailureKind::FuelExhausted);
        let stack = wasmtime::Error::new(Trap::StackOverflow);
        assert_eq!(failure_kind(&stack, false), FailureKind::StackOverflow);
        let unreachable = wasmtime::Error::new(Trap::UnreachableCodeReached);
        assert_eq!(failure_kind(&unreachable, true), FailureKind::MemoryLimit);
        assert_eq!(failure_kind(&unreachable, false), FailureKind::Trap);
    }
}
