//! From a finished run to what goes back to the coordinator (pure).

use idleshare_protocol::{ContentId, FailureKind, LeaseId, UnitOutcome, UnitReport};
use idleshare_sandbox::{LoadError, RunOutcome};

/// What to tell the coordinator about a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// A result to upload (the output bytes travel after the report).
    Report(UnitReport, Vec<u8>),
    /// Give the lease back unfinished.
    Abandon(String),
}

/// The report for a finished run.
pub fn settle(lease: LeaseId, outcome: RunOutcome) -> Settled {
    match outcome {
        RunOutcome::Output { bytes, fuel } => {
            let outcome = UnitOutcome::Output {
                id: ContentId::of(&bytes),
                len: bytes.len() as u32,
            };
            Settled::Report(
                UnitReport {
                    lease,
                    fuel,
                    outcome,
                },
                bytes,
            )
        }
        RunOutcome::Failed {
            kind,
            message,
            fuel,
        } => Settled::Report(
            UnitReport {
                lease,
                fuel,
                outcome: UnitOutcome::Failed { kind, message },
            },
            Vec::new(),
        ),
        RunOutcome::DeadlineExceeded { ran_for, .. } => Settled::Abandon(format!(
            "deadline passed after {:.1} s of running",
            ran_for.as_secs_f64()
        )),
    }
}

/// Test only (the `test-hooks` feature): the report of a lying node, for the tests of
/// validation. It flips the output's first byte (or makes an empty output one byte long),
/// so its hash disagrees with honest nodes; failures and abandoned leases are left alone.
#[cfg(feature = "test-hooks")]
pub fn lie(settled: Settled) -> Settled {
    match settled {
        Settled::Report(report, mut bytes)
            if matches!(report.outcome, UnitOutcome::Output { .. }) =>
        {
            match bytes.first_mut() {
                Some(first) => *first ^= 0xff,
                None => bytes.push(0),
            }
            let outcome = UnitOutcome::Output {
                id: ContentId::of(&bytes),
                len: bytes.len() as u32,
            };
            Settled::Report(UnitReport { outcome, ..report }, bytes)
        }
        other => other,
    }
}

/// How much more fuel than it used an inflating node claims: more than any job's limit.
#[cfg(feature = "test-hooks")]
pub const INFLATED_FUEL: u64 = 1 << 50;

/// Test only (the `test-hooks` feature): the report of a node that claims far more fuel
/// than it used (and than the job allows), to be paid more; the output is left honest.
#[cfg(feature = "test-hooks")]
pub fn inflate_fuel(settled: Settled) -> Settled {
    match settled {
        Settled::Report(report, bytes) => {
            let fuel = report.fuel.saturating_add(INFLATED_FUEL);
            Settled::Report(UnitReport { fuel, ..report }, bytes)
        }
        other => other,
    }
}

/// The report for a module that cannot be loaded: a module that breaks the ABI fails the
/// same way everywhere (a validated failure); anything else is this node's problem.
pub fn settle_load_error(lease: LeaseId, error: &LoadError) -> Settled {
    match error {
        LoadError::BadModule(abi) => Settled::Report(
            UnitReport {
                lease,
                fuel: 0,
                outcome: UnitOutcome::Failed {
                    kind: FailureKind::BadModule,
                    message: idleshare_protocol::work::clip_message(&abi.to_string()),
                },
            },
            Vec::new(),
        ),
        other => Settled::Abandon(format!("cannot load the module: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn an_output_is_reported_with_its_hash_and_fuel() {
        let settled = settle(
            LeaseId(3),
            RunOutcome::Output {
                bytes: b"abc".to_vec(),
                fuel: 77,
            },
        );
        let Settled::Report(report, bytes) = settled else {
            panic!("expected a report")
        };
        assert_eq!(report.fuel, 77);
        assert_eq!(
            report.outcome,
            UnitOutcome::Output {
                id: ContentId::of(b"abc"),
                len: 3
            }
        );
        assert_eq!(bytes, b"abc");
    }

    #[cfg(feature = "test-hooks")]
    #[test]
    fn a_lying_node_reports_a_different_hash() {
        let honest = settle(
            LeaseId(1),
            RunOutcome::Output {
                bytes: b"abc".to_vec(),
                fuel: 1,
            },
        );
        let liar = lie(honest.clone());
        let (Settled::Report(honest, _), Settled::Report(liar, _)) = (honest, liar) else {
            panic!()
        };
        assert_ne!(honest.agreement_key(), liar.agreement_key());
    }

    #[test]
    fn a_deadline_gives_the_lease_back() {
        let settled = settle(
            LeaseId(1),
            RunOutcome::DeadlineExceeded {
                ran_for: Duration::from_secs(2),
                fuel: 5,
            },
        );
        assert!(matches!(settled, Settled::Abandon(reason) if reason.contains("2.0 s")));
    }
}
