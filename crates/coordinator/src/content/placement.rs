//! Which of the nodes that fit a piece of content get its missing copies (pure; the
//! randomness is passed in).
//!
//! Holders are drawn at random among the fitting nodes, not least-loaded first: load is no
//! key a stranger can be kept out by, since a fresh identity always has load 0 (and ids in
//! key order are ground as cheaply), so a planner that prefers the emptiest or lowest node
//! hands every new piece to whoever just made new identities. A random draw gives k Sybils
//! among n honest nodes only their share. And no two copies of one piece share a network
//! (IPv4 /24, IPv6 /48, [`NetworkPrefix`]), so identities from one home or one hosting
//! customer hold at most one copy each piece, however many there are.

use std::collections::HashSet;

use idleshare_protocol::NodeId;
use idleshare_protocol::net::NetworkPrefix;
use rand::Rng;
use rand::seq::SliceRandom;

/// A node that may take a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The node.
    pub id: NodeId,
    /// The network it connects from (`None`: unknown, so it blocks and is blocked by no
    /// other).
    pub network: Option<NetworkPrefix>,
}

/// Up to `missing` of `candidates`, drawn at random; with `one_copy_per_network`, none on
/// a network in `taken` (the networks of the content's holders) and no two on one network.
pub fn pick_holders(
    mut candidates: Vec<Candidate>,
    taken: &HashSet<NetworkPrefix>,
    missing: usize,
    one_copy_per_network: bool,
    rng: &mut impl Rng,
) -> Vec<NodeId> {
    // Sorted first, so the draw depends on the randomness alone, not on the input order.
    candidates.sort_by_key(|candidate| candidate.id);
    candidates.shuffle(rng);
    let mut taken = taken.clone();
    let mut chosen = Vec::new();
    for candidate in candidates {
        if chosen.len() == missing {
            break;
        }
        if one_copy_per_network
            && let Some(network) = candidate.network
            && !taken.insert(network)
        {
            continue;
        }
        chosen.push(candidate.id);
    }
    chosen
}
