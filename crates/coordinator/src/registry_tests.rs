//! Tests of the registry's decisions.

use super::*;

fn contributing() -> NodeActivity {
    NodeActivity::Contributing {
        budget: idleshare_protocol::Budget::default(),
    }
}

fn id(seed: u8) -> NodeId {
    NodeId::from(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).verifying_key())
}

#[test]
fn re_registration_keeps_first_seen_and_updates_the_rest() {
    let mut registry = Registry::default();
    registry.register(id(1), Capabilities::default(), "a:1".into(), 100);
    let caps = Capabilities {
        cpu_cores: 4,
        ..Capabilities::default()
    };
    let again = registry.register(id(1), caps.clone(), "b:2".into(), 500);
    assert_eq!(again.first_seen_ms, 100);
    assert_eq!(again.last_seen_ms, 500);
    assert_eq!(again.capabilities, caps);
    assert_eq!(again.remote_addr, "b:2");
}

#[test]
fn a_registration_is_only_shown_once_inserted_and_keeps_first_seen() {
    let mut registry = Registry::default();
    registry.register(id(1), Capabilities::default(), "a:1".into(), 100);
    let pending = registry.registration(id(1), Capabilities::default(), "b:2".into(), 500);
    let fresh = registry.registration(id(2), Capabilities::default(), "c:3".into(), 600);
    assert_eq!((pending.first_seen_ms, fresh.first_seen_ms), (100, 600));
    assert_eq!(registry.records().len(), 1, "nothing shown before insert");
    registry.insert(fresh);
    assert_eq!(registry.counts(), (2, 0));
}

#[test]
fn heartbeat_updates_last_seen_and_activity_and_never_goes_back_in_time() {
    let mut registry = Registry::default();
    registry.register(id(1), Capabilities::default(), "a:1".into(), 100);
    registry.heartbeat(&id(1), &contributing(), 200);
    registry.heartbeat(&id(1), &contributing(), 150);
    let record = &registry.records()[0];
    assert_eq!(
        (record.last_seen_ms, &record.activity),
        (200, &contributing())
    );
    registry.heartbeat(&id(9), &NodeActivity::Starting, 300);
    assert_eq!(registry.records().len(), 1, "unknown ids are ignored");
}

#[test]
fn an_unchanged_heartbeat_is_written_once_a_minute_a_change_at_once() {
    let paused = |reason: &str| NodeActivity::Paused {
        reason: reason.into(),
    };
    let mut registry = Registry::default();
    registry.register(id(1), Capabilities::default(), "a:1".into(), 1_000);
    registry.take_dirty();
    let minute = LAST_SEEN_WRITE_INTERVAL_MS;
    // (time, activity, written?)
    let table = [
        (1_000, paused("away"), true),
        (3_000, paused("away"), false),
        (1_000 + minute - 1, paused("away"), false),
        (1_000 + minute, paused("away"), true),
        (2_000 + minute, paused("on battery"), true),
        (4_000 + minute, paused("on battery"), false),
        (6_000 + minute, contributing(), true),
    ];
    for (now, activity, written) in table {
        registry.heartbeat(&id(1), &activity, now);
        assert_eq!(
            registry.records()[0].last_seen_ms,
            now,
            "memory is always current"
        );
        assert_eq!(!registry.take_dirty().is_empty(), written, "at {now}");
    }
    registry.go_offline(&id(1));
    assert_eq!(registry.take_dirty()[0].last_seen_ms, 6_000 + minute);
}

#[test]
fn nodes_offline_too_long_are_pruned_and_may_come_back_as_new() {
    const DAY: u64 = 24 * 3600 * 1000;
    let record = |state, last_seen_ms| NodeRecord {
        id: id(1),
        capabilities: Capabilities::default(),
        first_seen_ms: 0,
        last_seen_ms,
        state,
        activity: NodeActivity::Starting,
        remote_addr: String::new(),
    };
    let now = 100 * DAY;
    // (state, last seen, stale after 30 days?)
    let table = [
        (NodeState::Offline, now - 31 * DAY, true),
        (NodeState::Offline, now - 30 * DAY, false),
        (NodeState::Offline, now - DAY, false),
        (NodeState::Online, now - 31 * DAY, false),
        (NodeState::Offline, now + DAY, false),
    ];
    for (state, last_seen, stale) in table {
        let record = record(state, last_seen);
        assert_eq!(
            is_stale(&record, now, 30 * DAY),
            stale,
            "{state:?} {last_seen}"
        );
    }
    let mut registry = Registry::from_records(vec![record(NodeState::Offline, 0)]);
    registry.register(id(2), Capabilities::default(), "a:2".into(), 0);
    assert_eq!(registry.prune(now, 30 * DAY), vec![id(1)]);
    assert_eq!(registry.counts(), (1, 0), "the online node stays");
    assert!(registry.take_dirty().iter().all(|r| r.id != id(1)));
    assert_eq!(registry.take_pruned(), vec![id(1)]);
    registry.mark_pruned([id(1)]);
    let back = registry.registration(id(1), Capabilities::default(), "b:1".into(), now);
    assert_eq!(back.first_seen_ms, now, "a returning node is new");
    registry.insert(back);
    assert!(registry.take_pruned().is_empty(), "its row is not deleted");
}

#[test]
fn only_online_nodes_with_a_budget_can_take_work() {
    let mut registry = Registry::default();
    for seed in 1..=3 {
        registry.register(id(seed), Capabilities::default(), "a:1".into(), 1);
    }
    registry.heartbeat(&id(1), &contributing(), 2);
    let paused = NodeActivity::Paused {
        reason: "on battery".into(),
    };
    registry.heartbeat(&id(2), &paused, 2);
    registry.heartbeat(&id(3), &contributing(), 2);
    registry.go_offline(&id(3));
    let ids: Vec<NodeId> = registry
        .contributing()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, vec![id(1)]);
}

#[test]
fn dirty_tracking_reports_each_change_once() {
    let mut registry = Registry::default();
    registry.register(id(1), Capabilities::default(), "a:1".into(), 1);
    registry.register(id(2), Capabilities::default(), "a:2".into(), 2);
    assert_eq!(registry.take_dirty().len(), 2);
    assert!(registry.take_dirty().is_empty());
    registry.go_offline(&id(1));
    registry.go_offline(&id(1));
    let dirty = registry.take_dirty();
    assert_eq!(dirty.len(), 1);
    assert_eq!(dirty[0].state, NodeState::Offline);
}

#[test]
fn records_of_a_failed_flush_are_written_again_next_time() {
    let mut registry = Registry::default();
    registry.register(id(1), Capabilities::default(), "a:1".into(), 1);
    let failed = registry.take_dirty();
    registry.mark_dirty(failed.iter().map(|r| r.id));
    let retried = registry.take_dirty();
    assert_eq!(retried, failed);
}

#[test]
fn restored_nodes_start_offline_and_are_persisted_as_such() {
    let mut live = Registry::default();
    live.register(id(1), Capabilities::default(), "a:1".into(), 1);
    let restored = Registry::from_records(live.records());
    assert_eq!(restored.counts(), (0, 1));
    let mut restored = restored;
    assert_eq!(restored.take_dirty()[0].state, NodeState::Offline);
}
