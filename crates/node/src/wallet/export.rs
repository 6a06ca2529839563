//! Receipts out of the wallet as JSON (everything, signatures included, for re-verification
//! elsewhere) or CSV (one line per receipt, for spreadsheets).

use std::io::Write;

use idleshare_protocol::SignedReceipt;
use serde::Serialize;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A JSON array of receipts with hex signatures.
    Json,
    /// CSV with a header line.
    Csv,
}

#[derive(Serialize)]
struct ExportedReceipt {
    issuer: String,
    node: String,
    seq: u64,
    unit: u64,
    amount_micro: u64,
    amount: String,
    issued_at_ms: u64,
    prev: String,
    hash: String,
    signature: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn exported(receipt: &SignedReceipt) -> ExportedReceipt {
    let r = &receipt.receipt;
    ExportedReceipt {
        issuer: r.issuer.to_string(),
        node: r.node.to_string(),
        seq: r.seq,
        unit: r.unit.0,
        amount_micro: r.amount.0,
        amount: r.amount.to_string(),
        issued_at_ms: r.issued_at_ms,
        prev: hex(&r.prev),
        hash: hex(&receipt.hash()),
        signature: hex(&receipt.signature),
    }
}

/// Writes `receipts` to `out` in `format`.
pub fn export(
    receipts: &[SignedReceipt],
    format: ExportFormat,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let rows: Vec<_> = receipts.iter().map(exported).collect();
    match format {
        ExportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)
        }
        ExportFormat::Csv => {
            writeln!(
                out,
                "issuer,node,seq,unit,amount,issued_at_ms,prev,hash,signature"
            )?;
            for row in rows {
                // Every field is base32, hex, or a number: nothing needs quoting.
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{}",
                    row.issuer,
                    row.node,
                    row.seq,
                    row.unit,
                    row.amount,
                    row.issued_at_ms,
                    row.prev,
                    row.hash,
                    row.signature
                )?;
            }
            Ok(())
        }
    }
}
