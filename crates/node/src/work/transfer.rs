//! Bulk streams of the work protocol: fetch a module or input, upload a unit's result.

use idleshare_protocol::bulk::{BulkRequest, BulkResponse, MAX_BULK_CONTROL_FRAME_LEN};
use idleshare_protocol::{ContentId, UnitReport};
use idleshare_transport::{FramedError, recv_frame, send_frame};
use quinn::Connection;

/// Why a transfer failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The connection or stream broke.
    #[error("connection: {0}")]
    Connection(#[from] quinn::ConnectionError),
    /// A frame could not be sent or read.
    #[error(transparent)]
    Framed(#[from] FramedError),
    /// The body could not be read or written.
    #[error("stream: {0}")]
    Stream(String),
    /// The coordinator refused the request.
    #[error("coordinator refused: {0}")]
    Refused(String),
    /// The stream ended without an answer.
    #[error("the coordinator closed the stream without answering")]
    NoAnswer,
    /// The coordinator announced more than we accept.
    #[error("content {id} is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// The content.
        id: ContentId,
        /// Its announced length.
        len: u32,
        /// The bound.
        max: u32,
    },
    /// The bytes do not hash to the id asked for.
    #[error("content {expected} arrived altered (hashes to {found})")]
    Altered {
        /// What was asked for.
        expected: ContentId,
        /// What arrived.
        found: ContentId,
    },
}

async fn answer(recv: &mut quinn::RecvStream) -> Result<BulkResponse, TransferError> {
    recv_frame::<BulkResponse>(recv, MAX_BULK_CONTROL_FRAME_LEN)
        .await?
        .ok_or(TransferError::NoAnswer)
}

/// Fetches content `id` (at most `max` bytes) and checks its hash.
pub async fn fetch(
    connection: &Connection,
    id: ContentId,
    max: u32,
) -> Result<Vec<u8>, TransferError> {
    let (mut send, mut recv) = connection.open_bi().await?;
    send_frame(&mut send, &BulkRequest::Fetch { id }).await?;
    let _ = send.finish();
    let len = match answer(&mut recv).await? {
        BulkResponse::Blob { len } if len <= max => len,
        BulkResponse::Blob { len } => return Err(TransferError::TooLarge { id, len, max }),
        BulkResponse::Refused { message } => return Err(TransferError::Refused(message)),
        BulkResponse::Received { .. } => return Err(TransferError::NoAnswer),
    };
    let mut bytes = vec![0u8; len as usize];
    recv.read_exact(&mut bytes)
        .await
        .map_err(|e| TransferError::Stream(e.to_string()))?;
    let found = ContentId::of(&bytes);
    if found != id {
        return Err(TransferError::Altered {
            expected: id,
            found,
        });
    }
    Ok(bytes)
}

/// Sends a unit's report and output; returns once the coordinator has stored it.
pub async fn upload(
    connection: &Connection,
    report: &UnitReport,
    output: &[u8],
) -> Result<(), TransferError> {
    let (mut send, mut recv) = connection.open_bi().await?;
    send_frame(&mut send, &BulkRequest::Result(report.clone())).await?;
    send.write_all(output)
        .await
        .map_err(|e| TransferError::Stream(e.to_string()))?;
    let _ = send.finish();
    match answer(&mut recv).await? {
        BulkResponse::Received { .. } => Ok(()),
        BulkResponse::Refused { message } => Err(TransferError::Refused(message)),
        BulkResponse::Blob { .. } => Err(TransferError::NoAnswer),
    }
}
