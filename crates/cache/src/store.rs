//! The content store: complete, verified content on disk, within a quota, least recently
//! used out first.
//!
//! Each item is two files in the store's directory, `<id>.data` (the bytes) and `<id>.obao`
//! (its outboard: the tree's parent nodes), listed in a small SQLite index (`index.db`) that
//! survives restarts. Content arrives through a [`Fill`], which reserves its whole size up
//! front (evicting least-recently-used items to make room), writes to `.part` files, and only
//! on [`Fill::commit`] becomes visible; so the bytes on disk never exceed the quota, and a
//! crash leaves at most `.part` files, removed at the next open. [`ContentStore::scrub_next`]
//! re-hashes one item at a time and evicts one found corrupt.

mod files;
mod fill;
mod index;

use idleshare_base::sync::Mutex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use idleshare_protocol::ContentId;
use idleshare_protocol::tree::{OutboardBuilder, TreeShape};

pub use self::files::{ContentReader, Damage};
pub use self::fill::Fill;
use self::index::IndexDb;

/// Last-use times are written to the index at most this often per item.
const ACCESS_WRITE_INTERVAL_MS: u64 = 60_000;

/// Why the store refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written (a full disk shows up here).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The index database failed.
    #[error("cache index {path}: {source}")]
    Index {
        /// The database file.
        path: PathBuf,
        /// The cause.
        source: rusqlite::Error,
    },
    /// The item can never fit the quota.
    #[error("content of {need} bytes on disk exceeds the cache quota of {quota} bytes")]
    TooLarge {
        /// Bytes the item needs (content and outboard).
        need: u64,
        /// The quota.
        quota: u64,
    },
    /// Other fills hold so much of the quota that this one cannot start now.
    #[error(
        "{need} bytes do not fit: {reserved} of the {quota}-byte quota are reserved by fills in progress"
    )]
    Reserved {
        /// Bytes the item needs.
        need: u64,
        /// Bytes reserved by fills in progress.
        reserved: u64,
        /// The quota.
        quota: u64,
    },
    /// The item is stored already.
    #[error("content {0} is already stored")]
    AlreadyHeld(ContentId),
    /// The item is being filled already.
    #[error("content {0} is already being filled")]
    AlreadyFilling(ContentId),
    /// The fill wrote fewer or more bytes than the content has.
    #[error("fill of {id} is incomplete: {written} of {size} bytes")]
    Incomplete {
        /// The content.
        id: ContentId,
        /// Bytes written.
        written: u64,
        /// Bytes due.
        size: u64,
    },
    /// The quota shrank below what is stored while the fill ran.
    #[error("the cache quota shrank to {quota} bytes while content was being filled")]
    QuotaShrunk {
        /// The new quota.
        quota: u64,
    },
}

/// One stored item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredItem {
    /// Its id.
    pub id: ContentId,
    /// Content bytes.
    pub size: u64,
    /// When it was stored (Unix ms).
    pub added_ms: u64,
    /// When it was last read (Unix ms).
    pub last_access_ms: u64,
    /// When a scrub last found it intact (Unix ms; its fill counts as one).
    pub last_scrub_ms: u64,
}

impl StoredItem {
    /// Bytes it takes on disk.
    pub fn disk_bytes(&self) -> u64 {
        disk_bytes(self.size)
    }
}

/// Bytes an item of `size` content bytes takes on disk (content and outboard).
pub fn disk_bytes(size: u64) -> u64 {
    size.saturating_add(TreeShape::new(size).outboard_len())
}

/// Space in use, for status lines and the dashboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes stored and reserved by fills in progress.
    pub used_bytes: u64,
    /// The quota.
    pub quota_bytes: u64,
    /// Complete items.
    pub items: u32,
}

/// What a scrub found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScrubOutcome {
    /// The item matches its id and outboard.
    Intact(ContentId),
    /// The item was corrupt (or unreadable) and has been evicted.
    Corrupt {
        /// The content.
        id: ContentId,
        /// What was wrong.
        damage: Damage,
    },
}

struct State {
    items: HashMap<ContentId, Entry>,
    /// Fills in progress and the bytes each reserved.
    filling: HashMap<ContentId, u64>,
    quota: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    item: StoredItem,
    /// The last-use time the index holds.
    stored_access_ms: u64,
}

