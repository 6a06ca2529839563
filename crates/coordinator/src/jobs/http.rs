//! The customers' HTTP API: blobs (`PUT /v1/blobs`, `GET /v1/blobs/{id}`, streamed from
//! the store by [`super::blob_stream`]), jobs
//! (`POST /v1/jobs`, `GET /v1/jobs/{id}`, `GET /v1/jobs/{id}/results`) and the ledger
//! (`GET /v1/ledger`). Errors are [`ApiError`] JSON with a 4xx or 5xx status.
//!
//! Every route but the ledger is signed by a customer account ([`Signed`]): a job is paid
//! from its submitter's balance, and only its submitter may read it, its results and its
//! outputs (another account gets 404, as if it did not exist).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post, put};
use idleshare_protocol::abi::check_module;
use idleshare_protocol::api::{
    ApiError, BlobStored, JobResults, JobStatus, JobSubmitted, LedgerSummary, routes,
};
use idleshare_protocol::job::MAX_UNIT_BYTES;
use idleshare_protocol::{ContentId, JobId, JobSpec};

use idleshare_protocol::auth::AccountId;
use idleshare_protocol::net::NetworkPrefix;

use super::SubmitError;
use super::ops::Op;
use crate::auth::Signed;
use crate::http_door::limits::MAX_JOB_JSON;
use idleshare_base::clock::unix_ms;

use crate::server::Shared;

/// How long a request waits for its writes to commit.
pub(crate) const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

/// An error answer: a status and a sentence.
#[derive(Debug)]
pub struct Failure(StatusCode, String);

impl Failure {
    /// A status and a sentence.
    pub fn new(status: StatusCode, error: impl ToString) -> Self {
        Self(status, error.to_string())
    }

    /// The sentence.
    pub fn message(&self) -> &str {
        &self.1
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(ApiError { error: self.1 })).into_response()
    }
}

fn unprocessable(error: impl ToString) -> Failure {
    Failure(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
}

fn internal(error: impl ToString) -> Failure {
    Failure(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
}

/// The routes, merged into the coordinator's router.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            routes::BLOBS,
            put(put_blob).layer(DefaultBodyLimit::max(MAX_UNIT_BYTES as usize)),
        )
        .route(routes::BLOB, get(get_blob))
        .route(
            routes::JOBS,
            post(submit).layer(DefaultBodyLimit::max(MAX_JOB_JSON as usize)),
        )
        .route(routes::JOB, get(job_status))
        .route(routes::JOB_RESULTS, get(job_results))
        .route(routes::LEDGER, get(ledger))
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(work).await.map_err(internal)?
}

async fn put_blob(
    State(shared): State<Arc<Shared>>,
    signed: Signed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BlobStored>, Response> {
    let bytes = body.map_err(|e| Failure(e.status(), e.body_text()).into_response())?;
    signed
        .check_body(&bytes)
        .map_err(IntoResponse::into_response)?;
    let id = ContentId::of(&bytes);
    let ticket = shared.work.write(vec![Op::Blob {
        id,
        owner: signed.account,
        bytes: Arc::from(&bytes[..]),
    }]);
    shared
        .work
        .wait_committed(ticket, COMMIT_TIMEOUT)
        .await
        .map_err(|e| internal(e).into_response())?;
    Ok(Json(BlobStored {
        id,
        len: bytes.len() as u64,
    }))
}

async fn get_blob(
    State(shared): State<Arc<Shared>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let id: ContentId = id
        .parse()
        .map_err(|e| Failure(StatusCode::BAD_REQUEST, format!("{e}")))?;
    let account = signed.account;
    let reading = shared.clone();
    let blob = blocking(move || {
        let store = reading.work.store();
        let mine = store.blob_owned_by(&id, &account).map_err(internal)?;
        if mine {
            store.blob_row(&id).map_err(internal)
        } else {
            Ok(None)
        }
    })
    .await?;
    let blob =
        blob.ok_or_else(|| Failure(StatusCode::NOT_FOUND, format!("blob {id} is not stored")))?;
    // Streamed a piece at a time: never the whole blob in memory.
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
        (header::CONTENT_LENGTH, blob.len.to_string()),
    ];
    Ok((headers, super::blob_stream::body(shared, blob)).into_response())
}

