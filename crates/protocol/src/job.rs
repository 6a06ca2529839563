//! The job model: a WebAssembly module, an entry function, inputs and limits.
//!
//! A job is one module (named by its [`ContentId`]) and one exported entry function, run once
//! per input. Each (job, input) pair is a *unit*, the thing that is scheduled, replicated on
//! several nodes, validated and paid. How a module receives its input and hands back its
//! output is the [`crate::abi`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::bounds::{BoundsError, check_range};
use crate::content::ContentId;

/// A job, numbered by the coordinator that accepted it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);

/// One unit of work (a job's module run on one input), numbered by the coordinator.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnitId(pub u64);

/// One assignment of a unit to a node; a unit replicated on two nodes has two leases.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LeaseId(pub u64);

macro_rules! numbered_display {
    ($($name:ident => $prefix:literal),*) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    )*};
}
numbered_display!(JobId => "job-", UnitId => "unit-", LeaseId => "lease-");

/// Longest entry-function name.
pub const MAX_ENTRY_LEN: usize = 64;
/// Largest input or output of one unit (16 MiB).
pub const MAX_UNIT_BYTES: u32 = 16 << 20;
/// Most memory a unit may ask for (1 GiB).
pub const MAX_MEMORY_BYTES: u64 = 1 << 30;
/// Most fuel a unit may ask for.
pub const MAX_FUEL: u64 = 1 << 42;
/// Longest wall-clock deadline of a unit (one hour), counted while it runs (not paused).
pub const MAX_WALL_MS: u64 = 3_600_000;
/// Most replicas a unit may ask for.
pub const MAX_REPLICATION: u8 = 5;
/// Most inputs (units) in one job.
pub const MAX_UNITS_PER_JOB: usize = 100_000;

/// What one unit of a job may use. Fuel and memory bound the work exactly (the same on every
/// node); the wall deadline catches a node too slow to be useful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobLimits {
    /// Fuel: wasmtime's deterministic count of executed work (about one per instruction).
    pub fuel: u64,
    /// Linear memory the instance may grow to, in bytes.
    pub memory_bytes: u64,
    /// Running time allowed, in milliseconds (time spent paused does not count).
    pub wall_ms: u64,
    /// Largest output, in bytes.
    pub output_bytes: u32,
}

impl Default for JobLimits {
    /// 10 G fuel (seconds of work), 64 MiB memory, 10 minutes, 1 MiB output.
    fn default() -> Self {
        Self {
            fuel: 10_000_000_000,
            memory_bytes: 64 << 20,
            wall_ms: 600_000,
            output_bytes: 1 << 20,
        }
    }
}

impl JobLimits {
    /// Checks every limit is non-zero and within the network's maximums.
    pub fn validate(&self) -> Result<(), BoundsError> {
        let checks = [
            ("limit fuel", self.fuel, MAX_FUEL),
            ("limit memory_bytes", self.memory_bytes, MAX_MEMORY_BYTES),
            ("limit wall_ms", self.wall_ms, MAX_WALL_MS),
            (
                "limit output_bytes",
                u64::from(self.output_bytes),
                u64::from(MAX_UNIT_BYTES),
            ),
        ];
        for (name, value, max) in checks {
            check_range(name, value, 1, max)?;
        }
        Ok(())
    }
}

/// A job as its customer describes it; inputs are uploaded beforehand and named by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// The module's content id.
    pub module: ContentId,
    /// The exported function to call once per input.
    pub entry: String,
    /// One unit per input, in order.
    pub inputs: Vec<ContentId>,
    /// Per-unit limits.
    #[serde(default)]
    pub limits: JobLimits,
    /// How many nodes run each unit before it is accepted (1 = trust one node).
    #[serde(default = "default_replication")]
    pub replication: u8,
}

fn default_replication() -> u8 {
    2
}

impl JobSpec {
    /// Checks the spec's own fields (not the module's bytes: see [`crate::abi::check_module`]).
    pub fn validate(&self) -> Result<(), BoundsError> {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        check_range(
            "entry name bytes",
            count(self.entry.len()),
            1,
            count(MAX_ENTRY_LEN),
        )?;
        check_range(
            "inputs",
            count(self.inputs.len()),
            1,
            count(MAX_UNITS_PER_JOB),
        )?;
        check_range(
            "replication",
            u64::from(self.replication),
            1,
            u64::from(MAX_REPLICATION),
        )?;
        self.limits.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> JobSpec {
        JobSpec {
            module: ContentId::of(b"m"),
            entry: "run".into(),
            inputs: vec![ContentId::of(b"i")],
            limits: JobLimits::default(),
            replication: 2,
        }
    }

    #[test]
    fn defaults_are_valid_and_json_fills_them_in() {
        assert_eq!(spec().validate(), Ok(()));
        let json = format!(
            r#"{{"module":"{}","entry":"run","inputs":["{}"]}}"#,
            ContentId::of(b"m"),
            ContentId::of(b"i")
        );
        let parsed: JobSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, spec());
    }

    #[test]
    fn out_of_range_fields_are_named() {
        let mut bad = spec();
        bad.limits.memory_bytes = MAX_MEMORY_BYTES + 1;
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("memory_bytes")
        );
        let mut bad = spec();
        bad.replication = 0;
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("replication")
        );
        let mut bad = spec();
        bad.inputs.clear();
        assert!(bad.validate().unwrap_err().to_string().contains("inputs"));
        let mut bad = spec();
        bad.entry = "x".repeat(65);
        assert!(bad.validate().unwrap_err().to_string().contains("entry"));
    }

    #[test]
    fn unknown_json_fields_are_refused() {
        let json = r#"{"fuel": 5, "speed": 9}"#;
        assert!(serde_json::from_str::<JobLimits>(json).is_err());
    }
}
