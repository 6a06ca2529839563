//! Command-line arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use idleshare_node::KeyStorePreference;
use idleshare_protocol::CoordinatorAddress;

/// Idleshare: contribute your PC's idle capacity to a decentralised cloud.
#[derive(Debug, Parser)]
#[command(name = "idleshare", version, about)]
pub struct Cli {
    /// Log debug details (or set RUST_LOG).
    #[arg(long, short, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a coordinator: admits nodes over QUIC, serves the HTTP API (or, as its operator,
    /// `coordinator account deposit` and `coordinator audit`).
    Coordinator(CoordinatorCommand),
    /// Run a node (or `node id` to print this node's id).
    Node(NodeCommand),
    /// An embedded coordinator and one local node in one process.
    Devnet(DevnetArgs),
    /// Submit a compute job: a WebAssembly module run once per input file.
    Submit(SubmitArgs),
    /// Inspect a submitted job.
    Job(JobCommand),
    /// Publish a file to the edge cache: nodes keep copies and serve it.
    Publish(PublishArgs),
    /// Fetch published content from the nodes that hold it, verifying every byte.
    Fetch(FetchArgs),
    /// Your customer account: its id, balance, deposits and spending per job and content.
    Account(AccountArgs),
    /// This node's earnings: balance, receipts, offline verification, export.
    Wallet(WalletCommand),
    /// Benchmarks that print figures and end with one JSON line.
    #[cfg(feature = "bench")]
    Bench(BenchCommand),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CoordinatorCommand {
    #[command(subcommand)]
    pub action: Option<CoordinatorAction>,
    #[command(flatten)]
    pub run: CoordinatorArgs,
}

#[derive(Debug, Subcommand)]
pub enum CoordinatorAction {
    /// Customer accounts, as the operator.
    Account(OperatorAccountCommand),
    /// Check that every deposited token is in a balance, in escrow, paid or a fee.
    Audit(AuditArgs),
    /// Every node with its address and live state (the operator's view; signed with the
    /// coordinator's key, so run it on the coordinator's machine).
    Nodes(OperatorNodesArgs),
}

#[derive(Debug, Args)]
pub struct OperatorNodesArgs {
    /// Print the list as JSON.
    #[arg(long)]
    pub json: bool,
    /// The coordinator's data directory (its key signs the request).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The coordinator's HTTP API base URL.
    #[arg(long, env = "IDLESHARE_API", default_value = "http://127.0.0.1:7380")]
    pub api: String,
}

#[derive(Debug, Args)]
pub struct OperatorAccountCommand {
    #[command(subcommand)]
    pub action: OperatorAccountAction,
}

#[derive(Debug, Subcommand)]
pub enum OperatorAccountAction {
    /// Record money received from a customer: new tokens on its account.
    Deposit(DepositArgs),
}

#[derive(Debug, Args)]
pub struct DepositArgs {
    /// The customer's account id (as `idleshare account` prints it).
    pub account: String,
    /// Tokens, up to six decimals (e.g. 12.5).
    pub amount: String,
    /// A payment reference kept with the deposit.
    #[arg(long, default_value = "")]
    pub note: String,
    /// The coordinator's data directory (its key signs the deposit).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The coordinator's HTTP API base URL.
    #[arg(long, env = "IDLESHARE_API", default_value = "http://127.0.0.1:7380")]
    pub api: String,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Print the audit as JSON.
    #[arg(long)]
    pub json: bool,
    /// The coordinator's HTTP API base URL.
    #[arg(long, env = "IDLESHARE_API", default_value = "http://127.0.0.1:7380")]
    pub api: String,
}

#[derive(Debug, Args)]
pub struct AccountArgs {
    /// Print the account as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, Args)]
pub struct CoordinatorArgs {
    /// UDP address for QUIC.
    #[arg(long, default_value = "0.0.0.0:7350")]
    pub listen: SocketAddr,
    /// TCP address for the HTTP API.
    #[arg(long, default_value = "127.0.0.1:7380")]
    pub http: SocketAddr,
    /// Directory for the coordinator's key and database (default: per-user data dir).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Host name to put in the printed address (default: the listen IP).
    #[arg(long)]
    pub public_host: Option<String>,
    /// Heartbeat interval nodes are told to keep, in milliseconds.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(50..=600_000))]
    pub heartbeat_ms: u64,
    /// Most QUIC connections open at once (handshakes, node sessions and cache clients).
    #[arg(long, default_value_t = 12_000)]
    pub max_connections: usize,
    /// Most QUIC connections open at once from one IP address (IPv6: one /64).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections_per_ip: u64,
    /// Handshakes in progress above which new clients must prove their address (QUIC Retry).
    #[arg(long, default_value_t = 128)]
    pub retry_above_handshakes: usize,
    /// Most node control sessions open at once.
    #[arg(long, default_value_t = 10_000)]
    pub max_node_sessions: usize,
    /// Most cache clients connected at once.
    #[arg(long, default_value_t = 2_000)]
    pub max_cache_clients: usize,
    /// How long a node may hold a unit before it goes to another node, in seconds.
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub lease_secs: u64,
    /// Micro-tokens paid per million units of validated fuel (published in /v1/coordinator).
    #[arg(long, default_value_t = 1000)]
    pub credit_rate: u64,
    /// Micro-tokens paid per GiB a client verified from a node's cache.
    #[arg(long, default_value_t = 1_000_000)]
    pub serving_rate: u64,
    /// Copies of published content kept on nodes (unless the publisher asks otherwise).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=16))]
    pub replicas: u8,
    /// Seconds between spot checks of cached copies.
    #[arg(long, default_value_t = 30.0)]
    pub spot_check_secs: f64,
    /// Largest file accepted for publishing, in MiB.
    #[arg(long, default_value_t = 8192)]
    pub max_publish_mib: u64,
    /// The operator's fee in basis points (1/100 %) on top of every payment to a node.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub fee_bps: u32,
    /// Micro-tokens per GiB-day for each copy of published content.
    #[arg(long, default_value_t = 50_000)]
    pub storage_rate: u64,
    /// Seconds between payments to the nodes holding copies.
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub storage_period_secs: u64,
    /// HTTP: seconds a request's headers may take from their first byte (else 408).
    #[arg(long, default_value_t = 10.0)]
    pub http_header_timeout_secs: f64,
    /// HTTP: seconds a keep-alive connection may sit idle before it is closed.
    #[arg(long, default_value_t = 60.0)]
    pub http_idle_timeout_secs: f64,
    /// HTTP: seconds a request body may send nothing (else 408).
    #[arg(long, default_value_t = 30.0)]
    pub http_body_stall_secs: f64,
    /// HTTP: least average bytes a second of a request body, after its first stall window.
    #[arg(long, default_value_t = 4096)]
    pub http_min_body_rate: u64,
    /// HTTP: seconds a client may leave its response unread before it is cut.
    #[arg(long, default_value_t = 30.0)]
    pub http_write_stall_secs: f64,
    /// HTTP: most connections open at once (more are answered 503).
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..))]
    pub http_max_connections: u64,
    /// HTTP: most connections open at once from one IPv4 address or IPv6 /64.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..))]
    pub http_max_connections_per_ip: u64,
    /// HTTP: most requests answered at once (more are answered 503 with Retry-After).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub http_max_in_flight: u64,
    /// HTTP: body limit in bytes of every route without a larger one of its own.
    #[arg(long, default_value_t = 65_536, value_parser = clap::value_parser!(u64).range(1..))]
    pub http_json_body_limit: u64,
    /// Let replicas of one unit, and copies of one piece of cached content, go to nodes of
    /// one network (IPv4 /24, IPv6 /48). Only for a private network where every node is
    /// yours (one LAN): on a public one, a stranger with many ids on one network could then
    /// agree with itself, or hold every copy of a piece.
    #[arg(long)]
    pub same_network_replicas: bool,
    /// Leading zero bits a node's identity proof of work must have (each bit doubles the
    /// work; the default takes a home PC about half a minute, once per identity).
    #[arg(long, default_value_t = idleshare_protocol::proof::DEFAULT_ID_DIFFICULTY,
          value_parser = clap::value_parser!(u8).range(0..=idleshare_protocol::proof::MAX_ID_DIFFICULTY as i64))]
    pub id_difficulty: u8,
    /// Registrations per minute accepted from one IP address (also its burst).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..))]
    pub registrations_per_ip: u32,
    /// Registrations per minute accepted from one network, IPv4 /24 or IPv6 /48 (also its
    /// burst).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub registrations_per_network: u32,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct NodeCommand {
    #[command(subcommand)]
    pub action: Option<NodeAction>,
    #[command(flatten)]
    pub run: NodeRunArgs,
}

