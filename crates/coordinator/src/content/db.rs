//! The content database (`content.db`): published content, pins and cache reputations.
//! Pin states and reputations are stored as JSON; ids as raw bytes.

use std::path::Path;

use idleshare_base::db::{Db, Durability};

use idleshare_protocol::{ContentId, NodeId};
use rusqlite::params;

use super::book::{CacheReputation, Changes, ContentRecord, PinState};
use crate::store::StoreError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS contents (id BLOB PRIMARY KEY, size INTEGER NOT NULL,
    name TEXT NOT NULL, replicas INTEGER NOT NULL, published_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pins (content BLOB NOT NULL, node BLOB NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (content, node));
CREATE TABLE IF NOT EXISTS cache_reputation (node BLOB PRIMARY KEY, record TEXT NOT NULL);
";

/// File name of the content database inside the data directory.
pub const CONTENT_DATABASE_FILE_NAME: &str = "content.db";

/// What a restart reloads.
pub(crate) type Loaded = (
    Vec<ContentRecord>,
    Vec<(ContentId, NodeId, PinState)>,
    Vec<(NodeId, CacheReputation)>,
);

pub(crate) struct ContentDb {
    db: Db,
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::CorruptRow {
        id: what.to_owned(),
        detail: detail.to_string(),
    }
}

fn content_id(bytes: Vec<u8>) -> Result<ContentId, StoreError> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| corrupt("content id", "not 32 bytes"))?;
    Ok(ContentId::from_bytes(bytes))
}

fn node_id(bytes: Vec<u8>) -> Result<NodeId, StoreError> {
    NodeId::from_slice(&bytes).map_err(|e| corrupt("node id", e))
}

impl ContentDb {
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Db::open(path, Durability::ProcessCrash, SCHEMA)?,
        })
    }

    pub(crate) fn load(&self) -> Result<Loaded, StoreError> {
        let connection = self.db.lock();
        let mut contents = Vec::new();
        let mut statement =
            connection.prepare("SELECT id, size, name, replicas, published_ms FROM contents")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, Vec<u8>>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })?;
        for row in rows {
            let (id, size, name, replicas, published) = row?;
            contents.push(ContentRecord {
                id: content_id(id)?,
                size: size as u64,
                name,
                replicas: u8::try_from(replicas).unwrap_or(u8::MAX),
                published_ms: published as u64,
            });
        }
        let mut pins = Vec::new();
        let mut statement = connection.prepare("SELECT content, node, state FROM pins")?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, Vec<u8>>(0)?,
                row.get::<_, Vec<u8>>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (content, node, state) = row?;
            let state = serde_json::from_str(&state).map_err(|e| corrupt("pin", e))?;
            pins.push((content_id(content)?, node_id(node)?, state));
        }
        let mut reputations = Vec::new();
        let mut statement = connection.prepare("SELECT node, record FROM cache_reputation")?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (node, record) = row?;
            let record = serde_json::from_str(&record).map_err(|e| corrupt("reputation", e))?;
            reputations.push((node_id(node)?, record));
        }
        Ok((contents, pins, reputations))
    }

    pub(crate) fn insert_content(&self, record: &ContentRecord) -> Result<(), StoreError> {
        self.db.lock().execute(
            "INSERT OR IGNORE INTO contents (id, size, name, replicas, published_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                record.id.as_bytes().as_slice(),
                record.size as i64,
                record.name,
                i64::from(record.replicas),
                record.published_ms as i64
            ],
        )?;
        Ok(())
    }

    /// Writes the rows a book mutation changed, in one transaction.
    pub(crate) fn save(&self, changes: &Changes) -> Result<(), StoreError> {
        if changes.pins.is_empty() && changes.reputations.is_empty() && changes.removed.is_empty() {
            return Ok(());
        }
        let mut connection = self.db.lock();
        let tx = connection.transaction()?;
        for content in &changes.removed {
            tx.execute(
                "DELETE FROM contents WHERE id = ?1",
                [content.as_bytes().as_slice()],
            )?;
        }
        for (content, node, state) in &changes.pins {
            let key = params![content.as_bytes().as_slice(), node.as_bytes().as_slice()];
            match state {
                Some(state) => {
                    let json = serde_json::to_string(state).map_err(|e| corrupt("pin", e))?;
                    tx.execute(
                        "INSERT OR REPLACE INTO pins (content, node, state) VALUES (?1, ?2, ?3)",
                        params![
                            content.as_bytes().as_slice(),
                            node.as_bytes().as_slice(),
                            json
                        ],
                    )?;
                }
                None => {
                    tx.execute("DELETE FROM pins WHERE content = ?1 AND node = ?2", key)?;
                }
            }
        }
        for (node, reputation) in &changes.reputations {
            let json = serde_json::to_string(reputation).map_err(|e| corrupt("reputation", e))?;
            tx.execute(
                "INSERT OR REPLACE INTO cache_reputation (node, record) VALUES (?1, ?2)",
                params![node.as_bytes().as_slice(), json],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
