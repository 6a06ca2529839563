//! The work book: jobs, units, leases, results, reputations and the ledger, in memory and
//! pure (time and randomness are passed in). Every operation records its durable writes
//! and its messages in [`Changes`]; node events and dispatch are in `assign.rs`, results
//! and settling in `settle.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use idleshare_protocol::api::{
    JobResults, JobStatus, Reputation, UnitCounts, UnitResult, UnitState,
};
use idleshare_protocol::{ContentId, JobId, JobSpec, LeaseId, MicroTokens, NodeId, UnitId};

use idleshare_protocol::api::Pot;
use idleshare_protocol::auth::AccountId;
use idleshare_protocol::net::NetworkPrefix;

use super::WorkConfig;
use super::accounts::{Accounts, MoneyError, Movement};
use super::ops::{Changes, Op, Settlement};
use super::receipts::Ledger;
use super::schedule::WantQueue;
use super::validate::AgreementKey;

/// A job and its running totals.
#[derive(Debug, Clone)]
pub struct Job {
    /// What the customer asked for.
    pub spec: JobSpec,
    /// The account that pays for it (and alone may read it); `None` for a job stored
    /// before accounts existed, which no one may read.
    pub owner: Option<AccountId>,
    /// The rate and fee its escrow was taken at, and its results are paid at.
    pub price: JobPrice,
    /// When it was accepted (Unix ms).
    pub submitted_at_ms: u64,
    /// The network it was submitted from (`None`: unknown), so nodes on that network
    /// build no streak on it.
    pub network: Option<NetworkPrefix>,
    /// Its first unit; the others follow in input order.
    pub first_unit: UnitId,
    /// Units by state.
    pub counts: UnitCounts,
    /// Fuel of validated units.
    pub fuel: u64,
    /// Tokens paid for it.
    pub paid: u64,
}

/// What a job's validated fuel is paid at: fixed when it is submitted, so a rate or fee
/// changed later never overdraws its escrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobPrice {
    /// Micro-tokens per megafuel.
    pub rate: idleshare_protocol::CreditRate,
    /// The operator's fee in basis points.
    pub fee_bps: u32,
}

/// One result waiting for a quorum.
#[derive(Debug, Clone)]
pub(super) struct ResultRec {
    pub lease: LeaseId,
    pub node: NodeId,
    /// The network the node reported from (`None`: before a restart).
    pub network: Option<NetworkPrefix>,
    pub key: AgreementKey,
    pub message: String,
}

/// One unit: its replicas and results until settled, then its settlement.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Its job.
    pub job: JobId,
    /// Position of its input in the job.
    pub index: u32,
    /// Its input.
    pub input: ContentId,
    /// The input's length.
    pub input_len: u32,
    /// Agreeing results needed.
    pub quorum: u8,
    /// Where it stands.
    pub state: UnitState,
    /// How it was settled.
    pub settlement: Option<Settlement>,
    pub(super) issued: u32,
    pub(super) results: Vec<ResultRec>,
    pub(super) running: Vec<(LeaseId, NodeId)>,
    pub(super) abandoned_by: Vec<NodeId>,
    /// Nodes whose result was invalid on arrival (more fuel than the limit).
    pub(super) rejected: Vec<NodeId>,
    pub(super) queued: Option<u8>,
}

impl Unit {
    /// Whether `node` may get a replica by id: it runs none, reported none, abandoned none,
    /// was refused none (the network rule is the book's: [`Book::eligible`]).
    pub(super) fn open_to(&self, node: &NodeId) -> bool {
        self.state == UnitState::Pending
            && !self.running.iter().any(|(_, n)| n == node)
            && !self.results.iter().any(|r| r.node == *node)
            && !self.abandoned_by.contains(node)
            && !self.rejected.contains(node)
    }
}

/// Where a lease stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LeaseState {
    /// Counted as a running replica until it expires.
    Running,
    /// Expired, lost with its session, abandoned or revoked: a late result still counts
    /// while the unit is unsettled.
    Lapsed,
    /// Its result arrived.
    Reported,
}

