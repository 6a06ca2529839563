//! The HTTP front door against hostile clients, with a real coordinator process: a
//! slowloris and a slow reader are cut at their (shortened) timeouts while honest requests
//! are served; bodies over a route's limit get 413, stalled bodies 408-style words; the
//! connection and request caps answer 503 and recover; the public node list hides where
//! nodes are and whether their owners are away, the operator's view shows it.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use idleshare_base::clock::unix_ms;
use idleshare_coordinator::client::ClientError;
use idleshare_protocol::ContentId;
use idleshare_protocol::api::routes;
use idleshare_protocol::auth::RequestToSign;
use support::{CoordinatorProcess, NodeProcess, wait_online};

/// The largest blob: bigger than the socket buffers of both ends, so a client that does not
/// read blocks the coordinator's writes.
const BIG: usize = 16 << 20;

/// Connects to the coordinator's HTTP API.
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Signature headers for `method path` (empty body) by `key`, as request lines.
fn signature(key: &SigningKey, method: &str, path: &str) -> String {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let signed = RequestToSign {
        method,
        path_and_query: path,
        time_ms: unix_ms(),
        nonce,
        body: ContentId::of(b""),
    }
    .sign(key);
    signed
        .pairs()
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect()
}

/// Reads until the server closes (or resets) the connection: what arrived.
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 64 << 10];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                panic!("the coordinator kept the connection open: {e}")
            }
            Err(_) => return got,
        }
    }
}

/// Sends `request` whole on a fresh connection and reads the answer to the end.
fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = connect(addr);
    stream.write_all(request).unwrap();
    String::from_utf8_lossy(&read_until_closed(&mut stream)).into_owned()
}

/// An honest request, timed: it must be served, and promptly.
fn honest_request_is_prompt(coordinator: &CoordinatorProcess) {
    let started = Instant::now();
    coordinator
        .api()
        .coordinator()
        .expect("GET /v1/coordinator");
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "an honest request took {took:?}"
    );
}

/// A customer with a 16 MiB blob stored; returns the customer's key and the blob's path.
fn big_blob(coordinator: &CoordinatorProcess) -> (SigningKey, String) {
    let api = coordinator.customer_api();
    let bytes: Vec<u8> = (0..BIG).map(|i| (i % 251) as u8).collect();
    let id = api.put_blob(&bytes).expect("PUT a 16 MiB blob");
    let key = api.signing_key().unwrap().clone();
    (key, routes::blob(&id))
}

/// Asks for the blob at `path` and never reads the answer.
fn slow_reader(addr: SocketAddr, key: &SigningKey, path: &str) -> TcpStream {
    let mut stream = connect(addr);
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: x\r\n{}\r\n",
        signature(key, "GET", path)
    );
    stream.write_all(request.as_bytes()).unwrap();
    stream
}

/// Starts a coordinator with these front-door flags.
fn coordinator_with(dir: &std::path::Path, flags: &[&str]) -> CoordinatorProcess {
    CoordinatorProcess::start_with(&dir.join("coordinator"), 0, flags)
}

