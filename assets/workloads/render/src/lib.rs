//! Job module `render.wasm`: one grayscale PGM image per unit (entry `run`), a large
//! output. Input and output layouts: `workload_kernels::render`.

#![no_std]

use workload_kernels::guest;
use workload_kernels::render::Frame;

/// The ABI's input allocator.
#[unsafe(no_mangle)]
pub extern "C" fn idleshare_alloc(len: i32) -> i32 {
    guest::alloc(len as usize) as i32
}

/// Renders the frame the input describes; traps on a malformed input.
#[unsafe(no_mangle)]
pub extern "C" fn run(ptr: i32, len: i32) -> i64 {
    // SAFETY: the host calls `run` with the input it wrote at `idleshare_alloc`'s address.
    let input = unsafe { guest::input(ptr, len) };
    let Some(frame) = Frame::parse(input) else {
        guest::fail()
    };
    let out = guest::buffer(frame.output_len());
    frame.render(out);
    guest::pack(out)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    guest::fail()
}
