//! `idleshare bench coordinator`: the assign → result → validate → credit path through the
//! coordinator's work engine with its real durable SQLite store, driven by simulated nodes.
//!
//! The nodes are tasks in this process that call the engine directly (no QUIC): each asks
//! for work, answers every assignment honestly as soon as it arrives, waits for the
//! acknowledgement (the commit), and asks again. Replication 2 with adaptive replication
//! off, so every unit costs two results and two receipts, every result paid from the job's
//! escrow. It runs three times in one process:
//! - the old rules: every node on one network, commits at `synchronous=NORMAL`;
//! - the new rules: each node on its own network, so every replica passes the network
//!   check, the lease cap and the random order, still at NORMAL;
//! - what ships: the new rules with commits that survive a power cut (`synchronous=FULL`),
//!   and reports the ratios. The baseline is the same rows written straight to a fresh store
//!   in large transactions: what SQLite alone allows here.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use ed25519_dalek::SigningKey;
use idleshare_base::db::Durability;
use idleshare_coordinator::jobs::accounts::Movement;
use idleshare_coordinator::jobs::ops::{Op, Outbound, Settlement};
use idleshare_coordinator::jobs::{Engine, WorkConfig};
use idleshare_protocol::api::{Reputation, UnitState};
use idleshare_protocol::net::NetworkPrefix;
use idleshare_protocol::receipt::verify_chain;
use idleshare_protocol::{
    ContentId, JobLimits, JobSpec, LeaseId, NodeId, SignedReceipt, UnitId, UnitOutcome, UnitReport,
};
use tokio::sync::mpsc;

use super::process::ScratchDir;
use super::stats::print_json_line;
use crate::args::CoordinatorBenchArgs;

/// The run's sizes.
struct Args {
    units: usize,
    nodes: usize,
    slots: u32,
}

/// Fuel each simulated unit reports: 1e8, a unit of a few tenths of a second.
const FUEL: u64 = 100_000_000;
/// How long the whole run may take before it is called stuck.
const RUN_TIMEOUT: Duration = Duration::from_secs(300);
/// Units per transaction in the baseline.
const BASELINE_BATCH: usize = 1000;

