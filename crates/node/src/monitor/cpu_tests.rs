use super::*;

const STAT_BEFORE: &str = "\
cpu  100 0 100 800 0 0 0 0 0 0
cpu0 50 0 50 400 0 0 0 0 0 0
cpu1 50 0 50 400 0 0 0 0 0 0
intr 12345 0 0
ctxt 999
";

// 200 ticks later per core: core 0 fully busy, core 1 half busy.
const STAT_AFTER: &str = "\
cpu  350 0 150 900 0 0 0 0 0 0
cpu0 250 0 50 400 0 0 0 0 0 0
cpu1 100 0 100 500 0 0 0 0 0 0
intr 12345 0 0
";

#[test]
fn proc_stat_lines_become_busy_and_total_ticks() {
    let stat = parse_proc_stat(STAT_BEFORE).expect("parses");
    assert_eq!(
        stat.all,
        CpuTicks {
            busy: 200,
            total: 1000
        }
    );
    assert_eq!(stat.per_core.len(), 2);
    assert_eq!(
        stat.per_core[1],
        (
            1,
            CpuTicks {
                busy: 100,
                total: 500
            }
        )
    );
}

#[test]
fn iowait_counts_as_idle_and_guest_is_not_counted_twice() {
    let stat = parse_proc_stat("cpu 10 0 10 50 30 0 0 0 7 7\n").expect("parses");
    assert_eq!(
        stat.all,
        CpuTicks {
            busy: 20,
            total: 100
        }
    );
}

#[test]
fn proc_stat_without_aggregate_line_or_with_garbage_is_none() {
    assert_eq!(parse_proc_stat(""), None);
    assert_eq!(parse_proc_stat("garbage\n\u{0}\u{1}"), None);
    assert_eq!(parse_proc_stat("cpu x y z\n"), None);
}

#[test]
fn usage_between_two_reads_gives_total_per_core_and_own_share() {
    let before = parse_proc_stat(STAT_BEFORE).expect("parses");
    let after = parse_proc_stat(STAT_AFTER).expect("parses");
    // 400 ticks passed on the machine; we used 100 of them.
    let usage = usage_between(&before, 1000, &after, 1100);
    assert_eq!(usage.cores, 2);
    assert!((usage.total_percent - 75.0).abs() < 0.01);
    assert!((usage.per_core_percent[0] - 100.0).abs() < 0.01);
    assert!((usage.per_core_percent[1] - 50.0).abs() < 0.01);
    assert!((usage.idleshare_percent - 25.0).abs() < 0.01);
    assert!((usage.owner_percent() - 50.0).abs() < 0.01);
}

#[test]
fn counters_going_backwards_or_standing_still_give_zero_not_a_panic() {
    let before = parse_proc_stat(STAT_AFTER).expect("parses");
    let after = parse_proc_stat(STAT_BEFORE).expect("parses");
    let usage = usage_between(&before, 500, &after, 100);
    assert_eq!(usage.total_percent, 0.0);
    assert_eq!(usage.idleshare_percent, 0.0);
    let same = usage_between(&before, 1, &before, 1);
    assert_eq!(same.total_percent, 0.0);
}

#[test]
fn a_core_that_came_online_reads_zero_until_next_time() {
    let before = parse_proc_stat("cpu 1 0 1 8\ncpu0 1 0 1 8\n").expect("parses");
    let after = parse_proc_stat("cpu 2 0 2 16\ncpu0 1 0 1 8\ncpu1 1 0 1 8\n").expect("parses");
    let usage = usage_between(&before, 0, &after, 0);
    assert_eq!(usage.cores, 2);
    assert_eq!(usage.per_core_percent[1], 0.0);
}

#[test]
fn process_stat_with_spaces_and_parens_in_the_name_parses_utime_plus_stime() {
    let line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 500 0 0 0 \
                123 45 0 0 20 0 7 0 1000 2000000 300 18446744073709551615";
    assert_eq!(parse_process_stat_ticks(line), Some(168));
    assert_eq!(parse_process_stat_ticks("4242 (short) S 1 2"), None);
    assert_eq!(parse_process_stat_ticks("no parenthesis at all"), None);
}

#[test]
fn procfs_source_reads_fixture_files_and_reports_use_since_construction() {
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(root.path().join("self")).expect("mkdir");
    let own = |ticks: u64| format!("1 (idleshare) S 0 0 0 0 0 0 0 0 0 0 {ticks} 0 0 0\n");
    std::fs::write(root.path().join("stat"), STAT_BEFORE).expect("write");
    std::fs::write(root.path().join("self/stat"), own(1000)).expect("write");
    let mut source = ProcfsCpu::with_proc_root(root.path());
    assert!(source.is_available());
    std::fs::write(root.path().join("stat"), STAT_AFTER).expect("write");
    std::fs::write(root.path().join("self/stat"), own(1040)).expect("write");
    let usage = source.read().expect("reads");
    assert!((usage.total_percent - 75.0).abs() < 0.01);
    assert!((usage.idleshare_percent - 10.0).abs() < 0.01);
}

#[test]
fn procfs_source_with_missing_files_reads_none() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut source = ProcfsCpu::with_proc_root(root.path());
    assert!(!source.is_available());
    assert_eq!(source.read(), None);
}

#[cfg(target_os = "linux")]
#[test]
fn real_procfs_sees_our_own_busy_loop() {
    let mut source = ProcfsCpu::new();
    assert!(source.is_available());
    let until = std::time::Instant::now() + std::time::Duration::from_millis(150);
    let mut x = 1u64;
    while std::time::Instant::now() < until {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    let usage = source.read().expect("reads /proc");
    assert!(usage.cores >= 1);
    assert_eq!(usage.per_core_percent.len() as u32, usage.cores);
    assert!(usage.idleshare_percent > 0.0, "{usage:?}");
    assert!(usage.idleshare_percent <= usage.total_percent);
}

#[test]
fn sysinfo_source_reads_this_machine() {
    let mut source = SysinfoCpu::new().expect("sysinfo works here");
    let usage = source.read().expect("reads");
    assert!(usage.cores >= 1);
    assert!((0.0..=100.0).contains(&usage.total_percent));
    assert!(usage.idleshare_percent <= usage.total_percent);
}
