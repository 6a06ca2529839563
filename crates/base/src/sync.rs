//! The one mutex of the project.
//!
//! These locks do not poison: a thread that panics while holding one simply releases it.
//! That is the one way the project handles a panic under a lock, because every critical
//! section it guards either commits through SQLite (a transaction is all or nothing) or
//! updates small in-memory tables whose invariants hold between statements. Before this
//! module, each crate recovered from poison by hand, in three styles.
//!
//! `parking_lot`'s types are re-exported rather than wrapped: their API is the standard
//! one minus the `Result` (`lock()` returns the guard; `Condvar::wait` takes `&mut guard`).

pub use parking_lot::{Condvar, Mutex, MutexGuard};
