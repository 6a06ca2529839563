//! The QUIC accept loop: each new connection passes the front door ([`crate::quic_door`])
//! before its handshake, and its kind's budget after it, then is served as a node session or
//! a cache client until it ends.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use idleshare_protocol::ErrorCode;
use idleshare_protocol::cache::CACHE_ALPN;
use idleshare_transport::{GateTicket, Gated, Refusal, negotiated_alpn};
use quinn::Endpoint;
use tokio::task::JoinSet;

use crate::metrics::code_label;
use crate::quic_door::ConnectionKind;
use crate::server::Shared;
use crate::session::serve_connection;

/// How long shutdown waits for sessions to say goodbye.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Accepts connections until shutdown, then waits a while for their sessions to end.
pub(crate) async fn accept_loop(endpoint: Endpoint, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown_signal();
    let mut sessions = JoinSet::new();
    loop {
        let incoming = tokio::select! {
            incoming = endpoint.accept() => incoming,
            _ = shutdown.changed() => break,
        };
        let Some(incoming) = incoming else { break };
        while sessions.try_join_next().is_some() {}
        let (incoming, ticket) = match shared.door.gate.admit(incoming) {
            Gated::Admitted(incoming, ticket) => (incoming, ticket),
            Gated::Retried => {
                shared.metrics.quic_retries.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            Gated::Refused(refusal) => {
                let reason = match refusal {
                    Refusal::Full { .. } => "connections",
                    Refusal::SourceFull { .. } => "per_ip",
                };
                shared.metrics.door_refused(reason);
                tracing::debug!("connection refused: {refusal}");
                continue;
            }
        };
        sessions.spawn(serve_incoming(incoming, ticket, shared.clone()));
    }
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while sessions.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        tracing::warn!("some sessions did not end within {SHUTDOWN_GRACE:?}");
    }
}

/// Completes an admitted handshake and serves the connection within its kind's budget; the
/// ticket holds its place at the door until the connection ends.
async fn serve_incoming(
    incoming: Box<quinn::Incoming>,
    mut ticket: GateTicket,
    shared: Arc<Shared>,
) {
    let metrics = &shared.metrics;
    metrics.connections_active.fetch_add(1, Ordering::Relaxed);
    let handshake = (*incoming).await;
    ticket.handshake_ended();
    match handshake {
        Ok(connection) => {
            let kind = match negotiated_alpn(&connection).as_deref() {
                Some(CACHE_ALPN) => ConnectionKind::CacheClient,
                _ => ConnectionKind::Node,
            };
            match shared.door.take(kind) {
                Ok(_place) => match kind {
                    ConnectionKind::CacheClient => {
                        crate::content::serve::serve_cache_connection(connection, shared.clone())
                            .await
                    }
                    ConnectionKind::Node => serve_connection(connection, shared.clone()).await,
                },
                Err(full) => {
                    metrics.door_refused(full.label());
                    tracing::info!("{}: {full}", connection.remote_address());
                    let code = crate::session::close_code(ErrorCode::TooManyConnections);
                    let reason = format!("{}: {full}", code_label(ErrorCode::TooManyConnections));
                    connection.close(code, reason.as_bytes());
                }
            }
        }
        Err(e) => {
            metrics.handshakes_failed.fetch_add(1, Ordering::Relaxed);
            tracing::info!("handshake failed: {e}");
        }
    }
    metrics.connections_active.fetch_sub(1, Ordering::Relaxed);
}
