//! The edge cache end to end with real processes: a coordinator, nodes pinning and serving
//! content over QUIC (directly or through the relay), clients fetching with the CLI and
//! through the HTTP gateway, bad nodes caught, quotas kept, corruption scrubbed.
//!
//! The tests share two cores, so they run one at a time.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use support::cache::*;
use support::compute::ledger;
use support::{CoordinatorProcess, NodeProcess, serial, wait_until};

const MB: usize = 1 << 20;

/// A coordinator whose own spot checks stay out of the way unless a test wants them.
fn coordinator(dir: &std::path::Path, extra: &[&str]) -> CoordinatorProcess {
    let mut args = vec!["--spot-check-secs", "3600"];
    args.extend_from_slice(extra);
    CoordinatorProcess::start_with(&dir.join("coordinator"), 0, &args)
}

fn nodes(
    coordinator: &CoordinatorProcess,
    dir: &std::path::Path,
    count: usize,
    settings: &str,
) -> Vec<NodeProcess> {
    let nodes: Vec<NodeProcess> = (0..count)
        .map(|i| start_cache_node(coordinator, &dir.join(format!("node{i}")), settings, &[]))
        .collect();
    for node in &nodes {
        support::compute::wait_contributing(coordinator, node);
    }
    nodes
}

#[test]
fn published_content_is_pinned_on_three_nodes_and_fetched_identically_directly_and_through_the_gateway()
 {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator(dir.path(), &[]);
    let nodes = nodes(&coordinator, dir.path(), 3, "");
    let bytes = make_content(100 * MB, 7);
    let id = publish(
        &coordinator,
        dir.path(),
        "site.bin",
        &bytes,
        &["--wait", "--timeout-secs", "120"],
    );
    let holders = wait_stored(&coordinator, &id, 3, Duration::from_secs(60));
    assert_eq!(holders.len(), 3);
    let status = content_status(&coordinator, &id);
    assert_eq!(status["size"], 100 * MB);
    assert!(
        status["providers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["direct"].is_string()),
        "every node's own endpoint answered the dial-back: {status}"
    );

    // Directly from the nodes, with the CLI.
    let out = dir.path().join("fetched.bin");
    let said = fetch_ok(&coordinator, &id, &out, &dir.path().join("client"), &[]);
    assert!(
        std::fs::read(&out).unwrap() == bytes,
        "fetched bytes differ"
    );
    assert!(said.contains("from node"), "{said}");

    // Through the gateway: whole, and a range.
    let (code, head, body) = http_get_bytes(coordinator.http, &format!("/content/{id}"), &[]);
    assert_eq!(code, 200, "{head}");
    assert!(
        body == bytes,
        "gateway bytes differ ({} of {})",
        body.len(),
        bytes.len()
    );
    let (code, head, body) = http_get_bytes(
        coordinator.http,
        &format!("/content/{id}"),
        &[("Range", "bytes=5000000-5999999")],
    );
    assert_eq!(code, 206, "{head}");
    assert!(head.to_lowercase().contains(&format!(
        "content-range: bytes 5000000-5999999/{}",
        100 * MB
    )));
    assert!(body == bytes[5_000_000..6_000_000]);

    // The nodes that served were paid through the ledger, and their wallets verify.
    wait_until(Duration::from_secs(20), "serving credits", || {
        let total = ledger(&coordinator)["total"].as_u64().unwrap();
        (total > 0).then_some(())
    });
    for node in &nodes {
        let (_, receipts) = support::compute::verified_wallet(&node.data);
        assert!(
            receipts
                .iter()
                .all(|r| r["work"].as_str().unwrap().starts_with("served "))
        );
    }
    let serving: u64 = nodes
        .iter()
        .map(|n| support::compute::verified_wallet(&n.data).0)
        .sum();
    assert!(serving > 0, "somebody earned from serving");
    support::money::audit_balances(&coordinator);
}

#[test]
fn a_node_serving_bad_bytes_is_caught_at_its_first_group_the_client_switches_and_the_node_is_banned()
 {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator(dir.path(), &[]);
    let mut honest = nodes(&coordinator, dir.path(), 2, "");
    let liar = start_cache_node(
        &coordinator,
        &dir.path().join("liar"),
        "",
        &["--test-corrupt-cache"],
    );
    support::compute::wait_contributing(&coordinator, &liar);
    honest.push(liar);
    let liar_id = honest[2].id.clone();
    let bytes = make_content(6 * MB, 3);
    let id = publish(
        &coordinator,
        dir.path(),
        "page.bin",
        &bytes,
        &["--replicas", "3"],
    );
    wait_stored(&coordinator, &id, 3, Duration::from_secs(60));

    let out = dir.path().join("page.out");
    let said = fetch_ok(&coordinator, &id, &out, &dir.path().join("client"), &[]);
    assert!(
        std::fs::read(&out).unwrap() == bytes,
        "the client ended with the true bytes"
    );
    assert!(
        said.contains(&format!("node {} sent bad data at byte 0", &liar_id[..10])),
        "caught at its first group: {said}"
    );
    assert!(
        !said.contains(&format!("from node {}", &liar_id[..10])),
        "{said}"
    );

    // The coordinator checks for itself, bans the liar and drops its copy.
    wait_until(Duration::from_secs(30), "the liar banned", || {
        let status = content_status(&coordinator, &id);
        let listed = status["providers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["node"] == liar_id.as_str());
        let failed = status["pins"].as_array().unwrap().iter().any(|p| {
            p["node"] == liar_id.as_str()
                && p["state"] == "failed"
                && p["reason"].as_str().unwrap_or("").contains("bad data")
        });
        (!listed && failed).then_some(())
    });
    assert_eq!(coordinator.metric("idleshare_bad_cache_data_total"), 1);
    support::money::audit_balances(&coordinator);
}

#[test]
fn the_cache_quota_is_never_exceeded_while_content_keeps_arriving() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator(dir.path(), &[]);
    let quota_mib = 20u64;
    let node = nodes(
        &coordinator,
        dir.path(),
        1,
        &format!("cache_disk_quota_mib = {quota_mib}\n"),
    )
    .remove(0);
    let peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done, data) = (peak.clone(), done.clone(), node.data.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(cache_bytes_on_disk(&data), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    // Six 6 MB items into 20 MiB, while a client keeps reading the newest.
    let mut ids = Vec::new();
    for seed in 1..=6 {
        let bytes = make_content(6 * MB, seed);
        let id = publish(
            &coordinator,
            dir.path(),
            &format!("item{seed}"),
            &bytes,
            &["--replicas", "1"],
        );
        wait_until(Duration::from_secs(60), "the newest item stored", || {
            stored_on(&coordinator, &id)
                .contains(&node.id)
                .then_some(())
        });
        let out = dir.path().join(format!("item{seed}.out"));
        fetch_ok(&coordinator, &id, &out, &dir.path().join("client"), &[]);
        assert!(std::fs::read(&out).unwrap() == bytes);
        ids.push(id);
    }
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let quota = quota_mib << 20;
    let peak = peak.load(Ordering::Relaxed);
    assert!(
        peak <= quota,
        "{peak} bytes on disk over a {quota}-byte quota"
    );
    assert!(peak > quota / 2, "the sampler saw the cache fill ({peak})");
    // The oldest went to make room, and the coordinator was told.
    let first = content_status(&coordinator, &ids[0]);
    let evicted = first["pins"].as_array().unwrap().iter().any(|p| {
        p["node"] == node.id.as_str() && p["reason"].as_str().unwrap_or("").contains("evicted")
    });
    assert!(evicted, "{first}");
    support::money::audit_balances(&coordinator);
}

#[test]
fn scrub_finds_a_corrupted_file_evicts_it_and_the_content_is_pinned_elsewhere() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator(dir.path(), &[]);
    let data = dir.path().join("scrubbed");
    let scrubbed = start_cache_node(
        &coordinator,
        &data,
        "",
        &["--scrub-secs", "0.2", "--scrub-age-hours", "0.00001"],
    );
    support::compute::wait_contributing(&coordinator, &scrubbed);
    let bytes = make_content(3 * MB, 9);
    let id = publish(
        &coordinator,
        dir.path(),
        "doc.bin",
        &bytes,
        &["--replicas", "1"],
    );
    wait_stored(&coordinator, &id, 1, Duration::from_secs(60));
    let spare = nodes(&coordinator, dir.path(), 1, "").remove(0);

    // A bit flips on the disk.
    let file = cached_file(&data, &id);
    let mut on_disk = std::fs::read(&file).unwrap();
    on_disk[1_234_567] ^= 0x04;
    std::fs::write(&file, on_disk).unwrap();

    wait_until(Duration::from_secs(30), "the scrub's report", || {
        let status = content_status(&coordinator, &id);
        status["pins"].as_array().unwrap().iter().find_map(|p| {
            (p["node"] == scrubbed.id.as_str()
                && p["reason"].as_str().unwrap_or("").contains("corrupt"))
            .then_some(())
        })
    });
    assert!(!file.exists(), "the corrupt copy is gone from disk");
    wait_until(Duration::from_secs(30), "a fresh copy elsewhere", || {
        stored_on(&coordinator, &id)
            .contains(&spare.id)
            .then_some(())
    });
    let out = dir.path().join("doc.out");
    fetch_ok(&coordinator, &id, &out, &dir.path().join("client"), &[]);
    assert!(std::fs::read(&out).unwrap() == bytes);
    support::money::audit_balances(&coordinator);
}

#[test]
fn a_node_killed_mid_transfer_leaves_the_client_to_finish_from_another() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator(dir.path(), &[]);
    // Capped uploads make the transfer last long enough to kill a node in the middle.
    let mut nodes = nodes(
        &coordinator,
        dir.path(),
        2,
        "upload_cap_kib_per_sec = 2048\n",
    );
    let bytes = make_content(16 * MB, 5);
    let id = publish(
        &coordinator,
        dir.path(),
        "video.bin",
        &bytes,
        &["--replicas", "2"],
    );
    wait_stored(&coordinator, &id, 2, Duration::from_secs(60));

    let out = dir.path().join("video.out");
    let fetch = start_fetch(
        &coordinator,
        &id,
        &out,
        &dir.path().join("client"),
        &["--segment-kib", "1024", "--stall-secs", "2"],
    );
    let order = fetch.wait_for_line("providers, fastest first:", Duration::from_secs(30));
    let first = nodes
        .iter()
        .position(|n| order.contains(&format!("node {}", &n.id[..10])))
        .expect("a node named first");
    let part = dir.path().join("video.out.part");
    wait_until(Duration::from_secs(30), "the transfer under way", || {
        (std::fs::metadata(&part).map_or(0, |m| m.len()) >= 2 * MB as u64).then_some(())
    });
    nodes[first].process.kill_hard();
    let mut fetch = fetch;
    let status = wait_until(Duration::from_secs(120), "the fetch to end", || {
        fetch.child.try_wait().unwrap()
    });
    assert!(status.success(), "{}", fetch.output());
    assert!(std::fs::read(&out).unwrap() == bytes);
    let other = &nodes[1 - first].id[..10];
    assert!(
        fetch.output().contains(&format!("bytes from node {other}")),
        "{}",
        fetch.output()
    );
    support::money::audit_balances(&coordinator);
}

