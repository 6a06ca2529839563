//! Job module `sha256_chain.wasm`: a SHA-256 hash chain per unit (entry `run`). Input and
//! output layouts: `workload_kernels::sha256`.

#![no_std]

use workload_kernels::guest;
use workload_kernels::sha256::{DIGEST_LEN, chain, parse_chain_input};

/// The ABI's input allocator.
#[unsafe(no_mangle)]
pub extern "C" fn idleshare_alloc(len: i32) -> i32 {
    guest::alloc(len as usize) as i32
}

/// Hashes the seed the given number of times; traps on a malformed input.
#[unsafe(no_mangle)]
pub extern "C" fn run(ptr: i32, len: i32) -> i64 {
    // SAFETY: the host calls `run` with the input it wrote at `idleshare_alloc`'s address.
    let input = unsafe { guest::input(ptr, len) };
    let Some((seed, rounds)) = parse_chain_input(input) else {
        guest::fail()
    };
    let out = guest::buffer(DIGEST_LEN);
    out.copy_from_slice(&chain(seed, rounds));
    guest::pack(out)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    guest::fail()
}
