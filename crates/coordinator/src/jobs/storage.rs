//! Paid storage of published content: publishing escrows every copy's storage for the
//! time the publisher chooses (the origin's copy is the operator's, taken as a fee when
//! the time is over), each storage period pays the nodes holding a copy (at most the copies paid for),
//! and when the paid time is over the rest goes back and the content is dropped. The
//! publisher may also set aside a serving budget for fetches by people without an account.
//! Pure: time, holders and the coordinator's id are handed in.

use std::collections::HashMap;

use idleshare_protocol::api::Pot;
use idleshare_protocol::auth::AccountId;
use idleshare_protocol::{ContentId, Credit, MicroTokens, NodeId};
use serde::{Deserialize, Serialize};

use super::accounts::{MoneyError, Movement};
use super::book::Book;
use super::ops::{Changes, Op, Outbound};

/// One day, in ms.
pub const DAY_MS: u64 = 86_400_000;

/// What a publisher paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageTerm {
    /// The content.
    pub content: ContentId,
    /// Who paid.
    pub owner: AccountId,
    /// Its size.
    pub size: u64,
    /// Copies on nodes paid for.
    pub replicas: u8,
    /// When the paid time started.
    pub start_ms: u64,
    /// Length of one storage period.
    pub period_ms: u64,
    /// Periods paid.
    pub periods: u32,
    /// What one copy earns per period.
    pub per_period: u64,
    /// The operator's fee in basis points, as it was when the term was paid for.
    pub fee_bps: u32,
}

impl StorageTerm {
    /// When the paid time ends.
    pub fn paid_until_ms(&self) -> u64 {
        self.start_ms
            .saturating_add(self.period_ms.saturating_mul(u64::from(self.periods)))
    }

    /// Its storage pot and its serving budget.
    pub fn pots(&self) -> [Pot; 2] {
        [
            Pot::Storage(self.content, self.start_ms),
            Pot::ServingBudget(self.content, self.start_ms),
        ]
    }

    /// The last period completed by `now_ms`, if any (and within the paid time).
    fn completed_period(&self, now_ms: u64) -> Option<u32> {
        let done = now_ms.saturating_sub(self.start_ms) / self.period_ms.max(1);
        let done = u32::try_from(done).unwrap_or(u32::MAX).min(self.periods);
        done.checked_sub(1)
    }
}

/// What a publisher asks to pay for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageRequest {
    /// Who pays.
    pub owner: AccountId,
    /// The content.
    pub content: ContentId,
    /// Its size.
    pub size: u64,
    /// Copies wanted on nodes.
    pub replicas: u8,
    /// Days paid.
    pub days: u32,
    /// Set aside for anonymous fetches.
    pub serving_budget: u64,
}

/// What publishing cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageFunded {
    /// Escrowed for storage (the origin's share already taken).
    pub storage: u64,
    /// Set aside for anonymous fetches.
    pub serving_budget: u64,
    /// When the paid time ends.
    pub paid_until_ms: u64,
    /// False when the content was paid for before (nothing was charged now).
    pub new: bool,
}

/// Every paid content and the last period paid for it (in memory).
#[derive(Debug, Default)]
pub struct StorageBook {
    terms: HashMap<ContentId, StorageTerm>,
    paid_period: HashMap<ContentId, u32>,
}

impl StorageBook {
    /// The term of a content still paid for.
    pub fn term(&self, content: &ContentId) -> Option<&StorageTerm> {
        self.terms.get(content)
    }

    pub(super) fn insert(&mut self, term: StorageTerm) {
        self.terms.insert(term.content, term);
    }

    pub(super) fn end(&mut self, content: &ContentId) {
        self.terms.remove(content);
        self.paid_period.remove(content);
    }
}