#[test]
fn an_interrupted_fetch_resumes_where_it_stopped() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator(dir.path(), &[]);
    let _nodes = nodes(
        &coordinator,
        dir.path(),
        1,
        "upload_cap_kib_per_sec = 2048\n",
    );
    let bytes = make_content(12 * MB, 11);
    let id = publish(
        &coordinator,
        dir.path(),
        "big.bin",
        &bytes,
        &["--replicas", "1"],
    );
    wait_stored(&coordinator, &id, 1, Duration::from_secs(60));

    let out = dir.path().join("big.out");
    let client = dir.path().join("client");
    let mut first = start_fetch(&coordinator, &id, &out, &client, &["--segment-kib", "512"]);
    let part = dir.path().join("big.out.part");
    wait_until(Duration::from_secs(30), "half the file", || {
        (std::fs::metadata(&part).map_or(0, |m| m.len()) >= 4 * MB as u64).then_some(())
    });
    first.kill_hard();
    let kept = std::fs::metadata(&part).unwrap().len();
    let said = fetch_ok(&coordinator, &id, &out, &client, &[]);
    assert!(said.contains("resuming at byte"), "{said}");
    let resumed: u64 = said
        .lines()
        .find_map(|l| l.trim().strip_prefix("resumed at byte "))
        .expect("resume line")
        .parse()
        .unwrap();
    assert!(
        resumed >= 4 * MB as u64 - 16 * 1024 && resumed <= kept,
        "{resumed} vs {kept}"
    );
    assert!(std::fs::read(&out).unwrap() == bytes);
    assert!(!part.exists());
    support::money::audit_balances(&coordinator);
}