#[derive(Debug, Clone)]
pub(super) struct Lease {
    pub unit: UnitId,
    pub node: NodeId,
    /// The network the node held it from (`None`: issued before a restart).
    pub network: Option<NetworkPrefix>,
    pub state: LeaseState,
    pub expires_at_ms: u64,
}

/// What the book knows about a node's appetite and record.
#[derive(Debug, Clone, Default)]
pub(super) struct NodeWork {
    pub connected: bool,
    pub contributing: bool,
    pub slots: u32,
    pub running: BTreeSet<LeaseId>,
    pub reputation: Reputation,
    /// The network of its current (or last) session.
    pub network: Option<NetworkPrefix>,
    /// Cores its latest budget grants (its leases are capped at this + 1).
    pub cores: u32,
    /// Leases it let expire since its last valid result (each halves its lease cap).
    pub missed: u32,
    /// Pending units it reported on: what a caught liar's unpaid results are.
    pub reported: BTreeSet<UnitId>,
}

/// The whole work state.
pub struct Book {
    pub(super) config: WorkConfig,
    pub(super) jobs: BTreeMap<JobId, Job>,
    /// Unit `n` at index `n - 1` (ids are dense).
    pub(super) units: Vec<Unit>,
    /// Lease `n` at index `n - 1` (ids are dense).
    pub(super) leases: Vec<Lease>,
    pub(super) nodes: HashMap<NodeId, NodeWork>,
    pub(super) wanting: WantQueue,
    pub(super) expiries: BTreeSet<(u64, LeaseId)>,
    pub(super) hungry: BTreeSet<NodeId>,
    pub(super) ledger: Ledger,
    pub(super) accounts: Accounts,
    pub(super) orders: super::orders::Orders,
    pub(super) storage: super::storage::StorageBook,
}