#[derive(Debug, Subcommand)]
pub enum NodeAction {
    /// Print this node's id (creating its key on first use).
    Id(NodeIdArgs),
    /// Show a running node's live snapshot and contribution decision.
    Status(NodeStatusArgs),
}

#[derive(Debug, Args)]
pub struct NodeStatusArgs {
    /// The node's data directory.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Print the raw status as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct NodeIdArgs {
    /// The node's data directory.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Where to keep the key.
    #[arg(long, value_enum, default_value_t = KeyStoreArg::Auto)]
    pub key_store: KeyStoreArg,
}

#[derive(Debug, Args)]
pub struct NodeRunArgs {
    /// The coordinator address: KEY@HOST:PORT, as printed by `idleshare coordinator`.
    #[arg(long)]
    pub coordinator: Option<CoordinatorAddress>,
    /// The node's data directory (default: per-user data dir).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Where to keep the key: the OS keychain (auto falls back to a 0600 file without one).
    #[arg(long, value_enum, default_value_t = KeyStoreArg::Auto)]
    pub key_store: KeyStoreArg,
    /// The settings file (default: settings.toml in the per-user config dir). Edits to it
    /// apply while the node runs.
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// Test only: act as a lying node that reports corrupted outputs.
    #[cfg(feature = "test-hooks")]
    #[arg(long, hide = true)]
    pub test_corrupt_outputs: bool,
    /// Test only: report honestly for this many units, then corrupted outputs.
    #[cfg(feature = "test-hooks")]
    #[arg(long, hide = true)]
    pub test_lie_after: Option<u64>,
    /// Test only: ask for far more work than this node can run, again and again.
    #[cfg(feature = "test-hooks")]
    #[arg(long, hide = true)]
    pub test_hoard_work: bool,
    /// Test only: act as a node that claims far more fuel than its units used.
    #[cfg(feature = "test-hooks")]
    #[arg(long, hide = true)]
    pub test_inflate_fuel: bool,
    /// UDP address of this node's cache endpoint, or `off` to be reached only through the
    /// coordinator's relay.
    #[arg(long, default_value = "0.0.0.0:0", value_parser = parse_cache_listen)]
    pub cache_listen: CacheListen,
    /// The local IP address the coordinator connection leaves from (default: any). Several
    /// nodes on one machine can bind 127.A.B.C to look like different networks.
    #[arg(long)]
    pub bind: Option<std::net::IpAddr>,
    /// Seconds between scrub passes of the cache (each re-hashes one item due for it).
    #[arg(long, default_value_t = 600.0)]
    pub scrub_secs: f64,
    /// Re-hash a cached item when its last check is older than this many hours.
    #[arg(long, default_value_t = 168.0)]
    pub scrub_age_hours: f64,
    /// Test only: act as a bad node that serves corrupted cache bytes.
    #[cfg(feature = "test-hooks")]
    #[arg(long, hide = true)]
    pub test_corrupt_cache: bool,
}

