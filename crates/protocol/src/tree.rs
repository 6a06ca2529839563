//! Verified streaming of content: the BLAKE3 tree over 16 KiB groups.
//!
//! A content id is the plain BLAKE3 hash of the bytes (what `b3sum` prints). BLAKE3 is itself
//! a binary hash tree over 1 KiB chunks, so any aligned run of chunks has a chaining value,
//! and two sibling chaining values merge into their parent's. Cutting the tree at groups of
//! 16 chunks (16 KiB) gives:
//!
//! - an **outboard**: the parent nodes above the groups (left and right chaining values, 64
//!   bytes each), in pre-order; about 0.4 % of the content;
//! - a **range encoding**: for a byte range, the parents on the paths from the root to the
//!   groups that overlap it, each followed by its subtrees, with the group bytes at the
//!   leaves (in tree order). Everything a reader needs to check each group against the
//!   root as it arrives, so bad bytes are caught at the first bad group, never after the
//!   whole transfer.
//!
//! The splitting rule is BLAKE3's: a subtree of `n > 1` groups has a left child of the
//! largest power of two below `n` groups. Lengths are implied by the content size, so the
//! encoding carries no lengths of its own. Everything here is pure; reading and writing live
//! with the callers.

use std::ops::Range;

use blake3::hazmat::{
    ChainingValue, HasherExt, Mode, merge_subtrees_non_root, merge_subtrees_root,
};

use crate::content::ContentId;

/// Bytes per group (16 BLAKE3 chunks).
pub const GROUP_BYTES: u64 = 16 * 1024;
/// Bytes per parent node in an outboard or an encoding: two chaining values.
pub const PARENT_BYTES: usize = 64;

/// A half-open byte range `start..end` of some content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl ByteRange {
    /// The whole of `size` bytes.
    pub fn whole(size: u64) -> Self {
        Self {
            start: 0,
            end: size,
        }
    }

    /// Bytes in the range.
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the range holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why an encoding or a request does not fit the tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A parent node's children do not hash to the value above it.
    #[error("parent node {index} does not match the tree (bytes at offset {offset} were altered)")]
    BadParent {
        /// Its pre-order index.
        index: u64,
        /// The first content byte below it.
        offset: u64,
    },
    /// A group's bytes do not hash to the value the tree holds for it.
    #[error("bytes {offset}..{end} do not match the content id (group {index} is corrupt)")]
    BadGroup {
        /// The group's index.
        index: u64,
        /// Its first byte.
        offset: u64,
        /// One past its last byte.
        end: u64,
    },
    /// The range lies outside the content or is backwards.
    #[error("range {start}..{end} is outside content of {size} bytes")]
    BadRange {
        /// Requested start.
        start: u64,
        /// Requested end.
        end: u64,
        /// The content size.
        size: u64,
    },
    /// A piece of the wrong length was handed in.
    #[error("expected {expected} bytes for the next piece, got {got}")]
    WrongLength {
        /// Bytes due.
        expected: u64,
        /// Bytes given.
        got: u64,
    },
    /// A piece was handed in after the encoding ended, or of the wrong kind.
    #[error("the encoding has no {0} here")]
    Unexpected(&'static str),
}

/// The shape of the tree over content of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeShape {
    size: u64,
}

impl TreeShape {
    /// The tree over `size` bytes.
    pub const fn new(size: u64) -> Self {
        Self { size }
    }

    /// The content size.
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// Groups in the tree (empty content has one empty group).
    pub const fn groups(&self) -> u64 {
        if self.size == 0 {
            1
        } else {
            self.size.div_ceil(GROUP_BYTES)
        }
    }

    /// Parent nodes above the groups.
    pub const fn parents(&self) -> u64 {
        self.groups() - 1
    }

    /// Bytes of the outboard.
    pub const fn outboard_len(&self) -> u64 {
        self.parents() * PARENT_BYTES as u64
    }

