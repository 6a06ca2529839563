//! The store's index: one SQLite row per complete item.

use std::path::Path;

use idleshare_base::db::{Db, Durability};

use idleshare_protocol::ContentId;
use rusqlite::params;

use super::{StoreError, StoredItem};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    id BLOB PRIMARY KEY,
    size INTEGER NOT NULL,
    added_ms INTEGER NOT NULL,
    last_access_ms INTEGER NOT NULL,
    last_scrub_ms INTEGER NOT NULL
);
";

pub(super) struct IndexDb {
    db: Db,
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

impl IndexDb {
    pub(super) fn open(path: &Path) -> Result<Self, StoreError> {
        let error = |source| StoreError::Index {
            path: path.to_owned(),
            source,
        };
        // The files are synced before their row is written; losing the last rows in a power
        // cut only drops items that are then refilled.
        let db = Db::open(path, Durability::ProcessCrash, SCHEMA).map_err(|e| error(e.source))?;
        Ok(Self { db })
    }

    fn error(&self) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        |source| StoreError::Index {
            path: self.db.path().to_owned(),
            source,
        }
    }

    /// Every row; rows with an unreadable id are skipped (their files go as strays).
    pub(super) fn load(&self) -> Result<Vec<StoredItem>, StoreError> {
        let connection = self.db.lock();
        let mut statement = connection
            .prepare("SELECT id, size, added_ms, last_access_ms, last_scrub_ms FROM items")
            .map_err(self.error())?;
        let rows = statement
            .query_map([], |row| {
                let id: Vec<u8> = row.get(0)?;
                Ok((id, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
            })
            .map_err(self.error())?;
        let mut items = Vec::new();
        for row in rows {
            let (id, size, added, access, scrub): (Vec<u8>, i64, i64, i64, i64) =
                row.map_err(self.error())?;
            let Ok(id) = <[u8; 32]>::try_from(id.as_slice()) else {
                tracing::warn!("cache index: a row with a malformed id; skipped");
                continue;
            };
            items.push(StoredItem {
                id: ContentId::from_bytes(id),
                size: to_u64(size),
                added_ms: to_u64(added),
                last_access_ms: to_u64(access),
                last_scrub_ms: to_u64(scrub),
            });
        }
        Ok(items)
    }

    pub(super) fn insert(&self, item: &StoredItem) -> Result<(), StoreError> {
        self.db
            .lock()
            .execute(
                "INSERT OR REPLACE INTO items (id, size, added_ms, last_access_ms, last_scrub_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    item.id.as_bytes().as_slice(),
                    to_i64(item.size),
                    to_i64(item.added_ms),
                    to_i64(item.last_access_ms),
                    to_i64(item.last_scrub_ms)
                ],
            )
            .map_err(self.error())?;
        Ok(())
    }

    pub(super) fn remove(&self, id: &ContentId) -> Result<(), StoreError> {
        self.db
            .lock()
            .execute(
                "DELETE FROM items WHERE id = ?1",
                [id.as_bytes().as_slice()],
            )
            .map_err(self.error())?;
        Ok(())
    }

    pub(super) fn touch(&self, id: &ContentId, last_access_ms: u64) -> Result<(), StoreError> {
        self.set(id, "last_access_ms", last_access_ms)
    }

    pub(super) fn scrubbed(&self, id: &ContentId, at_ms: u64) -> Result<(), StoreError> {
        self.set(id, "last_scrub_ms", at_ms)
    }

    fn set(&self, id: &ContentId, column: &str, value: u64) -> Result<(), StoreError> {
        self.db
            .lock()
            .execute(
                &format!("UPDATE items SET {column} = ?2 WHERE id = ?1"),
                params![id.as_bytes().as_slice(), to_i64(value)],
            )
            .map_err(self.error())?;
        Ok(())
    }
}
