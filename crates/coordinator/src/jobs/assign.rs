//! Node events and dispatch: sessions, appetite (`WantWork`), activity, lease expiry and
//! abandonment; every freed replica or new appetite triggers a dispatch. Who may get what
//! is decided by the rules in [`super::trust`].

use idleshare_protocol::api::UnitState;
use idleshare_protocol::net::NetworkPrefix;
use idleshare_protocol::{Assignment, LeaseId, NodeId, UnitId};
use rand::Rng;
use rand::seq::SliceRandom;

use super::book::{Book, Lease, LeaseState, Unit};
use super::ops::{Changes, Op, Outbound};
use super::schedule::tier;
use super::trust::{Record, goes_unreplicated, lease_cap, network_free};
use super::validate::{Decision, decide};

/// Most queued units one offer looks at, so a node holding replicas of many units waiting
/// for other nodes is not offered work in time quadratic in the queue.
const SCAN_LIMIT: usize = 4096;

/// Why a lease operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    /// No such lease was ever issued.
    #[error("{0} is unknown")]
    Unknown(LeaseId),
    /// The lease belongs to another node.
    #[error("{0} is not yours")]
    NotYours(LeaseId),
}

impl Book {
    /// A node's session began from `network`: no work until a heartbeat says it contributes
    /// and it asks. Leases it still runs belonged to an older session: they lapse
    /// (re-issued; a late result still counts).
    pub fn node_connected(
        &mut self,
        node: NodeId,
        network: Option<NetworkPrefix>,
        now_ms: u64,
        rng: &mut impl Rng,
        ch: &mut Changes,
    ) {
        self.node_mut(node).network = network;
        self.session_changed(node, true, now_ms, rng, ch);
    }

    /// A node's session ended: its running leases lapse and go to other nodes.
    pub fn node_disconnected(
        &mut self,
        node: NodeId,
        now_ms: u64,
        rng: &mut impl Rng,
        ch: &mut Changes,
    ) {
        self.session_changed(node, false, now_ms, rng, ch);
    }

    /// A session began or ended: the node's running leases lapse, and it gets nothing until
    /// it says it contributes and asks.
    fn session_changed(
        &mut self,
        node: NodeId,
        connected: bool,
        now_ms: u64,
        rng: &mut impl Rng,
        ch: &mut Changes,
    ) {
        self.release_running(node);
        let work = self.node_mut(node);
        work.connected = connected;
        work.contributing = false;
        work.slots = 0;
        self.update_hungry(node);
        self.dispatch(now_ms, rng, ch);
    }

    /// A heartbeat said whether the node contributes now, and with how many cores (only
    /// contributing nodes get work; the cores cap its leases).
    pub fn node_activity(
        &mut self,
        node: NodeId,
        contributing_cores: Option<u32>,
        now_ms: u64,
        rng: &mut impl Rng,
        ch: &mut Changes,
    ) {
        let work = self.node_mut(node);
        work.contributing = contributing_cores.is_some();
        work.cores = contributing_cores.unwrap_or(0);
        work.slots = work.slots.min(free_leases(work));
        self.update_hungry(node);
        self.dispatch(now_ms, rng, ch);
    }

    /// The node can take `slots` more units (replacing its previous count), but never more
    /// than its lease cap allows beside the leases it holds: asking again gets no more.
    pub fn want_work(
        &mut self,
        node: NodeId,
        slots: u32,
        now_ms: u64,
        rng: &mut impl Rng,
        ch: &mut Changes,
    ) {
        let work = self.node_mut(node);
        work.slots = slots.min(free_leases(work));
        self.update_hungry(node);
        self.dispatch(now_ms, rng, ch);
    }

    /// The node gives a lease back; after `max_abandons` distinct nodes the unit is given up.
    pub fn abandon(
        &mut self,
        node: NodeId,
        lease: LeaseId,
        reason: &str,
        now_ms: u64,
        rng: &mut impl Rng,
        ch: &mut Changes,
    ) -> Result<(), LeaseError> {
        let held = self.lease(lease).ok_or(LeaseError::Unknown(lease))?;
        if held.node != node {
            return Err(LeaseError::NotYours(lease));
        }
        let (unit_id, state) = (held.unit, held.state);
        if state == LeaseState::Reported {
            return Ok(());
        }
        self.lapse(lease);
        self.count_abandon(unit_id, node, reason, now_ms, ch);
        self.dispatch(now_ms, rng, ch);
        Ok(())
    }

