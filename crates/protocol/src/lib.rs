//! The Idleshare wire protocol between nodes and coordinators.
//!
//! This crate is pure: no sockets, no async runtime and no clock. Time is passed in by
//! callers as milliseconds since the Unix epoch. Everything that crosses the network is
//! defined here, so node, coordinator and tests agree on one source of truth:
//!
//! - [`ids`]: node and coordinator identities (ed25519 public keys) and their printable form;
//! - [`address`]: the copy-pasteable coordinator address (`KEY@host:port`);
//! - [`version`]: protocol versions and negotiation;
//! - [`bounds`]: the one error for a field outside the protocol's limits;
//! - [`net`]: networks (IPv4 /24, IPv6 /48), the unit Sybil rules count owners by;
//! - [`proof`]: identity proof of work (the nonce a node grinds for its id);
//! - [`messages`]: the session messages (hello, register, welcome, heartbeat, error, goodbye);
//! - [`node_bounds`]: bounds on every text and list a node sends on its control stream;
//! - [`frame`]: length-prefixed postcard frames with a hard maximum size;
//! - [`bulk`]: requests on bulk streams (the bandwidth test, modules, inputs, results),
//!   beside the control stream;
//! - [`content`]: content ids (BLAKE3);
//! - [`cache`]: cache serving, service receipts and pin orders;
//! - [`job`] and [`abi`]: the job model and the contract a job module follows;
//! - [`work`]: assignments and unit reports;
//! - [`receipt`]: signed credit receipts and their chain;
//! - [`api`]: the JSON bodies of the coordinator's HTTP API;
//! - [`auth`]: signed HTTP requests (customer accounts and the operator);
//! - [`order`]: order limits, the coordinator's signed promise to pay a node for serving a client.
//! - [`tree`]: verified streaming of content (the BLAKE3 tree over 16 KiB groups).
#![deny(missing_docs)]

pub mod abi;
pub mod address;
pub mod api;
pub mod auth;
pub mod bounds;
pub mod bulk;
pub mod cache;
pub mod content;
pub mod frame;
pub mod ids;
pub mod job;
pub mod messages;
pub mod net;
pub mod node_bounds;
pub mod order;
pub mod proof;
pub mod receipt;
pub mod tree;
pub mod version;
pub mod work;

pub use address::{AddressError, CoordinatorAddress};
pub use content::ContentId;
pub use frame::{FrameError, MAX_CONTROL_FRAME_LEN, decode_frame, encode_frame};
pub use ids::{IdError, NodeId};
pub use job::{JobId, JobLimits, JobSpec, LeaseId, UnitId};
pub use messages::{
    BandwidthReport, Budget, Capabilities, CoordinatorMessage, ErrorCode, HardwareScores, Hello,
    NodeActivity, NodeMessage, Welcome,
};
pub use receipt::{
    ChainTip, Credit, CreditRate, MicroTokens, Receipt, ReceiptError, ServingRate, SignedReceipt,
    StorageRate,
};
pub use version::{ALPN, PROTOCOL_VERSION, SUPPORTED_VERSIONS, VersionError, negotiate};
pub use work::{Assignment, FailureKind, UnitOutcome, UnitReport, Verdict};
