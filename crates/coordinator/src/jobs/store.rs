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

use super::accounts::Movement;
use super::ops::Op;
use super::restore::Snapshot;
use crate::store::StoreError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS blobs (id BLOB PRIMARY KEY, len INTEGER NOT NULL, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blob_owners (id BLOB NOT NULL, account BLOB NOT NULL, PRIMARY KEY (id, account));
CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, spec TEXT NOT NULL,
    submitted_at_ms INTEGER NOT NULL, first_unit INTEGER NOT NULL, owner BLOB, rate INTEGER,
    fee_bps INTEGER);
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
CREATE TABLE IF NOT EXISTS movements (seq INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL, account BLOB, pot TEXT, node BLOB,
    amount INTEGER NOT NULL CHECK (amount >= 0), fee INTEGER NOT NULL CHECK (fee >= 0),
    note TEXT NOT NULL, movement TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (serial INTEGER PRIMARY KEY, signed BLOB NOT NULL,
    rate INTEGER NOT NULL, fee_bps INTEGER NOT NULL, closed INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS storage (content BLOB PRIMARY KEY, term TEXT NOT NULL,
    ended INTEGER NOT NULL DEFAULT 0);
";

/// Columns added after a table was first shipped: (table, column, type).
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("jobs", "owner", "BLOB"),
    ("jobs", "rate", "INTEGER"),
    ("jobs", "fee_bps", "INTEGER"),
    ("jobs", "network", "TEXT"),
    ("leases", "network", "TEXT"),
];

/// Adds the columns an older file lacks (jobs from before accounts have no owner).
fn migrate(db: &Db) -> Result<(), StoreError> {
    let connection = db.lock();
    for (table, column, kind) in ADDED_COLUMNS {
        let mut columns = connection.prepare(&format!("PRAGMA table_info({table})"))?;
        let names: Vec<String> = columns
            .query_map([], |row| row.get::<_, String>(1))?
            .collect::<Result<_, _>>()?;
        if !names.iter().any(|name| name == column) {
            connection.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"))?;
        }
    }
    Ok(())
}

/// An amount as SQLite's signed integer; larger ones are refused, never wrapped.
pub(super) fn sql_amount(amount: u64) -> Result<i64, StoreError> {
    i64::try_from(amount).map_err(|_| corrupt("amount", format!("{amount} exceeds i64")))
}

/// Sums of the movement rows, per kind, and of the receipt rows (the audit's durable side).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoredTotals {
    /// Sum of deposits.
    pub deposits: u64,
    /// Sum of payments to nodes.
    pub paid: u64,
    /// Sum of fees.
    pub fees: u64,
    /// Movement rows.
    pub movements: u64,
    /// Sum of receipts.
    pub receipts_total: u64,
    /// Receipt rows.
    pub receipts: u64,
}

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
    /// Opens (or creates) the database at `path`. The coordinator commits with
    /// [`Durability::PowerLoss`]: receipts and movements go out right after their commit,
    /// and a power cut that lost them would make the coordinator reissue sequence numbers
    /// wallets already hold. `ProcessCrash` is for measuring what that costs.
    pub fn open(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        let writer = Db::open(path, durability, SCHEMA)?;
        migrate(&writer)?;
        Ok(Self {
            writer,
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

    /// The reading connection (for [`super::blob_stream`]'s piecewise reads).
    pub(super) fn reader(&self) -> &Db {
        &self.reader
    }

    /// Whether `account` uploaded blob `id`.
    pub fn blob_owned_by(&self, id: &ContentId, account: &NodeId) -> Result<bool, StoreError> {
        let connection = self.reader.lock();
        let mut query = connection
            .prepare_cached("SELECT 1 FROM blob_owners WHERE id = ?1 AND account = ?2")?;
        Ok(query
            .query_row(
                params![id.as_bytes().as_slice(), account.as_bytes().as_slice()],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// When the storage of `content` ran out, if it ran out (and was not paid again).
    pub fn storage_ended(&self, content: &ContentId) -> Result<Option<u64>, StoreError> {
        let connection = self.reader.lock();
        let mut query =
            connection.prepare_cached("SELECT term, ended FROM storage WHERE content = ?1")?;
        let row: Option<(String, i64)> = query
            .query_row([content.as_bytes().as_slice()], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        let Some((json, 1)) = row else {
            return Ok(None);
        };
        let term: super::storage::StorageTerm =
            serde_json::from_str(&json).map_err(|e| corrupt("storage", e))?;
        Ok(Some(term.paid_until_ms()))
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

    /// Sums of the durable rows, computed by SQLite (whose `SUM` fails on overflow instead
    /// of wrapping).
    pub fn stored_totals(&self) -> Result<StoredTotals, StoreError> {
        let connection = self.reader.lock();
        let mut totals = StoredTotals::default();
        let mut kinds = connection.prepare_cached(
            "SELECT kind, COALESCE(SUM(amount), 0), COALESCE(SUM(fee), 0), COUNT(*) FROM movements GROUP BY kind",
        )?;
        let mut rows = kinds.query([])?;
        while let Some(row) = rows.next()? {
            let kind: String = row.get(0)?;
            let (amount, fee, count): (i64, i64, i64) = (row.get(1)?, row.get(2)?, row.get(3)?);
            let amount = u64::try_from(amount).map_err(|e| corrupt("movements", e))?;
            match kind.as_str() {
                "deposit" => totals.deposits = amount,
                "pay" => {
                    totals.paid = amount;
                    totals.fees = u64::try_from(fee).map_err(|e| corrupt("movements", e))?;
                }
                _ => {}
            }
            totals.movements += count as u64;
        }
        let (sum, count): (i64, i64) = connection.query_row(
            "SELECT COALESCE(SUM(amount), 0), COUNT(*) FROM receipts",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        totals.receipts_total = u64::try_from(sum).map_err(|e| corrupt("receipts", e))?;
        totals.receipts = count as u64;
        Ok(totals)
    }

    /// Everything needed to rebuild the book.
    pub fn load(&self) -> Result<Snapshot, StoreError> {
        super::store_load::load(&self.reader.lock())
    }
}

fn write_op(tx: &Transaction<'_>, op: &Op) -> Result<(), StoreError> {
    match op {
        Op::Blob { id, owner, bytes } => {
            tx.prepare_cached("INSERT OR IGNORE INTO blobs (id, len, bytes) VALUES (?1, ?2, ?3)")?
                .execute(params![
                    id.as_bytes().as_slice(),
                    bytes.len() as i64,
                    &bytes[..]
                ])?;
            tx.prepare_cached("INSERT OR IGNORE INTO blob_owners (id, account) VALUES (?1, ?2)")?
                .execute(params![
                    id.as_bytes().as_slice(),
                    owner.as_bytes().as_slice()
                ])?;
        }
        Op::Job {
            id,
            owner,
            price,
            network,
            spec,
            submitted_at_ms,
            first_unit,
            input_lens,
        } => {
            let json = serde_json::to_string(spec).map_err(|e| corrupt("jobs", e))?;
            tx.prepare_cached(
                "INSERT INTO jobs (id, spec, submitted_at_ms, first_unit, owner, rate, fee_bps,
                 network) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                id.0 as i64,
                json,
                *submitted_at_ms as i64,
                first_unit.0 as i64,
                owner.as_bytes().as_slice(),
                sql_amount(price.rate.micro_tokens_per_megafuel)?,
                price.fee_bps,
                network.map(|n| n.to_string())
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
            network,
            issued_at_ms,
        } => {
            tx.prepare_cached(
                "INSERT INTO leases (id, unit, node, issued_at_ms, network)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                id.0 as i64,
                unit.0 as i64,
                node.as_bytes().as_slice(),
                *issued_at_ms as i64,
                network.map(|n| n.to_string())
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
                    sql_amount(receipt.amount.0)?,
                    bytes
                ])?;
        }
        Op::Invalid { lease } => {
            tx.prepare_cached("UPDATE results SET valid = 0 WHERE lease = ?1")?
                .execute([lease.0 as i64])?;
        }
        Op::Money {
            movement,
            at_ms,
            note,
        } => write_movement(tx, movement, *at_ms, note)?,
        Op::Order { signed, price } => {
            let bytes = postcard::to_stdvec(signed.as_ref()).map_err(|e| corrupt("orders", e))?;
            tx.prepare_cached(
                "INSERT INTO orders (serial, signed, rate, fee_bps) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                sql_amount(signed.limit.serial)?,
                bytes,
                sql_amount(price.rate.micro_tokens_per_gib)?,
                price.fee_bps
            ])?;
        }
        Op::Storage(term) => {
            let json = serde_json::to_string(term).map_err(|e| corrupt("storage", e))?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO storage (content, term, ended) VALUES (?1, ?2, 0)",
            )?
            .execute(params![term.content.as_bytes().as_slice(), json])?;
        }
        Op::StorageEnded { content } => {
            tx.prepare_cached("UPDATE storage SET ended = 1 WHERE content = ?1")?
                .execute([content.as_bytes().as_slice()])?;
        }
        Op::OrderClosed { serial } => {
            tx.prepare_cached("UPDATE orders SET closed = 1 WHERE serial = ?1")?
                .execute([sql_amount(*serial)?])?;
        }
    }
    Ok(())
}

fn write_movement(
    tx: &Transaction<'_>,
    movement: &Movement,
    at_ms: u64,
    note: &str,
) -> Result<(), StoreError> {
    let (kind, account, pot, node, amount, fee) = match *movement {
        Movement::Deposit { account, amount } => ("deposit", Some(account), None, None, amount, 0),
        Movement::Escrow {
            account,
            pot,
            amount,
        } => ("escrow", Some(account), Some(pot), None, amount, 0),
        Movement::Refund { pot, amount } => ("refund", None, Some(pot), None, amount, 0),
        Movement::Transfer { from, amount, .. } => ("transfer", None, Some(from), None, amount, 0),
        Movement::Pay {
            pot,
            node,
            amount,
            fee,
        } => ("pay", None, Some(pot), Some(node), amount, fee),
    };
    let json = serde_json::to_string(movement).map_err(|e| corrupt("movements", e))?;
    tx.prepare_cached(
        "INSERT INTO movements (at_ms, kind, account, pot, node, amount, fee, note, movement)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        sql_amount(at_ms)?,
        kind,
        account.map(|a| a.as_bytes().to_vec()),
        pot.map(|p| p.to_string()),
        node.map(|n| n.as_bytes().to_vec()),
        sql_amount(amount)?,
        sql_amount(fee)?,
        note,
        json
    ])?;
    Ok(())
}
