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

/// What an order's bytes are paid at: fixed when it is signed, so a rate or fee changed
/// later never overdraws its escrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderPrice {
    /// Micro-tokens per GiB.
    pub rate: idleshare_protocol::ServingRate,
    /// The operator's fee in basis points.
    pub fee_bps: u32,
}

/// The open orders.
#[derive(Debug, Default)]
pub struct Orders {
    open: HashMap<u64, (OrderLimit, OrderPrice)>,
    closing: BTreeSet<(u64, u64)>,
}

impl Orders {
    /// An open order.
    pub fn get(&self, serial: u64) -> Option<&OrderLimit> {
        self.open.get(&serial).map(|(limit, _)| limit)
    }

    /// Adds an order (issued now or restored).
    pub(super) fn insert(&mut self, limit: OrderLimit, price: OrderPrice) {
        let closes = limit.expires_at_ms.saturating_add(CLAIM_GRACE_MS);
        self.closing.insert((closes, limit.serial));
        self.open.insert(limit.serial, (limit, price));
    }

    /// Forgets a closed order (its pot, kept by the accounts, keeps its serial from
    /// being issued again).
    pub(super) fn note_closed(&mut self, serial: u64) {
        if let Some((limit, _)) = self.open.remove(&serial) {
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
    /// What an order with a ceiling of `max_bytes` escrows: the bytes' price and its fee,
    /// and at least one micro-token, so no order (and no row) is free to ask for.
    pub fn order_escrow(&self, max_bytes: u64) -> Option<u64> {
        let price = self.config.serving_rate.credit(max_bytes).0;
        self.accounts.with_fee(price).map(|escrow| escrow.max(1))
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
        let pot = Pot::Order(serial);
        let movement = match request.payer {
            Payer::Account(account) => Movement::Escrow {
                account,
                pot,
                amount: escrow,
            },
            Payer::Budget(content) => {
                let start = self.storage.term(&content).map_or(0, |t| t.start_ms);
                Movement::Transfer {
                    from: Pot::ServingBudget(content, start),
                    to: pot,
                    amount: escrow,
                }
            }
        };
        if let Movement::Transfer { from, .. } = movement
            && self.accounts.pot(&from).is_none()
        {
            return Err(MoneyError::NoPot(from));
        }
        self.money(movement, String::new(), now_ms, ch)?;
        let limit = self.order_limit(&request, serial);
        let signed = self.ledger.sign_order(limit);
        let price = OrderPrice {
            rate: self.config.serving_rate,
            fee_bps: self.config.fee_bps,
        };
        self.orders.insert(limit, price);
        ch.ops.push(Op::Order {
            signed: Box::new(signed.clone()),
            price,
        });
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
        let (order, price) = *self
            .orders
            .open
            .get(&serial)
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
        let amount = price.rate.credit(bytes).0;
        let fee = super::accounts::fee_at(amount, price.fee_bps);
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
            self.return_order_escrow(*serial, now_ms, ch);
            self.orders.note_closed(*serial);
            ch.ops.push(Op::OrderClosed { serial: *serial });
        }
        due.len()
    }

    /// What a closed order did not pay goes back where it came from: to the publisher's
    /// serving budget while that content's storage term lasts, else to its owner's balance.
    fn return_order_escrow(&mut self, serial: u64, now_ms: u64, ch: &mut Changes) {
        let pot = Pot::Order(serial);
        let Some(rec) = self.accounts.pot(&pot).copied() else {
            return;
        };
        let budget = rec.source.filter(|source| match source {
            Pot::ServingBudget(content, start) => self
                .storage
                .term(content)
                .is_some_and(|term| term.start_ms == *start),
            _ => false,
        });
        match budget {
            Some(budget) if rec.held() > 0 => {
                let back = Movement::Transfer {
                    from: pot,
                    to: budget,
                    amount: rec.held(),
                };
                if let Err(e) = self.money(back, String::new(), now_ms, ch) {
                    tracing::error!("order {serial}: cannot return to {budget}: {e}");
                }
            }
            _ => self.refund_held(pot, now_ms, ch),
        }
    }

    /// An order limit that escrows and pays nothing (its serial is never recorded, so a
    /// receipt under it is refused): for fills between nodes, which storage pays, and for
    /// spot checks, which must look like any customer's fetch.
    pub fn unpaid_order(&self, request: OrderRequest, serial: u64) -> SignedOrderLimit {
        self.ledger.sign_order(self.order_limit(&request, serial))
    }

    /// The order limit `request` asks for, under `serial`, issued by this coordinator.
    fn order_limit(&self, request: &OrderRequest, serial: u64) -> OrderLimit {
        OrderLimit {
            issuer: self.ledger.issuer(),
            client: request.client,
            node: request.node,
            content: request.content,
            serial,
            max_bytes: request.max_bytes,
            expires_at_ms: request.expires_at_ms,
        }
    }
}
