//! Admission of nodes, with real processes: a registration flood from one address is
//! throttled while nodes from other networks register; a node without a strong enough
//! identity proof computes one, joins, and reuses it; a node whose key lives in a keychain
//! that is unreachable at start waits for it and comes back with the same id.

mod support;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use idleshare_node::identity_proof;
use idleshare_node::session::{SessionError, hello_and_register};
use idleshare_protocol::proof::{self, IdentityProof};
use idleshare_protocol::{Capabilities, CoordinatorAddress, NodeId};
use idleshare_transport::keyfile::generate_key;
use idleshare_transport::tls::SERVER_NAME;
use idleshare_transport::{TransportLimits, client_config};
use quinn::Endpoint;
use support::{CoordinatorProcess, NodeProcess, Process, node_args, wait_online};

/// What one registration attempt came to.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Outcome {
    Welcomed,
    Throttled,
    ProofRequired(u8),
    Other,
}

/// One registration, as a node's first session makes it, from `endpoint`'s address with a
/// fresh key and the proof `proof_for` gives it (the library's own hello and registration).
async fn register_once(
    endpoint: &Endpoint,
    address: &CoordinatorAddress,
    proof_for: impl Fn(&NodeId) -> IdentityProof,
) -> Outcome {
    let key = generate_key().unwrap();
    let id = NodeId::from(key.verifying_key());
    let config = client_config(&key, address.key, &TransportLimits::default()).unwrap();
    let remote: SocketAddr = address.host_port().parse().unwrap();
    let Ok(connecting) = endpoint.connect_with(config, remote, SERVER_NAME) else {
        return Outcome::Other;
    };
    let Ok(connection) = connecting.await else {
        return Outcome::Other;
    };
    let Ok((mut send, mut recv)) = connection.open_bi().await else {
        return Outcome::Other;
    };
    let caps = Capabilities::default();
    let outcome = match hello_and_register(id, caps, proof_for(&id), &mut send, &mut recv).await {
        Ok(_) => Outcome::Welcomed,
        Err(SessionError::Throttled { .. }) => Outcome::Throttled,
        Err(SessionError::ProofRequired { required_bits, .. }) => {
            Outcome::ProofRequired(required_bits)
        }
        Err(_) => Outcome::Other,
    };
    connection.close(0u32.into(), b"done");
    outcome
}

fn endpoint_at(ip: &str) -> Endpoint {
    let ip: IpAddr = ip.parse().unwrap();
    Endpoint::client(SocketAddr::new(ip, 0)).unwrap()
}

#[test]
fn a_registration_flood_from_one_address_is_throttled_while_other_networks_register() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start_with(
        &dir.path().join("coordinator"),
        0,
        &[
            "--registrations-per-ip",
            "12",
            "--registrations-per-network",
            "60",
        ],
    );
    let address: CoordinatorAddress = coordinator.address.parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // 500 registrations a second for two seconds from 127.0.5.1, each a fresh key with a
    // valid proof: only the address's burst (12) and its trickle get in.
    let flood = runtime.spawn(async move {
        let endpoint = endpoint_at("127.0.5.1");
        let mut attempts = tokio::task::JoinSet::new();
        let mut tick = tokio::time::interval(Duration::from_millis(2));
        let started = Instant::now();
        for _ in 0..1000 {
            tick.tick().await;
            let (endpoint, address) = (endpoint.clone(), address.clone());
            attempts.spawn(async move {
                register_once(&endpoint, &address, |id| {
                    proof::search(id, support::TEST_ID_DIFFICULTY, 0, u64::MAX).unwrap()
                })
                .await
            });
        }
        let mut outcomes = Vec::new();
        while let Some(outcome) = attempts.join_next().await {
            outcomes.push(outcome.unwrap());
        }
        (outcomes, started.elapsed())
    });
    // Meanwhile, real nodes on two other networks register promptly.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let honest: Vec<NodeProcess> = ["127.0.6.1", "127.0.7.1"]
        .iter()
        .map(|ip| {
            let data = dir.path().join(format!("node-{ip}"));
            NodeProcess::start_with(&coordinator.address, &data, &["--bind", ip])
        })
        .collect();
    for node in &honest {
        wait_online(&coordinator, &node.id, Duration::from_secs(15));
    }
    let honest_took = started.elapsed();
    let (outcomes, flood_took) = runtime.block_on(flood).unwrap();
    let count = |wanted: Outcome| outcomes.iter().filter(|o| **o == wanted).count();
    let (welcomed, throttled) = (count(Outcome::Welcomed), count(Outcome::Throttled));
    eprintln!(
        "flood: {welcomed} welcomed, {throttled} throttled, {} other, over {flood_took:.1?}; \
         honest nodes online in {honest_took:.1?}",
        outcomes.len() - welcomed - throttled
    );
    // The burst plus a token every 5 s while the flood lasted.
    let allowed = 12 + (flood_took.as_secs() as usize / 5) + 1;
    assert!(
        welcomed <= allowed,
        "{welcomed} welcomed, at most {allowed}"
    );
    // The rest are refused before registering (the per-address connection cap of the
    // QUIC front door) or still handshaking when the flood ends: none got in.
    assert!(throttled >= 500, "only {throttled} of 1000 throttled");
    assert!(
        coordinator.metric("idleshare_sessions_rejected_total{reason=\"throttled\"}")
            >= throttled as u64
    );
    assert!(honest_took < Duration::from_secs(15));
}

