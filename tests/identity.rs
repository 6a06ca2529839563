//! The node key in the OS keychain (Secret Service here), and the honest 0600-file
//! fallback when no keychain exists.
//!
//! The keychain tests need a D-Bus session with an unlocked Secret Service (the README's
//! test command provides one). Without it they skip, unless IDLESHARE_REQUIRE_KEYCHAIN=1,
//! as in CI, where they fail instead.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use support::{BINARY, CoordinatorProcess, Process, node_args, wait_online};

/// Runs `idleshare node id` for `data` with the given key store and environment.
fn node_id(data: &Path, key_store: &str, without_keychain: bool) -> Output {
    let mut command = Command::new(BINARY);
    command
        .args([
            "node",
            "id",
            "--data",
            data.to_str().unwrap(),
            "--key-store",
            key_store,
        ])
        .env("NO_COLOR", "1");
    if without_keychain {
        // No session bus and no X display to autolaunch one: no Secret Service at all.
        command
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/idleshare-test-bus",
            )
            .env_remove("DISPLAY");
    }
    command.output().expect("run idleshare node id")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_owned()
}

/// Whether a keychain is reachable; panics if one is required and is not.
fn keychain_available() -> bool {
    let probe = tempfile::tempdir().unwrap();
    let output = node_id(probe.path(), "keychain", false);
    let _ = idleshare_node::identity::delete_keychain_key(probe.path());
    if output.status.success() {
        return true;
    }
    let required = std::env::var("IDLESHARE_REQUIRE_KEYCHAIN").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "IDLESHARE_REQUIRE_KEYCHAIN=1 but the keychain is unusable: {}",
        text(&output.stderr)
    );
    eprintln!(
        "skipped: no usable OS keychain here ({})",
        text(&output.stderr)
    );
    false
}

/// Removes the test's keychain entry even if the test fails.
struct KeychainEntryGuard<'a>(&'a Path);

impl Drop for KeychainEntryGuard<'_> {
    fn drop(&mut self) {
        let _ = idleshare_node::identity::delete_keychain_key(self.0);
    }
}

#[test]
fn the_node_key_lives_in_the_os_keychain_and_registers_with_it() {
    if !keychain_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    std::fs::create_dir_all(&data).unwrap();
    let _guard = KeychainEntryGuard(&data);

    let first = node_id(&data, "keychain", false);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stderr).contains("key storage: OS keychain"),
        "{}",
        text(&first.stderr)
    );
    assert!(
        !data.join("node.key").exists(),
        "no key file when the keychain holds the key"
    );
    let id = text(&first.stdout);
    let second = node_id(&data, "auto", false);
    assert_eq!(text(&second.stdout), id, "same id on every start");

    // The keychain key is the one the node proves over TLS.
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let node = Process::start(&node_args(&coordinator.address, &data, &[]), &[]);
    node.wait_for_line("key storage: OS keychain", Duration::from_secs(20));
    wait_online(&coordinator, &id, Duration::from_secs(20));
}

#[test]
fn a_key_left_in_a_fallback_file_moves_into_the_keychain() {
    if !keychain_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let _guard = KeychainEntryGuard(dir.path());
    let from_file = node_id(dir.path(), "file", false);
    assert!(dir.path().join("node.key").exists());
    let moved = node_id(dir.path(), "auto", false);
    assert_eq!(
        text(&moved.stdout),
        text(&from_file.stdout),
        "identity kept"
    );
    assert!(
        text(&moved.stderr).contains("OS keychain"),
        "{}",
        text(&moved.stderr)
    );
    assert!(
        !dir.path().join("node.key").exists(),
        "file removed after the move"
    );
}

#[test]
fn without_a_keychain_the_key_falls_back_to_an_owner_only_file_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let first = node_id(dir.path(), "auto", true);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let stderr = text(&first.stderr);
    assert!(stderr.contains("no usable OS keychain"), "{stderr}");
    assert!(stderr.contains("0600"), "{stderr}");
    let key_file = dir.path().join("node.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let second = node_id(dir.path(), "auto", true);
    assert_eq!(
        text(&second.stdout),
        text(&first.stdout),
        "same id from the file"
    );
}

#[test]
fn a_running_node_without_a_keychain_warns_and_shows_the_file_in_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let coordinator = CoordinatorProcess::start(&dir.path().join("coordinator"), 0);
    let data = dir.path().join("node");
    let node = Process::start(
        &node_args(&coordinator.address, &data, &[]),
        &[
            (
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/idleshare-test-bus",
            ),
            ("DISPLAY", ""),
        ],
    );
    node.wait_for_line("WARN", Duration::from_secs(20));
    let status = node.wait_for_line("key storage: file", Duration::from_secs(5));
    assert!(
        status.contains("node.key") && status.contains("0600"),
        "{status}"
    );
    let id = text(&node_id(&data, "file", true).stdout);
    wait_online(&coordinator, &id, Duration::from_secs(20));
}

#[test]
fn requiring_the_keychain_where_there_is_none_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = node_id(dir.path(), "keychain", true);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("OS keychain is not usable"), "{stderr}");
    assert!(!dir.path().join("node.key").exists(), "no silent fallback");
}
