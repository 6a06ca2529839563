//! Money helpers for process tests: customer accounts (a 0600 key file per account
//! directory), operator deposits through the CLI, and the public audit that every test
//! moving money runs at its end.

use std::path::Path;
use std::time::Duration;

use idleshare_coordinator::client::ApiClient;
use idleshare_protocol::api::AuditReport;
use idleshare_transport::load_or_create_key_file;

use super::CoordinatorProcess;
use super::compute::{api, cli_ok};

/// What the helpers deposit to a test customer: plenty for any test job or fetch.
pub const TEST_FUNDS: &str = "100000";

/// The CLI arguments that make a command act as the customer whose account is `dir`.
pub fn customer_args(dir: &Path) -> Vec<String> {
    vec![
        "--account-dir".into(),
        dir.to_str().unwrap().into(),
        "--key-store".into(),
        "file".into(),
    ]
}

/// The account id of the customer in `dir` (creating its key), as `idleshare account`
/// prints it.
pub fn account_id(coordinator: &CoordinatorProcess, dir: &Path) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let api = api(coordinator);
    let mut args = vec!["account".to_owned(), "--json".into(), "--api".into(), api];
    args.extend(customer_args(dir));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli_ok(&args, Duration::from_secs(30));
    let view: serde_json::Value = serde_json::from_str(&out).expect("account JSON");
    view["account"].as_str().unwrap().to_owned()
}

/// Deposits `tokens` to the customer in `dir`, as the operator would: through
/// `idleshare coordinator account deposit`, signed with the coordinator's key.
pub fn deposit(coordinator: &CoordinatorProcess, dir: &Path, tokens: &str) -> String {
    let account = account_id(coordinator, dir);
    let api = api(coordinator);
    let data = coordinator.data.to_str().unwrap();
    cli_ok(
        &[
            "coordinator",
            "account",
            "deposit",
            &account,
            tokens,
            "--note",
            "test",
            "--data",
            data,
            "--api",
            &api,
        ],
        Duration::from_secs(30),
    );
    account
}

/// Funds the customer in `dir` once (a marker file remembers it).
pub fn ensure_funded(coordinator: &CoordinatorProcess, dir: &Path) {
    let marker = dir.join(format!("funded-{}", coordinator.quic_port));
    if !marker.exists() {
        deposit(coordinator, dir, TEST_FUNDS);
        std::fs::write(marker, b"").unwrap();
    }
}

/// The HTTP API signed by the customer in `dir`.
pub fn signed_api(coordinator: &CoordinatorProcess, dir: &Path) -> ApiClient {
    std::fs::create_dir_all(dir).unwrap();
    let (key, _) = load_or_create_key_file(&dir.join("customer.key")).expect("customer key");
    ApiClient::at(coordinator.http).with_key(key)
}

/// The public audit; panics unless every deposited micro-token is accounted for. Also runs
/// `idleshare coordinator audit`, which must agree.
pub fn audit_balances(coordinator: &CoordinatorProcess) -> AuditReport {
    let report = coordinator.api().audit().expect("GET /v1/ledger/audit");
    assert!(report.balanced, "the audit does not balance: {report:?}");
    let api = api(coordinator);
    let out = cli_ok(
        &["coordinator", "audit", "--api", &api],
        Duration::from_secs(30),
    );
    assert!(out.contains("balanced"), "{out}");
    assert_eq!(
        report.paid_to_nodes, report.receipts_total,
        "every payment to a node is a signed receipt"
    );
    report
}

/// Micro-tokens from a JSON amount.
pub fn micro(value: &serde_json::Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{value} is not an amount"))
}
