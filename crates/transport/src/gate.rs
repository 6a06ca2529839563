//! The door of a QUIC server endpoint: which new connections may start a handshake, decided
//! on each [`quinn::Incoming`] before any cryptography is spent on it.
//!
//! Three bounds, in this order:
//! 1. connections open at once (handshaking or established): over [`GateLimits::max_connections`]
//!    a new one is refused;
//! 2. connections from one source (an IPv4 address, or an IPv6 /64, which one host can fill
//!    with addresses at will): at [`GateLimits::max_per_source`] a client whose address is
//!    not validated yet gets a QUIC Retry, so that a spoofed source address cannot be used to
//!    crowd out its real owner; a validated one is refused;
//! 3. handshakes in progress: above [`GateLimits::retry_above_handshakes`] a client whose
//!    address is not validated must prove it with a Retry first. Address validation costs a
//!    client one round trip, and only while handshakes pile up.
//!
//! A refusal is QUIC's CONNECTION_REFUSED, which the client sees at once. The decision is
//! pure ([`GateCounts::decide`]); [`ConnectionGate`] applies it to quinn and hands out a
//! [`GateTicket`] per admitted connection that gives its place back when dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// The bounds of one endpoint's door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateLimits {
    /// Connections open at once, handshakes included.
    pub max_connections: usize,
    /// Connections open at once from one source (see [`SourceKey`]).
    pub max_per_source: usize,
    /// Handshakes in progress above which unvalidated clients must answer a Retry.
    pub retry_above_handshakes: usize,
}

/// Where connections are counted from: an IPv4 address, or the /64 of an IPv6 address
/// (IPv4-mapped IPv6 addresses count as their IPv4 address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceKey(IpAddr);

impl SourceKey {
    /// The key connections from `ip` are counted under.
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                Self(IpAddr::V6(prefix.into()))
            }
            v4 => Self(v4),
        }
    }
}

/// Why a new connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The endpoint holds as many connections as it allows.
    #[error("the server holds its maximum of {max} connections; try again later")]
    Full {
        /// The limit.
        max: usize,
    },
    /// The source already holds as many connections as one source may.
    #[error("{max} connections from this address are open already, the most allowed")]
    SourceFull {
        /// The limit.
        max: usize,
    },
}

/// What to do with a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Start its handshake.
    Accept,
    /// Ask the client to prove its address first (a stateless QUIC Retry).
    Retry,
    /// Refuse it.
    Refuse(Refusal),
}

/// Connections an endpoint holds now.
#[derive(Debug, Default)]
pub struct GateCounts {
    open: usize,
    handshaking: usize,
    per_source: HashMap<SourceKey, usize>,
}

impl GateCounts {
    /// What to do with a new connection from `source`, `validated` when it carries a
    /// token proving its address.
    pub fn decide(&self, limits: &GateLimits, source: SourceKey, validated: bool) -> Admission {
        if self.open >= limits.max_connections {
            return Admission::Refuse(Refusal::Full {
                max: limits.max_connections,
            });
        }
        let from_source = self.per_source.get(&source).copied().unwrap_or(0);
        let busy = self.handshaking >= limits.retry_above_handshakes;
        match (from_source >= limits.max_per_source, validated) {
            (true, true) => Admission::Refuse(Refusal::SourceFull {
                max: limits.max_per_source,
            }),
            (true, false) => Admission::Retry,
            (false, false) if busy => Admission::Retry,
            (false, _) => Admission::Accept,
        }
    }

    /// Counts an admitted connection, handshaking.
    pub fn enter(&mut self, source: SourceKey) {
        self.open += 1;
        self.handshaking += 1;
        *self.per_source.entry(source).or_default() += 1;
    }

    /// A handshake ended (done or failed): it no longer counts as in progress.
    pub fn handshake_ended(&mut self) {
        self.handshaking = self.handshaking.saturating_sub(1);
    }

    /// A connection closed; `handshaking` when its handshake never ended.
    pub fn leave(&mut self, source: SourceKey, handshaking: bool) {
        self.open = self.open.saturating_sub(1);
        if handshaking {
            self.handshake_ended();
        }
        if let Some(count) = self.per_source.get_mut(&source) {
            *count -= 1;
            if *count == 0 {
                self.per_source.remove(&source);
            }
        }
    }

    /// Connections open, handshakes included.
    pub fn open(&self) -> usize {
        self.open
    }

    /// Handshakes in progress.
    pub fn handshaking(&self) -> usize {
        self.handshaking
    }
}

/// What the gate did with a new connection.
#[derive(Debug)]
pub enum Gated {
    /// Admitted: await the handshake, and keep the ticket for as long as the connection.
    Admitted(Box<quinn::Incoming>, GateTicket),
    /// A Retry was sent; the client comes back with a token if its address is real.
    Retried,
    /// Refused with CONNECTION_REFUSED.
    Refused(Refusal),
}

/// Applies [`GateCounts::decide`] to an endpoint's incoming connections.
#[derive(Debug, Clone)]
pub struct ConnectionGate {
    limits: GateLimits,
    counts: Arc<Mutex<GateCounts>>,
}

impl ConnectionGate {
    /// A gate with these bounds and nothing open.
    pub fn new(limits: GateLimits) -> Self {
        Self {
            limits,
            counts: Arc::default(),
        }
    }