    /// The bytes group `index` covers.
    pub fn group_bytes(&self, index: u64) -> ByteRange {
        let start = (index * GROUP_BYTES).min(self.size);
        ByteRange {
            start,
            end: (start + GROUP_BYTES).min(self.size),
        }
    }

    /// Checks `range` against the size and returns the groups it overlaps.
    pub fn groups_for(&self, range: ByteRange) -> Result<Range<u64>, TreeError> {
        if range.start > range.end || range.end > self.size || (range.is_empty() && self.size > 0) {
            return Err(TreeError::BadRange {
                start: range.start,
                end: range.end,
                size: self.size,
            });
        }
        if self.size == 0 {
            return Ok(0..1);
        }
        Ok(range.start / GROUP_BYTES..range.end.div_ceil(GROUP_BYTES))
    }

    /// Bytes of the encoding of `range` (parents and groups), for progress and limits.
    pub fn encoded_len(&self, range: ByteRange) -> Result<u64, TreeError> {
        let mut total = 0;
        for step in Steps::new(*self, range)? {
            total += match step {
                Step::Parent { .. } => PARENT_BYTES as u64,
                Step::Group { bytes, .. } => bytes.len(),
            };
        }
        Ok(total)
    }
}

/// One piece of a range encoding, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A parent node: 64 bytes, at this pre-order index of the outboard.
    Parent {
        /// Pre-order index (its bytes sit at `index * 64` in the outboard).
        index: u64,
    },
    /// A group's bytes.
    Group {
        /// The group's index.
        index: u64,
        /// Where its bytes sit in the content.
        bytes: ByteRange,
    },
}

/// A subtree of groups `first..first + count`, whose parent (if any) sits at `preorder`.
#[derive(Debug, Clone, Copy)]
struct Subtree {
    first: u64,
    count: u64,
    preorder: u64,
}

impl Subtree {
    /// The two children: the left one holds the largest power of two below `count` groups.
    fn split(&self) -> (Subtree, Subtree) {
        let left = largest_power_of_two_below(self.count);
        (
            Subtree {
                first: self.first,
                count: left,
                preorder: self.preorder + 1,
            },
            Subtree {
                first: self.first + left,
                count: self.count - left,
                preorder: self.preorder + left,
            },
        )
    }

    fn overlaps(&self, groups: &Range<u64>) -> bool {
        self.first < groups.end && groups.start < self.first + self.count
    }
}

fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n > 1);
    1 << (63 - (n - 1).leading_zeros())
}

/// The pieces of the encoding of a range, in order.
#[derive(Debug, Clone)]
pub struct Steps {
    shape: TreeShape,
    wanted: Range<u64>,
    stack: Vec<Subtree>,
}

impl Steps {
    /// The steps for `range` of content shaped `shape`.
    pub fn new(shape: TreeShape, range: ByteRange) -> Result<Self, TreeError> {
        let wanted = shape.groups_for(range)?;
        let root = Subtree {
            first: 0,
            count: shape.groups(),
            preorder: 0,
        };
        Ok(Self {
            shape,
            wanted,
            stack: vec![root],
        })
    }

    /// The next subtree and the step it gives (children pushed left-on-top).
    fn advance(&mut self) -> Option<(Subtree, Step)> {
        let subtree = self.stack.pop()?;
        if subtree.count == 1 {
            let step = Step::Group {
                index: subtree.first,
                bytes: self.shape.group_bytes(subtree.first),
            };
            return Some((subtree, step));
        }
        let (left, right) = subtree.split();
        if right.overlaps(&self.wanted) {
            self.stack.push(right);
        }
        if left.overlaps(&self.wanted) {
            self.stack.push(left);
        }
        Some((
            subtree,
            Step::Parent {
                index: subtree.preorder,
            },
        ))
    }
}

impl Iterator for Steps {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        self.advance().map(|(_, step)| step)
    }
}

/// What a subtree must hash to: the root hash, or a chaining value below it.
#[derive(Debug, Clone, Copy)]
enum Expected {
    Root([u8; 32]),
    Chaining(ChainingValue),
}

