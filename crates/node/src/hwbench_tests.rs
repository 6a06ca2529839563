use std::cell::Cell;

use super::*;

const FAKE: HardwareScores = HardwareScores {
    cpu_int_mops: 1234,
    cpu_float_mflops: 5678,
    memory_mb_per_sec: 9012,
};

#[test]
fn every_score_is_positive_and_the_run_stays_near_one_second() {
    let start = Instant::now();
    let scores = run();
    let took = start.elapsed();
    println!("hardware scores: {scores:?} in {took:?}");
    assert!(scores.cpu_int_mops > 0);
    assert!(scores.cpu_float_mflops > 0);
    assert!(scores.memory_mb_per_sec > 0);
    // Unoptimised test builds fill the buffers slowly; optimised runs take about 0.8 s.
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_stored_file_is_reused_without_measuring() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join(HARDWARE_FILE),
        serde_json::to_vec(&FAKE).expect("encodes"),
    )
    .expect("write");
    let loaded = load_or_run_with(dir.path(), || panic!("must not measure again"));
    assert_eq!(loaded.expect("loads"), FAKE);
}

#[test]
fn a_missing_file_is_measured_once_and_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("not/yet/created");
    let runs = Cell::new(0);
    let measure = || {
        runs.set(runs.get() + 1);
        FAKE
    };
    assert_eq!(load_or_run_with(&data_dir, measure).expect("runs"), FAKE);
    assert_eq!(load_or_run_with(&data_dir, measure).expect("loads"), FAKE);
    assert_eq!(runs.get(), 1);
    // Only the final file is left behind, no temporary.
    let files: Vec<_> = std::fs::read_dir(&data_dir)
        .expect("dir")
        .flatten()
        .collect();
    assert_eq!(files.len(), 1);
}

#[test]
fn a_corrupt_file_is_measured_again_and_replaced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(HARDWARE_FILE);
    for corrupt in [&b"{\"cpu_int_mops\": "[..], b"\xff\xfe garbage", b"[]", b""] {
        std::fs::write(&path, corrupt).expect("write");
        assert_eq!(load_or_run_with(dir.path(), || FAKE).expect("runs"), FAKE);
        let stored: HardwareScores =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("valid now");
        assert_eq!(stored, FAKE);
    }
}

#[test]
fn an_unwritable_data_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A file where the directory should be.
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, b"").expect("write");
    let error = load_or_run_with(&blocked.join("data"), || FAKE).expect_err("cannot store");
    assert!(matches!(error, HwBenchError::Write { .. }), "{error}");
}