/// Where the node's cache endpoint listens.
#[derive(Debug, Clone, Copy)]
pub struct CacheListen(pub Option<SocketAddr>);

/// A `--cache-listen` value that is neither `off` nor an address.
#[derive(Debug, thiserror::Error)]
#[error("{text:?} is neither `off` nor an address like 0.0.0.0:7351: {source}")]
pub struct BadCacheListen {
    text: String,
    source: std::net::AddrParseError,
}

fn parse_cache_listen(text: &str) -> Result<CacheListen, BadCacheListen> {
    if text == "off" {
        return Ok(CacheListen(None));
    }
    text.parse()
        .map(|addr| CacheListen(Some(addr)))
        .map_err(|source| BadCacheListen {
            text: text.to_owned(),
            source,
        })
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KeyStoreArg {
    /// OS keychain, or a 0600 file when no keychain is usable.
    Auto,
    /// OS keychain only.
    Keychain,
    /// 0600 file only.
    File,
}

impl From<KeyStoreArg> for KeyStorePreference {
    fn from(arg: KeyStoreArg) -> Self {
        match arg {
            KeyStoreArg::Auto => KeyStorePreference::Auto,
            KeyStoreArg::Keychain => KeyStorePreference::Keychain,
            KeyStoreArg::File => KeyStorePreference::File,
        }
    }
}

#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// Directory for the devnet's coordinator and node (default: per-user data dir).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// TCP address for the coordinator's HTTP API.
    #[arg(long, default_value = "127.0.0.1:7380")]
    pub http: SocketAddr,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    pub seconds: Option<u64>,
    /// The node's settings file (default: settings.toml in the devnet data dir).
    #[arg(long)]
    pub settings: Option<PathBuf>,
}

