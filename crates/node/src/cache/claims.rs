//! Service receipts clients gave this node, kept until the coordinator has paid for them.
//!
//! Receipts of one client session are cumulative, so only the largest is kept. Each is sent
//! once per session with the coordinator and resent after a reconnect, until a ledger
//! receipt covering it arrives ([`ClaimBook::paid`]). Pure: time is passed in.

use std::collections::HashMap;

use idleshare_protocol::NodeId;
use idleshare_protocol::cache::SignedServiceReceipt;

/// Most sessions waiting for payment; beyond it the oldest is dropped.
const MAX_PENDING: usize = 10_000;
/// A claim unpaid this long is given up (the coordinator refused or lost it).
pub(crate) const CLAIM_MAX_AGE_MS: u64 = 24 * 60 * 60 * 1000;

#[derive(Debug)]
struct Claim {
    receipt: SignedServiceReceipt,
    sent: bool,
    updated_ms: u64,
}

/// Unpaid service receipts, one per client session.
#[derive(Debug, Default)]
pub(crate) struct ClaimBook {
    pending: HashMap<(NodeId, u64), Claim>,
}

impl ClaimBook {
    /// Keeps `receipt` if it covers more bytes than the one held for its session.
    pub(crate) fn add(&mut self, receipt: SignedServiceReceipt, now_ms: u64) {
        let key = (receipt.receipt.client, receipt.receipt.session);
        if let Some(held) = self.pending.get(&key)
            && held.receipt.receipt.bytes >= receipt.receipt.bytes
        {
            return;
        }
        if self.pending.len() >= MAX_PENDING && !self.pending.contains_key(&key) {
            self.drop_oldest();
        }
        let claim = Claim {
            receipt,
            sent: false,
            updated_ms: now_ms,
        };
        self.pending.insert(key, claim);
    }

    fn drop_oldest(&mut self) {
        if let Some(oldest) = self
            .pending
            .iter()
            .min_by_key(|(_, claim)| claim.updated_ms)
            .map(|(key, _)| *key)
        {
            self.pending.remove(&oldest);
        }
    }

    /// Up to `max` receipts not yet sent in this session, now marked sent.
    pub(crate) fn take_unsent(&mut self, max: usize) -> Vec<SignedServiceReceipt> {
        self.pending
            .values_mut()
            .filter(|claim| !claim.sent)
            .take(max)
            .map(|claim| {
                claim.sent = true;
                claim.receipt.clone()
            })
            .collect()
    }

    /// Whether something waits to be sent.
    pub(crate) fn has_unsent(&self) -> bool {
        self.pending.values().any(|claim| !claim.sent)
    }

    /// A new session: everything unpaid is sent again; claims too old are given up.
    pub(crate) fn resend_all(&mut self, now_ms: u64) {
        self.pending
            .retain(|_, claim| claim.updated_ms.saturating_add(CLAIM_MAX_AGE_MS) > now_ms);
        for claim in self.pending.values_mut() {
            claim.sent = false;
        }
    }

    /// The coordinator paid `client`'s `session` up to `upto` bytes.
    pub(crate) fn paid(&mut self, client: NodeId, session: u64, upto: u64) {
        if self
            .pending
            .get(&(client, session))
            .is_some_and(|claim| claim.receipt.receipt.bytes <= upto)
        {
            self.pending.remove(&(client, session));
        }
    }

    /// Claims waiting.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use idleshare_protocol::ContentId;
    use idleshare_protocol::cache::ServiceReceipt;

    use super::*;

    fn receipt(session: u64, bytes: u64) -> SignedServiceReceipt {
        let client = SigningKey::from_bytes(&[1; 32]);
        ServiceReceipt {
            client: NodeId::from(client.verifying_key()),
            node: NodeId::from(SigningKey::from_bytes(&[2; 32]).verifying_key()),
            content: ContentId::of(b"c"),
            session,
            bytes,
            signed_at_ms: 0,
        }
        .sign(&client)
    }

    #[test]
    fn the_largest_receipt_of_a_session_is_kept_until_paid() {
        let mut book = ClaimBook::default();
        book.add(receipt(1, 100), 0);
        book.add(receipt(1, 50), 1);
        book.add(receipt(2, 10), 2);
        let mut sent = book.take_unsent(10);
        sent.sort_by_key(|r| r.receipt.session);
        assert_eq!(
            sent.iter().map(|r| r.receipt.bytes).collect::<Vec<_>>(),
            vec![100, 10]
        );
        assert!(book.take_unsent(10).is_empty(), "sent once per session");
        book.add(receipt(1, 300), 3);
        assert_eq!(
            book.take_unsent(10)[0].receipt.bytes,
            300,
            "a larger one goes out"
        );
        let client = receipt(1, 0).receipt.client;
        book.paid(client, 1, 200);
        assert_eq!(book.len(), 2, "paid only up to 200 of 300: still owed");
        book.paid(client, 1, 300);
        book.resend_all(4);
        assert_eq!(
            book.take_unsent(10).len(),
            1,
            "the unpaid one goes out again"
        );
    }

    #[test]
    fn stale_claims_are_given_up_at_a_new_session() {
        let mut book = ClaimBook::default();
        book.add(receipt(1, 100), 0);
        book.resend_all(CLAIM_MAX_AGE_MS + 1);
        assert_eq!(book.len(), 0);
    }
}
