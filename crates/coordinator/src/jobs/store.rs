//! The work store: jobs, units, leases, results, blobs, reputations and receipts in SQLite
//! (WAL), in a file of its own beside the registry's (`work.db`), so its group commits and
//! the registry's flushes never wait on each other's write lock.
//!
//! Writes arrive as batches of [`Op`]s, each batch one transaction (all or none); one
//! connection writes, another reads (WAL lets reads run beside a write). Ids and hashes are
//! stored as raw bytes, specs and settlements as JSON, reports and receipts as postcard.

use std::path::Path;

use idleshare_base::db::{Db, Durability};

use idleshare_protocol::api::UnitState;
use idleshare_protocol::{ContentId, NodeId, SignedReceipt};
use rusqlite::{OptionalExtension, Transaction, params};

use super::ops::Op;
use super::restore::Snapshot;
use crate::store::StoreError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS blobs (id BLOB PRIMARY KEY, len INTEGER NOT NULL, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, spec TEXT NOT NULL,
    submitted_at_ms INTEGER NOT NULL, first_unit INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS units (id INTEGER PRIMARY KEY, job INTEGER NOT NULL, idx INTEGER NOT NULL,
    input BLOB NOT NULL, input_len INTEGER NOT NULL, quorum INTEGER NOT NULL,
    state TEXT NOT NULL, settlement TEXT);
CREATE TABLE IF NOT EXISTS leases (id INTEGER PRIMARY KEY, unit INTEGER NOT NULL, node BLOB NOT NULL,
    issued_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS results (lease INTEGER PRIMARY KEY, unit INTEGER NOT NULL, node BLOB NOT NULL,
    report BLOB NOT NULL, received_at_ms INTEGER NOT NULL, valid INTEGER, UNIQUE (unit, node));
CREATE TABLE IF NOT EXISTS abandons (unit INTEGER NOT NULL, node BLOB NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (unit, node));
CREATE TABLE IF NOT EXISTS reputation (node BLOB PRIMARY KEY, consecutive_valid INTEGER NOT NULL,
    valid INTEGER NOT NULL, invalid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (node BLOB NOT NULL, seq INTEGER NOT NULL, unit INTEGER,
    amount INTEGER NOT NULL, signed BLOB NOT NULL, PRIMARY KEY (node, seq), UNIQUE (node, unit));
";

/// The work database.
pub struct WorkStore {
    writer: Db,
    reader: Db,
}

pub(super) fn corrupt(table: &str, detail: impl ToString) -> StoreError {
    StoreError::CorruptRow {
        id: table.to_owned(),
        detail: detail.to_string(),
    }
}

pub(super) fn node_id(bytes: &[u8]) -> Result<NodeId, StoreError> {
    NodeId::from_slice(bytes).map_err(|e| corrupt("node", e))
}

pub(super) fn content_id(bytes: &[u8]) -> Result<ContentId, StoreError> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| corrupt("content id", "not 32 bytes"))?;
    Ok(ContentId::from_bytes(array))
}

fn state_label(state: UnitState) -> &'static str {
    match state {
        UnitState::Pending => "pending",
        UnitState::Done => "done",
        UnitState::Failed => "failed",
        UnitState::GaveUp => "gave_up",
    }
}

pub(super) fn parse_state(label: &str) -> Result<UnitState, StoreError> {
    Ok(match label {
        "pending" => UnitState::Pending,
        "done" => UnitState::Done,
        "failed" => UnitState::Failed,
        "gave_up" => UnitState::GaveUp,
        other => return Err(corrupt("units", format!("unknown state {other:?}"))),
    })
}

