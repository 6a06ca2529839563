//! Compute-job helpers for process tests: small WebAssembly modules written in text form,
//! their native twins for checking outputs, and runners of `idleshare submit`/`wallet`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use idleshare_protocol::JobId;

use super::{BINARY, CoordinatorProcess, NodeProcess, as_json};

/// A job module: `run` applies `iterations` xorshift64 steps to `seed` (input: two u64 LE),
/// output: the final state (8 bytes LE). Cost grows linearly with `iterations`.
pub const SPIN_WAT: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "idleshare_alloc") (param i32) (result i32) i32.const 1024)
  (func (export "run") (param $ptr i32) (param $len i32) (result i64)
    (local $n i64) (local $x i64)
    (local.set $n (i64.load (local.get $ptr)))
    (local.set $x (i64.load offset=8 (local.get $ptr)))
    (block $done (loop $again
      (br_if $done (i64.eqz (local.get $n)))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
      (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
      (local.set $n (i64.sub (local.get $n) (i64.const 1)))
      (br $again)))
    (i64.store (i32.const 0) (local.get $x))
    (i64.const 8)))"#;

/// What [`SPIN_WAT`] outputs for one input.
pub fn spin_native(iterations: u64, seed: u64) -> [u8; 8] {
    let mut x = seed;
    for _ in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x.to_le_bytes()
}

/// Writes a module compiled from `wat` to `dir/name.wasm`.
pub fn write_module(dir: &Path, name: &str, wat: &str) -> PathBuf {
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, wat::parse_str(wat).expect("valid WAT")).unwrap();
    path
}

/// Writes `count` spin inputs (seeds 1..=count) into a new directory `dir/name`.
pub fn write_spin_inputs(dir: &Path, name: &str, count: u64, iterations: u64) -> PathBuf {
    let inputs = dir.join(name);
    std::fs::create_dir_all(&inputs).unwrap();
    for seed in 1..=count {
        let mut bytes = iterations.to_le_bytes().to_vec();
        bytes.extend_from_slice(&seed.to_le_bytes());
        std::fs::write(inputs.join(format!("{seed:05}.in")), bytes).unwrap();
    }
    inputs
}

/// Settings for test nodes: headless counts as idle; other test nodes' CPU must not pause
/// this one; one core each, so three nodes share two cores.
pub const WORKER_SETTINGS: &str = "[policy]\nowner_cpu_pause_percent = 100\nowner_cpu_resume_percent = 100\n\n[budget]\nmax_cores = 1\n";

/// Starts a node with [`WORKER_SETTINGS`] (plus `extra` arguments).
pub fn start_worker(coordinator: &CoordinatorProcess, data: &Path, extra: &[&str]) -> NodeProcess {
    std::fs::write(data.with_extension("settings.toml"), WORKER_SETTINGS).unwrap();
    NodeProcess::start_with(&coordinator.address, data, extra)
}

/// Waits until `node` is online and contributing.
pub fn wait_contributing(coordinator: &CoordinatorProcess, node: &NodeProcess) {
    super::wait_online(coordinator, &node.id, Duration::from_secs(30));
    super::wait_until(Duration::from_secs(20), "node contributing", || {
        coordinator
            .node(&node.id)
            .filter(|n| n["activity"] == "contributing")
    });
}

/// Runs the CLI to completion (with a timeout) and returns its output.
pub fn cli(args: &[&str], timeout: Duration) -> Output {
    let child = Command::new(BINARY)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start idleshare");
    let pid = child.id();
    // Output is read while the child runs, so a long output never fills the pipe and
    // blocks it.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(timeout) {
        Ok(output) => output.expect("wait for idleshare"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            let output = finished.recv().expect("killed child").expect("its output");
            panic!(
                "idleshare {args:?} did not finish within {timeout:?}\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

/// `cli` that must succeed; returns stdout.
pub fn cli_ok(args: &[&str], timeout: Duration) -> String {
    let output = cli(args, timeout);
    assert!(
        output.status.success(),
        "idleshare {args:?} failed\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The API base URL of a coordinator.
pub fn api(coordinator: &CoordinatorProcess) -> String {
    format!("http://{}", coordinator.http)
}

/// Submits `module` over `inputs` without waiting; returns the job number.
pub fn submit(
    coordinator: &CoordinatorProcess,
    module: &Path,
    inputs: &Path,
    extra: &[&str],
) -> u64 {
    super::money::ensure_funded(coordinator, &coordinator.customer_dir());
    let api = api(coordinator);
    let customer = super::money::customer_args(&coordinator.customer_dir());
    let mut args = vec![
        "submit",
        module.to_str().unwrap(),
        inputs.to_str().unwrap(),
        "--api",
        api.as_str(),
    ];
    args.extend(customer.iter().map(String::as_str));
    args.extend_from_slice(extra);
    let out = cli_ok(&args, Duration::from_secs(60));
    let line = out
        .lines()
        .find(|l| l.starts_with("submitted job-"))
        .expect("submitted line");
    line["submitted job-".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// `GET /v1/jobs/N` as JSON.
pub fn job_status(coordinator: &CoordinatorProcess, job: u64) -> serde_json::Value {
    as_json(
        &coordinator
            .customer_api()
            .job_status(JobId(job))
            .expect("job status"),
    )
}

/// `GET /v1/jobs/N/results` as JSON.
pub fn job_results(coordinator: &CoordinatorProcess, job: u64) -> serde_json::Value {
    as_json(
        &coordinator
            .customer_api()
            .job_results(JobId(job))
            .expect("job results"),
    )
}

/// `GET /v1/ledger` as JSON.
pub fn ledger(coordinator: &CoordinatorProcess) -> serde_json::Value {
    as_json(&coordinator.api().ledger().expect("ledger"))
}

/// Waits until every unit of `job` is settled; returns its status.
pub fn wait_finished(
    coordinator: &CoordinatorProcess,
    job: u64,
    timeout: Duration,
) -> serde_json::Value {
    super::wait_until(timeout, &format!("job {job} finished"), || {
        let status = job_status(coordinator, job);
        (status["finished"] == true).then_some(status)
    })
}

/// The wallet of a (stopped or running) node, verified offline: (balance in micro-tokens,
/// receipts), from `idleshare wallet export` after `wallet verify` passed.
pub fn verified_wallet(node_data: &Path) -> (u64, Vec<serde_json::Value>) {
    let data = node_data.to_str().unwrap();
    let verify = cli(
        &["wallet", "verify", "--data", data],
        Duration::from_secs(30),
    );
    let exported = cli_ok(
        &["wallet", "export", "--format", "json", "--data", data],
        Duration::from_secs(30),
    );
    let receipts: Vec<serde_json::Value> = serde_json::from_str(&exported).unwrap();
    if receipts.is_empty() {
        return (0, receipts);
    }
    assert!(
        verify.status.success(),
        "wallet verify failed: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    let balance = receipts
        .iter()
        .map(|r| r["amount_micro"].as_u64().unwrap())
        .sum();
    (balance, receipts)
}

/// A node's status file, as `idleshare node status --json` prints it.
pub fn node_status(node_data: &Path) -> serde_json::Value {
    let out = cli_ok(
        &[
            "node",
            "status",
            "--json",
            "--data",
            node_data.to_str().unwrap(),
        ],
        Duration::from_secs(10),
    );
    serde_json::from_str(&out).unwrap()
}
