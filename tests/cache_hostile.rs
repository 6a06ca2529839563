//! Hostile cache clients against a real node and coordinator: malformed frames, forged and
//! misdirected receipts, relay tricks and bad uploads each get a clear answer, and honest
//! clients are served right after.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use idleshare_protocol::cache::{
    CacheRequest, CacheResponse, MAX_CACHE_FRAME_LEN, RangeRequest, ServiceReceipt,
};
use idleshare_protocol::order::OrderLimit;
use idleshare_protocol::tree::ByteRange;
use idleshare_protocol::{ContentId, CoordinatorAddress, NodeId};
use idleshare_transport::{load_or_create_key_file, recv_frame};
use quinn::Connection;
use support::cache::*;
use support::compute::wait_contributing;
use support::{CoordinatorProcess, value_after};

/// Sends raw bytes as the start of a stream and reads the answer frame.
async fn raw(connection: &Connection, bytes: &[u8]) -> Option<CacheResponse> {
    let (mut send, mut recv) = connection.open_bi().await.unwrap();
    send.write_all(bytes).await.unwrap();
    let _ = send.finish();
    recv_frame::<CacheResponse>(&mut recv, MAX_CACHE_FRAME_LEN)
        .await
        .ok()
        .flatten()
}

fn refused(answer: &CacheResponse, needle: &str) {
    match answer {
        CacheResponse::Refused { message } => assert!(message.contains(needle), "{message}"),
        other => panic!("expected a refusal naming {needle:?}, got {other:?}"),
    }
}

