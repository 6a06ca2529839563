//! A real node process on a real X server: it contributes while the owner is away, and real
//! input flips it to paused; the coordinator sees both through the node's heartbeats.

mod desktop_support;
mod support;

use std::time::{Duration, Instant};

use support::{CoordinatorProcess, Process, node_args, wait_online, wait_until};

/// The node's activity and pause reason as the coordinator last heard them.
fn activity(coordinator: &CoordinatorProcess, id: &str) -> (String, String) {
    let node = coordinator.node(id).expect("registered");
    let reason = node["pause_reason"].as_str().unwrap_or_default().to_owned();
    (
        node["activity"].as_str().unwrap_or_default().to_owned(),
        reason,
    )
}

#[test]
fn real_input_on_the_x_server_flips_the_node_to_paused() {
    let Some(xvfb) = desktop_support::xvfb() else {
        return;
    };
    let display = xvfb.display().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("settings.toml");
    // Two idle seconds make "the owner is away"; the default is three minutes. Other
    // processes' CPU (parallel tests, builds) must not pause it: this test is about input.
    let policy = "[policy]\ninput_idle_secs = 2\nowner_cpu_pause_percent = 100\nowner_cpu_resume_percent = 100\n";
    std::fs::write(&settings, policy).unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let data = dir.path().join("node");
    let extra = [
        "--key-store",
        "file",
        "--settings",
        settings.to_str().unwrap(),
    ];
    let node = Process::start(
        &node_args(&coordinator.address, &data, &extra),
        &[("DISPLAY", display.as_str())],
    );
    let id = node
        .wait_for_line("node id: ", Duration::from_secs(20))
        .trim_start_matches("node id: ")
        .trim()
        .to_owned();
    wait_online(&coordinator, &id, Duration::from_secs(20));

    // Nobody touches the X server: after two idle seconds the node contributes.
    wait_until(Duration::from_secs(20), "node contributing", || {
        (activity(&coordinator, &id).0 == "contributing").then_some(())
    });

    desktop_support::move_mouse(&display, 300, 200);
    let moved = Instant::now();
    let (_, reason) = wait_until(Duration::from_secs(5), "node paused by input", || {
        let (state, reason) = activity(&coordinator, &id);
        (state == "paused").then_some((state, reason))
    });
    assert!(reason.contains("using this computer"), "{reason}");
    eprintln!("input → paused at the coordinator in {:?}", moved.elapsed());

    // The node itself says so, naming the X11 source.
    let status = std::process::Command::new(support::BINARY)
        .args(["node", "status", "--data", data.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("input idle") && text.contains("(x11)"),
        "{text}"
    );

    // Left alone again, it resumes.
    wait_until(Duration::from_secs(20), "node contributing again", || {
        (activity(&coordinator, &id).0 == "contributing").then_some(())
    });
}
