//! Results and settling: a report is recorded once per (unit, node), the validator decides,
//! and a settled unit judges its results, pays the agreeing nodes with signed receipts and
//! revokes the replicas still running.

use idleshare_protocol::api::Pot;
use idleshare_protocol::api::{UnitFailure, UnitState};
use idleshare_protocol::{JobId, LeaseId, NodeId, UnitId, UnitOutcome, UnitReport, Verdict};
use rand::Rng;

use super::accounts::Movement;
use super::assign::LeaseError;
use super::book::{Book, LeaseState};
use super::ops::{Changes, Op, Outbound, Settlement};
use super::trust::builds_streak;
use super::validate::{AgreementKey, Decision, decide};

/// What became of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Recorded (and perhaps settled its unit).
    Counted,
    /// This node already reported on this unit: ignored.
    Duplicate,
    /// The unit is already settled: ignored.
    Settled,
}

impl Book {
    /// Checks that `lease` is `node`'s before its output is read; returns the largest output
    /// the job allows.
    pub fn check_report(&self, node: &NodeId, lease: LeaseId) -> Result<u32, LeaseError> {
        let held = self.lease(lease).ok_or(LeaseError::Unknown(lease))?;
        if held.node != *node {
            return Err(LeaseError::NotYours(lease));
        }
        let unit = self.unit(held.unit).ok_or(LeaseError::Unknown(lease))?;
        Ok(self
            .jobs
            .get(&unit.job)
            .map_or(0, |job| job.spec.limits.output_bytes))
    }

    /// Records `node`'s report (a late one for a lapsed lease still counts) and settles
    /// the unit when a quorum agrees.
    pub fn report(
        &mut self,
        node: NodeId,
        report: &UnitReport,
        now_ms: u64,
        rng: &mut impl Rng,
        ch: &mut Changes,
    ) -> Result<ReportOutcome, LeaseError> {
        self.check_report(&node, report.lease)?;
        let unit_id = self
            .lease(report.lease)
            .map(|l| l.unit)
            .ok_or(LeaseError::Unknown(report.lease))?;
        let Some(unit) = self.unit(unit_id) else {
            return Err(LeaseError::Unknown(report.lease));
        };
        if unit.state != UnitState::Pending {
            return Ok(ReportOutcome::Settled);
        }
        if unit.results.iter().any(|r| r.node == node) || unit.rejected.contains(&node) {
            return Ok(ReportOutcome::Duplicate);
        }
        let fuel_limit = self.jobs.get(&unit.job).map_or(0, |j| j.spec.limits.fuel);
        self.lapse(report.lease);
        if let Some(lease) = self.lease_mut(report.lease) {
            lease.state = LeaseState::Reported;
        }
        if report.fuel > fuel_limit {
            self.reject_over_limit(unit_id, node, report, now_ms, ch);
            self.dispatch(now_ms, rng, ch);
            return Ok(ReportOutcome::Counted);
        }
        let message = match &report.outcome {
            UnitOutcome::Failed { message, .. } => idleshare_protocol::work::clip_message(message),
            UnitOutcome::Output { .. } => String::new(),
        };
        let max = usize::from(self.config.extra_results);
        let work = self.node_mut(node);
        work.reported.insert(unit_id);
        let network = work.network;
        let Some(unit) = self.unit_mut(unit_id) else {
            return Err(LeaseError::Unknown(report.lease));
        };
        unit.results.push(super::book::ResultRec {
            lease: report.lease,
            node,
            network,
            key: report.agreement_key(),
            message,
        });
        ch.ops.push(result_op(unit_id, node, report, now_ms));
        let keys: Vec<AgreementKey> = unit.results.iter().map(|r| r.key).collect();
        let max = usize::from(unit.quorum) + max;
        match decide(&keys, unit.quorum, max, unit.running.len()) {
            Decision::Settle { key, agreeing, .. } => {
                self.settle(unit_id, key, &agreeing, now_ms, ch)
            }
            Decision::GiveUp(reason) => self.give_up(unit_id, reason, now_ms, ch),
            Decision::Wait { .. } => self.refresh(unit_id),
        }
        self.dispatch(now_ms, rng, ch);
        Ok(ReportOutcome::Counted)
    }

