//! Bulk streams of a registered node, served beside its control stream: the bandwidth test,
//! and the work transfers (modules and inputs fetched, results sent: see `bulk_work`).
//!
//! Bounded three ways: quinn caps concurrent streams per connection, every transfer is at
//! most 16 MiB, and a token bucket caps bandwidth-test streams per node (work transfers are
//! bounded by the node's leases instead).

use idleshare_base::sync::Mutex;
use std::sync::Arc;
use std::time::Instant;

use idleshare_protocol::NodeId;
use idleshare_protocol::bulk::{
    BulkRequest, BulkResponse, MAX_BANDWIDTH_TEST_BYTES, MAX_BULK_CONTROL_FRAME_LEN,
};
use idleshare_transport::{FramedError, recv_frame, send_frame};
use quinn::{Connection, RecvStream, SendStream};

use crate::rate::TokenBucket;
use crate::server::Shared;

/// Bulk streams a node may open per minute on average (a bandwidth test uses four).
const BULK_STREAMS_PER_MINUTE: f64 = 12.0;
/// Bulk streams a node may open at once before the rate applies: two bandwidth tests.
const BULK_STREAM_BURST: u32 = 8;
/// Size of each write of a download.
const CHUNK: usize = 64 * 1024;

/// Serves every bulk stream the node opens until the connection closes.
pub(crate) async fn serve_bulk_streams(connection: Connection, shared: Arc<Shared>, node: NodeId) {
    let bucket = Arc::new(Mutex::new(TokenBucket::new(
        BULK_STREAMS_PER_MINUTE / 60.0,
        BULK_STREAM_BURST,
        Instant::now(),
    )));
    while let Ok((send, recv)) = connection.accept_bi().await {
        let (bucket, shared) = (bucket.clone(), shared.clone());
        tokio::spawn(async move {
            if let Err(e) = serve_bulk_stream(send, recv, &bucket, &shared, node).await {
                tracing::debug!("bulk stream ended early: {e}");
            }
        });
    }
}

/// Answers a refusal and ends the stream.
pub(crate) async fn refuse(send: &mut SendStream, message: String) -> Result<(), FramedError> {
    send_frame(send, &BulkResponse::Refused { message }).await?;
    let _ = send.finish();
    Ok(())
}

async fn serve_bulk_stream(
    mut send: SendStream,
    mut recv: RecvStream,
    bucket: &Mutex<TokenBucket>,
    shared: &Arc<Shared>,
    node: NodeId,
) -> Result<(), FramedError> {
    let Some(request) = recv_frame::<BulkRequest>(&mut recv, MAX_BULK_CONTROL_FRAME_LEN).await?
    else {
        return Ok(());
    };
    if let Err(message) = request.validate() {
        return refuse(&mut send, message.to_string()).await;
    }
    let rationed = matches!(
        request,
        BulkRequest::Download { .. } | BulkRequest::Upload { .. }
    );
    if rationed && !bucket.lock().try_take(Instant::now()) {
        return refuse(&mut send, "too many bulk transfers; try again later".into()).await;
    }
    match request {
        BulkRequest::Download { bytes } => {
            let chunk = vec![0u8; CHUNK];
            let mut left = bytes as usize;
            while left > 0 {
                let n = left.min(CHUNK);
                send.write_all(&chunk[..n]).await?;
                left -= n;
            }
        }
        BulkRequest::Upload { bytes } => {
            let received = drain(&mut recv, u64::from(bytes)).await;
            let response = match received {
                Some(received) if received == u64::from(bytes) => {
                    BulkResponse::Received { bytes: received }
                }
                Some(received) => BulkResponse::Refused {
                    message: format!("announced {bytes} bytes, received {received}"),
                },
                None => BulkResponse::Refused {
                    message: format!("upload exceeded the announced {bytes} bytes"),
                },
            };
            send_frame(&mut send, &response).await?;
        }
        BulkRequest::Fetch { id } => {
            return crate::bulk_work::serve_fetch(send, shared, node, id).await;
        }
        BulkRequest::Result(report) => {
            return crate::bulk_work::serve_result(send, recv, shared, node, report).await;
        }
    }
    let _ = send.finish();
    Ok(())
}

/// Reads the rest of the stream, counting bytes; `None` once more than `limit` arrive.
async fn drain(recv: &mut RecvStream, limit: u64) -> Option<u64> {
    let mut buffer = vec![0u8; CHUNK];
    let mut received = 0u64;
    let ceiling = limit.min(u64::from(MAX_BANDWIDTH_TEST_BYTES));
    loop {
        match recv.read(&mut buffer).await {
            Ok(Some(n)) => {
                received += n as u64;
                if received > ceiling {
                    let _ = recv.stop(0u32.into());
                    return None;
                }
            }
            Ok(None) => return Some(received),
            Err(_) => return Some(received),
        }
    }
}
