//! The Earnings page's data from the node's wallet: the cumulative series for the chart,
//! pages of receipts, the offline audit, and exports. Blocking (SQLite): the commands call
//! these off the async threads.

use std::path::{Path, PathBuf};

use idleshare_node::wallet::{ExportFormat as WalletFormat, Wallet, WalletError};
use idleshare_protocol::MicroTokens;
use serde::{Deserialize, Serialize};
use specta::Type;

use crate::error::AppError;

/// Most receipts in one page.
pub const MAX_PAGE: u32 = 500;
/// Longest earnings series, in days.
pub const MAX_DAYS: u32 = 3_660;
const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;

/// One point of the cumulative earnings chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct EarningsPoint {
    /// When (Unix ms).
    pub t_ms: u64,
    /// Micro-tokens earned up to then, all time.
    pub cumulative: u64,
}

/// One receipt in the list (`Receipt` in TypeScript).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
#[serde(rename = "Receipt", rename_all = "camelCase")]
pub struct ReceiptItem {
    /// Its number in its coordinator's chain.
    pub seq: u64,
    /// The work it pays for (`unit-42`).
    pub work: String,
    /// What kind of work: `compute`, `serving` or `storage`.
    pub source: String,
    /// Which customer's escrow paid it.
    pub paid_from: String,
    /// Micro-tokens.
    pub amount: u64,
    /// When it was issued (Unix ms).
    pub time_ms: u64,
    /// The coordinator that signed it.
    pub issuer: String,
}

/// A page of receipts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct ReceiptPage {
    /// Receipts held in all.
    pub total: u64,
    /// This page, newest first.
    pub items: Vec<ReceiptItem>,
}

/// One coordinator's verified chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct ChainCheck {
    /// The coordinator.
    pub issuer: String,
    /// Receipts in the chain.
    pub receipts: u64,
    /// Their sum in micro-tokens.
    pub balance: u64,
}

/// The result of the offline audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct WalletCheck {
    /// Every chain verified.
    pub ok: bool,
    /// The verified chains (empty when one failed).
    pub chains: Vec<ChainCheck>,
    /// A sentence for people.
    pub message: String,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One line per receipt, for spreadsheets.
    Csv,
    /// Everything, signatures included, for re-verification elsewhere.
    Json,
}

/// The chart's resolution for `days`: hours up to a week, days beyond.
pub fn bucket_ms(days: u32) -> u64 {
    if days <= 7 { HOUR_MS } else { DAY_MS }
}

/// The cumulative series from `since_ms` to `now_ms`: `before` earned before the start;
/// each bucket (`buckets` as (start, sum), in order) is a step, drawn as a point at its
/// start with the total so far and one at its end (or now) with its sum added; then now.
pub fn cumulative_series(
    before: MicroTokens,
    buckets: &[(u64, MicroTokens)],
    bucket_ms: u64,
    since_ms: u64,
    now_ms: u64,
) -> Vec<EarningsPoint> {
    let mut total = before.0;
    let mut points = vec![EarningsPoint {
        t_ms: since_ms,
        cumulative: total,
    }];
    let mut push = |t_ms: u64, cumulative: u64| {
        let t_ms = t_ms.clamp(since_ms, now_ms.max(since_ms));
        match points.last_mut() {
            Some(last) if last.t_ms == t_ms => last.cumulative = cumulative,
            _ => points.push(EarningsPoint { t_ms, cumulative }),
        }
    };
    for (start, sum) in buckets {
        push(*start, total);
        total = total.saturating_add(sum.0);
        push(start.saturating_add(bucket_ms), total);
    }
    push(now_ms, total);
    points
}

/// The series for the last `days` days.
pub fn series(wallet: &Wallet, days: u32, now_ms: u64) -> Result<Vec<EarningsPoint>, AppError> {
    if days == 0 || days > MAX_DAYS {
        return Err(AppError::invalid(
            "days",
            format!("between 1 and {MAX_DAYS}"),
        ));
    }
    let since_ms = now_ms.saturating_sub(u64::from(days) * DAY_MS);
    let bucket = bucket_ms(days);
    let total = wallet.balance()?;
    let buckets = wallet.earned_by_bucket(since_ms, bucket)?;
    let recent: u64 = buckets.iter().map(|(_, sum)| sum.0).sum();
    let before = MicroTokens(total.0.saturating_sub(recent));
    Ok(cumulative_series(
        before, &buckets, bucket, since_ms, now_ms,
    ))
}