    /// Admits, retries or refuses `incoming`.
    pub fn admit(&self, incoming: quinn::Incoming) -> Gated {
        let source = SourceKey::of(incoming.remote_address().ip());
        let validated = incoming.remote_address_validated();
        let mut counts = lock(&self.counts);
        match counts.decide(&self.limits, source, validated) {
            Admission::Accept => {
                counts.enter(source);
                let ticket = GateTicket {
                    counts: self.counts.clone(),
                    source,
                    handshaking: true,
                };
                Gated::Admitted(Box::new(incoming), ticket)
            }
            Admission::Retry => {
                drop(counts);
                // quinn guarantees an unvalidated connection may be retried; should that
                // ever change, refusing is the safe answer.
                match incoming.retry() {
                    Ok(()) => Gated::Retried,
                    Err(cannot) => {
                        cannot.into_incoming().refuse();
                        Gated::Refused(Refusal::SourceFull {
                            max: self.limits.max_per_source,
                        })
                    }
                }
            }
            Admission::Refuse(refusal) => {
                drop(counts);
                incoming.refuse();
                Gated::Refused(refusal)
            }
        }
    }

    /// (open connections, handshakes in progress) now.
    pub fn counts(&self) -> (usize, usize) {
        let counts = lock(&self.counts);
        (counts.open(), counts.handshaking())
    }
}

/// One admitted connection's place at the door; dropping it gives the place back.
#[derive(Debug)]
pub struct GateTicket {
    counts: Arc<Mutex<GateCounts>>,
    source: SourceKey,
    handshaking: bool,
}

impl GateTicket {
    /// The handshake ended (established or failed); the connection still counts as open.
    pub fn handshake_ended(&mut self) {
        if std::mem::take(&mut self.handshaking) {
            lock(&self.counts).handshake_ended();
        }
    }
}

impl Drop for GateTicket {
    fn drop(&mut self) {
        lock(&self.counts).leave(self.source, self.handshaking);
    }
}

/// The counts stay consistent even if a holder panicked: every change is one statement.
fn lock(counts: &Mutex<GateCounts>) -> MutexGuard<'_, GateCounts> {
    counts
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: GateLimits = GateLimits {
        max_connections: 4,
        max_per_source: 2,
        retry_above_handshakes: 2,
    };

    fn source(text: &str) -> SourceKey {
        SourceKey::of(text.parse().unwrap())
    }

    /// Counts with `established` finished handshakes and `handshaking` ones, all from `from`.
    fn counts(from: &[(&str, usize, usize)]) -> GateCounts {
        let mut counts = GateCounts::default();
        for &(ip, established, handshaking) in from {
            for _ in 0..established {
                counts.enter(source(ip));
                counts.handshake_ended();
            }
            for _ in 0..handshaking {
                counts.enter(source(ip));
            }
        }
        counts
    }

    /// (case, open connections as (ip, established, handshaking), new from, validated, answer)
    type Case = (
        &'static str,
        &'static [(&'static str, usize, usize)],
        &'static str,
        bool,
        Admission,
    );

    #[test]
    fn each_bound_gives_its_answer() {
        let full_source = Admission::Refuse(Refusal::SourceFull { max: 2 });
        let full = Admission::Refuse(Refusal::Full { max: 4 });
        let table: [Case; 9] = [
            ("empty", &[], "10.0.0.1", false, Admission::Accept),
            (
                "one open",
                &[("10.0.0.1", 1, 0)],
                "10.0.0.1",
                false,
                Admission::Accept,
            ),
            (
                "source at cap, unvalidated",
                &[("10.0.0.1", 2, 0)],
                "10.0.0.1",
                false,
                Admission::Retry,
            ),
            (
                "source at cap, validated",
                &[("10.0.0.1", 2, 0)],
                "10.0.0.1",
                true,
                full_source,
            ),
            (
                "another source",
                &[("10.0.0.1", 2, 0)],
                "10.0.0.2",
                false,
                Admission::Accept,
            ),
            (
                "handshakes pile up",
                &[("10.0.0.1", 0, 1), ("10.0.0.2", 0, 1)],
                "10.0.0.3",
                false,
                Admission::Retry,
            ),
            (
                "piled up, validated",
                &[("10.0.0.1", 0, 1), ("10.0.0.2", 0, 1)],
                "10.0.0.3",
                true,
                Admission::Accept,
            ),
            (
                "all full",
                &[("10.0.0.1", 2, 0), ("10.0.0.2", 2, 0)],
                "10.0.0.3",
                true,
                full,
            ),
            (
                "all full beats retry",
                &[("10.0.0.1", 2, 0), ("10.0.0.2", 2, 0)],
                "10.0.0.3",
                false,
                full,
            ),
        ];
        for (case, open, from, validated, want) in table {
            let got = counts(open).decide(&LIMITS, source(from), validated);
            assert_eq!(got, want, "{case}");
        }
    }

    #[test]
    fn leaving_gives_places_back_and_forgets_empty_sources() {
        let mut counts = counts(&[("10.0.0.1", 1, 1)]);
        assert_eq!((counts.open(), counts.handshaking()), (2, 1));
        counts.leave(source("10.0.0.1"), true);
        counts.leave(source("10.0.0.1"), false);
        assert_eq!((counts.open(), counts.handshaking()), (0, 0));
        assert!(counts.per_source.is_empty());
    }

    #[test]
    fn an_ipv6_host_counts_as_its_slash_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(source("2001:db8:1:2::1"), source("2001:db8:1:2:ffff::9"));
        assert_ne!(source("2001:db8:1:2::1"), source("2001:db8:1:3::1"));
        assert_eq!(source("::ffff:10.0.0.1"), source("10.0.0.1"));
        assert_ne!(source("10.0.0.1"), source("10.0.0.2"));
    }
}