pub async fn run(args: CoordinatorBenchArgs) -> anyhow::Result<()> {
    let args = Args {
        units: args.units as usize,
        nodes: args.nodes as usize,
        slots: args.slots,
    };
    anyhow::ensure!(
        args.nodes >= 2,
        "--nodes must be at least 2 (replication 2)"
    );
    anyhow::ensure!(
        args.units > 0 && args.slots > 0,
        "--units and --slots must be positive"
    );
    let scratch = ScratchDir::new("coordinator")?;
    println!(
        "bench coordinator: {} units, replication 2, {} simulated nodes x {} slots, SQLite in {}",
        args.units,
        args.nodes,
        args.slots,
        scratch.path().display()
    );
    println!("(nodes are in-process tasks calling the engine: no QUIC, no sandbox)");
    println!(
        "(every result pays from the job's escrow with a movement row; old rules: one network, synchronous=NORMAL; new rules: a network per node; shipped: new rules, synchronous=FULL)"
    );
    let old = measure(&scratch, &args, Variant::OldRules).await?;
    let new = measure(&scratch, &args, Variant::NewRules).await?;
    let on = measure(&scratch, &args, Variant::Shipped).await?;
    for (variant, run) in [
        (Variant::OldRules, &old),
        (Variant::NewRules, &new),
        (Variant::Shipped, &on),
    ] {
        println!(
            "(b) {}: settled and credited {} units in {:.2} s: {:.0} units/s, {:.0} receipts/s, {} transactions",
            variant.label(),
            args.units,
            run.seconds,
            run.units_per_s,
            run.receipts.len() as f64 / run.seconds,
            run.commits
        );
    }
    let per_s = |run: &Measured| run.units_per_s.max(1e-9);
    let rules_ratio = new.units_per_s / per_s(&old);
    let full_ratio = on.units_per_s / per_s(&new);
    let shipped_ratio = on.units_per_s / per_s(&old);
    println!("(b) new rules / old rules: {rules_ratio:.2} (goal >= 0.9)");
    println!("(b) synchronous FULL / NORMAL: {full_ratio:.2} (the cost of surviving a power cut)");
    println!("(b) shipped / old: {shipped_ratio:.2}");
    let checked = audit(&on.engine, &on.receipts, args.units).await?;
    println!("(c) audit: {checked}");
    let (baseline_units_per_s, rows) = baseline(&scratch, &on.receipts, args.units)?;
    println!(
        "(d) baseline, the same {rows} rows straight into a fresh store ({BASELINE_BATCH} units per transaction): {baseline_units_per_s:.0} units/s"
    );
    for run in [&old, &new, &on] {
        run.engine.shutdown();
    }
    print_json_line(&serde_json::json!({
        "bench": "coordinator",
        "nodes": args.nodes,
        "slots": args.slots,
        "units": args.units,
        "replication": 2,
        "transport": "in-process (no QUIC)",
        "seconds": (on.seconds * 1000.0).round() / 1000.0,
        "units_per_s": on.units_per_s.round(),
        "units_per_s_old_rules": old.units_per_s.round(),
        "units_per_s_new_rules_normal": new.units_per_s.round(),
        "ratio_new_rules_to_old": (rules_ratio * 100.0).round() / 100.0,
        "ratio_full_to_normal": (full_ratio * 100.0).round() / 100.0,
        "ratio_shipped_to_old": (shipped_ratio * 100.0).round() / 100.0,
        "receipts_per_s": (on.receipts.len() as f64 / on.seconds).round(),
        "transactions": on.commits,
        "baseline_units_per_s": baseline_units_per_s.round(),
        "ratio_to_baseline": ((on.units_per_s / baseline_units_per_s.max(1e-9)) * 100.0).round() / 100.0,
        "audit_ok": true,
    }));
    Ok(())
}

/// One measured run.
struct Measured {
    engine: Arc<Engine>,
    receipts: Vec<SignedReceipt>,
    seconds: f64,
    units_per_s: f64,
    commits: u64,
}

/// The default price of compute, as the escrow-on run's jobs carry it.
fn on_engine_price() -> idleshare_coordinator::jobs::book::JobPrice {
    let config = WorkConfig::default();
    idleshare_coordinator::jobs::book::JobPrice {
        rate: config.credit_rate,
        fee_bps: config.fee_bps,
    }
}

/// The customer account that pays in the escrow-on run.
fn customer() -> NodeId {
    NodeId::from(SigningKey::from_bytes(&[9; 32]).verifying_key())
}

/// The rules and durability one run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// Before the Sybil rules: all nodes on one network, `synchronous=NORMAL`.
    OldRules,
    /// The Sybil rules (a network per node) at `synchronous=NORMAL`.
    NewRules,
    /// The Sybil rules at `synchronous=FULL`: what the coordinator runs.
    Shipped,
}

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Self::OldRules => "old rules",
            Self::NewRules => "new rules",
            Self::Shipped => "shipped (new rules, FULL)",
        }
    }

    fn durability(self) -> Durability {
        match self {
            Self::Shipped => Durability::PowerLoss,
            _ => Durability::ProcessCrash,
        }
    }

    /// The network simulated node `index` connects from.
    fn network(self, index: usize) -> Option<NetworkPrefix> {
        let [_, _, b, c] = (index as u32).to_be_bytes();
        match self {
            Self::OldRules => None,
            _ => Some(NetworkPrefix::V4([10, b, c])),
        }
    }
}

