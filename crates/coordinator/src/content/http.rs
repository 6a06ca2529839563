//! Content routes of the HTTP API: publish (`PUT /v1/content`, signed, streamed to disk,
//! its storage escrowed first), list and status with providers (`GET /v1/content[/{id}]`,
//! public), order limits for a fetch (`POST /v1/content/{id}/orders`, signed, escrowed),
//! bad-data reports (`POST /v1/content/{id}/reports`), and the gateway
//! (`GET /content/{id}`, in `gateway`).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post, put};
use futures_util::StreamExt;
use idleshare_protocol::ContentId;
use idleshare_protocol::api::{
    ApiError, BadDataReport, ContentPublished, ContentStatus, PublishQuery, routes,
};
use tokio::io::AsyncWriteExt;

use idleshare_protocol::MicroTokens;

use super::book::ContentRecord;
use crate::auth::Signed;
use crate::jobs::storage::StorageRequest;
use idleshare_base::clock::unix_ms;

use crate::server::Shared;

/// An error answer: a status and a sentence.
#[derive(Debug)]
pub(crate) struct Failure(pub StatusCode, pub String);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(ApiError { error: self.1 })).into_response()
    }
}

/// The routes, merged into the coordinator's router.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            routes::CONTENT_LIST,
            put(publish).get(list).layer(DefaultBodyLimit::disable()),
        )
        .route(routes::CONTENT, get(status))
        .route(routes::CONTENT_ORDERS, post(super::orders::orders))
        .route(routes::CONTENT_REPORTS, post(report))
        .route(routes::GATEWAY, get(super::gateway::fetch))
}

pub(crate) fn parse_id(text: &str) -> Result<ContentId, Failure> {
    text.parse()
        .map_err(|e: idleshare_protocol::content::ContentIdError| {
            Failure(StatusCode::BAD_REQUEST, e.to_string())
        })
}

/// Longest content name kept.
const MAX_NAME: usize = 255;
/// Most copies a publisher may ask for.
const MAX_REPLICAS: u8 = 16;

/// Days of storage paid when the publisher does not say.
const DEFAULT_DAYS: u32 = 30;
/// Most days paid at once.
const MAX_DAYS: u32 = 3650;

