//! The coordinator's HTTP API for the CLI's customer commands: the shared client, and job
//! ids as people type them.

use anyhow::Context;
pub use idleshare_coordinator::client::ApiClient;
use idleshare_protocol::JobId;

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
    fn job_ids_parse_with_or_without_prefix_and_refuse_words() {
        assert_eq!(parse_job_id("42").unwrap(), JobId(42));
        assert_eq!(parse_job_id(" job-7 ").unwrap(), JobId(7));
        let error = parse_job_id("seven").unwrap_err().to_string();
        assert!(error.contains("not a job id"), "{error}");
    }
}