/// Submits and settles the whole job on a fresh engine under `variant`.
async fn measure(scratch: &ScratchDir, args: &Args, variant: Variant) -> anyhow::Result<Measured> {
    let config = WorkConfig {
        adaptive_streak: u64::MAX,
        one_replica_per_network: variant != Variant::OldRules,
        ..WorkConfig::default()
    };
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let file = format!("work-{variant:?}.db");
    let engine = Arc::new(
        Engine::open_seeded(
            &scratch.path().join(file),
            key,
            config,
            1,
            variant.durability(),
        )
        .context("cannot open the work store")?,
    );
    let (ticket, submit_took) = submit(&engine, args.units).await?;
    println!(
        "(a) {}: job of {} units accepted and committed in {:.2} s (ticket {ticket})",
        variant.label(),
        args.units,
        submit_took.as_secs_f64()
    );
    let run = simulate(&engine, args, variant).await?;
    let seconds = run.took.as_secs_f64().max(1e-9);
    Ok(Measured {
        commits: engine.counters().commits.load(Ordering::Relaxed),
        engine,
        receipts: run.receipts,
        seconds,
        units_per_s: args.units as f64 / seconds,
    })
}

fn spec(units: usize) -> JobSpec {
    JobSpec {
        module: ContentId::of(b"bench module"),
        entry: "run".into(),
        inputs: (0..units as u64)
            .map(|i| ContentId::of(&i.to_le_bytes()))
            .collect(),
        limits: JobLimits::default(),
        replication: 2,
    }
}

async fn submit(engine: &Engine, units: usize) -> anyhow::Result<(u64, Duration)> {
    let started = Instant::now();
    let (submitted, ticket) = engine.apply(|book, _, ch| {
        let need = book.job_escrow(&spec(units)).unwrap_or(u64::MAX);
        if need > 0 {
            let deposit = Movement::Deposit {
                account: customer(),
                amount: need,
            };
            book.money(deposit, "bench".into(), 1, ch)?;
        }
        let network = Some(NetworkPrefix::V4([192, 0, 2]));
        Ok::<_, anyhow::Error>(book.submit(
            customer(),
            network,
            spec(units),
            vec![8; units],
            1,
            ch,
        )?)
    });
    submitted?;
    engine.wait_committed(ticket, RUN_TIMEOUT).await?;
    Ok((ticket, started.elapsed()))
}

fn node_id(index: usize) -> NodeId {
    let mut seed = [7u8; 32];
    seed[..8].copy_from_slice(&(index as u64).to_le_bytes());
    NodeId::from(SigningKey::from_bytes(&seed).verifying_key())
}

/// The honest answer for an input: deterministic, so replicas agree.
fn honest(lease: LeaseId, input: &ContentId) -> UnitReport {
    UnitReport {
        lease,
        fuel: FUEL,
        outcome: UnitOutcome::Output {
            id: ContentId::of(input.as_bytes()),
            len: 32,
        },
    }
}

struct Run {
    took: Duration,
    receipts: Vec<SignedReceipt>,
}

async fn simulate(engine: &Arc<Engine>, args: &Args, variant: Variant) -> anyhow::Result<Run> {
    let mut inboxes = HashMap::new();
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    for index in 0..args.nodes {
        let node = node_id(index);
        let (tx, rx) = mpsc::unbounded_channel();
        inboxes.insert(node, tx);
        let network = variant.network(index);
        tasks.spawn(simulated_node(
            engine.clone(),
            (node, network),
            args.slots,
            rx,
        ));
    }
    let router = tokio::spawn(route(engine.clone(), inboxes));
    let target = args.units as u64;
    let waited = tokio::time::timeout(RUN_TIMEOUT, async {
        let mut commits = engine.subscribe();
        while engine.counters().units_settled.load(Ordering::Relaxed) < target {
            let _ = commits.changed().await;
        }
        // The last receipts go out with the last commit.
        engine
            .wait_committed(engine.apply(|_, _, _| ()).1, RUN_TIMEOUT)
            .await
    })
    .await;
    let took = started.elapsed();
    waited.context("the run did not finish in time")??;
    tokio::time::sleep(Duration::from_millis(100)).await;
    router.abort();
    let mut receipts = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        receipts.extend(joined.context("simulated node")??);
    }
    Ok(Run { took, receipts })
}