/// Why a job was refused by the book.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The spec's own fields are wrong.
    #[error("invalid job: {0}")]
    Invalid(#[from] idleshare_protocol::bounds::BoundsError),
    /// The account cannot pay for it.
    #[error(transparent)]
    Money(#[from] MoneyError),
    /// The escrow would not fit in a 64-bit amount.
    #[error("the job's escrow is too large: lower its fuel limit, replication or inputs")]
    TooExpensive,
    /// The input lengths do not match the inputs.
    #[error("{inputs} inputs but {lens} input lengths")]
    Lengths {
        /// Inputs in the spec.
        inputs: usize,
        /// Lengths given.
        lens: usize,
    },
}

impl Book {
    /// An empty book.
    pub fn new(config: WorkConfig, ledger: Ledger) -> Self {
        Self {
            accounts: Accounts::new(config.fee_bps),
            orders: super::orders::Orders::default(),
            storage: super::storage::StorageBook::default(),
            config,
            jobs: BTreeMap::new(),
            units: Vec::new(),
            leases: Vec::new(),
            nodes: HashMap::new(),
            wanting: WantQueue::default(),
            expiries: BTreeSet::new(),
            hungry: BTreeSet::new(),
            ledger,
        }
    }

    /// The settings it runs with.
    pub fn config(&self) -> &WorkConfig {
        &self.config
    }

    /// What a job costs at most: every replica of every unit using its whole fuel limit,
    /// plus the operator's fee on each payment; at least one micro-token when anything is
    /// charged at all, so an empty account cannot fill the store with free jobs.
    pub fn job_escrow(&self, spec: &JobSpec) -> Option<u64> {
        let per_result = self
            .accounts
            .with_fee(self.config.credit_rate.credit(spec.limits.fuel).0)?;
        let results = (spec.inputs.len() as u64).checked_mul(u64::from(spec.replication))?;
        let floor = u64::from(self.config.credit_rate.micro_tokens_per_megafuel > 0);
        per_result
            .checked_mul(results)
            .map(|total| total.max(floor))
            .filter(|total| *total <= super::accounts::MAX_TOTAL)
    }

    /// Today's price of compute.
    pub fn price_now(&self) -> JobPrice {
        JobPrice {
            rate: self.config.credit_rate,
            fee_bps: self.config.fee_bps,
        }
    }

    /// Applies a movement of tokens and records it; refused movements change nothing.
    pub fn money(
        &mut self,
        movement: Movement,
        note: String,
        now_ms: u64,
        ch: &mut Changes,
    ) -> Result<(), MoneyError> {
        self.accounts.apply(&movement)?;
        ch.ops.push(Op::Money {
            movement,
            at_ms: now_ms,
            note,
        });
        Ok(())
    }

    /// Gives back everything `pot` still holds to its owner (nothing if it holds nothing).
    pub(super) fn refund_held(&mut self, pot: Pot, now_ms: u64, ch: &mut Changes) {
        let held = self.accounts.pot(&pot).map_or(0, |p| p.held());
        if held == 0 {
            return;
        }
        let refund = Movement::Refund { pot, amount: held };
        if let Err(e) = self.money(refund, String::new(), now_ms, ch) {
            tracing::error!("{pot}: cannot refund what it holds: {e}");
        }
    }

    /// The accounts.
    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// Accepts a checked job paid by `owner`, sent from `network`: escrows its most possible
    /// cost, then makes one unit per input, each wanting `replication` replicas.
    pub fn submit(
        &mut self,
        owner: AccountId,
        network: Option<NetworkPrefix>,
        spec: JobSpec,
        input_lens: Vec<u32>,
        now_ms: u64,
        changes: &mut Changes,
    ) -> Result<(JobId, u64), SubmitError> {
        spec.validate().map_err(SubmitError::Invalid)?;
        if input_lens.len() != spec.inputs.len() {
            return Err(SubmitError::Lengths {
                inputs: spec.inputs.len(),
                lens: input_lens.len(),
            });
        }
        let id = JobId(self.jobs.keys().next_back().map_or(1, |j| j.0 + 1));
        let escrow = self.job_escrow(&spec).ok_or(SubmitError::TooExpensive)?;
        let movement = Movement::Escrow {
            account: owner,
            pot: Pot::Job(id),
            amount: escrow,
        };
        self.money(movement, String::new(), now_ms, changes)?;
        let first_unit = UnitId(self.units.len() as u64 + 1);
        let price = self.price_now();
        changes.ops.push(Op::Job {
            id,
            owner,
            price,
            network,
            spec: spec.clone(),
            submitted_at_ms: now_ms,
            first_unit,
            input_lens: input_lens.clone(),
        });
        let count = spec.inputs.len() as u64;
        for (index, (input, len)) in spec.inputs.iter().zip(&input_lens).enumerate() {
            self.push_unit(id, index as u32, *input, *len, spec.replication);
        }
        let mut job = new_job(Some(owner), spec, now_ms, first_unit);
        job.price = price;
        job.network = network;
        self.jobs.insert(id, job);
        Ok((id, count))
    }

    pub(super) fn push_unit(&mut self, job: JobId, index: u32, input: ContentId, len: u32, q: u8) {
        let id = UnitId(self.units.len() as u64 + 1);
        self.units.push(Unit {
            job,
            index,
            input,
            input_len: len,
            quorum: q,
            state: UnitState::Pending,
            settlement: None,
            issued: 0,
            results: Vec::new(),
            running: Vec::new(),
            abandoned_by: Vec::new(),
            rejected: Vec::new(),
            queued: None,
        });
        self.refresh(id);
    }

    /// A unit by id.
    pub fn unit(&self, id: UnitId) -> Option<&Unit> {
        let index = usize::try_from(id.0).ok()?.checked_sub(1)?;
        self.units.get(index)
    }

    pub(super) fn unit_mut(&mut self, id: UnitId) -> Option<&mut Unit> {
        let index = usize::try_from(id.0).ok()?.checked_sub(1)?;
        self.units.get_mut(index)
    }

    pub(super) fn lease(&self, id: LeaseId) -> Option<&Lease> {
        let index = usize::try_from(id.0).ok()?.checked_sub(1)?;
        self.leases.get(index)
    }

    pub(super) fn lease_mut(&mut self, id: LeaseId) -> Option<&mut Lease> {
        let index = usize::try_from(id.0).ok()?.checked_sub(1)?;
        self.leases.get_mut(index)
    }

    /// A job by id.
    pub fn job(&self, id: JobId) -> Option<&Job> {
        self.jobs.get(&id)
    }

    /// A job's progress.
    pub fn job_status(&self, id: JobId) -> Option<JobStatus> {
        let job = self.jobs.get(&id)?;
        let pot = self.accounts.pot(&Pot::Job(id));
        let of = |field: fn(&super::accounts::PotRec) -> u64| MicroTokens(pot.map_or(0, field));
        Some(JobStatus {
            escrowed: of(|p| p.escrowed),
            spent: of(|p| p.spent),
            refunded: of(|p| p.refunded),
            job: id,
            module: job.spec.module,
            entry: job.spec.entry.clone(),
            replication: job.spec.replication,
            submitted_at_ms: job.submitted_at_ms,
            units: job.counts,
            finished: job.counts.pending == 0,
            fuel: job.fuel,
            paid: MicroTokens(job.paid),
        })
    }

    /// A job's results in input order.
    pub fn job_results(&self, id: JobId) -> Option<JobResults> {
        let job = self.jobs.get(&id)?;
        let units = (0..job.counts.total)
            .filter_map(|i| {
                let unit_id = UnitId(job.first_unit.0 + i);
                let unit = self.unit(unit_id)?;
                let settled = unit.settlement.clone().unwrap_or_default();
                Some(UnitResult {
                    index: i,
                    unit: unit_id,
                    state: unit.state,
                    output: settled.output,
                    failure: settled.failure,
                    gave_up: settled.gave_up,
                    fuel: settled.fuel,
                })
            })
            .collect();
        Some(JobResults { job: id, units })
    }

    /// The owner of the job a lease belongs to (`None` for a job from before accounts).
    pub fn lease_job_owner(&self, lease: LeaseId) -> Option<AccountId> {
        let unit = self.unit(self.lease(lease)?.unit)?;
        self.jobs.get(&unit.job)?.owner
    }

    /// A node's reputation (zeros for a node never judged).
    pub fn reputation(&self, node: &NodeId) -> Reputation {
        self.nodes
            .get(node)
            .map(|n| n.reputation)
            .unwrap_or_default()
    }

    /// The ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Units waiting for a replica.
    pub fn wanting(&self) -> usize {
        self.wanting.len()
    }

    /// Whether `node` holds a running lease whose unit uses content `id` (as its module or
    /// its input): what it may fetch.
    pub fn may_fetch(&self, node: &NodeId, id: &ContentId) -> bool {
        let Some(work) = self.nodes.get(node) else {
            return false;
        };
        work.running.iter().any(|lease| {
            self.lease(*lease)
                .and_then(|l| self.unit(l.unit))
                .filter(|u| u.state == UnitState::Pending)
                .is_some_and(|u| {
                    u.input == *id || self.jobs.get(&u.job).is_some_and(|j| j.spec.module == *id)
                })
        })
    }

    pub(super) fn node_mut(&mut self, node: NodeId) -> &mut NodeWork {
        self.nodes.entry(node).or_default()
    }
}

pub(super) fn new_job(
    owner: Option<AccountId>,
    spec: JobSpec,
    submitted_at_ms: u64,
    first_unit: UnitId,
) -> Job {
    let total = spec.inputs.len() as u64;
    Job {
        owner,
        // Set by whoever knows it (submit, restore).
        price: JobPrice {
            rate: idleshare_protocol::CreditRate {
                micro_tokens_per_megafuel: 0,
            },
            fee_bps: 0,
        },
        spec,
        submitted_at_ms,
        network: None,
        first_unit,
        counts: UnitCounts {
            total,
            pending: total,
            ..UnitCounts::default()
        },
        fuel: 0,
        paid: 0,
    }
}