async fn publish(
    State(shared): State<Arc<Shared>>,
    signed: Signed,
    Query(query): Query<PublishQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ContentPublished>, Failure> {
    let limit = shared.content.config.max_publish_bytes;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = announced.filter(|len| *len > limit) {
        let message = format!("content of {len} bytes is larger than the {limit}-byte limit");
        return Err(Failure(StatusCode::PAYLOAD_TOO_LARGE, message));
    }
    let replicas = query.replicas.unwrap_or(shared.content.config.replicas);
    if replicas == 0 || replicas > MAX_REPLICAS {
        let message = format!("replicas must be 1..={MAX_REPLICAS}, got {replicas}");
        return Err(Failure(StatusCode::UNPROCESSABLE_ENTITY, message));
    }
    let days = query.days.unwrap_or(DEFAULT_DAYS);
    if days == 0 || days > MAX_DAYS {
        let message = format!("days must be 1..={MAX_DAYS}, got {days}");
        return Err(Failure(StatusCode::UNPROCESSABLE_ENTITY, message));
    }
    let name: String = query
        .name
        .unwrap_or_default()
        .chars()
        .take(MAX_NAME)
        .collect();
    let (upload, hashed) = receive(&shared, body).await?;
    if hashed != signed.body {
        let message = format!(
            "the body hashes to {hashed}, not the {} signed",
            signed.body
        );
        return Err(Failure(StatusCode::BAD_REQUEST, message));
    }
    let size = upload.1;
    let funding = StorageRequest {
        owner: signed.account,
        content: hashed,
        size,
        replicas,
        days,
        serving_budget: query.serving_budget.unwrap_or(0),
    };
    let now = unix_ms();
    let (funded, ticket) = shared
        .work
        .apply(|book, _, ch| book.fund_storage(funding, now, ch));
    let funded = funded.map_err(|e| Failure(StatusCode::PAYMENT_REQUIRED, e.to_string()))?;
    let origin = shared.content.origin.clone();
    // The upload file is moved into the store (or deleted when `upload` drops).
    let imported = tokio::task::spawn_blocking(move || origin.import(&upload.0, unix_ms()))
        .await
        .map_err(|e| Failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
        .and_then(|r| r.map_err(|e| Failure(StatusCode::INSUFFICIENT_STORAGE, e.to_string())));
    // Whatever fails from here on, a storage term paid just now is undone whole.
    let undo = |failure: Failure| {
        if funded.new {
            shared
                .work
                .apply(|book, _, ch| book.cancel_storage(hashed, unix_ms(), ch));
        }
        failure
    };
    let id = imported.map_err(undo)?;
    let internal =
        |e: &dyn std::fmt::Display| Failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    shared
        .work
        .wait_committed(ticket, super::super::jobs::http::COMMIT_TIMEOUT)
        .await
        .map_err(|e| undo(internal(&e)))?;
    let record = ContentRecord {
        id,
        size,
        name,
        replicas,
        published_ms: unix_ms(),
    };
    let new = shared
        .content
        .publish(record)
        .map_err(|e| undo(internal(&e)))?;
    tracing::info!(
        "published {id} ({size} bytes, {replicas} copies, {} escrowed for storage)",
        MicroTokens(funded.storage)
    );
    Ok(Json(ContentPublished {
        id,
        size,
        replicas,
        new,
        storage_escrowed: MicroTokens(funded.storage),
        serving_budget: MicroTokens(funded.serving_budget),
        paid_until_ms: funded.paid_until_ms,
    }))
}

/// A temporary upload file, deleted unless it was moved into the store.
struct Upload(std::path::PathBuf, u64);

impl Drop for Upload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Streams the body into a `.part` file in the origin store (removed at the next start if
/// the coordinator dies meanwhile), within the size limit; returns it with its BLAKE3.
async fn receive(shared: &Shared, body: Body) -> Result<(Upload, ContentId), Failure> {
    let limit = shared.content.config.max_publish_bytes;
    let name = format!("upload-{:016x}.part", rand::random::<u64>());
    let path = shared.content.origin.dir().join(name);
    let storage = |e: std::io::Error| Failure(StatusCode::INSUFFICIENT_STORAGE, e.to_string());
    let mut file = tokio::fs::File::create(&path).await.map_err(storage)?;
    let mut upload = Upload(path, 0);
    let mut hasher = blake3::Hasher::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Failure(StatusCode::BAD_REQUEST, e.to_string()))?;
        upload.1 += chunk.len() as u64;
        if upload.1 > limit {
            let message = format!("content larger than the {limit}-byte limit");
            return Err(Failure(StatusCode::PAYLOAD_TOO_LARGE, message));
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(storage)?;
    }
    file.sync_all().await.map_err(storage)?;
    let id = ContentId::from_bytes(*hasher.finalize().as_bytes());
    Ok((upload, id))
}

async fn list(State(shared): State<Arc<Shared>>) -> Json<Vec<ContentStatus>> {
    Json(shared.content.list(&shared))
}

async fn status(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<ContentStatus>, Failure> {
    let id = parse_id(&id)?;
    match shared.content.status(&shared, &id) {
        Some(status) => Ok(Json(status)),
        None => Err(missing(&shared, id).await),
    }
}

/// The answer for content not (or no longer) here: 410 with when its storage ran out, or
/// 404.
pub(crate) async fn missing(shared: &Arc<Shared>, id: ContentId) -> Failure {
    let reading = shared.clone();
    let ended = tokio::task::spawn_blocking(move || reading.work.store().storage_ended(&id))
        .await
        .ok()
        .and_then(Result::ok)
        .flatten();
    match ended {
        Some(until) => Failure(
            StatusCode::GONE,
            format!(
                "content {id} expired: its storage was paid until {until} (Unix ms); it was \
                 unpinned and deleted. Publish it again to bring it back"
            ),
        ),
        None => Failure(StatusCode::NOT_FOUND, format!("no content {id}")),
    }
}

async fn report(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Result<Json<BadDataReport>, JsonRejection>,
) -> Result<StatusCode, Failure> {
    let id = parse_id(&id)?;
    let Json(report) = body.map_err(|e| Failure(e.status(), e.body_text()))?;
    if shared.content.status(&shared, &id).is_none() {
        return Err(Failure(StatusCode::NOT_FOUND, format!("no content {id}")));
    }
    tracing::info!(
        "client reports bad data from {} at {} of {}: {}",
        report.node.short(),
        report.offset,
        id.short(),
        report.detail
    );
    // A flood of reports runs one check per copy at a time.
    if shared.content.begin_report_check(id, report.node) {
        tokio::spawn(async move {
            super::spot_check(&shared, report.node, id, Some(report.offset)).await;
            shared.content.end_report_check(id, report.node);
        });
    }
    Ok(StatusCode::ACCEPTED)
}
