//! Durable registry storage: a small interface and its embedded SQLite implementation.
//!
//! SQLite runs in WAL mode with `synchronous=NORMAL`: a committed registration survives a
//! killed process (the WAL is on disk), and only a power loss can cost the last commits.
//! A Postgres-compatible store can implement [`RegistryStore`] when one machine is not
//! enough.

use std::path::Path;

use idleshare_base::db::{Db, DbError, Durability};

use idleshare_protocol::{Capabilities, NodeActivity, NodeId};
use rusqlite::params;

use crate::registry::{NodeRecord, NodeState};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Open(#[from] DbError),
    /// A query failed (for example the disk is full).
    #[error("database error: {0}")]
    Query(#[from] rusqlite::Error),
    /// The blocking task running a query panicked or was cancelled.
    #[error("database task failed: {0}")]
    Task(String),
    /// A stored row could not be decoded.
    #[error("corrupt row for node {id}: {detail}")]
    CorruptRow {
        /// The row's id column.
        id: String,
        /// What is wrong.
        detail: String,
    },
}

/// What the coordinator needs from durable storage for its registry.
pub trait RegistryStore: Send + Sync {
    /// Every stored node.
    fn load_nodes(&self) -> Result<Vec<NodeRecord>, StoreError>;
    /// Inserts or updates these nodes, all or none.
    fn save_nodes(&self, records: &[NodeRecord]) -> Result<(), StoreError>;
    /// Deletes these nodes (pruned from the registry), all or none; unknown ids are no error.
    fn delete_nodes(&self, ids: &[NodeId]) -> Result<(), StoreError>;
}

/// The registry in an embedded SQLite database file.
pub struct SqliteStore {
    db: Db,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS nodes (
    id            TEXT PRIMARY KEY,
    capabilities  TEXT NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL,
    state         TEXT NOT NULL,
    activity      TEXT NOT NULL, -- JSON of the last reported NodeActivity
    remote_addr   TEXT NOT NULL
);";

impl SqliteStore {
    /// Opens (or creates) the database at `path` in WAL mode.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Db::open(path, Durability::ProcessCrash, SCHEMA)?,
        })
    }
}

fn decode_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, i64, i64, String, String, String)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

