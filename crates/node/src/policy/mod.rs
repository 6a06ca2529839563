//! The contribution policy: a pure decision from settings, the latest snapshot and `now`.
//!
//! [`ContributionPolicy::decide`] returns [`Decision::Run`] with a budget, or
//! [`Decision::Paused`] with a reason. It reads no clock and does no IO: the caller takes a
//! [`PolicyClock`] at the edge (see [`PolicyClock::local_now`]). Its only memory is the
//! hysteresis, so short spikes do not make work start and stop.
//!
//! # Precedence
//!
//! When several rules apply, the first in this list is the reason shown, so the owner
//! sees what they chose before what the machine measured, and the most lasting cause first:
//!
//! 1. [`PauseReason::SwitchedOff`]: `contribution.enabled = false`.
//! 2. [`PauseReason::Snoozed`]: before `contribution.snooze_until_ms`.
//! 3. [`PauseReason::OutsideSchedule`]: no `schedule.compute` window open.
//! 4. [`PauseReason::OnBattery`]: on battery power (no battery, or unreadable = mains).
//! 5. [`PauseReason::CpuTooHot`], then [`PauseReason::GpuTooHot`]: above the limit; resumes
//!    below the limit minus `policy.thermal_resume_margin_celsius` (unknown = cool).
//! 6. [`PauseReason::FullscreenApp`]: a full-screen app in front (unknown = no).
//! 7. [`PauseReason::OwnerActive`]: input less than `policy.input_idle_secs` ago
//!    (unknown, as on a headless server = idle).
//! 8. [`PauseReason::OwnerCpuBusy`]: the owner's CPU above `owner_cpu_pause_percent` for
//!    `owner_cpu_pause_after_secs`, until below `owner_cpu_resume_percent` for
//!    `owner_cpu_resume_after_secs` (unknown = not busy).
//! 9. [`PauseReason::LowMemory`]: free memory below `policy.min_free_memory_percent` of
//!    total, until it is [`LOW_MEMORY_RESUME_MARGIN_PERCENT`] points above again.
//! 10. [`PauseReason::MemoryUnknown`]: memory cannot be read, so no memory budget can be
//!     sized.
//!
//! While running, the budget's `network` follows `schedule.network`, and `gpu` needs
//! `budget.gpu_enabled` and the input-idle rule.

mod budget;
pub mod clock;
pub mod contribution;
pub mod decision;
mod hysteresis;
pub mod schedule;

#[cfg(test)]
mod contribution_tests;
#[cfg(test)]
mod schedule_tests;
#[cfg(test)]
mod sequence_tests;
#[cfg(test)]
mod test_fixtures;

pub use clock::PolicyClock;
pub use contribution::{ContributionPolicy, LOW_MEMORY_RESUME_MARGIN_PERCENT};
pub use decision::{Decision, PauseReason};
pub use schedule::{ScheduleError, ScheduleWindow, WeeklySchedule};