/// Sends committed messages to the simulated nodes, in commit order.
async fn route(engine: Arc<Engine>, inboxes: HashMap<NodeId, mpsc::UnboundedSender<Outbound>>) {
    let mut commits = engine.subscribe();
    loop {
        let out = engine.take_committed_outbound();
        if out.is_empty() {
            if commits.changed().await.is_err() {
                return;
            }
            continue;
        }
        for message in out {
            if let Some(inbox) = inboxes.get(&message.node()) {
                let _ = inbox.send(message);
            }
        }
    }
}

/// One node: connects, contributes, answers each assignment and asks for more; returns its
/// receipts once its inbox closes.
async fn simulated_node(
    engine: Arc<Engine>,
    (node, network): (NodeId, Option<NetworkPrefix>),
    slots: u32,
    mut inbox: mpsc::UnboundedReceiver<Outbound>,
) -> anyhow::Result<Vec<SignedReceipt>> {
    // Cores one less than the slots: the lease cap (cores + 1) is then exactly the slots.
    let cores = slots.saturating_sub(1);
    engine.apply(|book, rng, ch| {
        book.node_connected(node, network, 2, rng, ch);
        book.node_activity(node, Some(cores), 2, rng, ch);
        book.want_work(node, slots, 2, rng, ch);
    });
    let free = Arc::new(AtomicU32::new(slots));
    let mut receipts = Vec::new();
    while let Some(message) = inbox.recv().await {
        match message {
            Outbound::Assign { assignment, .. } => {
                // "Want n" replaces the count, so two quick finishes can earn one extra
                // assignment: never let the count wrap below zero.
                let _ = free.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |f| {
                    Some(f.saturating_sub(1))
                });
                let (engine, free) = (engine.clone(), free.clone());
                tokio::spawn(async move {
                    let report = honest(assignment.lease, &assignment.input);
                    let (outcome, ticket) =
                        engine.apply(|book, rng, ch| book.report(node, &report, 3, rng, ch));
                    if outcome.is_ok() && engine.wait_committed(ticket, RUN_TIMEOUT).await.is_ok() {
                        let slots = free.fetch_add(1, Ordering::Relaxed) + 1;
                        engine.apply(|book, rng, ch| book.want_work(node, slots, 4, rng, ch));
                    }
                });
            }
            Outbound::Receipt { receipt, .. } => receipts.push(*receipt),
            Outbound::Revoke { .. } => {}
        }
    }
    Ok(receipts)
}

/// Ledger total = sum of receipts (memory and disk), every chain verifies, every unit was
/// credited exactly twice, to two different nodes, and the money audit balances: the
/// customer's deposit is exactly what the nodes got, the fees and the refund.
async fn audit(
    engine: &Engine,
    receipts: &[SignedReceipt],
    units: usize,
) -> anyhow::Result<String> {
    let summary = engine.read(|book| book.ledger().summary());
    let stored = engine.store().stored_totals()?;
    let (disk_total, disk_count) = (stored.receipts_total, stored.receipts);
    let money = idleshare_coordinator::jobs::audit::audit(engine).await?;
    anyhow::ensure!(
        money.balanced,
        "the money audit fails: {:?}",
        money.problems
    );
    let customer = engine.read(|book| book.accounts().view(&customer()));
    anyhow::ensure!(
        customer.escrowed.0 == 0
            && customer.spent.0 + customer.balance.0 == customer.deposited.0
            && customer.spent.0 == money.paid_to_nodes.0 + money.fees.0,
        "the customer's account does not add up: {customer:?}"
    );
    let received: u64 = receipts.iter().map(|r| r.receipt.amount.0).sum();
    anyhow::ensure!(
        summary.total.0 == disk_total && disk_total == received,
        "ledger {} / store {disk_total} / receipts {received} differ",
        summary.total.0
    );
    anyhow::ensure!(
        disk_count == 2 * units as u64 && receipts.len() == 2 * units,
        "{disk_count} stored and {} delivered receipts for {units} units",
        receipts.len()
    );
    let mut per_node: HashMap<NodeId, Vec<&SignedReceipt>> = HashMap::new();
    let mut per_unit: HashMap<UnitId, Vec<NodeId>> = HashMap::new();
    for receipt in receipts {
        per_node
            .entry(receipt.receipt.node)
            .or_default()
            .push(receipt);
        let unit = receipt
            .receipt
            .work
            .unit()
            .context("a serving credit in a compute run")?;
        per_unit.entry(unit).or_default().push(receipt.receipt.node);
    }
    for (node, chain) in &per_node {
        verify_chain(chain.iter().copied(), &engine.issuer(), node)
            .with_context(|| format!("chain of {}", node.short()))?;
    }
    let twice = per_unit.values().all(|n| n.len() == 2 && n[0] != n[1]);
    anyhow::ensure!(
        per_unit.len() == units && twice,
        "a unit was not credited exactly twice"
    );
    let done = engine.read(|book| book.job_status(idleshare_protocol::JobId(1)));
    let done = done.map_or(0, |s| s.units.done);
    anyhow::ensure!(done == units as u64, "{done} of {units} units done");
    Ok(format!(
        "ok: ledger total {} tokens = sum of {} receipts (in memory, on disk, as delivered); {} chains verify; every unit credited once to each of its 2 nodes; money audit balanced (deposit {} = paid {} + fees {} + refunded {})",
        summary.total,
        receipts.len(),
        per_node.len(),
        money.deposits,
        money.paid_to_nodes,
        money.fees,
        customer.balance
    ))
}

