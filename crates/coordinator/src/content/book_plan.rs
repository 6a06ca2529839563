//! The pin plan of the content book: every piece of content on its wanted number of live
//! copies, new holders drawn at random among the nodes whose believed quota fits
//! (`placement`, `reputation`), and silent assignments timed out.

use std::collections::{HashMap, HashSet};

use idleshare_cache::store::disk_bytes;
use idleshare_protocol::cache::PinOrder;
use idleshare_protocol::net::NetworkPrefix;
use idleshare_protocol::{ContentId, NodeId};
use rand::Rng;

use super::{
    ASSIGN_TIMEOUT_MS, Changes, ContentBook, ContentRecord, FAILED_RETRY_MS, NodeView, PinAction,
    PinState,
};
use crate::content::placement::{Candidate, pick_holders};

impl ContentBook {
    /// Orders pins so every piece of content has its wanted live copies (stored or being
    /// filled on online, unbanned nodes), and times out silent assignments. New holders are
    /// drawn with `rng` among the nodes that fit (see `placement`); with
    /// `one_copy_per_network`, no two holders of one piece share a network.
    pub fn plan(
        &mut self,
        nodes: &[NodeView],
        one_copy_per_network: bool,
        now_ms: u64,
        rng: &mut impl Rng,
    ) -> Changes {
        let mut ch = Changes::default();
        self.expire_assignments(now_ms, &mut ch);
        let online: HashMap<NodeId, &NodeView> = nodes
            .iter()
            .filter(|n| n.online && !self.reputation(&n.id).banned(now_ms))
            .map(|n| (n.id, n))
            .collect();
        let networks: HashMap<NodeId, NetworkPrefix> = nodes
            .iter()
            .filter_map(|n| n.network.map(|network| (n.id, network)))
            .collect();
        let records: Vec<ContentRecord> = self.contents.values().cloned().collect();
        for record in records {
            let (candidates, missing) = self.candidates(&record, &online, now_ms);
            if missing == 0 || candidates.is_empty() {
                continue;
            }
            let taken = self.holder_networks(&record.id, &networks);
            let chosen = pick_holders(candidates, &taken, missing, one_copy_per_network, rng);
            if chosen.is_empty() {
                continue;
            }
            let peers = self.providers(&record.id, nodes, now_ms);
            for node in chosen {
                let order = PinOrder {
                    content: record.id,
                    size: record.size,
                    peers: peers.clone(),
                };
                ch.actions.push(PinAction::Pin(node, order));
                self.set_pin(
                    record.id,
                    node,
                    PinState::Assigned { at_ms: now_ms },
                    &mut ch,
                );
            }
        }
        ch
    }

    /// How many live copies `record` lacks, and the online nodes that may take one: their
    /// policy allows caching now, the quota believed of them (their claim, as far as spot
    /// checks confirm it: [`CacheReputation::believed_quota`]) fits it, and they have not
    /// failed it lately. The node manages its own disk (it evicts and reports), so only
    /// the piece itself has to fit.
    fn candidates(
        &self,
        record: &ContentRecord,
        online: &HashMap<NodeId, &NodeView>,
        now_ms: u64,
    ) -> (Vec<Candidate>, usize) {
        let pins = self.pins.get(&record.id);
        let state_of = |node: &NodeId| pins.and_then(|p| p.get(node));
        let live = online
            .keys()
            .filter(|node| {
                matches!(
                    state_of(node),
                    Some(PinState::Stored { .. } | PinState::Assigned { .. })
                )
            })
            .count();
        let missing = usize::from(record.replicas).saturating_sub(live);
        if missing == 0 {
            return (Vec::new(), 0);
        }
        let need = disk_bytes(record.size);
        let candidates = online
            .values()
            .filter(|node| {
                node.cache_quota.is_some_and(|claimed| {
                    self.reputation(&node.id).believed_quota(claimed) >= need
                })
            })
            .filter(|node| match state_of(&node.id) {
                None => true,
                Some(PinState::Failed { at_ms, .. }) => at_ms + FAILED_RETRY_MS <= now_ms,
                Some(_) => false,
            })
            .map(|node| Candidate {
                id: node.id,
                network: node.network,
            })
            .collect();
        (candidates, missing)
    }

    /// The networks of the nodes that hold or are filling `content`, online or not (a
    /// holder back online must not make two copies on one network).
    fn holder_networks(
        &self,
        content: &ContentId,
        networks: &HashMap<NodeId, NetworkPrefix>,
    ) -> HashSet<NetworkPrefix> {
        self.pins
            .get(content)
            .into_iter()
            .flatten()
            .filter(|(_, state)| !matches!(state, PinState::Failed { .. }))
            .filter_map(|(node, _)| networks.get(node).copied())
            .collect()
    }

    fn expire_assignments(&mut self, now_ms: u64, ch: &mut Changes) {
        let expired: Vec<(ContentId, NodeId)> = self
            .pins
            .iter()
            .flat_map(|(content, pins)| {
                pins.iter().filter_map(move |(node, state)| match state {
                    PinState::Assigned { at_ms } if at_ms + ASSIGN_TIMEOUT_MS <= now_ms => {
                        Some((*content, *node))
                    }
                    _ => None,
                })
            })
            .collect();
        for (content, node) in expired {
            self.fail_pin(content, node, "no report in time", now_ms, ch);
        }
    }
}
