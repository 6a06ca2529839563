//! The contribution policy: a pure decision from settings, the latest snapshot and `now`.

pub mod decision;

pub use decision::{Decision, PauseReason};
