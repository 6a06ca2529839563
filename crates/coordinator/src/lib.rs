//! The Idleshare coordinator: admits nodes over QUIC, schedules and verifies compute jobs,
//! pays signed receipts, keeps published content pinned on nodes, and stores it all durably.
//!
//! - [`registry`], [`rate`] and [`admission`]: pure decisions (who is online, frame-rate
//!   limits, who may register and how often);
//! - [`store`]: the registry's store interface and its SQLite (WAL) implementation;
//! - [`jobs`]: compute jobs: a pure book (assignment, quorum, settlement, receipts), an
//!   engine that commits its changes (`work.db`) and only then sends messages;
//! - [`server`]: the running coordinator (QUIC endpoint, sessions, flush, shutdown);
//! - [`config`]: how a coordinator is run;
//! - [`quic_door`]: the QUIC front door (caps in all and per address, Retry under load, a
//!   budget each for node sessions and cache clients);
//! - `bulk`: bulk streams beside the control stream (the bandwidth test);
//! - [`http_door`]: the HTTP front door (timeouts, connection and request caps, body
//!   limits) and [`http`]: the HTTP API's own routes (`/v1/nodes`, `/metrics`);
//! - [`content`]: published content, pins on nodes, relay, spot checks, the gateway;
//! - [`client`]: the typed client of the HTTP API, for shells and the local network;
//! - [`metrics`]: counters in the Prometheus text format.
#![deny(missing_docs)]

mod accept;
pub mod admission;
pub mod auth;
mod bulk;
mod bulk_work;
pub mod client;
pub mod config;
pub mod content;
mod delivery;
pub mod http;
pub mod http_door;
pub mod jobs;
pub mod metrics;
pub mod quic_door;
pub mod rate;
pub mod registry;
pub mod server;
mod session;
mod session_loop;
pub mod store;

pub use registry::{NodeRecord, NodeState};
pub use server::{Coordinator, CoordinatorConfig, CoordinatorError};
