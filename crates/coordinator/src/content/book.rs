//! The content book (pure): what is published, which nodes hold or are filling which
//! content, how each node has served under spot checks, and the pin plan that keeps every
//! piece of content on its wanted number of live nodes (`book_plan.rs`).
//!
//! Every mutation returns the rows it changed ([`Changes`]) for the store and the orders it
//! decided ([`PinAction`]) for nodes; nothing here does IO or reads a clock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;

use idleshare_protocol::cache::{PinOrder, PinOutcome, Provider};
use idleshare_protocol::net::NetworkPrefix;
use idleshare_protocol::{ContentId, NodeId};
use serde::{Deserialize, Serialize};

pub use super::reputation::{CacheReputation, CheckOutcome};

/// An assigned pin with no report after this long counts as failed.
pub const ASSIGN_TIMEOUT_MS: u64 = 10 * 60 * 1000;
/// A node that failed to store some content is not asked again for this long.
pub const FAILED_RETRY_MS: u64 = 60 * 60 * 1000;
/// How long a node caught serving bad bytes gets no pins and is listed as no provider.
pub const BAN_MS: u64 = 24 * 60 * 60 * 1000;

/// A piece of published content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentRecord {
    /// Its id (BLAKE3 of the bytes).
    pub id: ContentId,
    /// Its size in bytes.
    pub size: u64,
    /// The name it was published under (for people; not unique).
    pub name: String,
    /// Live copies wanted on nodes.
    pub replicas: u8,
    /// When it was published (Unix ms).
    pub published_ms: u64,
}

/// Where a pin stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PinState {
    /// Ordered; the node is filling.
    Assigned {
        /// When the order went out.
        at_ms: u64,
    },
    /// Held complete on the node.
    Stored {
        /// Since when.
        at_ms: u64,
    },
    /// Not stored (failed, dropped or found missing).
    Failed {
        /// Why.
        reason: String,
        /// When.
        at_ms: u64,
    },
}

/// What the planner needs to know of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeView {
    /// The node.
    pub id: NodeId,
    /// Connected now.
    pub online: bool,
    /// Its policy allows network work now, with this cache quota in bytes (`None`: not now).
    pub cache_quota: Option<u64>,
    /// Its own endpoint, where the coordinator could reach it.
    pub direct: Option<SocketAddr>,
    /// The network it connects from (`None`: unknown).
    pub network: Option<NetworkPrefix>,
}

/// An order for a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinAction {
    /// Keep a copy.
    Pin(NodeId, PinOrder),
    /// Drop a copy.
    Unpin(NodeId, ContentId),
}

/// Rows a mutation changed, for the store.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    /// Contents removed (their paid storage ran out).
    pub removed: Vec<ContentId>,
    /// Pins written (`None`: deleted).
    pub pins: Vec<(ContentId, NodeId, Option<PinState>)>,
    /// Reputations written.
    pub reputations: Vec<(NodeId, CacheReputation)>,
    /// Orders for nodes.
    pub actions: Vec<PinAction>,
}

/// Published content, pins and cache reputations.
#[derive(Debug, Default)]
pub struct ContentBook {
    contents: BTreeMap<ContentId, ContentRecord>,
    pins: HashMap<ContentId, HashMap<NodeId, PinState>>,
    reputations: HashMap<NodeId, CacheReputation>,
}

impl ContentBook {
    /// A book rebuilt from stored rows.
    pub fn restore(
        contents: Vec<ContentRecord>,
        pins: Vec<(ContentId, NodeId, PinState)>,
        reputations: Vec<(NodeId, CacheReputation)>,
    ) -> Self {
        let mut book = Self {
            contents: contents.into_iter().map(|c| (c.id, c)).collect(),
            reputations: reputations.into_iter().collect(),
            ..Self::default()
        };
        for (content, node, state) in pins {
            book.pins.entry(content).or_default().insert(node, state);
        }
        book
    }

    /// Adds published content; false if it was published already (nothing changes).
    pub fn publish(&mut self, record: ContentRecord) -> bool {
        if self.contents.contains_key(&record.id) {
            return false;
        }
        self.contents.insert(record.id, record);
        true
    }

