//! The HTTP gateway: `GET /content/{id}` (with `Range`) for browsers and curl. The
//! coordinator fetches from nodes as a client would (through their control connections, so
//! NAT does not matter), checks every group, streams the bytes on, pays the nodes for what
//! they served, and bans a node whose bytes fail. Its own origin copy is the last resort.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use idleshare_cache::download::RECEIPT_EVERY;
use idleshare_cache::{DownloadConfig, Downloader, Route};
use idleshare_protocol::auth::AccountId;
use idleshare_protocol::cache::Provider;
use idleshare_protocol::cache::ServiceReceipt;
use idleshare_protocol::tree::ByteRange;
use idleshare_protocol::{ContentId, NodeId};
use tokio::sync::mpsc;

use super::http::{Failure, missing, parse_id};
use crate::auth::{check_parts, is_signed};
use crate::jobs::orders::{OrderRequest, Payer};
use idleshare_base::clock::unix_ms;

use crate::server::Shared;

/// Bytes fetched and checked per step (small, for a quick first byte).
const SEGMENT: u64 = 1 << 20;
/// Segments buffered ahead of a slow HTTP client.
const AHEAD: usize = 4;

/// What a `Range` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// The whole content (no header, or one we do not honour).
    Whole,
    /// One range.
    Part(ByteRange),
    /// A range outside the content.
    Unsatisfiable,
}

/// Reads a `Range` header against `size`: a single `bytes=a-b`, `bytes=a-` or `bytes=-n`.
/// Several ranges, other units or malformed text are ignored (the whole is sent), as HTTP
/// allows.
pub(crate) fn wanted_range(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Wanted::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let range = match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => (start, end.saturating_add(1).min(size)),
        (Ok(_), Ok(_)) => return Wanted::Whole,
        (Ok(start), Err(_)) if last.is_empty() => (start, size),
        (Err(_), Ok(suffix)) if first.is_empty() && suffix > 0 => {
            (size.saturating_sub(suffix), size)
        }
        _ => return Wanted::Whole,
    };
    if range.0 >= size {
        return Wanted::Unsatisfiable;
    }
    Wanted::Part(ByteRange {
        start: range.0,
        end: range.1,
    })
}

