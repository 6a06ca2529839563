//! The on-disk cache of compiled modules.

mod common;

use common::*;
use idleshare_protocol::{ContentId, JobLimits};
use idleshare_sandbox::{RunOutcome, Sandbox, SandboxConfig};

fn cached_sandbox(dir: &std::path::Path) -> Sandbox {
    Sandbox::new(SandboxConfig {
        cache_dir: Some(dir.to_path_buf()),
        ..SandboxConfig::default()
    })
    .unwrap()
}

fn cwasm_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "cwasm"))
        .collect()
}

#[test]
fn a_second_load_comes_from_the_cache_even_in_a_new_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wasm(ECHO_PLUS_ONE);
    let id = ContentId::of(&bytes);
    let first = cached_sandbox(dir.path()).load(id, &bytes, "run").unwrap();
    assert!(!first.from_cache());
    let files = cwasm_files(dir.path());
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with(&format!("{id}-")), "{name}");

    let sandbox = cached_sandbox(dir.path());
    let second = sandbox.load(id, &bytes, "run").unwrap();
    assert!(second.from_cache());
    assert_eq!(sandbox.cache_hits(), 1);
    let outcome = sandbox
        .start(&second, "run", b"ab".to_vec(), JobLimits::default())
        .run_to_end();
    assert!(matches!(outcome, RunOutcome::Output { ref bytes, .. } if bytes == b"bc"));
}

#[cfg(unix)]
#[test]
fn the_cache_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("modules");
    cached_sandbox(&cache);
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn a_corrupted_cache_file_is_detected_and_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wasm(ECHO_PLUS_ONE);
    let id = ContentId::of(&bytes);
    cached_sandbox(dir.path()).load(id, &bytes, "run").unwrap();
    let path = cwasm_files(dir.path()).remove(0);
    let mut damaged = std::fs::read(&path).unwrap();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x55;
    std::fs::write(&path, &damaged).unwrap();

    let sandbox = cached_sandbox(dir.path());
    let reloaded = sandbox.load(id, &bytes, "run").unwrap();
    assert!(!reloaded.from_cache(), "a damaged file is not trusted");
    let outcome = sandbox
        .start(&reloaded, "run", b"a".to_vec(), JobLimits::default())
        .run_to_end();
    assert!(matches!(outcome, RunOutcome::Output { ref bytes, .. } if bytes == b"b"));
    // The recompiled artefact replaced the damaged one.
    assert!(
        cached_sandbox(dir.path())
            .load(id, &bytes, "run")
            .unwrap()
            .from_cache()
    );
}

#[test]
fn a_truncated_cache_file_is_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wasm(ECHO_PLUS_ONE);
    let id = ContentId::of(&bytes);
    cached_sandbox(dir.path()).load(id, &bytes, "run").unwrap();
    let path = cwasm_files(dir.path()).remove(0);
    std::fs::write(&path, b"tiny").unwrap();
    assert!(
        !cached_sandbox(dir.path())
            .load(id, &bytes, "run")
            .unwrap()
            .from_cache()
    );
}