#[test]
fn a_slowloris_and_a_slow_reader_are_cut_while_honest_requests_are_served() {
    let _one = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator_with(
        dir.path(),
        &[
            "--http-header-timeout-secs",
            "2",
            "--http-write-stall-secs",
            "2",
        ],
    );
    let addr = coordinator.http;
    let (key, blob) = big_blob(&coordinator);

    // The slowloris: a request header, one byte a second.
    let mut slowloris = connect(addr);
    let mut writer = slowloris.try_clone().unwrap();
    let started = Instant::now();
    let dripping = std::thread::spawn(move || {
        for byte in b"GET /v1/coordinator HTTP/1.1\r\nhost: x\r\nx-slow: 1\r\n".iter() {
            if writer.write_all(&[*byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    // The slow reader: asks for 16 MiB and reads nothing.
    let mut reader = slow_reader(addr, &key, &blob);

    // Meanwhile honest requests are served, and promptly.
    for _ in 0..6 {
        honest_request_is_prompt(&coordinator);
        std::thread::sleep(Duration::from_millis(300));
    }
    let whole = coordinator
        .customer_api()
        .get_blob(&blob_id(&blob))
        .unwrap();
    assert_eq!(whole.len(), BIG, "an honest reader gets the whole blob");

    let answer = String::from_utf8_lossy(&read_until_closed(&mut slowloris)).into_owned();
    let cut_after = started.elapsed();
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "the slowloris is told why: {answer:?}"
    );
    assert!(
        cut_after < Duration::from_secs(6),
        "the slowloris was cut after {cut_after:?}, not ~2 s"
    );
    dripping.join().unwrap();

    // The slow reader was cut: reading now, it gets only what was buffered, never it all.
    std::thread::sleep(Duration::from_secs(3));
    let got = read_until_closed(&mut reader);
    assert!(
        got.len() < BIG,
        "the slow reader was never cut: it got all {} bytes",
        got.len()
    );
    honest_request_is_prompt(&coordinator);
}

fn blob_id(path: &str) -> ContentId {
    path.rsplit('/').next().unwrap().parse().unwrap()
}

#[test]
fn bodies_over_a_routes_limit_get_413_and_stalled_bodies_fail_in_words() {
    let _one = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator_with(dir.path(), &["--http-body-stall-secs", "1"]);
    let addr = coordinator.http;
    let id = ContentId::of(b"nothing");

    // A JSON route: 64 KiB at most, judged by the length announced; the body sent anyway
    // is read and dropped so the client gets the answer rather than a reset.
    let reports = routes::content(&id) + "/reports";
    let mut request = format!(
        "POST {reports} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: 100000\r\nconnection: close\r\n\r\n"
    )
    .into_bytes();
    request.extend_from_slice(&[b' '; 100_000]);
    let answer = exchange(addr, &request);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("at most 65536 bytes"), "{answer}");

    // The blob route has its own, larger limit; a client that waits for `100 Continue`
    // is answered before it sends a byte.
    let request = format!(
        "PUT {} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nexpect: 100-continue\r\n\
         connection: close\r\n\r\n",
        routes::BLOBS,
        BIG + 1
    );
    let answer = exchange(addr, request.as_bytes());
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(&format!("at most {BIG} bytes")), "{answer}");

    // A chunked body without a length is cut at the limit too.
    let chunk = vec![b' '; 100_000];
    let mut request = format!(
        "POST {reports} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         transfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n",
        chunk.len()
    )
    .into_bytes();
    request.extend_from_slice(&chunk);
    request.extend_from_slice(b"\r\n0\r\n\r\n");
    let answer = exchange(addr, &request);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // A body that stops: failed after the stall, with words.
    let mut stream = connect(addr);
    let request = format!(
        "POST {reports} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         content-length: 50\r\nconnection: close\r\n\r\n{{\"no"
    );
    let started = Instant::now();
    stream.write_all(request.as_bytes()).unwrap();
    let answer = String::from_utf8_lossy(&read_until_closed(&mut stream)).into_owned();
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(answer.contains("stalled"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    // Nothing was lost: the coordinator still answers.
    honest_request_is_prompt(&coordinator);
}

#[test]
fn the_connection_and_request_caps_answer_503_and_recover() {
    let _one = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator_with(
        dir.path(),
        &[
            "--http-max-connections-per-ip",
            "3",
            "--http-max-in-flight",
            "2",
            "--http-write-stall-secs",
            "2",
        ],
    );
    let addr = coordinator.http;
    let (key, blob) = big_blob(&coordinator);
    // The upload's own connection closed as its client was dropped: let the coordinator
    // see it go, or it would still count against this address below.
    std::thread::sleep(Duration::from_millis(500));

    // Three connections from this address hold its share: a fourth is refused in words.
    let held: Vec<TcpStream> = (0..3).map(|_| connect(addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    match coordinator.api().coordinator() {
        Err(ClientError::Refused {
            status: 503,
            message,
        }) => {
            assert!(message.contains("limit per address"), "{message}")
        }
        other => panic!("a fourth connection was not refused: {other:?}"),
    }
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    honest_request_is_prompt(&coordinator);

    // Two slow readers hold both request slots: a third request is told to retry.
    let readers: Vec<TcpStream> = (0..2).map(|_| slow_reader(addr, &key, &blob)).collect();
    std::thread::sleep(Duration::from_millis(300));
    let answer = exchange(
        addr,
        b"GET /v1/coordinator HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_lowercase().contains("retry-after: 1"), "{answer}");
    assert!(answer.contains("its limit"), "{answer}");

    // Once the slow readers are cut (write stall), the slots are free again.
    std::thread::sleep(Duration::from_secs(4));
    honest_request_is_prompt(&coordinator);
    drop(readers);
}

#[test]
fn the_public_node_list_hides_addresses_and_away_state_the_operators_shows_them() {
    let _one = support::serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator_with(dir.path(), &[]);
    let node = NodeProcess::start(&coordinator.address, &dir.path().join("node"));
    let entry = wait_online(&coordinator, &node.id, Duration::from_secs(30));
    let address = entry["remote_addr"].as_str().unwrap().to_owned();
    assert!(
        address.starts_with("127."),
        "the operator sees the address: {entry}"
    );
    let ip = address.rsplit_once(':').unwrap().0.to_owned();
    assert!(entry["activity"].is_string(), "{entry}");

    let public = coordinator.public_nodes();
    assert_eq!(public.len(), 1);
    let text = public[0].to_string();
    for hidden in ["remote_addr", &ip, "activity", "pause_reason", "budget"] {
        assert!(
            !text.contains(hidden),
            "the public list shows {hidden}: {text}"
        );
    }
    assert_eq!(public[0]["id"], node.id.as_str());
    assert_eq!(public[0]["state"], "online");
    assert!(public[0]["capabilities"]["cpu_cores"].as_u64().unwrap() >= 1);

    // Unsigned: 401; signed by a customer: 403; both say what to do.
    match coordinator.api().operator_nodes() {
        Err(ClientError::Refused { status: 401, .. }) => {}
        other => panic!("an unsigned request got {other:?}"),
    }
    match coordinator.customer_api().operator_nodes() {
        Err(ClientError::Refused {
            status: 403,
            message,
        }) => {
            assert!(message.contains("coordinator's key"), "{message}")
        }
        other => panic!("a customer's request got {other:?}"),
    }

    // The operator's CLI, signed with the key in the coordinator's data directory.
    let data = coordinator.data.to_str().unwrap();
    let api = format!("http://{}", coordinator.http);
    let out = std::process::Command::new(support::BINARY)
        .args([
            "coordinator",
            "nodes",
            "--json",
            "--data",
            data,
            "--api",
            &api,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["id"], node.id.as_str());
    assert!(
        listed[0]["remote_addr"]
            .as_str()
            .unwrap()
            .starts_with("127.")
    );
}
