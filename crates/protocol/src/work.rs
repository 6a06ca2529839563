//! Work on the wire: what the coordinator assigns, and what a node reports back.
//!
//! A node says how many more units it can take ([`crate::NodeMessage::WantWork`]); the
//! coordinator answers with [`Assignment`]s on the control stream. The node fetches the
//! module and any input not sent inline on bulk streams, runs the unit, and sends its
//! [`UnitReport`] with the output bytes on a bulk stream of their own
//! ([`crate::bulk::BulkRequest::Result`]). A unit it cannot finish (deadline passed, node
//! stopping) goes back with [`crate::NodeMessage::Abandon`].

use serde::{Deserialize, Serialize};

use crate::bounds::{BoundsError, check_len, check_range};
use crate::content::ContentId;
use crate::job::{JobId, JobLimits, LeaseId, UnitId};

/// Inputs up to this size travel inside the assignment; bigger ones on a bulk stream.
pub const MAX_INLINE_INPUT: usize = 16 * 1024;
/// Longest failure message kept, in bytes.
pub const MAX_FAILURE_MESSAGE: usize = 400;

/// One unit leased to one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// This lease; the report names it.
    pub lease: LeaseId,
    /// The unit.
    pub unit: UnitId,
    /// Its job.
    pub job: JobId,
    /// The module to run.
    pub module: ContentId,
    /// Its entry function.
    pub entry: String,
    /// The unit's input.
    pub input: ContentId,
    /// The input itself when it is at most [`MAX_INLINE_INPUT`] bytes.
    pub inline_input: Option<Vec<u8>>,
    /// The limits to run under.
    pub limits: JobLimits,
}

/// A failure every honest node reproduces exactly, so it is validated like an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The unit used all its fuel (an endless loop ends here).
    FuelExhausted,
    /// The unit ran out of stack (runaway recursion).
    StackOverflow,
    /// Memory growth beyond the limit made the unit trap.
    MemoryLimit,
    /// Any other trap: unreachable, division by zero, out-of-bounds access.
    Trap,
    /// The output is bigger than the job's output limit.
    OutputTooLarge,
    /// The module broke the ABI (bad output pointer, bad allocation).
    AbiViolation,
    /// The module is invalid or does not fit the ABI (imports, missing exports).
    BadModule,
}

impl FailureKind {
    /// A short label for tables and JSON.
    pub fn label(self) -> &'static str {
        match self {
            FailureKind::FuelExhausted => "fuel exhausted",
            FailureKind::StackOverflow => "stack overflow",
            FailureKind::MemoryLimit => "memory limit",
            FailureKind::Trap => "trap",
            FailureKind::OutputTooLarge => "output too large",
            FailureKind::AbiViolation => "ABI violation",
            FailureKind::BadModule => "bad module",
        }
    }
}

/// How a unit ended on one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnitOutcome {
    /// It returned an output (sent after the report on the same stream).
    Output {
        /// The output's content id.
        id: ContentId,
        /// Its length in bytes.
        len: u32,
    },
    /// It failed in a way every node reproduces.
    Failed {
        /// What happened.
        kind: FailureKind,
        /// Details for people (not compared between nodes).
        message: String,
    },
}

/// A node's result for one lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitReport {
    /// The lease this answers.
    pub lease: LeaseId,
    /// Fuel the unit consumed (deterministic: compared between nodes).
    pub fuel: u64,
    /// How it ended.
    pub outcome: UnitOutcome,
}

/// What replicas must agree on for a unit to be accepted: the outcome (an output's hash,
/// or the failure kind) and the fuel used. Messages and timing are not compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Verdict {
    /// An output with this content id.
    Output(ContentId),
    /// A failure of this kind.
    Failed(FailureKind),
}

impl UnitReport {
    /// The part of the report that replicas must agree on.
    pub fn agreement_key(&self) -> (Verdict, u64) {
        let verdict = match &self.outcome {
            UnitOutcome::Output { id, .. } => Verdict::Output(*id),
            UnitOutcome::Failed { kind, .. } => Verdict::Failed(*kind),
        };
        (verdict, self.fuel)
    }

    /// Output bytes that follow the report on its stream.
    pub fn output_len(&self) -> u32 {
        match &self.outcome {
            UnitOutcome::Output { len, .. } => *len,
            UnitOutcome::Failed { .. } => 0,
        }
    }

    /// Checks sizes: output within [`crate::job::MAX_UNIT_BYTES`], message within bounds.
    pub fn validate(&self) -> Result<(), BoundsError> {
        match &self.outcome {
            UnitOutcome::Output { len, .. } => check_range(
                "output bytes",
                u64::from(*len),
                0,
                u64::from(crate::job::MAX_UNIT_BYTES),
            ),
            UnitOutcome::Failed { message, .. } => {
                check_len("failure message", message, MAX_FAILURE_MESSAGE)
            }
        }
    }
}

/// Cuts a failure message to [`MAX_FAILURE_MESSAGE`] bytes at a character boundary.
pub fn clip_message(message: &str) -> String {
    let mut end = message.len().min(MAX_FAILURE_MESSAGE);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_ignores_messages_but_not_fuel() {
        let failed = |message: &str, fuel| UnitReport {
            lease: LeaseId(1),
            fuel,
            outcome: UnitOutcome::Failed {
                kind: FailureKind::Trap,
                message: message.into(),
            },
        };
        assert_eq!(
            failed("a", 5).agreement_key(),
            failed("b", 5).agreement_key()
        );
        assert_ne!(
            failed("a", 5).agreement_key(),
            failed("a", 6).agreement_key()
        );
    }

    #[test]
    fn clipping_respects_characters() {
        let long = "é".repeat(300);
        let clipped = clip_message(&long);
        assert!(clipped.len() <= MAX_FAILURE_MESSAGE);
        assert!(long.starts_with(&clipped));
    }
}
