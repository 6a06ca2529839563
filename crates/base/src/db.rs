//! Every SQLite file of the project opens here: WAL, a busy timeout, the schema applied, and
//! a durability chosen by the caller and named at the call site.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::sync::{Mutex, MutexGuard};

/// How much a commit survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is flushed to the disk (`synchronous=FULL`): it survives a power cut.
    /// For rows worth money once they have been acted upon (receipts).
    PowerLoss,
    /// A commit survives the process being killed; a power cut may lose the last commits
    /// (`synchronous=NORMAL` in WAL mode). For rows that are rebuilt or refilled if lost.
    ProcessCrash,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Self::PowerLoss => "FULL",
            Self::ProcessCrash => "NORMAL",
        }
    }
}

/// An SQLite file could not be opened or prepared.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the database {path}: {source}")]
pub struct DbError {
    /// The file.
    pub path: PathBuf,
    /// What SQLite said.
    #[source]
    pub source: rusqlite::Error,
}

/// One SQLite connection behind the project's mutex, with its file's path for errors.
pub struct Db {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl Db {
    /// Opens (or creates) the file at `path` in WAL mode with a 5 s busy timeout and the
    /// given durability, and applies `schema` (idempotent `CREATE … IF NOT EXISTS`).
    pub fn open(path: &Path, durability: Durability, schema: &str) -> Result<Self, DbError> {
        let error = |source| DbError {
            path: path.to_owned(),
            source,
        };
        let connection = Connection::open(path).map_err(error)?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(error)?;
        connection
            .pragma_update(None, "synchronous", durability.pragma())
            .map_err(error)?;
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(error)?;
        connection.execute_batch(schema).map_err(error)?;
        Ok(Self {
            path: path.to_owned(),
            connection: Mutex::new(connection),
        })
    }

    /// The connection, for one statement or one transaction.
    pub fn lock(&self) -> MutexGuard<'_, Connection> {
        self.connection.lock()
    }

    /// The file this database lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Db")
            .field("path", &self.path)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synchronous(db: &Db) -> i64 {
        db.lock()
            .query_row("PRAGMA synchronous", [], |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn durability_is_what_the_caller_named() {
        let dir = tempfile::tempdir().unwrap();
        let full = Db::open(&dir.path().join("a.db"), Durability::PowerLoss, "").unwrap();
        let normal = Db::open(&dir.path().join("b.db"), Durability::ProcessCrash, "").unwrap();
        // SQLite: 1 = NORMAL, 2 = FULL.
        assert_eq!(synchronous(&full), 2);
        assert_eq!(synchronous(&normal), 1);
        let mode: String = full
            .lock()
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn the_schema_is_applied_and_rows_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let schema = "CREATE TABLE IF NOT EXISTS t (x INTEGER NOT NULL);";
        let db = Db::open(&path, Durability::PowerLoss, schema).unwrap();
        db.lock().execute("INSERT INTO t VALUES (7)", []).unwrap();
        drop(db);
        let db = Db::open(&path, Durability::PowerLoss, schema).unwrap();
        let x: i64 = db
            .lock()
            .query_row("SELECT x FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(x, 7);
        assert_eq!(db.path(), path);
    }

    #[test]
    fn an_unopenable_path_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("d.db");
        let error = Db::open(&path, Durability::ProcessCrash, "").unwrap_err();
        assert!(error.to_string().contains("missing-dir"), "{error}");
    }
}
