//! Every path of the HTTP API, written once: the patterns the coordinator's router matches
//! (`{id}` marks where an id goes) and the concrete paths a client asks for, built from them.

use std::fmt::Display;

use super::content::PublishQuery;
use crate::content::ContentId;
use crate::job::JobId;

/// `GET`: the public registry ([`super::NodeView`] list: no addresses, no live state).
pub const NODES: &str = "/v1/nodes";
/// `GET` (signed by the operator, with the coordinator's own key): the whole registry
/// ([`super::OperatorNodeView`] list).
pub const OPERATOR_NODES: &str = "/v1/operator/nodes";
/// `GET`: the coordinator ([`super::CoordinatorInfo`]).
pub const COORDINATOR: &str = "/v1/coordinator";
/// `GET`: counters in the Prometheus text format.
pub const METRICS: &str = "/metrics";
/// `PUT`: a blob.
pub const BLOBS: &str = "/v1/blobs";
/// `GET`: a blob's bytes.
pub const BLOB: &str = "/v1/blobs/{id}";
/// `POST`: a job.
pub const JOBS: &str = "/v1/jobs";
/// `GET`: a job's progress.
pub const JOB: &str = "/v1/jobs/{id}";
/// `GET`: a job's per-unit results.
pub const JOB_RESULTS: &str = "/v1/jobs/{id}/results";
/// `GET`: the ledger.
pub const LEDGER: &str = "/v1/ledger";
/// `GET` (signed): the signer's own account.
pub const ACCOUNT: &str = "/v1/account";
/// `POST` (signed by the operator): a deposit to an account.
pub const DEPOSITS: &str = "/v1/accounts/{id}/deposits";
/// `GET`: the public money audit.
pub const LEDGER_AUDIT: &str = "/v1/ledger/audit";
/// `POST` (signed): order limits for fetching one piece of content from its providers.
pub const CONTENT_ORDERS: &str = "/v1/content/{id}/orders";
/// `PUT` (with a [`PublishQuery`]): publish; `GET`: every piece of content.
pub const CONTENT_LIST: &str = "/v1/content";
/// `GET`: one piece of content and its providers.
pub const CONTENT: &str = "/v1/content/{id}";
/// `POST`: a bad-data report about one piece of content.
pub const CONTENT_REPORTS: &str = "/v1/content/{id}/reports";
/// `GET` (with `Range`): content through the HTTP gateway.
pub const GATEWAY: &str = "/content/{id}";

/// `pattern` with its `{id}` replaced.
fn with_id(pattern: &str, id: impl Display) -> String {
    pattern.replace("{id}", &id.to_string())
}

/// The path of a blob.
pub fn blob(id: &ContentId) -> String {
    with_id(BLOB, id)
}

/// The path of a job's progress.
pub fn job(job: JobId) -> String {
    with_id(JOB, job.0)
}

/// The path of a job's results.
pub fn job_results(job: JobId) -> String {
    with_id(JOB_RESULTS, job.0)
}

/// The path of deposits to an account.
pub fn deposits(account: &crate::auth::AccountId) -> String {
    with_id(DEPOSITS, account)
}

/// The path of order limits for one piece of content.
pub fn content_orders(id: &ContentId) -> String {
    with_id(CONTENT_ORDERS, id)
}

/// The path of one piece of content's status.
pub fn content(id: &ContentId) -> String {
    with_id(CONTENT, id)
}

/// The path of reports about one piece of content.
pub fn content_reports(id: &ContentId) -> String {
    with_id(CONTENT_REPORTS, id)
}

/// The gateway path of one piece of content.
pub fn gateway(id: &ContentId) -> String {
    with_id(GATEWAY, id)
}

/// The publish path with its query, the name escaped.
pub fn publish(query: &PublishQuery) -> String {
    let mut fields = Vec::new();
    if let Some(name) = &query.name {
        fields.push(format!("name={}", percent_encode(name)));
    }
    if let Some(replicas) = query.replicas {
        fields.push(format!("replicas={replicas}"));
    }
    if let Some(days) = query.days {
        fields.push(format!("days={days}"));
    }
    if let Some(budget) = query.serving_budget {
        fields.push(format!("serving_budget={budget}"));
    }
    if fields.is_empty() {
        CONTENT_LIST.to_owned()
    } else {
        format!("{CONTENT_LIST}?{}", fields.join("&"))
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
    fn publish_paths_carry_only_what_was_asked() {
        assert_eq!(publish(&PublishQuery::default()), "/v1/content");
        let query = PublishQuery {
            name: Some("a b&replicas=9".into()),
            replicas: Some(2),
            ..PublishQuery::default()
        };
        assert_eq!(
            publish(&query),
            "/v1/content?name=a%20b%26replicas%3D9&replicas=2"
        );
        let only_copies = PublishQuery {
            replicas: Some(3),
            ..PublishQuery::default()
        };
        assert_eq!(publish(&only_copies), "/v1/content?replicas=3");
    }

    #[test]
    fn concrete_paths_fill_the_router_patterns() {
        let id = ContentId::of(b"x");
        assert_eq!(job(JobId(42)), "/v1/jobs/42");
        assert_eq!(job_results(JobId(42)), "/v1/jobs/42/results");
        assert_eq!(blob(&id), format!("/v1/blobs/{id}"));
        assert_eq!(content(&id), format!("/v1/content/{id}"));
        assert_eq!(content_reports(&id), format!("/v1/content/{id}/reports"));
        assert_eq!(gateway(&id), format!("/content/{id}"));
        for path in [blob(&id), job(JobId(1)), content_reports(&id)] {
            assert!(!path.contains('{'), "{path}");
        }
    }
}
