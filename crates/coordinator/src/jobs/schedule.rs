//! The scheduler's queue, pure: in what order units are offered (whom they may go to, and
//! whether a trusted node may run one alone, is [`super::trust`]'s).
//!
//! Units wanting replicas wait in a [`WantQueue`] ordered by tier (units with results
//! waiting for a quorum first, so they settle and pay sooner), then by unit id (which
//! follows job order, so the oldest job goes first).

use std::collections::BTreeSet;

use idleshare_protocol::UnitId;

/// Tier of units that already have results waiting for a quorum.
pub const TIER_WAITING_QUORUM: u8 = 0;
/// Tier of units no node has answered yet.
pub const TIER_FRESH: u8 = 1;

/// Units that want at least one more replica, in the order they are offered.
#[derive(Debug, Default)]
pub struct WantQueue {
    queue: BTreeSet<(u8, UnitId)>,
}

impl WantQueue {
    /// Puts `unit` in `tier` (or takes it out with `None`), moving it from `old`.
    pub fn place(&mut self, unit: UnitId, old: Option<u8>, new: Option<u8>) {
        if old == new {
            return;
        }
        if let Some(tier) = old {
            self.queue.remove(&(tier, unit));
        }
        if let Some(tier) = new {
            self.queue.insert((tier, unit));
        }
    }

    /// Whether no unit wants a replica.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Units wanting replicas.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Up to `slots` units for a node, in queue order, skipping those `eligible` refuses
    /// (the node already holds a replica, reported, or abandoned the unit), looking at no
    /// more than `scan` queued units.
    pub fn pick(
        &self,
        slots: usize,
        scan: usize,
        mut eligible: impl FnMut(UnitId) -> bool,
    ) -> Vec<UnitId> {
        self.queue
            .iter()
            .take(scan)
            .map(|&(_, unit)| unit)
            .filter(|&unit| eligible(unit))
            .take(slots)
            .collect()
    }
}

/// The tier a unit waits in.
pub fn tier(has_results: bool) -> u8 {
    if has_results {
        TIER_WAITING_QUORUM
    } else {
        TIER_FRESH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_waiting_for_a_quorum_come_first_then_oldest() {
        let mut queue = WantQueue::default();
        queue.place(UnitId(5), None, Some(tier(false)));
        queue.place(UnitId(9), None, Some(tier(true)));
        queue.place(UnitId(1), None, Some(tier(false)));
        assert_eq!(
            queue.pick(10, 10, |_| true),
            vec![UnitId(9), UnitId(1), UnitId(5)]
        );
        assert_eq!(
            queue.pick(2, 10, |u| u != UnitId(9)),
            vec![UnitId(1), UnitId(5)]
        );
        assert_eq!(queue.pick(10, 1, |u| u != UnitId(9)), vec![], "scan bound");
        queue.place(UnitId(9), Some(tier(true)), None);
        assert_eq!(queue.len(), 2);
    }
}
