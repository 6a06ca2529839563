//! What the policy decides: run within a budget, or pause with a reason people can read.

use std::fmt;

use idleshare_protocol::{Budget, NodeActivity};
use serde::{Deserialize, Serialize};

/// The policy's answer for this moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// Contribute within this budget.
    Run {
        /// What work may use.
        budget: Budget,
    },
    /// Do not contribute.
    Paused {
        /// Why.
        reason: PauseReason,
    },
}

impl Decision {
    /// Whether work may run.
    pub fn is_run(&self) -> bool {
        matches!(self, Decision::Run { .. })
    }

    /// Whether two decisions mean the same for work: the same budget, or the same kind of
    /// pause. A reading quoted in the reason (the owner's CPU percent) may differ: it changes
    /// every second and is no news for the coordinator.
    pub fn same_outcome(&self, other: &Decision) -> bool {
        match (self, other) {
            (Decision::Run { budget: a }, Decision::Run { budget: b }) => a == b,
            (Decision::Paused { reason: a }, Decision::Paused { reason: b }) => {
                std::mem::discriminant(a) == std::mem::discriminant(b)
            }
            _ => false,
        }
    }
}

impl From<&Decision> for NodeActivity {
    /// What a decision means for the heartbeat (the reason in words).
    fn from(decision: &Decision) -> Self {
        match decision {
            Decision::Run { budget } => NodeActivity::Contributing { budget: *budget },
            Decision::Paused { reason } => NodeActivity::Paused {
                reason: reason.to_string(),
            },
        }
    }
}

/// Why the node is not contributing, in terms the UI can show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PauseReason {
    /// The owner switched contributing off.
    SwitchedOff,
    /// The owner snoozed contributing until this time (Unix ms).
    Snoozed {
        /// End of the snooze.
        until_ms: u64,
    },
    /// The owner used keyboard or mouse recently.
    OwnerActive {
        /// Seconds since the last input.
        idle_secs: u64,
        /// Seconds of idleness required.
        required_secs: u64,
    },
    /// The owner's programs use much CPU.
    OwnerCpuBusy {
        /// The owner's CPU use in percent.
        percent: u8,
    },
    /// Running from the battery.
    OnBattery,
    /// The CPU is too hot.
    CpuTooHot {
        /// Current temperature.
        celsius: u16,
        /// The limit.
        limit: u16,
    },
    /// A GPU is too hot.
    GpuTooHot {
        /// Current temperature.
        celsius: u16,
        /// The limit.
        limit: u16,
    },
    /// A full-screen application (game, video, presentation) is in front.
    FullscreenApp,
    /// Outside the weekly schedule for compute.
    OutsideSchedule,
    /// Too little free memory for work.
    LowMemory {
        /// Free memory in MiB.
        free_mib: u64,
    },
    /// Memory use cannot be read, so no memory budget can be sized safely.
    MemoryUnknown,
}

impl fmt::Display for PauseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PauseReason::SwitchedOff => write!(f, "contributing is switched off"),
            PauseReason::Snoozed { .. } => write!(f, "snoozed"),
            PauseReason::OwnerActive {
                idle_secs,
                required_secs,
            } => write!(
                f,
                "you are using this computer (idle {idle_secs} s of {required_secs} s needed)"
            ),
            PauseReason::OwnerCpuBusy { percent } => {
                write!(f, "your programs are busy ({percent}% CPU)")
            }
            PauseReason::OnBattery => write!(f, "running on battery"),
            PauseReason::CpuTooHot { celsius, limit } => {
                write!(f, "CPU too hot ({celsius} °C, limit {limit} °C)")
            }
            PauseReason::GpuTooHot { celsius, limit } => {
                write!(f, "GPU too hot ({celsius} °C, limit {limit} °C)")
            }
            PauseReason::FullscreenApp => write!(f, "a full-screen app is in front"),
            PauseReason::OutsideSchedule => write!(f, "outside your contribution schedule"),
            PauseReason::LowMemory { free_mib } => {
                write!(f, "too little free memory ({free_mib} MiB)")
            }
            PauseReason::MemoryUnknown => write!(f, "memory use cannot be read on this computer"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_outcome_ignores_quoted_readings_but_not_the_kind_or_budget() {
        let busy = |percent| Decision::Paused {
            reason: PauseReason::OwnerCpuBusy { percent },
        };
        assert!(busy(48).same_outcome(&busy(2)));
        let battery = Decision::Paused {
            reason: PauseReason::OnBattery,
        };
        assert!(!busy(48).same_outcome(&battery));
        let run = |cores| Decision::Run {
            budget: Budget {
                cores,
                ..Budget::default()
            },
        };
        assert!(run(2).same_outcome(&run(2)));
        assert!(!run(2).same_outcome(&run(3)));
        assert!(!run(2).same_outcome(&battery));
    }
}