#[test]
fn hostile_cache_clients_get_clear_answers_and_honest_ones_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator =
        CoordinatorProcess::start_with(&dir.path().join("c"), 0, &["--spot-check-secs", "3600"]);
    let node = start_cache_node(
        &coordinator,
        &dir.path().join("n"),
        "",
        &["--cache-listen", "127.0.0.1:0"],
    );
    wait_contributing(&coordinator, &node);
    let port: u16 = value_after(
        &node
            .process
            .wait_for_line("cache endpoint: UDP port ", Duration::from_secs(10)),
        "UDP port ",
    )
    .parse()
    .unwrap();
    let bytes = make_content(300_000, 17);
    let id = publish(
        &coordinator,
        dir.path(),
        "a.bin",
        &bytes,
        &["--replicas", "1"],
    );
    wait_stored(&coordinator, &id, 1, Duration::from_secs(60));
    let content: ContentId = id.parse().unwrap();
    let node_id: NodeId = node.id.parse().unwrap();
    let address: CoordinatorAddress = coordinator.address.parse().unwrap();

    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = SigningKey::from_bytes(&[42; 32]);
        let node_addr = SocketAddr::from(([127, 0, 0, 1], port));
        let to_node = dial(&client, node_id, node_addr).await;

        // Garbage where a frame belongs; a length prefix far over the limit.
        refused(
            &raw(&to_node, &[0, 0, 0, 3, 0xff, 0xff, 0xff])
                .await
                .unwrap(),
            "malformed request",
        );
        let huge = raw(&to_node, &[0x7f, 0xff, 0xff, 0xff]).await.unwrap();
        refused(&huge, "malformed request");

        // No order limit, a forged one, one for another client: served to nobody.
        let whole = ByteRange::whole(bytes.len() as u64);
        let (operator, _) =
            load_or_create_key_file(&coordinator.data.join("coordinator.key")).unwrap();
        let order_for = |client: &SigningKey, content: ContentId, signer: &SigningKey| {
            OrderLimit {
                issuer: address.key,
                client: NodeId::from(client.verifying_key()),
                node: node_id,
                content,
                serial: 7,
                max_bytes: 1 << 40,
                expires_at_ms: idleshare_base::clock::unix_ms() + 60_000,
            }
            .sign(signer)
        };
        let unordered = RangeRequest {
            content,
            range: whole,
            order: None,
        };
        refused(
            &ask(&to_node, &CacheRequest::Range(unordered.clone())).await,
            "no order limit",
        );
        let forged = RangeRequest {
            order: Some(order_for(&client, content, &client)),
            ..unordered.clone()
        };
        refused(
            &ask(&to_node, &CacheRequest::Range(forged)).await,
            "not signed",
        );
        let someone_elses = RangeRequest {
            order: Some(order_for(
                &SigningKey::from_bytes(&[45; 32]),
                content,
                &operator,
            )),
            ..unordered.clone()
        };
        refused(
            &ask(&to_node, &CacheRequest::Range(someone_elses)).await,
            "client",
        );

        // An order whose ceiling is smaller than the range: nothing past it is served.
        let mut small = order_for(&client, content, &operator).limit;
        small.max_bytes = 100;
        small.serial = 8;
        let too_much = RangeRequest {
            order: Some(small.sign(&operator)),
            ..unordered.clone()
        };
        refused(
            &ask(&to_node, &CacheRequest::Range(too_much)).await,
            "allows 100 bytes",
        );

        // A range outside the content; content it does not hold; a relay request to a node.
        let outside = RangeRequest {
            content,
            range: ByteRange {
                start: 0,
                end: 10_000_000,
            },
            order: Some(order_for(&client, content, &operator)),
        };
        refused(
            &ask(&to_node, &CacheRequest::Range(outside)).await,
            "outside content",
        );
        let absent = RangeRequest {
            content: ContentId::of(b"absent"),
            range: ByteRange::whole(1),
            order: Some(order_for(&client, ContentId::of(b"absent"), &operator)),
        };
        assert_eq!(
            ask(&to_node, &CacheRequest::Range(absent)).await,
            CacheResponse::NotFound
        );
        let relay = CacheRequest::Via {
            node: node_id,
            request: unordered.clone(),
        };
        refused(&ask(&to_node, &relay).await, "not a relay");

        // Receipts: forged, for another node, signed by another key than the connection's.
        let claim = ServiceReceipt {
            client: NodeId::from(client.verifying_key()),
            node: node_id,
            content,
            session: 1,
            bytes: 1000,
            signed_at_ms: 1,
        };
        let mut forged = claim.sign(&client);
        forged.receipt.bytes = u64::MAX;
        refused(
            &ask(&to_node, &CacheRequest::Receipt(forged)).await,
            "invalid signature",
        );
        let elsewhere = ServiceReceipt {
            node: address.key,
            ..claim
        }
        .sign(&client);
        refused(
            &ask(&to_node, &CacheRequest::Receipt(elsewhere)).await,
            "names node",
        );
        let stranger = SigningKey::from_bytes(&[43; 32]);
        let theirs = ServiceReceipt {
            client: NodeId::from(stranger.verifying_key()),
            ..claim
        }
        .sign(&stranger);
        refused(
            &ask(&to_node, &CacheRequest::Receipt(theirs)).await,
            "another key",
        );
        let honest = claim.sign(&client);
        assert_eq!(
            ask(&to_node, &CacheRequest::Receipt(honest)).await,
            CacheResponse::ReceiptTaken
        );

        // The coordinator's endpoint: a relay to an unknown node, a forged relayed receipt,
        // a receipt meant for a node.
        let coordinator_addr = SocketAddr::from(([127, 0, 0, 1], coordinator.quic_port));
        let to_coordinator = dial(&client, address.key, coordinator_addr).await;
        let nobody = NodeId::from(SigningKey::from_bytes(&[44; 32]).verifying_key());
        let relay = CacheRequest::Via {
            node: nobody,
            request: unordered.clone(),
        };
        assert!(matches!(
            ask(&to_coordinator, &relay).await,
            CacheResponse::Busy { .. }
        ));
        // The relay passes an order on only for the client it names.
        let not_mine = CacheRequest::Via {
            node: node_id,
            request: RangeRequest {
                order: Some(order_for(
                    &SigningKey::from_bytes(&[46; 32]),
                    content,
                    &operator,
                )),
                ..unordered.clone()
            },
        };
        refused(&ask(&to_coordinator, &not_mine).await, "another client");
        let mut forged = claim.sign(&client);
        forged.signature[0] ^= 1;
        refused(
            &ask(&to_coordinator, &CacheRequest::ViaReceipt(forged)).await,
            "invalid signature",
        );
        refused(
            &ask(&to_coordinator, &CacheRequest::Receipt(claim.sign(&client))).await,
            "give receipts to the node",
        );
    });

    // After all that, an honest fetch is served and checked.
    let out = dir.path().join("a.out");
    fetch_ok(&coordinator, &id, &out, &dir.path().join("client"), &[]);
    assert!(std::fs::read(&out).unwrap() == bytes);
}

