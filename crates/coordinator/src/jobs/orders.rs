//! Serving paid through order limits: the book signs an order only after escrowing its
//! ceiling from the payer, pays a node only for a client receipt that matches an open
//! order (client, node, content, serial), each serial's bytes once and never past the
//! ceiling, and closes each order after it expires, giving back what was not used.
//! Pure: the time is handed in; the ledger holds the signing key.

use std::collections::{BTreeSet, HashMap};

use idleshare_protocol::api::Pot;
use idleshare_protocol::auth::AccountId;
use idleshare_protocol::cache::ServiceReceipt;
use idleshare_protocol::order::{OrderLimit, SignedOrderLimit};
use idleshare_protocol::{ContentId, MicroTokens, NodeId};
use rand::Rng;

use super::accounts::{MoneyError, Movement};
use super::book::Book;
use super::ops::{Changes, Op, Outbound};

/// How long after its expiry an order still takes claims (receipts a node could not
/// forward before, for example across a reconnect).
pub const CLAIM_GRACE_MS: u64 = 10 * 60 * 1000;

/// The open orders.
#[derive(Debug, Default)]
pub struct Orders {
    open: HashMap<u64, OrderLimit>,
    closing: BTreeSet<(u64, u64)>,
}

impl Orders {
    /// An open order.
    pub fn get(&self, serial: u64) -> Option<&OrderLimit> {
        self.open.get(&serial)
    }

    /// Orders open now.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// Adds an order (issued now or restored).
    pub(super) fn insert(&mut self, limit: OrderLimit) {
        let closes = limit.expires_at_ms.saturating_add(CLAIM_GRACE_MS);
        self.closing.insert((closes, limit.serial));
        self.open.insert(limit.serial, limit);
    }

    /// Forgets a closed order (its pot, kept by the accounts, keeps its serial from
    /// being issued again).
    pub(super) fn note_closed(&mut self, serial: u64) {
        if let Some(limit) = self.open.remove(&serial) {
            let closes = limit.expires_at_ms.saturating_add(CLAIM_GRACE_MS);
            self.closing.remove(&(closes, serial));
        }
    }
}

/// Who pays for an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payer {
    /// An account's own balance.
    Account(AccountId),
    /// A publisher's serving budget for the content (its owner's money).
    Budget(ContentId),
}

/// What an order is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRequest {
    /// Who pays.
    pub payer: Payer,
    /// The key that will sign service receipts.
    pub client: AccountId,
    /// The node that may serve.
    pub node: NodeId,
    /// The content.
    pub content: ContentId,
    /// The ceiling.
    pub max_bytes: u64,
    /// When it expires (Unix ms).
    pub expires_at_ms: u64,
}

/// Why a service receipt was not paid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderRefused {
    /// No open order has this serial.
    #[error("no open order limit has serial {0} (never issued, or closed)")]
    Unknown(u64),
    /// The receipt names another client, node or content than its order.
    #[error("the receipt does not match order {0} (client, node or content differ)")]
    Mismatch(u64),
    /// The receipt was signed after the order expired.
    #[error("the receipt was signed after order {0} expired")]
    Expired(u64),
}

impl Book {
    /// What an order with a ceiling of `max_bytes` escrows: the bytes' price and its fee.
    pub fn order_escrow(&self, max_bytes: u64) -> Option<u64> {
        let price = self.config.serving_rate.credit(max_bytes).0;
        self.accounts.with_fee(price)
    }

