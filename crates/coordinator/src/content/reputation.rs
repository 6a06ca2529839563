//! How a node has served cached content under spot checks, and how much of the cache
//! quota it claims the planner believes (pure).
//!
//! A node's cache quota is its own claim: a stranger can claim terabytes from a machine
//! with none, take every pin offered, and hold nothing. So the planner believes a claim
//! only as far as spot checks confirm it: an unproven node is believed for
//! [`UNPROVEN_QUOTA`] (enough for small content, so it can be checked at all), and every
//! check passed beyond those failed doubles that, up to what the node claims. A check the
//! node answers "busy", or that finds no copy, or no answer, counts against it: a node that
//! claims space but is never there when checked is not believed.

use serde::{Deserialize, Serialize};

/// The quota believed of a node no spot check has confirmed yet (256 MiB): small content
/// fits, so it can be pinned there and checked.
pub const UNPROVEN_QUOTA: u64 = 256 << 20;

/// Most doublings of [`UNPROVEN_QUOTA`] checks can earn (256 MiB × 2¹⁶ = 16 TiB: more than
/// any claim a home PC makes, and far from overflowing).
pub const MAX_DOUBLINGS: u64 = 16;

/// How a node has served cached content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheReputation {
    /// Spot checks it passed.
    pub checks_passed: u64,
    /// Spot checks it failed without bad bytes (unreachable, stalled, no copy there).
    pub checks_failed: u64,
    /// Spot checks it answered "busy" while its policy allowed serving.
    #[serde(default)]
    pub checks_busy: u64,
    /// Times it was caught serving bytes that do not match the content id.
    pub bad_data: u64,
    /// No pins and no listing until then (Unix ms).
    pub banned_until_ms: Option<u64>,
    /// Time to first byte at the last passed check, in microseconds.
    pub last_ttfb_us: Option<u64>,
}

/// What a spot check found, as the reputation counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOutcome {
    /// Good bytes, the first one after this many microseconds.
    Passed {
        /// Time to first byte.
        ttfb_us: u64,
    },
    /// No answer, a stall, or no copy where one was stored.
    Failed,
    /// The node answered "busy".
    Busy,
}

impl CacheReputation {
    /// Whether the node is banned at `now_ms`.
    pub fn banned(&self, now_ms: u64) -> bool {
        self.banned_until_ms.is_some_and(|until| until > now_ms)
    }

    /// Counts a spot check.
    pub fn record(&mut self, outcome: CheckOutcome) {
        match outcome {
            CheckOutcome::Passed { ttfb_us } => {
                self.checks_passed += 1;
                self.last_ttfb_us = Some(ttfb_us);
            }
            CheckOutcome::Failed => self.checks_failed += 1,
            CheckOutcome::Busy => self.checks_busy += 1,
        }
    }

    /// Checks passed beyond those failed or answered busy (never below 0).
    pub fn net_passes(&self) -> u64 {
        let against = self.checks_failed.saturating_add(self.checks_busy);
        self.checks_passed.saturating_sub(against)
    }

    /// The part of a `claimed` cache quota the planner believes: [`UNPROVEN_QUOTA`]
    /// doubled once per net pass (at most [`MAX_DOUBLINGS`] times), never more than the
    /// claim. (A banned node gets no pins at all; that is the ban's to decide.)
    pub fn believed_quota(&self, claimed: u64) -> u64 {
        let doublings = self.net_passes().min(MAX_DOUBLINGS) as u32;
        claimed.min(UNPROVEN_QUOTA << doublings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;

    fn reputation(passed: u64, failed: u64, busy: u64) -> CacheReputation {
        CacheReputation {
            checks_passed: passed,
            checks_failed: failed,
            checks_busy: busy,
            ..CacheReputation::default()
        }
    }

    #[test]
    fn believed_quota_table() {
        // (passed, failed, busy, claimed, believed)
        let cases = [
            // Unproven: small content only, whatever is claimed.
            (0, 0, 0, 16 << 40, 256 * MIB),
            (0, 0, 0, 100 * MIB, 100 * MIB),
            (0, 0, 0, 0, 0),
            // Each net pass doubles what is believed, up to the claim.
            (1, 0, 0, 16 << 40, 512 * MIB),
            (2, 0, 0, 16 << 40, GIB),
            (5, 0, 0, 16 << 40, 8 * GIB),
            (5, 0, 0, 3 * GIB, 3 * GIB),
            // Failures and busy answers cancel passes.
            (5, 2, 0, 16 << 40, 2 * GIB),
            (5, 0, 3, 16 << 40, GIB),
            (5, 1, 3, 16 << 40, 512 * MIB),
            (5, 3, 3, 16 << 40, 256 * MIB),
            // Always busy when checked: never believed beyond the unproven quota.
            (0, 0, 1_000, 16 << 40, 256 * MIB),
            (10, 0, 1_000, 16 << 40, 256 * MIB),
            // Many passes: capped, no overflow.
            (1_000, 0, 0, u64::MAX, UNPROVEN_QUOTA << MAX_DOUBLINGS),
            (u64::MAX, 0, 0, u64::MAX, UNPROVEN_QUOTA << MAX_DOUBLINGS),
            (u64::MAX, u64::MAX, u64::MAX, u64::MAX, 256 * MIB),
        ];
        for (passed, failed, busy, claimed, believed) in cases {
            let got = reputation(passed, failed, busy).believed_quota(claimed);
            assert_eq!(
                got, believed,
                "passed {passed}, failed {failed}, busy {busy}, claimed {claimed}"
            );
        }
    }

    #[test]
    fn checks_are_counted_by_outcome() {
        let mut reputation = CacheReputation::default();
        reputation.record(CheckOutcome::Passed { ttfb_us: 700 });
        reputation.record(CheckOutcome::Passed { ttfb_us: 300 });
        reputation.record(CheckOutcome::Failed);
        reputation.record(CheckOutcome::Busy);
        reputation.record(CheckOutcome::Busy);
        assert_eq!(
            (
                reputation.checks_passed,
                reputation.checks_failed,
                reputation.checks_busy
            ),
            (2, 1, 2)
        );
        assert_eq!(reputation.last_ttfb_us, Some(300));
        assert_eq!(reputation.net_passes(), 0);
    }

    #[test]
    fn rows_stored_before_busy_answers_were_counted_still_load() {
        let old = r#"{"checks_passed":3,"checks_failed":1,"bad_data":0,"banned_until_ms":null,"last_ttfb_us":null}"#;
        let reputation: CacheReputation = serde_json::from_str(old).unwrap();
        assert_eq!(reputation.checks_busy, 0);
        assert_eq!(reputation.net_passes(), 2);
    }
}
