//! A demo site for a local network: a few MiB of content published to the edge cache once,
//! then read back through the coordinator's HTTP gateway now and then, as a visitor would.
//! The local node keeps the copy, serves it to the gateway and is paid for the bytes, so a
//! new user sees the cache side of contributing too.

use idleshare_protocol::ContentId;
use idleshare_protocol::api::{ContentPublished, PublishQuery};

use idleshare_coordinator::client::{ApiClient, ClientError};

/// The demo site's size.
const SITE_BYTES: usize = 4 << 20;
/// Its name in the content list.
pub const SITE_NAME: &str = "demo-site.bin";

/// The demo site's bytes: the same on every run, so it is published once per coordinator.
pub fn site_bytes() -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut bytes = Vec::with_capacity(SITE_BYTES);
    while bytes.len() < SITE_BYTES {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(SITE_BYTES);
    bytes
}

/// Days of storage the demo pays for at a time.
const SITE_DAYS: u32 = 365;
/// What the demo sets aside for visits through the gateway.
const SITE_SERVING_BUDGET: u64 = 100_000_000;

/// Publishes the site (one copy: a local network has one node), paying for its storage
/// and for gateway visits.
pub(crate) fn publish(api: &ApiClient) -> Result<ContentPublished, ClientError> {
    let bytes = site_bytes();
    let query = PublishQuery {
        name: Some(SITE_NAME.into()),
        replicas: Some(1),
        days: Some(SITE_DAYS),
        serving_budget: Some(SITE_SERVING_BUDGET),
    };
    api.publish(
        &mut bytes.as_slice(),
        bytes.len() as u64,
        ContentId::of(&bytes),
        &query,
    )
}

/// Reads the whole site through the gateway and checks it; returns the bytes read.
pub(crate) fn visit(api: &ApiClient, id: &ContentId) -> Result<u64, ClientError> {
    Ok(api.gateway(id)?.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_is_the_same_bytes_every_time() {
        let site = site_bytes();
        assert_eq!(site.len(), SITE_BYTES);
        assert_eq!(ContentId::of(&site), ContentId::of(&site_bytes()));
    }
}
