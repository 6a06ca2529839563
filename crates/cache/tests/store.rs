//! The content store on a real directory: quota, LRU eviction, restarts, crashes, scrubbing.

use std::path::Path;
use std::sync::Arc;

use idleshare_cache::store::disk_bytes;
use idleshare_cache::{ContentStore, Damage, ScrubOutcome, StoreError};
use idleshare_protocol::ContentId;
use idleshare_protocol::tree::{ByteRange, OutboardBuilder, PARENT_BYTES, Steps, TreeShape};

fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(seed) ^ seed)
        .collect()
}

/// Stores `bytes` the way a fill from the network does: every parent and group in order.
fn store_bytes(store: &Arc<ContentStore>, bytes: &[u8], now: u64) -> Result<ContentId, StoreError> {
    let mut builder = OutboardBuilder::new();
    builder.update(bytes);
    let (id, outboard) = builder.finish();
    let size = bytes.len() as u64;
    let (mut fill, _) = store.begin_fill(id, size)?;
    for step in Steps::new(TreeShape::new(size), ByteRange::whole(size)).unwrap() {
        match step {
            idleshare_protocol::tree::Step::Parent { index } => {
                let at = index as usize * PARENT_BYTES;
                fill.write_parent(index, &outboard[at..at + PARENT_BYTES])?;
            }
            idleshare_protocol::tree::Step::Group { bytes: at, .. } => {
                fill.write_content(at, &bytes[at.start as usize..at.end as usize])?;
            }
        }
    }
    fill.commit(now)?;
    Ok(id)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.starts_with("index.db"))
        .collect();
    names.sort();
    names
}

fn content_bytes_on_disk(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| !e.file_name().to_string_lossy().starts_with("index.db"))
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

#[test]
fn stored_content_reads_back_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = content(200_000, 3);
    let id = {
        let store = ContentStore::open(dir.path(), 1 << 30).unwrap();
        store_bytes(&store, &bytes, 10).unwrap()
    };
    let store = ContentStore::open(dir.path(), 1 << 30).unwrap();
    assert!(store.contains(&id));
    assert_eq!(store.usage().items, 1);
    assert_eq!(store.usage().used_bytes, disk_bytes(200_000));
    let reader = store.reader(&id, 20).unwrap().unwrap();
    let mut back = Vec::new();
    reader
        .read_range(
            ByteRange {
                start: 5,
                end: 150_005,
            },
            &mut back,
        )
        .unwrap();
    assert_eq!(back, &bytes[5..150_005]);
    assert!(
        store
            .reader(&ContentId::of(b"absent"), 20)
            .unwrap()
            .is_none()
    );
}

#[test]
fn the_quota_evicts_the_least_recently_used_and_is_never_exceeded() {
    let dir = tempfile::tempdir().unwrap();
    let item = 100_000usize;
    let quota = 3 * disk_bytes(item as u64) + 10;
    let store = ContentStore::open(dir.path(), quota).unwrap();
    let ids: Vec<ContentId> = (1..=3)
        .map(|seed| store_bytes(&store, &content(item, seed), seed as u64).unwrap())
        .collect();
    // Reading the oldest makes the second the least recently used.
    store.reader(&ids[0], 100).unwrap().unwrap();
    let fourth = store_bytes(&store, &content(item, 4), 101).unwrap();
    assert!(store.contains(&ids[0]) && store.contains(&ids[2]) && store.contains(&fourth));
    assert!(!store.contains(&ids[1]), "the least recently used went");
    assert!(store.usage().used_bytes <= quota);
    assert!(content_bytes_on_disk(dir.path()) <= quota);

    let too_big = store.begin_fill(ContentId::of(b"huge"), quota);
    assert!(matches!(too_big, Err(StoreError::TooLarge { .. })));
    assert!(matches!(
        store.begin_fill(fourth, item as u64),
        Err(StoreError::AlreadyHeld(_))
    ));
}

#[test]
fn fills_in_progress_reserve_their_space() {
    let dir = tempfile::tempdir().unwrap();
    let quota = disk_bytes(300_000);
    let store = ContentStore::open(dir.path(), quota).unwrap();
    let (first, _) = store.begin_fill(ContentId::of(b"a"), 200_000).unwrap();
    let second = store.begin_fill(ContentId::of(b"b"), 200_000);
    assert!(
        matches!(second, Err(StoreError::Reserved { .. })),
        "two fills would exceed the quota"
    );
    assert!(matches!(
        store.begin_fill(ContentId::of(b"a"), 200_000),
        Err(StoreError::AlreadyFilling(_))
    ));
    drop(first);
    assert_eq!(
        store.usage().used_bytes,
        0,
        "an abandoned fill gives its space back"
    );
    assert!(files_in(dir.path()).is_empty(), "and deletes its files");
    assert!(store.begin_fill(ContentId::of(b"b"), 200_000).is_ok());
}

#[test]
fn an_incomplete_fill_cannot_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path(), 1 << 30).unwrap();
    let (mut fill, _) = store.begin_fill(ContentId::of(b"x"), 50_000).unwrap();
    fill.write_content(ByteRange { start: 0, end: 10 }, &[0; 10])
        .unwrap();
    let err = fill.commit(1).unwrap_err();
    assert!(err.to_string().contains("10 of 50000 bytes"), "{err}");
    assert_eq!(
        store.usage(),
        idleshare_cache::Usage {
            used_bytes: 0,
            quota_bytes: 1 << 30,
            items: 0
        }
    );
}