async fn submit(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    signed: Signed,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<JobSubmitted>, Response> {
    let bytes = body.map_err(|e| Failure(e.status(), e.body_text()).into_response())?;
    signed
        .check_body(&bytes)
        .map_err(IntoResponse::into_response)?;
    let spec: JobSpec = serde_json::from_slice(&bytes).map_err(|e| {
        Failure(StatusCode::UNPROCESSABLE_ENTITY, format!("bad job: {e}")).into_response()
    })?;
    let network = NetworkPrefix::of(peer.ip());
    submit_spec(shared, signed.account, network, spec)
        .await
        .map_err(IntoResponse::into_response)
}

async fn submit_spec(
    shared: Arc<Shared>,
    owner: AccountId,
    network: NetworkPrefix,
    spec: JobSpec,
) -> Result<Json<JobSubmitted>, Failure> {
    spec.validate().map_err(unprocessable)?;
    let reading = shared.clone();
    let checking = spec.clone();
    let input_lens = blocking(move || {
        let store = reading.work.store();
        let module = store
            .blob(&checking.module)
            .map_err(internal)?
            .ok_or_else(|| {
                unprocessable(format!(
                    "module {} is not uploaded (PUT /v1/blobs first)",
                    checking.module
                ))
            })?;
        check_module(&module, &checking.entry)
            .map_err(|e| unprocessable(format!("module does not fit the job ABI: {e}")))?;
        let mut lens = Vec::with_capacity(checking.inputs.len());
        for (index, input) in checking.inputs.iter().enumerate() {
            let len = store
                .blob_len(input)
                .map_err(internal)?
                .ok_or_else(|| unprocessable(format!("input {index} ({input}) is not uploaded")))?;
            lens.push(len);
        }
        Ok(lens)
    })
    .await?;
    let now = unix_ms();
    let (submitted, ticket) = shared.work.apply(|book, rng, ch| {
        let submitted = book.submit(owner, Some(network), spec, input_lens, now, ch);
        book.dispatch(now, rng, ch);
        submitted
    });
    let (job, units) = submitted.map_err(|e| match e {
        SubmitError::Money(money) => Failure(StatusCode::PAYMENT_REQUIRED, money.to_string()),
        other => unprocessable(other),
    })?;
    shared
        .work
        .wait_committed(ticket, COMMIT_TIMEOUT)
        .await
        .map_err(internal)?;
    tracing::info!("{job} accepted: {units} unit(s)");
    Ok(Json(JobSubmitted { job, units }))
}

fn job_id(text: &str) -> Result<JobId, Failure> {
    let digits = text.strip_prefix("job-").unwrap_or(text);
    digits
        .parse()
        .map(JobId)
        .map_err(|_| Failure(StatusCode::BAD_REQUEST, format!("{text:?} is not a job id")))
}

fn not_found(job: JobId) -> Failure {
    Failure(StatusCode::NOT_FOUND, format!("{job} does not exist"))
}

async fn job_status(
    State(shared): State<Arc<Shared>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Json<JobStatus>, Failure> {
    let job = job_id(&id)?;
    shared
        .work
        .read(|book| mine(book, job, &signed).and_then(|_| book.job_status(job)))
        .map(Json)
        .ok_or_else(|| not_found(job))
}

async fn job_results(
    State(shared): State<Arc<Shared>>,
    signed: Signed,
    Path(id): Path<String>,
) -> Result<Json<JobResults>, Failure> {
    let job = job_id(&id)?;
    shared
        .work
        .read(|book| mine(book, job, &signed).and_then(|_| book.job_results(job)))
        .map(Json)
        .ok_or_else(|| not_found(job))
}

/// The job, if `signed`'s account owns it (another account's job looks like none).
fn mine<'a>(book: &'a super::Book, job: JobId, signed: &Signed) -> Option<&'a super::book::Job> {
    book.job(job).filter(|j| j.owner == Some(signed.account))
}

async fn ledger(State(shared): State<Arc<Shared>>) -> Json<LedgerSummary> {
    Json(shared.work.read(|book| book.ledger().summary()))
}
