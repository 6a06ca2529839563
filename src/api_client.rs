//! A small blocking client for the coordinator's HTTP API (customers' side of the CLI).

use std::time::Duration;

use anyhow::{Context, bail};
use idleshare_protocol::api::{
    ApiError, BadDataReport, BlobStored, ContentPublished, JobResults, JobStatus, JobSubmitted,
};
use idleshare_protocol::{ContentId, JobId, JobSpec};
use serde::de::DeserializeOwned;

/// Largest blob the client reads back (the coordinator's limit is 16 MiB).
const MAX_BLOB_READ: u64 = 17 << 20;

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

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Uploads `bytes`; returns their content id (checked against our own hash).
    pub fn put_blob(&self, bytes: &[u8]) -> anyhow::Result<ContentId> {
        let response = self
            .agent
            .put(&self.url("/v1/blobs"))
            .header("content-type", "application/octet-stream")
            .send(bytes)
            .with_context(|| format!("cannot reach the coordinator API at {}", self.base))?;
        let stored: BlobStored = read_json(response)?;
        let ours = ContentId::of(bytes);
        if stored.id != ours {
            bail!(
                "the coordinator stored {} but the bytes hash to {ours}",
                stored.id
            );
        }
        Ok(stored.id)
    }

    /// Downloads a blob and checks it hashes to `id`.
    pub fn get_blob(&self, id: &ContentId) -> anyhow::Result<Vec<u8>> {
        let mut response = self
            .agent
            .get(&self.url(&format!("/v1/blobs/{id}")))
            .call()
            .with_context(|| format!("cannot reach the coordinator API at {}", self.base))?;
        if !response.status().is_success() {
            return Err(api_error(response));
        }
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_BLOB_READ)
            .read_to_vec()
            .context("reading a blob")?;
        if ContentId::of(&bytes) != *id {
            bail!("blob {id} arrived altered (hash mismatch)");
        }
        Ok(bytes)
    }

    /// Submits a job.
    pub fn submit(&self, spec: &JobSpec) -> anyhow::Result<JobSubmitted> {
        let response = self
            .agent
            .post(&self.url("/v1/jobs"))
            .send_json(spec)
            .with_context(|| format!("cannot reach the coordinator API at {}", self.base))?;
        read_json(response)
    }

    /// A job's progress.
    pub fn status(&self, job: JobId) -> anyhow::Result<JobStatus> {
        self.get_json(&format!("/v1/jobs/{}", job.0))
    }

    /// A job's per-unit results.
    pub fn results(&self, job: JobId) -> anyhow::Result<JobResults> {
        self.get_json(&format!("/v1/jobs/{}/results", job.0))
    }

    /// Uploads `body` (`len` bytes) as content named `name`; no overall time limit, since a
    /// large file on a slow link takes as long as it takes.
    pub fn publish(
        &self,
        body: &mut dyn std::io::Read,
        len: u64,
        name: &str,
        replicas: Option<u8>,
    ) -> anyhow::Result<ContentPublished> {
        let mut url = format!("/v1/content?name={}", percent_encode(name));
        if let Some(replicas) = replicas {
            url.push_str(&format!("&replicas={replicas}"));
        }
        let response = self
            .agent
            .put(&self.url(&url))
            .config()
            .timeout_global(None)
            .build()
            .header("content-type", "application/octet-stream")
            .header("content-length", &len.to_string())
            .send(ureq::SendBody::from_reader(body))
            .with_context(|| format!("cannot upload to the coordinator API at {}", self.base))?;
        read_json(response)
    }

    /// Reports a node that sent bad bytes (the coordinator checks for itself).
    pub fn report_bad_data(
        &self,
        content: &ContentId,
        report: &BadDataReport,
    ) -> anyhow::Result<()> {
        let response = self
            .agent
            .post(&self.url(&format!("/v1/content/{content}/reports")))
            .send_json(report)
            .with_context(|| format!("cannot reach the coordinator API at {}", self.base))?;
        if !response.status().is_success() {
            return Err(api_error(response));
        }
        Ok(())
    }

    /// Any JSON resource under the API.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let response = self
            .agent
            .get(&self.url(path))
            .call()
            .with_context(|| format!("cannot reach the coordinator API at {}", self.base))?;
        read_json(response)
    }
}

fn read_json<T: DeserializeOwned>(
    mut response: ureq::http::Response<ureq::Body>,
) -> anyhow::Result<T> {
    if !response.status().is_success() {
        return Err(api_error(response));
    }
    response
        .body_mut()
        .read_json()
        .context("the coordinator's answer is not the expected JSON")
}

/// The coordinator's error message, or the bare status when the body says nothing useful.
fn api_error(mut response: ureq::http::Response<ureq::Body>) -> anyhow::Error {
    let status = response.status();
    match response.body_mut().read_json::<ApiError>() {
        Ok(error) => anyhow::anyhow!("coordinator refused ({status}): {}", error.error),
        Err(_) => anyhow::anyhow!("coordinator answered {status}"),
    }
}

/// `text` safe in a URL query value (everything but unreserved characters escaped).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Parses `42` or `job-42`.
pub fn parse_job_id(text: &str) -> anyhow::Result<JobId> {
    let digits = text.trim().trim_start_matches("job-");
    digits
        .parse()
        .map(JobId)
        .with_context(|| format!("{text:?} is not a job id (a number, like 42 or job-42)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_for_the_query() {
        assert_eq!(
            percent_encode("site v2/ä&x=1.tar"),
            "site%20v2%2F%C3%A4%26x%3D1.tar"
        );
    }

    #[test]
    fn job_ids_parse_with_or_without_prefix_and_refuse_words() {
        assert_eq!(parse_job_id("42").unwrap(), JobId(42));
        assert_eq!(parse_job_id(" job-7 ").unwrap(), JobId(7));
        let error = parse_job_id("seven").unwrap_err().to_string();
        assert!(error.contains("not a job id"), "{error}");
    }
}
