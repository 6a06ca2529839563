//! Compute units on this node: fetch what a lease needs, run it in the sandbox on the
//! low-priority executor, and hand the outcome to the session for upload.
//!
//! The [`WorkRunner`] outlives sessions: a unit keeps running (or stays paused in memory)
//! while the node reconnects, and a result that could not be uploaded waits for the next
//! session. The coordinator decides whether a late result still counts.

mod cancel;
pub mod report;
pub mod transfer;

use idleshare_base::sync::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use idleshare_protocol::job::MAX_UNIT_BYTES;
use idleshare_protocol::{Assignment, ContentId, LeaseId, UnitReport, abi};
use idleshare_sandbox::{LoadError, LoadedModule, RunOutcome, Sandbox, SandboxConfig};
use quinn::Connection;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use self::cancel::Cancellable;
use self::report::{Settled, settle, settle_load_error};
use self::transfer::TransferError;
use crate::executor::{WasmUnit, WorkExecutor};

/// Compiled modules kept in memory (the sandbox also caches them on disk).
const MODULES_IN_MEMORY: usize = 16;

/// Something the session must act on.
#[derive(Debug)]
pub enum WorkEvent {
    /// A lease is settled on this node: upload the report, or give the lease back.
    Settled {
        /// The lease.
        lease: LeaseId,
        /// What to tell the coordinator.
        settled: Settled,
    },
    /// An upload ended.
    Uploaded {
        /// The lease.
        lease: LeaseId,
        /// The report and output, kept when the upload failed for want of a connection.
        outcome: Result<(), (TransferError, UnitReport, Vec<u8>)>,
    },
}

/// Counters for the status and the dashboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkStats {
    /// Leases held now (running, paused, queued or uploading).
    pub held: u32,
    /// Results the coordinator has stored.
    pub reported: u64,
    /// Leases given back unfinished.
    pub abandoned: u64,
}

/// Runs leased units; shared by the sessions of one node.
pub struct WorkRunner {
    /// Started with the first unit, so a node that only waits never maps the compiler.
    sandbox: Mutex<Option<Sandbox>>,
    sandbox_config: SandboxConfig,
    executor: Arc<WorkExecutor>,
    modules: Mutex<HashMap<ContentId, LoadedModule>>,
    held: Mutex<HashMap<LeaseId, Arc<AtomicBool>>>,
    pending_uploads: Mutex<Vec<(UnitReport, Vec<u8>)>>,
    stats: Mutex<WorkStats>,
    events: mpsc::UnboundedSender<WorkEvent>,
    /// Test only (the `test-hooks` feature): units still reported honestly before this
    /// node starts reporting corrupted outputs (`u64::MAX`: it never lies).
    #[cfg(feature = "test-hooks")]
    honest_left: std::sync::atomic::AtomicU64,
    /// Test only (the `test-hooks` feature): ask for far more work than it can run, again
    /// and again.
    #[cfg(feature = "test-hooks")]
    hoard: AtomicBool,
    /// Test only (the `test-hooks` feature): report far more fuel than used.
    #[cfg(feature = "test-hooks")]
    inflate_fuel: AtomicBool,
}

impl WorkRunner {
    /// A runner on `executor`; events for the session arrive on the returned receiver.
    pub fn new(
        sandbox_config: SandboxConfig,
        executor: Arc<WorkExecutor>,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<WorkEvent>) {
        let (events, receiver) = mpsc::unbounded_channel();
        let runner = Arc::new(Self {
            sandbox: Mutex::new(None),
            sandbox_config,
            executor,
            modules: Mutex::new(HashMap::new()),
            held: Mutex::new(HashMap::new()),
            pending_uploads: Mutex::new(Vec::new()),
            stats: Mutex::new(WorkStats::default()),
            events,
            #[cfg(feature = "test-hooks")]
            honest_left: std::sync::atomic::AtomicU64::new(u64::MAX),
            #[cfg(feature = "test-hooks")]
            hoard: AtomicBool::new(false),
            #[cfg(feature = "test-hooks")]
            inflate_fuel: AtomicBool::new(false),
        });
        (runner, receiver)
    }

