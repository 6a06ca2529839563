//! Helpers for end-to-end tests: real `idleshare` processes, their output, the HTTP API.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;

use idleshare_base::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use idleshare_coordinator::client::ApiClient;

pub mod cache;
pub mod compute;
pub mod money;

pub const BINARY: &str = env!("CARGO_BIN_EXE_idleshare");

/// Held by each test of a binary whose tests share the two cores, so they run one at a
/// time; a failed test releases it like a passing one (the lock does not poison).
pub fn serial() -> MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    ONE_AT_A_TIME.lock()
}

/// A child process whose output lines are collected; killed when dropped.
pub struct Process {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// Starts `idleshare ARGS` with stdout and stderr captured line by line.
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut command = Command::new(BINARY);
        command
            .args(args)
            .env("RUST_LOG", "info,quinn=warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in envs {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn idleshare");
        let (tx, lines) = mpsc::channel();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        forward_lines(stdout, tx.clone(), seen.clone());
        forward_lines(stderr, tx, seen.clone());
        Self { child, lines, seen }
    }

    /// Waits for a line containing `needle`; panics with everything seen on timeout.
    pub fn wait_for_line(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "no line containing {needle:?} within {timeout:?}; output:\n{}",
                    self.output()
                ),
            }
        }
    }

    /// Everything the process printed so far.
    pub fn output(&self) -> String {
        self.seen.lock().join("\n")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "process did not exit after SIGTERM:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn forward_lines(
    stream: impl Read + Send + 'static,
    tx: mpsc::Sender<String>,
    seen: Arc<Mutex<Vec<String>>>,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            seen.lock().push(line.clone());
            let _ = tx.send(line);
        }
    });
}

/// The identity proof difficulty of test coordinators (unless a test passes its own).
pub const TEST_ID_DIFFICULTY: u8 = 8;

/// A coordinator process and what it printed about itself.
pub struct CoordinatorProcess {
    pub process: Process,
    pub address: String,
    pub http: SocketAddr,
    pub quic_port: u16,
    /// Its data directory (its key signs deposits).
    pub data: PathBuf,
}

impl CoordinatorProcess {
    /// Starts a coordinator on loopback `quic_port` (0 = any) with its state in `data`.
    pub fn start(data: &Path, quic_port: u16) -> Self {
        Self::start_with(data, quic_port, &[])
    }

    /// [`Self::start`] with `extra` arguments. Unless `extra` says otherwise, identity
    /// proofs need [`TEST_ID_DIFFICULTY`] bits (every node still proves, in microseconds),
    /// and registrations are not throttled: tests start many nodes from 127.0.0.1 and
    /// restart them at will (the admission tests pass their own limits).
    pub fn start_with(data: &Path, quic_port: u16, extra: &[&str]) -> Self {
        let listen = format!("127.0.0.1:{quic_port}");
        let data_dir = data.to_owned();
        let data = data.to_str().expect("utf-8 path");
        let mut args = vec![
            "coordinator",
            "--listen",
            &listen,
            "--http",
            "127.0.0.1:0",
            "--data",
            data,
        ];
        let difficulty = TEST_ID_DIFFICULTY.to_string();
        let defaults = [
            ("--id-difficulty", difficulty.as_str()),
            ("--registrations-per-ip", "100000"),
            ("--registrations-per-network", "100000"),
        ];
        for (flag, value) in defaults {
            if !extra.contains(&flag) {
                args.extend([flag, value]);
            }
        }
        args.extend_from_slice(extra);
        let process = Process::start(&args, &[]);
        let address = value_after(
            &process.wait_for_line("address: ", Duration::from_secs(20)),
            "address: ",
        );
        let http = value_after(
            &process.wait_for_line("http: ", Duration::from_secs(5)),
            "http: http://",
        )
        .parse()
        .expect("http address");
        let quic_port = address.rsplit(':').next().unwrap().parse().unwrap();
        Self {
            process,
            address,
            http,
            quic_port,
            data: data_dir,
        }
    }

    /// The coordinator's HTTP API, through the one typed client the shells use (unsigned:
    /// the public routes).
    pub fn api(&self) -> ApiClient {
        ApiClient::at(self.http)
    }

    /// The HTTP API signed by the test customer (see [`money`]).
    pub fn customer_api(&self) -> ApiClient {
        money::signed_api(self, &self.customer_dir())
    }

    /// The default test customer's account directory (beside the coordinator's data).
    pub fn customer_dir(&self) -> PathBuf {
        self.data.with_extension("customer")
    }

