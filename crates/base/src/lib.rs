//! The bottom of the house: what every other crate used to write for itself.
//!
//! - [`clock`]: the wall clock as Unix milliseconds, and the start of the local day;
//! - [`sync`]: the one mutex (and condition variable) the project uses;
//! - [`db`]: one way to open an SQLite file, with its durability said out loud.
//!
//! Pure crates (`idleshare-protocol`) stay below even this: they take time as an argument.
#![deny(missing_docs)]

pub mod clock;
pub mod db;
pub mod sync;
