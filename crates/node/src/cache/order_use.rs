//! Bytes served under each order limit, so no order is served past its ceiling: the
//! coordinator pays at most `max_bytes` per order, and a node that served more would work
//! for nothing. Pure: the time is handed in.

use std::collections::HashMap;

use idleshare_protocol::order::OrderLimit;

/// Past this many remembered orders, expired ones are forgotten first.
const PRUNE_AT: usize = 4096;

/// Per order serial: bytes granted so far and when the order expires.
#[derive(Debug, Default)]
pub(crate) struct OrderUse {
    used: HashMap<u64, (u64, u64)>,
}

impl OrderUse {
    /// Grants `bytes` more under `limit` if its ceiling allows; otherwise says why.
    pub(crate) fn reserve(
        &mut self,
        limit: &OrderLimit,
        bytes: u64,
        now_ms: u64,
    ) -> Result<(), String> {
        if self.used.len() >= PRUNE_AT {
            self.used.retain(|_, (_, expires)| *expires > now_ms);
        }
        let (used, _) = self
            .used
            .entry(limit.serial)
            .or_insert((0, limit.expires_at_ms));
        let after = used.saturating_add(bytes);
        if after > limit.max_bytes {
            return Err(format!(
                "order {} allows {} bytes and {} are used: ask the coordinator for a new order",
                limit.serial, limit.max_bytes, used
            ));
        }
        *used = after;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use idleshare_protocol::{ContentId, NodeId};

    fn limit(serial: u64, max_bytes: u64) -> OrderLimit {
        let id = NodeId::from(SigningKey::from_bytes(&[1; 32]).verifying_key());
        OrderLimit {
            issuer: id,
            client: id,
            node: id,
            content: ContentId::of(b"x"),
            serial,
            max_bytes,
            expires_at_ms: 100,
        }
    }

    #[test]
    fn an_order_is_served_up_to_its_ceiling_and_no_further() {
        let mut use_ = OrderUse::default();
        assert!(use_.reserve(&limit(1, 100), 60, 0).is_ok());
        assert!(use_.reserve(&limit(1, 100), 40, 0).is_ok());
        let refused = use_.reserve(&limit(1, 100), 1, 0).unwrap_err();
        assert!(refused.contains("allows 100 bytes"), "{refused}");
        assert!(
            use_.reserve(&limit(2, 100), 100, 0).is_ok(),
            "each order has its own"
        );
        assert!(
            use_.reserve(&limit(3, 0), 1, 0).is_err(),
            "a zero ceiling serves nothing"
        );
    }

    #[test]
    fn expired_orders_are_forgotten_when_many_are_remembered() {
        let mut use_ = OrderUse::default();
        for serial in 0..PRUNE_AT as u64 {
            use_.reserve(&limit(serial, 10), 10, 0).unwrap();
        }
        use_.reserve(&limit(u64::MAX, 10), 1, 101).unwrap();
        assert_eq!(use_.used.len(), 1);
    }
}
