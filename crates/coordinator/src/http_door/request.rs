//! One request through the front door: counted against the requests in flight (503 with
//! `Retry-After` when full), its announced length checked against its route's limit (413),
//! its body paced, then handed to the router; the response holds the request's slot and its
//! connection's "busy" mark until its last byte.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use axum::response::{IntoResponse, Json};
use futures_util::StreamExt;
use hyper::body::Incoming;
use idleshare_base::sync::Mutex;
use idleshare_protocol::api::ApiError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower_service::Service;

use super::bodies::{HeldBody, PacedBody};
use super::clock::ConnectionClock;
use super::limits::{HttpLimits, body_limit};

/// Seconds a client refused for load is told to wait.
pub const RETRY_AFTER_SECS: u64 = 1;

/// What every connection shares: the routes and the bounds.
pub struct Gate {
    /// The API's routes.
    pub router: Router,
    /// One permit per request in flight.
    pub in_flight: Arc<Semaphore>,
    /// The bounds.
    pub limits: HttpLimits,
    /// The publish route's body limit (the coordinator's `--max-publish-mib`).
    pub publish_limit: u64,
}

/// A request being answered on a connection; its end is told to the connection's clock.
struct Answering(Arc<Mutex<ConnectionClock>>);

impl Answering {
    fn begin(clock: Arc<Mutex<ConnectionClock>>) -> Self {
        clock.lock().on_request();
        Self(clock)
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.lock().on_response_done(Instant::now());
    }
}

/// Answers one request of a connection whose clock is `clock`.
pub async fn answer(
    gate: Arc<Gate>,
    clock: Arc<Mutex<ConnectionClock>>,
    peer: std::net::SocketAddr,
    mut request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    // Handlers that need the sender's network (a job's, for the streak rule) read it here.
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    let answering = Answering::begin(clock);
    let Ok(permit) = gate.in_flight.clone().try_acquire_owned() else {
        return Ok(held(busy(gate.limits.max_in_flight), (answering, None)));
    };
    let limits = &gate.limits;
    let path = request.uri().path().to_owned();
    let limit = body_limit(
        request.method(),
        &path,
        limits.json_body_limit,
        gate.publish_limit,
    );
    if let Some(announced) = announced_length(request.headers())
        && announced > limit
    {
        let refusal = too_large(request.method().as_str(), &path, limit, announced);
        if announced <= MAX_DRAIN && !expects_continue(request.headers()) {
            drain(request.into_body(), limits).await;
        }
        return Ok(held(refusal, (answering, Some(permit))));
    }
    let (stall, rate) = (limits.body_stall, limits.min_body_rate);
    let request = request.map(|body| Body::new(PacedBody::new(Body::new(body), stall, rate)));
    let mut router = gate.router.clone();
    let response = router.call(request).await?;
    Ok(held(response, (answering, Some(permit))))
}

/// Most bytes of a refused body read and dropped before answering 413, so a client that
/// sends its body without waiting for `100 Continue` reads the answer instead of being reset
/// mid-upload; a larger body is answered at once and its connection closed.
const MAX_DRAIN: u64 = 32 << 20;

/// Whether the client waits for `100 Continue` before sending its body.
fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get(header::EXPECT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
}

/// Reads `body` to its end (or until it stalls or crawls) and drops it.
async fn drain(body: Incoming, limits: &HttpLimits) {
    let paced = PacedBody::new(Body::new(body), limits.body_stall, limits.min_body_rate);
    let mut frames = Body::new(paced).into_data_stream();
    // Only while the client keeps sending: one that waits for the answer before sending
    // its body (or sends none) gets it after a short pause, not after the stall timeout.
    let pause = limits.body_stall.min(DRAIN_PAUSE);
    while let Ok(Some(Ok(_))) = tokio::time::timeout(pause, frames.next()).await {}
}

/// Longest wait for the next piece of a refused body before answering anyway.
const DRAIN_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// `response`, holding `slot` until its body is sent.
fn held(
    response: Response<Body>,
    slot: (Answering, Option<OwnedSemaphorePermit>),
) -> Response<Body> {
    response.map(|body| Body::new(HeldBody::new(body, slot)))
}

/// The `Content-Length` a request announces, if any.
fn announced_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// 503: every request slot is taken.
fn busy(max: usize) -> Response<Body> {
    let error = format!(
        "the coordinator is answering {max} requests, its limit; retry after \
         {RETRY_AFTER_SECS} s"
    );
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(ApiError { error })).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// 413: the body announced is over the route's limit.
fn too_large(method: &str, path: &str, limit: u64, announced: u64) -> Response<Body> {
    let error = format!(
        "a {method} {path} body may be at most {limit} bytes; this one is {announced} bytes"
    );
    (StatusCode::PAYLOAD_TOO_LARGE, Json(ApiError { error })).into_response()
}