    /// Test only (the `test-hooks` feature): after `honest` more units this is a lying
    /// node, reporting corrupted outputs, for the tests of the coordinator's validation.
    #[cfg(feature = "test-hooks")]
    pub fn lie_about_outputs_after(&self, honest: u64) {
        self.honest_left.store(honest, Ordering::Relaxed);
    }

    /// Test only (the `test-hooks` feature): from now on this node asks for far more work
    /// than it can run, resending the request, for the tests of the coordinator's caps.
    #[cfg(feature = "test-hooks")]
    pub fn hoard_work(&self) {
        self.hoard.store(true, Ordering::Relaxed);
    }

    /// Test only (the `test-hooks` feature): whether this node hoards work.
    #[cfg(feature = "test-hooks")]
    pub fn hoards(&self) -> bool {
        self.hoard.load(Ordering::Relaxed)
    }

    /// Test only: whether the unit starting now is reported with a corrupted output.
    #[cfg(feature = "test-hooks")]
    fn lies_now(&self) -> bool {
        let left = self.honest_left.load(Ordering::Relaxed);
        if left > 0 && left != u64::MAX {
            self.honest_left.store(left - 1, Ordering::Relaxed);
        }
        left == 0
    }

    /// Test only (the `test-hooks` feature): from now on this node claims far more fuel
    /// than its units used, for the tests of what the coordinator pays.
    #[cfg(feature = "test-hooks")]
    pub fn lie_about_fuel(&self) {
        self.inflate_fuel.store(true, Ordering::Relaxed);
    }

    /// Leases held now.
    pub fn held(&self) -> u32 {
        self.held.lock().len() as u32
    }

    /// Counters so far.
    pub fn stats(&self) -> WorkStats {
        WorkStats {
            held: self.held(),
            ..*self.stats.lock()
        }
    }

    /// Takes a lease: fetches what it needs over `connection` and queues it on the executor.
    pub fn assign(self: &Arc<Self>, assignment: Assignment, connection: Connection) {
        let cancel = Arc::new(AtomicBool::new(false));
        self.held.lock().insert(assignment.lease, cancel.clone());
        let runner = self.clone();
        tokio::spawn(async move {
            let lease = assignment.lease;
            if let Err(settled) = runner
                .prepare_and_queue(assignment, &connection, cancel)
                .await
            {
                let _ = runner.events.send(WorkEvent::Settled { lease, settled });
            }
        });
    }

    async fn prepare_and_queue(
        self: &Arc<Self>,
        assignment: Assignment,
        connection: &Connection,
        cancel: Arc<AtomicBool>,
    ) -> Result<(), Settled> {
        let lease = assignment.lease;
        let module = self
            .module(&assignment, connection)
            .await
            .map_err(|e| match e {
                Prepare::Load(error) => settle_load_error(lease, &error),
                Prepare::Fetch(error) => {
                    Settled::Abandon(format!("cannot fetch the module: {error}"))
                }
                Prepare::Sandbox(error) => Settled::Abandon(error.to_string()),
            })?;
        let input = match assignment.inline_input {
            Some(input) if ContentId::of(&input) == assignment.input => input,
            _ => transfer::fetch(connection, assignment.input, MAX_UNIT_BYTES)
                .await
                .map_err(|e| Settled::Abandon(format!("cannot fetch the input: {e}")))?,
        };
        let sandbox = self
            .sandbox()
            .await
            .map_err(|e| Settled::Abandon(e.to_string()))?;
        let run = sandbox.start(&module, &assignment.entry, input, assignment.limits);
        let events = self.events.clone();
        #[cfg(feature = "test-hooks")]
        let lying = self.lies_now();
        #[cfg(feature = "test-hooks")]
        let inflating = self.inflate_fuel.load(Ordering::Relaxed);
        let on_finish = Box::new(move |outcome: RunOutcome| {
            let settled = settle(lease, outcome);
            #[cfg(feature = "test-hooks")]
            let settled = if lying { report::lie(settled) } else { settled };
            #[cfg(feature = "test-hooks")]
            let settled = if inflating {
                report::inflate_fuel(settled)
            } else {
                settled
            };
            let _ = events.send(WorkEvent::Settled { lease, settled });
        });
        let unit = Cancellable::new(Box::new(WasmUnit::new(run, on_finish)), cancel);
        self.executor
            .submit(Box::new(unit))
            .map_err(|e| Settled::Abandon(format!("cannot queue the unit: {e}")))
    }

