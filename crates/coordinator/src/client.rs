//! A small blocking client for the coordinator's HTTP API (ureq), for the CLI's commands,
//! the local network's demo feeder and tests: one typed method per route, with paths from
//! `idleshare_protocol::api::routes` and bodies from `idleshare_protocol::api`, so no
//! caller builds a URL path or reads untyped JSON.

use std::time::Duration;

use idleshare_protocol::api::{
    ApiError, BadDataReport, BlobStored, ContentPublished, ContentStatus, CoordinatorInfo,
    JobResults, JobStatus, JobSubmitted, LedgerSummary, NodeView, PublishQuery, routes,
};
use idleshare_protocol::{ContentId, JobId, JobSpec};
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
        }
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

    /// Every known node (`GET /v1/nodes`).
    pub fn nodes(&self) -> Result<Vec<NodeView>, ClientError> {
        self.get_json(routes::NODES)
    }

    /// The counters in the Prometheus text format (`GET /metrics`).
    pub fn metrics(&self) -> Result<String, ClientError> {
        let bytes = self.get_bytes(routes::METRICS, MAX_METRICS_READ)?;
        String::from_utf8(bytes).map_err(|e| ClientError::BadAnswer(e.to_string()))
    }

    /// Uploads `bytes`; returns their content id (checked against our own hash).
    pub fn put_blob(&self, bytes: &[u8]) -> Result<ContentId, ClientError> {
        let response = self
            .agent
            .put(&self.url(routes::BLOBS))
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

    /// Submits a job.
    pub fn submit(&self, spec: &JobSpec) -> Result<JobSubmitted, ClientError> {
        let response = self
            .agent
            .post(&self.url(routes::JOBS))
            .send_json(spec)
            .map_err(|e| self.unreachable(e))?;
        read_json(response)
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

    /// Uploads `body` (`len` bytes) as content named `name`; no overall time limit, since a
    /// large file on a slow link takes as long as it takes.
    pub fn publish(
        &self,
        body: &mut dyn std::io::Read,
        len: u64,
        name: &str,
        replicas: Option<u8>,
    ) -> Result<ContentPublished, ClientError> {
        let query = PublishQuery {
            name: Some(name.to_owned()),
            replicas,
        };
        let response = self
            .agent
            .put(&self.url(&routes::publish(&query)))
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
        let response = self
            .agent
            .post(&self.url(&routes::content_reports(content)))
            .send_json(report)
            .map_err(|e| self.unreachable(e))?;
        if !response.status().is_success() {
            return Err(refusal(response));
        }
        Ok(())
    }

    /// A JSON resource under the API (private: shells call the typed methods).
    fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let response = self
            .agent
            .get(&self.url(path))
            .call()
            .map_err(|e| self.unreachable(e))?;
        read_json(response)
    }

    fn get_bytes(&self, path: &str, limit: u64) -> Result<Vec<u8>, ClientError> {
        let mut response = self
            .agent
            .get(&self.url(path))
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