impl WorkStore {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            writer: Db::open(path, Durability::ProcessCrash, SCHEMA)?,
            reader: Db::open(path, Durability::ProcessCrash, SCHEMA)?,
        })
    }

    /// Writes a batch in one transaction: all of it or none.
    pub fn write(&self, ops: &[Op]) -> Result<(), StoreError> {
        let mut connection = self.writer.lock();
        let transaction = connection.transaction()?;
        for op in ops {
            write_op(&transaction, op)?;
        }
        transaction.commit()?;
        Ok(())
    }

    /// A blob's bytes.
    pub fn blob(&self, id: &ContentId) -> Result<Option<Vec<u8>>, StoreError> {
        let connection = self.reader.lock();
        let mut query = connection.prepare_cached("SELECT bytes FROM blobs WHERE id = ?1")?;
        Ok(query
            .query_row([id.as_bytes().as_slice()], |row| row.get(0))
            .optional()?)
    }

    /// A blob's length, if stored.
    pub fn blob_len(&self, id: &ContentId) -> Result<Option<u32>, StoreError> {
        let connection = self.reader.lock();
        let mut query = connection.prepare_cached("SELECT len FROM blobs WHERE id = ?1")?;
        Ok(query
            .query_row([id.as_bytes().as_slice()], |row| row.get(0))
            .optional()?)
    }

    /// Up to `limit` of `node`'s receipts from `from_seq` on, in order.
    pub fn receipts(
        &self,
        node: &NodeId,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<SignedReceipt>, StoreError> {
        let connection = self.reader.lock();
        let mut query = connection.prepare_cached(
            "SELECT signed FROM receipts WHERE node = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = query.query_map(
            params![node.as_bytes().as_slice(), from_seq as i64, limit as i64],
            |row| row.get::<_, Vec<u8>>(0),
        )?;
        rows.map(|bytes| postcard::from_bytes(&bytes?).map_err(|e| corrupt("receipts", e)))
            .collect()
    }

    /// Sum and count of every stored receipt (the ledger's audit).
    pub fn receipt_totals(&self) -> Result<(u64, u64), StoreError> {
        let connection = self.reader.lock();
        let (sum, count): (i64, i64) = connection.query_row(
            "SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM receipts",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok((sum as u64, count as u64))
    }

    /// Everything needed to rebuild the book.
    pub fn load(&self) -> Result<Snapshot, StoreError> {
        super::store_load::load(&self.reader.lock())
    }
}

fn write_op(tx: &Transaction<'_>, op: &Op) -> Result<(), StoreError> {
    match op {
        Op::Blob { id, bytes } => {
            tx.prepare_cached("INSERT OR IGNORE INTO blobs (id, len, bytes) VALUES (?1, ?2, ?3)")?
                .execute(params![
                    id.as_bytes().as_slice(),
                    bytes.len() as i64,
                    &bytes[..]
                ])?;
        }
        Op::Job {
            id,
            spec,
            submitted_at_ms,
            first_unit,
            input_lens,
        } => {
            let json = serde_json::to_string(spec).map_err(|e| corrupt("jobs", e))?;
            tx.prepare_cached(
                "INSERT INTO jobs (id, spec, submitted_at_ms, first_unit) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                id.0 as i64,
                json,
                *submitted_at_ms as i64,
                first_unit.0 as i64
            ])?;
            let mut unit = tx.prepare_cached(
                "INSERT INTO units (id, job, idx, input, input_len, quorum, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
            )?;
            for (index, (input, len)) in spec.inputs.iter().zip(input_lens).enumerate() {
                let unit_id = first_unit.0 + index as u64;
                unit.execute(params![
                    unit_id as i64,
                    id.0 as i64,
                    index as i64,
                    input.as_bytes().as_slice(),
                    *len,
                    spec.replication
                ])?;
            }
        }
        Op::Quorum { unit, quorum } => {
            tx.prepare_cached("UPDATE units SET quorum = ?2 WHERE id = ?1")?
                .execute(params![unit.0 as i64, quorum])?;
        }
        Op::Lease {
            id,
            unit,
            node,
            issued_at_ms,
        } => {
            tx.prepare_cached(
                "INSERT INTO leases (id, unit, node, issued_at_ms) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                id.0 as i64,
                unit.0 as i64,
                node.as_bytes().as_slice(),
                *issued_at_ms as i64
            ])?;
        }
        Op::Result {
            lease,
            unit,
            node,
            report,
            received_at_ms,
        } => {
            let bytes = postcard::to_stdvec(report).map_err(|e| corrupt("results", e))?;
            tx.prepare_cached(
                "INSERT OR IGNORE INTO results (lease, unit, node, report, received_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![lease.0 as i64, unit.0 as i64, node.as_bytes().as_slice(), bytes, *received_at_ms as i64])?;
        }
        Op::Abandon { unit, node, reason } => {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO abandons (unit, node, reason) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![unit.0 as i64, node.as_bytes().as_slice(), reason])?;
        }
        Op::Settle {
            unit,
            state,
            settlement,
            valid,
            invalid,
        } => {
            let json = serde_json::to_string(settlement).map_err(|e| corrupt("units", e))?;
            tx.prepare_cached("UPDATE units SET state = ?2, settlement = ?3 WHERE id = ?1")?
                .execute(params![unit.0 as i64, state_label(*state), json])?;
            let mut judge = tx.prepare_cached("UPDATE results SET valid = ?2 WHERE lease = ?1")?;
            for (leases, verdict) in [(valid, 1), (invalid, 0)] {
                for lease in leases {
                    judge.execute(params![lease.0 as i64, verdict])?;
                }
            }
        }
        Op::Reputation { node, reputation } => {
            tx.prepare_cached(
                "INSERT INTO reputation (node, consecutive_valid, valid, invalid) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(node) DO UPDATE SET consecutive_valid = excluded.consecutive_valid,
                     valid = excluded.valid, invalid = excluded.invalid",
            )?
            .execute(params![
                node.as_bytes().as_slice(),
                reputation.consecutive_valid as i64,
                reputation.valid as i64,
                reputation.invalid as i64
            ])?;
        }
        Op::Receipt(signed) => {
            let receipt = &signed.receipt;
            let bytes = postcard::to_stdvec(signed.as_ref()).map_err(|e| corrupt("receipts", e))?;
            tx.prepare_cached("INSERT INTO receipts (node, seq, unit, amount, signed) VALUES (?1, ?2, ?3, ?4, ?5)")?
                .execute(params![
                    receipt.node.as_bytes().as_slice(),
                    receipt.seq as i64,
                    receipt.work.unit().map(|unit| unit.0 as i64),
                    receipt.amount.0 as i64,
                    bytes
                ])?;
        }
    }
    Ok(())
}
