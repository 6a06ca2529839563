//! The wallet's SQLite file: one row per receipt, keyed by (issuer, seq), with the chain's
//! running hash and balance beside the signed body so the tip is one indexed read.

use std::path::Path;

use idleshare_base::db::{Db, Durability};

use idleshare_protocol::{ChainTip, Credit, MicroTokens, NodeId, SignedReceipt};
use rusqlite::{OptionalExtension, params};

use super::WalletError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (
    issuer BLOB NOT NULL,
    seq INTEGER NOT NULL,
    unit INTEGER,
    served_bytes INTEGER NOT NULL DEFAULT 0,
    amount INTEGER NOT NULL,
    issued_at_ms INTEGER NOT NULL,
    hash BLOB NOT NULL,
    balance INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (issuer, seq)
);
CREATE INDEX IF NOT EXISTS receipts_by_time ON receipts (issued_at_ms);
";

pub(super) struct WalletStore {
    db: Db,
}

/// Bytes a credit pays for serving (0 for compute).
fn served_bytes(work: &Credit) -> u64 {
    match work {
        Credit::Serving { bytes, .. } => *bytes,
        Credit::Unit(_) | Credit::Storage { .. } => 0,
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl WalletStore {
    pub(super) fn open(path: &Path) -> Result<Self, WalletError> {
        let display = path.display().to_string();
        let db = |source| WalletError::Database {
            path: display.clone(),
            source,
        };
        // A receipt is written once and is worth money: flush it to disk on every commit.
        let db = Db::open(path, Durability::PowerLoss, SCHEMA).map_err(|e| db(e.source))?;
        Ok(Self { db })
    }

    fn error(&self, source: rusqlite::Error) -> WalletError {
        WalletError::Database {
            path: self.db.path().display().to_string(),
            source,
        }
    }

    pub(super) fn owner(&self) -> Result<Option<NodeId>, WalletError> {
        let bytes: Option<Vec<u8>> = self
            .db
            .lock()
            .query_row("SELECT value FROM meta WHERE key = 'node'", [], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|e| self.error(e))?;
        Ok(bytes.and_then(|bytes| NodeId::from_slice(&bytes).ok()))
    }

    pub(super) fn set_owner(&self, node: &NodeId) -> Result<(), WalletError> {
        self.db
            .lock()
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('node', ?1)",
                params![node.as_bytes().as_slice()],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    pub(super) fn tip(&self, issuer: &NodeId) -> Result<Option<ChainTip>, WalletError> {
        let row: Option<(i64, Vec<u8>, i64)> = self
            .db
            .lock()
            .query_row(
                "SELECT seq, hash, balance FROM receipts WHERE issuer = ?1 ORDER BY seq DESC LIMIT 1",
                params![issuer.as_bytes().as_slice()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        Ok(row.map(|(seq, hash, balance)| ChainTip {
            seq: seq as u64,
            hash: hash.try_into().unwrap_or([0; 32]),
            balance: MicroTokens(balance as u64),
        }))
    }

    /// Stores `receipt` as the chain's new tip `tip` (already verified by the caller).
    pub(super) fn append(
        &self,
        receipt: &SignedReceipt,
        tip: &ChainTip,
    ) -> Result<(), WalletError> {
        let body = postcard::to_stdvec(receipt).unwrap_or_default();
        let r = &receipt.receipt;
        self.db
            .lock()
            .execute(
                "INSERT INTO receipts (issuer, seq, unit, served_bytes, amount, issued_at_ms, hash,
                 balance, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    r.issuer.as_bytes().as_slice(),
                    to_i64(r.seq),
                    r.work.unit().map(|unit| to_i64(unit.0)),
                    to_i64(served_bytes(&r.work)),
                    to_i64(r.amount.0),
                    to_i64(r.issued_at_ms),
                    tip.hash.as_slice(),
                    to_i64(tip.balance.0),
                    body,
                ],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    pub(super) fn receipt(
        &self,
        issuer: &NodeId,
        seq: u64,
    ) -> Result<Option<SignedReceipt>, WalletError> {
        let body: Option<Vec<u8>> = self
            .db
            .lock()
            .query_row(
                "SELECT body FROM receipts WHERE issuer = ?1 AND seq = ?2",
                params![issuer.as_bytes().as_slice(), to_i64(seq)],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        body.map(|body| decode(issuer, seq, &body)).transpose()
    }

    pub(super) fn receipts(&self, issuer: &NodeId) -> Result<Vec<SignedReceipt>, WalletError> {
        let connection = self.db.lock();
        let mut statement = connection
            .prepare("SELECT seq, body FROM receipts WHERE issuer = ?1 ORDER BY seq")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![issuer.as_bytes().as_slice()], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .map_err(|e| self.error(e))?;
        let mut receipts = Vec::new();
        for row in rows {
            let (seq, body) = row.map_err(|e| self.error(e))?;
            receipts.push(decode(issuer, seq as u64, &body)?);
        }
        Ok(receipts)
    }

    pub(super) fn issuers(&self) -> Result<Vec<NodeId>, WalletError> {
        let connection = self.db.lock();
        let mut statement = connection
            .prepare("SELECT DISTINCT issuer FROM receipts ORDER BY issuer")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| row.get::<_, Vec<u8>>(0))
            .map_err(|e| self.error(e))?;
        let mut issuers = Vec::new();
        for row in rows {
            let bytes = row.map_err(|e| self.error(e))?;
            if let Ok(id) = NodeId::from_slice(&bytes) {
                issuers.push(id);
            }
        }
        Ok(issuers)
    }

    pub(super) fn sum_since(&self, since_ms: u64) -> Result<MicroTokens, WalletError> {
        let sum: i64 = self
            .db
            .lock()
            .query_row(
                "SELECT COALESCE(SUM(amount), 0) FROM receipts WHERE issued_at_ms >= ?1",
                params![to_i64(since_ms)],
                |row| row.get(0),
            )
            .map_err(|e| self.error(e))?;
        Ok(MicroTokens(sum as u64))
    }

    /// Sum of the credits for serving cached content.
    pub(super) fn serving_total(&self) -> Result<MicroTokens, WalletError> {
        let sum: i64 = self
            .db
            .lock()
            .query_row(
                "SELECT COALESCE(SUM(amount), 0) FROM receipts WHERE unit IS NULL",
                [],
                |row| row.get(0),
            )
            .map_err(|e| self.error(e))?;
        Ok(MicroTokens(sum as u64))
    }
}

/// One stored receipt as listed: its issuer column, number and signed body.
pub(super) type ReceiptRow = (Vec<u8>, u64, Vec<u8>);

impl WalletStore {
    /// Receipts held, all coordinators.
    pub(super) fn count(&self) -> Result<u64, WalletError> {
        let count: i64 = self
            .db
            .lock()
            .query_row("SELECT COUNT(*) FROM receipts", [], |row| row.get(0))
            .map_err(|e| self.error(e))?;
        Ok(count.max(0) as u64)
    }

    /// Up to `limit` rows (issuer, seq, signed body), newest first, skipping `offset`.
    pub(super) fn page(&self, offset: u64, limit: u64) -> Result<Vec<ReceiptRow>, WalletError> {
        let connection = self.db.lock();
        let mut statement = connection
            .prepare(
                "SELECT issuer, seq, body FROM receipts
                 ORDER BY issued_at_ms DESC, issuer, seq DESC LIMIT ?1 OFFSET ?2",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![to_i64(limit), to_i64(offset)], |row| {
                Ok((
                    row.get(0)?,
                    row.get::<_, i64>(1)?.max(0) as u64,
                    row.get(2)?,
                ))
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// Sums of receipts issued at or after `since_ms`, per `bucket_ms`-long bucket counted
    /// from `since_ms`: (bucket index, sum), in order, empty buckets left out.
    pub(super) fn sums_by_bucket(
        &self,
        since_ms: u64,
        bucket_ms: u64,
    ) -> Result<Vec<(u64, MicroTokens)>, WalletError> {
        let connection = self.db.lock();
        let mut statement = connection
            .prepare(
                "SELECT (issued_at_ms - ?1) / ?2 AS bucket, SUM(amount) FROM receipts
                 WHERE issued_at_ms >= ?1 GROUP BY bucket ORDER BY bucket",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![to_i64(since_ms), to_i64(bucket_ms.max(1))], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
            })
            .map_err(|e| self.error(e))?;
        let mut sums = Vec::new();
        for row in rows {
            let (bucket, sum) = row.map_err(|e| self.error(e))?;
            sums.push((bucket.max(0) as u64, MicroTokens(sum.max(0) as u64)));
        }
        Ok(sums)
    }
}

pub(super) fn decode(issuer: &NodeId, seq: u64, body: &[u8]) -> Result<SignedReceipt, WalletError> {
    postcard::from_bytes(body).map_err(|e| WalletError::Damaged {
        issuer: *issuer,
        seq,
        detail: e.to_string(),
    })
}
