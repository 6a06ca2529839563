use ed25519_dalek::SigningKey;
use idleshare_protocol::{ChainTip, Credit, MicroTokens, NodeId, Receipt, SignedReceipt, UnitId};

use super::*;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn id(seed: u8) -> NodeId {
    NodeId::from(key(seed).verifying_key())
}

/// Receipts 1..=n from coordinator 1 to node 2, amounts 10, 20, 30, ...
fn chain(n: u64) -> Vec<SignedReceipt> {
    chain_of(n, |seq| Credit::Unit(UnitId(100 + seq)))
}

/// Like [`chain`], paying for what `work` names for each sequence number.
fn chain_of(n: u64, work: impl Fn(u64) -> Credit) -> Vec<SignedReceipt> {
    let mut tip = ChainTip::GENESIS;
    (1..=n)
        .map(|seq| {
            let signed = Receipt {
                issuer: id(1),
                node: id(2),
                work: work(seq),
                amount: MicroTokens(seq * 10),
                issued_at_ms: 1_000 * seq,
                seq,
                prev: tip.hash,
            }
            .sign(&key(1));
            tip = tip.accept(&signed, &id(1), &id(2)).unwrap();
            signed
        })
        .collect()
}

#[test]
fn receipts_are_kept_across_reopen_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    {
        let wallet = Wallet::open(dir.path(), id(2)).unwrap();
        for receipt in chain(3) {
            assert!(matches!(
                wallet.accept(&receipt, &id(1)).unwrap(),
                Accepted::Stored(_)
            ));
        }
    }
    let wallet = Wallet::open(dir.path(), id(2)).unwrap();
    assert_eq!(wallet.balance().unwrap(), MicroTokens(60));
    assert_eq!(wallet.earned_since(2_000).unwrap(), MicroTokens(50));
    let verified = wallet.verify(None).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].tip.seq, 3);
    assert_eq!(wallet.tip(&id(1)).unwrap(), verified[0].tip);
}

#[test]
fn a_replayed_receipt_is_a_duplicate_and_a_different_one_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Wallet::open(dir.path(), id(2)).unwrap();
    let receipts = chain(2);
    wallet.accept(&receipts[0], &id(1)).unwrap();
    wallet.accept(&receipts[1], &id(1)).unwrap();
    assert_eq!(
        wallet.accept(&receipts[0], &id(1)).unwrap(),
        Accepted::Duplicate
    );
    let mut other = receipts[0].receipt.clone();
    other.amount = MicroTokens(999);
    let other = other.sign(&key(1));
    assert!(matches!(
        wallet.accept(&other, &id(1)),
        Err(WalletError::Conflict { seq: 1, .. })
    ));
    assert_eq!(wallet.balance().unwrap(), MicroTokens(30));
}

#[test]
fn a_gap_a_forgery_or_someone_elses_receipt_is_refused_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Wallet::open(dir.path(), id(2)).unwrap();
    let receipts = chain(3);
    wallet.accept(&receipts[0], &id(1)).unwrap();
    assert!(matches!(
        wallet.accept(&receipts[2], &id(1)),
        Err(WalletError::Receipt(ReceiptError::OutOfSequence {
            expected: 2,
            found: 3
        }))
    ));
    let mut forged = receipts[1].clone();
    forged.receipt.amount = MicroTokens(1_000_000);
    assert!(matches!(
        wallet.accept(&forged, &id(1)),
        Err(WalletError::Receipt(ReceiptError::BadSignature { .. }))
    ));
    assert!(matches!(
        wallet.accept(&receipts[1], &id(9)),
        Err(WalletError::Receipt(ReceiptError::WrongIssuer { .. }))
    ));
    assert_eq!(wallet.tip(&id(1)).unwrap().seq, 1);
}

#[test]
fn another_nodes_wallet_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    Wallet::open(dir.path(), id(2)).unwrap();
    assert!(matches!(
        Wallet::open(dir.path(), id(3)),
        Err(WalletError::WrongNode { .. })
    ));
}

