//! The node's wallet: every receipt the coordinator signed for this node, checked on arrival
//! and kept in an embedded database (`DATA/wallet.db`), one chain per coordinator.
//!
//! A receipt is stored only if it verifies (issuer, signature, node) and extends the stored
//! chain (next sequence number, link to the previous hash), so the stored chain is always
//! whole and the balance is its sum. A receipt already held is a harmless duplicate (the
//! coordinator replays receipts after a reconnect); a *different* receipt under a number
//! already held means the coordinator signed two versions, which is refused and reported.

mod export;
mod store;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::Path;

use idleshare_base::clock::local_day_start_ms;
use idleshare_protocol::receipt::verify_chain;
use idleshare_protocol::{ChainTip, Credit, MicroTokens, NodeId, ReceiptError, SignedReceipt};

pub use export::{ExportFormat, export};
use store::WalletStore;

/// File name of the wallet inside the node's data directory.
pub const WALLET_FILE_NAME: &str = "wallet.db";

/// Why the wallet refused something or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The database could not be opened, read or written.
    #[error("wallet database {path}: {source}")]
    Database {
        /// Its path.
        path: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The receipt does not verify or does not extend the chain.
    #[error(transparent)]
    Receipt(#[from] ReceiptError),
    /// A stored receipt could not be decoded (the file was altered or damaged).
    #[error("stored receipt {seq} from {issuer} is damaged: {detail}")]
    Damaged {
        /// Its issuer.
        issuer: NodeId,
        /// Its sequence number.
        seq: u64,
        /// The decoder's words.
        detail: String,
    },
    /// The coordinator signed two different receipts with the same number.
    #[error("coordinator {issuer} sent a receipt {seq} that differs from the one already held")]
    Conflict {
        /// The coordinator.
        issuer: NodeId,
        /// The sequence number.
        seq: u64,
    },
    /// An export could not be written.
    #[error("cannot write the export: {source}")]
    Export {
        /// What the writer said.
        source: std::io::Error,
    },
    /// The wallet belongs to another node.
    #[error("this wallet belongs to node {found}, not {expected}")]
    WrongNode {
        /// The node opening it.
        expected: NodeId,
        /// The node it was created for.
        found: NodeId,
    },
}

/// What happened to an arriving receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Verified and stored; the chain's new tip.
    Stored(ChainTip),
    /// Already held, byte for byte.
    Duplicate,
}

/// One coordinator's chain, verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainSummary {
    /// The coordinator.
    pub issuer: NodeId,
    /// The verified tip (number of receipts and balance).
    pub tip: ChainTip,
}

/// One receipt as a list shows it (decoded, not re-verified; see [`Wallet::verify`] for the
/// audit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptLine {
    /// The coordinator that signed it.
    pub issuer: NodeId,
    /// Its number in that coordinator's chain.
    pub seq: u64,
    /// What it pays for.
    pub work: Credit,
    /// The amount.
    pub amount: MicroTokens,
    /// When it was issued (Unix ms).
    pub issued_at_ms: u64,
}

/// The node's receipts.
pub struct Wallet {
    node: NodeId,
    store: WalletStore,
}

impl Wallet {
    /// Opens (or creates) the wallet in `data_dir` for `node`.
    pub fn open(data_dir: &Path, node: NodeId) -> Result<Self, WalletError> {
        let store = WalletStore::open(&data_dir.join(WALLET_FILE_NAME))?;
        match store.owner()? {
            Some(found) if found != node => {
                return Err(WalletError::WrongNode {
                    expected: node,
                    found,
                });
            }
            Some(_) => {}
            None => store.set_owner(&node)?,
        }
        Ok(Self { node, store })
    }

    /// Opens an existing wallet read-only-in-spirit (for the CLI), whoever owns it.
    pub fn open_existing(data_dir: &Path) -> Result<Option<Self>, WalletError> {
        let path = data_dir.join(WALLET_FILE_NAME);
        if !path.exists() {
            return Ok(None);
        }
        let store = WalletStore::open(&path)?;
        Ok(store.owner()?.map(|node| Self { node, store }))
    }

    /// The node this wallet belongs to.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// The stored tip of `issuer`'s chain (genesis when there is none).
    pub fn tip(&self, issuer: &NodeId) -> Result<ChainTip, WalletError> {
        Ok(self.store.tip(issuer)?.unwrap_or(ChainTip::GENESIS))
    }

