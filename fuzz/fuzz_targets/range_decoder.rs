//! Fuzz target for verified streaming (`idleshare_protocol::tree`).
//!
//! Properties checked on arbitrary bytes:
//! - a `RangeDecoder` for any size and range, fed any bytes as the encoding, never panics
//!   and never accepts a group (the id is derived from the input but is no hash of any
//!   input, so every encoding is forged);
//! - the input's own tail, taken as content, round-trips: its outboard and the encoding of
//!   any range decode back to exactly that range's bytes.

#![no_main]

use idleshare_protocol::ContentId;
use idleshare_protocol::tree::{
    ByteRange, OutboardBuilder, PARENT_BYTES, RangeDecoder, Step, TreeShape, encode_range,
};
use libfuzzer_sys::fuzz_target;

fn word(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(word)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 24 {
        return;
    }
    let (head, tail) = data.split_at(24);
    forged(head, tail);
    round_trip(head, tail);
});

/// Any encoding of content nobody knows is refused at some piece, without a panic.
fn forged(head: &[u8], mut encoding: &[u8]) {
    let size = word(head) % (4 << 20);
    let (a, b) = (
        word(&head[8..]) % (size + 1),
        word(&head[16..]) % (size + 1),
    );
    let range = ByteRange {
        start: a.min(b),
        end: a.max(b),
    };
    // Altered after hashing, so no input (not even one repeating `head`) is its preimage.
    let mut id = *ContentId::of(head).as_bytes();
    id[0] ^= 0x5a;
    let id = ContentId::from_bytes(id);
    let Ok(mut decoder) = RangeDecoder::new(id, size, range) else {
        return;
    };
    let mut accepted_groups = 0;
    while let Some(step) = decoder.next_step() {
        let len = match step {
            Step::Parent { .. } => PARENT_BYTES,
            Step::Group { bytes, .. } => bytes.len() as usize,
        };
        let Some(piece) = encoding.get(..len) else {
            return;
        };
        encoding = &encoding[len..];
        let accepted = match step {
            Step::Parent { .. } => decoder.parent(piece),
            Step::Group { .. } => decoder.group(piece).map(|()| accepted_groups += 1),
        };
        if accepted.is_err() {
            return;
        }
    }
    assert_eq!(accepted_groups, 0, "a forged group was accepted");
}

/// Real content round-trips through its outboard and the encoding of a range.
fn round_trip(head: &[u8], content: &[u8]) {
    let mut builder = OutboardBuilder::new();
    builder.update(content);
    let (id, outboard) = builder.finish();
    assert_eq!(id, ContentId::of(content));
    let size = content.len() as u64;
    assert_eq!(outboard.len() as u64, TreeShape::new(size).outboard_len());
    let range = if size == 0 {
        ByteRange::whole(0)
    } else {
        let (a, b) = (word(&head[8..]) % size, word(&head[16..]) % size);
        ByteRange {
            start: a.min(b),
            end: a.max(b) + 1,
        }
    };
    let encoding = encode_range(content, &outboard, range).expect("a range inside the content");
    let mut decoder = RangeDecoder::new(id, size, range).expect("a valid range");
    let mut rest = &encoding[..];
    let mut verified = Vec::new();
    while let Some(step) = decoder.next_step() {
        match step {
            Step::Parent { .. } => {
                decoder.parent(&rest[..PARENT_BYTES]).expect("true parent");
                rest = &rest[PARENT_BYTES..];
            }
            Step::Group { bytes, .. } => {
                let len = bytes.len() as usize;
                decoder.group(&rest[..len]).expect("true group");
                verified.extend_from_slice(&rest[..len]);
                rest = &rest[len..];
            }
        }
    }
    assert!(rest.is_empty());
    let first_group = range.start - range.start % idleshare_protocol::tree::GROUP_BYTES;
    let from = (range.start - first_group) as usize;
    assert_eq!(
        &verified[from..from + range.len() as usize],
        &content[range.start as usize..range.end as usize]
    );
}
