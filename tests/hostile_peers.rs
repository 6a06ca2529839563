//! Hostile and broken peers against a real coordinator process: each gets a clear error,
//! and the honest node beside them keeps being served.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use idleshare_protocol::proof;
use idleshare_protocol::{
    ALPN, Capabilities, CoordinatorAddress, CoordinatorMessage, ErrorCode, Hello,
    MAX_CONTROL_FRAME_LEN, NodeActivity, NodeId, NodeMessage, PROTOCOL_VERSION,
};
use idleshare_transport::endpoint::client_config_with_alpn;
use idleshare_transport::keyfile::generate_key;
use idleshare_transport::tls::SERVER_NAME;
use idleshare_transport::{TransportLimits, recv_frame, send_frame};
use quinn::{Connection, Endpoint, RecvStream, SendStream};
use support::{CoordinatorProcess, NodeProcess, wait_online, wait_until};

/// A coordinator with one honest node registered.
struct Fixture {
    _dir: tempfile::TempDir,
    coordinator: CoordinatorProcess,
    honest: NodeProcess,
}

impl Fixture {
    fn new(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let coordinator = CoordinatorProcess::start_with(&dir.path().join("coordinator"), 0, extra);
        let honest = NodeProcess::start(&coordinator.address, &dir.path().join("honest"));
        wait_online(&coordinator, &honest.id, Duration::from_secs(20));
        Self {
            _dir: dir,
            coordinator,
            honest,
        }
    }

    fn address(&self) -> CoordinatorAddress {
        self.coordinator.address.parse().unwrap()
    }

    /// The honest node is online and its heartbeats keep being recorded.
    fn assert_honest_node_still_served(&self) {
        let before = self.coordinator.node(&self.honest.id).unwrap()["last_seen_ms"]
            .as_u64()
            .unwrap();
        wait_until(
            Duration::from_secs(8),
            "honest node heartbeat recorded",
            || {
                self.coordinator.node(&self.honest.id).filter(|n| {
                    n["state"] == "online" && n["last_seen_ms"].as_u64().unwrap() > before
                })
            },
        );
    }

    fn rejections(&self, reason: &str) -> u64 {
        self.coordinator.metric(&format!(
            "idleshare_sessions_rejected_total{{reason=\"{reason}\"}}"
        ))
    }
}

struct RawClient {
    _endpoint: Endpoint,
    connection: Connection,
    send: SendStream,
    recv: RecvStream,
}

fn socket_addr(address: &CoordinatorAddress) -> SocketAddr {
    address.host_port().parse().unwrap()
}

async fn connect_with_alpn(
    address: &CoordinatorAddress,
    key: &SigningKey,
    alpn: &[u8],
) -> Result<RawClient, quinn::ConnectionError> {
    let endpoint = Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    let config =
        client_config_with_alpn(key, address.key, &TransportLimits::default(), alpn).unwrap();
    let connection = endpoint
        .connect_with(config, socket_addr(address), SERVER_NAME)
        .unwrap()
        .await?;
    let (send, recv) = connection.open_bi().await?;
    Ok(RawClient {
        _endpoint: endpoint,
        connection,
        send,
        recv,
    })
}

async fn connect(address: &CoordinatorAddress, key: &SigningKey) -> RawClient {
    connect_with_alpn(address, key, ALPN)
        .await
        .expect("handshake")
}

fn hello(versions: Vec<u16>, node_id: NodeId) -> NodeMessage {
    NodeMessage::Hello(Hello { versions, node_id })
}

/// A registration with a proof at the test coordinators' difficulty.
fn register(id: NodeId) -> NodeMessage {
    NodeMessage::Register {
        capabilities: Capabilities {
            cpu_model: "test".into(),
            cpu_cores: 1,
            ..Capabilities::default()
        },
        proof: proof::search(&id, support::TEST_ID_DIFFICULTY, 0, u64::MAX).unwrap(),
    }
}

/// A client that has said hello and registered, without waiting for the answer.
async fn registering_client(fixture: &Fixture) -> RawClient {
    let key = generate_key().unwrap();
    let mut client = connect(&fixture.address(), &key).await;
    let id = NodeId::from(key.verifying_key());
    send_frame(&mut client.send, &hello(vec![PROTOCOL_VERSION], id))
        .await
        .unwrap();
    send_frame(&mut client.send, &register(id)).await.unwrap();
    client
}

/// A client the coordinator has welcomed.
async fn registered_client(fixture: &Fixture) -> RawClient {
    let mut client = registering_client(fixture).await;
    let welcome = recv_frame::<CoordinatorMessage>(&mut client.recv, MAX_CONTROL_FRAME_LEN)
        .await
        .unwrap();
    assert!(
        matches!(welcome, Some(CoordinatorMessage::Welcome(_))),
        "{welcome:?}"
    );
    client
}

