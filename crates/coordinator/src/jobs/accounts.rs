//! Customer accounts and escrow: where every token is, pure and exact.
//!
//! Tokens enter only as operator deposits and leave only as payments to nodes plus the
//! operator's fee. In between they sit in an account's balance or in a [`Pot`] escrowed
//! from it (a job, a serving order, a serving budget, storage). Every change is one
//! [`Movement`], applied by [`Accounts::apply`] — the same function when it happens and
//! when the rows are replayed after a restart — and written as one row. Amounts are
//! `u64` micro-tokens with checked arithmetic: a movement that would overflow or overdraw
//! is refused whole, never wrapped or clipped.

use std::collections::HashMap;

use idleshare_protocol::api::{AccountView, Pot, PotView};
use idleshare_protocol::auth::AccountId;
use idleshare_protocol::{MicroTokens, NodeId};
use serde::{Deserialize, Serialize};

/// One change of where tokens are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Movement {
    /// The operator recorded money received: new tokens on `account`.
    Deposit {
        /// The account.
        account: AccountId,
        /// How much.
        amount: u64,
    },
    /// From `account`'s balance into `pot` (which it then owns).
    Escrow {
        /// The account.
        account: AccountId,
        /// The pot.
        pot: Pot,
        /// How much.
        amount: u64,
    },
    /// From `pot` back to its owner's balance.
    Refund {
        /// The pot.
        pot: Pot,
        /// How much.
        amount: u64,
    },
    /// From one pot to another of the same owner (a publisher's serving budget funding an
    /// order, and what the order did not use going back); creates `to` if needed.
    Transfer {
        /// Where it comes from.
        from: Pot,
        /// Where it goes.
        to: Pot,
        /// How much.
        amount: u64,
    },
    /// From `pot` to `node` (the amount of a signed receipt) and the operator (`fee`).
    Pay {
        /// The pot.
        pot: Pot,
        /// The node paid.
        node: NodeId,
        /// What the node gets.
        amount: u64,
        /// What the operator gets.
        fee: u64,
    },
}

/// Why a movement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The account has less than the movement needs.
    #[error("insufficient balance: need {need}, have {have}")]
    Insufficient {
        /// What was needed.
        need: MicroTokens,
        /// What the account has.
        have: MicroTokens,
    },
    /// The pot holds less than the movement takes.
    #[error("{pot} holds {held}, not the {need} asked")]
    PotShort {
        /// The pot.
        pot: Pot,
        /// What it holds.
        held: MicroTokens,
        /// What was asked.
        need: MicroTokens,
    },
    /// No such pot.
    #[error("{0} does not exist")]
    NoPot(Pot),
    /// The pot already exists (escrow is taken once per pot).
    #[error("{0} already exists")]
    PotExists(Pot),
    /// A transfer from a pot to itself.
    #[error("a transfer from {0} to itself")]
    SamePot(Pot),
    /// A transfer between pots of different owners.
    #[error("{0} and {1} belong to different accounts")]
    OtherOwner(Pot, Pot),
    /// A zero amount (nothing to record).
    #[error("a movement of nothing")]
    Zero,
    /// A total would exceed what a u64 (and the database's i64) can hold.
    #[error("amount too large: a total would exceed {} micro-tokens", i64::MAX)]
    Overflow,
}

/// The largest total anywhere: what SQLite's signed 64-bit integers hold.
pub const MAX_TOTAL: u64 = i64::MAX as u64;

fn add(a: u64, b: u64) -> Result<u64, MoneyError> {
    a.checked_add(b)
        .filter(|sum| *sum <= MAX_TOTAL)
        .ok_or(MoneyError::Overflow)
}

/// One account's record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountRec {
    /// Spendable now.
    pub balance: u64,
    /// Deposited ever.
    pub deposited: u64,
    /// Spent ever (payments and fees).
    pub spent: u64,
}

/// One pot's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PotRec {
    /// Whose money it is.
    pub owner: AccountId,
    /// Taken in.
    pub escrowed: u64,
    /// Paid out (nodes and fees).
    pub spent: u64,
    /// Given back.
    pub refunded: u64,
    /// Order of creation (for listing newest first).
    pub opened: u64,
    /// The pot it was first funded from, when a transfer created it.
    pub source: Option<Pot>,
}

