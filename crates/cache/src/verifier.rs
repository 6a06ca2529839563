//! Cutting a received byte stream into the pieces of a range encoding and checking each
//! one (pure: bytes in, checked pieces out). `fetch` runs it on a thread of its own, so
//! hashing overlaps with receiving.

use idleshare_protocol::tree::{ByteRange, PARENT_BYTES, RangeDecoder, Step, TreeError};

/// A checked piece, owned, ready to hand to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Checked {
    /// A parent node at its pre-order index.
    Parent {
        /// Pre-order index.
        index: u64,
        /// Its 64 bytes.
        bytes: [u8; PARENT_BYTES],
    },
    /// Content bytes at `at` (clipped to the range asked for).
    Content {
        /// Where they belong.
        at: ByteRange,
        /// The bytes.
        bytes: Vec<u8>,
    },
}

/// Checks an encoding that arrives in chunks of any size.
pub(crate) struct StreamVerifier {
    decoder: RangeDecoder,
    range: ByteRange,
    pending: Vec<u8>,
    /// Bytes of `pending` already consumed.
    start: usize,
}

impl StreamVerifier {
    /// Checks the encoding of `range` with `decoder`.
    pub(crate) fn new(decoder: RangeDecoder, range: ByteRange) -> Self {
        Self {
            decoder,
            range,
            pending: Vec::new(),
            start: 0,
        }
    }

    /// Takes the next received bytes; appends every piece they complete, checked, to `out`.
    /// Bytes past the end of the encoding are ignored.
    pub(crate) fn push(&mut self, chunk: &[u8], out: &mut Vec<Checked>) -> Result<(), TreeError> {
        if self.start > 0 && self.start * 2 >= self.pending.len() {
            self.pending.drain(..self.start);
            self.start = 0;
        }
        self.pending.extend_from_slice(chunk);
        while let Some(step) = self.decoder.next_step() {
            let len = match step {
                Step::Parent { .. } => PARENT_BYTES,
                Step::Group { bytes, .. } => bytes.len() as usize,
            };
            let Some(piece) = self.pending.get(self.start..self.start + len) else {
                break;
            };
            out.push(check(&mut self.decoder, self.range, step, piece)?);
            self.start += len;
        }
        Ok(())
    }

    /// Whether every piece has arrived and passed.
    pub(crate) fn is_done(&mut self) -> bool {
        self.decoder.is_done()
    }
}

/// Checks `piece` as `step` of the encoding of `range`.
fn check(
    decoder: &mut RangeDecoder,
    range: ByteRange,
    step: Step,
    piece: &[u8],
) -> Result<Checked, TreeError> {
    match step {
        Step::Parent { index } => {
            decoder.parent(piece)?;
            let mut bytes = [0u8; PARENT_BYTES];
            bytes.copy_from_slice(piece);
            Ok(Checked::Parent { index, bytes })
        }
        Step::Group { bytes: group, .. } => {
            decoder.group(piece)?;
            let at = ByteRange {
                start: range.start.max(group.start),
                end: range.end.min(group.end),
            };
            let from = (at.start - group.start) as usize;
            let to = (at.end.max(at.start) - group.start) as usize;
            Ok(Checked::Content {
                at,
                bytes: piece[from..to].to_vec(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use idleshare_protocol::tree::{GROUP_BYTES, OutboardBuilder, encode_range};

    use super::*;

    fn setup(len: usize, range: ByteRange) -> (Vec<u8>, Vec<u8>, StreamVerifier) {
        let content: Vec<u8> = (0..len).map(|i| (i * 7 + i / 300) as u8).collect();
        let mut builder = OutboardBuilder::new();
        builder.update(&content);
        let (id, outboard) = builder.finish();
        let encoding = encode_range(&content, &outboard, range).unwrap();
        let decoder = RangeDecoder::new(id, len as u64, range).unwrap();
        (content, encoding, StreamVerifier::new(decoder, range))
    }

    fn content_of(out: &[Checked]) -> Vec<u8> {
        out.iter()
            .flat_map(|piece| match piece {
                Checked::Content { bytes, .. } => bytes.clone(),
                Checked::Parent { .. } => Vec::new(),
            })
            .collect()
    }

    #[test]
    fn any_chunking_gives_the_same_checked_pieces() {
        let range = ByteRange {
            start: 3 * GROUP_BYTES + 5,
            end: 11 * GROUP_BYTES + 77,
        };
        let (content, encoding, _) = setup(20 * GROUP_BYTES as usize, range);
        for chunk in [1, 63, 64, 1000, 16_384, 70_000, encoding.len()] {
            let (_, _, mut verifier) = setup(20 * GROUP_BYTES as usize, range);
            let mut out = Vec::new();
            for piece in encoding.chunks(chunk) {
                verifier.push(piece, &mut out).unwrap();
            }
            assert!(verifier.is_done(), "chunks of {chunk}");
            assert_eq!(
                content_of(&out),
                &content[range.start as usize..range.end as usize],
                "chunks of {chunk}"
            );
        }
    }

    #[test]
    fn a_bad_byte_stops_it_before_the_bad_group_is_handed_out() {
        let range = ByteRange::whole(6 * GROUP_BYTES);
        let (_, mut encoding, mut verifier) = setup(6 * GROUP_BYTES as usize, range);
        let last = encoding.len() - 10;
        encoding[last] ^= 1;
        let mut out = Vec::new();
        let error = verifier.push(&encoding, &mut out).unwrap_err();
        assert!(
            matches!(error, TreeError::BadGroup { index: 5, .. }),
            "{error}"
        );
        assert_eq!(content_of(&out).len(), 5 * GROUP_BYTES as usize);
    }
}
