//! Bulk streams of a registered node, served beside its control stream: the bandwidth test.
//!
//! Bounded three ways: quinn caps concurrent streams per connection, every transfer is at
//! most `MAX_BANDWIDTH_TEST_BYTES`, and a token bucket caps new bulk streams per node.

use std::time::Instant;

use idleshare_protocol::bulk::{
    BulkRequest, BulkResponse, MAX_BANDWIDTH_TEST_BYTES, MAX_BULK_CONTROL_FRAME_LEN,
};
use idleshare_transport::{FramedError, recv_frame, send_frame};
use quinn::{Connection, RecvStream, SendStream};

use crate::rate::TokenBucket;

/// Bulk streams a node may open per minute on average (a bandwidth test uses four).
const BULK_STREAMS_PER_MINUTE: f64 = 12.0;
/// Bulk streams a node may open at once before the rate applies: two bandwidth tests.
const BULK_STREAM_BURST: u32 = 8;
/// Size of each write of a download.
const CHUNK: usize = 64 * 1024;

/// Serves every bulk stream the node opens until the connection closes.
pub(crate) async fn serve_bulk_streams(connection: Connection) {
    let mut bucket = TokenBucket::new(
        BULK_STREAMS_PER_MINUTE / 60.0,
        BULK_STREAM_BURST,
        Instant::now(),
    );
    while let Ok((mut send, recv)) = connection.accept_bi().await {
        if !bucket.try_take(Instant::now()) {
            let refused = BulkResponse::Refused {
                message: "too many bulk transfers; try again later".into(),
            };
            tokio::spawn(async move {
                let _ = send_frame(&mut send, &refused).await;
                let _ = send.finish();
            });
            continue;
        }
        tokio::spawn(async move {
            if let Err(e) = serve_bulk_stream(send, recv).await {
                tracing::debug!("bulk stream ended early: {e}");
            }
        });
    }
}

async fn serve_bulk_stream(mut send: SendStream, mut recv: RecvStream) -> Result<(), FramedError> {
    let Some(request) = recv_frame::<BulkRequest>(&mut recv, MAX_BULK_CONTROL_FRAME_LEN).await?
    else {
        return Ok(());
    };
    if let Err(message) = request.validate() {
        send_frame(&mut send, &BulkResponse::Refused { message }).await?;
        let _ = send.finish();
        return Ok(());
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
        BulkRequest::Fetch { .. } | BulkRequest::Result(_) => {
            let message = "work transfers are not served yet".to_owned();
            send_frame(&mut send, &BulkResponse::Refused { message }).await?;
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