impl PotRec {
    /// Still held.
    pub fn held(&self) -> u64 {
        self.escrowed - self.spent - self.refunded
    }
}

/// Sums for the audit, each from the records (not from running totals).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MoneyTotals {
    /// Deposits.
    pub deposits: u128,
    /// Balances.
    pub balances: u128,
    /// Escrow held.
    pub escrow: u128,
    /// Paid to nodes.
    pub paid: u128,
    /// Fees.
    pub fees: u128,
    /// Accounts.
    pub accounts: u64,
    /// Movements applied.
    pub movements: u64,
}

impl MoneyTotals {
    /// Whether every deposited token is accounted for.
    pub fn balanced(&self) -> bool {
        self.deposits == self.balances + self.escrow + self.paid + self.fees
    }
}

/// Every account and pot.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    fee_bps: u32,
    accounts: HashMap<AccountId, AccountRec>,
    pots: HashMap<Pot, PotRec>,
    deposits: u64,
    paid: u64,
    fees: u64,
    movements: u64,
}

impl Accounts {
    /// No accounts; the operator takes `fee_bps` basis points on top of each payment.
    pub fn new(fee_bps: u32) -> Self {
        Self {
            fee_bps,
            ..Self::default()
        }
    }

    /// The fee on a payment of `amount` at today's rate (rounded down).
    pub fn fee(&self, amount: u64) -> u64 {
        fee_at(amount, self.fee_bps)
    }

    /// `amount` plus its fee, or `None` past [`MAX_TOTAL`].
    pub fn with_fee(&self, amount: u64) -> Option<u64> {
        add(amount, self.fee(amount)).ok()
    }

    /// The fee rate in basis points.
    pub fn fee_bps(&self) -> u32 {
        self.fee_bps
    }

    /// An account's record (zeros for one never seen).
    pub fn account(&self, account: &AccountId) -> AccountRec {
        self.accounts.get(account).copied().unwrap_or_default()
    }

    /// A pot's record.
    pub fn pot(&self, pot: &Pot) -> Option<&PotRec> {
        self.pots.get(pot)
    }

    /// Applies one movement, or changes nothing and says why.
    pub fn apply(&mut self, movement: &Movement) -> Result<(), MoneyError> {
        match *movement {
            Movement::Deposit { account, amount } => {
                nonzero(amount)?;
                let rec = self.account(&account);
                let deposits = add(self.deposits, amount)?;
                let balance = add(rec.balance, amount)?;
                let deposited = add(rec.deposited, amount)?;
                self.deposits = deposits;
                self.accounts.insert(
                    account,
                    AccountRec {
                        balance,
                        deposited,
                        ..rec
                    },
                );
            }
            Movement::Escrow {
                account,
                pot,
                amount,
            } => {
                if self.pots.contains_key(&pot) {
                    return Err(MoneyError::PotExists(pot));
                }
                let rec = self.account(&account);
                if rec.balance < amount {
                    return Err(MoneyError::Insufficient {
                        need: MicroTokens(amount),
                        have: MicroTokens(rec.balance),
                    });
                }
                self.accounts.insert(
                    account,
                    AccountRec {
                        balance: rec.balance - amount,
                        ..rec
                    },
                );
                let opened = self.movements;
                self.pots.insert(
                    pot,
                    PotRec {
                        owner: account,
                        escrowed: amount,
                        spent: 0,
                        refunded: 0,
                        opened,
                        source: None,
                    },
                );
            }
            Movement::Refund { pot, amount } => {
                nonzero(amount)?;
                let rec = self.take_from(pot, amount)?;
                let owner = self.account(&rec.owner);
                let balance = add(owner.balance, amount)?;
                self.accounts
                    .insert(rec.owner, AccountRec { balance, ..owner });
                self.pots.insert(
                    pot,
                    PotRec {
                        refunded: rec.refunded + amount,
                        ..rec
                    },
                );
            }
            Movement::Transfer { from, to, amount } => {
                nonzero(amount)?;
                if from == to {
                    return Err(MoneyError::SamePot(from));
                }
                let out = self.take_from(from, amount)?;
                let into = match self.pots.get(&to) {
                    Some(existing) if existing.owner != out.owner => {
                        return Err(MoneyError::OtherOwner(from, to));
                    }
                    Some(existing) => PotRec {
                        escrowed: add(existing.escrowed, amount)?,
                        ..*existing
                    },
                    None => PotRec {
                        owner: out.owner,
                        escrowed: amount,
                        spent: 0,
                        refunded: 0,
                        opened: self.movements,
                        source: Some(from),
                    },
                };
                self.pots.insert(
                    from,
                    PotRec {
                        refunded: out.refunded + amount,
                        ..out
                    },
                );
                self.pots.insert(to, into);
            }
            Movement::Pay {
                pot, amount, fee, ..
            } => {
                let total = add(amount, fee)?;
                nonzero(total)?;
                let rec = self.take_from(pot, total)?;
                let owner = self.account(&rec.owner);
                let (paid, fees, spent) = (
                    add(self.paid, amount)?,
                    add(self.fees, fee)?,
                    add(owner.spent, total)?,
                );
                self.paid = paid;
                self.fees = fees;
                self.accounts
                    .insert(rec.owner, AccountRec { spent, ..owner });
                self.pots.insert(
                    pot,
                    PotRec {
                        spent: rec.spent + total,
                        ..rec
                    },
                );
            }
        }
        self.movements += 1;
        Ok(())
    }

