//! Receipts arriving in a session: checked and stored in the wallet, a gap answered by
//! asking for the missing ones once, and the balance shown in the status.

use std::sync::Arc;

use idleshare_base::clock::unix_ms;
use idleshare_protocol::{Credit, MicroTokens, NodeId, NodeMessage, ReceiptError, SignedReceipt};
use idleshare_transport::send_frame;
use quinn::SendStream;
use tokio::sync::watch;

use super::SessionError;
use crate::cache::CacheService;
use crate::status::{Earnings, NodeStatus};
use crate::wallet::{Accepted, Wallet, WalletError};

/// Where one session's receipts go.
pub(super) struct ReceiptSink {
    wallet: Option<Arc<Wallet>>,
    /// Told of serving credits, so the claims they pay are dropped.
    cache: Option<Arc<CacheService>>,
    /// The coordinator whose key must have signed them.
    issuer: NodeId,
    /// The sequence number last asked for after a gap, so a burst of out-of-order receipts
    /// asks once.
    resync_from: Option<u64>,
    /// Receipts from other coordinators (read once per session): the balance shown is this
    /// plus the current chain's sum, with no query per receipt.
    other_issuers: MicroTokens,
}

impl ReceiptSink {
    pub(super) fn new(
        wallet: Option<Arc<Wallet>>,
        cache: Option<Arc<CacheService>>,
        issuer: NodeId,
    ) -> Self {
        Self {
            wallet,
            cache,
            issuer,
            resync_from: None,
            other_issuers: MicroTokens(0),
        }
    }

    /// After registration: asks for every receipt after the stored chain's tip.
    pub(super) async fn sync(&mut self, send: &mut SendStream) -> Result<(), SessionError> {
        let Some(wallet) = self.wallet.clone() else {
            return Ok(());
        };
        let issuer = self.issuer;
        let read = tokio::task::spawn_blocking(move || {
            Ok::<_, WalletError>((wallet.tip(&issuer)?, wallet.balance()?))
        });
        let from_seq = match read.await {
            Ok(Ok((tip, balance))) => {
                self.other_issuers = MicroTokens(balance.0.saturating_sub(tip.balance.0));
                tip.seq + 1
            }
            Ok(Err(e)) => {
                tracing::error!("wallet: {e}");
                1
            }
            Err(_) => 1,
        };
        send_frame(send, &NodeMessage::SyncReceipts { from_seq }).await?;
        Ok(())
    }

    /// For a serving credit: the claim it pays is settled; returns the amount (0 otherwise).
    fn serving_paid(&self, receipt: &SignedReceipt) -> MicroTokens {
        let Credit::Serving {
            client,
            session,
            upto,
            ..
        } = receipt.receipt.work
        else {
            return MicroTokens(0);
        };
        if let Some(cache) = &self.cache {
            cache.claim_paid(client, session, upto);
        }
        receipt.receipt.amount
    }

    /// Checks and stores one receipt (the database write runs off the session's thread).
    pub(super) async fn store(
        &mut self,
        receipt: &SignedReceipt,
        send: &mut SendStream,
        status: &watch::Sender<NodeStatus>,
    ) -> Result<(), SessionError> {
        let Some(wallet) = self.wallet.clone() else {
            return Ok(());
        };
        let (issuer, credit) = (self.issuer, receipt.clone());
        let stored = tokio::task::spawn_blocking(move || wallet.accept(&credit, &issuer)).await;
        match stored {
            Ok(Ok(Accepted::Stored(tip))) => {
                self.resync_from = None;
                let balance = MicroTokens(self.other_issuers.0.saturating_add(tip.balance.0));
                let serving = self.serving_paid(receipt);
                status.send_modify(|s| {
                    s.earnings = Earnings {
                        balance,
                        receipts: tip.seq,
                        last_receipt_ms: Some(unix_ms()),
                    };
                    s.cache.earned_serving.0 = s.cache.earned_serving.0.saturating_add(serving.0);
                });
            }
            Ok(Ok(Accepted::Duplicate)) => {}
            Ok(Err(WalletError::Receipt(ReceiptError::OutOfSequence { expected, found })))
                if found > expected =>
            {
                // A receipt went missing (sent while we were away): ask for the rest again.
                if self.resync_from != Some(expected) {
                    self.resync_from = Some(expected);
                    send_frame(send, &NodeMessage::SyncReceipts { from_seq: expected }).await?;
                }
            }
            Ok(Err(error)) => tracing::error!("refused a receipt from the coordinator: {error}"),
            Err(error) => tracing::error!("wallet task failed: {error}"),
        }
        Ok(())
    }
}