    async fn module(
        &self,
        assignment: &Assignment,
        connection: &Connection,
    ) -> Result<LoadedModule, Prepare> {
        if let Some(module) = self.modules.lock().get(&assignment.module) {
            return Ok(module.clone());
        }
        let bytes = transfer::fetch(connection, assignment.module, abi::MAX_MODULE_BYTES as u32)
            .await
            .map_err(Prepare::Fetch)?;
        let sandbox = self.sandbox().await.map_err(Prepare::Sandbox)?;
        let (sandbox, id, entry) = (sandbox, assignment.module, assignment.entry.clone());
        let loaded = tokio::task::spawn_blocking(move || sandbox.load(id, &bytes, &entry))
            .await
            .map_err(|e| Prepare::Load(LoadError::Compile(e.to_string())))?
            .map_err(Prepare::Load)?;
        let mut modules = self.modules.lock();
        if modules.len() >= MODULES_IN_MEMORY {
            modules.clear();
        }
        modules.insert(id, loaded.clone());
        Ok(loaded)
    }

    /// The sandbox, started on first use (engine, instance pool, epoch ticker: a few ms).
    async fn sandbox(&self) -> Result<Sandbox, SandboxStartError> {
        if let Some(sandbox) = self.sandbox.lock().as_ref() {
            return Ok(sandbox.clone());
        }
        let config = self.sandbox_config.clone();
        let started = tokio::task::spawn_blocking(move || Sandbox::new(config)).await??;
        // Two first units may race here: keep whichever arrived first.
        Ok(self.sandbox.lock().get_or_insert(started).clone())
    }

    /// Stops work on a lease the coordinator revoked (its unit is settled elsewhere).
    pub fn revoke(&self, lease: LeaseId) {
        if let Some(cancel) = self.held.lock().remove(&lease) {
            cancel.store(true, Ordering::Release);
        }
    }

    /// Forgets a lease once its result is stored or it was given back.
    pub fn release(&self, lease: LeaseId, reported: bool) {
        self.held.lock().remove(&lease);
        let mut stats = self.stats.lock();
        if reported {
            stats.reported += 1;
        } else {
            stats.abandoned += 1;
        }
    }

    /// Uploads a result in the background; the outcome comes back as [`WorkEvent::Uploaded`].
    pub fn upload(&self, report: UnitReport, output: Vec<u8>, connection: Connection) {
        let events = self.events.clone();
        tokio::spawn(async move {
            let lease = report.lease;
            let outcome = match transfer::upload(&connection, &report, &output).await {
                Ok(()) => Ok(()),
                Err(error) => Err((error, report, output)),
            };
            let _ = events.send(WorkEvent::Uploaded { lease, outcome });
        });
    }

    /// Keeps a result for the next session.
    pub fn keep_for_later(&self, report: UnitReport, output: Vec<u8>) {
        self.pending_uploads.lock().push((report, output));
    }

    /// Results waiting for a session.
    pub fn take_pending_uploads(&self) -> Vec<(UnitReport, Vec<u8>)> {
        std::mem::take(&mut *self.pending_uploads.lock())
    }
}

enum Prepare {
    Fetch(TransferError),
    Load(LoadError),
    Sandbox(SandboxStartError),
}

/// Why the sandbox did not start.
#[derive(Debug, thiserror::Error)]
enum SandboxStartError {
    #[error("cannot start the WebAssembly sandbox: {0}")]
    Failed(#[from] idleshare_sandbox::SandboxError),
    #[error("the WebAssembly sandbox's start-up task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}
