//! What a decision changes: durable writes ([`Op`]) for the store and messages
//! ([`Outbound`]) for nodes, sent only once the writes are committed.

use std::sync::Arc;

use idleshare_protocol::api::{Reputation, UnitFailure, UnitState};
use idleshare_protocol::auth::AccountId;
use idleshare_protocol::{
    Assignment, ContentId, CoordinatorMessage, JobId, JobSpec, LeaseId, NodeId, SignedReceipt,
    UnitId, UnitReport,
};
use serde::{Deserialize, Serialize};

use super::accounts::Movement;

/// How a unit was settled (stored as JSON beside its state).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// The validated output.
    pub output: Option<ContentId>,
    /// The validated failure.
    pub failure: Option<UnitFailure>,
    /// Why it was given up.
    pub gave_up: Option<String>,
    /// Validated fuel.
    pub fuel: u64,
}

/// One durable change; a batch of them is written in one transaction.
#[derive(Debug, Clone)]
pub enum Op {
    /// A content-addressed blob (inserted once).
    Blob {
        /// Its id.
        id: ContentId,
        /// The account that may read it back: who uploaded it, or for an output the
        /// owner of its job.
        owner: AccountId,
        /// Its bytes.
        bytes: Arc<[u8]>,
    },
    /// A job and its units (one per input, numbered from `first_unit`).
    Job {
        /// The job.
        id: JobId,
        /// The account that pays for it.
        owner: AccountId,
        /// The rate and fee it is paid at.
        price: super::book::JobPrice,
        /// The network it was submitted from.
        network: Option<idleshare_protocol::net::NetworkPrefix>,
        /// Its spec.
        spec: JobSpec,
        /// When it was accepted.
        submitted_at_ms: u64,
        /// Its first unit.
        first_unit: UnitId,
        /// Length of each input.
        input_lens: Vec<u32>,
    },
    /// A unit's quorum changed (adaptive replication).
    Quorum {
        /// The unit.
        unit: UnitId,
        /// Its new quorum.
        quorum: u8,
    },
    /// A lease was issued.
    Lease {
        /// The lease.
        id: LeaseId,
        /// Its unit.
        unit: UnitId,
        /// The node holding it.
        node: NodeId,
        /// The network the node held it from (kept, so the one-replica-per-network rule
        /// still holds for it after a restart).
        network: Option<idleshare_protocol::net::NetworkPrefix>,
        /// When.
        issued_at_ms: u64,
    },
    /// A result arrived.
    Result {
        /// The lease it answers.
        lease: LeaseId,
        /// Its unit.
        unit: UnitId,
        /// The node.
        node: NodeId,
        /// The report.
        report: UnitReport,
        /// When.
        received_at_ms: u64,
    },
    /// A node gave a unit back.
    Abandon {
        /// The unit.
        unit: UnitId,
        /// The node.
        node: NodeId,
        /// Why.
        reason: String,
    },
    /// A unit was settled (or given up); its results were judged.
    Settle {
        /// The unit.
        unit: UnitId,
        /// Its final state.
        state: UnitState,
        /// The details.
        settlement: Settlement,
        /// Leases whose results were valid.
        valid: Vec<LeaseId>,
        /// Leases whose results were invalid.
        invalid: Vec<LeaseId>,
    },
    /// A node's reputation changed.
    Reputation {
        /// The node.
        node: NodeId,
        /// Its new record.
        reputation: Reputation,
    },
    /// A credit.
    Receipt(Box<SignedReceipt>),
    /// A result judged invalid on arrival (it claims more fuel than the job's limit).
    Invalid {
        /// The lease it answered.
        lease: LeaseId,
    },
    /// Tokens moved (see [`super::accounts`]).
    Money {
        /// What moved.
        movement: Movement,
        /// When (Unix ms).
        at_ms: u64,
        /// Why, for people (a deposit's payment reference).
        note: String,
    },
    /// An order limit was signed (its escrow is a [`Op::Money`] beside it).
    Order {
        /// The order.
        signed: Box<idleshare_protocol::order::SignedOrderLimit>,
        /// The serving rate and fee it pays at.
        price: super::orders::OrderPrice,
    },
    /// Storage of a content was paid for.
    Storage(super::storage::StorageTerm),
    /// Its paid time is over (unused escrow went back).
    StorageEnded {
        /// The content.
        content: ContentId,
    },
    /// An order limit was closed: its unused escrow went back.
    OrderClosed {
        /// Its serial.
        serial: u64,
    },
}

/// A message for a node, sent after the writes of the same decision are committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// A new lease (`inline_input` not filled yet: the sender reads small inputs).
    Assign {
        /// The node.
        node: NodeId,
        /// The assignment.
        assignment: Box<Assignment>,
        /// Length of its input.
        input_len: u32,
    },
    /// Stop a lease: its unit is settled.
    Revoke {
        /// The node.
        node: NodeId,
        /// The lease.
        lease: LeaseId,
    },
    /// A credit.
    Receipt {
        /// The node.
        node: NodeId,
        /// The receipt.
        receipt: Box<SignedReceipt>,
    },
}

impl Outbound {
    /// The node it is for.
    pub fn node(&self) -> NodeId {
        match self {
            Outbound::Assign { node, .. }
            | Outbound::Revoke { node, .. }
            | Outbound::Receipt { node, .. } => *node,
        }
    }

    /// The control-stream message.
    pub fn into_message(self) -> CoordinatorMessage {
        match self {
            Outbound::Assign { assignment, .. } => CoordinatorMessage::Assign(assignment),
            Outbound::Revoke { lease, .. } => CoordinatorMessage::Revoke { lease },
            Outbound::Receipt { receipt, .. } => CoordinatorMessage::Receipt(receipt),
        }
    }
}

/// What one decision produced.
#[derive(Debug, Default)]
pub struct Changes {
    /// Durable writes, in order.
    pub ops: Vec<Op>,
    /// Messages for nodes, in order.
    pub out: Vec<Outbound>,
}