/// Writes the run's rows (2 leases, 2 results, the settlement, 2 reputations, 2 receipts
/// per unit) straight into a fresh store; returns units/s and the row count.
fn baseline(
    scratch: &ScratchDir,
    receipts: &[SignedReceipt],
    units: usize,
) -> anyhow::Result<(f64, usize)> {
    let store = idleshare_coordinator::jobs::store::WorkStore::open(
        &scratch.path().join("baseline.db"),
        Durability::PowerLoss,
    )?;
    let mut by_unit: HashMap<UnitId, Vec<&SignedReceipt>> = HashMap::new();
    for receipt in receipts {
        let unit = receipt
            .receipt
            .work
            .unit()
            .context("a serving credit in a compute run")?;
        by_unit.entry(unit).or_default().push(receipt);
    }
    store.write(&[Op::Job {
        id: idleshare_protocol::JobId(1),
        owner: customer(),
        price: on_engine_price(),
        network: Some(NetworkPrefix::V4([192, 0, 2])),
        spec: spec(units),
        submitted_at_ms: 1,
        first_unit: UnitId(1),
        input_lens: vec![8; units],
    }])?;
    let mut rows = 0;
    let started = Instant::now();
    let mut batch = Vec::new();
    for unit in 1..=units as u64 {
        let unit_id = UnitId(unit);
        for (replica, receipt) in by_unit.get(&unit_id).into_iter().flatten().enumerate() {
            let node = receipt.receipt.node;
            let lease = LeaseId(unit * 2 + replica as u64);
            let report = honest(lease, &ContentId::of(&unit.to_le_bytes()));
            batch.push(Op::Lease {
                id: lease,
                unit: unit_id,
                node,
                network: Variant::Shipped.network(replica),
                issued_at_ms: 1,
            });
            batch.push(Op::Result {
                lease,
                unit: unit_id,
                node,
                report,
                received_at_ms: 1,
            });
            let reputation = Reputation {
                consecutive_valid: unit,
                valid: unit,
                invalid: 0,
            };
            batch.push(Op::Reputation { node, reputation });
            batch.push(Op::Receipt(Box::new((*receipt).clone())));
        }
        let settlement = Settlement {
            output: Some(ContentId::of(b"x")),
            fuel: FUEL,
            ..Settlement::default()
        };
        batch.push(Op::Settle {
            unit: unit_id,
            state: UnitState::Done,
            settlement,
            valid: vec![],
            invalid: vec![],
        });
        if (unit as usize).is_multiple_of(BASELINE_BATCH) || unit as usize == units {
            rows += batch.len();
            store.write(&batch)?;
            batch.clear();
        }
    }
    Ok((
        units as f64 / started.elapsed().as_secs_f64().max(1e-9),
        rows,
    ))
}
