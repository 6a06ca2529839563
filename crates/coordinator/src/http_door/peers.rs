//! Open HTTP connections, in all and per peer: pure counting, so a connection over either
//! cap is refused before it costs more than its socket.

use std::collections::HashMap;

use idleshare_transport::gate::SourceKey;

/// Whom connections are counted against: the QUIC gate's [`SourceKey`] (an IPv4 address,
/// or an IPv6 /64: one home or host gets a whole /64, so counting single IPv6 addresses
/// would bound nothing), so both front doors count one source the same way.
pub type Peer = SourceKey;

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Every connection slot is taken.
    #[error("the coordinator has {0} HTTP connections open, its limit; try again in a few seconds")]
    Full(usize),
    /// This peer holds its share already.
    #[error(
        "your address has {0} HTTP connections open, the limit per address; close some \
         (or reuse one) and try again"
    )]
    PeerFull(usize),
}

/// Connections open now.
#[derive(Debug, Default)]
pub struct PeerCounts {
    total: usize,
    per_peer: HashMap<Peer, usize>,
}

impl PeerCounts {
    /// Counts a new connection from `peer`, or refuses it when a cap is reached.
    pub fn admit(
        &mut self,
        peer: Peer,
        max_total: usize,
        max_per_peer: usize,
    ) -> Result<(), Refusal> {
        if self.total >= max_total {
            return Err(Refusal::Full(max_total));
        }
        let held = self.per_peer.entry(peer).or_default();
        if *held >= max_per_peer {
            if *held == 0 {
                self.per_peer.remove(&peer);
            }
            return Err(Refusal::PeerFull(max_per_peer));
        }
        *held += 1;
        self.total += 1;
        Ok(())
    }

    /// A connection from `peer` closed.
    pub fn release(&mut self, peer: Peer) {
        if let Some(held) = self.per_peer.get_mut(&peer) {
            *held -= 1;
            if *held == 0 {
                self.per_peer.remove(&peer);
            }
            self.total = self.total.saturating_sub(1);
        }
    }

    /// Connections open now.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Peers with a connection open now.
    pub fn peers(&self) -> usize {
        self.per_peer.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(text: &str) -> Peer {
        Peer::of(text.parse().unwrap())
    }

    #[test]
    fn peers_are_addresses_or_ipv6_slash_64s() {
        assert_eq!(peer("10.0.0.1"), peer("::ffff:10.0.0.1"));
        assert_ne!(peer("10.0.0.1"), peer("10.0.0.2"));
        assert_eq!(peer("2001:db8:1:2::1"), peer("2001:db8:1:2:ffff::9"));
        assert_ne!(peer("2001:db8:1:2::1"), peer("2001:db8:1:3::1"));
        assert_ne!(
            peer("::a00:1"),
            peer("10.0.0.1"),
            "v6 never collides with v4"
        );
    }

    #[test]
    fn caps_refuse_and_releases_make_room() {
        let (a, b) = (peer("10.0.0.1"), peer("10.0.0.2"));
        let mut counts = PeerCounts::default();
        assert_eq!(counts.admit(a, 3, 2), Ok(()));
        assert_eq!(counts.admit(a, 3, 2), Ok(()));
        assert_eq!(counts.admit(a, 3, 2), Err(Refusal::PeerFull(2)));
        assert_eq!(counts.admit(b, 3, 2), Ok(()));
        assert_eq!(counts.admit(b, 3, 2), Err(Refusal::Full(3)));
        counts.release(a);
        assert_eq!(counts.admit(b, 3, 2), Ok(()));
        assert_eq!(counts.total(), 3);
        counts.release(a);
        counts.release(b);
        counts.release(b);
        counts.release(b);
        assert_eq!((counts.total(), counts.peers()), (0, 0));
        let zero = peer("10.0.0.3");
        assert_eq!(counts.admit(zero, 3, 0), Err(Refusal::PeerFull(0)));
        assert_eq!(counts.peers(), 0, "a refused peer leaves no entry");
    }
}
