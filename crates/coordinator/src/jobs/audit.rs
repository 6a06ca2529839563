//! The audit: every deposited micro-token must be in a balance, in escrow, paid to a node
//! or taken as the operator's fee, and what was paid to nodes must equal the signed
//! receipts. Two independent sides are compared: the book's records in memory (rebuilt
//! from the movement rows at start) and the sums SQLite computes over the stored rows
//! (movements and receipts), which fail on overflow rather than wrap.

use std::time::Duration;

use idleshare_protocol::MicroTokens;
use idleshare_protocol::api::AuditReport;

use super::accounts::MoneyTotals;
use super::engine::{Engine, EngineError};
use super::store::StoredTotals;

/// How long the audit waits for what it read to be on disk.
const COMMIT_WAIT: Duration = Duration::from_secs(30);
/// Reads of both sides before the audit reports a difference while money keeps moving.
const TRIES: usize = 5;

/// Audits the engine's book against its committed rows.
///
/// The book is read with the ticket of its last change; once that is committed the rows
/// describe the same moment, unless money moved meanwhile, in which case both sides are
/// read again (a few times at most). The sums are one short SQLite query per side.
pub async fn audit(engine: &Engine) -> Result<AuditReport, EngineError> {
    let mut tries = 0;
    loop {
        let (book, ticket) = engine.read_with_ticket(book_side);
        engine.wait_committed(ticket, COMMIT_WAIT).await?;
        let stored = engine.store().stored_totals()?;
        let report = compare(&book.0, &stored, book.1, book.2);
        tries += 1;
        if report.balanced || tries == TRIES || engine.read(book_side) == book {
            return Ok(report);
        }
    }
}

/// The book's side: money totals, and the ledger's receipt total and count.
fn book_side(book: &super::Book) -> (MoneyTotals, u64, u64) {
    let summary = book.ledger().summary();
    (book.accounts().totals(), summary.total.0, summary.receipts)
}

/// Compares the two sides; pure.
pub fn compare(
    memory: &MoneyTotals,
    stored: &StoredTotals,
    receipts_memory: u64,
    receipts_count: u64,
) -> AuditReport {
    let mut problems = Vec::new();
    let sum = memory.balances + memory.escrow + memory.paid + memory.fees;
    if memory.deposits != sum {
        problems.push(format!(
            "deposits {} ≠ balances {} + escrow {} + paid {} + fees {}",
            memory.deposits, memory.balances, memory.escrow, memory.paid, memory.fees
        ));
    }
    let pairs = [
        ("deposits", memory.deposits, u128::from(stored.deposits)),
        ("paid to nodes", memory.paid, u128::from(stored.paid)),
        ("fees", memory.fees, u128::from(stored.fees)),
        (
            "movements",
            u128::from(memory.movements),
            u128::from(stored.movements),
        ),
    ];
    for (what, book, rows) in pairs {
        if book != rows {
            problems.push(format!(
                "{what}: {book} in the book, {rows} in the stored rows"
            ));
        }
    }
    if u128::from(stored.receipts_total) != memory.paid {
        problems.push(format!(
            "paid to nodes {} ≠ signed receipts {}",
            memory.paid, stored.receipts_total
        ));
    }
    if receipts_memory != stored.receipts_total || receipts_count != stored.receipts {
        problems.push(format!(
            "the ledger holds {receipts_count} receipts worth {receipts_memory}; the rows {} worth {}",
            stored.receipts, stored.receipts_total
        ));
    }
    let tokens = |v: u128| MicroTokens(u64::try_from(v).unwrap_or(u64::MAX));
    AuditReport {
        deposits: tokens(memory.deposits),
        balances: tokens(memory.balances),
        escrow: tokens(memory.escrow),
        paid_to_nodes: tokens(memory.paid),
        fees: tokens(memory.fees),
        receipts_total: MicroTokens(stored.receipts_total),
        receipts: stored.receipts,
        accounts: memory.accounts,
        movements: stored.movements,
        balanced: problems.is_empty(),
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_out_of_place_is_named() {
        let memory = MoneyTotals {
            deposits: 100,
            balances: 50,
            escrow: 20,
            paid: 25,
            fees: 5,
            accounts: 1,
            movements: 4,
        };
        let stored = StoredTotals {
            deposits: 100,
            paid: 25,
            fees: 5,
            movements: 4,
            receipts_total: 25,
            receipts: 2,
        };
        assert!(compare(&memory, &stored, 25, 2).balanced);
        let minted = StoredTotals {
            receipts_total: 26,
            ..stored
        };
        let report = compare(&memory, &minted, 26, 2);
        assert!(!report.balanced);
        assert!(
            report.problems[0].contains("signed receipts 26"),
            "{:?}",
            report.problems
        );
        let leaked = MoneyTotals {
            balances: 49,
            ..memory
        };
        assert!(compare(&leaked, &stored, 25, 2).problems[0].starts_with("deposits 100"));
    }
}