impl State {
    fn stored_bytes(&self) -> u64 {
        self.items.values().map(|e| e.item.disk_bytes()).sum()
    }

    fn reserved_bytes(&self) -> u64 {
        self.filling.values().sum()
    }

    fn used(&self) -> u64 {
        self.stored_bytes() + self.reserved_bytes()
    }

    /// The least recently used item.
    fn coldest(&self) -> Option<ContentId> {
        self.items
            .values()
            .min_by_key(|e| (e.item.last_access_ms, e.item.added_ms))
            .map(|e| e.item.id)
    }
}

/// Verified content on disk within a quota.
pub struct ContentStore {
    dir: PathBuf,
    state: Mutex<State>,
    index: IndexDb,
}

impl ContentStore {
    /// Opens (or creates) the store in `dir` with `quota` bytes. Leftover `.part` files of
    /// interrupted fills are removed; index rows whose files are missing or the wrong size
    /// are dropped, and files no row names are deleted. If the quota is smaller than what is
    /// stored, the least recently used items go.
    pub fn open(dir: &Path, quota: u64) -> Result<Arc<Self>, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let index = IndexDb::open(&dir.join("index.db"))?;
        let mut items = HashMap::new();
        for item in index.load()? {
            if files::matches_size(dir, &item) {
                let entry = Entry {
                    item,
                    stored_access_ms: item.last_access_ms,
                };
                items.insert(item.id, entry);
            } else {
                tracing::warn!("cache: {} is missing or damaged on disk; dropped", item.id);
                index.remove(&item.id)?;
                files::remove_item(dir, &item.id);
            }
        }
        files::remove_strays(dir, |id| items.contains_key(id));
        let store = Arc::new(Self {
            dir: dir.to_owned(),
            state: Mutex::new(State {
                items,
                filling: HashMap::new(),
                quota,
            }),
            index,
        });
        store.set_quota(quota)?;
        Ok(store)
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Space in use.
    pub fn usage(&self) -> Usage {
        let state = self.state.lock();
        Usage {
            used_bytes: state.used(),
            quota_bytes: state.quota,
            items: state.items.len() as u32,
        }
    }

    /// Every stored item.
    pub fn items(&self) -> Vec<StoredItem> {
        self.state.lock().items.values().map(|e| e.item).collect()
    }

    /// Whether `id` is stored complete.
    pub fn contains(&self, id: &ContentId) -> bool {
        self.state.lock().items.contains_key(id)
    }

    /// Changes the quota, evicting least recently used items until what is stored fits.
    /// Returns the evicted ids.
    pub fn set_quota(&self, quota: u64) -> Result<Vec<ContentId>, StoreError> {
        let mut state = self.state.lock();
        state.quota = quota;
        self.evict_until(&mut state, 0)
    }

    /// Evicts cold items until `need` more bytes fit; returns what went.
    fn evict_until(&self, state: &mut State, need: u64) -> Result<Vec<ContentId>, StoreError> {
        let mut evicted = Vec::new();
        while state.used().saturating_add(need) > state.quota {
            let Some(coldest) = state.coldest() else {
                break;
            };
            self.index.remove(&coldest)?;
            state.items.remove(&coldest);
            files::remove_item(&self.dir, &coldest);
            evicted.push(coldest);
        }
        Ok(evicted)
    }

    /// Starts storing `id` of `size` bytes: reserves its space (evicting least recently
    /// used items if needed; their ids are returned) and opens its `.part` files.
    pub fn begin_fill(
        self: &Arc<Self>,
        id: ContentId,
        size: u64,
    ) -> Result<(Fill, Vec<ContentId>), StoreError> {
        let need = disk_bytes(size);
        let evicted = {
            let mut state = self.state.lock();
            if state.items.contains_key(&id) {
                return Err(StoreError::AlreadyHeld(id));
            }
            if state.filling.contains_key(&id) {
                return Err(StoreError::AlreadyFilling(id));
            }
            if need > state.quota {
                return Err(StoreError::TooLarge {
                    need,
                    quota: state.quota,
                });
            }
            let reserved = state.reserved_bytes();
            if reserved.saturating_add(need) > state.quota {
                return Err(StoreError::Reserved {
                    need,
                    reserved,
                    quota: state.quota,
                });
            }
            let evicted = self.evict_until(&mut state, need)?;
            state.filling.insert(id, need);
            evicted
        };
        match Fill::create(self.clone(), id, size) {
            Ok(fill) => Ok((fill, evicted)),
            Err(e) => {
                self.state.lock().filling.remove(&id);
                Err(e)
            }
        }
    }