/// A PUT that announces `len` body bytes and sends none, signed by `key` if given; returns
/// the answer.
fn put_announcing(
    addr: SocketAddr,
    path: &str,
    len: u64,
    key: Option<&SigningKey>,
) -> (u16, String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let signed: String = key
        .map(|key| {
            idleshare_protocol::auth::RequestToSign {
                method: "PUT",
                path_and_query: path,
                time_ms: idleshare_base::clock::unix_ms(),
                nonce: 1,
                body: ContentId::of(b"whatever"),
            }
            .sign(key)
            .pairs()
            .iter()
            .map(|(k, v)| format!("{k}: {v}\r\n"))
            .collect()
        })
        .unwrap_or_default();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {len}\r\n{signed}Connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("HTTP head");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let code = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (code, head, response[split + 4..].to_vec())
}

#[test]
fn bad_uploads_are_refused_with_the_reason_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("c");
    let coordinator = CoordinatorProcess::start_with(&data, 0, &["--max-publish-mib", "1"]);
    let api = support::compute::api(&coordinator);
    let customer = support::money::customer_args(&coordinator.customer_dir());
    let customer: Vec<&str> = customer.iter().map(String::as_str).collect();
    let big = dir.path().join("big.bin");
    std::fs::write(&big, make_content(3 << 20, 1)).unwrap();
    let mut args = vec!["publish", big.to_str().unwrap(), "--api", &api];
    args.extend(&customer);
    let output = support::compute::cli(&args, Duration::from_secs(60));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(said.contains("accepts at most 1048576 bytes"), "{said}");
    // Nobody signed: refused before a byte is read, with how to get an account (an
    // announced length over the limit is refused first, by the front door: 413).
    let (code, _, body) = put_announcing(coordinator.http, "/v1/content", 100, None);
    assert_eq!(code, 401);
    assert!(String::from_utf8_lossy(&body).contains("idleshare account"));
    // A signed client that ignores the published limit is refused on its announced length.
    let key = SigningKey::from_bytes(&[5; 32]);
    let (code, _, body) = put_announcing(coordinator.http, "/v1/content", 3 << 20, Some(&key));
    assert_eq!(code, 413);
    assert!(String::from_utf8_lossy(&body).contains("may be at most 1048576 bytes"));
    let small = dir.path().join("small.bin");
    std::fs::write(&small, b"hello").unwrap();
    let mut args = vec![
        "publish",
        small.to_str().unwrap(),
        "--replicas",
        "0",
        "--api",
        &api,
    ];
    args.extend(&customer);
    let output = support::compute::cli(&args, Duration::from_secs(30));
    assert!(!output.status.success(), "replicas 0 is refused by the CLI");
    let (code, _, body) = http_get_bytes(coordinator.http, "/v1/content/not-an-id", &[]);
    assert_eq!(code, 400);
    assert!(String::from_utf8_lossy(&body).contains("64 hex digits"));
    let (code, _, _) = http_get_bytes(
        coordinator.http,
        &format!("/content/{}", ContentId::of(b"?")),
        &[],
    );
    assert_eq!(code, 404);
    let leftovers: Vec<_> = std::fs::read_dir(data.join("content"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|name| !name.to_string_lossy().starts_with("index.db"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
