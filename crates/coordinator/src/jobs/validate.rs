//! The validator's decision for one unit, pure: group results by what replicas must agree on
//! (verdict and fuel), settle when one group reaches the quorum, give up when too many
//! results disagree, otherwise say how many more replicas to issue.

use idleshare_protocol::Verdict;

/// What replicas must agree on: the verdict and the fuel used.
pub type AgreementKey = (Verdict, u64);

/// What to do with a unit after its results changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No quorum yet: issue this many more replicas (0 while enough are running).
    Wait {
        /// Replicas to issue now.
        wanted: usize,
    },
    /// One key reached the quorum: the unit is settled.
    Settle {
        /// The agreed key.
        key: AgreementKey,
        /// Positions (in the results given) of the agreeing results.
        agreeing: Vec<usize>,
        /// Positions of the results that disagree: invalid.
        disagreeing: Vec<usize>,
    },
    /// No quorum is possible within the attempts allowed.
    GiveUp(String),
}

/// Decides a unit from its results' keys, its quorum, the most results it may collect, and
/// the replicas still running.
pub fn decide(keys: &[AgreementKey], quorum: u8, max_results: usize, running: usize) -> Decision {
    let quorum = usize::from(quorum.max(1));
    let (best, best_count) = largest_group(keys);
    if let Some(key) = best.filter(|_| best_count >= quorum) {
        let (agreeing, disagreeing) = (0..keys.len()).partition(|&i| keys[i] == key);
        return Decision::Settle {
            key,
            agreeing,
            disagreeing,
        };
    }
    let room = max_results.saturating_sub(keys.len() + running);
    if room == 0 && running == 0 {
        return Decision::GiveUp(format!(
            "no quorum: {} results, at most {best_count} agreeing, {quorum} needed",
            keys.len()
        ));
    }
    let wanted = (quorum - best_count).saturating_sub(running).min(room);
    Decision::Wait { wanted }
}

/// The key most results share (the first such in order) and how many share it.
fn largest_group(keys: &[AgreementKey]) -> (Option<AgreementKey>, usize) {
    let mut best = (None, 0);
    for key in keys {
        let count = keys.iter().filter(|k| *k == key).count();
        if count > best.1 {
            best = (Some(*key), count);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use idleshare_protocol::{ContentId, FailureKind};

    fn out(tag: u8, fuel: u64) -> AgreementKey {
        (Verdict::Output(ContentId::from_bytes([tag; 32])), fuel)
    }

    #[test]
    fn decisions_table() {
        let trap = (Verdict::Failed(FailureKind::Trap), 7);
        let settle = |key, agreeing: &[usize], disagreeing: &[usize]| Decision::Settle {
            key,
            agreeing: agreeing.to_vec(),
            disagreeing: disagreeing.to_vec(),
        };
        let wait = |wanted| Decision::Wait { wanted };
        // (results, quorum, max results, running) → decision
        let cases: Vec<(Vec<AgreementKey>, u8, usize, usize, Decision)> = vec![
            (vec![], 2, 5, 0, wait(2)),
            (vec![], 2, 5, 1, wait(1)),
            (vec![], 2, 5, 2, wait(0)),
            (vec![out(1, 5)], 2, 5, 1, wait(0)),
            (vec![out(1, 5)], 2, 5, 0, wait(1)),
            (
                vec![out(1, 5), out(1, 5)],
                2,
                5,
                0,
                settle(out(1, 5), &[0, 1], &[]),
            ),
            (vec![out(1, 5)], 1, 5, 0, settle(out(1, 5), &[0], &[])),
            // Disagreement: one more replica, then the honest majority wins.
            (vec![out(1, 5), out(2, 5)], 2, 5, 0, wait(1)),
            (
                vec![out(1, 5), out(2, 5), out(1, 5)],
                2,
                5,
                0,
                settle(out(1, 5), &[0, 2], &[1]),
            ),
            // Same output, different fuel: not the same result.
            (vec![out(1, 5), out(1, 6)], 2, 5, 0, wait(1)),
            (vec![trap, trap], 2, 5, 0, settle(trap, &[0, 1], &[])),
            // The attempt cap: room for one more, then give up.
            (
                vec![out(1, 1), out(2, 1), out(3, 1), out(4, 1)],
                2,
                5,
                0,
                wait(1),
            ),
            (
                vec![out(1, 1), out(2, 1), out(3, 1), out(4, 1)],
                2,
                5,
                1,
                wait(0),
            ),
        ];
        for (keys, quorum, max, running, expected) in cases {
            assert_eq!(
                decide(&keys, quorum, max, running),
                expected,
                "{keys:?} q={quorum} max={max} running={running}"
            );
        }
        let five: Vec<_> = (1..=5).map(|t| out(t, 1)).collect();
        assert!(matches!(decide(&five, 2, 5, 0), Decision::GiveUp(r) if r.contains("no quorum")));
    }
}
