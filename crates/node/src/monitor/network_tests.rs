use super::*;

const NET_DEV_BEFORE: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 9999999     100    0    0    0     0          0         0  9999999     100    0    0    0     0       0          0
  eth0: 1000000    2000    0    0    0     0          0         0   500000    1000    0    0    0     0       0          0
wlp2s0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
";

const NET_DEV_AFTER: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 99999999    100    0    0    0     0          0         0 99999999     100    0    0    0     0       0          0
  eth0: 3000000    2000    0    0    0     0          0         0   700000    1000    0    0    0     0       0          0
wlp2s0:  200000       0    0    0    0     0          0         0   100000       0    0    0    0     0       0          0
";

#[test]
fn proc_net_dev_lists_interfaces_without_loopback() {
    let counters = parse_proc_net_dev(NET_DEV_BEFORE);
    let names: Vec<&str> = counters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["eth0", "wlp2s0"]);
    assert_eq!(counters[0].received, 1_000_000);
    assert_eq!(counters[0].sent, 500_000);
}

#[test]
fn garbage_lines_are_skipped() {
    let text = "eth0: lots of bytes\nwlan0: 1 2 3\n\u{0}:\ntun0: 5 0 0 0 0 0 0 0 6 0\n";
    let counters = parse_proc_net_dev(text);
    assert_eq!(counters.len(), 1);
    assert_eq!((counters[0].received, counters[0].sent), (5, 6));
}

#[test]
fn rates_are_deltas_over_elapsed_seconds_and_loopback_is_not_counted() {
    let before = parse_proc_net_dev(NET_DEV_BEFORE);
    let after = parse_proc_net_dev(NET_DEV_AFTER);
    let rates = rates_between(&before, &after, Duration::from_secs(2));
    // eth0 +2 MB and wlp2s0 +200 kB down; +200 kB and +100 kB up; over 2 s.
    assert_eq!(rates.download_bytes_per_sec, 1_100_000);
    assert_eq!(rates.upload_bytes_per_sec, 150_000);
}

#[test]
fn reset_counters_new_interfaces_and_zero_intervals_do_not_give_absurd_rates() {
    let before = parse_proc_net_dev(NET_DEV_AFTER);
    let after = parse_proc_net_dev(NET_DEV_BEFORE);
    let reset = rates_between(&before, &after, Duration::from_secs(1));
    assert_eq!(reset, NetworkRates::default());
    let appeared = rates_between(&[], &after, Duration::from_secs(1));
    assert_eq!(appeared, NetworkRates::default());
    let instant = rates_between(&after, &before, Duration::ZERO);
    assert_eq!(instant, NetworkRates::default());
}

#[test]
fn loopback_names_of_every_os_are_recognised() {
    for name in ["lo", "lo0", "Loopback Pseudo-Interface 1"] {
        assert!(is_loopback(name), "{name}");
    }
    for name in ["eth0", "wlan0", "en0", "lowpan0"] {
        assert!(!is_loopback(name), "{name}");
    }
}

#[test]
fn procfs_source_reads_fixture_with_the_clock_passed_in() {
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(root.path().join("net")).expect("mkdir");
    std::fs::write(root.path().join("net/dev"), NET_DEV_BEFORE).expect("write");
    let start = Instant::now();
    let mut source = ProcNetDev::with_proc_root(root.path());
    assert!(source.is_available());
    std::fs::write(root.path().join("net/dev"), NET_DEV_AFTER).expect("write");
    let rates = source
        .read_at(start + Duration::from_secs(2))
        .expect("reads");
    // The baseline was taken a few µs after `start`: allow 1 %.
    let download = rates.download_bytes_per_sec as f64;
    assert!((download / 1_100_000.0 - 1.0).abs() < 0.01, "{rates:?}");
}

#[test]
fn procfs_source_without_the_file_reads_none() {
    let root = tempfile::tempdir().expect("temp dir");
    let mut source = ProcNetDev::with_proc_root(root.path());
    assert!(!source.is_available());
    assert_eq!(source.read(), None);
}

#[test]
fn the_real_network_sources_return_without_error() {
    #[cfg(target_os = "linux")]
    assert!(ProcNetDev::new().read().is_some());
    let mut sysinfo = SysinfoNetwork::new().expect("sysinfo lists interfaces");
    assert!(sysinfo.read().is_some());
}