/// Checks a range encoding piece by piece against a content id.
///
/// Call [`RangeDecoder::next_step`] to learn what comes next, then hand its bytes to
/// [`RangeDecoder::parent`] or [`RangeDecoder::group`]. A group is only ever accepted once
/// every parent above it has been checked, so accepted bytes are final.
#[derive(Debug, Clone)]
pub struct RangeDecoder {
    steps: Steps,
    /// Expected values of the subtrees on the traversal stack, in the same order.
    expected: Vec<Expected>,
    current: Option<(Subtree, Step, Expected)>,
}

impl RangeDecoder {
    /// A decoder for `range` of the content named `id` and `size` bytes long.
    pub fn new(id: ContentId, size: u64, range: ByteRange) -> Result<Self, TreeError> {
        let steps = Steps::new(TreeShape::new(size), range)?;
        Ok(Self {
            steps,
            expected: vec![Expected::Root(*id.as_bytes())],
            current: None,
        })
    }

    /// The next piece due, or `None` when the encoding is complete.
    pub fn next_step(&mut self) -> Option<Step> {
        if self.current.is_none() {
            let (subtree, step) = self.steps.advance()?;
            let expected = self.expected.pop()?;
            self.current = Some((subtree, step, expected));
        }
        self.current.map(|(_, step, _)| step)
    }

    /// Checks the 64 bytes of the parent due now.
    pub fn parent(&mut self, bytes: &[u8]) -> Result<(), TreeError> {
        let Some((subtree, Step::Parent { index }, expected)) = self.current_step() else {
            return Err(TreeError::Unexpected("parent node"));
        };
        let (left_cv, right_cv) = split_parent(bytes)?;
        let matches = match expected {
            Expected::Root(root) => {
                merge_subtrees_root(&left_cv, &right_cv, Mode::Hash).as_bytes() == &root
            }
            Expected::Chaining(cv) => {
                merge_subtrees_non_root(&left_cv, &right_cv, Mode::Hash) == cv
            }
        };
        if !matches {
            return Err(TreeError::BadParent {
                index,
                offset: subtree.first * GROUP_BYTES,
            });
        }
        let (left, right) = subtree.split();
        // Same order as `Steps::advance` pushed the children.
        if right.overlaps(&self.steps.wanted) {
            self.expected.push(Expected::Chaining(right_cv));
        }
        if left.overlaps(&self.steps.wanted) {
            self.expected.push(Expected::Chaining(left_cv));
        }
        self.current = None;
        Ok(())
    }

    /// Checks the bytes of the group due now; on success they are the content's bytes.
    pub fn group(&mut self, bytes: &[u8]) -> Result<(), TreeError> {
        let Some((_, Step::Group { index, bytes: at }, expected)) = self.current_step() else {
            return Err(TreeError::Unexpected("group"));
        };
        if bytes.len() as u64 != at.len() {
            return Err(TreeError::WrongLength {
                expected: at.len(),
                got: bytes.len() as u64,
            });
        }
        let matches = match expected {
            Expected::Root(root) => blake3::hash(bytes).as_bytes() == &root,
            Expected::Chaining(cv) => group_chaining_value(index, bytes) == cv,
        };
        if !matches {
            return Err(TreeError::BadGroup {
                index,
                offset: at.start,
                end: at.end,
            });
        }
        self.current = None;
        Ok(())
    }

    /// Whether every piece has been checked.
    pub fn is_done(&mut self) -> bool {
        self.next_step().is_none()
    }

    fn current_step(&mut self) -> Option<(Subtree, Step, Expected)> {
        self.next_step()?;
        self.current
    }
}

fn split_parent(bytes: &[u8]) -> Result<(ChainingValue, ChainingValue), TreeError> {
    let wrong = || TreeError::WrongLength {
        expected: PARENT_BYTES as u64,
        got: bytes.len() as u64,
    };
    let (left, right) = bytes.split_at_checked(32).ok_or_else(wrong)?;
    let left: ChainingValue = left.try_into().map_err(|_| wrong())?;
    let right: ChainingValue = right.try_into().map_err(|_| wrong())?;
    Ok((left, right))
}