    /// Escrows the order's ceiling from its payer and signs it; refused when the payer
    /// cannot cover it.
    pub fn issue_order(
        &mut self,
        request: OrderRequest,
        now_ms: u64,
        rng: &mut impl Rng,
        ch: &mut Changes,
    ) -> Result<SignedOrderLimit, MoneyError> {
        let escrow = self
            .order_escrow(request.max_bytes)
            .ok_or(MoneyError::Overflow)?;
        // Random, so an order for a customer cannot be told from a spot check's; below
        // 2^63, so it is stored as SQLite's signed integer as it is.
        let serial = loop {
            let serial: u64 = rng.random::<u64>() >> 1;
            let pot = Pot::Order(serial);
            if serial != 0 && self.orders.get(serial).is_none() && self.accounts.pot(&pot).is_none()
            {
                break serial;
            }
        };
        let account = match request.payer {
            Payer::Account(account) => account,
            Payer::Budget(content) => {
                let start = self.storage.term(&content).map_or(0, |t| t.start_ms);
                let budget = Pot::ServingBudget(content, start);
                let rec = *self
                    .accounts
                    .pot(&budget)
                    .ok_or(MoneyError::NoPot(budget))?;
                if rec.held() < escrow {
                    return Err(MoneyError::PotShort {
                        pot: budget,
                        held: MicroTokens(rec.held()),
                        need: MicroTokens(escrow),
                    });
                }
                if escrow > 0 {
                    let back = Movement::Refund {
                        pot: budget,
                        amount: escrow,
                    };
                    self.money(back, format!("to order {serial}"), now_ms, ch)?;
                }
                rec.owner
            }
        };
        let movement = Movement::Escrow {
            account,
            pot: Pot::Order(serial),
            amount: escrow,
        };
        self.money(movement, String::new(), now_ms, ch)?;
        let limit = OrderLimit {
            issuer: self.ledger.issuer(),
            client: request.client,
            node: request.node,
            content: request.content,
            serial,
            max_bytes: request.max_bytes,
            expires_at_ms: request.expires_at_ms,
        };
        let signed = self.ledger.sign_order(limit);
        self.orders.insert(limit);
        ch.ops.push(Op::Order(Box::new(signed.clone())));
        Ok(signed)
    }

    /// Pays the node named in a (signature-checked) service receipt for the bytes it adds
    /// under its order; `Ok(None)` when it adds nothing.
    pub fn credit_serving(
        &mut self,
        claim: &ServiceReceipt,
        now_ms: u64,
        ch: &mut Changes,
    ) -> Result<Option<MicroTokens>, OrderRefused> {
        let serial = claim.session;
        let order = *self
            .orders
            .get(serial)
            .ok_or(OrderRefused::Unknown(serial))?;
        if (order.client, order.node, order.content) != (claim.client, claim.node, claim.content) {
            return Err(OrderRefused::Mismatch(serial));
        }
        if claim.signed_at_ms > order.expires_at_ms {
            return Err(OrderRefused::Expired(serial));
        }
        let bytes = self.ledger.new_serving_bytes(claim, order.max_bytes);
        if bytes == 0 {
            return Ok(None);
        }
        let amount = self.config.serving_rate.credit(bytes).0;
        let fee = self.accounts.fee(amount);
        if amount > 0 || fee > 0 {
            let pay = Movement::Pay {
                pot: Pot::Order(serial),
                node: claim.node,
                amount,
                fee,
            };
            if let Err(e) = self.money(pay, String::new(), now_ms, ch) {
                tracing::error!("order {serial}: cannot pay {}: {e}", claim.node);
                return Ok(None);
            }
        }
        let Some(receipt) = self.ledger.issue_serving(claim, order.max_bytes, now_ms) else {
            return Ok(None);
        };
        let paid = receipt.receipt.amount;
        ch.ops.push(Op::Receipt(Box::new(receipt.clone())));
        ch.out.push(Outbound::Receipt {
            node: claim.node,
            receipt: Box::new(receipt),
        });
        Ok(Some(paid))
    }

    /// Closes every order whose claim time is over: what it did not pay goes back to its
    /// payer's balance. Returns how many closed.
    pub fn close_orders(&mut self, now_ms: u64, ch: &mut Changes) -> usize {
        let due: Vec<(u64, u64)> = self
            .orders
            .closing
            .iter()
            .take_while(|(closes, _)| *closes <= now_ms)
            .copied()
            .collect();
        for (_, serial) in &due {
            let pot = Pot::Order(*serial);
            let held = self.accounts.pot(&pot).map_or(0, |p| p.held());
            if held > 0
                && let Err(e) = self.money(
                    Movement::Refund { pot, amount: held },
                    String::new(),
                    now_ms,
                    ch,
                )
            {
                tracing::error!("order {serial}: cannot refund: {e}");
            }
            self.orders.note_closed(*serial);
            ch.ops.push(Op::OrderClosed { serial: *serial });
        }
        due.len()
    }

    /// An order limit that escrows and pays nothing (its serial is never recorded, so a
    /// receipt under it is refused): for fills between nodes, which storage pays, and for
    /// spot checks, which must look like any customer's fetch.
    pub fn unpaid_order(&self, request: OrderRequest, serial: u64) -> SignedOrderLimit {
        self.ledger.sign_order(OrderLimit {
            issuer: self.ledger.issuer(),
            client: request.client,
            node: request.node,
            content: request.content,
            serial,
            max_bytes: request.max_bytes,
            expires_at_ms: request.expires_at_ms,
        })
    }

    /// The open orders.
    pub fn orders(&self) -> &Orders {
        &self.orders
    }
}
