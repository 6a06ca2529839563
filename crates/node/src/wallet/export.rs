//! Receipts out of the wallet as JSON (everything, signatures included, for re-verification
//! elsewhere) or CSV (one line per receipt, for spreadsheets).

use std::io::Write;

use idleshare_protocol::{Credit, SignedReceipt};
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
    /// What was paid for, in words.
    work: String,
    unit: Option<u64>,
    content: Option<String>,
    bytes_served: Option<u64>,
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
    let (content, bytes_served) = match r.work {
        Credit::Serving { content, bytes, .. } => (Some(content.to_string()), Some(bytes)),
        Credit::Storage { content, .. } => (Some(content.to_string()), None),
        Credit::Unit(_) => (None, None),
    };
    ExportedReceipt {
        issuer: r.issuer.to_string(),
        node: r.node.to_string(),
        seq: r.seq,
        work: r.work.to_string(),
        unit: r.work.unit().map(|unit| unit.0),
        content,
        bytes_served,
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
                "issuer,node,seq,work,unit,content,bytes_served,amount,issued_at_ms,prev,hash,signature"
            )?;
            let text = |value: Option<String>| value.unwrap_or_default();
            for row in rows {
                // Every field is base32, hex, a number, or words without commas: nothing
                // needs quoting.
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{},{},{},{},{}",
                    row.issuer,
                    row.node,
                    row.seq,
                    row.work,
                    text(row.unit.map(|u| u.to_string())),
                    text(row.content),
                    text(row.bytes_served.map(|b| b.to_string())),
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
