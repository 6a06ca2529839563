//! `idleshare coordinator`, and its operator's `coordinator account deposit`,
//! `coordinator audit` and `coordinator nodes`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use idleshare_coordinator::http_door::HttpLimits;
use idleshare_coordinator::server::KEY_FILE_NAME;
use idleshare_coordinator::{Coordinator, CoordinatorConfig};
use idleshare_protocol::auth::AccountId;
use idleshare_transport::load_or_create_key_file;

use crate::api_client::ApiClient;
use crate::cli::{AuditArgs, CoordinatorArgs, DepositArgs, OperatorNodesArgs};

/// The API at `api`, signing with the coordinator's own key from its data directory.
fn operator_client(api: &str, data: Option<PathBuf>) -> anyhow::Result<ApiClient> {
    let key_path = super::data_dir(data, "coordinator")?.join(KEY_FILE_NAME);
    if !key_path.exists() {
        bail!(
            "no coordinator key at {}: run this on the coordinator's machine, with its --data",
            key_path.display()
        );
    }
    let (key, _) = load_or_create_key_file(&key_path)
        .with_context(|| format!("cannot read the coordinator key {}", key_path.display()))?;
    Ok(ApiClient::new(api).with_key(key))
}

/// Records a deposit, signed with the coordinator's own key from its data directory.
pub fn deposit(args: DepositArgs) -> anyhow::Result<()> {
    let account: AccountId = args
        .account
        .parse()
        .with_context(|| format!("{:?} is not an account id", args.account))?;
    let amount = super::account::parse_tokens(&args.amount)?;
    let client = operator_client(&args.api, args.data)?;
    let deposited = client.deposit(&account, amount, &args.note)?;
    println!(
        "deposited {} tokens to {}; its balance is {} tokens",
        deposited.amount, deposited.account, deposited.balance
    );
    Ok(())
}

/// Prints every node with its address and live state (the operator's view).
pub fn operator_nodes(args: OperatorNodesArgs) -> anyhow::Result<()> {
    let nodes = operator_client(&args.api, args.data)?.operator_nodes()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&nodes)?);
        return Ok(());
    }
    for node in &nodes {
        let why = node.pause_reason.as_deref().unwrap_or("");
        println!(
            "{} {:7} {:12} {:21} {why}",
            node.id,
            node.state.label(),
            node.activity,
            node.remote_addr
        );
    }
    println!("{} node(s)", nodes.len());
    Ok(())
}

/// Prints the public audit; fails when it does not balance.
pub fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let report = ApiClient::new(&args.api).audit()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("deposits        {} tokens", report.deposits);
        println!(
            "balances        {} tokens ({} accounts)",
            report.balances, report.accounts
        );
        println!("escrow          {} tokens", report.escrow);
        println!(
            "paid to nodes   {} tokens ({} receipts, summing to {})",
            report.paid_to_nodes, report.receipts, report.receipts_total
        );
        println!("operator fees   {} tokens", report.fees);
        println!("movements       {}", report.movements);
    }
    if !report.balanced {
        bail!("the audit does not balance: {}", report.problems.join("; "));
    }
    if !args.json {
        println!("balanced: deposits = balances + escrow + paid to nodes + fees");
    }
    Ok(())
}

pub async fn run(args: CoordinatorArgs) -> anyhow::Result<()> {
    let http_limits = http_limits(&args)?;
    let mut config =
        CoordinatorConfig::new(args.listen, super::data_dir(args.data, "coordinator")?);
    config.http = Some(args.http);
    config.http_limits = http_limits;
    config.public_host = args.public_host;
    config.heartbeat_interval = Duration::from_millis(args.heartbeat_ms);
    config.max_connections = args.max_connections;
    config.max_connections_per_ip = usize::try_from(args.max_connections_per_ip)?;
    config.retry_above_handshakes = args.retry_above_handshakes;
    config.max_node_sessions = args.max_node_sessions;
    config.max_cache_clients = args.max_cache_clients;
    config.work.lease_ms = args.lease_secs * 1000;
    config.work.credit_rate.micro_tokens_per_megafuel = args.credit_rate;
    config.work.serving_rate.micro_tokens_per_gib = args.serving_rate;
    config.work.fee_bps = args.fee_bps;
    config.work.storage_rate.micro_tokens_per_gib_day = args.storage_rate;
    config.work.storage_period_ms = args.storage_period_secs * 1000;
    config.work.one_replica_per_network = !args.same_network_replicas;
    config.content.one_copy_per_network = !args.same_network_replicas;
    config.content.replicas = args.replicas;
    config.content.spot_check_every = super::seconds("--spot-check-secs", args.spot_check_secs)?;
    config.content.max_publish_bytes = args.max_publish_mib.saturating_mul(1 << 20);
    config.admission.id_difficulty = args.id_difficulty;
    config.admission.per_ip_per_minute = args.registrations_per_ip;
    config.admission.per_network_per_minute = args.registrations_per_network;
    let data_dir = config.data_dir.clone();
    let coordinator = Coordinator::start(config)
        .await
        .context("cannot start the coordinator")?;
    // Machine-readable first lines: scripts and tests read the address from here.
    println!("address: {}", coordinator.address());
    if let Some(http) = coordinator.http_addr() {
        println!("http: http://{http}");
    }
    println!("data: {}", data_dir.display());
    println!(
        "Nodes join with: idleshare node --coordinator {}",
        coordinator.address()
    );
    idleshare_node::stop_requested().await;
    eprintln!("shutting down: telling nodes goodbye and saving the registry");
    coordinator.shutdown().await;
    Ok(())
}

/// The HTTP front door's bounds from the `--http-*` flags.
fn http_limits(args: &CoordinatorArgs) -> anyhow::Result<HttpLimits> {
    let count = |value: u64| usize::try_from(value).unwrap_or(usize::MAX);
    Ok(HttpLimits {
        header_timeout: super::seconds(
            "--http-header-timeout-secs",
            args.http_header_timeout_secs,
        )?,
        idle_timeout: super::seconds("--http-idle-timeout-secs", args.http_idle_timeout_secs)?,
        body_stall: super::seconds("--http-body-stall-secs", args.http_body_stall_secs)?,
        min_body_rate: args.http_min_body_rate,
        write_stall: super::seconds("--http-write-stall-secs", args.http_write_stall_secs)?,
        max_connections: count(args.http_max_connections),
        max_connections_per_ip: count(args.http_max_connections_per_ip),
        max_in_flight: count(args.http_max_in_flight),
        json_body_limit: args.http_json_body_limit,
        ..HttpLimits::default()
    })
}
