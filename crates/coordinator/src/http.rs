//! The HTTP API: `GET /v1/nodes` (registry as JSON, with reputations), `GET /v1/coordinator`,
//! `GET /metrics`; the job, blob and ledger routes are in [`crate::jobs::http`], the content
//! routes in [`crate::content::http`]. Paths and bodies are `idleshare_protocol::api`'s.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use idleshare_protocol::PROTOCOL_VERSION;
use idleshare_protocol::api::{CoordinatorInfo, NodeView, routes};

use crate::server::Shared;

pub(crate) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown_signal();
    let router = Router::new()
        .route(routes::NODES, get(nodes))
        .route(routes::COORDINATOR, get(coordinator))
        .route(routes::METRICS, get(metrics))
        .merge(crate::jobs::http::routes())
        .merge(crate::jobs::money_http::routes())
        .merge(crate::content::http::routes())
        .with_state(shared);
    let stopped = async move {
        let _ = shutdown.changed().await;
    };
    if let Err(e) = axum::serve(listener, router)
        .with_graceful_shutdown(stopped)
        .await
    {
        tracing::error!("HTTP API stopped: {e}");
    }
}

async fn nodes(State(shared): State<Arc<Shared>>) -> Json<Vec<NodeView>> {
    let views = shared
        .records()
        .into_iter()
        .map(|r| NodeView {
            reputation: shared.work.read(|book| book.reputation(&r.id)),
            id: r.id,
            state: r.state,
            activity: r.activity.label().into(),
            pause_reason: r.activity.pause_reason().map(str::to_owned),
            budget: r.activity.budget().copied(),
            capabilities: r.capabilities,
            first_seen_ms: r.first_seen_ms,
            last_seen_ms: r.last_seen_ms,
            remote_addr: r.remote_addr,
        })
        .collect();
    Json(views)
}

async fn coordinator(State(shared): State<Arc<Shared>>) -> Json<CoordinatorInfo> {
    let heartbeat_ms = shared.config.heartbeat_interval.as_millis();
    Json(CoordinatorInfo {
        address: shared.address.clone(),
        key: shared.address.key,
        protocol_version: PROTOCOL_VERSION,
        heartbeat_interval_ms: u64::try_from(heartbeat_ms).unwrap_or(u64::MAX),
        credit_rate: shared.config.work.credit_rate,
        serving_rate: shared.config.work.serving_rate,
        fee_bps: shared.config.work.fee_bps,
        storage_rate: shared.config.work.storage_rate,
        storage_period_ms: shared.config.work.storage_period_ms,
        max_publish_bytes: shared.content.config.max_publish_bytes,
        replicas: shared.content.config.replicas,
    })
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let (online, offline) = shared.counts();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        shared.metrics.render(online, offline)
            + &crate::metrics::render_work(shared.work.counters()),
    )
}
