//! A small blocking client for the coordinator's HTTP API (ureq), for the CLI's commands,
//! the local network's demo feeder and tests: one typed method per route, with paths from
//! `idleshare_protocol::api::routes` and bodies from `idleshare_protocol::api`, so no
//! caller builds a URL path or reads untyped JSON.
//!
//! A client made [`ApiClient::with_key`] signs every request with that key
//! (`idleshare_protocol::auth`): the customer's account key, or the operator's coordinator
//! key for deposits and the operator's node list. Without a key only the public routes
//! answer.

use std::time::Duration;

use ed25519_dalek::SigningKey;
use idleshare_base::clock::unix_ms;
use idleshare_protocol::api::{
    AccountView, ApiError, AuditReport, BadDataReport, BlobStored, ContentOrders, ContentPublished,
    ContentStatus, CoordinatorInfo, DepositRequest, Deposited, JobResults, JobStatus, JobSubmitted,
    LedgerSummary, NodeView, OperatorNodeView, OrdersRequest, PublishQuery, routes,
};
use idleshare_protocol::auth::{AccountId, RequestToSign};
use idleshare_protocol::{ContentId, JobId, JobSpec, MicroTokens};
use serde::de::DeserializeOwned;

/// Largest blob read back (the coordinator's limit is 16 MiB).
const MAX_BLOB_READ: u64 = 17 << 20;
/// Largest content read whole through the gateway.
const MAX_GATEWAY_READ: u64 = 64 << 20;
/// Largest metrics page read.
const MAX_METRICS_READ: u64 = 1 << 20;

/// Why a call to the coordinator's HTTP API failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request did not get an answer.
    #[error("cannot reach the coordinator API at {base}: {message}")]
    Unreachable {
        /// The API's base URL.
        base: String,
        /// What the HTTP client said.
        message: String,
    },
    /// The coordinator answered with an error status.
    #[error("coordinator refused ({status}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The coordinator's words (or the bare status).
        message: String,
    },
    /// The answer could not be read, or was not the JSON expected.
    #[error("the coordinator's answer is not the expected one: {0}")]
    BadAnswer(String),
    /// Bytes did not hash to the id they were stored or asked for under.
    #[error("the coordinator's bytes hash to {ours}, not {claimed}")]
    WrongId {
        /// The id the coordinator gave or was asked for.
        claimed: ContentId,
        /// What the bytes hash to.
        ours: ContentId,
    },
}

/// The coordinator's HTTP API at one base URL.
pub struct ApiClient {
    base: String,
    agent: ureq::Agent,
    key: Option<SigningKey>,
}

