//! Spot checks: now and then the coordinator fetches a random range of a random stored copy,
//! the way a client would (the node's own endpoint when it has one, with a throwaway key, so
//! the node cannot tell a check from a customer; else through its control connection). Bytes
//! are verified and the time to first byte measured; a node caught serving bad bytes is
//! banned and its copies are pinned elsewhere. A client's report of bad bytes triggers a
//! check of the range it names: the coordinator believes its own check, not the report.
//! A passed check makes more of the node's claimed quota believable; no answer, no copy or
//! a "busy" answer makes less of it (`reputation`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use idleshare_cache::{FetchError, FetchOptions, Route, connect, fetch_range};
use idleshare_protocol::cache::PinOutcome;
use idleshare_protocol::tree::{ByteRange, GROUP_BYTES};
use idleshare_protocol::{ContentId, NodeId};
use rand::Rng;
use rand::seq::IndexedRandom;

use super::book::CheckOutcome;
use crate::jobs::orders::{OrderRequest, Payer};
use crate::server::Shared;
use idleshare_base::clock::unix_ms;

/// Bytes a spot check asks for.
const CHECK_BYTES: u64 = 4 * GROUP_BYTES;
/// A node silent this long fails the check.
const STALL: Duration = Duration::from_secs(5);

/// Checks one random stored copy every `spot_check_every`.
pub(crate) async fn spot_check_loop(shared: Arc<Shared>) {
    let mut ticker = tokio::time::interval(shared.content.config.spot_check_every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let nodes = shared.content.node_views(&shared);
        let pins = shared.content.read(|book| book.stored_pins(&nodes));
        let Some((content, node)) = pins.choose(&mut rand::rng()).copied() else {
            continue;
        };
        check(&shared, node, content, None).await;
    }
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Good bytes, first one after this many microseconds.
    Passed(u64),
    /// Bad bytes: the node was penalised.
    BadData(String),
    /// Not serving now: counts against what is believed of its quota.
    Busy,
    /// No copy there any more.
    Missing,
    /// No answer.
    Unreachable(String),
}

/// Checks `node`'s copy of `content`: a random range, or the one around `offset`.
pub(crate) async fn check(
    shared: &Arc<Shared>,
    node: NodeId,
    content: ContentId,
    offset: Option<u64>,
) -> Verdict {
    shared.metrics.spot_checks.fetch_add(1, Ordering::Relaxed);
    let Some(size) = shared
        .content
        .read(|book| book.content(&content).map(|c| c.size))
    else {
        return Verdict::Missing;
    };
    let range = check_range(size, offset, rand::rng().random());
    let verdict = match route_to(shared, node, content, size).await {
        Ok(route) => {
            let options = FetchOptions {
                stall: STALL,
                pacer: None,
            };
            let fetched = fetch_range(&route, content, size, range, options, |_| Ok(())).await;
            verdict_of(fetched.map(|t| t.first_byte.as_micros() as u64))
        }
        Err(e) => Verdict::Unreachable(e.to_string()),
    };
    match &verdict {
        Verdict::Passed(ttfb) => {
            let outcome = CheckOutcome::Passed { ttfb_us: *ttfb };
            shared.content.checked(shared, node, outcome);
        }
        Verdict::BadData(detail) => shared.content.penalise(shared, node, detail),
        Verdict::Missing => {
            let reason = "a spot check found no copy".to_owned();
            let outcome = PinOutcome::Dropped { reason };
            shared.content.on_report(shared, node, content, outcome);
            shared.content.checked(shared, node, CheckOutcome::Failed);
        }
        Verdict::Unreachable(_) => shared.content.checked(shared, node, CheckOutcome::Failed),
        // Claiming space but busy whenever checked earns no belief (only nodes whose
        // policy allows serving are picked for checks).
        Verdict::Busy => shared.content.checked(shared, node, CheckOutcome::Busy),
    }
    tracing::debug!(
        "spot check of {} on {}: {verdict:?}",
        content.short(),
        node.short()
    );
    verdict
}

fn verdict_of(fetched: Result<u64, FetchError>) -> Verdict {
    match fetched {
        Ok(ttfb) => Verdict::Passed(ttfb),
        Err(e) if e.is_corrupt() => Verdict::BadData(e.to_string()),
        Err(FetchError::Busy { .. }) => Verdict::Busy,
        Err(FetchError::NotFound(_)) => Verdict::Missing,
        Err(e) => Verdict::Unreachable(e.to_string()),
    }
}

/// A group-aligned range of up to [`CHECK_BYTES`]: around `offset` if given, else at a
/// random place (`draw`).
fn check_range(size: u64, offset: Option<u64>, draw: u64) -> ByteRange {
    if size == 0 {
        return ByteRange::whole(0);
    }
    let groups = size.div_ceil(GROUP_BYTES);
    let group = match offset {
        Some(offset) => offset.min(size - 1) / GROUP_BYTES,
        None => draw % groups,
    };
    let start = group * GROUP_BYTES;
    ByteRange {
        start,
        end: (start + CHECK_BYTES).min(size),
    }
}

/// How long a spot check's order limit is valid (as long as a customer's, by default).
const ORDER_TTL_MS: u64 = 3_600_000;

/// The node's own endpoint when reachable, else its control connection; with a throwaway
/// client key and an order limit like any customer's (unpaid: a check earns nothing).
async fn route_to(
    shared: &Shared,
    node: NodeId,
    content: ContentId,
    size: u64,
) -> Result<Route, NotConnected> {
    let key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
    let request = OrderRequest {
        payer: Payer::Account(NodeId::from(key.verifying_key())),
        client: NodeId::from(key.verifying_key()),
        node,
        content,
        max_bytes: size,
        expires_at_ms: unix_ms().saturating_add(ORDER_TTL_MS),
    };
    let order = shared
        .work
        .read(|book| book.unpaid_order(request, rand::random::<u64>() >> 1));
    if let Some(addr) = shared.content.direct_addr(&node)
        && let Ok(connection) = connect(&shared.content.client, &key, node, addr, STALL).await
    {
        return Ok(Route::node(connection, node).with_order(Some(order)));
    }
    shared
        .live_connection(&node)
        .map(|connection| Route::node(connection, node).with_order(Some(order)))
        .ok_or(NotConnected(node))
}

/// A node with neither a reachable endpoint nor a control connection.
#[derive(Debug, thiserror::Error)]
#[error("node {} is not connected", .0.short())]
struct NotConnected(NodeId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_ranges_are_group_aligned_and_inside_the_content() {
        let size = 10 * GROUP_BYTES + 5;
        for draw in 0..40 {
            let range = check_range(size, None, draw);
            assert_eq!(range.start % GROUP_BYTES, 0);
            assert!(range.end <= size && range.start < range.end);
        }
        let around = check_range(size, Some(7 * GROUP_BYTES + 100), 0);
        assert_eq!(around.start, 7 * GROUP_BYTES);
        assert_eq!(check_range(size, Some(u64::MAX), 0).end, size);
        assert_eq!(check_range(0, None, 3), ByteRange::whole(0));
    }
}
