//! Storing pinned content: from a peer that holds it, else from the coordinator's origin
//! copy, every group checked on arrival, within the quota and the download cap, only while
//! the policy allows network work.

use idleshare_base::clock::unix_ms;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use idleshare_cache::{
    ConnectError, FetchError, FetchOptions, Piece, Route, StoreError, client_endpoint, connect,
    fetch_range, resolve,
};
use idleshare_protocol::cache::{PinOrder, PinOutcome};
use idleshare_protocol::order::SignedOrderLimit;
use idleshare_protocol::tree::ByteRange;
use idleshare_protocol::{ContentId, NodeId};
use rand::seq::SliceRandom;
use tokio::sync::mpsc;

use super::{CacheService, NetworkPermission, network_permission};

/// How long to wait for a source to answer at all.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A source silent this long mid-transfer is dropped for the next one.
const STALL: Duration = Duration::from_secs(15);

/// Fills pin orders one at a time, as they come.
pub(super) async fn run_pins(
    service: Arc<CacheService>,
    mut orders: mpsc::UnboundedReceiver<PinOrder>,
) {
    while let Some(order) = orders.recv().await {
        wait_for_network(&service).await;
        if service.unpinned.lock().contains(&order.content) {
            continue;
        }
        let outcome = fill(&service, &order).await;
        match &outcome {
            PinOutcome::Stored => tracing::info!(
                "cache: stored {} ({} bytes)",
                order.content.short(),
                order.size
            ),
            other => tracing::warn!(
                "cache: could not store {}: {other:?}",
                order.content.short()
            ),
        }
        if service.unpinned.lock().contains(&order.content) {
            let _ = service.store.remove(&order.content);
            continue;
        }
        service.report(order.content, outcome);
    }
}

async fn wait_for_network(service: &CacheService) {
    let mut activity = service.activity.clone();
    while matches!(
        network_permission(&activity.borrow_and_update()),
        NetworkPermission::Closed(_)
    ) {
        if activity.changed().await.is_err() {
            return;
        }
    }
}

/// A place to fetch from.
/// Where a fill comes from: a peer (under the order limit the pin order carries for it)
/// or the coordinator's origin copy.
enum Source {
    Peer(NodeId, SocketAddr, Box<SignedOrderLimit>),
    Origin,
}

async fn fill(service: &CacheService, order: &PinOrder) -> PinOutcome {
    if service.store.contains(&order.content) {
        return PinOutcome::Stored;
    }
    let mut sources: Vec<Source> = order
        .peers
        .iter()
        .filter(|peer| peer.node != service.node)
        .filter_map(|peer| {
            let order = peer.order.clone()?;
            peer.direct
                .map(|addr| Source::Peer(peer.node, addr, Box::new(order)))
        })
        .collect();
    sources.shuffle(&mut rand::rng());
    sources.push(Source::Origin);
    let mut last_error = String::from("no source");
    for source in sources {
        match fill_from(service, order, &source).await {
            Ok(()) => return PinOutcome::Stored,
            Err(FillError::Local(e)) => {
                return PinOutcome::Failed {
                    reason: e.to_string(),
                };
            }
            Err(FillError::Source(e)) => {
                tracing::info!("cache: filling {}: {e}", order.content.short());
                last_error = e.to_string();
            }
        }
    }
    PinOutcome::Failed {
        reason: format!("no source could provide it; last: {last_error}"),
    }
}

enum FillError {
    /// This node cannot store it (quota, a full disk): no other source will help.
    Local(StoreError),
    /// This source failed; the next may do.
    Source(SourceError),
}

/// Why one source could not provide a copy.
#[derive(Debug, thiserror::Error)]
enum SourceError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
}

impl From<ConnectError> for FillError {
    fn from(error: ConnectError) -> Self {
        Self::Source(error.into())
    }
}

async fn fill_from(
    service: &CacheService,
    order: &PinOrder,
    source: &Source,
) -> Result<(), FillError> {
    let (server, addr) = match source {
        Source::Peer(node, addr, _) => (*node, *addr),
        Source::Origin => {
            let addr = resolve(&service.coordinator.host_port()).await?;
            (service.coordinator.key, addr)
        }
    };
    let endpoint = client_endpoint(addr)?;
    let connection = connect(&endpoint, &service.key, server, addr, CONNECT_TIMEOUT).await?;
    let route = match source {
        Source::Peer(node, _, order) => {
            Route::node(connection.clone(), *node).with_order(Some((**order).clone()))
        }
        Source::Origin => Route::origin(connection.clone()),
    };
    let result = fetch_into_store(service, order.content, order.size, &route).await;
    connection.close(0u32.into(), b"done");
    let _ = tokio::time::timeout(Duration::from_secs(1), endpoint.wait_idle()).await;
    result
}

async fn fetch_into_store(
    service: &CacheService,
    content: ContentId,
    size: u64,
    route: &Route,
) -> Result<(), FillError> {
    let (mut fill, evicted) = service
        .store
        .begin_fill(content, size)
        .map_err(FillError::Local)?;
    service.report_evicted(evicted, "room for newer content");
    let options = FetchOptions {
        stall: STALL,
        pacer: Some(&service.download),
    };
    fetch_range(
        route,
        content,
        size,
        ByteRange::whole(size),
        options,
        |piece| match piece {
            Piece::Parent { index, bytes } => fill.write_parent(index, bytes),
            Piece::Content { at, bytes } => fill.write_content(at, bytes),
        },
    )
    .await
    .map_err(|e| match e {
        FetchError::Sink(e) => FillError::Local(e),
        other => FillError::Source(other.into()),
    })?;
    fill.commit(unix_ms()).map_err(FillError::Local)
}
