//! The node registry's decisions, in memory and pure: time is passed in as Unix ms.
//!
//! The coordinator owns one [`Registry`]; every change marks the node dirty so the store
//! can persist exactly what changed. After a restart every node starts offline: a node is
//! online only while it holds a live session.

use std::collections::{HashMap, HashSet};

pub use idleshare_protocol::api::NodeState;
use idleshare_protocol::{Capabilities, NodeActivity, NodeId};

/// Everything the coordinator keeps about one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecord {
    /// The node's id (public key).
    pub id: NodeId,
    /// What it registered with most recently.
    pub capabilities: Capabilities,
    /// First registration ever (Unix ms).
    pub first_seen_ms: u64,
    /// Last registration or heartbeat (Unix ms).
    pub last_seen_ms: u64,
    /// Online or offline.
    pub state: NodeState,
    /// What the node reported in its last heartbeat (budget or pause reason).
    pub activity: NodeActivity,
    /// Remote address of the latest session.
    pub remote_addr: String,
}

/// All known nodes and which of them changed since the last flush.
#[derive(Debug, Default)]
pub struct Registry {
    nodes: HashMap<NodeId, NodeRecord>,
    dirty: HashSet<NodeId>,
}

impl Registry {
    /// Rebuilds the registry from stored records; every node starts offline.
    pub fn from_records(records: Vec<NodeRecord>) -> Self {
        let mut registry = Self::default();
        for mut record in records {
            if record.state != NodeState::Offline {
                record.state = NodeState::Offline;
                registry.dirty.insert(record.id);
            }
            registry.nodes.insert(record.id, record);
        }
        registry
    }

    /// Records a registration; keeps `first_seen` of a known node.
    pub fn register(
        &mut self,
        id: NodeId,
        capabilities: Capabilities,
        remote_addr: String,
        now_ms: u64,
    ) -> NodeRecord {
        let record = self.nodes.entry(id).or_insert_with(|| NodeRecord {
            id,
            capabilities: Capabilities::default(),
            first_seen_ms: now_ms,
            last_seen_ms: now_ms,
            state: NodeState::Offline,
            activity: NodeActivity::Starting,
            remote_addr: String::new(),
        });
        record.capabilities = capabilities;
        record.last_seen_ms = now_ms;
        record.state = NodeState::Online;
        record.remote_addr = remote_addr;
        self.dirty.insert(id);
        record.clone()
    }

    /// The record a registration would produce, without changing the registry (so it can
    /// be stored before anyone sees the node online).
    pub fn registration(
        &self,
        id: NodeId,
        capabilities: Capabilities,
        remote_addr: String,
        now_ms: u64,
    ) -> NodeRecord {
        let first_seen_ms = self.nodes.get(&id).map_or(now_ms, |r| r.first_seen_ms);
        NodeRecord {
            id,
            capabilities,
            first_seen_ms,
            last_seen_ms: now_ms,
            state: NodeState::Online,
            activity: self
                .nodes
                .get(&id)
                .map_or(NodeActivity::Starting, |r| r.activity.clone()),
            remote_addr,
        }
    }

    /// Puts a stored registration in place (see [`Registry::registration`]).
    pub fn insert(&mut self, record: NodeRecord) {
        self.dirty.insert(record.id);
        self.nodes.insert(record.id, record);
    }

    /// Records a heartbeat from a registered node; unknown ids are ignored.
    pub fn heartbeat(&mut self, id: &NodeId, activity: &NodeActivity, now_ms: u64) {
        if let Some(record) = self.nodes.get_mut(id) {
            record.last_seen_ms = now_ms.max(record.last_seen_ms);
            record.state = NodeState::Online;
            record.activity = activity.clone();
            self.dirty.insert(*id);
        }
    }

    /// Replaces a registered node's capabilities (for example after a bandwidth test);
    /// returns the cache port the old ones named.
    pub fn update_capabilities(&mut self, id: &NodeId, capabilities: Capabilities) -> Option<u16> {
        let record = self.nodes.get_mut(id)?;
        let old_port = record.capabilities.cache_port;
        record.capabilities = capabilities;
        self.dirty.insert(*id);
        old_port
    }

    /// Marks a node offline (session ended).
    pub fn go_offline(&mut self, id: &NodeId) {
        if let Some(record) = self.nodes.get_mut(id)
            && record.state != NodeState::Offline
        {
            record.state = NodeState::Offline;
            self.dirty.insert(*id);
        }
    }

    /// Marks every node offline (graceful shutdown).
    pub fn all_offline(&mut self) {
        let ids: Vec<NodeId> = self.nodes.keys().copied().collect();
        for id in ids {
            self.go_offline(&id);
        }
    }

    /// The records changed since the last call, clearing the dirty set.
    pub fn take_dirty(&mut self) -> Vec<NodeRecord> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .filter_map(|id| self.nodes.get(&id).cloned())
            .collect()
    }

    /// Puts records back in the dirty set (a flush failed; try again later).
    pub fn mark_dirty(&mut self, ids: impl IntoIterator<Item = NodeId>) {
        self.dirty.extend(ids);
    }

    /// All records, oldest first.
    pub fn records(&self) -> Vec<NodeRecord> {
        let mut records: Vec<NodeRecord> = self.nodes.values().cloned().collect();
        records.sort_by_key(|r| (r.first_seen_ms, r.id));
        records
    }

    /// Online nodes that may take work now, with their budgets.
    pub fn contributing(&self) -> Vec<(NodeId, idleshare_protocol::Budget)> {
        self.nodes
            .values()
            .filter(|r| r.state == NodeState::Online)
            .filter_map(|r| r.activity.budget().map(|b| (r.id, *b)))
            .collect()
    }

    /// Count of nodes per state: (online, offline).
    pub fn counts(&self) -> (usize, usize) {
        let online = self
            .nodes
            .values()
            .filter(|r| r.state == NodeState::Online)
            .count();
        (online, self.nodes.len() - online)
    }
}

#[cfg(test)]
mod tests {
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
}
