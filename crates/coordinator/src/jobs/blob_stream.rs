//! A blob's bytes as a response body, read from `work.db` one piece at a time (SQLite's
//! incremental blob reads), so a 16 MiB blob never sits whole in memory and a client that
//! reads slowly holds one piece, not the blob.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use idleshare_protocol::ContentId;
use rusqlite::{MAIN_DB, OptionalExtension};

use super::store::WorkStore;
use crate::server::Shared;
use crate::store::StoreError;

/// Bytes read from the database per step.
pub const PIECE: u64 = 256 << 10;

/// Where a stored blob is: its row, and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobRow {
    row: i64,
    /// Its length in bytes.
    pub len: u64,
}

impl WorkStore {
    /// Where blob `id` is stored, if it is.
    pub fn blob_row(&self, id: &ContentId) -> Result<Option<BlobRow>, StoreError> {
        let connection = self.reader().lock();
        let mut query = connection.prepare_cached("SELECT rowid, len FROM blobs WHERE id = ?1")?;
        Ok(query
            .query_row([id.as_bytes().as_slice()], |row| {
                Ok(BlobRow {
                    row: row.get(0)?,
                    len: row.get(1)?,
                })
            })
            .optional()?)
    }

    /// The piece of the blob at `blob` that starts at `offset`: up to [`PIECE`] bytes,
    /// none at its end.
    pub fn blob_piece(&self, blob: BlobRow, offset: u64) -> Result<Vec<u8>, StoreError> {
        let take = blob.len.saturating_sub(offset).min(PIECE);
        let mut piece = vec![0; take as usize];
        if take > 0 {
            let connection = self.reader().lock();
            let handle = connection.blob_open(MAIN_DB, c"blobs", c"bytes", blob.row, true)?;
            handle.read_at_exact(&mut piece, offset as usize)?;
        }
        Ok(piece)
    }
}

/// The bytes of the blob at `blob`, streamed piece by piece; a failed read ends the body
/// with an error (the client sees a cut response, never wrong bytes).
pub(crate) fn body(shared: Arc<Shared>, blob: BlobRow) -> Body {
    let pieces = futures_util::stream::unfold(Some((shared, 0u64)), move |state| async move {
        let (shared, offset) = state?;
        if offset >= blob.len {
            return None;
        }
        let reading = shared.clone();
        let piece =
            tokio::task::spawn_blocking(move || reading.work.store().blob_piece(blob, offset))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))
                .and_then(|read| read);
        match piece {
            Ok(piece) if !piece.is_empty() => {
                let next = offset + piece.len() as u64;
                Some((Ok(Bytes::from(piece)), Some((shared, next))))
            }
            Ok(_) => Some((Err(std::io::Error::other("the blob ended early")), None)),
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    });
    Body::from_stream(pieces)
}
