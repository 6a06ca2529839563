//! The job ABI's guest side (see `idleshare_protocol::abi`), for the wasm32 modules: a bump
//! allocator over fresh linear memory, and the packed output pointer.
//!
//! A unit runs in a fresh instance and never frees, so a bump allocator is all it needs.
//! Allocations start at the end of the memory the module was instantiated with (above its
//! stack and data) and grow the memory as needed; a growth the host refuses traps, which
//! the host reports as a memory-limit failure.

use core::arch::wasm32;
use core::sync::atomic::{AtomicUsize, Ordering};

const PAGE: usize = 65536;
const ALIGN: usize = 16;

/// Next free address; 0 until the first allocation. (Atomics compile to plain loads and
/// stores on wasm32 without threads; they only spare us a `static mut`.)
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Reserves `len` bytes and returns their address; traps when memory cannot grow.
pub fn alloc(len: usize) -> *mut u8 {
    let mut next = NEXT.load(Ordering::Relaxed);
    if next == 0 {
        next = wasm32::memory_size(0) * PAGE;
    }
    let start = next.next_multiple_of(ALIGN);
    let Some(end) = start.checked_add(len) else {
        wasm32::unreachable()
    };
    let have = wasm32::memory_size(0) * PAGE;
    if end > have {
        let pages = (end - have).div_ceil(PAGE);
        if wasm32::memory_grow(0, pages) == usize::MAX {
            wasm32::unreachable()
        }
    }
    NEXT.store(end, Ordering::Relaxed);
    start as *mut u8
}

/// A fresh zeroed buffer of `len` bytes (fresh memory from `memory.grow` is zero).
pub fn buffer(len: usize) -> &'static mut [u8] {
    // SAFETY: `alloc` returned `len` bytes inside memory that nothing else refers to: the
    // bump pointer never hands the same bytes out twice.
    unsafe { core::slice::from_raw_parts_mut(alloc(len), len) }
}

/// The input the host wrote at `ptr`.
///
/// # Safety
/// `ptr` and `len` must be what the host passed to the entry function: `len` bytes it wrote
/// at an address `alloc` returned.
pub unsafe fn input<'a>(ptr: i32, len: i32) -> &'a [u8] {
    // SAFETY: per this function's contract.
    unsafe { core::slice::from_raw_parts(ptr as usize as *const u8, len as usize) }
}

/// The entry function's return value for an output at `bytes`.
pub fn pack(bytes: &[u8]) -> i64 {
    (((bytes.as_ptr() as usize as u64) << 32) | bytes.len() as u64) as i64
}

/// The trap every module uses for a bad input or a panic.
pub fn fail() -> ! {
    wasm32::unreachable()
}
