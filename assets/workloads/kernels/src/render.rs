//! A rendered grayscale image: little input, a large output (a binary PGM of a few MiB).
//!
//! Input (12 bytes, little-endian): width u32 (1..=8192), height u32 (1..=8192), frame
//! u32 (any: shifts the pattern). Output: a binary PGM (`P5`) file: the header
//! `P5\n<width> <height>\n255\n`, then `width * height` bytes, row by row.

/// Length of an encoded [`Frame`].
pub const INPUT_LEN: usize = 12;
/// Largest width or height.
pub const MAX_SIDE: u32 = 8192;
/// Longest header: `P5\n8192 8192\n255\n`.
const MAX_HEADER_LEN: usize = 32;

/// The input, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Which frame of the animated pattern.
    pub frame: u32,
}

impl Frame {
    /// Parses the input layout above; `None` when the length or sizes are wrong.
    pub fn parse(input: &[u8]) -> Option<Frame> {
        if input.len() != INPUT_LEN {
            return None;
        }
        let frame = Frame {
            width: crate::read_u32(input, 0)?,
            height: crate::read_u32(input, 4)?,
            frame: crate::read_u32(input, 8)?,
        };
        let side_ok = |side| (1..=MAX_SIDE).contains(&side);
        (side_ok(frame.width) && side_ok(frame.height)).then_some(frame)
    }

    /// Encodes the frame as input bytes.
    pub fn encode(&self) -> [u8; INPUT_LEN] {
        let mut bytes = [0u8; INPUT_LEN];
        bytes[0..4].copy_from_slice(&self.width.to_le_bytes());
        bytes[4..8].copy_from_slice(&self.height.to_le_bytes());
        bytes[8..12].copy_from_slice(&self.frame.to_le_bytes());
        bytes
    }

    /// Output length in bytes, header included.
    pub fn output_len(&self) -> usize {
        self.header().1 + self.width as usize * self.height as usize
    }

    /// Writes the PGM into `out` (at least [`Frame::output_len`] bytes).
    /// (Never inlined: a native caller compiled at a lower opt-level must still run this
    /// crate's fully optimised code.)
    #[inline(never)]
    pub fn render(&self, out: &mut [u8]) {
        let (header, header_len) = self.header();
        out[..header_len].copy_from_slice(&header[..header_len]);
        let pixels = &mut out[header_len..];
        let width = self.width as usize;
        for (y, row) in pixels
            .chunks_exact_mut(width)
            .take(self.height as usize)
            .enumerate()
        {
            for (x, pixel) in row.iter_mut().enumerate() {
                *pixel = shade(x as u32, y as u32, self.frame);
            }
        }
    }

    fn header(&self) -> ([u8; MAX_HEADER_LEN], usize) {
        let mut header = [0u8; MAX_HEADER_LEN];
        let mut len = 0;
        let mut push = |bytes: &[u8]| {
            header[len..len + bytes.len()].copy_from_slice(bytes);
            len += bytes.len();
        };
        push(b"P5\n");
        push(decimal(self.width, &mut [0u8; 10]));
        push(b" ");
        push(decimal(self.height, &mut [0u8; 10]));
        push(b"\n255\n");
        (header, len)
    }
}

/// Concentric rings crossed by a moving diagonal interference pattern, integer-only.
fn shade(x: u32, y: u32, frame: u32) -> u8 {
    let (dx, dy) = (x.wrapping_sub(512), y.wrapping_sub(384));
    let rings = dx.wrapping_mul(dx).wrapping_add(dy.wrapping_mul(dy)) >> 7;
    let waves = (x ^ y).wrapping_add(frame.wrapping_mul(3));
    (rings ^ waves) as u8
}

/// The decimal digits of `value`, written into the end of `buffer`.
fn decimal(mut value: u32, buffer: &mut [u8; 10]) -> &[u8] {
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return &buffer[start..];
        }
    }
}
