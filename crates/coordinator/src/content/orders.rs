//! `POST /v1/content/{id}/orders` (signed): the providers of a content, each with an order
//! limit escrowed from the asking account. All of them or none: the account pays for
//! every ceiling up front, and gets back what was not served when the orders close.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use idleshare_base::clock::unix_ms;
use idleshare_protocol::MicroTokens;
use idleshare_protocol::api::{ContentOrders, OrdersRequest};

use super::http::{Failure, missing, parse_id};
use crate::auth::Signed;
use crate::jobs::accounts::MoneyError;
use crate::jobs::orders::{OrderRequest, Payer};
use crate::server::Shared;

/// How long orders stay valid unless the client asks otherwise.
const DEFAULT_TTL: Duration = Duration::from_secs(3600);
/// Shortest and longest validity a client may ask for.
const TTL_RANGE: (u64, u64) = (10, 86_400);
/// Bytes a default order allows beyond the content's size: the probe of the first group
/// and one retried segment's worth of slack.
const HEADROOM: u64 = 64 << 10;
/// How long the handler waits for the escrow to be on disk.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) async fn orders(
    State(shared): State<Arc<Shared>>,
    signed: Signed,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ContentOrders>, Response> {
    let bytes = body.map_err(|e| Failure(e.status(), e.body_text()).into_response())?;
    signed
        .check_body(&bytes)
        .map_err(IntoResponse::into_response)?;
    let request: OrdersRequest = if bytes.is_empty() {
        OrdersRequest::default()
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            Failure(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("bad order request: {e}"),
            )
            .into_response()
        })?
    };
    let id = parse_id(&id).map_err(IntoResponse::into_response)?;
    let Some(status) = shared.content.status(&shared, &id) else {
        return Err(missing(&shared, id).await.into_response());
    };
    let ttl_secs = request
        .ttl_secs
        .unwrap_or(DEFAULT_TTL.as_secs())
        .clamp(TTL_RANGE.0, TTL_RANGE.1);
    // Room for the probe a client makes of every provider and a retried segment; at most
    // twice the content.
    let most = status.size.saturating_mul(2).saturating_add(HEADROOM);
    let max_bytes = request
        .max_bytes
        .unwrap_or(status.size.saturating_add(HEADROOM))
        .min(most);
    let wanted = request.providers.map_or(usize::MAX, usize::from);
    let mut providers: Vec<_> = status.providers.into_iter().take(wanted).collect();
    let now = unix_ms();
    let expires_at_ms = now.saturating_add(ttl_secs * 1000);
    let account = signed.account;
    let (issued, ticket) = shared.work.apply(|book, rng, ch| {
        let each = book.order_escrow(max_bytes).ok_or(MoneyError::Overflow)?;
        let need = each
            .checked_mul(providers.len() as u64)
            .ok_or(MoneyError::Overflow)?;
        let have = book.accounts().account(&account).balance;
        if need > have {
            return Err(MoneyError::Insufficient {
                need: MicroTokens(need),
                have: MicroTokens(have),
            });
        }
        for provider in &mut providers {
            let order = OrderRequest {
                payer: Payer::Account(account),
                client: account,
                node: provider.node,
                content: id,
                max_bytes,
                expires_at_ms,
            };
            provider.order = Some(book.issue_order(order, now, rng, ch)?);
        }
        Ok(need)
    });
    let escrowed = issued.map_err(|e| {
        let status = match e {
            MoneyError::Insufficient { .. } => StatusCode::PAYMENT_REQUIRED,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Failure(status, e.to_string()).into_response()
    })?;
    shared
        .work
        .wait_committed(ticket, COMMIT_TIMEOUT)
        .await
        .map_err(|e| Failure(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())?;
    Ok(Json(ContentOrders {
        id,
        size: status.size,
        providers,
        escrowed: MicroTokens(escrowed),
    }))
}
