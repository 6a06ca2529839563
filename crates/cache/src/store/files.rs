//! The files of stored items: names, positioned reads, and whole-item checks.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use idleshare_protocol::ContentId;
use idleshare_protocol::tree::{ByteRange, OutboardBuilder, PARENT_BYTES, TreeShape};

use super::{StoreError, StoredItem};

/// Read size for whole-item passes (scrub, import).
const BLOCK: usize = 1 << 20;

pub(super) fn data_path(dir: &Path, id: &ContentId) -> PathBuf {
    dir.join(format!("{id}.data"))
}

pub(super) fn outboard_path(dir: &Path, id: &ContentId) -> PathBuf {
    dir.join(format!("{id}.obao"))
}

pub(super) fn part_path(final_path: &Path) -> PathBuf {
    let mut name = final_path.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// Whether both files exist with the sizes the item implies.
pub(super) fn matches_size(dir: &Path, item: &StoredItem) -> bool {
    let len = |path: PathBuf| std::fs::metadata(path).map(|m| m.len()).ok();
    len(data_path(dir, &item.id)) == Some(item.size)
        && len(outboard_path(dir, &item.id)) == Some(TreeShape::new(item.size).outboard_len())
}

/// Deletes an item's files (missing ones are fine).
pub(super) fn remove_item(dir: &Path, id: &ContentId) {
    for path in [data_path(dir, id), outboard_path(dir, id)] {
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cache: cannot delete {}: {e}", path.display());
        }
    }
}

/// Deletes `.part` files and item files that `known` does not claim.
pub(super) fn remove_strays(dir: &Path, known: impl Fn(&ContentId) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stray = if name.ends_with(".part") {
            true
        } else if let Some(stem) = name
            .strip_suffix(".data")
            .or_else(|| name.strip_suffix(".obao"))
        {
            stem.parse::<ContentId>().is_ok_and(|id| !known(&id))
        } else {
            false
        };
        if stray {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Calls `each` with successive blocks of the file.
pub(super) fn for_each_block(path: &Path, mut each: impl FnMut(&[u8])) -> std::io::Result<()> {
    let mut file = File::open(path)?;
    let mut buffer = vec![0u8; BLOCK];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(());
        }
        each(&buffer[..n]);
    }
}

/// What is wrong with a stored copy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Damage {
    /// Its data or outboard file cannot be read.
    #[error("cannot read {path}: {kind}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What reading it said.
        kind: std::io::ErrorKind,
    },
    /// The data file has another size than was stored.
    #[error("{on_disk} bytes on disk where {stored} were stored")]
    WrongSize {
        /// Bytes found.
        on_disk: u64,
        /// Bytes stored.
        stored: u64,
    },
    /// The bytes hash to another id.
    #[error("the bytes on disk hash to {}", .0.short())]
    WrongHash(ContentId),
    /// The outboard is not the one the bytes rebuild.
    #[error("its outboard does not match its bytes")]
    WrongOutboard,
}

/// Re-hashes an item: its bytes must hash to its id and rebuild its outboard exactly.
pub(super) fn check_item(dir: &Path, item: &StoredItem) -> Result<(), Damage> {
    let unreadable = |path: &Path| {
        let path = path.to_owned();
        move |e: std::io::Error| Damage::Unreadable {
            path,
            kind: e.kind(),
        }
    };
    let data = data_path(dir, &item.id);
    let mut builder = OutboardBuilder::new();
    let mut size = 0u64;
    for_each_block(&data, |block| {
        size += block.len() as u64;
        builder.update(block);
    })
    .map_err(unreadable(&data))?;
    if size != item.size {
        return Err(Damage::WrongSize {
            on_disk: size,
            stored: item.size,
        });
    }
    let (id, outboard) = builder.finish();
    if id != item.id {
        return Err(Damage::WrongHash(id));
    }
    let outboard_file = outboard_path(dir, &item.id);
    let stored = std::fs::read(&outboard_file).map_err(unreadable(&outboard_file))?;
    if stored != outboard {
        return Err(Damage::WrongOutboard);
    }
    Ok(())
}

/// A stored item open for reading (it stays readable even if evicted meanwhile).
#[derive(Debug)]
pub struct ContentReader {
    item: StoredItem,
    data: File,
    outboard: File,
}

impl ContentReader {
    pub(super) fn open(dir: &Path, item: StoredItem) -> Result<Self, StoreError> {
        let open =
            |path: PathBuf| File::open(&path).map_err(|source| StoreError::Io { path, source });
        Ok(Self {
            item,
            data: open(data_path(dir, &item.id))?,
            outboard: open(outboard_path(dir, &item.id))?,
        })
    }

    /// The content id.
    pub fn id(&self) -> ContentId {
        self.item.id
    }

    /// The content size.
    pub fn size(&self) -> u64 {
        self.item.size
    }

    /// Parent node `index` of the outboard.
    pub fn read_parent(&self, index: u64) -> std::io::Result<[u8; PARENT_BYTES]> {
        let mut parent = [0u8; PARENT_BYTES];
        read_exact_at(&self.outboard, &mut parent, index * PARENT_BYTES as u64)?;
        Ok(parent)
    }

    /// The content bytes of `range` into `buffer` (resized to fit).
    pub fn read_range(&self, range: ByteRange, buffer: &mut Vec<u8>) -> std::io::Result<()> {
        buffer.resize(range.len() as usize, 0);
        read_exact_at(&self.data, buffer, range.start)
    }
}

#[cfg(unix)]
pub(super) fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, offset)
}

#[cfg(windows)]
pub(super) fn read_exact_at(
    file: &File,
    mut buffer: &mut [u8],
    mut offset: u64,
) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buffer.is_empty() {
        match file.seek_read(buffer, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buffer = &mut buffer[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
pub(super) fn write_all_at(file: &File, buffer: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buffer, offset)
}

#[cfg(windows)]
pub(super) fn write_all_at(file: &File, mut buffer: &[u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buffer.is_empty() {
        let n = file.seek_write(buffer, offset)?;
        buffer = &buffer[n..];
        offset += n as u64;
    }
    Ok(())
}
