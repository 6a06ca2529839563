//! The HTTP API against a running coordinator on loopback: blobs, a job, its status and
//! results, the ledger, and clear errors over raw HTTP, signed by a funded customer; who
//! may ask (no signature, another account, a replay, a skewed clock, no money); then every
//! route through the typed client.

use std::net::SocketAddr;

use ed25519_dalek::SigningKey;
use idleshare_base::clock::unix_ms;
use idleshare_coordinator::client::{ApiClient, ClientError};
use idleshare_coordinator::{Coordinator, CoordinatorConfig};
use idleshare_protocol::api::{
    ApiError, BadDataReport, BlobStored, CoordinatorInfo, JobResults, JobStatus, JobSubmitted,
    LedgerSummary,
};
use idleshare_protocol::auth::{MAX_SKEW_MS, RequestToSign};
use idleshare_protocol::{ContentId, JobId, JobLimits, JobSpec, MicroTokens, NodeId};
use idleshare_transport::load_or_create_key_file;

/// Method, path, body, expected status, words the error must contain.
type ErrorCase = (&'static str, String, Option<Vec<u8>>, u16, &'static str);

const MODULE: &str = r#"(module (memory (export "memory") 1)
  (func (export "idleshare_alloc") (param i32) (result i32) i32.const 1024)
  (func (export "run") (param i32 i32) (result i64)
    local.get 0 i64.extend_i32_u i64.const 32 i64.shl local.get 1 i64.extend_i32_u i64.or))"#;

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// The customer the raw requests are signed by.
fn customer() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