    /// The HTTP API signed by the operator, with the coordinator's own key from its data
    /// directory (deposits, the operator's node list).
    pub fn operator_api(&self) -> ApiClient {
        let path = self.data.join(idleshare_coordinator::server::KEY_FILE_NAME);
        let (key, _) =
            idleshare_transport::load_or_create_key_file(&path).expect("coordinator key");
        ApiClient::at(self.http).with_key(key)
    }

    /// The whole registry, as the operator sees it (`GET /v1/operator/nodes`, signed with
    /// the coordinator's key: addresses, activity, pause reasons, budgets), read through the
    /// typed client, then looked at as JSON.
    pub fn nodes(&self) -> Vec<serde_json::Value> {
        let nodes = self
            .operator_api()
            .operator_nodes()
            .expect("GET /v1/operator/nodes");
        nodes.iter().map(as_json).collect()
    }

    /// The registry as the public `GET /v1/nodes` shows it (no addresses, no live state).
    pub fn public_nodes(&self) -> Vec<serde_json::Value> {
        let nodes = self.api().nodes().expect("GET /v1/nodes");
        nodes.iter().map(as_json).collect()
    }

    /// The node's entry, if registered.
    pub fn node(&self, id: &str) -> Option<serde_json::Value> {
        self.nodes().into_iter().find(|n| n["id"] == id)
    }

    pub fn metrics(&self) -> String {
        self.api().metrics().expect("GET /metrics")
    }

    /// The value of one metric line (name with labels) in `/metrics`.
    pub fn metric(&self, name_and_labels: &str) -> u64 {
        let prefix = format!("{name_and_labels} ");
        self.metrics()
            .lines()
            .find_map(|line| line.strip_prefix(&prefix).map(|v| v.parse().unwrap()))
            .unwrap_or_else(|| panic!("metric {name_and_labels} missing"))
    }
}

pub fn value_after(line: &str, marker: &str) -> String {
    let start = line.find(marker).expect("marker") + marker.len();
    line[start..].trim().to_owned()
}

/// Arguments for `idleshare node` against `address` keeping its state in `data`.
pub fn node_args<'a>(address: &'a str, data: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "node",
        "--coordinator",
        address,
        "--data",
        data.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    args
}

/// A node process, started against `address`, and its id.
pub struct NodeProcess {
    pub process: Process,
    pub id: String,
    pub data: PathBuf,
}

impl NodeProcess {
    /// Starts `idleshare node` with a file-stored key (keychain tests live elsewhere).
    pub fn start(address: &str, data: &Path) -> Self {
        Self::start_with(address, data, &[])
    }

    /// [`Self::start`] with `extra` arguments. Settings are read from `DATA.settings.toml`
    /// beside the data (never the user's own file); write it first to change them.
    ///
    /// Unless `extra` has `--bind`, each node leaves from its own loopback network
    /// (127.N.M.1, a /24 of its own), as nodes on different homes' networks would: the
    /// coordinator puts replicas of one unit on different networks.
    pub fn start_with(address: &str, data: &Path, extra: &[&str]) -> Self {
        let settings = data.with_extension("settings.toml");
        let settings = settings.to_str().expect("utf-8 path");
        let mut args = vec!["--key-store", "file", "--settings", settings];
        let bind = own_network();
        if !extra.contains(&"--bind") {
            args.extend(["--bind", bind.as_str()]);
        }
        args.extend_from_slice(extra);
        let process = Process::start(&node_args(address, data, &args), &[]);
        let id = value_after(
            &process.wait_for_line("node id: ", Duration::from_secs(20)),
            "node id: ",
        );
        Self {
            process,
            id,
            data: data.to_owned(),
        }
    }
}

/// A loopback address on a /24 no other node of this test binary uses (Linux routes all
/// of 127/8 to the loopback interface).
pub fn own_network() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("127.{}.{}.1", 100 + n / 250, n % 250)
}

/// An API answer as the JSON it travels as (tests index into it by field name).
pub fn as_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("API types serialise")
}

/// Polls `check` until it returns `Some`, or panics after `timeout` with `what`.
pub fn wait_until<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the node is online in the coordinator's registry; returns its entry.
pub fn wait_online(
    coordinator: &CoordinatorProcess,
    id: &str,
    timeout: Duration,
) -> serde_json::Value {
    wait_until(timeout, &format!("node {id} online"), || {
        coordinator.node(id).filter(|n| n["state"] == "online")
    })
}
