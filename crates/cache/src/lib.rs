//! The Idleshare edge cache: verified content on disk, served in ranges over QUIC, fetched
//! by clients that check every byte.
//!
//! - [`store`]: content on disk within a quota (LRU eviction, an index that survives
//!   restarts, scrubbing);
//! - [`serve`]: answering a range request with the verified encoding, under an upload cap;
//! - [`fetch`]: asking one provider for a range and checking each group as it arrives;
//! - [`download`]: whole downloads across providers (ranking, failover, receipts);
//! - [`client`]: a customer's fetch into a file (routes, resume, final check);
//! - [`connect`]: cache endpoints and dialling them, keys pinned both ways;
//! - [`pace`]: the token bucket behind upload and download caps.
//!
//! The tree and the encoding themselves are pure and live in `idleshare_protocol::tree`.
#![deny(missing_docs)]

pub mod client;
pub mod connect;
pub mod download;
pub mod fetch;
pub mod pace;
pub mod serve;
pub mod store;
mod verifier;

pub use connect::{ConnectError, cache_limits, client_endpoint, connect, resolve, server_endpoint};
pub use download::{BadData, DownloadConfig, DownloadError, Downloader, Payer, Segment};
pub use fetch::{FetchError, FetchOptions, Piece, Route, Transfer, fetch_range, send_receipt};
pub use pace::Pacer;
pub use serve::{ServeError, send_range};
#[cfg(feature = "test-hooks")]
pub use serve::{Tamper, send_tampered_range};
pub use store::{
    ContentReader, ContentStore, Damage, Fill, ScrubOutcome, StoreError, StoredItem, Usage,
};
