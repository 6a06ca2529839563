//! The ledger: credits as signed receipts, one chain per node, at most one credit per
//! (node, unit), and serving paid once per byte a client signed for. Pure: the signing key
//! and the time are handed in.

use std::collections::{HashMap, HashSet};

use ed25519_dalek::SigningKey;
use idleshare_protocol::api::{LedgerSummary, NodeAccount};
use idleshare_protocol::cache::ServiceReceipt;
use idleshare_protocol::order::{OrderLimit, SignedOrderLimit};
use idleshare_protocol::{
    ChainTip, ContentId, Credit, CreditRate, MicroTokens, NodeId, Receipt, ServingRate,
    SignedReceipt, UnitId,
};

/// One client session's bytes from one node.
type ServingKey = (NodeId, NodeId, u64);

/// Every node's chain tip, what has been credited, and the totals.
pub struct Ledger {
    key: SigningKey,
    issuer: NodeId,
    rate: CreditRate,
    serving_rate: ServingRate,
    tips: HashMap<NodeId, ChainTip>,
    credited: HashSet<(NodeId, UnitId)>,
    /// Bytes credited per (node, client, session): receipts are cumulative.
    served: HashMap<ServingKey, u64>,
    /// Storage periods credited per (node, content).
    kept: HashSet<(NodeId, ContentId, u32)>,
    total: u64,
    receipts: u64,
}

impl Ledger {
    /// An empty ledger signing with the coordinator's `key`.
    pub fn new(key: SigningKey, rate: CreditRate, serving_rate: ServingRate) -> Self {
        Self {
            issuer: NodeId::from(key.verifying_key()),
            key,
            rate,
            serving_rate,
            tips: HashMap::new(),
            credited: HashSet::new(),
            served: HashMap::new(),
            kept: HashSet::new(),
            total: 0,
            receipts: 0,
        }
    }

    /// The coordinator's id, which signs every receipt.
    pub fn issuer(&self) -> NodeId {
        self.issuer
    }

    /// The published rate.
    pub fn rate(&self) -> CreditRate {
        self.rate
    }

    /// The published rate for serving.
    pub fn serving_rate(&self) -> ServingRate {
        self.serving_rate
    }

    /// Replays a stored receipt (in chain order per node) while restoring.
    pub fn restore(&mut self, signed: &SignedReceipt) {
        let receipt = &signed.receipt;
        let tip = self.tips.entry(receipt.node).or_insert(ChainTip::GENESIS);
        *tip = ChainTip {
            seq: receipt.seq,
            hash: signed.hash(),
            balance: MicroTokens(tip.balance.0.saturating_add(receipt.amount.0)),
        };
        match receipt.work {
            Credit::Unit(unit) => {
                self.credited.insert((receipt.node, unit));
            }
            Credit::Serving {
                client,
                session,
                upto,
                ..
            } => {
                let served = self
                    .served
                    .entry((receipt.node, client, session))
                    .or_default();
                *served = (*served).max(upto);
            }
            Credit::Storage { content, period } => {
                self.kept.insert((receipt.node, content, period));
            }
        }
        self.total = self.total.saturating_add(receipt.amount.0);
        self.receipts += 1;
    }

    /// Whether `node` was already credited for `unit`.
    pub fn credited(&self, node: &NodeId, unit: UnitId) -> bool {
        self.credited.contains(&(*node, unit))
    }

    /// Credits `node` with `amount` for validated work on `unit`; `None` if already
    /// credited. The caller has taken `amount` from the job's escrow.
    pub fn issue(
        &mut self,
        node: NodeId,
        unit: UnitId,
        amount: MicroTokens,
        now_ms: u64,
    ) -> Option<SignedReceipt> {
        if !self.credited.insert((node, unit)) {
            return None;
        }
        Some(self.sign(node, Credit::Unit(unit), amount, now_ms))
    }

    /// Whether `node` was already credited for storage `credit` (other kinds: false).
    pub fn credited_work(&self, node: &NodeId, credit: &Credit) -> bool {
        match *credit {
            Credit::Storage { content, period } => self.kept.contains(&(*node, content, period)),
            Credit::Unit(unit) => self.credited(node, unit),
            Credit::Serving { .. } => false,
        }
    }

    /// Credits `node` with `amount` for a storage period (check [`Ledger::credited_work`]
    /// first); the caller has taken `amount` from the storage escrow.
    pub fn issue_credit(
        &mut self,
        node: NodeId,
        credit: Credit,
        amount: MicroTokens,
        now_ms: u64,
    ) -> SignedReceipt {
        if let Credit::Storage { content, period } = credit {
            self.kept.insert((node, content, period));
        }
        self.sign(node, credit, amount, now_ms)
    }

    /// Bytes of `claim`'s session already credited.
    pub fn served(&self, claim: &ServiceReceipt) -> u64 {
        let key = (claim.node, claim.client, claim.session);
        self.served.get(&key).copied().unwrap_or(0)
    }

    /// Bytes a (checked) service receipt adds to its session, at most `cap` per session.
    pub fn new_serving_bytes(&self, claim: &ServiceReceipt, cap: u64) -> u64 {
        claim.bytes.min(cap).saturating_sub(self.served(claim))
    }

