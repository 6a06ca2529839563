//! The HTTP API's routes: `GET /v1/nodes` (the public registry: capabilities and
//! reputations, no addresses, no live state), `GET /v1/operator/nodes` (everything, signed
//! with the coordinator's own key), `GET /v1/coordinator`, `GET /metrics`; the job, blob and
//! ledger routes are in [`crate::jobs::http`], the content routes in
//! [`crate::content::http`]. Paths and bodies are `idleshare_protocol::api`'s. The routes
//! are served through [`crate::http_door`], which bounds time, connections and bodies.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use idleshare_protocol::PROTOCOL_VERSION;
use idleshare_protocol::api::{CoordinatorInfo, NodeView, OperatorNodeView, routes};

use crate::auth::Signed;
use crate::jobs::http::Failure;
use crate::server::Shared;

pub(crate) async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let shutdown = shared.shutdown_signal();
    let limits = shared.config.http_limits.clone();
    let publish_limit = shared.content.config.max_publish_bytes;
    let json_limit = usize::try_from(limits.json_body_limit).unwrap_or(usize::MAX);
    let router = Router::new()
        .route(routes::NODES, get(nodes))
        .route(routes::OPERATOR_NODES, get(operator_nodes))
        .route(routes::COORDINATOR, get(coordinator))
        .route(routes::METRICS, get(metrics))
        .merge(crate::jobs::http::routes())
        .merge(crate::jobs::money_http::routes())
        .merge(crate::content::http::routes())
        // Routes with larger bodies set their own limit; every other one takes JSON only.
        .layer(DefaultBodyLimit::max(json_limit))
        .with_state(shared);
    crate::http_door::serve(listener, router, limits, publish_limit, shutdown).await;
}

/// Every node with everything known about it.
fn operator_views(shared: &Shared) -> Vec<OperatorNodeView> {
    shared
        .records()
        .into_iter()
        .map(|r| OperatorNodeView {
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
        .collect()
}

async fn nodes(State(shared): State<Arc<Shared>>) -> Json<Vec<NodeView>> {
    Json(
        operator_views(&shared)
            .iter()
            .map(OperatorNodeView::public)
            .collect(),
    )
}

async fn operator_nodes(
    State(shared): State<Arc<Shared>>,
    signed: Signed,
) -> Result<Json<Vec<OperatorNodeView>>, Response> {
    if signed.account != shared.work.issuer() {
        let error = "only the operator sees node addresses and live state: sign with the \
                     coordinator's key (`idleshare coordinator nodes` on the coordinator's \
                     machine); the public list is GET /v1/nodes";
        return Err(Failure::new(StatusCode::FORBIDDEN, error).into_response());
    }
    Ok(Json(operator_views(&shared)))
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
        id_difficulty: shared.config.admission.id_difficulty,
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