    /// Ends a fill: on success the item becomes visible; either way its reservation ends.
    fn finish_fill(&self, id: ContentId, stored: Option<StoredItem>) -> Result<(), StoreError> {
        let mut state = self.state.lock();
        let reserved = state.filling.remove(&id).unwrap_or(0);
        let Some(item) = stored else { return Ok(()) };
        if state.used() + reserved > state.quota {
            return Err(StoreError::QuotaShrunk { quota: state.quota });
        }
        self.index.insert(&item)?;
        let entry = Entry {
            item,
            stored_access_ms: item.last_access_ms,
        };
        state.items.insert(id, entry);
        Ok(())
    }

    /// Opens `id` for reading and marks it used now; `None` if not stored.
    pub fn reader(&self, id: &ContentId, now_ms: u64) -> Result<Option<ContentReader>, StoreError> {
        let (item, write_access) = {
            let mut state = self.state.lock();
            let Some(entry) = state.items.get_mut(id) else {
                return Ok(None);
            };
            entry.item.last_access_ms = now_ms.max(entry.item.last_access_ms);
            let stale =
                entry.item.last_access_ms >= entry.stored_access_ms + ACCESS_WRITE_INTERVAL_MS;
            if stale {
                entry.stored_access_ms = entry.item.last_access_ms;
            }
            (entry.item, stale)
        };
        if write_access {
            self.index.touch(id, item.last_access_ms)?;
        }
        match ContentReader::open(&self.dir, item) {
            Ok(reader) => Ok(Some(reader)),
            // Evicted between the lookup and the open.
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Removes `id`; false if it was not stored.
    pub fn remove(&self, id: &ContentId) -> Result<bool, StoreError> {
        let mut state = self.state.lock();
        if state.items.remove(id).is_none() {
            return Ok(false);
        }
        self.index.remove(id)?;
        files::remove_item(&self.dir, id);
        Ok(true)
    }

    /// Re-hashes the item scrubbed longest ago, if its last scrub is older than
    /// `min_age_ms`; a corrupt or unreadable item is evicted. Blocking: reads the whole item.
    pub fn scrub_next(
        &self,
        now_ms: u64,
        min_age_ms: u64,
    ) -> Result<Option<ScrubOutcome>, StoreError> {
        let candidate = self
            .state
            .lock()
            .items
            .values()
            .map(|e| e.item)
            .filter(|item| item.last_scrub_ms.saturating_add(min_age_ms) <= now_ms)
            .min_by_key(|item| item.last_scrub_ms);
        let Some(item) = candidate else {
            return Ok(None);
        };
        match files::check_item(&self.dir, &item) {
            Ok(()) => {
                self.index.scrubbed(&item.id, now_ms)?;
                if let Some(entry) = self.state.lock().items.get_mut(&item.id) {
                    entry.item.last_scrub_ms = now_ms;
                }
                Ok(Some(ScrubOutcome::Intact(item.id)))
            }
            Err(damage) => {
                tracing::warn!("cache scrub: {}: {damage}; evicted", item.id);
                self.remove(&item.id)?;
                Ok(Some(ScrubOutcome::Corrupt {
                    id: item.id,
                    damage,
                }))
            }
        }
    }

    /// Stores content already complete in `data` (a file in the store's directory, moved in)
    /// after computing its id and outboard; returns the id. For publishing an origin copy.
    pub fn import(self: &Arc<Self>, data: &Path, now_ms: u64) -> Result<ContentId, StoreError> {
        let io = |source| StoreError::Io {
            path: data.to_owned(),
            source,
        };
        let size = std::fs::metadata(data).map_err(io)?.len();
        let mut builder = OutboardBuilder::new();
        files::for_each_block(data, |block| builder.update(block)).map_err(io)?;
        let (id, outboard) = builder.finish();
        if self.contains(&id) {
            let _ = std::fs::remove_file(data);
            return Ok(id);
        }
        let (fill, _) = self.begin_fill(id, size)?;
        fill.adopt(data, &outboard, now_ms)?;
        Ok(id)
    }
}
