//! Reading and writing the settings file: defaults when missing, clear errors, atomic saves.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{InvalidSettings, Settings};

/// Written at the top of every saved file, for people who open it in an editor.
const HEADER: &str = "\
# Idleshare settings. Every key is optional: a missing key takes its default.
# Schedule windows look like \"mon-fri 18:00-08:00\"; a window that crosses midnight
# belongs to its start day. An empty list means never.

";

/// Why the settings could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file exists but could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The settings file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The file is not valid TOML, has an unknown key, or a value of the wrong type.
    #[error("{}{}: {}", path.display(), at.map(|at| format!(":{at}")).unwrap_or_default(),
        key.as_ref().map(|key| format!("{key}: {message}")).unwrap_or_else(|| message.clone()))]
    Parse {
        /// The settings file.
        path: PathBuf,
        /// Where in the file, when known.
        at: Option<TextPosition>,
        /// The key concerned, e.g. `policy.extra_key` or `schedule.compute`, when known.
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// Values are out of their ranges.
    #[error("{}: {source}", path.display())]
    Invalid {
        /// The settings file.
        path: PathBuf,
        /// Every bad setting.
        source: InvalidSettings,
    },
    /// The file could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The settings file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The settings could not be turned into TOML (cannot happen for valid settings).
    #[error("cannot encode settings as TOML: {0}")]
    Encode(#[from] toml::ser::Error),
}

/// A 1-based line and column in a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextPosition {
    /// Line, counting from 1.
    pub line: usize,
    /// Column in characters, counting from 1.
    pub column: usize,
}

impl fmt::Display for TextPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Loads and validates the settings at `path`; a missing file means all defaults.
pub fn load(path: &Path) -> Result<Settings, SettingsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(source) => {
            return Err(SettingsError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    parse(&text, path)
}

/// Parses and validates settings from TOML `text`; `path` only names the source in errors.
pub fn parse(text: &str, path: &Path) -> Result<Settings, SettingsError> {
    let settings: Settings = toml::from_str(text).map_err(|error| SettingsError::Parse {
        path: path.to_owned(),
        at: error.span().map(|span| position_of(text, span.start)),
        key: key_of(&error),
        // serde speaks of fields; the people editing this file know them as keys.
        message: error
            .message()
            .trim_end()
            .replacen("unknown field", "unknown key", 1),
    })?;
    settings
        .validate()
        .map_err(|source| SettingsError::Invalid {
            path: path.to_owned(),
            source,
        })?;
    Ok(settings)
}

/// The settings as the TOML text [`save`] writes (comment header included).
pub fn to_toml(settings: &Settings) -> Result<String, SettingsError> {
    Ok(format!("{HEADER}{}", toml::to_string_pretty(settings)?))
}

/// Validates and writes `settings` to `path` atomically: a temporary file in the same
/// directory is written, flushed to disk and renamed over the old one, so a crash leaves
/// either the old file or the new one, never half of each. Creates the directory if needed.
pub fn save(path: &Path, settings: &Settings) -> Result<(), SettingsError> {
    let invalid = |source| SettingsError::Invalid {
        path: path.to_owned(),
        source,
    };
    settings.validate().map_err(invalid)?;
    let text = to_toml(settings)?;
    let write_error = |source| SettingsError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(write_error)?;
    let file_name = path
        .file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy();
    // The process id keeps two processes (node and desktop app) from sharing a temp file.
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let written =
        write_and_sync(&temp, text.as_bytes()).and_then(|()| std::fs::rename(&temp, path));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(write_error(error));
    }
    Ok(())
}

fn write_and_sync(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The 1-based line and column of byte `offset` in `text`.
fn position_of(text: &str, offset: usize) -> TextPosition {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    TextPosition {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

/// The dotted key an error is about. The toml crate tracks the key path but only shows it
/// in its `Display` when no source text is attached ("in `policy.key`"), so render it that
/// way. An unknown key is reported against its table, so append the key's own name.
fn key_of(error: &toml::de::Error) -> Option<String> {
    let mut bare = error.clone();
    bare.set_input(None);
    let rendered = bare.to_string();
    let table = rendered
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("in `")?.strip_suffix('`'));
    let unknown = error
        .message()
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next());
    match (table, unknown) {
        (Some(table), Some(name)) => Some(format!("{table}.{name}")),
        (None, Some(name)) => Some(name.to_owned()),
        (Some(table), None) => Some(table.to_owned()),
        (None, None) => None,
    }
}
