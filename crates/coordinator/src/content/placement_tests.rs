//! The pin plan against strangers: copies spread across networks, holders drawn at random
//! (fresh ids with ground low keys take no more than their share), and claimed quotas
//! believed only as far as spot checks confirm them.

use std::collections::{BTreeMap, BTreeSet};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::tests::{GB, MB, node, on_network, passed, pinned, plan, record, view};
use super::*;

/// The networks of the nodes holding or filling `content`.
fn holder_networks(book: &ContentBook, nodes: &[NodeView], content: &ContentId) -> Vec<u8> {
    book.pins(content)
        .iter()
        .filter(|(_, state)| !matches!(state, PinState::Failed { .. }))
        .map(|(holder, _)| {
            let view = nodes.iter().find(|n| n.id == *holder).unwrap();
            match view.network {
                Some(NetworkPrefix::V4([_, network, _])) => network,
                other => panic!("{other:?}"),
            }
        })
        .collect()
}

#[test]
fn two_nodes_of_one_network_never_both_hold_one_piece() {
    // Six ids on two networks (say two homes, or one stranger's two /24s).
    let nodes: Vec<NodeView> = (1..=6)
        .map(|seed| on_network(seed, 1 + seed % 2, Some(GB)))
        .collect();
    for seed in 0..50 {
        let mut book = ContentBook::default();
        let site = record(b"site", MB, 3);
        book.publish(site.clone());
        let ch = plan(&mut book, &nodes, seed);
        assert_eq!(pinned(&ch).len(), 2, "one copy per network (draw {seed})");
        let mut networks = holder_networks(&book, &nodes, &site.id);
        networks.sort();
        assert_eq!(networks, vec![1, 2], "draw {seed}");
    }
}

#[test]
fn a_holder_gone_offline_still_keeps_its_network_from_a_second_copy() {
    let mut nodes = [
        on_network(1, 1, Some(GB)),
        on_network(2, 1, Some(GB)),
        on_network(3, 2, Some(GB)),
    ];
    let site = record(b"site", MB, 1);
    nodes[0].online = false;
    // Its copy is not live, so one is pinned again: on the other network, not beside it.
    for seed in 1..=20 {
        let mut again = ContentBook::restore(
            vec![site.clone()],
            vec![(site.id, node(1), PinState::Stored { at_ms: 0 })],
            vec![],
        );
        assert_eq!(pinned(&plan(&mut again, &nodes, seed)), vec![node(3)]);
    }
}

#[test]
fn the_switch_lets_a_network_on_one_machine_hold_every_copy() {
    let nodes: Vec<NodeView> = (1..=3).map(|seed| on_network(seed, 1, Some(GB))).collect();
    let mut book = ContentBook::default();
    book.publish(record(b"site", MB, 3));
    let spread = book.plan(&nodes, true, 0, &mut StdRng::seed_from_u64(0));
    assert_eq!(pinned(&spread).len(), 1);
    let mut book = ContentBook::default();
    book.publish(record(b"site", MB, 3));
    let local = book.plan(&nodes, false, 0, &mut StdRng::seed_from_u64(0));
    assert_eq!(pinned(&local).len(), 3);
}

#[test]
fn nodes_of_unknown_network_are_neither_blocked_nor_blocking() {
    let nodes: Vec<NodeView> = (1..=3)
        .map(|seed| NodeView {
            network: None,
            ..view(seed, Some(GB))
        })
        .collect();
    let mut book = ContentBook::default();
    book.publish(record(b"site", MB, 3));
    assert_eq!(pinned(&plan(&mut book, &nodes, 0)).len(), 3);
}

#[test]
fn among_many_fresh_nodes_the_holders_are_drawn_at_random_not_the_lowest_ids() {
    // Twenty empty nodes: least-loaded-then-id always picked the same three lowest ids.
    let nodes: Vec<NodeView> = (1..=20).map(|seed| view(seed, Some(GB))).collect();
    let mut ids: Vec<NodeId> = nodes.iter().map(|n| n.id).collect();
    ids.sort();
    let lowest: Vec<NodeId> = ids[..3].to_vec();
    let mut sets = BTreeSet::new();
    let mut chosen = BTreeSet::new();
    for seed in 0..200 {
        let mut book = ContentBook::default();
        book.publish(record(b"site", MB, 3));
        let holders = pinned(&plan(&mut book, &nodes, seed));
        assert_eq!(holders.len(), 3);
        chosen.extend(holders.iter().copied());
        sets.insert(holders);
    }
    assert!(
        sets.len() > 100,
        "{} different sets in 200 draws",
        sets.len()
    );
    assert_eq!(chosen.len(), 20, "every node is drawn at some point");
    let always_lowest = sets.len() == 1 && sets.contains(&lowest);
    assert!(!always_lowest);
}