#[test]
fn exports_hold_every_receipt() {
    let receipts = chain(2);
    let mut json = Vec::new();
    export(&receipts, ExportFormat::Json, &mut json).unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(parsed.as_array().unwrap().len(), 2);
    assert_eq!(parsed[1]["amount"], "0.000020");
    let mut csv = Vec::new();
    export(&receipts, ExportFormat::Csv, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(
        text.lines()
            .nth(2)
            .unwrap()
            .contains(",2,unit-102,102,,,0.000020,2000,")
    );
}

#[test]
fn serving_credits_are_told_apart_and_exported_with_their_content() {
    let content = idleshare_protocol::ContentId::of(b"site");
    let receipts = chain_of(3, |seq| match seq {
        2 => Credit::Unit(UnitId(7)),
        _ => Credit::Serving {
            content,
            client: id(3),
            session: 5,
            bytes: seq << 20,
            upto: seq << 20,
        },
    });
    let dir = tempfile::tempdir().unwrap();
    let wallet = Wallet::open(dir.path(), id(2)).unwrap();
    for receipt in &receipts {
        wallet.accept(receipt, &id(1)).unwrap();
    }
    assert_eq!(wallet.balance().unwrap(), MicroTokens(60));
    assert_eq!(wallet.earned_serving().unwrap(), MicroTokens(40));
    let mut csv = Vec::new();
    export(&receipts, ExportFormat::Csv, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    let served = format!(
        ",1,served 1048576 bytes of {},,{content},1048576,0.000010,",
        content.short()
    );
    assert!(text.lines().nth(1).unwrap().contains(&served), "{text}");
    assert!(
        text.lines()
            .nth(2)
            .unwrap()
            .contains(",2,unit-7,7,,,0.000020,"),
        "{text}"
    );
}

#[test]
fn a_damaged_stored_receipt_is_a_clear_error_not_a_balance() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Wallet::open(dir.path(), id(2)).unwrap();
    for receipt in chain(2) {
        wallet.accept(&receipt, &id(1)).unwrap();
    }
    drop(wallet);
    let db = rusqlite::Connection::open(dir.path().join(WALLET_FILE_NAME)).unwrap();
    db.execute("UPDATE receipts SET body = x'00ff' WHERE seq = 2", [])
        .unwrap();
    drop(db);
    let wallet = Wallet::open(dir.path(), id(2)).unwrap();
    let error = wallet.verify(None).unwrap_err();
    assert!(
        matches!(error, WalletError::Damaged { seq: 2, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("receipt 2"), "{error}");
}

#[test]
fn pages_list_newest_first_and_buckets_sum_by_time() {
    let dir = tempfile::tempdir().unwrap();
    let wallet = Wallet::open(dir.path(), id(2)).unwrap();
    for receipt in chain(5) {
        wallet.accept(&receipt, &id(1)).unwrap();
    }
    assert_eq!(wallet.receipt_count().unwrap(), 5);
    let page = wallet.receipt_page(1, 2).unwrap();
    assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![4, 3]);
    assert_eq!(page[0].issuer, id(1));
    assert_eq!(page[0].work, Credit::Unit(UnitId(104)));
    assert_eq!(page[0].amount, MicroTokens(40));
    assert_eq!(page[0].issued_at_ms, 4_000);
    assert!(wallet.receipt_page(5, 10).unwrap().is_empty());
    // Receipts at 1000..=5000 ms; buckets of 2 s from 1500 ms: [1500,3500) holds 2000 and
    // 3000 (20 + 30), [3500,5500) holds 4000 and 5000 (40 + 50).
    assert_eq!(
        wallet.earned_by_bucket(1_500, 2_000).unwrap(),
        vec![(1_500, MicroTokens(50)), (3_500, MicroTokens(90))]
    );
}

/// Receipts from coordinator `issuer` to node 2, one per time in `issued_at_ms`, amounts 10,
/// 20, 30, ...
fn chain_at(issuer: u8, issued_at_ms: &[u64]) -> Vec<SignedReceipt> {
    let mut tip = ChainTip::GENESIS;
    (1..)
        .zip(issued_at_ms)
        .map(|(seq, at)| {
            let signed = Receipt {
                issuer: id(issuer),
                node: id(2),
                work: Credit::Unit(UnitId(seq)),
                amount: MicroTokens(seq * 10),
                issued_at_ms: *at,
                seq,
                prev: tip.hash,
            }
            .sign(&key(issuer));
            tip = tip.accept(&signed, &id(issuer), &id(2)).unwrap();
            signed
        })
        .collect()
}

fn wallet_holding(dir: &Path, chains: &[(u8, Vec<SignedReceipt>)]) -> Wallet {
    let wallet = Wallet::open(dir, id(2)).unwrap();
    for (issuer, receipts) in chains {
        for receipt in receipts {
            wallet.accept(receipt, &id(*issuer)).unwrap();
        }
    }
    wallet
}

#[test]
fn all_receipts_and_the_export_hold_every_chain_of_every_coordinator() {
    let dir = tempfile::tempdir().unwrap();
    let first = chain_at(1, &[1_000, 2_000]);
    let second = chain_at(3, &[1_500, 2_500, 3_500]);
    let wallet = wallet_holding(dir.path(), &[(1, first.clone()), (3, second.clone())]);
    let all = wallet.all_receipts().unwrap();
    assert_eq!(all.len(), 5);
    for chain in [&first, &second] {
        let held: Vec<_> = all
            .iter()
            .filter(|r| r.receipt.issuer == chain[0].receipt.issuer)
            .cloned()
            .collect();
        assert_eq!(&held, chain, "each chain whole and in order");
    }
    let mut csv = Vec::new();
    wallet.export_all(ExportFormat::Csv, &mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 1 + 5, "{text}");
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with(&id(3).to_string()))
            .count(),
        3
    );
}

#[test]
fn an_export_that_cannot_be_written_is_an_export_error() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let wallet = wallet_holding(dir.path(), &[(1, chain_at(1, &[1_000]))]);
    let error = wallet
        .export_all(ExportFormat::Json, &mut Broken)
        .unwrap_err();
    assert!(matches!(error, WalletError::Export { .. }), "{error}");
    assert!(error.to_string().contains("disk full"), "{error}");
}

#[test]
fn today_counts_receipts_from_local_midnight_on() {
    // 2026-12-03 10:30 UTC; its local day starts at midnight wherever this runs.
    let now = 1_796_293_800_000;
    let midnight = idleshare_base::clock::local_day_start_ms(now);
    assert!(midnight <= now);
    let dir = tempfile::tempdir().unwrap();
    let wallet = wallet_holding(
        dir.path(),
        &[(1, chain_at(1, &[midnight - 1, midnight, now]))],
    );
    // 10 was earned yesterday; 20 at midnight and 30 now are today's.
    assert_eq!(wallet.earned_today(now).unwrap(), MicroTokens(50));
    assert_eq!(wallet.balance().unwrap(), MicroTokens(60));
}
