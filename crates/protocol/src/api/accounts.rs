//! Customer accounts and the money audit: `GET /v1/account` (signed) → [`AccountView`];
//! `POST /v1/accounts/{id}/deposits` (signed by the operator's key) with a [`DepositRequest`]
//! → [`Deposited`]; `GET /v1/ledger/audit` → [`AuditReport`] (public: totals only).

use serde::{Deserialize, Serialize};

use crate::auth::AccountId;
use crate::content::ContentId;
use crate::job::JobId;
use crate::receipt::MicroTokens;

/// Money set aside from one account for one purpose: a job, a serving order, a content's
/// serving budget or its storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pot {
    /// A compute job's escrow: units × replication × fuel limit × rate, plus the fee.
    Job(JobId),
    /// One serving order limit's escrow (by serial).
    Order(u64),
    /// What a publisher set aside to pay for anonymous fetches of its content (with the
    /// start of the storage term it belongs to, Unix ms).
    ServingBudget(ContentId, u64),
    /// Storage of a published content (origin and replicas) for one paid term, by the
    /// term's start (Unix ms).
    Storage(ContentId, u64),
}

impl std::fmt::Display for Pot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pot::Job(job) => write!(f, "{job}"),
            Pot::Order(serial) => write!(f, "order {serial}"),
            Pot::ServingBudget(id, _) => write!(f, "serving budget of {}", id.short()),
            Pot::Storage(id, _) => write!(f, "storage of {}", id.short()),
        }
    }
}

/// What one pot took, spent and gave back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PotView {
    /// Which pot.
    pub pot: Pot,
    /// Set aside from the balance.
    pub escrowed: MicroTokens,
    /// Paid out of it (to nodes and the operator's fee).
    pub spent: MicroTokens,
    /// Given back to the balance.
    pub refunded: MicroTokens,
    /// Still held.
    pub held: MicroTokens,
}

/// A customer's own account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    /// The account (its public key).
    pub account: AccountId,
    /// What it can spend now.
    pub balance: MicroTokens,
    /// Everything the operator deposited to it.
    pub deposited: MicroTokens,
    /// Held in escrow now.
    pub escrowed: MicroTokens,
    /// Paid to nodes and fees, ever.
    pub spent: MicroTokens,
    /// Per job and per content, newest first.
    pub pots: Vec<PotView>,
}

/// An operator's deposit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositRequest {
    /// How much.
    pub amount: MicroTokens,
    /// Why (a payment reference), kept with the row.
    #[serde(default)]
    pub note: String,
}

/// A recorded deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposited {
    /// The account.
    pub account: AccountId,
    /// How much.
    pub amount: MicroTokens,
    /// Its balance after.
    pub balance: MicroTokens,
}

/// The public audit: where every deposited micro-token is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// All deposits (from the movement rows).
    pub deposits: MicroTokens,
    /// Sum of all accounts' balances.
    pub balances: MicroTokens,
    /// Sum of all escrow still held.
    pub escrow: MicroTokens,
    /// Paid to nodes (from the movement rows).
    pub paid_to_nodes: MicroTokens,
    /// The operator's fees.
    pub fees: MicroTokens,
    /// Sum of every signed receipt (from the receipt rows).
    pub receipts_total: MicroTokens,
    /// Receipts signed.
    pub receipts: u64,
    /// Customer accounts.
    pub accounts: u64,
    /// Movement rows.
    pub movements: u64,
    /// deposits = balances + escrow + paid to nodes + fees, and paid to nodes = receipts.
    pub balanced: bool,
    /// What does not add up, if anything.
    pub problems: Vec<String>,
}
