//! Content being stored: `.part` files inside a reservation, visible only once committed.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use idleshare_protocol::ContentId;
use idleshare_protocol::tree::{ByteRange, PARENT_BYTES};

use super::files::{data_path, outboard_path, part_path, write_all_at};
use super::{ContentStore, StoreError, StoredItem};

/// A fill in progress. Write every parent and group of the whole-content encoding (checked
/// by the caller's decoder), then [`Fill::commit`]. Dropped uncommitted, it deletes its files
/// and gives its reservation back.
pub struct Fill {
    store: Arc<ContentStore>,
    id: ContentId,
    size: u64,
    data: File,
    outboard: File,
    data_part: PathBuf,
    outboard_part: PathBuf,
    written: u64,
    finished: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

fn create_part(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(io(path))
}

impl Fill {
    pub(super) fn create(
        store: Arc<ContentStore>,
        id: ContentId,
        size: u64,
    ) -> Result<Self, StoreError> {
        let data_part = part_path(&data_path(store.dir(), &id));
        let outboard_part = part_path(&outboard_path(store.dir(), &id));
        let data = create_part(&data_part)?;
        let outboard = match create_part(&outboard_part) {
            Ok(file) => file,
            Err(e) => {
                let _ = std::fs::remove_file(&data_part);
                return Err(e);
            }
        };
        Ok(Self {
            store,
            id,
            size,
            data,
            outboard,
            data_part,
            outboard_part,
            written: 0,
            finished: false,
        })
    }

    /// The content being filled.
    pub fn id(&self) -> ContentId {
        self.id
    }

    /// Its size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Writes parent node `index`.
    pub fn write_parent(&mut self, index: u64, parent: &[u8]) -> Result<(), StoreError> {
        debug_assert_eq!(parent.len(), PARENT_BYTES);
        write_all_at(&self.outboard, parent, index * PARENT_BYTES as u64)
            .map_err(io(&self.outboard_part))
    }

    /// Writes the content bytes of `at`.
    pub fn write_content(&mut self, at: ByteRange, bytes: &[u8]) -> Result<(), StoreError> {
        debug_assert_eq!(at.len(), bytes.len() as u64);
        write_all_at(&self.data, bytes, at.start).map_err(io(&self.data_part))?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Flushes the files to disk and makes the item visible.
    pub fn commit(mut self, now_ms: u64) -> Result<(), StoreError> {
        if self.written != self.size {
            return Err(StoreError::Incomplete {
                id: self.id,
                written: self.written,
                size: self.size,
            });
        }
        self.data.sync_all().map_err(io(&self.data_part))?;
        self.outboard.sync_all().map_err(io(&self.outboard_part))?;
        self.publish(now_ms)
    }

    /// Takes `data` (complete content, in the store's directory) as this item's bytes, with
    /// its `outboard`.
    pub(super) fn adopt(
        mut self,
        data: &Path,
        outboard: &[u8],
        now_ms: u64,
    ) -> Result<(), StoreError> {
        write_all_at(&self.outboard, outboard, 0).map_err(io(&self.outboard_part))?;
        self.outboard.sync_all().map_err(io(&self.outboard_part))?;
        std::fs::rename(data, &self.data_part).map_err(io(data))?;
        self.data = File::open(&self.data_part).map_err(io(&self.data_part))?;
        self.data.sync_all().map_err(io(&self.data_part))?;
        self.written = self.size;
        self.publish(now_ms)
    }

    /// Renames the parts into place and records the item.
    fn publish(&mut self, now_ms: u64) -> Result<(), StoreError> {
        let dir = self.store.dir().to_owned();
        let (data, outboard) = (data_path(&dir, &self.id), outboard_path(&dir, &self.id));
        std::fs::rename(&self.outboard_part, &outboard).map_err(io(&self.outboard_part))?;
        std::fs::rename(&self.data_part, &data).map_err(io(&self.data_part))?;
        self.finished = true;
        let item = StoredItem {
            id: self.id,
            size: self.size,
            added_ms: now_ms,
            last_access_ms: now_ms,
            last_scrub_ms: now_ms,
        };
        self.store
            .finish_fill(self.id, Some(item))
            .inspect_err(|_| super::files::remove_item(&dir, &self.id))
    }
}

impl Drop for Fill {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        for path in [&self.data_part, &self.outboard_part] {
            let _ = std::fs::remove_file(path);
        }
        let _ = self.store.finish_fill(self.id, None);
    }
}