impl RegistryStore for SqliteStore {
    fn load_nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        let connection = self.db.lock();
        let mut statement = connection.prepare(
            "SELECT id, capabilities, first_seen_ms, last_seen_ms, state, activity, remote_addr FROM nodes",
        )?;
        let rows = statement.query_map([], decode_row)?;
        let mut records = Vec::new();
        for row in rows {
            let (id, capabilities, first_seen, last_seen, state, activity, remote_addr) = row?;
            let corrupt = |detail: String| StoreError::CorruptRow {
                id: id.clone(),
                detail,
            };
            let node_id: NodeId = id.parse().map_err(|e| corrupt(format!("{e}")))?;
            let capabilities: Capabilities =
                serde_json::from_str(&capabilities).map_err(|e| corrupt(e.to_string()))?;
            let activity: NodeActivity =
                serde_json::from_str(&activity).map_err(|e| corrupt(e.to_string()))?;
            records.push(NodeRecord {
                id: node_id,
                capabilities,
                first_seen_ms: first_seen.max(0) as u64,
                last_seen_ms: last_seen.max(0) as u64,
                state: NodeState::from_label(&state),
                activity,
                remote_addr,
            });
        }
        Ok(records)
    }

    fn save_nodes(&self, records: &[NodeRecord]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut connection = self.db.lock();
        let transaction = connection.transaction()?;
        {
            let mut upsert = transaction.prepare_cached(
                "INSERT INTO nodes (id, capabilities, first_seen_ms, last_seen_ms, state, activity, remote_addr)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(id) DO UPDATE SET capabilities = excluded.capabilities,
                     last_seen_ms = excluded.last_seen_ms, state = excluded.state,
                     activity = excluded.activity, remote_addr = excluded.remote_addr",
            )?;
            for record in records {
                let capabilities = serde_json::to_string(&record.capabilities)
                    .expect("capabilities always serialise to JSON");
                let activity = serde_json::to_string(&record.activity)
                    .expect("activity always serialises to JSON");
                upsert.execute(params![
                    record.id.to_string(),
                    capabilities,
                    record.first_seen_ms as i64,
                    record.last_seen_ms as i64,
                    record.state.label(),
                    activity,
                    record.remote_addr,
                ])?;
            }
        }
        transaction.commit()?;
        Ok(())
    }

    fn delete_nodes(&self, ids: &[NodeId]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut connection = self.db.lock();
        let transaction = connection.transaction()?;
        {
            let mut delete = transaction.prepare_cached("DELETE FROM nodes WHERE id = ?1")?;
            for id in ids {
                delete.execute(params![id.to_string()])?;
            }
        }
        transaction.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seed: u8, first_seen: u64) -> NodeRecord {
        NodeRecord {
            id: NodeId::from(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key()),
            capabilities: Capabilities {
                cpu_model: "cpu".into(),
                cpu_cores: 2,
                ..Capabilities::default()
            },
            first_seen_ms: first_seen,
            last_seen_ms: first_seen,
            state: NodeState::Online,
            activity: NodeActivity::Paused {
                reason: "on battery".into(),
            },
            remote_addr: "127.0.0.1:1".into(),
        }
    }

    #[test]
    fn records_survive_reopening_and_first_seen_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coordinator.db");
        let store = SqliteStore::open(&path).unwrap();
        store.save_nodes(&[record(1, 10), record(2, 20)]).unwrap();
        let mut later = record(1, 99);
        later.last_seen_ms = 500;
        store.save_nodes(&[later]).unwrap();
        drop(store);
        let mut loaded = SqliteStore::open(&path).unwrap().load_nodes().unwrap();
        loaded.sort_by_key(|r| r.first_seen_ms);
        assert_eq!(loaded.len(), 2);
        assert_eq!((loaded[0].first_seen_ms, loaded[0].last_seen_ms), (10, 500));
        assert_eq!(loaded[1], record(2, 20));
    }

    #[test]
    fn deleted_nodes_are_gone_after_reopening_and_others_stay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coordinator.db");
        let store = SqliteStore::open(&path).unwrap();
        store.save_nodes(&[record(1, 10), record(2, 20)]).unwrap();
        let unknown = record(3, 30).id;
        store.delete_nodes(&[record(1, 10).id, unknown]).unwrap();
        drop(store);
        let loaded = SqliteStore::open(&path).unwrap().load_nodes().unwrap();
        assert_eq!(loaded, vec![record(2, 20)]);
    }

    #[test]
    fn database_is_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("c.db")).unwrap();
        let mode: String = store
            .db
            .lock()
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_corrupt_row_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("c.db")).unwrap();
        store
            .db
            .lock()
            .execute(
                "INSERT INTO nodes VALUES ('not-an-id', '{}', 0, 0, 'online', '\"Starting\"', '')",
                [],
            )
            .unwrap();
        let err = store.load_nodes().unwrap_err();
        assert!(err.to_string().contains("not-an-id"), "{err}");
    }

    #[test]
    fn a_full_disk_refuses_the_write_whole_and_loses_nothing_stored() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("c.db")).unwrap();
        store.save_nodes(&[record(1, 10)]).unwrap();
        // Cap the database at its current size: the next growth fails as on a full disk.
        {
            let connection = store.db.lock();
            let pages: i64 = connection
                .query_row("PRAGMA page_count", [], |row| row.get(0))
                .unwrap();
            connection
                .pragma_update(None, "max_page_count", pages)
                .unwrap();
        }
        let many: Vec<NodeRecord> = (2..=200)
            .map(|seed| record(seed, u64::from(seed)))
            .collect();
        let err = store.save_nodes(&many).unwrap_err();
        assert!(err.to_string().contains("full"), "{err}");
        let kept = store.load_nodes().unwrap();
        assert_eq!(
            kept,
            vec![record(1, 10)],
            "all or none: the failed batch left no rows"
        );
    }

    #[test]
    fn an_unwritable_location_is_a_clear_open_error() {
        let err = SqliteStore::open(Path::new("/nonexistent-dir/x/c.db"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("/nonexistent-dir/x/c.db"), "{err}");
    }
}