#[test]
fn a_node_with_no_reachable_port_is_served_through_the_relay() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator(dir.path(), &[]);
    let hidden = start_cache_node(
        &coordinator,
        &dir.path().join("nat"),
        "",
        &["--cache-listen", "off"],
    );
    support::compute::wait_contributing(&coordinator, &hidden);
    let bytes = make_content(5 * MB, 13);
    let id = publish(
        &coordinator,
        dir.path(),
        "behind-nat.bin",
        &bytes,
        &["--replicas", "1"],
    );
    wait_stored(&coordinator, &id, 1, Duration::from_secs(60));
    let status = content_status(&coordinator, &id);
    assert!(status["providers"][0]["direct"].is_null(), "{status}");

    let out = dir.path().join("relayed.out");
    let said = fetch_ok(&coordinator, &id, &out, &dir.path().join("client"), &[]);
    assert!(std::fs::read(&out).unwrap() == bytes);
    assert!(
        said.contains(&format!("node {} (relayed)", &hidden.id[..10])),
        "{said}"
    );
    assert!(coordinator.metric("idleshare_relayed_bytes_total") >= 5 * MB as u64);
    assert_eq!(
        coordinator.metric("idleshare_origin_bytes_total"),
        5 * MB as u64,
        "only the fill came from the origin"
    );
    // Receipts for relayed bytes reach the ledger through the coordinator.
    wait_until(Duration::from_secs(20), "the relayed node paid", || {
        let summary = ledger(&coordinator);
        summary["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["node"] == hidden.id.as_str() && a["balance"].as_u64().unwrap() > 0)
            .then_some(())
    });
    support::money::audit_balances(&coordinator);
}