#[test]
fn fresh_sybil_ids_with_no_load_take_only_their_share_of_new_content() {
    // Ten honest nodes already hold five pieces each; a stranger brings ten fresh ids
    // (load 0), each on a network of its own so only the draw keeps them out.
    let honest: Vec<NodeView> = (1..=10).map(|seed| view(seed, Some(GB))).collect();
    let sybils: Vec<NodeView> = (101..=110).map(|seed| view(seed, Some(GB))).collect();
    let mut book = ContentBook::default();
    for (i, holder) in honest.iter().enumerate() {
        for piece in 0..5u8 {
            let old = record(&[b'o', i as u8, piece], MB, 1);
            book.publish(old.clone());
            book.on_report(holder.id, old.id, PinOutcome::Stored, 0);
        }
    }
    let nodes: Vec<NodeView> = honest.iter().chain(&sybils).cloned().collect();
    for piece in 0..40u8 {
        book.publish(record(&[b'n', piece], MB, 1));
    }
    let ch = plan(&mut book, &nodes, 1);
    assert_eq!(pinned(&ch).len(), 40);
    let sybil_ids: BTreeSet<NodeId> = sybils.iter().map(|n| n.id).collect();
    let taken = pinned(&ch).iter().filter(|n| sybil_ids.contains(n)).count();
    // Least-loaded-first gave them all 40; a fair draw gives them about 20.
    assert!((10..=30).contains(&taken), "the Sybils took {taken} of 40");
}

#[test]
fn an_unproven_node_claiming_a_huge_quota_gets_only_small_content() {
    let nodes = [view(1, Some(16 << 40))];
    let mut book = ContentBook::default();
    let big = record(b"big", GB, 1);
    let small = record(b"small", 10 * MB, 1);
    book.publish(big.clone());
    book.publish(small.clone());
    let ch = plan(&mut book, &nodes, 0);
    let PinAction::Pin(_, order) = &ch.actions[0] else {
        panic!()
    };
    assert_eq!(ch.actions.len(), 1, "{:?}", ch.actions);
    assert_eq!(
        order.content, small.id,
        "small content, so it can be checked"
    );
    // Two passed checks: 1 GiB believed, still short of 1 GiB with its outboard.
    passed(&mut book, node(1), 2);
    assert!(plan(&mut book, &nodes, 1).actions.is_empty());
    passed(&mut book, node(1), 1);
    assert_eq!(pinned(&plan(&mut book, &nodes, 2)), vec![node(1)]);
    assert!(matches!(book.pins(&big.id)[0].1, PinState::Assigned { .. }));
}

#[test]
fn busy_answers_to_spot_checks_shrink_what_is_believed() {
    let nodes = [view(1, Some(16 << 40))];
    let mut book = ContentBook::default();
    passed(&mut book, node(1), 3);
    book.publish(record(b"first", GB, 1));
    assert_eq!(pinned(&plan(&mut book, &nodes, 0)), vec![node(1)]);
    // Always busy when checked since: its claim is no longer believed.
    for _ in 0..3 {
        book.record_check(node(1), CheckOutcome::Busy);
    }
    assert_eq!(book.reputation(&node(1)).checks_busy, 3);
    book.publish(record(b"second", GB, 1));
    assert!(plan(&mut book, &nodes, 1).actions.is_empty());
    // Small content still goes there, so it can earn belief back.
    book.publish(record(b"small", MB, 1));
    assert_eq!(pinned(&plan(&mut book, &nodes, 2)), vec![node(1)]);
}

#[test]
fn spot_checks_skip_nodes_paused_now_whose_busy_answer_would_count_against_them() {
    let mut book = ContentBook::default();
    let site = record(b"site", MB, 2);
    book.publish(site.clone());
    for seed in 1..=2 {
        book.on_report(node(seed), site.id, PinOutcome::Stored, 0);
    }
    let nodes = [view(1, Some(GB)), view(2, None)];
    assert_eq!(book.stored_pins(&nodes), vec![(site.id, node(1))]);
}

#[test]
fn copies_are_spread_evenly_enough_over_many_pieces() {
    let nodes: Vec<NodeView> = (1..=10).map(|seed| view(seed, Some(GB))).collect();
    let mut book = ContentBook::default();
    for piece in 0..100u8 {
        book.publish(record(&[piece], MB, 3));
    }
    let ch = plan(&mut book, &nodes, 7);
    let mut per_node: BTreeMap<NodeId, usize> = BTreeMap::new();
    for holder in pinned(&ch) {
        *per_node.entry(holder).or_default() += 1;
    }
    assert_eq!(per_node.values().sum::<usize>(), 300);
    // 30 each on average; a random draw stays well inside these bounds.
    assert!(
        per_node.values().all(|n| (15..=45).contains(n)),
        "{per_node:?}"
    );
}
