//! How far the scheduler trusts a node, pure: how many leases it may hold, whether a unit
//! may run on it alone, and which results build its record. Strangers are assumed: one
//! person may own many ids, so these rules count networks and customers, not ids.
//!
//! Precedence, each rule narrowing the one before:
//! 1. replicas of one unit go to different networks (IPv4 /24, IPv6 /48), so a quorum
//!    cannot be bought with ids from one place ([`Book::dispatch`](super::Book::dispatch));
//! 2. a node is vetted — only ever gets replicated units — until it has
//!    [`WorkConfig::vetting_results`](super::WorkConfig) valid results;
//! 3. adaptive replication trusts a node alone only after a streak of valid results on
//!    *other* customers' jobs ([`builds_streak`]), and never for more than
//!    1 − [`RECHECK_SHARE`] of its units: the rest are re-run elsewhere, forever;
//! 4. a node holds at most its core budget + 1 leases, halved for each lease it let
//!    expire since its last valid result ([`lease_cap`]).

use idleshare_protocol::NodeId;
use idleshare_protocol::auth::AccountId;
use idleshare_protocol::net::NetworkPrefix;
use rand::Rng;

/// Share of the units a trusted node would run alone that still get a second replica, so
/// a node that turns liar after a long honest streak is caught (BOINC re-checks a random
/// share of adaptively replicated work for the same reason).
pub const RECHECK_SHARE: f64 = 0.05;

/// The most cores a node's budget is believed to grant (a claim above it is cut to it).
pub const MAX_CORES: u32 = 256;

/// The most leases a node may hold: its core budget (at most [`MAX_CORES`]) plus one, so
/// its next unit is fetched while the others run; halved for each lease it let expire since
/// its last valid result (BOINC cuts a host's quota on missed deadlines), never below one.
pub fn lease_cap(cores: u32, missed: u32) -> u32 {
    ((cores.min(MAX_CORES) + 1) >> missed.min(31)).max(1)
}

/// What the scheduler knows of a node when it decides whether to trust it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Valid results, ever.
    pub valid: u64,
    /// Valid results in a row on other customers' jobs.
    pub streak: u64,
}

/// Adaptive replication: whether a unit first given to a node with `record` runs on it
/// alone. Only a vetted node (`vetting` valid results) with a streak of at least
/// `min_streak` qualifies; it is then trusted with probability 1 − 1/streak, capped at
/// 1 − [`RECHECK_SHARE`].
pub fn goes_unreplicated(
    record: Record,
    vetting: u64,
    min_streak: u64,
    rng: &mut impl Rng,
) -> bool {
    if record.valid < vetting || record.streak < min_streak.max(1) {
        return false;
    }
    let trust = (1.0 - 1.0 / record.streak as f64).min(1.0 - RECHECK_SHARE);
    rng.random::<f64>() < trust
}

/// Whether a valid result builds the node's streak: only on a job of another customer.
/// A job is the node's own when its owner is the node's key, or when it was submitted
/// from the node's own network (so Sybils agreeing on their owner's jobs farm nothing).
/// Unknown networks (rows from before networks were kept) count as different.
pub fn builds_streak(
    node: NodeId,
    node_network: Option<NetworkPrefix>,
    job_owner: Option<AccountId>,
    job_network: Option<NetworkPrefix>,
) -> bool {
    let same_key = job_owner == Some(node);
    let same_network = node_network.is_some() && node_network == job_network;
    !same_key && !same_network
}

/// Whether a node on `network` may take a replica of a unit whose other replicas (running
/// or reported) are on `taken`: never two on one network. An unknown network (a replica
/// from before a restart) blocks nothing.
pub fn network_free(
    network: Option<NetworkPrefix>,
    mut taken: impl Iterator<Item = Option<NetworkPrefix>>,
) -> bool {
    match network {
        None => true,
        Some(net) => !taken.any(|other| other == Some(net)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn net(c: u8) -> Option<NetworkPrefix> {
        Some(NetworkPrefix::V4([127, 0, c]))
    }

    #[test]
    fn lease_caps_table() {
        // (cores, missed) → cap
        let cases = [
            (0, 0, 1),
            (1, 0, 2),
            (8, 0, 9),
            (8, 1, 4),
            (8, 3, 1),
            (8, 40, 1),
            (u32::MAX, 0, MAX_CORES + 1),
        ];
        for (cores, missed, cap) in cases {
            assert_eq!(
                lease_cap(cores, missed),
                cap,
                "cores {cores} missed {missed}"
            );
        }
    }

    #[test]
    fn trust_needs_vetting_and_a_streak_and_never_passes_the_recheck_share() {
        let mut rng = StdRng::seed_from_u64(7);
        let record = |valid, streak| Record { valid, streak };
        // (record, expected share run alone over 20,000 draws); vetting 20, min streak 10.
        let cases = [
            (record(0, 0), 0.0),
            (record(19, 19), 0.0),
            (record(20, 9), 0.0),
            (record(20, 10), 0.90),
            (record(100, 20), 0.95),
            (record(10_000, 10_000), 1.0 - RECHECK_SHARE),
        ];
        for (record, expected) in cases {
            let alone = (0..20_000)
                .filter(|_| goes_unreplicated(record, 20, 10, &mut rng))
                .count() as f64
                / 20_000.0;
            assert!((alone - expected).abs() < 0.01, "{record:?}: {alone}");
        }
    }

    #[test]
    fn streaks_grow_only_on_other_customers_jobs() {
        let (node, stranger) = (super::super::tests::node(1), super::super::tests::node(2));
        // (job owner, node network, job network) → builds the streak
        let cases = [
            (Some(stranger), net(1), net(2), true),
            (Some(stranger), net(1), net(1), false),
            (Some(node), net(1), net(2), false),
            (None, net(1), None, true),
            (Some(stranger), None, None, true),
        ];
        for (owner, node_net, job_net, builds) in cases {
            assert_eq!(
                builds_streak(node, node_net, owner, job_net),
                builds,
                "{owner:?} {node_net:?} {job_net:?}"
            );
        }
    }

    #[test]
    fn one_replica_per_network() {
        assert!(network_free(net(1), [net(2), None].into_iter()));
        assert!(!network_free(net(1), [net(2), net(1)].into_iter()));
        assert!(network_free(None, [net(1)].into_iter()));
        assert!(network_free(net(1), std::iter::empty()));
    }
}
