//! The coordinator's QUIC front door: who may connect, and how many of each kind.
//!
//! One endpoint serves two kinds of connection, told apart by ALPN once the handshake is
//! done: node control sessions (`idleshare/1`) and cache clients (`idleshare-cache/1`).
//! Before the handshake the transport's [`ConnectionGate`] bounds connections in all and
//! per source address, and asks for address validation (QUIC Retry) when handshakes pile
//! up. After it, each kind draws on a budget of its own ([`SessionBudgets`]), so a crowd of
//! cache clients cannot lock nodes out of their control sessions, nor the reverse. A
//! connection over its kind's budget is closed with `TooManyConnections` and a reason that
//! names the budget.

use idleshare_base::sync::Mutex;
use std::sync::Arc;

use idleshare_transport::gate::{ConnectionGate, GateLimits};

/// The two kinds of connection the coordinator's endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionKind {
    /// A node's control session.
    Node,
    /// A cache client: origin copies, relayed ranges, receipts.
    CacheClient,
}

/// How many connections of each kind may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionBudgets {
    /// Node control sessions.
    pub max_node_sessions: usize,
    /// Cache clients.
    pub max_cache_clients: usize,
}

impl SessionBudgets {
    fn max(&self, kind: ConnectionKind) -> usize {
        match kind {
            ConnectionKind::Node => self.max_node_sessions,
            ConnectionKind::CacheClient => self.max_cache_clients,
        }
    }
}

/// A kind's budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BudgetFull {
    /// Too many node sessions.
    #[error("the coordinator holds its maximum of {0} node sessions; the node will retry later")]
    NodeSessions(usize),
    /// Too many cache clients.
    #[error("the coordinator serves its maximum of {0} cache clients; try again later")]
    CacheClients(usize),
}

impl BudgetFull {
    /// A snake_case label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::NodeSessions(_) => "node_sessions",
            Self::CacheClients(_) => "cache_clients",
        }
    }
}

/// Open connections per kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KindCounts {
    nodes: usize,
    cache_clients: usize,
}

impl KindCounts {
    fn slot(&mut self, kind: ConnectionKind) -> &mut usize {
        match kind {
            ConnectionKind::Node => &mut self.nodes,
            ConnectionKind::CacheClient => &mut self.cache_clients,
        }
    }

    /// Takes a place for `kind` if its budget has one.
    pub fn take(
        &mut self,
        budgets: &SessionBudgets,
        kind: ConnectionKind,
    ) -> Result<(), BudgetFull> {
        let max = budgets.max(kind);
        let slot = self.slot(kind);
        if *slot >= max {
            return Err(match kind {
                ConnectionKind::Node => BudgetFull::NodeSessions(max),
                ConnectionKind::CacheClient => BudgetFull::CacheClients(max),
            });
        }
        *slot += 1;
        Ok(())
    }

    /// Gives a place of `kind` back.
    pub fn give_back(&mut self, kind: ConnectionKind) {
        let slot = self.slot(kind);
        *slot = slot.saturating_sub(1);
    }
}

/// The gate before the handshake and the budgets after it.
pub struct QuicDoor {
    /// Caps in all and per source, and Retry under load.
    pub gate: ConnectionGate,
    budgets: SessionBudgets,
    counts: Arc<Mutex<KindCounts>>,
}

impl QuicDoor {
    /// A door with these bounds and nothing open.
    pub fn new(gate: GateLimits, budgets: SessionBudgets) -> Self {
        Self {
            gate: ConnectionGate::new(gate),
            budgets,
            counts: Arc::default(),
        }
    }

    /// A place for one connection of `kind`, held until the returned value is dropped.
    pub fn take(&self, kind: ConnectionKind) -> Result<KindPlace, BudgetFull> {
        self.counts.lock().take(&self.budgets, kind)?;
        Ok(KindPlace {
            counts: self.counts.clone(),
            kind,
        })
    }
}

/// One connection's place in its kind's budget.
pub struct KindPlace {
    counts: Arc<Mutex<KindCounts>>,
    kind: ConnectionKind,
}

impl Drop for KindPlace {
    fn drop(&mut self) {
        self.counts.lock().give_back(self.kind);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGETS: SessionBudgets = SessionBudgets {
        max_node_sessions: 2,
        max_cache_clients: 1,
    };

    #[test]
    fn each_kind_has_its_own_budget() {
        use ConnectionKind::{CacheClient, Node};
        // (already open: nodes, cache clients; asking for; answer)
        let table = [
            ((0, 0), Node, Ok(())),
            ((1, 1), Node, Ok(())),
            ((2, 0), Node, Err(BudgetFull::NodeSessions(2))),
            ((2, 0), CacheClient, Ok(())),
            ((0, 1), CacheClient, Err(BudgetFull::CacheClients(1))),
            ((0, 1), Node, Ok(())),
        ];
        for ((nodes, cache_clients), kind, want) in table {
            let mut counts = KindCounts {
                nodes,
                cache_clients,
            };
            assert_eq!(
                counts.take(&BUDGETS, kind),
                want,
                "{nodes} nodes, {cache_clients} cache clients, asking for {kind:?}"
            );
        }
    }

    #[test]
    fn a_place_is_given_back_when_dropped() {
        let door = QuicDoor::new(
            GateLimits {
                max_connections: 10,
                max_per_source: 10,
                retry_above_handshakes: 10,
            },
            BUDGETS,
        );
        let place = door.take(ConnectionKind::CacheClient).unwrap();
        let full = door.take(ConnectionKind::CacheClient).err().unwrap();
        assert!(
            full.to_string().contains("maximum of 1 cache clients"),
            "{full}"
        );
        drop(place);
        assert!(door.take(ConnectionKind::CacheClient).is_ok());
    }
}
