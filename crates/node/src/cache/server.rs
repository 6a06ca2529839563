//! Answering cache streams: from clients on the node's own endpoint, and from the coordinator
//! (relayed clients, spot checks, the HTTP gateway) on the control connection.

use idleshare_base::clock::unix_ms;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use idleshare_cache::{ContentReader, ServeError, send_range};
use idleshare_protocol::NodeId;
use idleshare_protocol::cache::{
    CacheRequest, CacheResponse, MAX_CACHE_FRAME_LEN, PinOutcome, RangeRequest,
    SignedServiceReceipt,
};
use idleshare_transport::{
    ConnectionGate, GateLimits, Gated, peer_node_id, recv_frame, send_frame,
};
use quinn::{Connection, Endpoint, RecvStream, SendStream};

use super::{CacheService, NetworkPermission, network_permission};

/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The door of the node's own cache endpoint: a home connection serves a few clients at
/// once, and no single address may take them all (see [`idleshare_transport::gate`]).
const CLIENT_GATE: GateLimits = GateLimits {
    max_connections: 512,
    max_per_source: 16,
    retry_above_handshakes: 64,
};

/// Accepts client connections on the node's endpoint until it closes.
pub(super) async fn accept_clients(service: Arc<CacheService>, endpoint: Endpoint) {
    let gate = ConnectionGate::new(CLIENT_GATE);
    while let Some(incoming) = endpoint.accept().await {
        let (incoming, mut ticket) = match gate.admit(incoming) {
            Gated::Admitted(incoming, ticket) => (incoming, ticket),
            Gated::Retried => continue,
            Gated::Refused(refusal) => {
                tracing::debug!("cache: connection refused: {refusal}");
                continue;
            }
        };
        let service = service.clone();
        tokio::spawn(async move {
            let handshake = (*incoming).await;
            ticket.handshake_ended();
            match handshake {
                Ok(connection) => serve_connection(service, connection).await,
                Err(e) => tracing::debug!("cache: handshake failed: {e}"),
            }
            drop(ticket);
        });
    }
}

async fn serve_connection(service: Arc<CacheService>, connection: Connection) {
    let client = peer_node_id(&connection).ok();
    while let Ok((send, recv)) = connection.accept_bi().await {
        let service = service.clone();
        tokio::spawn(async move { serve_stream(&service, send, recv, client).await });
    }
}

/// Serves one stream. `client` is the peer's key on a direct connection (receipts must be
/// signed by it); `None` on streams the coordinator opens.
pub(crate) async fn serve_stream(
    service: &CacheService,
    mut send: SendStream,
    mut recv: RecvStream,
    client: Option<NodeId>,
) {
    let request = tokio::time::timeout(
        REQUEST_TIMEOUT,
        recv_frame::<CacheRequest>(&mut recv, MAX_CACHE_FRAME_LEN),
    )
    .await;
    let request = match request {
        Ok(Ok(Some(request))) => request,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            let message = format!("malformed request: {e}");
            return answer(&mut send, CacheResponse::Refused { message }).await;
        }
        Err(_) => return,
    };
    match request {
        CacheRequest::Range(range) => serve_range(service, send, range, client).await,
        CacheRequest::Receipt(receipt) => {
            let answer_to = take_receipt(service, receipt, client);
            answer(&mut send, answer_to).await;
        }
        CacheRequest::Via { .. } | CacheRequest::ViaReceipt(_) => {
            let message = "this is a node, not a relay".to_owned();
            answer(&mut send, CacheResponse::Refused { message }).await;
        }
    }
}

async fn answer(send: &mut SendStream, response: CacheResponse) {
    if send_frame(send, &response).await.is_ok() {
        let _ = send.finish();
    }
}

async fn serve_range(
    service: &CacheService,
    mut send: SendStream,
    request: RangeRequest,
    client: Option<NodeId>,
) {
    let permission = network_permission(&service.activity.borrow());
    if let NetworkPermission::Closed(reason) = permission {
        return answer(&mut send, CacheResponse::Busy { reason }).await;
    }
    if let Err(message) = service.order_permits(&request, client, unix_ms()) {
        return answer(&mut send, CacheResponse::Refused { message }).await;
    }
    let Ok(_permit) = service.streams.try_acquire() else {
        let reason = "serving as many clients as it can".to_owned();
        return answer(&mut send, CacheResponse::Busy { reason }).await;
    };
    let now = unix_ms();
    let reader = match service.store.reader(&request.content, now) {
        Ok(Some(reader)) => reader,
        Ok(None) => return answer(&mut send, CacheResponse::NotFound).await,
        Err(e) => {
            tracing::warn!("cache: {e}");
            return answer(&mut send, CacheResponse::NotFound).await;
        }
    };
    let content = request.content;
    match send_paced(service, reader, request, &mut send).await {
        Ok(bytes) => {
            service.served_bytes.fetch_add(bytes, Ordering::Relaxed);
        }
        Err(ServeError::Corrupt(error)) => {
            tracing::error!(
                "cache: {} is corrupt on disk ({error}); evicted",
                content.short()
            );
            let _ = service.store.remove(&content);
            let reason = format!("corrupt on disk: {error}");
            service.report(content, PinOutcome::Dropped { reason });
        }
        Err(e) => tracing::debug!("cache: serving {} ended early: {e}", content.short()),
    }
}

/// Sends the range under the upload cap; a deliberately bad node (the `test-hooks`
/// feature, for tests only) damages it.
async fn send_paced(
    service: &CacheService,
    reader: ContentReader,
    request: RangeRequest,
    send: &mut SendStream,
) -> Result<u64, ServeError> {
    #[cfg(feature = "test-hooks")]
    if service.tamper != idleshare_cache::Tamper::None {
        let tamper = service.tamper;
        let pacer = &service.upload;
        return idleshare_cache::send_tampered_range(reader, request, send, pacer, tamper).await;
    }
    send_range(reader, request, send, &service.upload).await
}

/// Checks a client's receipt and keeps it for the coordinator.
fn take_receipt(
    service: &CacheService,
    receipt: SignedServiceReceipt,
    client: Option<NodeId>,
) -> CacheResponse {
    if let Err(e) = receipt.verify(&service.node) {
        return CacheResponse::Refused {
            message: e.to_string(),
        };
    }
    if client.is_some_and(|client| client != receipt.receipt.client) {
        return CacheResponse::Refused {
            message: "the receipt is signed by another key than this connection's".into(),
        };
    }
    service.claim(receipt);
    CacheResponse::ReceiptTaken
}