    /// Drops a content whose paid time is over: every node holding or filling it is told
    /// to let it go, and its rows go.
    pub fn unpublish(&mut self, id: &ContentId) -> Changes {
        let mut ch = Changes::default();
        if self.contents.remove(id).is_none() {
            return ch;
        }
        for (node, _) in self.pins.remove(id).unwrap_or_default() {
            ch.pins.push((*id, node, None));
            ch.actions.push(PinAction::Unpin(node, *id));
        }
        ch.removed.push(*id);
        ch
    }

    /// A published piece of content.
    pub fn content(&self, id: &ContentId) -> Option<&ContentRecord> {
        self.contents.get(id)
    }

    /// Every published piece, by id.
    pub fn contents(&self) -> impl Iterator<Item = &ContentRecord> {
        self.contents.values()
    }

    /// The pins of `content`.
    pub fn pins(&self, content: &ContentId) -> Vec<(NodeId, PinState)> {
        let mut pins: Vec<_> = self
            .pins
            .get(content)
            .map(|pins| pins.iter().map(|(n, s)| (*n, s.clone())).collect())
            .unwrap_or_default();
        pins.sort_by_key(|(node, _)| *node);
        pins
    }

    /// A node's cache reputation.
    pub fn reputation(&self, node: &NodeId) -> CacheReputation {
        self.reputations.get(node).cloned().unwrap_or_default()
    }

    /// Nodes that hold `content` complete and may be asked for it: online, not banned;
    /// those whose policy allows serving now first, then by their last time to first byte.
    pub fn providers(&self, content: &ContentId, nodes: &[NodeView], now_ms: u64) -> Vec<Provider> {
        let mut holders: Vec<(&NodeView, (bool, u64))> = nodes
            .iter()
            .filter(|node| node.online && !self.reputation(&node.id).banned(now_ms))
            .filter(|node| self.is_stored(content, &node.id))
            .map(|node| {
                let ttfb = self.reputation(&node.id).last_ttfb_us.unwrap_or(u64::MAX);
                (node, (node.cache_quota.is_none(), ttfb))
            })
            .collect();
        holders.sort_by_key(|(node, rank)| (*rank, node.id));
        holders
            .into_iter()
            .map(|(node, _)| Provider {
                order: None,
                node: node.id,
                direct: node.direct,
            })
            .collect()
    }

    fn is_stored(&self, content: &ContentId, node: &NodeId) -> bool {
        matches!(
            self.pins.get(content).and_then(|pins| pins.get(node)),
            Some(PinState::Stored { .. })
        )
    }

    /// Marks `node`'s pin of `content` failed at `now_ms`, for `reason`.
    pub(super) fn fail_pin(
        &mut self,
        content: ContentId,
        node: NodeId,
        reason: &str,
        now_ms: u64,
        ch: &mut Changes,
    ) {
        let failed = PinState::Failed {
            reason: reason.to_owned(),
            at_ms: now_ms,
        };
        self.set_pin(content, node, failed, ch);
    }

    pub(super) fn set_pin(
        &mut self,
        content: ContentId,
        node: NodeId,
        state: PinState,
        ch: &mut Changes,
    ) {
        self.pins
            .entry(content)
            .or_default()
            .insert(node, state.clone());
        ch.pins.push((content, node, Some(state)));
    }

    /// A node's report on a pin.
    pub fn on_report(
        &mut self,
        node: NodeId,
        content: ContentId,
        outcome: PinOutcome,
        now_ms: u64,
    ) -> Changes {
        let mut ch = Changes::default();
        if !self.contents.contains_key(&content) {
            // Not published here (or gone): the node should not keep it.
            ch.actions.push(PinAction::Unpin(node, content));
            return ch;
        }
        let state = match outcome {
            PinOutcome::Stored => PinState::Stored { at_ms: now_ms },
            PinOutcome::Failed { reason } | PinOutcome::Dropped { reason } => PinState::Failed {
                reason,
                at_ms: now_ms,
            },
        };
        self.set_pin(content, node, state, &mut ch);
        ch
    }

