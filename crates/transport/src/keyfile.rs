//! An ed25519 secret key kept in a file only its owner can read.
//!
//! Used by the coordinator for its own key, and by nodes only where no OS keychain is
//! usable. The file holds the 32-byte seed as hex, is created with mode 0600 (on Unix) and
//! written atomically (temporary file, fsync, rename), so a crash never leaves half a key.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

/// Why a key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Reading or writing failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file exists but does not hold a key.
    #[error("key file {path} is corrupt: expected 64 hex digits")]
    Corrupt {
        /// The file.
        path: PathBuf,
    },
    /// Others can read the file; refusing to use a possibly leaked key.
    #[error("key file {path} is readable by others (mode {mode:o}); run: chmod 600 {path}")]
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The OS random number generator failed.
    #[error("no randomness available for a new key: {0}")]
    Random(String),
}

/// Creates a fresh key from the OS random number generator.
pub fn generate_key() -> Result<SigningKey, KeyFileError> {
    let mut seed = [0u8; 32];
    getrandom_fill(&mut seed)?;
    Ok(SigningKey::from_bytes(&seed))
}

fn getrandom_fill(buf: &mut [u8]) -> Result<(), KeyFileError> {
    getrandom::fill(buf).map_err(|e| KeyFileError::Random(e.to_string()))
}

/// Encodes a key's seed as 64 hex digits.
pub fn key_to_hex(key: &SigningKey) -> String {
    key.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes 64 hex digits into a key.
pub fn key_from_hex(text: &str) -> Option<SigningKey> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut seed = [0u8; 32];
    for (i, byte) in seed.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(SigningKey::from_bytes(&seed))
}

/// Reads the key at `path`, or creates one there if the file does not exist.
///
/// Returns the key and whether it was newly created.
pub fn load_or_create_key_file(path: &Path) -> Result<(SigningKey, bool), KeyFileError> {
    match read_key_file(path)? {
        Some(key) => Ok((key, false)),
        None => {
            let key = generate_key()?;
            write_key_file(path, &key)?;
            Ok((key, true))
        }
    }
}

/// Reads a key file; `Ok(None)` when it does not exist.
pub fn read_key_file(path: &Path) -> Result<Option<SigningKey>, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    check_private(path)?;
    key_from_hex(&text)
        .map(Some)
        .ok_or_else(|| KeyFileError::Corrupt {
            path: path.to_owned(),
        })
}

/// Writes a key file atomically with owner-only permissions.
pub fn write_key_file(path: &Path, key: &SigningKey) -> Result<(), KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io)?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io)?;
    file.write_all(key_to_hex(key).as_bytes()).map_err(io)?;
    file.write_all(b"\n").map_err(io)?;
    file.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)?;
    Ok(())
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), KeyFileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|source| KeyFileError::Io {
            path: path.to_owned(),
            source,
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), KeyFileError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "idleshare-keyfile-{}-{}",
            std::process::id(),
            key_to_hex(&generate_key().unwrap())
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn created_key_is_reloaded_identically_with_mode_0600() {
        let path = temp_dir().join("node.key");
        let (first, created) = load_or_create_key_file(&path).unwrap();
        assert!(created);
        let (second, created) = load_or_create_key_file(&path).unwrap();
        assert!(!created);
        assert_eq!(first.to_bytes(), second.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn corrupt_file_is_a_clear_error_and_is_not_overwritten() {
        let path = temp_dir().join("node.key");
        write_key_file(&path, &generate_key().unwrap()).unwrap();
        fs::write(&path, "not a key").unwrap();
        let err = load_or_create_key_file(&path).unwrap_err();
        assert!(matches!(err, KeyFileError::Corrupt { .. }), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "not a key");
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_key_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let path = temp_dir().join("node.key");
        write_key_file(&path, &generate_key().unwrap()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_key_file(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn hex_round_trip_and_rejects_bad_text() {
        let key = generate_key().unwrap();
        assert_eq!(
            key_from_hex(&key_to_hex(&key)).unwrap().to_bytes(),
            key.to_bytes()
        );
        assert!(key_from_hex("zz").is_none());
        assert!(key_from_hex(&"é".repeat(32)).is_none());
    }
}
