//! Small helpers for reading the one-value text files of procfs and sysfs.
//!
//! Every helper returns `None` on any failure (missing file, permission, non-UTF-8, bad
//! number): the sources treat an unreadable value as unknown, never as an error.

use std::io::Read;
use std::path::Path;

/// Reads a whole file into `buffer`, reusing its allocation (the sources read the same
/// files every second, so this avoids one allocation per read).
pub(crate) fn read_into(path: &Path, buffer: &mut String) -> Option<()> {
    buffer.clear();
    let mut file = std::fs::File::open(path).ok()?;
    file.read_to_string(buffer).ok()?;
    Some(())
}

/// Reads a file and trims whitespace (sysfs values end with a newline).
pub(crate) fn read_trimmed(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.trim().to_owned())
}

/// Reads a decimal unsigned number.
pub(crate) fn read_u64(path: &Path) -> Option<u64> {
    read_trimmed(path)?.parse().ok()
}

/// Reads a hexadecimal number written as `0x10de` (PCI ids in sysfs).
pub(crate) fn read_hex_u32(path: &Path) -> Option<u32> {
    let text = read_trimmed(path)?;
    let digits = text.strip_prefix("0x").unwrap_or(&text);
    u32::from_str_radix(digits, 16).ok()
}