    /// A report claiming more fuel than the job allows is invalid on arrival: it can never
    /// agree with anything, its node is marked down and gets no other replica of the unit.
    /// Too many of them give the unit up.
    fn reject_over_limit(
        &mut self,
        unit_id: UnitId,
        node: NodeId,
        report: &UnitReport,
        now_ms: u64,
        ch: &mut Changes,
    ) {
        ch.ops.push(result_op(unit_id, node, report, now_ms));
        ch.ops.push(Op::Invalid {
            lease: report.lease,
        });
        let reputation = {
            let record = &mut self.node_mut(node).reputation;
            record.consecutive_valid = 0;
            record.invalid += 1;
            *record
        };
        ch.ops.push(Op::Reputation { node, reputation });
        let extra = usize::from(self.config.extra_results);
        let Some(unit) = self.unit_mut(unit_id) else {
            return;
        };
        unit.rejected.push(node);
        if unit.rejected.len() > extra {
            let reason = format!(
                "{} results claimed more fuel than the limit",
                unit.rejected.len()
            );
            self.give_up(unit_id, reason, now_ms, ch);
        } else {
            self.refresh(unit_id);
        }
        self.discard_unpaid(node, ch);
    }

    /// A node caught lying loses what it has not been paid yet: its results on units still
    /// waiting for a quorum are marked invalid and dropped (each unit wants another
    /// replica, and never from it). Its streak was reset where it was caught.
    fn discard_unpaid(&mut self, node: NodeId, ch: &mut Changes) {
        let reported = std::mem::take(&mut self.node_mut(node).reported);
        for unit_id in reported {
            let Some(unit) = self
                .unit_mut(unit_id)
                .filter(|u| u.state == UnitState::Pending)
            else {
                continue;
            };
            let Some(at) = unit.results.iter().position(|r| r.node == node) else {
                continue;
            };
            let dropped = unit.results.remove(at);
            unit.rejected.push(node);
            ch.ops.push(Op::Invalid {
                lease: dropped.lease,
            });
            tracing::info!(
                "{unit_id}: the result of {} is dropped: it was caught lying",
                node.short()
            );
            self.refresh(unit_id);
        }
    }

    /// Pays `node` for an agreed result of `unit_id`: `min(fuel, limit)` at the rate, plus
    /// the fee, out of the job's escrow; `None` if already paid or the escrow is short.
    fn pay_result(
        &mut self,
        node: NodeId,
        unit_id: UnitId,
        job_id: JobId,
        fuel: u64,
        now_ms: u64,
        ch: &mut Changes,
    ) -> Option<u64> {
        if self.ledger.credited(&node, unit_id) {
            return None;
        }
        let job = self.jobs.get(&job_id)?;
        let (limit, price) = (job.spec.limits.fuel, job.price);
        let amount = price.rate.credit(fuel.min(limit));
        let fee = super::accounts::fee_at(amount.0, price.fee_bps);
        let pay = Movement::Pay {
            pot: Pot::Job(job_id),
            node,
            amount: amount.0,
            fee,
        };
        if amount.0 > 0 || fee > 0 {
            if let Err(e) = self.money(pay, unit_id.to_string(), now_ms, ch) {
                tracing::error!("{unit_id}: cannot pay {node}: {e}");
                return None;
            }
        }
        let receipt = self.ledger.issue(node, unit_id, amount, now_ms)?;
        ch.ops.push(Op::Receipt(Box::new(receipt.clone())));
        ch.out.push(Outbound::Receipt {
            node,
            receipt: Box::new(receipt),
        });
        Some(amount.0)
    }

