//! The calls of the coordinator's HTTP API that the demo feeder makes: store a blob, submit
//! a job, read its status; publish content and read it back through the gateway. Blocking
//! (ureq), for the feeder's own thread.

use std::time::Duration;

use idleshare_protocol::api::{ApiError, BlobStored, ContentPublished, JobStatus, JobSubmitted};
use idleshare_protocol::{ContentId, JobId, JobSpec};
use serde::de::DeserializeOwned;

/// Why a call to the coordinator's HTTP API failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoApiError {
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
    /// The answer was not the JSON expected.
    #[error("the coordinator's answer is not the expected JSON: {0}")]
    BadAnswer(String),
    /// The coordinator stored bytes under another id than their hash.
    #[error("the coordinator stored {stored} but the bytes hash to {ours}")]
    WrongId {
        /// What it said.
        stored: ContentId,
        /// What the bytes hash to.
        ours: ContentId,
    },
}

/// The coordinator's HTTP API at one base URL.
pub(crate) struct DemoApi {
    base: String,
    agent: ureq::Agent,
}

impl DemoApi {
    /// A client for `base` (e.g. `http://127.0.0.1:7380`).
    pub fn new(base: String) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Self { base, agent }
    }

    fn unreachable(&self, error: ureq::Error) -> DemoApiError {
        DemoApiError::Unreachable {
            base: self.base.clone(),
            message: error.to_string(),
        }
    }

    /// Uploads `bytes`; returns their content id, checked against our own hash.
    pub fn put_blob(&self, bytes: &[u8]) -> Result<ContentId, DemoApiError> {
        let response = self
            .agent
            .put(&format!("{}/v1/blobs", self.base))
            .header("content-type", "application/octet-stream")
            .send(bytes)
            .map_err(|e| self.unreachable(e))?;
        let stored: BlobStored = read_json(response)?;
        let ours = ContentId::of(bytes);
        if stored.id != ours {
            return Err(DemoApiError::WrongId {
                stored: stored.id,
                ours,
            });
        }
        Ok(stored.id)
    }

    /// Submits a job.
    pub fn submit(&self, spec: &JobSpec) -> Result<JobSubmitted, DemoApiError> {
        let response = self
            .agent
            .post(&format!("{}/v1/jobs", self.base))
            .send_json(spec)
            .map_err(|e| self.unreachable(e))?;
        read_json(response)
    }

    /// Publishes `bytes` to the edge cache as `name`, wanting `replicas` copies.
    pub fn publish(
        &self,
        bytes: &[u8],
        name: &str,
        replicas: u8,
    ) -> Result<ContentPublished, DemoApiError> {
        let url = format!("{}/v1/content?name={name}&replicas={replicas}", self.base);
        let response = self
            .agent
            .put(&url)
            .header("content-type", "application/octet-stream")
            .send(bytes)
            .map_err(|e| self.unreachable(e))?;
        read_json(response)
    }

    /// Reads content through the coordinator's HTTP gateway (at most 64 MiB).
    pub fn gateway(&self, id: &ContentId) -> Result<Vec<u8>, DemoApiError> {
        let mut response = self
            .agent
            .get(&format!("{}/content/{id}", self.base))
            .call()
            .map_err(|e| self.unreachable(e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(DemoApiError::Refused {
                status: status.as_u16(),
                message: status.to_string(),
            });
        }
        response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| DemoApiError::BadAnswer(e.to_string()))
    }

    /// A job's progress.
    pub fn status(&self, job: JobId) -> Result<JobStatus, DemoApiError> {
        let response = self
            .agent
            .get(&format!("{}/v1/jobs/{}", self.base, job.0))
            .call()
            .map_err(|e| self.unreachable(e))?;
        read_json(response)
    }
}

fn read_json<T: DeserializeOwned>(
    mut response: ureq::http::Response<ureq::Body>,
) -> Result<T, DemoApiError> {
    let status = response.status();
    if !status.is_success() {
        let message = match response.body_mut().read_json::<ApiError>() {
            Ok(error) => error.error,
            Err(_) => status.to_string(),
        };
        return Err(DemoApiError::Refused {
            status: status.as_u16(),
            message,
        });
    }
    response
        .body_mut()
        .read_json()
        .map_err(|e| DemoApiError::BadAnswer(e.to_string()))
}
