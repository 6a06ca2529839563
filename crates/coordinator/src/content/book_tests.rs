use ed25519_dalek::SigningKey;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;

pub(super) const MB: u64 = 1 << 20;
pub(super) const GB: u64 = 1 << 30;

pub(super) fn node(seed: u8) -> NodeId {
    NodeId::from(SigningKey::from_bytes(&[seed; 32]).verifying_key())
}

pub(super) fn view(seed: u8, quota: Option<u64>) -> NodeView {
    NodeView {
        id: node(seed),
        online: true,
        cache_quota: quota,
        direct: Some(SocketAddr::from(([127, 0, 0, 1], 7000 + u16::from(seed)))),
        network: Some(NetworkPrefix::V4([127, seed, 0])),
    }
}

/// A node of network `127.N.0.0/24`.
pub(super) fn on_network(seed: u8, network: u8, quota: Option<u64>) -> NodeView {
    NodeView {
        network: Some(NetworkPrefix::V4([127, network, 0])),
        ..view(seed, quota)
    }
}

/// The plan with one copy per network and a fixed draw.
pub(super) fn plan(book: &mut ContentBook, nodes: &[NodeView], now_ms: u64) -> Changes {
    book.plan(nodes, true, now_ms, &mut StdRng::seed_from_u64(now_ms))
}

pub(super) fn passed(book: &mut ContentBook, node: NodeId, times: usize) {
    for _ in 0..times {
        book.record_check(node, CheckOutcome::Passed { ttfb_us: 500 });
    }
}

pub(super) fn record(tag: &[u8], size: u64, replicas: u8) -> ContentRecord {
    ContentRecord {
        id: ContentId::of(tag),
        size,
        name: "site.tar".into(),
        replicas,
        published_ms: 0,
    }
}

pub(super) fn pinned(ch: &Changes) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = ch
        .actions
        .iter()
        .filter_map(|a| match a {
            PinAction::Pin(node, _) => Some(*node),
            PinAction::Unpin(..) => None,
        })
        .collect();
    nodes.sort();
    nodes
}

#[test]
fn content_goes_to_nodes_whose_policy_allows_caching_and_whose_quota_fits() {
    let mut book = ContentBook::default();
    let site = record(b"site", 100 * MB, 3);
    assert!(book.publish(site.clone()));
    assert!(
        !book.publish(site.clone()),
        "publishing twice changes nothing"
    );
    let nodes = [
        view(1, Some(1 << 30)),
        view(2, Some(1 << 30)),
        view(3, None),          // paused: no network work now
        view(4, Some(10 * MB)), // quota too small
        view(5, Some(1 << 30)),
        view(6, Some(1 << 30)),
    ];
    let ch = plan(&mut book, &nodes, 1);
    assert_eq!(pinned(&ch).len(), 3);
    assert!(!pinned(&ch).contains(&node(3)) && !pinned(&ch).contains(&node(4)));
    assert_eq!(ch.pins.len(), 3, "each assignment is stored");
    assert!(
        plan(&mut book, &nodes, 2).actions.is_empty(),
        "assigned pins count as live"
    );
}

#[test]
fn a_lost_holder_is_replaced_and_peers_are_offered_as_sources() {
    let mut book = ContentBook::default();
    let site = record(b"site", MB, 2);
    book.publish(site.clone());
    let mut nodes = vec![
        view(1, Some(1 << 30)),
        view(2, Some(1 << 30)),
        view(3, Some(1 << 30)),
    ];
    let first = pinned(&plan(&mut book, &nodes, 1));
    for holder in &first {
        book.on_report(*holder, site.id, PinOutcome::Stored, 2);
    }
    let gone = first[0];
    nodes.iter_mut().find(|n| n.id == gone).unwrap().online = false;
    let ch = plan(&mut book, &nodes, 3);
    let replacement = pinned(&ch);
    assert_eq!(replacement.len(), 1);
    assert!(!first.contains(&replacement[0]));
    let PinAction::Pin(_, order) = &ch.actions[0] else {
        panic!()
    };
    assert_eq!(
        order.peers.len(),
        1,
        "the remaining holder is offered as a source"
    );
    assert_eq!(order.peers[0].node, first[1]);
}