#[test]
fn a_node_without_a_strong_enough_proof_computes_one_joins_and_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start_with(
        &dir.path().join("coordinator"),
        0,
        &["--id-difficulty", "16"],
    );
    let address: CoordinatorAddress = coordinator.address.parse().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // A client with a weak proof is refused and told the difficulty.
    let weak = runtime.block_on(async {
        let endpoint = endpoint_at("127.0.0.1");
        register_once(&endpoint, &address, |id| {
            let nonce = (0..).find(|n| proof::proof_bits(id, IdentityProof { nonce: *n }) < 16);
            IdentityProof {
                nonce: nonce.unwrap(),
            }
        })
        .await
    });
    assert_eq!(weak, Outcome::ProofRequired(16));
    assert!(
        coordinator.metric("idleshare_sessions_rejected_total{reason=\"weak_identity_proof\"}")
            >= 1
    );

    // A real node with no proof yet: refused, computes one, registers.
    let data = dir.path().join("node");
    let mut node = NodeProcess::start(&coordinator.address, &data);
    node.process
        .wait_for_line("identity proof of 16 bits found", Duration::from_secs(60));
    wait_online(&coordinator, &node.id, Duration::from_secs(20));
    let id: NodeId = node.id.parse().unwrap();
    let stored = identity_proof::load(&data, &id).expect("proof stored");
    assert!(proof::proof_bits(&id, stored) >= 16);
    let refusals =
        coordinator.metric("idleshare_sessions_rejected_total{reason=\"weak_identity_proof\"}");
    node.process.terminate();

    // Restarted, it registers at once with the stored proof: no new refusal, no new search.
    let node = NodeProcess::start(&coordinator.address, &data);
    let before = coordinator.node(&node.id).unwrap()["last_seen_ms"]
        .as_u64()
        .unwrap();
    support::wait_until(Duration::from_secs(20), "re-registration", || {
        coordinator
            .node(&node.id)
            .filter(|n| n["state"] == "online" && n["last_seen_ms"].as_u64().unwrap() > before)
    });
    assert_eq!(
        coordinator.metric("idleshare_sessions_rejected_total{reason=\"weak_identity_proof\"}"),
        refusals
    );
    assert!(
        !node
            .process
            .output()
            .contains("proving this node's identity")
    );
    assert_eq!(identity_proof::load(&data, &id), Some(stored));
}

/// A private D-Bus session bus with a Secret Service, for the keychain test.
struct PrivateKeychain {
    bus: Child,
    keyring: Child,
}

impl PrivateKeychain {
    /// Starts `dbus-daemon` on `socket` and `gnome-keyring-daemon` on it, unlocked, with
    /// its keyrings under `data_home`; `None` when either program is missing.
    fn start(socket: &Path, data_home: &Path) -> Option<Self> {
        let address = format!("unix:path={}", socket.display());
        let bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", &format!("--address={address}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        support::wait_until(Duration::from_secs(10), "private bus socket", || {
            socket.exists().then_some(())
        });
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("XDG_DATA_HOME", data_home)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        use std::io::Write;
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(b"idleshare-admission-test").unwrap();
        drop(stdin);
        // The Secret Service takes a moment to claim its name on the bus.
        std::thread::sleep(Duration::from_secs(1));
        Some(Self { bus, keyring })
    }

    fn stop(mut self, socket: &Path) {
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(socket);
    }
}

#[test]
fn a_node_whose_keychain_is_unreachable_at_start_waits_and_comes_back_with_the_same_id() {
    let required = std::env::var("IDLESHARE_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1");
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("bus");
    let data_home = dir.path().join("xdg-data");
    std::fs::create_dir_all(&data_home).unwrap();
    let Some(keychain) = PrivateKeychain::start(&socket, &data_home) else {
        assert!(!required, "dbus-daemon or gnome-keyring-daemon missing");
        eprintln!("skipped: no dbus-daemon or gnome-keyring-daemon here");
        return;
    };
    let bus = format!("unix:path={}", socket.display());
    let env = [
        ("DBUS_SESSION_BUS_ADDRESS", bus.as_str()),
        ("XDG_DATA_HOME", data_home.to_str().unwrap()),
    ];
    let data = dir.path().join("node");
    // First start: the key goes into the keychain.
    let first = Command::new(support::BINARY)
        .args(["node", "id", "--data", data.to_str().unwrap()])
        .envs(env)
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&first.stderr).to_string();
    if !first.status.success() || !stderr.contains("OS keychain") {
        keychain.stop(&socket);
        assert!(!required, "the private keychain is unusable: {stderr}");
        eprintln!("skipped: the private keychain is unusable here: {stderr}");
        return;
    }
    let id = String::from_utf8_lossy(&first.stdout).trim().to_owned();
    // The keychain goes away (as before a login unlocks it).
    keychain.stop(&socket);

    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let node = Process::start(
        &node_args(&coordinator.address, &data, &["--key-store", "auto"]),
        &env,
    );
    node.wait_for_line("waiting for the OS keychain", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !data.join("node.key").exists(),
        "no new key file while waiting:\n{}",
        node.output()
    );
    assert!(!node.output().contains("node id:"), "{}", node.output());

    // The keychain is back: the node loads its key and registers as itself.
    let keychain = PrivateKeychain::start(&socket, &data_home).expect("restart the keychain");
    let line = node.wait_for_line("node id: ", Duration::from_secs(30));
    assert!(line.ends_with(&id), "{line} should be {id}");
    wait_online(&coordinator, &id, Duration::from_secs(20));
    drop(node);
    keychain.stop(&socket);
}
