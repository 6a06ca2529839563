//! The coordinator's QUIC front door against a real coordinator process: a cap per source
//! address, QUIC Retry when handshakes pile up, and separate budgets for node sessions and
//! cache clients. Raw clients and nodes bind distinct loopback addresses (127.A.B.C) to
//! look like different hosts.

mod support;

use std::time::Duration;

use idleshare_protocol::cache::{CACHE_ALPN, CacheResponse, MAX_CACHE_FRAME_LEN};
use idleshare_protocol::{ALPN, CoordinatorAddress};
use idleshare_transport::endpoint::client_config_with_alpn;
use idleshare_transport::keyfile::generate_key;
use idleshare_transport::tls::SERVER_NAME;
use idleshare_transport::{TransportLimits, recv_frame, send_frame};
use quinn::{Connection, ConnectionError, Endpoint};
use support::{CoordinatorProcess, NodeProcess, wait_online};

/// A raw QUIC client holding one connection (the endpoint must outlive it).
struct Client {
    endpoint: Endpoint,
    connection: Connection,
}

impl Client {
    /// Closes the connection and waits until the close has been sent.
    async fn close(self) {
        self.connection.close(0u32.into(), b"done");
        self.endpoint.wait_idle().await;
    }
}

/// Connects from `from` (a loopback IP) with `alpn`; the handshake's outcome.
async fn connect(
    address: &CoordinatorAddress,
    from: &str,
    alpn: &[u8],
) -> Result<Client, ConnectionError> {
    let endpoint = Endpoint::client(format!("{from}:0").parse().unwrap()).unwrap();
    let key = generate_key().unwrap();
    let config = client_config_with_alpn(&key, address.key, &TransportLimits::default(), alpn)
        .expect("client config");
    let server = address.host_port().parse().unwrap();
    let connection = endpoint
        .connect_with(config, server, SERVER_NAME)
        .unwrap()
        .await?;
    Ok(Client {
        endpoint,
        connection,
    })
}

/// Whether the coordinator serves this cache connection: a request that is not one is
/// answered with a refusal frame, which only a served connection gets.
async fn served(client: &Client) -> bool {
    let exchange = async {
        let (mut send, mut recv) = client.connection.open_bi().await.ok()?;
        send_frame(&mut send, &"not a cache request".to_owned())
            .await
            .ok()?;
        recv_frame::<CacheResponse>(&mut recv, MAX_CACHE_FRAME_LEN)
            .await
            .ok()?
    };
    let answer = tokio::time::timeout(Duration::from_secs(5), exchange).await;
    matches!(answer, Ok(Some(CacheResponse::Refused { .. })))
}

/// The reason the coordinator gave for closing `client`'s connection (within 5 s).
async fn close_reason(client: &Client) -> String {
    let closed = tokio::time::timeout(Duration::from_secs(5), client.connection.closed())
        .await
        .expect("the coordinator closes the connection within 5 s");
    match closed {
        ConnectionError::ApplicationClosed(close) => {
            String::from_utf8_lossy(&close.reason).into_owned()
        }
        other => panic!("expected an application close, got {other}"),
    }
}