#[test]
fn a_crash_mid_fill_leaves_nothing_behind_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let kept = {
        let store = ContentStore::open(dir.path(), 1 << 30).unwrap();
        let kept = store_bytes(&store, &content(40_000, 9), 1).unwrap();
        let (mut fill, _) = store.begin_fill(ContentId::of(b"y"), 40_000).unwrap();
        fill.write_content(ByteRange { start: 0, end: 100 }, &[1; 100])
            .unwrap();
        // A killed process never runs the fill's cleanup.
        std::mem::forget(fill);
        kept
    };
    assert!(
        files_in(dir.path())
            .iter()
            .any(|name| name.ends_with(".part"))
    );
    let store = ContentStore::open(dir.path(), 1 << 30).unwrap();
    assert_eq!(
        files_in(dir.path()),
        vec![format!("{kept}.data"), format!("{kept}.obao")]
    );
    assert_eq!(store.usage().items, 1);
}

#[test]
fn a_truncated_file_is_dropped_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = ContentStore::open(dir.path(), 1 << 30).unwrap();
        store_bytes(&store, &content(70_000, 5), 1).unwrap()
    };
    let data = dir.path().join(format!("{id}.data"));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&data)
        .unwrap()
        .set_len(1000)
        .unwrap();
    let store = ContentStore::open(dir.path(), 1 << 30).unwrap();
    assert!(!store.contains(&id));
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn scrub_finds_a_flipped_byte_and_evicts_the_item() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path(), 1 << 30).unwrap();
    let good = store_bytes(&store, &content(90_000, 7), 1).unwrap();
    let bad = store_bytes(&store, &content(90_000, 8), 2).unwrap();
    let data = dir.path().join(format!("{bad}.data"));
    let mut bytes = std::fs::read(&data).unwrap();
    bytes[45_000] ^= 0x10;
    std::fs::write(&data, bytes).unwrap();

    let mut found = Vec::new();
    while let Some(outcome) = store.scrub_next(1_000, 100).unwrap() {
        found.push(outcome);
    }
    assert!(found.contains(&ScrubOutcome::Intact(good)));
    let corrupt = found
        .iter()
        .find_map(|o| match o {
            ScrubOutcome::Corrupt { id, damage } => Some((*id, damage.clone())),
            ScrubOutcome::Intact(_) => None,
        })
        .expect("the corrupt item is found");
    assert_eq!(corrupt.0, bad);
    assert!(matches!(corrupt.1, Damage::WrongHash(_)), "{}", corrupt.1);
    assert!(corrupt.1.to_string().contains("hash to"), "{}", corrupt.1);
    assert!(!store.contains(&bad) && store.contains(&good));
    // Scrubbed items are not scrubbed again until they age.
    assert_eq!(store.scrub_next(1_050, 100).unwrap(), None);
}

#[test]
fn lowering_the_quota_evicts_until_it_fits() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path(), 1 << 30).unwrap();
    let ids: Vec<ContentId> = (1..=4)
        .map(|seed| store_bytes(&store, &content(60_000, seed), seed as u64).unwrap())
        .collect();
    let evicted = store.set_quota(2 * disk_bytes(60_000)).unwrap();
    assert_eq!(evicted, vec![ids[0], ids[1]]);
    assert!(content_bytes_on_disk(dir.path()) <= 2 * disk_bytes(60_000));
}

#[test]
fn import_takes_a_file_and_names_it_by_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path(), u64::MAX).unwrap();
    let bytes = content(123_456, 11);
    let upload = dir.path().join("upload.tmp");
    std::fs::write(&upload, &bytes).unwrap();
    let id = store.import(&upload, 5).unwrap();
    assert_eq!(id, ContentId::of(&bytes));
    assert!(!upload.exists());
    assert_eq!(
        store.scrub_next(10, 0).unwrap(),
        Some(ScrubOutcome::Intact(id))
    );
}

#[cfg(unix)]
#[test]
fn a_full_disk_fails_the_fill_clearly_and_leaves_the_store_usable() {
    let dir = tempfile::tempdir().unwrap();
    let store = ContentStore::open(dir.path(), 1 << 30).unwrap();
    let bytes = content(50_000, 21);
    let id = ContentId::of(&bytes);
    // Writes to /dev/full fail with ENOSPC, as on a full disk.
    let part = dir.path().join(format!("{id}.data.part"));
    std::os::unix::fs::symlink("/dev/full", &part).unwrap();
    let (mut fill, _) = store.begin_fill(id, bytes.len() as u64).unwrap();
    let err = fill
        .write_content(
            ByteRange {
                start: 0,
                end: 16_384,
            },
            &bytes[..16_384],
        )
        .unwrap_err();
    assert!(err.to_string().contains("No space left on device"), "{err}");
    drop(fill);
    assert!(!part.exists(), "nothing is left behind");
    assert_eq!(store.usage().used_bytes, 0, "the reservation is given back");
    assert_eq!(
        store_bytes(&store, &bytes, 2).unwrap(),
        id,
        "the store still works"
    );
}
