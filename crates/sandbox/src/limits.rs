//! Per-unit resource limits enforced by wasmtime's [`ResourceLimiter`] hook.

use wasmtime::ResourceLimiter;

/// Most elements one table may hold (function tables of real modules are far smaller).
pub const MAX_TABLE_ELEMENTS: usize = 100_000;
/// Most tables one module may define (WebAssembly 2.0 allows several).
pub const MAX_TABLES: usize = 4;

/// The store data of one unit: refuses memory beyond the job's limit and remembers that it
/// did, so the trap that usually follows is reported as [`FailureKind::MemoryLimit`].
///
/// [`FailureKind::MemoryLimit`]: idleshare_protocol::FailureKind::MemoryLimit
#[derive(Debug)]
pub(crate) struct UnitLimiter {
    memory_bytes: u64,
    refused_memory: bool,
}

impl UnitLimiter {
    pub(crate) fn new(memory_bytes: u64) -> Self {
        Self {
            memory_bytes,
            refused_memory: false,
        }
    }

    /// Whether a memory growth was refused during the run.
    pub(crate) fn refused_memory(&self) -> bool {
        self.refused_memory
    }
}

impl ResourceLimiter for UnitLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = u64::try_from(desired).is_ok_and(|desired| desired <= self.memory_bytes);
        if !allowed {
            self.refused_memory = true;
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_past_the_limit_is_refused_and_remembered() {
        let mut limiter = UnitLimiter::new(2 << 16);
        assert!(limiter.memory_growing(0, 2 << 16, None).unwrap());
        assert!(!limiter.refused_memory());
        assert!(!limiter.memory_growing(2 << 16, 3 << 16, None).unwrap());
        assert!(limiter.refused_memory());
    }
}
