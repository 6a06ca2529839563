use proptest::prelude::*;

use super::*;

fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 7) as u8).collect()
}

fn outboard_of(bytes: &[u8]) -> (ContentId, Vec<u8>) {
    let mut builder = OutboardBuilder::new();
    // Uneven feeding must not matter.
    for piece in bytes.chunks(7_001) {
        builder.update(piece);
    }
    builder.finish()
}

/// Decodes an encoding the way a client does; returns the verified bytes of the range.
fn decode(
    id: ContentId,
    size: u64,
    range: ByteRange,
    mut encoding: &[u8],
) -> Result<Vec<u8>, TreeError> {
    let mut decoder = RangeDecoder::new(id, size, range)?;
    let mut verified = Vec::new();
    while let Some(step) = decoder.next_step() {
        let len = match step {
            Step::Parent { .. } => PARENT_BYTES,
            Step::Group { bytes, .. } => bytes.len() as usize,
        };
        let piece = encoding.get(..len).ok_or(TreeError::Unexpected("end"))?;
        encoding = &encoding[len..];
        match step {
            Step::Parent { .. } => decoder.parent(piece)?,
            Step::Group { bytes, .. } => {
                decoder.group(piece)?;
                let from = range.start.saturating_sub(bytes.start) as usize;
                let to = (range.end.min(bytes.end) - bytes.start) as usize;
                verified.extend_from_slice(&piece[from.min(to)..to]);
            }
        }
    }
    assert!(encoding.is_empty(), "encoding longer than its steps");
    Ok(verified)
}

#[test]
fn content_id_is_plain_blake3_at_every_size_edge() {
    let g = GROUP_BYTES as usize;
    for len in [
        0,
        1,
        1023,
        1024,
        1025,
        g - 1,
        g,
        g + 1,
        2 * g,
        3 * g + 5,
        17 * g,
    ] {
        let bytes = content(len);
        let (id, outboard) = outboard_of(&bytes);
        assert_eq!(id, ContentId::of(&bytes), "len {len}");
        assert_eq!(
            outboard.len() as u64,
            TreeShape::new(len as u64).outboard_len()
        );
    }
}

#[test]
fn whole_encoding_is_content_plus_outboard() {
    let bytes = content(5 * GROUP_BYTES as usize + 99);
    let (id, outboard) = outboard_of(&bytes);
    let whole = ByteRange::whole(bytes.len() as u64);
    let encoding = encode_range(&bytes, &outboard, whole).unwrap();
    assert_eq!(encoding.len(), bytes.len() + outboard.len());
    assert_eq!(
        TreeShape::new(bytes.len() as u64)
            .encoded_len(whole)
            .unwrap(),
        encoding.len() as u64
    );
    assert_eq!(
        decode(id, bytes.len() as u64, whole, &encoding).unwrap(),
        bytes
    );
}

#[test]
fn empty_content_is_one_empty_group() {
    let (id, outboard) = outboard_of(&[]);
    let range = ByteRange::whole(0);
    let encoding = encode_range(&[], &outboard, range).unwrap();
    assert!(encoding.is_empty());
    assert_eq!(decode(id, 0, range, &encoding).unwrap(), Vec::<u8>::new());
}

#[test]
fn a_range_needs_only_the_parents_above_it() {
    let bytes = content(64 * GROUP_BYTES as usize);
    let (id, outboard) = outboard_of(&bytes);
    let range = ByteRange {
        start: 40 * GROUP_BYTES + 10,
        end: 40 * GROUP_BYTES + 20,
    };
    let encoding = encode_range(&bytes, &outboard, range).unwrap();
    // One group and the six parents above it in a tree of 64 groups.
    assert_eq!(encoding.len(), GROUP_BYTES as usize + 6 * PARENT_BYTES);
    assert_eq!(
        decode(id, bytes.len() as u64, range, &encoding).unwrap(),
        &bytes[range.start as usize..range.end as usize]
    );
}