/// A page of receipts, newest first.
pub fn page(wallet: &Wallet, offset: u32, limit: u32) -> Result<ReceiptPage, AppError> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(AppError::invalid(
            "limit",
            format!("between 1 and {MAX_PAGE}"),
        ));
    }
    let items = wallet
        .receipt_page(offset.into(), limit.into())?
        .into_iter()
        .map(|line| ReceiptItem {
            seq: line.seq,
            work: line.work.to_string(),
            source: line.work.source().to_owned(),
            paid_from: line.work.paid_from(),
            amount: line.amount.0,
            time_ms: line.issued_at_ms,
            issuer: line.issuer.to_string(),
        })
        .collect();
    Ok(ReceiptPage {
        total: wallet.receipt_count()?,
        items,
    })
}

/// Re-verifies every chain offline: signatures, links, sums.
pub fn verify(wallet: &Wallet) -> WalletCheck {
    match wallet.verify(None) {
        Ok(chains) => {
            let receipts: u64 = chains.iter().map(|c| c.tip.seq).sum();
            let total: u64 = chains.iter().map(|c| c.tip.balance.0).sum();
            WalletCheck {
                ok: true,
                message: format!(
                    "{receipts} receipts from {} coordinator{} verified: {} tokens",
                    chains.len(),
                    if chains.len() == 1 { "" } else { "s" },
                    MicroTokens(total)
                ),
                chains: chains
                    .iter()
                    .map(|c| ChainCheck {
                        issuer: c.issuer.to_string(),
                        receipts: c.tip.seq,
                        balance: c.tip.balance.0,
                    })
                    .collect(),
            }
        }
        Err(error) => WalletCheck {
            ok: false,
            chains: Vec::new(),
            message: format!("The wallet does not verify: {error}"),
        },
    }
}

/// Writes every receipt to a new file in `dir`, named with the time; returns its path.
pub fn export_to(
    wallet: &Wallet,
    format: ExportFormat,
    dir: &Path,
    stamp: &str,
) -> Result<PathBuf, AppError> {
    let (wallet_format, extension) = match format {
        ExportFormat::Csv => (WalletFormat::Csv, "csv"),
        ExportFormat::Json => (WalletFormat::Json, "json"),
    };
    let path = dir.join(format!("idleshare-receipts-{stamp}.{extension}"));
    let fail = |error: std::io::Error| AppError::io(format!("{}: {error}", path.display()));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut file = std::fs::File::create(&path).map_err(fail)?;
    wallet
        .export_all(wallet_format, &mut file)
        .map_err(|error| match error {
            WalletError::Export { source } => fail(source),
            other => other.into(),
        })?;
    file.sync_all().map_err(fail)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_starts_with_earlier_earnings_and_ends_now() {
        let points = cumulative_series(
            MicroTokens(100),
            &[(0, MicroTokens(5)), (2 * HOUR_MS, MicroTokens(7))],
            HOUR_MS,
            0,
            2 * HOUR_MS + 60_000,
        );
        let pairs: Vec<_> = points.iter().map(|p| (p.t_ms, p.cumulative)).collect();
        assert_eq!(
            pairs,
            vec![
                (0, 100),
                (HOUR_MS, 105),
                (2 * HOUR_MS, 105),
                (2 * HOUR_MS + 60_000, 112)
            ]
        );
    }

    #[test]
    fn no_receipts_is_a_flat_line() {
        let points = cumulative_series(MicroTokens(0), &[], HOUR_MS, 10, 20);
        assert_eq!(
            points,
            vec![
                EarningsPoint {
                    t_ms: 10,
                    cumulative: 0
                },
                EarningsPoint {
                    t_ms: 20,
                    cumulative: 0
                }
            ]
        );
    }

    #[test]
    fn resolution_is_hourly_for_a_week_then_daily() {
        assert_eq!(bucket_ms(1), HOUR_MS);
        assert_eq!(bucket_ms(7), HOUR_MS);
        assert_eq!(bucket_ms(30), DAY_MS);
    }

    #[test]
    fn formats_are_lowercase_words_in_json() {
        assert_eq!(serde_json::to_value(ExportFormat::Csv).unwrap(), "csv");
        let parsed: ExportFormat = serde_json::from_str("\"json\"").unwrap();
        assert_eq!(parsed, ExportFormat::Json);
    }
}