/// Reads frames until the coordinator's error frame; returns its code and message.
async fn refusal(client: &mut RawClient) -> (ErrorCode, String) {
    let read = async {
        loop {
            match recv_frame::<CoordinatorMessage>(&mut client.recv, MAX_CONTROL_FRAME_LEN).await {
                Ok(Some(CoordinatorMessage::Error { code, message })) => return (code, message),
                Ok(Some(_)) => continue,
                other => panic!(
                    "expected an error frame, got {other:?}; close reason {:?}",
                    client.connection.close_reason()
                ),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("refusal within 5 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimed_id_that_differs_from_the_certificate_key_is_refused() {
    let fixture = Fixture::new(&[]);
    let certificate_key = generate_key().unwrap();
    let claimed = NodeId::from(generate_key().unwrap().verifying_key());
    let mut client = connect(&fixture.address(), &certificate_key).await;
    send_frame(&mut client.send, &hello(vec![PROTOCOL_VERSION], claimed))
        .await
        .unwrap();
    let (code, message) = refusal(&mut client).await;
    assert_eq!(code, ErrorCode::IdentityMismatch);
    assert!(
        message.contains(&claimed.to_string()) && message.contains("certificate"),
        "{message}"
    );
    assert!(fixture.coordinator.node(&claimed.to_string()).is_none());
    assert_eq!(fixture.rejections("identity_mismatch"), 1);
    fixture.assert_honest_node_still_served();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsupported_version_is_refused_naming_the_supported_ones() {
    let fixture = Fixture::new(&[]);
    let key = generate_key().unwrap();
    let mut client = connect(&fixture.address(), &key).await;
    let id = NodeId::from(key.verifying_key());
    send_frame(&mut client.send, &hello(vec![7, 99], id))
        .await
        .unwrap();
    let (code, message) = refusal(&mut client).await;
    assert_eq!(code, ErrorCode::UnsupportedVersion);
    assert!(
        message.contains("[7, 99]") && message.contains(&format!("supports [{PROTOCOL_VERSION}]")),
        "{message}"
    );
    assert_eq!(fixture.rejections("unsupported_version"), 1);
    fixture.assert_honest_node_still_served();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_on_the_control_stream_are_a_malformed_frame() {
    let fixture = Fixture::new(&[]);
    let mut client = connect(&fixture.address(), &generate_key().unwrap()).await;
    client
        .send
        .write_all(&[0, 0, 0, 6, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa])
        .await
        .unwrap();
    let (code, message) = refusal(&mut client).await;
    assert_eq!(code, ErrorCode::MalformedFrame);
    assert!(message.contains("malformed"), "{message}");
    assert_eq!(fixture.rejections("malformed_frame"), 1);
    fixture.assert_honest_node_still_served();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_is_refused_before_its_payload_is_read() {
    let fixture = Fixture::new(&[]);
    let mut client = connect(&fixture.address(), &generate_key().unwrap()).await;
    // Announce 16 MiB and send none of it: the refusal must not wait for the payload.
    client
        .send
        .write_all(&(16u32 << 20).to_be_bytes())
        .await
        .unwrap();
    let (code, message) = refusal(&mut client).await;
    assert_eq!(code, ErrorCode::FrameTooLarge);
    assert!(
        message.contains("16777216") && message.contains("65536"),
        "{message}"
    );
    assert_eq!(fixture.rejections("frame_too_large"), 1);
    fixture.assert_honest_node_still_served();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_alpn_fails_the_handshake_with_a_clear_error() {
    let fixture = Fixture::new(&[]);
    let result = connect_with_alpn(&fixture.address(), &generate_key().unwrap(), b"h3").await;
    let error = result.err().expect("handshake must fail").to_string();
    eprintln!("wrong ALPN refused with: {error}");
    assert!(
        error.contains("application protocol") || error.contains("ALPN") || error.contains("120"),
        "{error}"
    );
    wait_until(Duration::from_secs(5), "failed handshake counted", || {
        (fixture
            .coordinator
            .metric("idleshare_handshakes_failed_total")
            >= 1)
            .then_some(())
    });
    fixture.assert_honest_node_still_served();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_out_of_order_is_refused() {
    let fixture = Fixture::new(&[]);
    let mut client = connect(&fixture.address(), &generate_key().unwrap()).await;
    let heartbeat = NodeMessage::Heartbeat {
        seq: 1,
        activity: NodeActivity::Starting,
    };
    send_frame(&mut client.send, &heartbeat).await.unwrap();
    let (code, message) = refusal(&mut client).await;
    assert_eq!(code, ErrorCode::UnexpectedMessage);
    assert!(message.contains("expected hello"), "{message}");
    fixture.assert_honest_node_still_served();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_node_is_rate_limited() {
    let fixture = Fixture::new(&[]);
    let mut client = registering_client(&fixture).await;
    for seq in 0..500 {
        let heartbeat = NodeMessage::Heartbeat {
            seq,
            activity: NodeActivity::Starting,
        };
        if send_frame(&mut client.send, &heartbeat).await.is_err() {
            break;
        }
    }
    let (code, message) = refusal(&mut client).await;
    assert_eq!(code, ErrorCode::RateLimited);
    assert!(message.contains("frames per second"), "{message}");
    assert_eq!(fixture.rejections("rate_limited"), 1);
    fixture.assert_honest_node_still_served();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_datagrams_are_ignored() {
    let fixture = Fixture::new(&[]);
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = socket_addr(&fixture.address());
    for i in 0..200u32 {
        let datagram: Vec<u8> = (0..1200u32)
            .map(|j| (i.wrapping_mul(131) ^ j) as u8)
            .collect();
        socket.send_to(&datagram, target).unwrap();
    }
    fixture.assert_honest_node_still_served();
    // And new sessions are still admitted.
    let _welcomed = registered_client(&fixture).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_are_refused() {
    let fixture = Fixture::new(&["--max-connections", "1"]);
    let result = connect_with_alpn(&fixture.address(), &generate_key().unwrap(), ALPN).await;
    let error = result.err().expect("over the limit").to_string();
    assert!(error.to_lowercase().contains("refused"), "{error}");
    assert_eq!(
        fixture
            .coordinator
            .metric("idleshare_connections_refused_total"),
        1
    );
    fixture.assert_honest_node_still_served();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_unannounced_bulk_transfers_are_refused() {
    use idleshare_protocol::bulk::{BulkRequest, BulkResponse, MAX_BANDWIDTH_TEST_BYTES};
    let fixture = Fixture::new(&[]);
    let client = registered_client(&fixture).await;

    // Asking for more than the limit.
    let (mut send, mut recv) = client.connection.open_bi().await.unwrap();
    let too_big = BulkRequest::Download {
        bytes: MAX_BANDWIDTH_TEST_BYTES + 1,
    };
    send_frame(&mut send, &too_big).await.unwrap();
    let answer = recv_frame::<BulkResponse>(&mut recv, 1024).await.unwrap();
    assert!(
        matches!(&answer, Some(BulkResponse::Refused { message }) if message.contains("outside")),
        "{answer:?}"
    );

    // Sending more than announced.
    let (mut send, mut recv) = client.connection.open_bi().await.unwrap();
    send_frame(&mut send, &BulkRequest::Upload { bytes: 10 })
        .await
        .unwrap();
    let _ = send.write_all(&[0u8; 100_000]).await;
    let _ = send.finish();
    let answer = recv_frame::<BulkResponse>(&mut recv, 1024).await.unwrap();
    assert!(
        matches!(&answer, Some(BulkResponse::Refused { message }) if message.contains("exceeded")),
        "{answer:?}"
    );

    // Opening bulk streams faster than the ration allows.
    let mut rationed = 0;
    for _ in 0..12 {
        let (mut send, mut recv) = client.connection.open_bi().await.unwrap();
        send_frame(&mut send, &BulkRequest::Download { bytes: 1 })
            .await
            .unwrap();
        let _ = send.finish();
        let mut first = [0u8; 1];
        // A served download is one zero byte; a refusal is a frame, longer than that.
        let mut answer = Vec::new();
        while let Ok(Some(n)) = recv.read(&mut first).await {
            answer.extend_from_slice(&first[..n]);
        }
        if answer.len() > 1 {
            let text = String::from_utf8_lossy(&answer);
            assert!(text.contains("too many bulk transfers"), "{text}");
            rationed += 1;
        }
    }
    assert!(
        rationed >= 1,
        "twelve bulk streams at once must hit the ration"
    );
    fixture.assert_honest_node_still_served();
}

#[test]
fn a_node_pinning_the_wrong_coordinator_key_refuses_to_talk() {
    let fixture = Fixture::new(&[]);
    let mut address = fixture.address();
    address.key = NodeId::from(generate_key().unwrap().verifying_key());
    let dir = tempfile::tempdir().unwrap();
    let impostor_target = NodeProcess::start(&address.to_string(), dir.path());
    let line = impostor_target
        .process
        .wait_for_line("coordinator key mismatch", Duration::from_secs(20));
    assert!(line.contains(&address.key.to_string()), "{line}");
    assert!(fixture.coordinator.node(&impostor_target.id).is_none());
    fixture.assert_honest_node_still_served();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_pause_reason_is_refused_naming_the_field() {
    let fixture = Fixture::new(&[]);
    let mut client = registered_client(&fixture).await;
    // Within the frame limit, far beyond what a reason may be: it would be written into the
    // registry with every heartbeat.
    let heartbeat = NodeMessage::Heartbeat {
        seq: 1,
        activity: NodeActivity::Paused {
            reason: "x".repeat(16 * 1024),
        },
    };
    send_frame(&mut client.send, &heartbeat).await.unwrap();
    let (code, message) = refusal(&mut client).await;
    assert_eq!(code, ErrorCode::InvalidContent);
    assert!(
        message.contains("pause reason") && message.contains("512"),
        "{message}"
    );
    assert_eq!(fixture.rejections("invalid_content"), 1);
    fixture.assert_honest_node_still_served();
}