    /// What a node says it holds, right after it registers: those become stored pins;
    /// content not published here is unpinned on the node.
    pub fn on_inventory(&mut self, node: NodeId, held: &[ContentId], now_ms: u64) -> Changes {
        let mut ch = Changes::default();
        for content in held {
            if !self.contents.contains_key(content) {
                ch.actions.push(PinAction::Unpin(node, *content));
            } else if !self.is_stored(content, &node) {
                self.set_pin(*content, node, PinState::Stored { at_ms: now_ms }, &mut ch);
            }
        }
        ch
    }

    /// A node's full inventory is in: what it had stored but no longer lists is marked
    /// failed, and orders it had not finished (it restarted meanwhile) are sent again.
    pub fn settle_inventory(
        &mut self,
        node: NodeId,
        held: &[ContentId],
        nodes: &[NodeView],
        now_ms: u64,
    ) -> Changes {
        let mut ch = Changes::default();
        let mine: Vec<(ContentId, PinState)> = self
            .pins
            .iter()
            .filter(|(content, _)| !held.contains(content))
            .filter_map(|(content, pins)| pins.get(&node).map(|state| (*content, state.clone())))
            .collect();
        for (content, state) in mine {
            match state {
                PinState::Stored { .. } => {
                    let reason = "missing from the node's inventory";
                    self.fail_pin(content, node, reason, now_ms, &mut ch);
                }
                PinState::Assigned { .. } => {
                    let Some(record) = self.contents.get(&content) else {
                        continue;
                    };
                    let order = PinOrder {
                        content,
                        size: record.size,
                        peers: self.providers(&content, nodes, now_ms),
                    };
                    ch.actions.push(PinAction::Pin(node, order));
                    self.set_pin(content, node, PinState::Assigned { at_ms: now_ms }, &mut ch);
                }
                PinState::Failed { .. } => {}
            }
        }
        ch
    }

    /// Counts a spot check: what is believed of the node's quota follows from these.
    pub fn record_check(&mut self, node: NodeId, outcome: CheckOutcome) -> Changes {
        let mut reputation = self.reputation(&node);
        reputation.record(outcome);
        self.set_reputation(node, reputation)
    }

    /// The node served bytes that do not match: banned for a day, every pin dropped (so the
    /// content is pinned elsewhere) and unpinned on the node.
    pub fn caught_serving_bad_data(&mut self, node: NodeId, reason: &str, now_ms: u64) -> Changes {
        let mut reputation = self.reputation(&node);
        reputation.bad_data += 1;
        reputation.banned_until_ms = Some(now_ms + BAN_MS);
        let mut ch = self.set_reputation(node, reputation);
        let held: Vec<ContentId> = self
            .pins
            .iter()
            .filter(|(_, pins)| {
                matches!(
                    pins.get(&node),
                    Some(PinState::Stored { .. } | PinState::Assigned { .. })
                )
            })
            .map(|(content, _)| *content)
            .collect();
        for content in held {
            let state = PinState::Failed {
                reason: format!("served bad data: {reason}"),
                at_ms: now_ms,
            };
            self.set_pin(content, node, state, &mut ch);
            ch.actions.push(PinAction::Unpin(node, content));
        }
        ch
    }

    fn set_reputation(&mut self, node: NodeId, reputation: CacheReputation) -> Changes {
        self.reputations.insert(node, reputation.clone());
        Changes {
            reputations: vec![(node, reputation)],
            ..Changes::default()
        }
    }

    /// Stored pins on online nodes whose policy allows serving now, for spot checks (a
    /// paused node answers "busy", which would count against it).
    pub fn stored_pins(&self, nodes: &[NodeView]) -> Vec<(ContentId, NodeId)> {
        let online: HashSet<NodeId> = nodes
            .iter()
            .filter(|n| n.online && n.cache_quota.is_some())
            .map(|n| n.id)
            .collect();
        let mut pins: Vec<(ContentId, NodeId)> = self
            .pins
            .iter()
            .flat_map(|(content, pins)| {
                pins.iter()
                    .filter(|(node, state)| {
                        matches!(state, PinState::Stored { .. }) && online.contains(node)
                    })
                    .map(move |(node, _)| (*content, *node))
            })
            .collect();
        pins.sort();
        pins
    }
}

#[path = "book_plan.rs"]
mod plan;

#[cfg(test)]
#[path = "book_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "placement_tests.rs"]
mod placement_tests;