    /// Counts `node` giving `unit_id` up (once per node); after `max_abandons` distinct
    /// nodes the unit is given up.
    fn count_abandon(
        &mut self,
        unit_id: UnitId,
        node: NodeId,
        reason: &str,
        now_ms: u64,
        ch: &mut Changes,
    ) {
        let max = usize::from(self.config.max_abandons);
        let Some(unit) = self
            .unit_mut(unit_id)
            .filter(|u| u.state == UnitState::Pending)
        else {
            return;
        };
        if !unit.abandoned_by.contains(&node) {
            unit.abandoned_by.push(node);
            let reason = idleshare_protocol::work::clip_message(reason);
            ch.ops.push(Op::Abandon {
                unit: unit_id,
                node,
                reason,
            });
        }
        if unit.abandoned_by.len() >= max {
            let why = format!(
                "abandoned by {} nodes (last: {})",
                unit.abandoned_by.len(),
                idleshare_protocol::work::clip_message(reason)
            );
            self.give_up(unit_id, why, now_ms, ch);
        } else {
            self.refresh(unit_id);
        }
    }

    /// Lapses every lease whose expiry is at or before `now_ms`; returns how many. An
    /// expired lease counts as an abandon by its node, and halves the node's lease cap
    /// until its next valid result.
    pub fn expire(&mut self, now_ms: u64, rng: &mut impl Rng, ch: &mut Changes) -> usize {
        let due: Vec<LeaseId> = self
            .expiries
            .range(..=(now_ms, LeaseId(u64::MAX)))
            .map(|&(_, lease)| lease)
            .collect();
        for lease in &due {
            let Some((unit, node)) = self.lease(*lease).map(|l| (l.unit, l.node)) else {
                continue;
            };
            self.lapse(*lease);
            let work = self.node_mut(node);
            work.missed = work.missed.saturating_add(1);
            work.slots = work.slots.min(free_leases(work));
            self.update_hungry(node);
            self.count_abandon(unit, node, "lease expired", now_ms, ch);
        }
        if !due.is_empty() {
            self.dispatch(now_ms, rng, ch);
        }
        due.len()
    }

    /// Offers wanting units to every hungry node (connected, contributing, free slots), the
    /// nodes in random order (an id sorting first gains nothing). Runs after every event
    /// that frees a replica or adds appetite; call it after [`Book::submit`].
    pub fn dispatch(&mut self, now_ms: u64, rng: &mut impl Rng, ch: &mut Changes) {
        if self.wanting.is_empty() {
            return;
        }
        let mut hungry: Vec<NodeId> = self.hungry.iter().copied().collect();
        hungry.shuffle(rng);
        for node in hungry {
            if self.wanting.is_empty() {
                return;
            }
            let Some(work) = self.nodes.get(&node) else {
                continue;
            };
            let (slots, network) = (work.slots as usize, work.network);
            let spread = self.config.one_replica_per_network;
            let eligible = |unit: UnitId| {
                let unit = &self.units[unit.0 as usize - 1];
                unit.open_to(&node) && (!spread || network_free(network, self.networks(unit)))
            };
            let picked = self.wanting.pick(slots, SCAN_LIMIT, eligible);
            for unit in picked {
                self.assign(unit, node, now_ms, rng, ch);
            }
        }
    }

    /// The networks a unit's replicas are on, running or reported.
    fn networks<'a>(&'a self, unit: &'a Unit) -> impl Iterator<Item = Option<NetworkPrefix>> + 'a {
        let running = unit
            .running
            .iter()
            .map(|(lease, _)| self.lease(*lease).and_then(|l| l.network));
        running.chain(unit.results.iter().map(|r| r.network))
    }

