//! `idleshare wallet`: balance and recent receipts; `verify` audits every receipt offline;
//! `export` writes them as JSON or CSV.

use std::io::Write;

use anyhow::{Context, bail};
use idleshare_base::clock::unix_ms;
use idleshare_node::wallet::{ExportFormat, Wallet};
use idleshare_protocol::{CoordinatorAddress, NodeId};

use crate::cli::{ExportFormatArg, WalletAction, WalletCommand};

/// Receipts listed by the plain `wallet` command.
const RECENT: usize = 10;

pub fn run(command: WalletCommand) -> anyhow::Result<()> {
    let data = super::data_dir(command.data, "node")?;
    let wallet = Wallet::open_existing(&data)
        .context("cannot open the wallet")?
        .with_context(|| {
            format!(
                "no wallet in {} yet: a node creates it when it earns its first receipt",
                data.display()
            )
        })?;
    match command.action {
        None => show(&wallet),
        Some(WalletAction::Verify(args)) => {
            let issuer = args
                .coordinator
                .as_deref()
                .map(parse_coordinator)
                .transpose()?;
            verify(&wallet, issuer.as_ref())
        }
        Some(WalletAction::Export(args)) => {
            let format = match args.format {
                ExportFormatArg::Json => ExportFormat::Json,
                ExportFormatArg::Csv => ExportFormat::Csv,
            };
            let mut out: Box<dyn Write> = match &args.out {
                Some(path) => Box::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            Ok(wallet.export_all(format, &mut out)?)
        }
    }
}

/// A coordinator key, or a full `KEY@HOST:PORT` address.
fn parse_coordinator(text: &str) -> anyhow::Result<NodeId> {
    if text.contains('@') {
        let address: CoordinatorAddress = text.parse().context("not a coordinator address")?;
        return Ok(address.key);
    }
    text.parse().context("not a coordinator key")
}

fn show(wallet: &Wallet) -> anyhow::Result<()> {
    println!("node {}", wallet.node());
    println!(
        "balance: {} tokens ({} today)",
        wallet.balance()?,
        wallet.earned_today(unix_ms())?
    );
    for issuer in wallet.issuers()? {
        let tip = wallet.tip(&issuer)?;
        println!(
            "coordinator {}: {} receipts, {} tokens",
            issuer.short(),
            tip.seq,
            tip.balance
        );
        let receipts = wallet.receipts(&issuer)?;
        for signed in receipts.iter().rev().take(RECENT) {
            let r = &signed.receipt;
            let when = chrono::DateTime::from_timestamp_millis(r.issued_at_ms as i64)
                .map(|t| {
                    t.with_timezone(&chrono::Local)
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string()
                })
                .unwrap_or_default();
            println!(
                "  #{:<6} {when}  {:>14}  {:<8} {}  (paid from {})",
                r.seq,
                r.amount.to_string(),
                r.work.source(),
                r.work,
                r.work.paid_from()
            );
        }
    }
    Ok(())
}

fn verify(wallet: &Wallet, issuer: Option<&NodeId>) -> anyhow::Result<()> {
    let chains = wallet.verify(issuer).context("verification FAILED")?;
    if chains.is_empty() {
        bail!("no receipts to verify");
    }
    for chain in chains {
        println!(
            "verified {} receipts from coordinator {}: signatures, sequence and links intact; balance {} tokens",
            chain.tip.seq, chain.issuer, chain.tip.balance
        );
    }
    Ok(())
}
