//! Scenario tests of the scheduler against strangers with many ids: one network gets one
//! replica, the order nodes are served in is random, appetite is capped, expiries count,
//! streaks grow only on other customers' jobs, and a liar is caught by the re-checks.

use idleshare_protocol::UnitId;
use idleshare_protocol::api::UnitState;

use super::ops::Changes;
use super::tests::{CORES, Harness, net, node, output};
use super::{ReportOutcome, WorkConfig};

#[test]
fn replicas_of_a_unit_never_share_a_network() {
    let mut h = Harness::new(WorkConfig::default());
    h.submit(1, 2);
    let first = h.join_from(1, net(9), 1);
    let same_net = h.join_from(2, net(9), 1);
    assert_eq!((first.len(), same_net.len()), (1, 0), "one replica per /24");
    // A disagreement wants a third replica: still never from network 9.
    h.report(1, output(first[0].lease, 7));
    let other = h.join(3, 1);
    assert_eq!(other.len(), 1);
    h.report(3, output(other[0].lease, 0));
    assert!(
        h.join_from(4, net(9), 1).is_empty(),
        "network 9 has a result"
    );
    let fourth = h.join(5, 1);
    h.report(5, output(fourth[0].lease, 0));
    assert_eq!(h.state(UnitId(1)), UnitState::Done);
    assert_eq!(h.balance(1), 0, "the disagreeing Sybil earns nothing");
}

#[test]
fn the_spread_can_be_turned_off_for_a_network_on_one_machine() {
    let mut h = Harness::new(WorkConfig {
        one_replica_per_network: false,
        ..WorkConfig::default()
    });
    h.submit(1, 2);
    assert_eq!(h.join_from(1, net(9), 1).len(), 1);
    assert_eq!(h.join_from(2, net(9), 1).len(), 1);
}

#[test]
fn nodes_are_served_in_random_order_not_key_order() {
    // Two hungry nodes, one unit at a time: a node whose key sorts first must not win
    // every time.
    let mut h = Harness::new(WorkConfig::default());
    for seed in [1, 2] {
        h.join(seed, 0);
    }
    let mut first_pick = [0u32; 2];
    for _ in 0..200 {
        for seed in [1, 2] {
            h.want(seed, 1);
        }
        let job = h.submit(1, 1);
        let unit = h.book.job(job).unwrap().first_unit;
        let holder = (1..=2)
            .find(|seed| {
                h.book
                    .unit(unit)
                    .unwrap()
                    .running
                    .iter()
                    .any(|(_, n)| *n == node(*seed))
            })
            .expect("assigned");
        first_pick[usize::from(holder - 1)] += 1;
        let lease = h.book.unit(unit).unwrap().running[0].0;
        h.report(holder, output(lease, 0));
    }
    assert!(
        first_pick.iter().all(|n| (60..=140).contains(n)),
        "picks {first_pick:?}"
    );
}

#[test]
fn asking_again_gets_no_more_than_cores_plus_one_leases() {
    let mut h = Harness::new(WorkConfig::default());
    h.submit(100, 1);
    let mut held = h.join(1, 1024).len();
    for _ in 0..5 {
        held += h.want(1, 1024).len();
    }
    assert_eq!(held as u32, CORES + 1);
}

#[test]
fn an_expired_lease_counts_as_an_abandon_and_halves_the_lease_cap() {
    let config = WorkConfig::default();
    let mut h = Harness::new(config);
    h.submit(40, 1);
    let held = h.join(1, 1024);
    assert_eq!(held.len() as u32, CORES + 1);
    h.now += config.lease_ms + 1;
    let mut ch = Changes::default();
    assert_eq!(h.book.expire(h.now, &mut h.rng, &mut ch), held.len());
    // Every lease expired: each is an abandon of its unit, and the cap is now 1.
    let unit = h.book.unit(held[0].unit).unwrap();
    assert!(unit.abandoned_by.contains(&node(1)));
    let one = h.want(1, 1024);
    assert_eq!(one.len(), 1, "cap (17 >> 17) floored at one");
    assert!(h.want(1, 1024).is_empty(), "holds its one lease");
    // A valid result restores the full cap.
    h.report(1, output(one[0].lease, 0));
    assert_eq!(h.want(1, 1024).len() as u32, CORES + 1);
}

