//! The resource monitor: samples every source about once a second into a [`Snapshot`].
//!
//! Each source sits behind a trait (see [`snapshot`]) so tests can feed it; a source that
//! is unavailable reads "unknown" and never fails the node.

pub mod snapshot;

pub use snapshot::*;