/// Signature headers for a request by `key` at `time_ms`.
fn signed(
    key: &SigningKey,
    method: &str,
    path: &str,
    body: &[u8],
    time_ms: u64,
) -> Vec<(&'static str, String)> {
    RequestToSign {
        method,
        path_and_query: path,
        time_ms,
        nonce: rand::random(),
        body: ContentId::of(body),
    }
    .sign(key)
    .pairs()
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

fn call(
    method: &str,
    url: &str,
    body: Option<Vec<u8>>,
    headers: Vec<(&'static str, String)>,
) -> (u16, String) {
    let agent = agent();
    let response = match (method, body) {
        ("PUT", Some(body)) => headers
            .iter()
            .fold(agent.put(url), |r, (k, v)| r.header(*k, v))
            .send(&body[..]),
        ("POST", Some(body)) => headers
            .iter()
            .fold(agent.post(url), |r, (k, v)| r.header(*k, v))
            .header("content-type", "application/json")
            .send(&body[..]),
        _ => headers
            .iter()
            .fold(agent.get(url), |r, (k, v)| r.header(*k, v))
            .call(),
    };
    let mut response = response.expect("request");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// A request signed by the test customer, now.
async fn http(
    method: &'static str,
    addr: SocketAddr,
    path: &str,
    body: Option<Vec<u8>>,
) -> (u16, String) {
    let headers = signed(
        &customer(),
        method,
        path,
        body.as_deref().unwrap_or(b""),
        unix_ms(),
    );
    raw(method, addr, path, body, headers).await
}

/// A request with exactly these headers.
async fn raw(
    method: &'static str,
    addr: SocketAddr,
    path: &str,
    body: Option<Vec<u8>>,
    headers: Vec<(&'static str, String)>,
) -> (u16, String) {
    let url = format!("http://{addr}{path}");
    tokio::task::spawn_blocking(move || call(method, &url, body, headers))
        .await
        .unwrap()
}

/// Funds `account` through the operator's deposit route, signed with the coordinator's key.
async fn fund(dir: &std::path::Path, http_addr: SocketAddr, account: &SigningKey, amount: u64) {
    let (operator, _) = load_or_create_key_file(&dir.join("coordinator.key")).unwrap();
    let client = ApiClient::at(http_addr).with_key(operator);
    let account = NodeId::from(account.verifying_key());
    tokio::task::spawn_blocking(move || client.deposit(&account, MicroTokens(amount), "test"))
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_jobs_and_the_ledger_over_http_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = CoordinatorConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().into());
    config.http = Some("127.0.0.1:0".parse().unwrap());
    let coordinator = Coordinator::start(config).await.unwrap();
    let addr = coordinator.http_addr().unwrap();
    fund(dir.path(), addr, &customer(), 1_000_000_000).await;

    let module = wat::parse_str(MODULE).unwrap();
    let (status, body) = http("PUT", addr, "/v1/blobs", Some(module.clone())).await;
    assert_eq!(status, 200, "{body}");
    let stored: BlobStored = serde_json::from_str(&body).unwrap();
    assert_eq!(stored.id, ContentId::of(&module));
    let (_, body) = http("PUT", addr, "/v1/blobs", Some(b"hello".to_vec())).await;
    let input: BlobStored = serde_json::from_str(&body).unwrap();
    let (status, bytes) = http("GET", addr, &format!("/v1/blobs/{}", input.id), None).await;
    assert_eq!((status, bytes.as_str()), (200, "hello"));

    let job = |module: ContentId, entry: &str, input: ContentId| {
        serde_json::to_vec(&serde_json::json!({
            "module": module, "entry": entry, "inputs": [input], "replication": 2
        }))
        .unwrap()
    };
    let (status, body) = http(
        "POST",
        addr,
        "/v1/jobs",
        Some(job(stored.id, "run", input.id)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let submitted: JobSubmitted = serde_json::from_str(&body).unwrap();
    assert_eq!(submitted.units, 1);

    let (status, body) = http("GET", addr, &format!("/v1/jobs/{}", submitted.job.0), None).await;
    assert_eq!(status, 200, "{body}");
    let job_status: JobStatus = serde_json::from_str(&body).unwrap();
    assert_eq!((job_status.units.pending, job_status.finished), (1, false));
    let (_, body) = http(
        "GET",
        addr,
        &format!("/v1/jobs/{}/results", submitted.job.0),
        None,
    )
    .await;
    let results: JobResults = serde_json::from_str(&body).unwrap();
    assert_eq!(results.units.len(), 1);
    let (_, body) = http("GET", addr, "/v1/ledger", None).await;
    let ledger: LedgerSummary = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (ledger.total.0, ledger.rate.micro_tokens_per_megafuel),
        (0, 1000)
    );

    // Errors: JSON bodies naming the problem, with the right status.
    let missing = ContentId::of(b"never uploaded");
    let cases: Vec<ErrorCase> = vec![
        (
            "POST",
            "/v1/jobs".into(),
            Some(job(missing, "run", input.id)),
            422,
            "not uploaded",
        ),
        (
            "POST",
            "/v1/jobs".into(),
            Some(job(stored.id, "run", missing)),
            422,
            "input 0",
        ),
        (
            "POST",
            "/v1/jobs".into(),
            Some(job(stored.id, "nope", input.id)),
            422,
            "nope",
        ),
        (
            "POST",
            "/v1/jobs".into(),
            Some(job(input.id, "run", input.id)),
            422,
            "ABI",
        ),
        (
            "POST",
            "/v1/jobs".into(),
            Some(b"{".to_vec()),
            422,
            "bad job",
        ),
        ("GET", "/v1/jobs/99".into(), None, 404, "job-99"),
        ("GET", "/v1/jobs/x".into(), None, 400, "not a job id"),
        (
            "GET",
            format!("/v1/blobs/{missing}"),
            None,
            404,
            "not stored",
        ),
        ("GET", "/v1/blobs/zz".into(), None, 400, "64 hex"),
        (
            "PUT",
            "/v1/blobs".into(),
            Some(vec![0; (16 << 20) + 1]),
            413,
            "",
        ),
    ];
    for (method, path, body, expected, needle) in cases {
        let (status, text) = http(method, addr, &path, body).await;
        assert_eq!(status, expected, "{method} {path}: {text}");
        let error: ApiError =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: {text}"));
        assert!(error.error.contains(needle), "{path}: {}", error.error);
    }
    let metrics = http("GET", addr, "/metrics", None).await.1;
    assert!(
        metrics.contains("idleshare_units_settled_total 0"),
        "{metrics}"
    );
    let coordinator_view = http("GET", addr, "/v1/coordinator", None).await.1;
    assert!(
        coordinator_view.contains("\"credit_rate\""),
        "{coordinator_view}"
    );
    let info: CoordinatorInfo = serde_json::from_str(&coordinator_view).unwrap();
    assert_eq!(&info.address, coordinator.address());
    coordinator.shutdown().await;
}

/// Who may ask: nothing signed gets 401 and a sentence on how to get an account; another
/// account's job is 404; a replayed or skewed request is refused; an account without the
/// money for a job gets 402 with what it needs and has; a stranger cannot deposit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_signed_once_on_time_by_an_account_that_can_pay() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = CoordinatorConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().into());
    config.http = Some("127.0.0.1:0".parse().unwrap());
    let coordinator = Coordinator::start(config).await.unwrap();
    let after_start = unix_ms();
    let addr = coordinator.http_addr().unwrap();
    let module = wat::parse_str(MODULE).unwrap();

    let (status, text) = raw("PUT", addr, "/v1/blobs", Some(module.clone()), vec![]).await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("idleshare account"), "{text}");

    // Signed but unfunded: uploads work, the job is refused with what it costs.
    let (status, text) = http("PUT", addr, "/v1/blobs", Some(module.clone())).await;
    assert_eq!(status, 200, "{text}");
    let (_, text) = http("PUT", addr, "/v1/blobs", Some(b"x".to_vec())).await;
    let input: BlobStored = serde_json::from_str(&text).unwrap();
    let job = serde_json::to_vec(&serde_json::json!({
        "module": ContentId::of(&module), "entry": "run", "inputs": [input.id], "replication": 2
    }))
    .unwrap();
    let (status, text) = http("POST", addr, "/v1/jobs", Some(job.clone())).await;
    assert_eq!(status, 402, "{text}");
    // 1 unit × 2 replicas × 10 Gfuel × 1000/Mfuel = 20 tokens, plus the 5 % fee.
    assert!(
        text.contains("insufficient balance: need 21.000000"),
        "{text}"
    );
    assert!(text.contains("have 0.000000"), "{text}");

    fund(dir.path(), addr, &customer(), 21_000_000).await;
    let (status, text) = http("POST", addr, "/v1/jobs", Some(job.clone())).await;
    assert_eq!(status, 200, "{text}");
    let submitted: JobSubmitted = serde_json::from_str(&text).unwrap();
    let path = format!("/v1/jobs/{}", submitted.job.0);
    let (status, text) = http("GET", addr, &path, None).await;
    assert_eq!(status, 200, "{text}");
    let view: JobStatus = serde_json::from_str(&text).unwrap();
    assert_eq!(view.escrowed, MicroTokens(21_000_000));

    let stranger = SigningKey::from_bytes(&[77; 32]);
    let headers = signed(&stranger, "GET", &path, b"", unix_ms());
    let (status, text) = raw("GET", addr, &path, None, headers).await;
    assert_eq!(
        status, 404,
        "another account's job does not exist for it: {text}"
    );
    let output = format!("/v1/blobs/{}", input.id);
    let headers = signed(&stranger, "GET", &output, b"", unix_ms());
    assert_eq!(raw("GET", addr, &output, None, headers).await.0, 404);

    let once = signed(&customer(), "GET", &path, b"", unix_ms());
    assert_eq!(raw("GET", addr, &path, None, once.clone()).await.0, 200);
    let (status, text) = raw("GET", addr, &path, None, once).await;
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("replayed"), "{text}");

    for skew in [
        MAX_SKEW_MS + 60_000,
        0u64.wrapping_sub(MAX_SKEW_MS + 60_000),
    ] {
        let headers = signed(&customer(), "GET", &path, b"", unix_ms().wrapping_add(skew));
        let (status, text) = raw("GET", addr, &path, None, headers).await;
        assert_eq!(status, 401, "{text}");
        assert!(text.contains("clock"), "{text}");
    }
    // Within the window a slow clock is fine, as long as it signed after the coordinator
    // started (its nonces before that are forgotten).
    let headers = signed(&customer(), "GET", &path, b"", after_start);
    assert_eq!(raw("GET", addr, &path, None, headers).await.0, 200);
    let headers = signed(&customer(), "GET", &path, b"", unix_ms() - 120_000);
    let (status, text) = raw("GET", addr, &path, None, headers).await;
    assert_eq!(status, 401, "{text}");
    assert!(
        text.contains("before the coordinator last started"),
        "{text}"
    );

    let body = br#"{"amount":1000000}"#.to_vec();
    let deposit = format!(
        "/v1/accounts/{}/deposits",
        NodeId::from(stranger.verifying_key())
    );
    let headers = signed(&stranger, "POST", &deposit, &body, unix_ms());
    let (status, text) = raw("POST", addr, &deposit, Some(body), headers).await;
    assert_eq!(status, 403, "{text}");
    // A body other than the one signed is refused, and nothing is stored.
    let headers = signed(&customer(), "PUT", "/v1/blobs", b"what I signed", unix_ms());
    let (status, text) = raw(
        "PUT",
        addr,
        "/v1/blobs",
        Some(b"what I sent".to_vec()),
        headers,
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("does not match its signed hash"), "{text}");
    // A deposit that would overflow what an account can hold is refused whole.
    let (operator, _) = load_or_create_key_file(&dir.path().join("coordinator.key")).unwrap();
    let operator = ApiClient::at(addr).with_key(operator);
    let me = NodeId::from(customer().verifying_key());
    let refused = tokio::task::spawn_blocking(move || {
        operator.deposit(&me, MicroTokens(i64::MAX as u64), "too much")
    })
    .await
    .unwrap();
    assert!(
        matches!(&refused, Err(ClientError::Refused { status: 422, message }) if message.contains("too large")),
        "{refused:?}"
    );
    let audit = ApiClient::at(addr);
    let audit = tokio::task::spawn_blocking(move || audit.audit())
        .await
        .unwrap()
        .unwrap();
    assert!(audit.balanced, "{:?}", audit.problems);
    assert_eq!(audit.deposits, MicroTokens(21_000_000));
    assert_eq!(audit.escrow, MicroTokens(21_000_000));
    coordinator.shutdown().await;
}

/// Every route through the one typed client, as the shells use it: nothing but typed
/// calls, answers and errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typed_client_reaches_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = CoordinatorConfig::new("127.0.0.1:0".parse().unwrap(), dir.path().into());
    config.http = Some("127.0.0.1:0".parse().unwrap());
    let coordinator = Coordinator::start(config).await.unwrap();
    let address = coordinator.address().clone();
    let http_addr = coordinator.http_addr().unwrap();
    fund(dir.path(), http_addr, &customer(), 1_000_000_000).await;
    let client = ApiClient::at(http_addr).with_key(customer());
    tokio::task::spawn_blocking(move || {
        let info = client.coordinator().unwrap();
        assert_eq!((info.address, info.key), (address.clone(), address.key));
        assert!(info.max_publish_bytes > 0);
        assert_eq!(client.nodes().unwrap(), Vec::new());
        assert!(client.metrics().unwrap().contains("idleshare_nodes"));

        let module = client.put_blob(&wat::parse_str(MODULE).unwrap()).unwrap();
        let input = client.put_blob(b"hello").unwrap();
        assert_eq!(client.get_blob(&input).unwrap(), b"hello");
        let spec = JobSpec {
            module,
            entry: "run".into(),
            inputs: vec![input],
            limits: JobLimits::default(),
            replication: 1,
        };
        let submitted = client.submit(&spec).unwrap();
        let status = client.job_status(submitted.job).unwrap();
        assert_eq!((status.job, status.units.total), (submitted.job, 1));
        let results = client.job_results(submitted.job).unwrap();
        assert_eq!(results.units.len(), 1);
        assert_eq!(client.ledger().unwrap().total.0, 0);

        let site = b"a small site".to_vec();
        let name = "site v2/ä&replicas=9.bin";
        let query = idleshare_protocol::api::PublishQuery {
            name: Some(name.into()),
            replicas: Some(1),
            serving_budget: Some(1_000),
            ..Default::default()
        };
        let published = client
            .publish(
                &mut site.as_slice(),
                site.len() as u64,
                ContentId::of(&site),
                &query,
            )
            .unwrap();
        assert!(published.storage_escrowed.0 > 0);
        let account = client.account_view().unwrap();
        assert_eq!(
            account.balance.0,
            1_000_000_000 - account.escrowed.0 - account.spent.0
        );
        assert_eq!(
            (published.id, published.replicas),
            (ContentId::of(&site), 1)
        );
        let status = client.content_status(&published.id).unwrap();
        assert_eq!(
            status.name, name,
            "the name arrives whole, escaped on the way"
        );
        let listed = client.content_list().unwrap();
        assert_eq!(
            listed.iter().map(|c| c.id).collect::<Vec<_>>(),
            [published.id]
        );
        assert_eq!(client.gateway(&published.id).unwrap(), site);
        let someone = NodeId::from(ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key());
        let report = BadDataReport {
            node: someone,
            offset: 0,
            detail: "test".into(),
        };
        client.report_bad_data(&published.id, &report).unwrap();

        let missing = ContentId::of(b"never published");
        match client.content_status(&missing) {
            Err(ClientError::Refused { status, message }) => {
                assert_eq!(status, 404, "{message}");
                assert!(message.contains("no content"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            client.job_status(JobId(99)),
            Err(ClientError::Refused { status: 404, .. })
        ));
    })
    .await
    .unwrap();
    coordinator.shutdown().await;
}