    fn assign(
        &mut self,
        unit_id: UnitId,
        node: NodeId,
        now_ms: u64,
        rng: &mut impl Rng,
        ch: &mut Changes,
    ) {
        let lease = LeaseId(self.leases.len() as u64 + 1);
        let reputation = self.reputation(&node);
        let record = Record {
            valid: reputation.valid,
            streak: reputation.consecutive_valid,
        };
        let network = self.nodes.get(&node).and_then(|n| n.network);
        let (vetting, min_streak) = (self.config.vetting_results, self.config.adaptive_streak);
        let lease_ms = self.config.lease_ms;
        let Some(unit) = self.unit_mut(unit_id) else {
            return;
        };
        if unit.issued == 0
            && unit.quorum > 1
            && goes_unreplicated(record, vetting, min_streak, rng)
        {
            unit.quorum = 1;
            ch.ops.push(Op::Quorum {
                unit: unit_id,
                quorum: 1,
            });
        }
        unit.issued += 1;
        unit.running.push((lease, node));
        let (job_id, input, input_len) = (unit.job, unit.input, unit.input_len);
        let expires_at_ms = now_ms.saturating_add(lease_ms);
        self.leases.push(Lease {
            unit: unit_id,
            node,
            network,
            state: LeaseState::Running,
            expires_at_ms,
        });
        self.expiries.insert((expires_at_ms, lease));
        let work = self.node_mut(node);
        work.running.insert(lease);
        work.slots = work.slots.saturating_sub(1);
        self.update_hungry(node);
        ch.ops.push(Op::Lease {
            id: lease,
            unit: unit_id,
            node,
            network,
            issued_at_ms: now_ms,
        });
        if let Some(job) = self.jobs.get(&job_id) {
            let assignment = Assignment {
                lease,
                unit: unit_id,
                job: job_id,
                module: job.spec.module,
                entry: job.spec.entry.clone(),
                input,
                inline_input: None,
                limits: job.spec.limits,
            };
            ch.out.push(Outbound::Assign {
                node,
                assignment: Box::new(assignment),
                input_len,
            });
        }
        self.refresh(unit_id);
    }

    /// A running lease stops counting as a replica (expired, lost, abandoned, revoked).
    pub(super) fn lapse(&mut self, lease: LeaseId) {
        let Some(held) = self
            .lease_mut(lease)
            .filter(|l| l.state == LeaseState::Running)
        else {
            return;
        };
        held.state = LeaseState::Lapsed;
        let (unit_id, node, expires) = (held.unit, held.node, held.expires_at_ms);
        self.expiries.remove(&(expires, lease));
        if let Some(work) = self.nodes.get_mut(&node) {
            work.running.remove(&lease);
        }
        if let Some(unit) = self.unit_mut(unit_id) {
            unit.running.retain(|(l, _)| *l != lease);
        }
        self.refresh(unit_id);
    }

    fn release_running(&mut self, node: NodeId) {
        let running: Vec<LeaseId> = self.node_mut(node).running.iter().copied().collect();
        for lease in running {
            self.lapse(lease);
        }
    }

    fn update_hungry(&mut self, node: NodeId) {
        let hungry = self
            .nodes
            .get(&node)
            .is_some_and(|w| w.connected && w.contributing && w.slots > 0);
        if hungry {
            self.hungry.insert(node);
        } else {
            self.hungry.remove(&node);
        }
    }

    /// Puts a unit where it belongs in the want queue (or out of it).
    pub(super) fn refresh(&mut self, unit_id: UnitId) {
        let extra = usize::from(self.config.extra_results);
        let Some(unit) = self.unit_mut(unit_id) else {
            return;
        };
        let new = (unit.state == UnitState::Pending)
            .then(|| {
                let keys: Vec<_> = unit.results.iter().map(|r| r.key).collect();
                let max = usize::from(unit.quorum) + extra;
                match decide(&keys, unit.quorum, max, unit.running.len()) {
                    Decision::Wait { wanted } if wanted > 0 => Some(tier(!keys.is_empty())),
                    _ => None,
                }
            })
            .flatten();
        let old = unit.queued.take();
        unit.queued = new;
        self.wanting.place(unit_id, old, new);
    }
}

/// Units `work` may still be offered: its lease cap less the leases it holds.
fn free_leases(work: &super::book::NodeWork) -> u32 {
    let held = u32::try_from(work.running.len()).unwrap_or(u32::MAX);
    lease_cap(work.cores, work.missed).saturating_sub(held)
}
