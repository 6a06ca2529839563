//! The wasmtime engine every unit runs on: deterministic features, fuel, epoch yields, a
//! bounded stack, and pooled instances.

use idleshare_protocol::job::MAX_MEMORY_BYTES;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::limits::{MAX_TABLE_ELEMENTS, MAX_TABLES};

/// Deepest guest stack: runaway recursion traps here, the same on every node.
pub const MAX_WASM_STACK: usize = 512 << 10;

/// Builds the engine: pooled when the OS grants the reservation, on demand otherwise.
pub(crate) fn build_engine(max_instances: u32) -> wasmtime::Result<Engine> {
    let mut config = deterministic_config();
    config.allocation_strategy(pooling(max_instances));
    match Engine::new(&config) {
        Ok(engine) => Ok(engine),
        Err(error) => {
            tracing::warn!(
                "sandbox: pooling allocator unavailable ({error}); allocating instances on demand"
            );
            config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
            Engine::new(&config)
        }
    }
}

/// The settings that decide what a module computes and how its work is counted. Changing
/// any of them changes the engine hash, so cached artefacts are recompiled.
/// Threads need wasmtime's `threads` feature, which this build leaves out, so they are off.
fn deterministic_config() -> Config {
    let mut config = Config::new();
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(MAX_WASM_STACK)
        .cranelift_nan_canonicalization(true)
        .wasm_relaxed_simd(false)
        .wasm_simd(true)
        .wasm_bulk_memory(true)
        .wasm_multi_value(true);
    config
}

fn pooling(max_instances: u32) -> InstanceAllocationStrategy {
    let slots = max_instances.max(1);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(slots)
        .total_memories(slots)
        .total_tables(slots.saturating_mul(MAX_TABLES as u32))
        .total_stacks(slots)
        .max_memories_per_module(1)
        .max_tables_per_module(MAX_TABLES as u32)
        .table_elements(MAX_TABLE_ELEMENTS)
        .max_memory_size(MAX_MEMORY_BYTES as usize);
    InstanceAllocationStrategy::Pooling(pool)
}

/// A stable digest of everything that makes a compiled artefact loadable by `engine`
/// (wasmtime's version, target and settings), as 16 hex digits for file names.
pub(crate) fn engine_hash(engine: &Engine) -> String {
    use std::hash::Hash;
    let mut hasher = Blake3Hasher(blake3::Hasher::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let digest = hasher.0.finalize();
    digest.to_hex()[..16].to_owned()
}

/// `std::hash::Hasher` over BLAKE3, whose output does not change between Rust releases
/// (unlike `DefaultHasher`).
struct Blake3Hasher(blake3::Hasher);

impl std::hash::Hasher for Blake3Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest.as_bytes()[..8]);
        u64::from_le_bytes(first)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}