    /// Checks `receipt` against the stored chain and stores it.
    pub fn accept(
        &self,
        receipt: &SignedReceipt,
        issuer: &NodeId,
    ) -> Result<Accepted, WalletError> {
        let tip = self.tip(issuer)?;
        let seq = receipt.receipt.seq;
        if seq >= 1 && seq <= tip.seq {
            return match self.store.receipt(issuer, seq)? {
                Some(held) if held == *receipt => Ok(Accepted::Duplicate),
                _ => Err(WalletError::Conflict {
                    issuer: *issuer,
                    seq,
                }),
            };
        }
        let next = tip.accept(receipt, issuer, &self.node)?;
        self.store.append(receipt, &next)?;
        Ok(Accepted::Stored(next))
    }

    /// Every coordinator this wallet holds receipts from.
    pub fn issuers(&self) -> Result<Vec<NodeId>, WalletError> {
        self.store.issuers()
    }

    /// `issuer`'s receipts in chain order.
    pub fn receipts(&self, issuer: &NodeId) -> Result<Vec<SignedReceipt>, WalletError> {
        self.store.receipts(issuer)
    }

    /// Every receipt of every coordinator: one chain after another, each in chain order.
    pub fn all_receipts(&self) -> Result<Vec<SignedReceipt>, WalletError> {
        let mut all = Vec::new();
        for issuer in self.issuers()? {
            all.extend(self.receipts(&issuer)?);
        }
        Ok(all)
    }

    /// Writes every receipt ([`Self::all_receipts`]) to `out` in `format`.
    pub fn export_all(&self, format: ExportFormat, out: &mut dyn Write) -> Result<(), WalletError> {
        let receipts = self.all_receipts()?;
        export(&receipts, format, out).map_err(|source| WalletError::Export { source })
    }

    /// Re-verifies every stored chain from its first receipt (signatures, links, sums), as an
    /// offline audit; `issuer` limits it to one coordinator.
    pub fn verify(&self, issuer: Option<&NodeId>) -> Result<Vec<ChainSummary>, WalletError> {
        let issuers = match issuer {
            Some(issuer) => vec![*issuer],
            None => self.issuers()?,
        };
        issuers
            .into_iter()
            .map(|issuer| {
                let receipts = self.receipts(&issuer)?;
                let tip = verify_chain(&receipts, &issuer, &self.node)?;
                Ok(ChainSummary { issuer, tip })
            })
            .collect()
    }

    /// Sum of every stored receipt (all coordinators).
    pub fn balance(&self) -> Result<MicroTokens, WalletError> {
        self.store.sum_since(0)
    }

    /// Sum of receipts issued at or after `since_ms` (Unix ms), e.g. "today".
    pub fn earned_since(&self, since_ms: u64) -> Result<MicroTokens, WalletError> {
        self.store.sum_since(since_ms)
    }

    /// Sum of receipts issued since the local midnight that began `now_ms`'s day ("today").
    pub fn earned_today(&self, now_ms: u64) -> Result<MicroTokens, WalletError> {
        self.earned_since(local_day_start_ms(now_ms))
    }

    /// Sum of the credits for serving cached content (all coordinators).
    pub fn earned_serving(&self) -> Result<MicroTokens, WalletError> {
        self.store.serving_total()
    }

    /// How many receipts the wallet holds (all coordinators).
    pub fn receipt_count(&self) -> Result<u64, WalletError> {
        self.store.count()
    }

    /// Up to `limit` receipts, newest first, after skipping `offset` (for a paged list).
    pub fn receipt_page(&self, offset: u64, limit: u64) -> Result<Vec<ReceiptLine>, WalletError> {
        self.store
            .page(offset, limit)?
            .into_iter()
            .map(|(issuer, seq, body)| {
                let issuer = NodeId::from_slice(&issuer).map_err(|e| WalletError::Damaged {
                    issuer: self.node,
                    seq,
                    detail: format!("issuer column: {e}"),
                })?;
                let receipt = store::decode(&issuer, seq, &body)?.receipt;
                Ok(ReceiptLine {
                    issuer,
                    seq,
                    work: receipt.work,
                    amount: receipt.amount,
                    issued_at_ms: receipt.issued_at_ms,
                })
            })
            .collect()
    }

    /// Earnings from `since_ms` on, summed per `bucket_ms`: (bucket start in Unix ms, sum),
    /// in time order, buckets without receipts left out (for an earnings chart).
    pub fn earned_by_bucket(
        &self,
        since_ms: u64,
        bucket_ms: u64,
    ) -> Result<Vec<(u64, MicroTokens)>, WalletError> {
        let bucket_ms = bucket_ms.max(1);
        Ok(self
            .store
            .sums_by_bucket(since_ms, bucket_ms)?
            .into_iter()
            .map(|(bucket, sum)| {
                (
                    since_ms.saturating_add(bucket.saturating_mul(bucket_ms)),
                    sum,
                )
            })
            .collect())
    }
}