impl Book {
    /// Escrows storage for `request` (and its serving budget); refused whole when the
    /// account cannot pay. A content already paid for is not charged again.
    pub fn fund_storage(
        &mut self,
        request: StorageRequest,
        now_ms: u64,
        ch: &mut Changes,
    ) -> Result<StorageFunded, MoneyError> {
        if let Some(term) = self.storage.term(&request.content) {
            return Ok(StorageFunded {
                storage: 0,
                serving_budget: 0,
                paid_until_ms: term.paid_until_ms(),
                new: false,
            });
        }
        let period_ms = self.config.storage_period_ms.max(1);
        let wanted_ms = u64::from(request.days.max(1)).saturating_mul(DAY_MS);
        let periods =
            u32::try_from(wanted_ms.div_ceil(period_ms)).map_err(|_| MoneyError::Overflow)?;
        let per_period = self
            .config
            .storage_rate
            .price(request.size, period_ms)
            .ok_or(MoneyError::Overflow)?
            .0;
        let per_copy = per_period
            .checked_mul(u64::from(periods))
            .ok_or(MoneyError::Overflow)?;
        let nodes = per_copy
            .checked_mul(u64::from(request.replicas))
            .and_then(|n| self.accounts.with_fee(n))
            .ok_or(MoneyError::Overflow)?;
        let escrow = nodes.checked_add(per_copy).ok_or(MoneyError::Overflow)?;
        let need = escrow
            .checked_add(request.serving_budget)
            .ok_or(MoneyError::Overflow)?;
        let have = self.accounts.account(&request.owner).balance;
        if have < need {
            return Err(MoneyError::Insufficient {
                need: MicroTokens(need),
                have: MicroTokens(have),
            });
        }
        let pot = Pot::Storage(request.content, now_ms);
        let note = format!("storage of {}", request.content);
        let escrow_move = Movement::Escrow {
            account: request.owner,
            pot,
            amount: escrow,
        };
        self.money(escrow_move, note, now_ms, ch)?;
        if request.serving_budget > 0 {
            let budget = Movement::Escrow {
                account: request.owner,
                pot: Pot::ServingBudget(request.content, now_ms),
                amount: request.serving_budget,
            };
            self.money(budget, String::new(), now_ms, ch)?;
        }
        let term = StorageTerm {
            content: request.content,
            owner: request.owner,
            size: request.size,
            replicas: request.replicas,
            start_ms: now_ms,
            period_ms,
            periods,
            per_period,
            fee_bps: self.config.fee_bps,
        };
        self.storage.insert(term);
        ch.ops.push(Op::Storage(term));
        Ok(StorageFunded {
            storage: escrow,
            serving_budget: request.serving_budget,
            paid_until_ms: term.paid_until_ms(),
            new: true,
        })
    }

    /// Pays the nodes in `holders` (those holding a verified copy now; at most the copies
    /// paid for) for the last period completed, once per node and period. Returns the
    /// receipts issued.
    pub fn pay_storage(
        &mut self,
        content: ContentId,
        holders: &[NodeId],
        now_ms: u64,
        ch: &mut Changes,
    ) -> usize {
        let Some(term) = self.storage.term(&content).copied() else {
            return 0;
        };
        let Some(period) = term.completed_period(now_ms) else {
            return 0;
        };
        if self.storage.paid_period.get(&content) == Some(&period) {
            return 0;
        }
        self.storage.paid_period.insert(content, period);
        let mut paid = 0;
        let credit = Credit::Storage { content, period };
        for node in holders.iter().take(usize::from(term.replicas)) {
            if self.ledger.credited_work(node, &credit) {
                continue;
            }
            let fee = super::accounts::fee_at(term.per_period, term.fee_bps);
            let pay = Movement::Pay {
                pot: Pot::Storage(content, term.start_ms),
                node: *node,
                amount: term.per_period,
                fee,
            };
            if term.per_period > 0
                && let Err(e) = self.money(pay, String::new(), now_ms, ch)
            {
                tracing::error!("storage of {content}: cannot pay {node}: {e}");
                continue;
            }
            let receipt =
                self.ledger
                    .issue_credit(*node, credit, MicroTokens(term.per_period), now_ms);
            ch.ops.push(Op::Receipt(Box::new(receipt.clone())));
            ch.out.push(Outbound::Receipt {
                node: *node,
                receipt: Box::new(receipt),
            });
            paid += 1;
        }
        paid
    }

    /// Ends the storage of every content whose paid time is over: what was not paid out
    /// goes back to its publisher, with what is left of its serving budget. Returns the
    /// contents to drop.
    pub fn end_storage(&mut self, now_ms: u64, ch: &mut Changes) -> Vec<ContentId> {
        let over: Vec<ContentId> = self
            .storage
            .terms
            .values()
            .filter(|t| t.paid_until_ms() <= now_ms)
            .map(|t| t.content)
            .collect();
        for content in &over {
            let Some(term) = self.storage.term(content).copied() else {
                continue;
            };
            // The origin's copy was kept the whole time: its share goes to the operator.
            if term.per_period > 0 {
                let origin = Movement::Pay {
                    pot: Pot::Storage(*content, term.start_ms),
                    node: self.ledger.issuer(),
                    amount: 0,
                    fee: term.per_period.saturating_mul(u64::from(term.periods)),
                };
                if let Err(e) = self.money(origin, "the origin copy".into(), now_ms, ch) {
                    tracing::error!("storage of {content}: cannot pay the origin: {e}");
                }
            }
            for pot in term.pots() {
                self.refund_held(pot, now_ms, ch);
            }
            self.storage.end(content);
            ch.ops.push(Op::StorageEnded { content: *content });
        }
        over
    }

    /// Undoes [`Book::fund_storage`] for a content that could not be stored after all:
    /// everything goes back.
    pub fn cancel_storage(&mut self, content: ContentId, now_ms: u64, ch: &mut Changes) {
        let Some(term) = self.storage.term(&content).copied() else {
            return;
        };
        for pot in term.pots() {
            self.refund_held(pot, now_ms, ch);
        }
        self.storage.end(&content);
        ch.ops.push(Op::StorageEnded { content });
    }

    /// The storage terms.
    pub fn storage(&self) -> &StorageBook {
        &self.storage
    }
}
