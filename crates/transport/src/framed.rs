//! Frames on QUIC streams: one message per length-prefixed frame.
//!
//! The length is checked against the limit before any payload is read, so a peer cannot
//! make us buffer more than the limit.

use idleshare_protocol::frame::{LENGTH_PREFIX_LEN, decode_payload, payload_len};
use idleshare_protocol::{FrameError, MAX_CONTROL_FRAME_LEN, encode_frame};
use quinn::{ReadExactError, RecvStream, SendStream, WriteError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a frame could not be sent or received.
#[derive(Debug, thiserror::Error)]
pub enum FramedError {
    /// The frame itself is bad (too large, malformed).
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The stream ended or failed while reading.
    #[error("reading from stream: {0}")]
    Read(#[from] ReadExactError),
    /// The stream failed while writing.
    #[error("writing to stream: {0}")]
    Write(#[from] WriteError),
}

/// Sends `message` as one control frame.
pub async fn send_frame<T: Serialize>(
    stream: &mut SendStream,
    message: &T,
) -> Result<(), FramedError> {
    let frame = encode_frame(message, MAX_CONTROL_FRAME_LEN)?;
    stream.write_all(&frame).await?;
    Ok(())
}

/// Receives one frame of at most `max` payload bytes.
///
/// `Ok(None)` means the peer finished the stream cleanly between frames.
pub async fn recv_frame<T: DeserializeOwned>(
    stream: &mut RecvStream,
    max: usize,
) -> Result<Option<T>, FramedError> {
    let mut prefix = [0u8; LENGTH_PREFIX_LEN];
    match stream.read_exact(&mut prefix).await {
        Ok(()) => {}
        Err(ReadExactError::FinishedEarly(0)) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let len = payload_len(prefix, max)?;
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await?;
    Ok(Some(decode_payload(&payload)?))
}