/// The chaining value of group `index` (never the root: see [`OutboardBuilder`]).
pub fn group_chaining_value(index: u64, bytes: &[u8]) -> ChainingValue {
    let mut hasher = blake3::Hasher::new();
    hasher.set_input_offset(index * GROUP_BYTES);
    hasher.update(bytes);
    hasher.finalize_non_root()
}

/// Builds the content id and the outboard of bytes fed in order.
#[derive(Debug, Default)]
pub struct OutboardBuilder {
    /// Bytes of the group being filled.
    pending: Vec<u8>,
    /// Chaining values of the full groups so far.
    leaves: Vec<ChainingValue>,
    /// The whole content while it fits in one group (its hash is then the root).
    size: u64,
}

impl OutboardBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, mut bytes: &[u8]) {
        self.size += bytes.len() as u64;
        while !bytes.is_empty() {
            if self.pending.len() as u64 == GROUP_BYTES {
                let index = self.leaves.len() as u64;
                self.leaves.push(group_chaining_value(index, &self.pending));
                self.pending.clear();
            }
            let room = GROUP_BYTES as usize - self.pending.len();
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.pending.extend_from_slice(now);
            bytes = rest;
        }
    }

    /// The content id and the outboard (pre-order parents).
    pub fn finish(mut self) -> (ContentId, Vec<u8>) {
        if self.leaves.is_empty() {
            let id = ContentId::from_bytes(*blake3::hash(&self.pending).as_bytes());
            return (id, Vec::new());
        }
        let index = self.leaves.len() as u64;
        self.leaves.push(group_chaining_value(index, &self.pending));
        let shape = TreeShape::new(self.size);
        let mut outboard = vec![0u8; shape.outboard_len() as usize];
        let root = Subtree {
            first: 0,
            count: shape.groups(),
            preorder: 0,
        };
        let (left, right) = fill_parents(&self.leaves, root, &mut outboard);
        let id = ContentId::from_bytes(*merge_subtrees_root(&left, &right, Mode::Hash).as_bytes());
        (id, outboard)
    }
}

/// Writes the parents of `subtree` (of more than one group) into `outboard` and returns its
/// children's chaining values.
fn fill_parents(
    leaves: &[ChainingValue],
    subtree: Subtree,
    outboard: &mut [u8],
) -> (ChainingValue, ChainingValue) {
    let (left, right) = subtree.split();
    let mut value_of = |child: Subtree| {
        if child.count == 1 {
            leaves[child.first as usize]
        } else {
            let (l, r) = fill_parents(leaves, child, outboard);
            merge_subtrees_non_root(&l, &r, Mode::Hash)
        }
    };
    let (left_cv, right_cv) = (value_of(left), value_of(right));
    let at = subtree.preorder as usize * PARENT_BYTES;
    outboard[at..at + 32].copy_from_slice(&left_cv);
    outboard[at + 32..at + PARENT_BYTES].copy_from_slice(&right_cv);
    (left_cv, right_cv)
}

/// The encoding of `range` from whole content and its outboard held in memory (tests,
/// small content; servers stream the same steps from disk).
pub fn encode_range(
    content: &[u8],
    outboard: &[u8],
    range: ByteRange,
) -> Result<Vec<u8>, TreeError> {
    let shape = TreeShape::new(content.len() as u64);
    let mut out = Vec::new();
    for step in Steps::new(shape, range)? {
        match step {
            Step::Parent { index } => {
                let at = index as usize * PARENT_BYTES;
                out.extend_from_slice(&outboard[at..at + PARENT_BYTES]);
            }
            Step::Group { bytes, .. } => {
                out.extend_from_slice(&content[bytes.start as usize..bytes.end as usize]);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tests;