#[test]
fn a_flipped_content_byte_is_caught_at_its_group() {
    let bytes = content(9 * GROUP_BYTES as usize + 3);
    let (id, outboard) = outboard_of(&bytes);
    let whole = ByteRange::whole(bytes.len() as u64);
    let clean = encode_range(&bytes, &outboard, whole).unwrap();
    let mut altered = bytes.clone();
    altered[6 * GROUP_BYTES as usize + 100] ^= 1;
    let bad = encode_range(&altered, &outboard, whole).unwrap();
    assert_ne!(clean, bad);
    let err = decode(id, bytes.len() as u64, whole, &bad).unwrap_err();
    assert_eq!(
        err,
        TreeError::BadGroup {
            index: 6,
            offset: 6 * GROUP_BYTES,
            end: 7 * GROUP_BYTES
        }
    );
    assert!(err.to_string().contains("group 6 is corrupt"), "{err}");
}

#[test]
fn a_forged_parent_is_refused() {
    let bytes = content(4 * GROUP_BYTES as usize);
    let (id, mut outboard) = outboard_of(&bytes);
    outboard[PARENT_BYTES + 3] ^= 0x80; // the left child's parent
    let whole = ByteRange::whole(bytes.len() as u64);
    let encoding = encode_range(&bytes, &outboard, whole).unwrap();
    assert!(matches!(
        decode(id, bytes.len() as u64, whole, &encoding),
        Err(TreeError::BadParent { index: 1, .. }) | Err(TreeError::BadParent { index: 0, .. })
    ));
}

#[test]
fn wrong_id_fails_at_the_first_piece() {
    let bytes = content(3 * GROUP_BYTES as usize);
    let (_, outboard) = outboard_of(&bytes);
    let other = ContentId::of(b"something else");
    let whole = ByteRange::whole(bytes.len() as u64);
    let encoding = encode_range(&bytes, &outboard, whole).unwrap();
    let mut decoder = RangeDecoder::new(other, bytes.len() as u64, whole).unwrap();
    assert_eq!(decoder.next_step(), Some(Step::Parent { index: 0 }));
    assert!(matches!(
        decoder.parent(&encoding[..PARENT_BYTES]),
        Err(TreeError::BadParent { index: 0, .. })
    ));
}

#[test]
fn ranges_outside_the_content_are_refused() {
    let shape = TreeShape::new(100);
    for (start, end) in [(0, 101), (50, 40), (100, 100), (u64::MAX, u64::MAX)] {
        assert!(
            matches!(
                shape.groups_for(ByteRange { start, end }),
                Err(TreeError::BadRange { .. })
            ),
            "{start}..{end}"
        );
    }
    assert_eq!(
        shape.groups_for(ByteRange {
            start: 99,
            end: 100
        }),
        Ok(0..1)
    );
}

#[test]
fn pieces_of_the_wrong_kind_or_length_are_refused() {
    let bytes = content(2 * GROUP_BYTES as usize);
    let (id, _) = outboard_of(&bytes);
    let whole = ByteRange::whole(bytes.len() as u64);
    let mut decoder = RangeDecoder::new(id, bytes.len() as u64, whole).unwrap();
    assert_eq!(
        decoder.group(&bytes[..10]),
        Err(TreeError::Unexpected("group"))
    );
    assert!(matches!(
        decoder.parent(&[0; 10]),
        Err(TreeError::WrongLength {
            expected: 64,
            got: 10
        })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_range_of_any_content_round_trips(len in 0usize..200_000, a in any::<u64>(), b in any::<u64>()) {
        let bytes = content(len);
        let (id, outboard) = outboard_of(&bytes);
        let size = len as u64;
        let range = if size == 0 {
            ByteRange::whole(0)
        } else {
            let (x, y) = (a % size, b % size);
            ByteRange { start: x.min(y), end: x.max(y) + 1 }
        };
        let encoding = encode_range(&bytes, &outboard, range).unwrap();
        prop_assert_eq!(encoding.len() as u64, TreeShape::new(size).encoded_len(range).unwrap());
        let verified = decode(id, size, range, &encoding).unwrap();
        prop_assert_eq!(&verified[..], &bytes[range.start as usize..range.end as usize]);
    }

    #[test]
    fn any_flipped_encoding_byte_is_caught(len in 1usize..120_000, at in any::<usize>(), bit in 0u8..8) {
        let bytes = content(len);
        let (id, outboard) = outboard_of(&bytes);
        let whole = ByteRange::whole(len as u64);
        let mut encoding = encode_range(&bytes, &outboard, whole).unwrap();
        let at = at % encoding.len();
        encoding[at] ^= 1 << bit;
        prop_assert!(decode(id, len as u64, whole, &encoding).is_err());
    }
}
