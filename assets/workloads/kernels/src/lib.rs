//! The sample workloads' computations, in plain `no_std` Rust with no dependencies.
//!
//! Each kernel parses its input bytes, says how long its output is, and writes the output
//! into a buffer its caller provides, so the WebAssembly modules (which allocate from their
//! own linear memory) and the native benchmark (which allocates a `Vec`) run exactly the same
//! code. All arithmetic is either integer or IEEE f64 without fused operations, so every
//! machine and both targets compute the same bytes.

#![no_std]
#![deny(missing_docs)]

#[cfg(target_arch = "wasm32")]
pub mod guest;
pub mod mandelbrot;
pub mod render;
pub mod sha256;

/// Reads a little-endian u32 at `offset`, if the input is long enough.
pub(crate) fn read_u32(input: &[u8], offset: usize) -> Option<u32> {
    let bytes = input.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes(bytes.try_into().ok()?))
}

/// Reads a little-endian u64 at `offset`, if the input is long enough.
pub(crate) fn read_u64(input: &[u8], offset: usize) -> Option<u64> {
    let bytes = input.get(offset..offset.checked_add(8)?)?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}
