//! Cache connections to the coordinator: ranges of its origin copies (node fills, and
//! clients' last resort), relaying clients to nodes that have no reachable port, and
//! receipts clients hand in for relayed bytes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use idleshare_cache::{Pacer, send_range};
use idleshare_protocol::NodeId;
use idleshare_protocol::cache::{CacheRequest, CacheResponse, MAX_CACHE_FRAME_LEN, RangeRequest};
use idleshare_transport::{recv_frame, send_frame};
use quinn::{Connection, SendStream};

use idleshare_base::clock::unix_ms;

use crate::server::Shared;

/// Streams a cache client may have open at once.
const MAX_STREAMS: u32 = 64;
/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves a connection that negotiated the cache ALPN until it closes.
pub(crate) async fn serve_cache_connection(connection: Connection, shared: Arc<Shared>) {
    connection.set_max_concurrent_bi_streams(MAX_STREAMS.into());
    // The origin is not capped: it is the coordinator's own bandwidth.
    let pacer = Arc::new(Pacer::new(None));
    let client = idleshare_transport::peer_node_id(&connection).ok();
    while let Ok((send, mut recv)) = connection.accept_bi().await {
        let (shared, pacer) = (shared.clone(), pacer.clone());
        tokio::spawn(async move {
            let request = tokio::time::timeout(
                REQUEST_TIMEOUT,
                recv_frame::<CacheRequest>(&mut recv, MAX_CACHE_FRAME_LEN),
            )
            .await;
            let mut send = send;
            match request {
                Ok(Ok(Some(request))) => {
                    serve_request(&shared, request, send, &pacer, client).await
                }
                Ok(Err(e)) => {
                    let message = format!("malformed request: {e}");
                    answer(&mut send, CacheResponse::Refused { message }).await;
                }
                Ok(Ok(None)) | Err(_) => {}
            }
        });
    }
}

async fn answer(send: &mut SendStream, response: CacheResponse) {
    if send_frame(send, &response).await.is_ok() {
        let _ = send.finish();
    }
}

async fn serve_request(
    shared: &Arc<Shared>,
    request: CacheRequest,
    mut send: SendStream,
    pacer: &Pacer,
    client: Option<NodeId>,
) {
    match request {
        CacheRequest::Range(range) => serve_origin(shared, range, send, pacer).await,
        CacheRequest::Via { node, request } => {
            // The node cannot see who is asking through the relay: the order must name
            // this connection's key, or the relay would serve anyone's order to a stranger.
            let named = request.order.as_ref().map(|o| o.limit.client);
            if named.is_some() && named != client {
                let message = "the order limit names another client than this connection".into();
                return answer(&mut send, CacheResponse::Refused { message }).await;
            }
            relay(shared, node, request, send).await
        }
        CacheRequest::ViaReceipt(receipt) => {
            let (_, refused) = shared.content.credit(shared, None, vec![receipt]);
            let response = match refused.into_iter().next() {
                None => CacheResponse::ReceiptTaken,
                Some(refused) => CacheResponse::Refused {
                    message: refused.to_string(),
                },
            };
            answer(&mut send, response).await;
        }
        CacheRequest::Receipt(_) => {
            let message = "give receipts to the node, or relay them with ViaReceipt".into();
            answer(&mut send, CacheResponse::Refused { message }).await;
        }
    }
}

async fn serve_origin(shared: &Shared, range: RangeRequest, mut send: SendStream, pacer: &Pacer) {
    let content = range.content;
    let reader = match shared.content.origin.reader(&content, unix_ms()) {
        Ok(Some(reader)) => reader,
        Ok(None) => return answer(&mut send, CacheResponse::NotFound).await,
        Err(e) => {
            tracing::error!("origin store: {e}");
            return answer(&mut send, CacheResponse::NotFound).await;
        }
    };
    match send_range(reader, range, &mut send, pacer).await {
        Ok(bytes) => {
            shared
                .metrics
                .origin_bytes
                .fetch_add(bytes, Ordering::Relaxed);
        }
        Err(e) => tracing::info!("origin copy of {}: {e}", content.short()),
    }
}

/// Passes `request` to `node` over its control connection and the answer back, byte for
/// byte (the client checks it; the coordinator only carries it).
async fn relay(shared: &Shared, node: NodeId, request: RangeRequest, mut send: SendStream) {
    let Some(connection) = shared.live_connection(&node) else {
        let reason = format!("node {} is not connected", node.short());
        return answer(&mut send, CacheResponse::Busy { reason }).await;
    };
    let opened = connection.open_bi().await;
    let Ok((mut up_send, mut up_recv)) = opened else {
        let reason = format!("node {} cannot take a stream now", node.short());
        return answer(&mut send, CacheResponse::Busy { reason }).await;
    };
    if send_frame(&mut up_send, &CacheRequest::Range(request))
        .await
        .is_err()
    {
        let reason = format!("node {} went away", node.short());
        return answer(&mut send, CacheResponse::Busy { reason }).await;
    }
    let _ = up_send.finish();
    match tokio::io::copy(&mut up_recv, &mut send).await {
        Ok(bytes) => {
            shared
                .metrics
                .relayed_bytes
                .fetch_add(bytes, Ordering::Relaxed);
            let _ = send.finish();
        }
        Err(e) => {
            tracing::debug!("relay to {} ended early: {e}", node.short());
            let _ = send.reset(0u32.into());
        }
    }
}
