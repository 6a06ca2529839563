//! Money routes: a customer's own account (`GET /v1/account`, signed), the operator's
//! deposits (`POST /v1/accounts/{id}/deposits`, signed by the coordinator's own key) and
//! the public audit (`GET /v1/ledger/audit`: totals, never who holds what).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use idleshare_base::clock::unix_ms;
use idleshare_protocol::MicroTokens;
use idleshare_protocol::api::{AccountView, AuditReport, DepositRequest, Deposited, routes};
use idleshare_protocol::auth::AccountId;

use super::accounts::Movement;
use super::http::{COMMIT_TIMEOUT, Failure};
use crate::auth::Signed;
use crate::server::Shared;

/// The routes, merged into the coordinator's router.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(routes::ACCOUNT, get(account))
        .route(routes::DEPOSITS, post(deposit))
        .route(routes::LEDGER_AUDIT, get(audit))
}

async fn account(State(shared): State<Arc<Shared>>, signed: Signed) -> Json<AccountView> {
    Json(
        shared
            .work
            .read(|book| book.accounts().view(&signed.account)),
    )
}

async fn deposit(
    State(shared): State<Arc<Shared>>,
    signed: Signed,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Deposited>, Response> {
    let bytes = body.map_err(|e| Failure::new(e.status(), e.body_text()).into_response())?;
    signed
        .check_body(&bytes)
        .map_err(IntoResponse::into_response)?;
    if signed.account != shared.work.issuer() {
        let error = "only the operator records deposits: sign with the coordinator's key \
                     (`idleshare coordinator account deposit` on the coordinator's machine)";
        return Err(Failure::new(StatusCode::FORBIDDEN, error).into_response());
    }
    let account: AccountId = id.parse().map_err(|e| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not an account: {e}"),
        )
        .into_response()
    })?;
    let request: DepositRequest = serde_json::from_slice(&bytes).map_err(|e| {
        Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("bad deposit: {e}"),
        )
        .into_response()
    })?;
    let deposited = record_deposit(&shared, account, request.amount, request.note)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(Json(deposited))
}

/// Records a deposit and waits until it is on disk.
pub(crate) async fn record_deposit(
    shared: &Shared,
    account: AccountId,
    amount: MicroTokens,
    note: String,
) -> Result<Deposited, Failure> {
    let now = unix_ms();
    let movement = Movement::Deposit {
        account,
        amount: amount.0,
    };
    let (result, ticket) = shared.work.apply(|book, _, ch| {
        book.money(movement, note, now, ch)
            .map(|()| book.accounts().account(&account).balance)
    });
    let balance =
        result.map_err(|e| Failure::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    shared
        .work
        .wait_committed(ticket, COMMIT_TIMEOUT)
        .await
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    tracing::info!("deposit of {amount} to {}", account.short());
    Ok(Deposited {
        account,
        amount,
        balance: MicroTokens(balance),
    })
}

async fn audit(State(shared): State<Arc<Shared>>) -> Result<Json<AuditReport>, Failure> {
    super::audit::audit(&shared.work)
        .await
        .map(Json)
        .map_err(|e| Failure::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}