#[test]
fn failed_nodes_are_not_asked_again_soon_and_silent_ones_time_out() {
    let mut book = ContentBook::default();
    let site = record(b"site", MB, 1);
    book.publish(site.clone());
    let nodes = [view(1, Some(1 << 30)), view(2, Some(1 << 30))];
    let first = pinned(&plan(&mut book, &nodes, 0))[0];
    let reason = "disk full".to_owned();
    book.on_report(first, site.id, PinOutcome::Failed { reason }, 10);
    let second = pinned(&plan(&mut book, &nodes, 11));
    assert_eq!(second.len(), 1);
    assert_ne!(second[0], first);
    // The second never reports: after the timeout the first may be asked again.
    let later = 11 + ASSIGN_TIMEOUT_MS.max(FAILED_RETRY_MS);
    let again = plan(&mut book, &nodes, later);
    assert!(
        again
            .pins
            .iter()
            .any(|(_, n, s)| *n == second[0] && matches!(s, Some(PinState::Failed { .. })))
    );
    assert_eq!(pinned(&again).len(), 1);
}

#[test]
fn a_node_caught_serving_bad_bytes_is_banned_unpinned_and_replaced() {
    let mut book = ContentBook::default();
    let site = record(b"site", MB, 1);
    book.publish(site.clone());
    let nodes = [view(1, Some(1 << 30)), view(2, Some(1 << 30))];
    let liar = pinned(&plan(&mut book, &nodes, 0))[0];
    book.on_report(liar, site.id, PinOutcome::Stored, 1);
    assert_eq!(book.providers(&site.id, &nodes, 2).len(), 1);
    let ch = book.caught_serving_bad_data(liar, "group 3", 2);
    assert!(ch.actions.contains(&PinAction::Unpin(liar, site.id)));
    assert_eq!(book.reputation(&liar).bad_data, 1);
    assert!(
        book.providers(&site.id, &nodes, 3).is_empty(),
        "no longer listed"
    );
    let replacement = pinned(&plan(&mut book, &nodes, 3));
    assert_eq!(replacement.len(), 1);
    assert_ne!(replacement[0], liar);
    assert!(!book.reputation(&liar).banned(2 + BAN_MS));
}

#[test]
fn inventories_confirm_holdings_and_unpin_what_is_not_published() {
    let mut book = ContentBook::default();
    let site = record(b"site", MB, 1);
    book.publish(site.clone());
    let stray = ContentId::of(b"stray");
    let ch = book.on_inventory(node(1), &[site.id, stray], 5);
    assert_eq!(ch.actions, vec![PinAction::Unpin(node(1), stray)]);
    assert!(matches!(book.pins(&site.id)[0].1, PinState::Stored { .. }));
    let ch = book.settle_inventory(node(1), &[], &[], 6);
    assert!(matches!(
        ch.pins[0].2,
        Some(PinState::Failed { ref reason, .. }) if reason.contains("missing")
    ));
}

#[test]
fn an_order_a_restarted_node_never_finished_is_sent_again() {
    let mut book = ContentBook::default();
    let site = record(b"site", MB, 1);
    book.publish(site.clone());
    let nodes = [view(1, Some(1 << 30))];
    assert_eq!(pinned(&plan(&mut book, &nodes, 0)), vec![node(1)]);
    // The node restarts mid-fill and comes back holding nothing.
    let ch = book.settle_inventory(node(1), &[], &nodes, 50);
    assert_eq!(pinned(&ch), vec![node(1)]);
    assert!(matches!(
        book.pins(&site.id)[0].1,
        PinState::Assigned { at_ms: 50 }
    ));
}

#[test]
fn providers_that_serve_now_and_answer_fastest_come_first() {
    let mut book = ContentBook::default();
    let site = record(b"site", MB, 3);
    book.publish(site.clone());
    let nodes = [
        view(1, None),
        view(2, Some(1 << 30)),
        view(3, Some(1 << 30)),
    ];
    for seed in 1..=3 {
        book.on_report(node(seed), site.id, PinOutcome::Stored, 1);
    }
    book.record_check(node(2), CheckOutcome::Passed { ttfb_us: 900 });
    book.record_check(node(3), CheckOutcome::Passed { ttfb_us: 300 });
    let order: Vec<NodeId> = book
        .providers(&site.id, &nodes, 2)
        .iter()
        .map(|p| p.node)
        .collect();
    assert_eq!(order, vec![node(3), node(2), node(1)]);
}

#[test]
fn reports_for_unknown_content_unpin_it() {
    let mut book = ContentBook::default();
    let unknown = ContentId::of(b"?");
    let ch = book.on_report(node(1), unknown, PinOutcome::Stored, 1);
    assert_eq!(ch.actions, vec![PinAction::Unpin(node(1), unknown)]);
}
