//! Compiled modules on disk: `<content id>-<engine hash>.cwasm`, each file the serialized
//! artefact followed by its BLAKE3 digest, so a damaged file is noticed before wasmtime
//! trusts it.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use idleshare_protocol::ContentId;
use wasmtime::{Engine, Module};

const DIGEST_LEN: usize = 32;

/// A directory of compiled artefacts owned by this process's user (0700).
#[derive(Debug)]
pub(crate) struct ModuleCache {
    dir: PathBuf,
    engine_hash: String,
}

impl ModuleCache {
    pub(crate) fn open(dir: PathBuf, engine_hash: String) -> io::Result<Self> {
        fs::create_dir_all(&dir)?;
        restrict_to_owner(&dir)?;
        Ok(Self { dir, engine_hash })
    }

    pub(crate) fn path_of(&self, id: ContentId) -> PathBuf {
        self.dir.join(format!("{id}-{}.cwasm", self.engine_hash))
    }

    /// The cached module for `id`, or `None` when absent or damaged (a damaged file is
    /// deleted so the next store replaces it).
    pub(crate) fn load(&self, engine: &Engine, id: ContentId) -> io::Result<Option<Module>> {
        let path = self.path_of(id);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let Some(artefact) = verified_artefact(&bytes) else {
            tracing::warn!("sandbox: cached {} is damaged; recompiling", path.display());
            remove_if_present(&path)?;
            return Ok(None);
        };
        // SAFETY: the bytes come from our own 0700 cache directory, were written by
        // `store` from `Module::serialize` of an engine with the same compatibility hash
        // (it is in the file name), and their digest matches, so they are exactly what
        // wasmtime produced.
        match unsafe { Module::deserialize(engine, artefact) } {
            Ok(module) => Ok(Some(module)),
            Err(error) => {
                tracing::warn!(
                    "sandbox: cannot load {}: {error}; recompiling",
                    path.display()
                );
                remove_if_present(&path)?;
                Ok(None)
            }
        }
    }

    /// Writes the artefact atomically: a temporary file in the same directory, then rename.
    pub(crate) fn store(&self, id: ContentId, module: &Module) -> io::Result<()> {
        let artefact = module.serialize().map_err(io::Error::other)?;
        let path = self.path_of(id);
        // Unique per process and per write: two units of one module may finish compiling
        // at the same moment.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = self.dir.join(format!(
            ".{id}-{}.{}-{write}.tmp",
            self.engine_hash,
            std::process::id()
        ));
        let written =
            write_with_digest(&temporary, &artefact).and_then(|()| fs::rename(&temporary, &path));
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written
    }
}

fn write_with_digest(path: &Path, artefact: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(artefact)?;
    file.write_all(blake3::hash(artefact).as_bytes())?;
    file.sync_all()
}

/// The artefact part of a cache file whose trailing digest matches it.
fn verified_artefact(bytes: &[u8]) -> Option<&[u8]> {
    let split = bytes.len().checked_sub(DIGEST_LEN)?;
    let (artefact, digest) = bytes.split_at(split);
    (blake3::hash(artefact).as_bytes() == digest).then_some(artefact)
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn restrict_to_owner(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn restrict_to_owner(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_whose_digest_matches_are_trusted() {
        let mut file = b"artefact".to_vec();
        file.extend_from_slice(blake3::hash(b"artefact").as_bytes());
        assert_eq!(verified_artefact(&file), Some(&b"artefact"[..]));
        file[0] ^= 1;
        assert_eq!(verified_artefact(&file), None);
        assert_eq!(verified_artefact(b"short"), None);
    }
}