/// Where the coordinator's HTTP API is, and which customer account signs.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// The coordinator's HTTP API base URL.
    #[arg(long, env = "IDLESHARE_API", default_value = "http://127.0.0.1:7380")]
    pub api: String,
    /// The customer account's data directory (default: per-user data dir); its key is in
    /// the OS keychain, or a 0600 file there when there is no keychain.
    #[arg(long, env = "IDLESHARE_ACCOUNT_DIR")]
    pub account_dir: Option<PathBuf>,
    /// Where to keep the account key.
    #[arg(long, value_enum, default_value_t = KeyStoreArg::Auto)]
    pub key_store: KeyStoreArg,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The job's WebAssembly module (see `assets/workloads/` and the ABI in the protocol docs).
    pub module: PathBuf,
    /// A directory of input files: one unit per file, in file-name order.
    pub inputs: PathBuf,
    /// The exported entry function.
    #[arg(long, default_value = "run")]
    pub entry: String,
    /// Nodes that must agree on each unit's result.
    #[arg(long, default_value_t = 2)]
    pub replication: u8,
    /// Fuel per unit (deterministic work count; default: the network's default).
    #[arg(long)]
    pub fuel: Option<u64>,
    /// Memory per unit in MiB.
    #[arg(long)]
    pub memory_mib: Option<u64>,
    /// Output size limit per unit in KiB.
    #[arg(long)]
    pub output_kib: Option<u32>,
    /// Running-time limit per unit in seconds.
    #[arg(long)]
    pub deadline_secs: Option<u64>,
    /// Wait for every unit to settle, showing progress.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: write each output to DIR/<input file name>.out.
    #[arg(long, requires = "wait")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The file to publish.
    pub file: PathBuf,
    /// Copies to keep on nodes (default: the coordinator's).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=16))]
    pub replicas: Option<u8>,
    /// The name shown for it (default: the file name).
    #[arg(long)]
    pub name: Option<String>,
    /// Days of storage to pay for now (default: the coordinator's, 30).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: Option<u32>,
    /// Tokens set aside for fetches by people without an account (the HTTP gateway).
    #[arg(long)]
    pub serving_budget: Option<String>,
    /// Wait until the wanted copies are stored on nodes.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout_secs: u64,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The content id (64 hex digits, as `publish` printed).
    pub content: String,
    /// Where to write it (an unfinished fetch leaves FILE.part, resumed next time).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Bytes per request to a provider, in KiB.
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u64).range(16..=1_048_576))]
    pub segment_kib: u64,
    /// Seconds of silence before a provider is dropped.
    #[arg(long, default_value_t = 5.0)]
    pub stall_secs: f64,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, Args)]
pub struct JobCommand {
    #[command(subcommand)]
    pub action: JobAction,
}

#[derive(Debug, Subcommand)]
pub enum JobAction {
    /// A job's progress and, with --units, each unit's state.
    Status(JobStatusArgs),
}

#[derive(Debug, Args)]
pub struct JobStatusArgs {
    /// The job id (as printed by `submit`: a number, `job-` prefix optional).
    pub job: String,
    /// List every unit.
    #[arg(long)]
    pub units: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub api: ApiArgs,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WalletCommand {
    #[command(subcommand)]
    pub action: Option<WalletAction>,
    /// The node's data directory (default: per-user node data dir).
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum WalletAction {
    /// Check every receipt offline: signatures against the coordinator key, chain links, sums.
    Verify(WalletVerifyArgs),
    /// Write every receipt as JSON or CSV.
    Export(WalletExportArgs),
}

#[derive(Debug, Args)]
pub struct WalletVerifyArgs {
    /// Only this coordinator's chain (its key, or a KEY@HOST:PORT address).
    #[arg(long)]
    pub coordinator: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    /// JSON array with signatures (re-verifiable).
    Json,
    /// CSV, one line per receipt.
    Csv,
}

#[derive(Debug, Args)]
pub struct WalletExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormatArg::Json)]
    pub format: ExportFormatArg,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[cfg(feature = "bench")]
#[derive(Debug, Args)]
pub struct BenchCommand {
    #[command(subcommand)]
    pub bench: idleshare_bench::Bench,
}
