//! Connecting and registering: QUIC handshake with the pinned key, hello, registration,
//! welcome.

use std::net::SocketAddr;
use std::time::Duration;

use idleshare_protocol::proof::IdentityProof;
use idleshare_protocol::{
    Capabilities, CoordinatorMessage, Hello, MAX_CONTROL_FRAME_LEN, NodeId, NodeMessage,
    SUPPORTED_VERSIONS, Welcome,
};
use idleshare_transport::tls::SERVER_NAME;
use idleshare_transport::{FramedError, bind_endpoint, client_config, recv_frame, send_frame};
use quinn::{Connection, Endpoint, RecvStream, SendStream};
use tokio::sync::mpsc;

use super::running::Session;
use super::{SessionContext, SessionError};

/// How long registration may take once connected. It takes milliseconds; a coordinator that
/// died between recording the registration and welcoming us must not hold the node longer.
pub const REGISTER_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) async fn connect(ctx: &SessionContext) -> Result<(Endpoint, Connection), SessionError> {
    let host = ctx.address.host_port();
    let remote = tokio::net::lookup_host(&host)
        .await
        .map_err(|e| SessionError::Resolve {
            host: host.clone(),
            detail: e.to_string(),
        })?
        .next()
        .ok_or_else(|| SessionError::Resolve {
            host: host.clone(),
            detail: "no addresses".into(),
        })?;
    let bind: SocketAddr = match ctx.bind_ip {
        Some(ip) => (ip, 0).into(),
        None if remote.is_ipv6() => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
        None => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
    };
    let endpoint = bind_endpoint(bind, None).map_err(SessionError::Endpoint)?;
    let config = client_config(&ctx.key, ctx.address.key, &ctx.limits)?;
    let connection = endpoint
        .connect_with(config, remote, SERVER_NAME)?
        .await
        .map_err(SessionError::Handshake)?;
    Ok((endpoint, connection))
}

pub(super) async fn register(
    ctx: &SessionContext,
    endpoint: Endpoint,
    connection: Connection,
    mut send: SendStream,
    mut recv: RecvStream,
) -> Result<Session, SessionError> {
    let mut capabilities = ctx.capabilities.subscribe();
    let offer = capabilities.borrow_and_update().clone();
    let node_id = NodeId::from(ctx.key.verifying_key());
    let welcome = hello_and_register(node_id, offer, ctx.proof, &mut send, &mut recv).await?;
    let (frames_tx, frames) = mpsc::channel(16);
    tokio::spawn(forward_frames(recv, frames_tx));
    Ok(Session {
        endpoint,
        connection,
        send,
        frames,
        welcome,
        capabilities,
        bandwidth_test: None,
    })
}

/// The node's side of the registration exchange, on a control stream just opened on a
/// connection to the coordinator: hello (the protocol versions this node speaks and the id
/// it claims, which the TLS handshake has already proven), then registration with what it
/// offers and the proof of work on its id; returns the coordinator's welcome, awaited at most [`REGISTER_TIMEOUT`].
///
/// Every node session starts with it, and so do the benchmarks' simulated nodes, so that
/// they speak exactly the node's protocol. A refusal, a goodbye or any other frame instead
/// of the welcome is the matching [`SessionError`].
pub async fn hello_and_register(
    node_id: NodeId,
    capabilities: Capabilities,
    proof: IdentityProof,
    send: &mut SendStream,
    recv: &mut RecvStream,
) -> Result<Welcome, SessionError> {
    let hello = NodeMessage::Hello(Hello {
        versions: SUPPORTED_VERSIONS.to_vec(),
        node_id,
    });
    send_frame(send, &hello).await?;
    let register = NodeMessage::Register {
        capabilities,
        proof,
    };
    send_frame(send, &register).await?;
    let answer = tokio::time::timeout(
        REGISTER_TIMEOUT,
        recv_frame::<CoordinatorMessage>(recv, MAX_CONTROL_FRAME_LEN),
    )
    .await
    .map_err(|_| SessionError::RegisterTimeout)??;
    match answer {
        Some(CoordinatorMessage::Welcome(welcome)) => Ok(welcome),
        other => Err(SessionError::unexpected(other)),
    }
}

async fn forward_frames(
    mut recv: RecvStream,
    frames: mpsc::Sender<Result<CoordinatorMessage, FramedError>>,
) {
    loop {
        let frame = recv_frame::<CoordinatorMessage>(&mut recv, MAX_CONTROL_FRAME_LEN).await;
        let end = !matches!(frame, Ok(Some(_)));
        let item = match frame {
            Ok(Some(message)) => Ok(message),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        if frames.send(item).await.is_err() || end {
            return;
        }
    }
}