pub(crate) async fn fetch(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, Response> {
    let (parts, _) = request.into_parts();
    let headers = &parts.headers;
    // The requester pays when it signs; anyone else is paid for by the publisher's budget.
    let payer = if is_signed(headers) {
        Some(check_parts(&parts, &shared)?.account)
    } else {
        None
    };
    let id = parse_id(&id).map_err(IntoResponse::into_response)?;
    let Some(status) = shared.content.status(&shared, &id) else {
        return Err(missing(&shared, id).await.into_response());
    };
    let size = status.size;
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (range, partial) = match wanted_range(range_header, size) {
        Wanted::Whole => (ByteRange::whole(size), false),
        Wanted::Part(range) => (range, true),
        Wanted::Unsatisfiable => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            let value = HeaderValue::from_str(&format!("bytes */{size}")).ok();
            if let Some(value) = value {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
    };
    let routes = ordered_routes(&shared, id, &status.providers, range, payer)
        .await
        .map_err(IntoResponse::into_response)?;
    let (chunks, body) = mpsc::channel::<Result<Bytes, std::io::Error>>(AHEAD);
    tokio::spawn(stream_range(
        shared.clone(),
        id,
        size,
        range,
        routes,
        chunks,
    ));
    let stream = futures_util::stream::unfold(body, |mut body| async move {
        body.recv().await.map(|chunk| (chunk, body))
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    let mut set = |name, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set(header::CONTENT_LENGTH, range.len().to_string());
    set(header::ACCEPT_RANGES, "bytes".into());
    set(header::CONTENT_TYPE, "application/octet-stream".into());
    set(header::ETAG, format!("\"{id}\""));
    if partial {
        set(
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{size}",
                range.start,
                range.end.saturating_sub(1)
            ),
        );
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    Ok(response)
}

/// How long a gateway order is valid (the gateway fetches at once; what an order did not
/// use goes back when it closes).
const ORDER_TTL_MS: u64 = 5 * 60_000;
/// Providers a gateway request takes orders for: the best two, so one anonymous request
/// holds at most two ranges' worth of a publisher's budget.
const GATEWAY_PROVIDERS: usize = 2;

/// A route to each connected provider, under an order limit the gateway presents as the
/// client: paid by `payer` when the request was signed (refused whole with 402 when it
/// cannot pay), else by the publisher's serving budget (no routes when it is spent: the
/// origin copy serves).
async fn ordered_routes(
    shared: &Arc<Shared>,
    content: ContentId,
    providers: &[Provider],
    range: ByteRange,
    payer: Option<AccountId>,
) -> Result<Vec<Route>, Failure> {
    let connected: Vec<(NodeId, quinn::Connection)> = providers
        .iter()
        .filter_map(|p| shared.live_connection(&p.node).map(|c| (p.node, c)))
        .take(GATEWAY_PROVIDERS)
        .collect();
    let now = unix_ms();
    let client = shared.address.key;
    let (orders, ticket) = shared.work.apply(|book, rng, ch| {
        let mut orders = Vec::new();
        for (node, _) in &connected {
            let request = OrderRequest {
                payer: payer.map_or(Payer::Budget(content), Payer::Account),
                client,
                node: *node,
                content,
                // One retried segment of slack.
                max_bytes: range.len().saturating_add(SEGMENT),
                expires_at_ms: now.saturating_add(ORDER_TTL_MS),
            };
            match book.issue_order(request, now, rng, ch) {
                Ok(order) => orders.push(order),
                Err(e) => return (orders, Some(e)),
            }
        }
        (orders, None)
    });
    let (orders, refused) = orders;
    if let (Some(account), Some(e)) = (payer, &refused)
        && orders.is_empty()
    {
        let message = format!("account {} cannot pay for this fetch: {e}", account.short());
        return Err(Failure(StatusCode::PAYMENT_REQUIRED, message));
    }
    if let Some(e) = refused {
        tracing::info!(
            "gateway: {} served partly from the origin: {e}",
            content.short()
        );
    }
    shared
        .work
        .wait_committed(ticket, COMMIT_TIMEOUT)
        .await
        .map_err(|e| Failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(connected
        .into_iter()
        .zip(orders)
        .map(|((node, connection), order)| Route::node(connection, node).with_order(Some(order)))
        .collect())
}

/// How long the gateway waits for its orders' escrow to be on disk.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Fetches `range` segment by segment and sends it down `chunks`; ends the body with an
/// error (a cut connection, never wrong bytes) if nobody, the origin included, can serve.
async fn stream_range(
    shared: Arc<Shared>,
    content: ContentId,
    size: u64,
    range: ByteRange,
    routes: Vec<Route>,
    chunks: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let config = DownloadConfig {
        segment: SEGMENT,
        stall: Duration::from_secs(5),
        ..DownloadConfig::default()
    };
    let serials: HashMap<NodeId, u64> = routes
        .iter()
        .filter_map(|r| Some((r.node?, r.serial()?)))
        .collect();
    let mut downloader = Downloader::new(content, size, routes, None, None, config);
    let mut paid: HashMap<NodeId, u64> = HashMap::new();
    let mut penalised = 0;
    let mut at = range.start;
    while at < range.end {
        let segment = ByteRange {
            start: at,
            end: (at + SEGMENT).min(range.end),
        };
        let fetched = downloader.segment(segment).await;
        for bad in &downloader.bad_data()[penalised..] {
            shared.content.penalise(&shared, bad.node, &bad.detail);
        }
        penalised = downloader.bad_data().len();
        let bytes = match fetched {
            Ok(fetched) => fetched.bytes,
            Err(e) => match read_origin(&shared, content, segment).await {
                Some(bytes) => bytes,
                None => {
                    tracing::warn!("gateway: {e}; the origin has no copy either");
                    pay(&shared, content, &serials, &downloader, &mut paid, 0);
                    let _ = chunks.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            },
        };
        pay(
            &shared,
            content,
            &serials,
            &downloader,
            &mut paid,
            RECEIPT_EVERY,
        );
        shared
            .metrics
            .gateway_bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if chunks.send(Ok(Bytes::from(bytes))).await.is_err() {
            break;
        }
        at = segment.end;
    }
    pay(&shared, content, &serials, &downloader, &mut paid, 0);
}

/// The gateway is the client here: the coordinator credits each node directly for the bytes
/// it checked, cumulative under the node's order like a client's receipts, once at least
/// `every` more bytes came from it (0: everything still unpaid).
fn pay(
    shared: &Shared,
    content: ContentId,
    serials: &HashMap<NodeId, u64>,
    downloader: &Downloader,
    paid: &mut HashMap<NodeId, u64>,
    every: u64,
) {
    let now = unix_ms();
    for (node, received) in downloader.received() {
        let Some(&session) = serials.get(&node) else {
            continue;
        };
        let before = paid.entry(node).or_default();
        if received <= *before || received - *before < every {
            continue;
        }
        *before = received;
        let claim = ServiceReceipt {
            client: shared.address.key,
            node,
            content,
            session,
            bytes: received,
            signed_at_ms: now,
        };
        let (paid, _) = shared
            .work
            .apply(|book, _, ch| book.credit_serving(&claim, now, ch));
        if let Err(e) = paid {
            tracing::error!("gateway: paying {}: {e}", node.short());
        }
    }
}

async fn read_origin(shared: &Shared, content: ContentId, range: ByteRange) -> Option<Vec<u8>> {
    let origin = shared.content.origin.clone();
    tokio::task::spawn_blocking(move || {
        let reader = origin.reader(&content, unix_ms()).ok()??;
        let mut bytes = Vec::new();
        reader.read_range(range, &mut bytes).ok()?;
        Some(bytes)
    })
    .await
    .ok()?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_headers_are_read_as_http_says() {
        let size = 1000;
        let part = |start, end| Wanted::Part(ByteRange { start, end });
        let cases = [
            (None, Wanted::Whole),
            (Some("bytes=0-99"), part(0, 100)),
            (Some("bytes=900-"), part(900, 1000)),
            (Some("bytes=-10"), part(990, 1000)),
            (Some("bytes=-5000"), part(0, 1000)),
            (Some("bytes=500-99999"), part(500, 1000)),
            (Some("bytes=1000-"), Wanted::Unsatisfiable),
            (Some("bytes=5000-6000"), Wanted::Unsatisfiable),
            (Some("bytes=0-1,5-6"), Wanted::Whole),
            (Some("bytes=9-3"), Wanted::Whole),
            (Some("items=0-1"), Wanted::Whole),
            (Some("bytes=abc"), Wanted::Whole),
            (Some("bytes=-0"), Wanted::Whole),
        ];
        for (header, expected) in cases {
            assert_eq!(wanted_range(header, size), expected, "{header:?}");
        }
    }
}
