//! The node registry's decisions, in memory and pure: time is passed in as Unix ms.
//!
//! The coordinator owns one [`Registry`]; every change marks the node dirty so the store
//! can persist exactly what changed. A heartbeat that changes nothing but the time updates
//! `last_seen_ms` in memory (what the API shows) and is written at most every
//! [`LAST_SEEN_WRITE_INTERVAL_MS`], so thousands of idle nodes do not rewrite their rows
//! every two seconds; going offline writes the final time. After a restart every node
//! starts offline: a node is online only while it holds a live session.
//!
//! A node offline for longer than the coordinator's `prune_offline_after` is forgotten
//! ([`Registry::prune`]); if it ever returns it registers as new. What other parts keep by
//! node id (reputation, receipts) is not the registry's and stays.

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

/// How often a heartbeat that changes nothing but the time is written to the database.
pub const LAST_SEEN_WRITE_INTERVAL_MS: u64 = 60_000;

/// Whether `record` has been offline for longer than `offline_for_ms` at `now_ms`.
pub fn is_stale(record: &NodeRecord, now_ms: u64, offline_for_ms: u64) -> bool {
    record.state == NodeState::Offline
        && now_ms.saturating_sub(record.last_seen_ms) > offline_for_ms
}

/// All known nodes and which of them changed since the last flush.
#[derive(Debug, Default)]
pub struct Registry {
    nodes: HashMap<NodeId, NodeRecord>,
    dirty: HashSet<NodeId>,
    /// The `last_seen_ms` last handed to the store, per node.
    written_last_seen: HashMap<NodeId, u64>,
    /// Nodes pruned from memory whose rows are still to be deleted.
    pruned: HashSet<NodeId>,
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

    /// Whether `id` has registered before.
    pub fn contains(&self, id: &NodeId) -> bool {
        self.nodes.contains_key(id)
    }

    /// Puts a stored registration in place (see [`Registry::registration`]).
    pub fn insert(&mut self, record: NodeRecord) {
        self.pruned.remove(&record.id);
        self.dirty.insert(record.id);
        self.nodes.insert(record.id, record);
    }

    /// Records a heartbeat from a registered node; unknown ids are ignored. It is written
    /// when the state or activity changed, or [`LAST_SEEN_WRITE_INTERVAL_MS`] after the
    /// last time written.
    pub fn heartbeat(&mut self, id: &NodeId, activity: &NodeActivity, now_ms: u64) {
        let Some(record) = self.nodes.get_mut(id) else {
            return;
        };
        record.last_seen_ms = now_ms.max(record.last_seen_ms);
        let changed = record.state != NodeState::Online || record.activity != *activity;
        if changed {
            record.state = NodeState::Online;
            record.activity = activity.clone();
        }
        let written = self.written_last_seen.get(id).copied().unwrap_or(0);
        let due = record.last_seen_ms >= written.saturating_add(LAST_SEEN_WRITE_INTERVAL_MS);
        if changed || due {
            self.dirty.insert(*id);
        }
    }

    /// Forgets every node offline for longer than `offline_for_ms` at `now_ms`; returns
    /// them (their rows go at the next [`Registry::take_pruned`]).
    pub fn prune(&mut self, now_ms: u64, offline_for_ms: u64) -> Vec<NodeId> {
        let stale: Vec<NodeId> = self
            .nodes
            .values()
            .filter(|record| is_stale(record, now_ms, offline_for_ms))
            .map(|record| record.id)
            .collect();
        for id in &stale {
            self.nodes.remove(id);
            self.dirty.remove(id);
            self.written_last_seen.remove(id);
            self.pruned.insert(*id);
        }
        stale
    }

    /// The pruned nodes whose rows are still to be deleted, clearing the set.
    pub fn take_pruned(&mut self) -> Vec<NodeId> {
        std::mem::take(&mut self.pruned).into_iter().collect()
    }

    /// Puts pruned ids back (their deletion failed; try again later), unless they have
    /// registered again since.
    pub fn mark_pruned(&mut self, ids: impl IntoIterator<Item = NodeId>) {
        let returned: Vec<NodeId> = ids.into_iter().collect();
        let gone = returned
            .into_iter()
            .filter(|id| !self.nodes.contains_key(id));
        self.pruned.extend(gone);
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
        let records: Vec<NodeRecord> = dirty
            .into_iter()
            .filter_map(|id| self.nodes.get(&id).cloned())
            .collect();
        for record in &records {
            self.written_last_seen
                .insert(record.id, record.last_seen_ms);
        }
        records
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
#[path = "registry_tests.rs"]
mod tests;
