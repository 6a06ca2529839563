//! The HTTP API: `GET /v1/nodes` (registry as JSON, with reputations), `GET /v1/coordinator`,
//! `GET /metrics`; the job, blob and ledger routes are in [`crate::jobs::http`].

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use idleshare_protocol::api::Reputation;
use idleshare_protocol::{Budget, Capabilities, CreditRate, PROTOCOL_VERSION, ServingRate};
use serde::Serialize;

use crate::registry::NodeState;
use crate::server::Shared;

/// One node as `GET /v1/nodes` shows it.
#[derive(Debug, Serialize)]
pub struct NodeView {
    /// Printable node id.
    pub id: String,
    /// `online` or `offline`.
    pub state: NodeState,
    /// `starting`, `contributing` or `paused`.
    pub activity: String,
    /// Why the node is paused, in words (when paused).
    pub pause_reason: Option<String>,
    /// What work may use on this node (when contributing).
    pub budget: Option<Budget>,
    /// What the node registered with.
    pub capabilities: Capabilities,
    /// First registration (Unix ms).
    pub first_seen_ms: u64,
    /// Last registration or heartbeat (Unix ms).
    pub last_seen_ms: u64,
    /// Remote address of the latest session.
    pub remote_addr: String,
    /// Its track record of validated results.
    pub reputation: Reputation,
}

#[derive(Debug, Serialize)]
struct CoordinatorView {
    address: String,
    key: String,
    protocol_version: u16,
    heartbeat_interval_ms: u128,
    credit_rate: CreditRate,
    serving_rate: ServingRate,
    max_publish_bytes: u64,
    replicas: u8,
}

pub(crate) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown_signal();
    let router = Router::new()
        .route("/v1/nodes", get(nodes))
        .route("/v1/coordinator", get(coordinator))
        .route("/metrics", get(metrics))
        .merge(crate::jobs::http::routes())
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
            id: r.id.to_string(),
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

async fn coordinator(State(shared): State<Arc<Shared>>) -> Json<CoordinatorView> {
    Json(CoordinatorView {
        address: shared.address.to_string(),
        key: shared.address.key.to_string(),
        protocol_version: PROTOCOL_VERSION,
        heartbeat_interval_ms: shared.config.heartbeat_interval.as_millis(),
        credit_rate: shared.config.work.credit_rate,
        serving_rate: shared.config.work.serving_rate,
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