    /// Settles a unit on `key`: judges every result, pays the agreeing nodes, revokes the
    /// replicas still running.
    fn settle(
        &mut self,
        unit_id: UnitId,
        key: AgreementKey,
        agreeing: &[usize],
        now_ms: u64,
        ch: &mut Changes,
    ) {
        let Some(unit) = self.unit_mut(unit_id) else {
            return;
        };
        let results = std::mem::take(&mut unit.results);
        let (verdict, fuel) = key;
        let (state, settlement) = match verdict {
            Verdict::Output(id) => (
                UnitState::Done,
                Settlement {
                    output: Some(id),
                    fuel,
                    ..Settlement::default()
                },
            ),
            Verdict::Failed(kind) => {
                let message = agreeing
                    .first()
                    .map(|&i| results[i].message.clone())
                    .unwrap_or_default();
                let failure = Some(UnitFailure { kind, message });
                (
                    UnitState::Failed,
                    Settlement {
                        failure,
                        fuel,
                        ..Settlement::default()
                    },
                )
            }
        };
        let job_id = unit.job;
        let (owner, job_network) = self
            .jobs
            .get(&job_id)
            .map_or((None, None), |job| (job.owner, job.network));
        let (mut valid, mut invalid) = (Vec::new(), Vec::new());
        let mut liars = Vec::new();
        let mut paid = 0u64;
        for (index, result) in results.iter().enumerate() {
            let agrees = agreeing.contains(&index);
            let builds = builds_streak(result.node, result.network, owner, job_network);
            let reputation = {
                let work = self.node_mut(result.node);
                work.reported.remove(&unit_id);
                let record = &mut work.reputation;
                if agrees {
                    record.consecutive_valid += u64::from(builds);
                    record.valid += 1;
                    work.missed = 0;
                } else {
                    record.consecutive_valid = 0;
                    record.invalid += 1;
                    liars.push(result.node);
                }
                work.reputation
            };
            ch.ops.push(Op::Reputation {
                node: result.node,
                reputation,
            });
            if !agrees {
                invalid.push(result.lease);
                continue;
            }
            valid.push(result.lease);
            if let Some(amount) = self.pay_result(result.node, unit_id, job_id, fuel, now_ms, ch) {
                paid = paid.saturating_add(amount);
            }
        }
        if let Some(job) = self.jobs.get_mut(&job_id) {
            job.fuel = job.fuel.saturating_add(fuel);
            job.paid = job.paid.saturating_add(paid);
        }
        ch.ops.push(Op::Settle {
            unit: unit_id,
            state,
            settlement: settlement.clone(),
            valid,
            invalid,
        });
        self.close(unit_id, state, settlement, now_ms, ch);
        for liar in liars {
            self.discard_unpaid(liar, ch);
        }
    }

    /// Gives a unit up (no quorum possible, or abandoned by too many nodes); nobody is paid.
    pub(super) fn give_up(
        &mut self,
        unit_id: UnitId,
        reason: String,
        now_ms: u64,
        ch: &mut Changes,
    ) {
        let settlement = Settlement {
            gave_up: Some(reason),
            ..Settlement::default()
        };
        ch.ops.push(Op::Settle {
            unit: unit_id,
            state: UnitState::GaveUp,
            settlement: settlement.clone(),
            valid: Vec::new(),
            invalid: Vec::new(),
        });
        self.close(unit_id, UnitState::GaveUp, settlement, now_ms, ch);
    }

    /// Marks a unit settled, counts it in its job and revokes its running replicas.
    fn close(
        &mut self,
        unit_id: UnitId,
        state: UnitState,
        settlement: Settlement,
        now_ms: u64,
        ch: &mut Changes,
    ) {
        let Some(unit) = self.unit_mut(unit_id) else {
            return;
        };
        unit.state = state;
        unit.settlement = Some(settlement);
        let reporters: Vec<NodeId> = unit.results.drain(..).map(|r| r.node).collect();
        let running = std::mem::take(&mut unit.running);
        let job_id = unit.job;
        let mut finished = false;
        if let Some(job) = self.jobs.get_mut(&job_id) {
            count_settled(&mut job.counts, state);
            finished = job.counts.pending == 0;
        }
        if finished {
            // What the finished job's escrow did not pay goes back to its owner.
            self.refund_held(Pot::Job(job_id), now_ms, ch);
        }
        for (lease, node) in running {
            if let Some(held) = self.lease_mut(lease) {
                held.state = LeaseState::Lapsed;
                let expires = held.expires_at_ms;
                self.expiries.remove(&(expires, lease));
            }
            if let Some(work) = self.nodes.get_mut(&node) {
                work.running.remove(&lease);
            }
            ch.out.push(Outbound::Revoke { node, lease });
        }
        for node in reporters {
            if let Some(work) = self.nodes.get_mut(&node) {
                work.reported.remove(&unit_id);
            }
        }
        self.refresh(unit_id);
    }
}

/// The durable record of `node`'s report on a unit (valid or not, it is kept once).
fn result_op(unit: UnitId, node: NodeId, report: &UnitReport, now_ms: u64) -> Op {
    Op::Result {
        lease: report.lease,
        unit,
        node,
        report: report.clone(),
        received_at_ms: now_ms,
    }
}

/// Moves one unit from pending to `state` in a job's counts.
pub(super) fn count_settled(counts: &mut idleshare_protocol::api::UnitCounts, state: UnitState) {
    counts.pending = counts.pending.saturating_sub(1);
    match state {
        UnitState::Done => counts.done += 1,
        UnitState::Failed => counts.failed += 1,
        UnitState::GaveUp => counts.gave_up += 1,
        UnitState::Pending => counts.pending += 1,
    }
}
