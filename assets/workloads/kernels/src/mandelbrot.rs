//! Mandelbrot tiles: CPU-heavy floating-point work with a tiny input and a modest output.
//!
//! Input (36 bytes, little-endian):
//!
//! | offset | type | field                                        |
//! |-------:|------|----------------------------------------------|
//! | 0      | u32  | width in pixels (1..=4096)                   |
//! | 4      | u32  | height in pixels (1..=4096)                  |
//! | 8      | u32  | max iterations per pixel (1..=65535)         |
//! | 12     | f64  | real part of the top-left pixel's centre     |
//! | 20     | f64  | imaginary part of the top-left pixel's centre|
//! | 28     | f64  | step between neighbouring pixels             |
//!
//! Output: `width * height` u16 little-endian iteration counts, row by row; a point that
//! never escaped reads `max iterations`.

/// The input, parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tile {
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Iterations before a point counts as inside the set.
    pub max_iterations: u32,
    /// Real part at pixel (0, 0).
    pub re_min: f64,
    /// Imaginary part at pixel (0, 0).
    pub im_min: f64,
    /// Distance between pixels on both axes.
    pub step: f64,
}

/// Length of an encoded [`Tile`].
pub const INPUT_LEN: usize = 36;
/// Largest width or height.
pub const MAX_SIDE: u32 = 4096;

impl Tile {
    /// Parses the input layout above; `None` when too short or out of range.
    pub fn parse(input: &[u8]) -> Option<Tile> {
        let f64_at = |offset| crate::read_u64(input, offset).map(f64::from_bits);
        let tile = Tile {
            width: crate::read_u32(input, 0)?,
            height: crate::read_u32(input, 4)?,
            max_iterations: crate::read_u32(input, 8)?,
            re_min: f64_at(12)?,
            im_min: f64_at(20)?,
            step: f64_at(28)?,
        };
        let sides_ok =
            (1..=MAX_SIDE).contains(&tile.width) && (1..=MAX_SIDE).contains(&tile.height);
        let iterations_ok = (1..=u32::from(u16::MAX)).contains(&tile.max_iterations);
        (sides_ok && iterations_ok).then_some(tile)
    }

    /// Encodes the tile as input bytes.
    pub fn encode(&self) -> [u8; INPUT_LEN] {
        let mut bytes = [0u8; INPUT_LEN];
        bytes[0..4].copy_from_slice(&self.width.to_le_bytes());
        bytes[4..8].copy_from_slice(&self.height.to_le_bytes());
        bytes[8..12].copy_from_slice(&self.max_iterations.to_le_bytes());
        bytes[12..20].copy_from_slice(&self.re_min.to_le_bytes());
        bytes[20..28].copy_from_slice(&self.im_min.to_le_bytes());
        bytes[28..36].copy_from_slice(&self.step.to_le_bytes());
        bytes
    }

    /// Output length in bytes.
    pub fn output_len(&self) -> usize {
        self.width as usize * self.height as usize * 2
    }

    /// Writes the iteration counts into `out` (at least [`Tile::output_len`] bytes).
    /// (Never inlined: a native caller compiled at a lower opt-level must still run this
    /// crate's fully optimised code.)
    #[inline(never)]
    pub fn render(&self, out: &mut [u8]) {
        let row_len = self.width as usize * 2;
        for (y, row) in out
            .chunks_exact_mut(row_len)
            .take(self.height as usize)
            .enumerate()
        {
            let im = self.im_min + y as f64 * self.step;
            for (x, pixel) in row.chunks_exact_mut(2).enumerate() {
                let re = self.re_min + x as f64 * self.step;
                let count = escape_time(re, im, self.max_iterations) as u16;
                pixel.copy_from_slice(&count.to_le_bytes());
            }
        }
    }
}

/// Iterations of z ← z² + c, from z = 0, until |z| > 2 or `max` iterations.
pub fn escape_time(re: f64, im: f64, max: u32) -> u32 {
    let (mut zr, mut zi) = (0.0f64, 0.0f64);
    let mut count = 0;
    while count < max {
        let (zr2, zi2) = (zr * zr, zi * zi);
        if zr2 + zi2 > 4.0 {
            break;
        }
        zi = 2.0 * zr * zi + im;
        zr = zr2 - zi2 + re;
        count += 1;
    }
    count
}
