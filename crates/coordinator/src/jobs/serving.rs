//! Paying for bytes served from the cache, through the same ledger and store as compute.

use idleshare_protocol::MicroTokens;
use idleshare_protocol::cache::ServiceReceipt;

use super::book::Book;
use super::ops::{Changes, Op, Outbound};

impl Book {
    /// Credits the node named in a checked service receipt for the bytes it adds to its
    /// client session (at most `cap` per session); returns the amount, `None` if nothing new.
    pub fn credit_serving(
        &mut self,
        claim: &ServiceReceipt,
        cap: u64,
        now_ms: u64,
        ch: &mut Changes,
    ) -> Option<MicroTokens> {
        let receipt = self.ledger.issue_serving(claim, cap, now_ms)?;
        let amount = receipt.receipt.amount;
        ch.ops.push(Op::Receipt(Box::new(receipt.clone())));
        ch.out.push(Outbound::Receipt {
            node: claim.node,
            receipt: Box::new(receipt),
        });
        Some(amount)
    }
}
