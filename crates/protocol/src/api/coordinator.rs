//! The coordinator itself: `GET /v1/coordinator` → [`CoordinatorInfo`], what a client needs
//! before it publishes or fetches (the address to pin, the prices, the limits).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::address::CoordinatorAddress;
use crate::ids::NodeId;
use crate::receipt::{CreditRate, ServingRate, StorageRate};

fn no_storage_rate() -> StorageRate {
    StorageRate {
        micro_tokens_per_gib_day: 0,
    }
}

/// What a coordinator says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinatorInfo {
    /// Its address (`KEY@HOST:PORT` text in JSON), for nodes and fetching clients.
    #[serde(
        serialize_with = "address_as_text",
        deserialize_with = "address_from_text"
    )]
    pub address: CoordinatorAddress,
    /// Its public key (also in the address).
    pub key: NodeId,
    /// The protocol version it speaks.
    pub protocol_version: u16,
    /// How often nodes heartbeat, in ms.
    pub heartbeat_interval_ms: u64,
    /// What it pays for validated fuel.
    pub credit_rate: CreditRate,
    /// What it pays for serving cached content.
    pub serving_rate: ServingRate,
    /// The operator's fee, in basis points (1/100 of a percent) on top of every payment to
    /// a node, taken from the same escrow.
    #[serde(default)]
    pub fee_bps: u32,
    /// What keeping published content costs, per copy (the origin's counts as one).
    #[serde(default = "no_storage_rate")]
    pub storage_rate: StorageRate,
    /// How often nodes holding copies are paid for them, in ms.
    #[serde(default)]
    pub storage_period_ms: u64,
    /// The largest content it accepts for publishing, in bytes.
    pub max_publish_bytes: u64,
    /// Live copies kept of published content unless the publisher asks otherwise.
    pub replicas: u8,
    /// Leading zero bits a node's identity proof of work must have (see
    /// [`crate::proof`]); a node that knows it can compute its proof before registering.
    #[serde(default)]
    pub id_difficulty: u8,
}

fn address_as_text<S: Serializer>(
    address: &CoordinatorAddress,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(address)
}

fn address_from_text<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<CoordinatorAddress, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(serde::de::Error::custom)
}