    /// The pot, checked to hold at least `amount`.
    fn take_from(&self, pot: Pot, amount: u64) -> Result<PotRec, MoneyError> {
        let rec = *self.pots.get(&pot).ok_or(MoneyError::NoPot(pot))?;
        if rec.held() < amount {
            return Err(MoneyError::PotShort {
                pot,
                held: MicroTokens(rec.held()),
                need: MicroTokens(amount),
            });
        }
        Ok(rec)
    }

    /// The sums the audit compares, each recomputed from the records.
    pub fn totals(&self) -> MoneyTotals {
        MoneyTotals {
            deposits: u128::from(self.deposits),
            balances: self.accounts.values().map(|a| u128::from(a.balance)).sum(),
            escrow: self.pots.values().map(|p| u128::from(p.held())).sum(),
            paid: u128::from(self.paid),
            fees: u128::from(self.fees),
            accounts: self.accounts.len() as u64,
            movements: self.movements,
        }
    }

    /// What `account` sees of itself.
    pub fn view(&self, account: &AccountId) -> AccountView {
        let rec = self.account(account);
        let mut pots: Vec<(&Pot, &PotRec)> = self
            .pots
            .iter()
            .filter(|(_, p)| p.owner == *account)
            .collect();
        pots.sort_by(|a, b| b.1.opened.cmp(&a.1.opened));
        let escrowed = pots.iter().map(|(_, p)| p.held()).sum();
        AccountView {
            account: *account,
            balance: MicroTokens(rec.balance),
            deposited: MicroTokens(rec.deposited),
            escrowed: MicroTokens(escrowed),
            spent: MicroTokens(rec.spent),
            pots: pots.into_iter().map(|(pot, p)| pot_view(*pot, p)).collect(),
        }
    }
}

/// A pot as the API shows it.
pub fn pot_view(pot: Pot, rec: &PotRec) -> PotView {
    PotView {
        pot,
        escrowed: MicroTokens(rec.escrowed),
        spent: MicroTokens(rec.spent),
        refunded: MicroTokens(rec.refunded),
        held: MicroTokens(rec.held()),
    }
}

/// The fee on a payment of `amount` at `fee_bps` basis points (rounded down). Payments use
/// the rate their escrow was taken at, so a fee raised later never overdraws a pot.
pub fn fee_at(amount: u64, fee_bps: u32) -> u64 {
    let fee = u128::from(amount) * u128::from(fee_bps) / 10_000;
    u64::try_from(fee).unwrap_or(u64::MAX)
}

fn nonzero(amount: u64) -> Result<(), MoneyError> {
    if amount == 0 {
        Err(MoneyError::Zero)
    } else {
        Ok(())
    }
}