#[test]
fn a_paused_node_answers_busy_at_once_and_the_client_moves_on() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator(dir.path(), &[]);
    let node = nodes(&coordinator, dir.path(), 1, "").remove(0);
    let bytes = make_content(2 * MB, 19);
    let id = publish(
        &coordinator,
        dir.path(),
        "doc.bin",
        &bytes,
        &["--replicas", "1"],
    );
    wait_stored(&coordinator, &id, 1, Duration::from_secs(60));
    // The owner switches contributing off; the node follows its settings file.
    let settings = node.data.with_extension("settings.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(
        &settings,
        format!("[contribution]\nenabled = false\n\n{text}"),
    )
    .unwrap();
    wait_until(Duration::from_secs(20), "the node paused", || {
        coordinator
            .node(&node.id)
            .filter(|n| n["activity"] == "paused")
    });
    let started = std::time::Instant::now();
    let out = dir.path().join("doc.out");
    let said = fetch_ok(
        &coordinator,
        &id,
        &out,
        &dir.path().join("client"),
        &["--stall-secs", "10"],
    );
    assert!(std::fs::read(&out).unwrap() == bytes);
    assert!(said.contains("is busy"), "{said}");
    assert!(said.contains("bytes from the origin"), "{said}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "busy is answered at once, not after a stall ({:?})",
        started.elapsed()
    );
    support::money::audit_balances(&coordinator);
}

#[test]
fn uploads_keep_to_the_owners_cap() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let coordinator = coordinator(dir.path(), &[]);
    let _node = nodes(
        &coordinator,
        dir.path(),
        1,
        "upload_cap_kib_per_sec = 1024\n",
    );
    let bytes = make_content(6 * MB, 23);
    let id = publish(
        &coordinator,
        dir.path(),
        "capped.bin",
        &bytes,
        &["--replicas", "1"],
    );
    wait_stored(&coordinator, &id, 1, Duration::from_secs(60));
    let started = std::time::Instant::now();
    let out = dir.path().join("capped.out");
    fetch_ok(&coordinator, &id, &out, &dir.path().join("client"), &[]);
    // 6 MiB at 1 MiB/s, less a half-MiB burst: at least 5.5 s (a slow machine only adds).
    assert!(
        started.elapsed() >= Duration::from_millis(5_000),
        "{:?}",
        started.elapsed()
    );
    assert!(std::fs::read(&out).unwrap() == bytes);
    support::money::audit_balances(&coordinator);
}

#[test]
fn published_content_and_its_copies_survive_a_killed_coordinator() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("coordinator");
    let mut first = CoordinatorProcess::start_with(&data, 0, &["--spot-check-secs", "3600"]);
    let nodes = nodes(&first, dir.path(), 2, "");
    let bytes = make_content(4 * MB, 29);
    let id = publish(&first, dir.path(), "kept.bin", &bytes, &["--replicas", "2"]);
    wait_stored(&first, &id, 2, Duration::from_secs(60));
    first.process.kill_hard();
    let second =
        CoordinatorProcess::start_with(&data, first.quic_port, &["--spot-check-secs", "3600"]);
    for node in &nodes {
        support::wait_online(&second, &node.id, Duration::from_secs(40));
    }
    let holders = wait_stored(&second, &id, 2, Duration::from_secs(30));
    assert_eq!(holders.len(), 2);
    let out = dir.path().join("kept.out");
    let said = fetch_ok(&second, &id, &out, &dir.path().join("client"), &[]);
    assert!(std::fs::read(&out).unwrap() == bytes);
    assert!(said.contains("from node"), "{said}");
    support::money::audit_balances(&second);
}