#[test]
fn a_streak_grows_only_on_other_customers_jobs() {
    let mut h = Harness::new(WorkConfig::default());
    // Jobs sent from node 1's own network: valid results, no streak.
    let mut ch = Changes::default();
    h.book
        .submit(
            super::tests::customer(),
            net(1),
            super::tests::spec(5, 2),
            vec![4; 5],
            h.now,
            &mut ch,
        )
        .unwrap();
    for _ in 0..5 {
        let a = h.join(1, 1);
        let b = h.join(2, 1);
        h.report(1, output(a[0].lease, 0));
        h.report(2, output(b[0].lease, 0));
    }
    let own = h.book.reputation(&node(1));
    assert_eq!((own.valid, own.consecutive_valid), (5, 0));
    let other = h.book.reputation(&node(2));
    assert_eq!((other.valid, other.consecutive_valid), (5, 5));
}

#[test]
fn a_liar_after_a_fifty_unit_streak_is_caught_by_the_rechecks_and_loses_its_unpaid_credit() {
    let mut h = Harness::new(WorkConfig::default());
    // A streak of fifty honest units, each checked by node 2 when replicated.
    h.submit(200, 2);
    while h.book.reputation(&node(1)).consecutive_valid < 50 {
        for a in h.join(1, 1) {
            h.report(1, output(a.lease, 0));
        }
        for b in h.join(2, 1) {
            h.report(2, output(b.lease, 0));
        }
    }
    // Then it lies on every unit; node 2 stays honest.
    h.submit(400, 2);
    let mut lied = 0;
    while h.book.reputation(&node(1)).invalid == 0 {
        assert!(lied < 400, "never caught");
        let a = h.join(1, 1);
        assert_eq!(a.len(), 1);
        h.report(1, output(a[0].lease, 9));
        lied += 1;
        for b in h.join(2, 1) {
            h.report(2, output(b.lease, 0));
        }
        // A third node settles disagreements.
        for c in h.join(3, 1) {
            h.report(3, output(c.lease, 0));
        }
    }
    let record = h.book.reputation(&node(1));
    assert_eq!(record.consecutive_valid, 0, "the streak is gone");
    assert!(lied <= 200, "caught after {lied} lies (5 % re-checked)");
    // From now on every unit it starts is replicated again (streak 0).
    let a = h.join(1, 1);
    h.report(1, output(a[0].lease, 9));
    assert_eq!(
        h.state(a[0].unit),
        UnitState::Pending,
        "no longer trusted alone"
    );
}

#[test]
fn a_caught_liar_loses_its_results_waiting_for_a_quorum() {
    let mut h = Harness::new(WorkConfig::default());
    h.submit(2, 2);
    // The liar reports on both units; node 2 answers unit 1 honestly.
    let lies = h.join(1, 2);
    assert_eq!(lies.len(), 2);
    for a in &lies {
        assert_eq!(h.report(1, output(a.lease, 9)).0, ReportOutcome::Counted);
    }
    let honest = h.join(2, 2);
    let on_first = honest.iter().find(|a| a.unit == lies[0].unit).unwrap();
    h.report(2, output(on_first.lease, 0));
    let third = h.join(3, 1);
    assert_eq!(third[0].unit, lies[0].unit, "the disputed unit first");
    h.report(3, output(third[0].lease, 0));
    assert_eq!(h.state(lies[0].unit), UnitState::Done);
    // Caught on unit 1: its pending result on unit 2 is dropped, so unit 2 needs two
    // honest results and the liar is never paid for it.
    let second = h.book.unit(lies[1].unit).unwrap();
    assert!(second.results.iter().all(|r| r.node != node(1)));
    assert!(second.rejected.contains(&node(1)));
    let on_second = honest.iter().find(|a| a.unit == lies[1].unit).unwrap();
    h.report(2, output(on_second.lease, 0));
    assert_eq!(
        h.state(lies[1].unit),
        UnitState::Pending,
        "one honest result so far"
    );
    for c in h.join(4, 1) {
        h.report(4, output(c.lease, 0));
    }
    assert_eq!(h.state(lies[1].unit), UnitState::Done);
    assert_eq!(h.balance(1), 0);
}

#[test]
fn a_new_node_is_vetted_with_replicated_units_only() {
    let mut h = Harness::new(WorkConfig {
        adaptive_streak: 1,
        ..WorkConfig::default()
    });
    h.submit(19, 2);
    for _ in 0..19 {
        let a = h.join(1, 1);
        h.report(1, output(a[0].lease, 0));
        let b = h.join(2, 1);
        assert_eq!(b.len(), 1, "replicated while node 1 is being vetted");
        h.report(2, output(b[0].lease, 0));
    }
    assert_eq!(h.book.reputation(&node(1)).valid, 19);
}