impl ApiClient {
    /// A client for `base` (e.g. `http://127.0.0.1:7380`).
    pub fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            // Error answers carry a JSON body worth showing.
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            agent,
            key: None,
        }
    }

    /// The same client, signing every request with `key` (an account's, or the
    /// operator's for deposits).
    pub fn with_key(mut self, key: SigningKey) -> Self {
        self.key = Some(key);
        self
    }

    /// The key this client signs with, if any.
    pub fn signing_key(&self) -> Option<&SigningKey> {
        self.key.as_ref()
    }

    /// The account this client signs as, if any.
    pub fn account(&self) -> Option<AccountId> {
        self.key
            .as_ref()
            .map(|k| AccountId::from(k.verifying_key()))
    }

    /// The signature headers for a request, when this client has a key.
    fn sign(&self, method: &str, path: &str, body: ContentId) -> Vec<(&'static str, String)> {
        let Some(key) = &self.key else {
            return Vec::new();
        };
        let signed = RequestToSign {
            method,
            path_and_query: path,
            time_ms: unix_ms(),
            nonce: rand::random(),
            body,
        }
        .sign(key);
        signed
            .pairs()
            .into_iter()
            .map(|(name, value)| (name, value.to_owned()))
            .collect()
    }

    fn request<B>(
        &self,
        mut request: ureq::RequestBuilder<B>,
        method: &str,
        path: &str,
        body: ContentId,
    ) -> ureq::RequestBuilder<B> {
        for (name, value) in self.sign(method, path, body) {
            request = request.header(name, &value);
        }
        request
    }

    /// A client for the API a coordinator serves at `http` (plain HTTP, e.g. on loopback).
    pub fn at(http: std::net::SocketAddr) -> Self {
        Self::new(&format!("http://{http}"))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn unreachable(&self, error: ureq::Error) -> ClientError {
        ClientError::Unreachable {
            base: self.base.clone(),
            message: error.to_string(),
        }
    }

    /// What the coordinator says about itself (`GET /v1/coordinator`).
    pub fn coordinator(&self) -> Result<CoordinatorInfo, ClientError> {
        self.get_json(routes::COORDINATOR)
    }

    /// Every known node, as the public sees it (`GET /v1/nodes`: no addresses, no live
    /// state).
    pub fn nodes(&self) -> Result<Vec<NodeView>, ClientError> {
        self.get_json(routes::NODES)
    }

    /// Every known node with its address and live state (`GET /v1/operator/nodes`); the
    /// client must sign with the coordinator's own key.
    pub fn operator_nodes(&self) -> Result<Vec<OperatorNodeView>, ClientError> {
        self.get_json(routes::OPERATOR_NODES)
    }

    /// The counters in the Prometheus text format (`GET /metrics`).
    pub fn metrics(&self) -> Result<String, ClientError> {
        let bytes = self.get_bytes(routes::METRICS, MAX_METRICS_READ)?;
        String::from_utf8(bytes).map_err(|e| ClientError::BadAnswer(e.to_string()))
    }

    /// Uploads `bytes`; returns their content id (checked against our own hash).
    pub fn put_blob(&self, bytes: &[u8]) -> Result<ContentId, ClientError> {
        let put = self.agent.put(&self.url(routes::BLOBS));
        let response = self
            .request(put, "PUT", routes::BLOBS, ContentId::of(bytes))
            .header("content-type", "application/octet-stream")
            .send(bytes)
            .map_err(|e| self.unreachable(e))?;
        let stored: BlobStored = read_json(response)?;
        same_id(stored.id, bytes)?;
        Ok(stored.id)
    }

    /// Downloads a blob and checks it hashes to `id`.
    pub fn get_blob(&self, id: &ContentId) -> Result<Vec<u8>, ClientError> {
        let bytes = self.get_bytes(&routes::blob(id), MAX_BLOB_READ)?;
        same_id(*id, &bytes)?;
        Ok(bytes)
    }

    /// Reads content whole through the coordinator's HTTP gateway (at most 64 MiB) and
    /// checks it hashes to `id`.
    pub fn gateway(&self, id: &ContentId) -> Result<Vec<u8>, ClientError> {
        let bytes = self.get_bytes(&routes::gateway(id), MAX_GATEWAY_READ)?;
        same_id(*id, &bytes)?;
        Ok(bytes)
    }

    /// Submits a job (paid from this client's account).
    pub fn submit(&self, spec: &JobSpec) -> Result<JobSubmitted, ClientError> {
        self.post_json(routes::JOBS, spec)
    }

    /// This client's own account: balance, deposits, escrow and spending.
    pub fn account_view(&self) -> Result<AccountView, ClientError> {
        self.get_json(routes::ACCOUNT)
    }

    /// Records a deposit to `account` (this client must hold the coordinator's key).
    pub fn deposit(
        &self,
        account: &AccountId,
        amount: MicroTokens,
        note: &str,
    ) -> Result<Deposited, ClientError> {
        let body = DepositRequest {
            amount,
            note: note.to_owned(),
        };
        self.post_json(&routes::deposits(account), &body)
    }

    /// The public money audit.
    pub fn audit(&self) -> Result<AuditReport, ClientError> {
        self.get_json(routes::LEDGER_AUDIT)
    }

    /// Order limits for fetching `id` from its providers, escrowed from this account.
    pub fn content_orders(
        &self,
        id: &ContentId,
        request: &OrdersRequest,
    ) -> Result<ContentOrders, ClientError> {
        self.post_json(&routes::content_orders(id), request)
    }

    /// A job's progress.
    pub fn job_status(&self, job: JobId) -> Result<JobStatus, ClientError> {
        self.get_json(&routes::job(job))
    }

    /// A job's per-unit results.
    pub fn job_results(&self, job: JobId) -> Result<JobResults, ClientError> {
        self.get_json(&routes::job_results(job))
    }

    /// The coordinator's ledger: every account and what was paid.
    pub fn ledger(&self) -> Result<LedgerSummary, ClientError> {
        self.get_json(routes::LEDGER)
    }

    /// Uploads `body` (`len` bytes whose BLAKE3 is `id`) as content, as `query` says; no
    /// overall time limit, since a large file on a slow link takes as long as it takes.
    pub fn publish(
        &self,
        body: &mut dyn std::io::Read,
        len: u64,
        id: ContentId,
        query: &PublishQuery,
    ) -> Result<ContentPublished, ClientError> {
        let path = routes::publish(query);
        let put = self.agent.put(&self.url(&path));
        let response = self
            .request(put, "PUT", &path, id)
            .config()
            .timeout_global(None)
            .build()
            .header("content-type", "application/octet-stream")
            .header("content-length", &len.to_string())
            .send(ureq::SendBody::from_reader(body))
            .map_err(|e| self.unreachable(e))?;
        read_json(response)
    }

    /// One piece of content: where its copies are and whom to fetch it from.
    pub fn content_status(&self, id: &ContentId) -> Result<ContentStatus, ClientError> {
        self.get_json(&routes::content(id))
    }

    /// Every piece of content published.
    pub fn content_list(&self) -> Result<Vec<ContentStatus>, ClientError> {
        self.get_json(routes::CONTENT_LIST)
    }

    /// Reports a node that sent bad bytes (the coordinator checks for itself).
    pub fn report_bad_data(
        &self,
        content: &ContentId,
        report: &BadDataReport,
    ) -> Result<(), ClientError> {
        let path = routes::content_reports(content);
        let body = serde_json::to_vec(report).map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        let post = self.agent.post(&self.url(&path));
        let response = self
            .request(post, "POST", &path, ContentId::of(&body))
            .header("content-type", "application/json")
            .send(&body[..])
            .map_err(|e| self.unreachable(e))?;
        if !response.status().is_success() {
            return Err(refusal(response));
        }
        Ok(())
    }

    /// A JSON resource under the API (private: shells call the typed methods).
    fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let get = self.agent.get(&self.url(path));
        let response = self
            .request(get, "GET", path, ContentId::of(b""))
            .call()
            .map_err(|e| self.unreachable(e))?;
        read_json(response)
    }

    /// Posts `body` as JSON, signed over its exact bytes.
    fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<T, ClientError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::BadAnswer(e.to_string()))?;
        let post = self.agent.post(&self.url(path));
        let response = self
            .request(post, "POST", path, ContentId::of(&bytes))
            .header("content-type", "application/json")
            .send(&bytes[..])
            .map_err(|e| self.unreachable(e))?;
        read_json(response)
    }

    fn get_bytes(&self, path: &str, limit: u64) -> Result<Vec<u8>, ClientError> {
        let get = self.agent.get(&self.url(path));
        let mut response = self
            .request(get, "GET", path, ContentId::of(b""))
            .call()
            .map_err(|e| self.unreachable(e))?;
        if !response.status().is_success() {
            return Err(refusal(response));
        }
        response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| ClientError::BadAnswer(e.to_string()))
    }
}

fn same_id(claimed: ContentId, bytes: &[u8]) -> Result<(), ClientError> {
    let ours = ContentId::of(bytes);
    if ours == claimed {
        Ok(())
    } else {
        Err(ClientError::WrongId { claimed, ours })
    }
}

fn read_json<T: DeserializeOwned>(
    mut response: ureq::http::Response<ureq::Body>,
) -> Result<T, ClientError> {
    if !response.status().is_success() {
        return Err(refusal(response));
    }
    response
        .body_mut()
        .read_json()
        .map_err(|e| ClientError::BadAnswer(e.to_string()))
}

/// The coordinator's error message, or the bare status when the body says nothing useful.
fn refusal(mut response: ureq::http::Response<ureq::Body>) -> ClientError {
    let status = response.status();
    let message = match response.body_mut().read_json::<ApiError>() {
        Ok(error) => error.error,
        Err(_) => status.to_string(),
    };
    ClientError::Refused {
        status: status.as_u16(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_under_another_id_are_refused() {
        let id = ContentId::of(b"good");
        assert!(same_id(id, b"good").is_ok());
        let error = same_id(id, b"evil").unwrap_err();
        assert!(matches!(error, ClientError::WrongId { claimed, .. } if claimed == id));
    }
}
