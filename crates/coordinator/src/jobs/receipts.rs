//! The ledger: credits as signed receipts, one chain per node, at most one credit per
//! (node, unit). Pure: the signing key and the time are handed in.

use std::collections::{HashMap, HashSet};

use ed25519_dalek::SigningKey;
use idleshare_protocol::api::{LedgerSummary, NodeAccount};
use idleshare_protocol::{
    ChainTip, CreditRate, MicroTokens, NodeId, Receipt, SignedReceipt, UnitId,
};

/// Every node's chain tip, the credited (node, unit) pairs and the totals.
pub struct Ledger {
    key: SigningKey,
    issuer: NodeId,
    rate: CreditRate,
    tips: HashMap<NodeId, ChainTip>,
    credited: HashSet<(NodeId, UnitId)>,
    total: u64,
    receipts: u64,
}

impl Ledger {
    /// An empty ledger signing with the coordinator's `key`.
    pub fn new(key: SigningKey, rate: CreditRate) -> Self {
        Self {
            issuer: NodeId::from(key.verifying_key()),
            key,
            rate,
            tips: HashMap::new(),
            credited: HashSet::new(),
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

    /// Replays a stored receipt (in chain order per node) while restoring.
    pub fn restore(&mut self, signed: &SignedReceipt) {
        let receipt = &signed.receipt;
        let tip = self.tips.entry(receipt.node).or_insert(ChainTip::GENESIS);
        *tip = ChainTip {
            seq: receipt.seq,
            hash: signed.hash(),
            balance: MicroTokens(tip.balance.0.saturating_add(receipt.amount.0)),
        };
        self.credited.insert((receipt.node, receipt.unit));
        self.total = self.total.saturating_add(receipt.amount.0);
        self.receipts += 1;
    }

    /// Credits `node` for `fuel` of validated work on `unit`; `None` if already credited.
    pub fn issue(
        &mut self,
        node: NodeId,
        unit: UnitId,
        fuel: u64,
        now_ms: u64,
    ) -> Option<SignedReceipt> {
        if !self.credited.insert((node, unit)) {
            return None;
        }
        let tip = self.tips.entry(node).or_insert(ChainTip::GENESIS);
        let amount = self.rate.credit(fuel);
        let signed = Receipt {
            issuer: self.issuer,
            node,
            unit,
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
        Some(signed)
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

    #[test]
    fn receipts_chain_per_node_pay_once_and_sum_to_the_total() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let node = NodeId::from(SigningKey::from_bytes(&[2; 32]).verifying_key());
        let rate = CreditRate {
            micro_tokens_per_megafuel: 1000,
        };
        let mut ledger = Ledger::new(key, rate);
        let first = ledger.issue(node, UnitId(1), 100_000_000, 5).unwrap();
        assert_eq!(first.receipt.amount, MicroTokens(100_000));
        assert!(
            ledger.issue(node, UnitId(1), 100_000_000, 6).is_none(),
            "paid once"
        );
        let second = ledger.issue(node, UnitId(2), 2_000_000, 7).unwrap();
        let tip = verify_chain([&first, &second], &ledger.issuer(), &node).unwrap();
        assert_eq!(tip, ledger.tip(&node));
        let summary = ledger.summary();
        assert_eq!((summary.total, summary.receipts), (MicroTokens(102_000), 2));
        let mut restored = Ledger::new(SigningKey::from_bytes(&[1; 32]), rate);
        restored.restore(&first);
        restored.restore(&second);
        assert_eq!(restored.summary(), summary);
        assert!(restored.issue(node, UnitId(2), 1, 8).is_none());
    }
}
