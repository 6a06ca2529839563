//! Edge-cache helpers for process tests: content made up on the spot, `publish` and `fetch`
//! through the CLI, the content status and the gateway over HTTP.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use super::compute::{api, cli, cli_ok};
use super::{CoordinatorProcess, NodeProcess, Process, wait_until};

/// Settings for cache test nodes: headless counts as idle, other processes' CPU never pauses
/// them, one core each.
pub const CACHE_NODE_SETTINGS: &str = "[policy]\nowner_cpu_pause_percent = 100\nowner_cpu_resume_percent = 100\n\n[budget]\nmax_cores = 1\n";

/// Pseudo-random bytes from `seed` (xorshift), fast enough for 100 MB.
pub fn make_content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.max(1);
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// Starts a cache node with [`CACHE_NODE_SETTINGS`] plus `settings` lines, and `extra`
/// arguments.
pub fn start_cache_node(
    coordinator: &CoordinatorProcess,
    data: &Path,
    settings: &str,
    extra: &[&str],
) -> NodeProcess {
    let text = format!("{CACHE_NODE_SETTINGS}{settings}");
    std::fs::write(data.with_extension("settings.toml"), text).unwrap();
    NodeProcess::start_with(&coordinator.address, data, extra)
}

/// Writes `bytes` to `dir/name` and publishes it; returns the content id.
pub fn publish(
    coordinator: &CoordinatorProcess,
    dir: &Path,
    name: &str,
    bytes: &[u8],
    extra: &[&str],
) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    super::money::ensure_funded(coordinator, &coordinator.customer_dir());
    let api = api(coordinator);
    let customer = super::money::customer_args(&coordinator.customer_dir());
    let mut args = vec!["publish", path.to_str().unwrap(), "--api", &api];
    args.extend(customer.iter().map(String::as_str));
    args.extend_from_slice(extra);
    let out = cli_ok(&args, Duration::from_secs(180));
    let line = out
        .lines()
        .find(|l| l.starts_with("published "))
        .unwrap_or_else(|| panic!("no published line in:\n{out}"));
    line["published ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// `GET /v1/content/ID` as JSON.
pub fn content_status(coordinator: &CoordinatorProcess, id: &str) -> serde_json::Value {
    let id = id.parse().expect("a content id");
    super::as_json(
        &coordinator
            .api()
            .content_status(&id)
            .expect("content status"),
    )
}

/// The nodes holding a stored copy.
pub fn stored_on(coordinator: &CoordinatorProcess, id: &str) -> Vec<String> {
    content_status(coordinator, id)["pins"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["state"] == "stored")
        .map(|p| p["node"].as_str().unwrap().to_owned())
        .collect()
}

/// Waits until `count` nodes hold `id`.
pub fn wait_stored(
    coordinator: &CoordinatorProcess,
    id: &str,
    count: usize,
    timeout: Duration,
) -> Vec<String> {
    wait_until(timeout, &format!("{count} stored copies of {id}"), || {
        let holders = stored_on(coordinator, id);
        (holders.len() >= count).then_some(holders)
    })
}

/// The arguments of `idleshare fetch ID -o OUT` against `coordinator`, as the customer
/// whose account is `client`.
pub fn fetch_args(
    coordinator: &CoordinatorProcess,
    id: &str,
    out: &Path,
    client: &Path,
    extra: &[&str],
) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "fetch".into(),
        id.into(),
        "-o".into(),
        out.to_str().unwrap().into(),
        "--api".into(),
        api(coordinator),
    ];
    args.extend(super::money::customer_args(client));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Runs `idleshare fetch` to completion.
pub fn fetch(
    coordinator: &CoordinatorProcess,
    id: &str,
    out: &Path,
    client: &Path,
    extra: &[&str],
) -> Output {
    super::money::ensure_funded(coordinator, client);
    let args = fetch_args(coordinator, id, out, client, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cli(&args, Duration::from_secs(300))
}

/// [`fetch`] that must succeed; returns stdout and stderr together.
pub fn fetch_ok(
    coordinator: &CoordinatorProcess,
    id: &str,
    out: &Path,
    client: &Path,
    extra: &[&str],
) -> String {
    let output = fetch(coordinator, id, out, client, extra);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "fetch failed:\n{text}");
    text
}

/// Starts `idleshare fetch` in the background.
pub fn start_fetch(
    coordinator: &CoordinatorProcess,
    id: &str,
    out: &Path,
    client: &Path,
    extra: &[&str],
) -> Process {
    super::money::ensure_funded(coordinator, client);
    let args = fetch_args(coordinator, id, out, client, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Process::start(&args, &[])
}

/// An HTTP/1.1 GET with optional headers; returns (status code, headers, body bytes).
pub fn http_get_bytes(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read HTTP");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP head");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, response[split + 4..].to_vec())
}

/// Bytes of content files in a node's cache directory (the index excluded).
pub fn cache_bytes_on_disk(node_data: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(node_data.join("cache")) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with("index.db"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// The path of a stored item's bytes on a node.
pub fn cached_file(node_data: &Path, id: &str) -> PathBuf {
    node_data.join("cache").join(format!("{id}.data"))
}

/// Dials a cache endpoint (a node's or the coordinator's) with `key`, pinning `server`.
pub async fn dial(
    key: &ed25519_dalek::SigningKey,
    server: idleshare_protocol::NodeId,
    addr: SocketAddr,
) -> quinn::Connection {
    let endpoint = idleshare_cache::client_endpoint(addr).unwrap();
    idleshare_cache::connect(&endpoint, key, server, addr, Duration::from_secs(5))
        .await
        .unwrap()
}

/// Sends one cache request on a stream of its own and reads the answer frame.
pub async fn ask(
    connection: &quinn::Connection,
    request: &idleshare_protocol::cache::CacheRequest,
) -> idleshare_protocol::cache::CacheResponse {
    use idleshare_protocol::cache::{CacheResponse, MAX_CACHE_FRAME_LEN};
    let (mut send, mut recv) = connection.open_bi().await.unwrap();
    idleshare_transport::send_frame(&mut send, request)
        .await
        .unwrap();
    let _ = send.finish();
    idleshare_transport::recv_frame::<CacheResponse>(&mut recv, MAX_CACHE_FRAME_LEN)
        .await
        .unwrap()
        .expect("an answer")
}