    /// Credits the node named in a (checked) service receipt for the bytes it adds to its
    /// session, at most `cap` bytes per session; `None` when it adds nothing. The caller
    /// has taken the amount from the order's escrow.
    pub fn issue_serving(
        &mut self,
        claim: &ServiceReceipt,
        cap: u64,
        now_ms: u64,
    ) -> Option<SignedReceipt> {
        let key = (claim.node, claim.client, claim.session);
        let before = self.served.get(&key).copied().unwrap_or(0);
        let upto = claim.bytes.min(cap);
        if upto <= before {
            return None;
        }
        self.served.insert(key, upto);
        let bytes = upto - before;
        let work = Credit::Serving {
            content: claim.content,
            client: claim.client,
            session: claim.session,
            bytes,
            upto,
        };
        let amount = self.serving_rate.credit(bytes);
        Some(self.sign(claim.node, work, amount, now_ms))
    }

    /// Signs the next receipt of `node`'s chain.
    fn sign(
        &mut self,
        node: NodeId,
        work: Credit,
        amount: MicroTokens,
        now_ms: u64,
    ) -> SignedReceipt {
        let tip = self.tips.entry(node).or_insert(ChainTip::GENESIS);
        let signed = Receipt {
            issuer: self.issuer,
            node,
            work,
            amount,
            issued_at_ms: now_ms,
            seq: tip.seq + 1,
            prev: tip.hash,
        }
        .sign(&self.key);
        *tip = ChainTip {
            seq: signed.receipt.seq,
            hash: signed.hash(),
            balance: MicroTokens(tip.balance.0.saturating_add(amount.0)),
        };
        self.total = self.total.saturating_add(amount.0);
        self.receipts += 1;
        signed
    }

    /// Signs an order limit with the coordinator's key.
    pub fn sign_order(&self, limit: OrderLimit) -> SignedOrderLimit {
        limit.sign(&self.key)
    }

    /// The tip of `node`'s chain.
    pub fn tip(&self, node: &NodeId) -> ChainTip {
        self.tips.get(node).copied().unwrap_or(ChainTip::GENESIS)
    }

    /// Totals and accounts, largest balance first.
    pub fn summary(&self) -> LedgerSummary {
        let mut accounts: Vec<NodeAccount> = self
            .tips
            .iter()
            .map(|(node, tip)| NodeAccount {
                node: *node,
                balance: tip.balance,
                receipts: tip.seq,
            })
            .collect();
        accounts.sort_by(|a, b| b.balance.cmp(&a.balance).then(a.node.cmp(&b.node)));
        LedgerSummary {
            rate: self.rate,
            total: MicroTokens(self.total),
            receipts: self.receipts,
            accounts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idleshare_protocol::receipt::verify_chain;

    const RATE: CreditRate = CreditRate {
        micro_tokens_per_megafuel: 1000,
    };
    const SERVING: ServingRate = ServingRate {
        micro_tokens_per_gib: 1_000_000,
    };

    fn node(seed: u8) -> NodeId {
        NodeId::from(SigningKey::from_bytes(&[seed; 32]).verifying_key())
    }

    #[test]
    fn receipts_chain_per_node_pay_once_and_sum_to_the_total() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let node = node(2);
        let rate = RATE;
        let mut ledger = Ledger::new(key, rate, SERVING);
        let first = ledger
            .issue(node, UnitId(1), rate.credit(100_000_000), 5)
            .unwrap();
        assert_eq!(first.receipt.amount, MicroTokens(100_000));
        assert!(
            ledger
                .issue(node, UnitId(1), rate.credit(100_000_000), 6)
                .is_none(),
            "paid once"
        );
        let second = ledger
            .issue(node, UnitId(2), rate.credit(2_000_000), 7)
            .unwrap();
        let tip = verify_chain([&first, &second], &ledger.issuer(), &node).unwrap();
        assert_eq!(tip, ledger.tip(&node));
        let summary = ledger.summary();
        assert_eq!((summary.total, summary.receipts), (MicroTokens(102_000), 2));
        let mut restored = Ledger::new(SigningKey::from_bytes(&[1; 32]), rate, SERVING);
        restored.restore(&first);
        restored.restore(&second);
        assert_eq!(restored.summary(), summary);
        assert!(restored.issue(node, UnitId(2), MicroTokens(1), 8).is_none());
    }

    #[test]
    fn serving_pays_each_signed_byte_once_up_to_the_cap() {
        let mut ledger = Ledger::new(SigningKey::from_bytes(&[1; 32]), RATE, SERVING);
        let claim = |bytes| ServiceReceipt {
            client: node(3),
            node: node(2),
            content: idleshare_protocol::ContentId::of(b"site"),
            session: 9,
            bytes,
            signed_at_ms: 1,
        };
        let gib = 1u64 << 30;
        let first = ledger.issue_serving(&claim(gib / 2), 4 * gib, 10).unwrap();
        assert_eq!(first.receipt.amount, MicroTokens(500_000));
        // A replay, or an older receipt of the session, adds nothing.
        assert!(ledger.issue_serving(&claim(gib / 2), 4 * gib, 11).is_none());
        assert!(ledger.issue_serving(&claim(gib / 4), 4 * gib, 11).is_none());
        // A later one pays only the new bytes, and never past the cap.
        let second = ledger.issue_serving(&claim(8 * gib), gib, 12).unwrap();
        assert_eq!(second.receipt.amount, MicroTokens(500_000));
        assert!(matches!(
            second.receipt.work,
            Credit::Serving { bytes, upto, .. } if bytes == gib / 2 && upto == gib
        ));
        let mut restored = Ledger::new(SigningKey::from_bytes(&[1; 32]), RATE, SERVING);
        restored.restore(&first);
        restored.restore(&second);
        assert_eq!(restored.served(&claim(0)), gib);
        assert!(restored.issue_serving(&claim(gib), 4 * gib, 13).is_none());
    }
}
