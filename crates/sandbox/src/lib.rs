//! Runs Idleshare compute units: WebAssembly modules under wasmtime, with no host functions,
//! deterministic fuel, memory and stack limits, and epoch yields that let the node pause a
//! unit in place and resume it later without losing anything.
//!
//! ```text
//! let sandbox = Sandbox::new(SandboxConfig::default())?;
//! let module = sandbox.load(id, &bytes, "run")?;      // ABI check, compile or cache hit
//! let mut unit = sandbox.start(&module, "run", input, limits);
//! loop { if let Step::Finished(outcome) = unit.step() { break outcome } }  // ~1 ms per step
//! ```
//!
//! A unit's result depends only on the module, the input and the limits: the same output
//! and the same fuel on every node, pauses or not.

#![deny(missing_docs)]

mod cache;
mod engine;
mod limits;
mod outcome;
mod run;
mod ticker;
mod unit;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use idleshare_protocol::abi::{AbiError, check_module};
use idleshare_protocol::{ContentId, JobLimits};
use wasmtime::{Engine, Module};

pub use engine::MAX_WASM_STACK;
pub use limits::MAX_TABLE_ELEMENTS;
pub use outcome::{RunOutcome, Step};
pub use run::UnitRun;

use cache::ModuleCache;
use ticker::EpochTicker;

/// How a [`Sandbox`] is set up.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where compiled modules are kept between runs; `None` compiles every load.
    pub cache_dir: Option<PathBuf>,
    /// Most units instantiated at once (the size of the instance pool).
    pub max_instances: u32,
    /// How often a running unit yields (and so the longest a pause waits).
    pub epoch_tick: Duration,
}

impl Default for SandboxConfig {
    /// No disk cache, 32 instances, 1 ms ticks.
    fn default() -> Self {
        Self {
            cache_dir: None,
            max_instances: 32,
            epoch_tick: Duration::from_millis(1),
        }
    }
}

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// wasmtime refused the engine configuration.
    #[error("cannot create the WebAssembly engine: {0}")]
    Engine(String),
    /// The cache directory cannot be created or restricted.
    #[error("cannot prepare the module cache directory: {0}")]
    Cache(std::io::Error),
    /// The epoch ticker thread did not start.
    #[error("cannot start the epoch ticker thread: {0}")]
    Ticker(std::io::Error),
}

/// Why a module cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a module that fits the job ABI.
    #[error("bad module: {0}")]
    BadModule(AbiError),
    /// The bytes are not the ones the id names.
    #[error("module bytes hash to {found}, not the expected {expected}")]
    WrongContent {
        /// The id the module was fetched by.
        expected: ContentId,
        /// The id of the bytes received.
        found: ContentId,
    },
    /// wasmtime could not compile the module.
    #[error("cannot compile the module: {0}")]
    Compile(String),
    /// The compiled-module cache could not be read or written.
    #[error("module cache: {0}")]
    Cache(std::io::Error),
}

/// Loads modules and starts units. Cheap to clone; every clone shares one engine, one
/// instance pool, one cache and one epoch ticker thread.
#[derive(Clone)]
pub struct Sandbox {
    shared: Arc<Shared>,
}

struct Shared {
    engine: Engine,
    cache: Option<ModuleCache>,
    ticker: Arc<EpochTicker>,
    cache_hits: AtomicU64,
}

/// A compiled module, ready to start units from. Cheap to clone.
#[derive(Clone)]
pub struct LoadedModule {
    module: Module,
    id: ContentId,
    from_cache: bool,
}

impl LoadedModule {
    /// The module's content id.
    pub fn id(&self) -> ContentId {
        self.id
    }

    /// Whether it came from the disk cache rather than the compiler.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }
}

impl Sandbox {
    /// Creates the engine (pooled instances where the OS allows), the cache directory and
    /// the epoch ticker.
    pub fn new(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        let engine = engine::build_engine(config.max_instances)
            .map_err(|error| SandboxError::Engine(format!("{error:#}")))?;
        let cache = config
            .cache_dir
            .map(|dir| ModuleCache::open(dir, engine::engine_hash(&engine)))
            .transpose()
            .map_err(SandboxError::Cache)?;
        let ticker = EpochTicker::start(
            engine.clone(),
            config.epoch_tick.max(Duration::from_micros(100)),
        )
        .map_err(SandboxError::Ticker)?;
        Ok(Sandbox {
            shared: Arc::new(Shared {
                engine,
                cache,
                ticker: Arc::new(ticker),
                cache_hits: AtomicU64::new(0),
            }),
        })
    }

    /// Checks the bytes against the ABI ([`check_module`]) and that they are the content
    /// `id` names, then compiles them or loads the cached compiled artefact.
    pub fn load(
        &self,
        id: ContentId,
        bytes: &[u8],
        entry: &str,
    ) -> Result<LoadedModule, LoadError> {
        check_module(bytes, entry).map_err(LoadError::BadModule)?;
        let found = ContentId::of(bytes);
        if found != id {
            return Err(LoadError::WrongContent {
                expected: id,
                found,
            });
        }
        let engine = &self.shared.engine;
        if let Some(cache) = &self.shared.cache
            && let Some(module) = cache.load(engine, id).map_err(LoadError::Cache)?
        {
            self.shared.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(LoadedModule {
                module,
                id,
                from_cache: true,
            });
        }
        let module =
            Module::new(engine, bytes).map_err(|error| LoadError::Compile(format!("{error:#}")))?;
        if let Some(cache) = &self.shared.cache {
            // A cache that cannot be written costs a recompile next time, nothing more.
            if let Err(error) = cache.store(id, &module) {
                tracing::warn!("sandbox: cannot cache module {}: {error}", id.short());
            }
        }
        Ok(LoadedModule {
            module,
            id,
            from_cache: false,
        })
    }

    /// A fresh instance per unit; nothing runs until [`UnitRun::step`].
    pub fn start(
        &self,
        module: &LoadedModule,
        entry: &str,
        input: Vec<u8>,
        limits: JobLimits,
    ) -> UnitRun {
        UnitRun::new(
            self.shared.engine.clone(),
            self.shared.ticker.clone(),
            module.module.clone(),
            entry.to_owned(),
            input,
            limits,
        )
    }

    /// Loads served from the disk cache so far.
    pub fn cache_hits(&self) -> u64 {
        self.shared.cache_hits.load(Ordering::Relaxed)
    }
}