fn refusals(coordinator: &CoordinatorProcess, reason: &str) -> u64 {
    coordinator.metric(&format!(
        "idleshare_door_refusals_total{{reason=\"{reason}\"}}"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_is_capped_while_other_addresses_connect_and_register() {
    const CAP: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let cap = CAP.to_string();
    let coordinator = CoordinatorProcess::start_with(
        &dir.path().join("coordinator"),
        0,
        &["--max-connections-per-ip", &cap],
    );
    let address: CoordinatorAddress = coordinator.address.parse().unwrap();

    let mut held = Vec::new();
    for i in 0..CAP {
        let client = connect(&address, "127.0.0.1", CACHE_ALPN)
            .await
            .unwrap_or_else(|e| panic!("connection {i} is within the cap: {e}"));
        assert!(served(&client).await, "connection {i} is served");
        held.push(client);
    }
    for attempt in 0..3 {
        let refused = connect(&address, "127.0.0.1", CACHE_ALPN).await;
        let error = refused
            .err()
            .expect("beyond the per-address cap")
            .to_string();
        assert!(
            error.to_lowercase().contains("refused"),
            "{attempt}: {error}"
        );
    }
    assert_eq!(refusals(&coordinator, "per_ip"), 3);
    // An address at its cap proves itself before it is refused, so a forged source address
    // cannot be used to lock its real owner out.
    assert!(coordinator.metric("idleshare_quic_retries_total") >= 3);

    // Other addresses are not held back: a client, and a node that registers.
    let other = connect(&address, "127.0.7.2", CACHE_ALPN)
        .await
        .expect("another address connects");
    assert!(served(&other).await);
    let node = NodeProcess::start_with(
        &coordinator.address,
        &dir.path().join("node"),
        &["--bind", "127.0.7.1"],
    );
    wait_online(&coordinator, &node.id, Duration::from_secs(20));

    // A place given back is free again: nothing stays counted after a connection ends.
    held.pop().unwrap().close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let again = loop {
        match connect(&address, "127.0.0.1", CACHE_ALPN).await {
            Ok(client) => break client,
            Err(e) if tokio::time::Instant::now() < deadline => {
                eprintln!("not yet free: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the freed place was not given back: {e}"),
        }
    };
    assert!(served(&again).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshakes_piling_up_bring_retry_and_everyone_still_gets_in() {
    const CLIENTS: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start_with(
        &dir.path().join("coordinator"),
        0,
        &["--retry-above-handshakes", "1"],
    );
    let address: CoordinatorAddress = coordinator.address.parse().unwrap();
    let mut attempts = tokio::task::JoinSet::new();
    for i in 0..CLIENTS {
        let address = address.clone();
        attempts.spawn(async move {
            let from = format!("127.0.8.{}", i + 1);
            let client = connect(&address, &from, CACHE_ALPN).await;
            let client = client.unwrap_or_else(|e| panic!("client {i} must get in: {e}"));
            assert!(served(&client).await, "client {i} is served");
            client
        });
    }
    let clients = attempts.join_all().await;
    assert_eq!(clients.len(), CLIENTS);
    let retries = coordinator.metric("idleshare_quic_retries_total");
    eprintln!("{retries} of {CLIENTS} simultaneous handshakes were asked to prove their address");
    assert!(retries >= 1, "no Retry although handshakes piled up");
    assert_eq!(coordinator.metric("idleshare_connections_refused_total"), 0);
    // A node handles Retry as transparently.
    let node = NodeProcess::start(&coordinator.address, &dir.path().join("node"));
    wait_online(&coordinator, &node.id, Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_sessions_and_cache_clients_have_budgets_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start_with(
        &dir.path().join("coordinator"),
        0,
        &["--max-node-sessions", "1", "--max-cache-clients", "2"],
    );
    let address: CoordinatorAddress = coordinator.address.parse().unwrap();
    let honest = NodeProcess::start(&coordinator.address, &dir.path().join("honest"));
    wait_online(&coordinator, &honest.id, Duration::from_secs(20));

    // Cache clients fill their own budget, not the nodes'.
    let mut held = Vec::new();
    for i in 0..2 {
        let client = connect(&address, "127.0.9.1", CACHE_ALPN).await.unwrap();
        assert!(served(&client).await, "cache client {i} is served");
        held.push(client);
    }
    let over = connect(&address, "127.0.9.1", CACHE_ALPN).await.unwrap();
    let reason = close_reason(&over).await;
    assert!(
        reason.contains("too_many_connections") && reason.contains("2 cache clients"),
        "{reason}"
    );
    assert_eq!(refusals(&coordinator, "cache_clients"), 1);

    // A second node session is over the node budget, with its own reason.
    let second = connect(&address, "127.0.9.2", ALPN).await.unwrap();
    let reason = close_reason(&second).await;
    assert!(reason.contains("1 node sessions"), "{reason}");
    assert_eq!(refusals(&coordinator, "node_sessions"), 1);

    // The node that holds its place keeps it, and nobody was asked for a Retry: address
    // validation costs a round trip only under load.
    wait_online(&coordinator, &honest.id, Duration::from_secs(5));
    assert_eq!(coordinator.metric("idleshare_quic_retries_total"), 0);
    held.pop().unwrap().close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let client = connect(&address, "127.0.9.1", CACHE_ALPN).await.unwrap();
        if served(&client).await {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the freed cache client place was not given back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
