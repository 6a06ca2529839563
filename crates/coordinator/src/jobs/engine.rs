//! The work engine: the pure [`Book`] behind a lock, written through to the [`WorkStore`] by
//! one writer thread in batched transactions (group commit: every change made while a
//! transaction runs goes into the next one), with messages to nodes released only once the
//! changes that caused them are committed.
//!
//! Each change gets a ticket; `committed` is the highest ticket on disk. A caller that must
//! not answer before its change is durable (a result's acknowledgement, a job's id) waits
//! for its ticket. A failed transaction is retried, merged with later changes, until it
//! succeeds; the book in memory never runs ahead of what will be written.

use idleshare_base::db::Durability;
use idleshare_base::sync::{Condvar, Mutex};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use idleshare_protocol::NodeId;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::watch;

use super::WorkConfig;
use super::book::Book;
use super::ops::{Changes, Op, Outbound};
use super::receipts::Ledger;
use super::restore::RestoreError;
use super::store::WorkStore;
use crate::store::StoreError;

/// Longest pause between retries of a failing transaction.
const RETRY_MAX: Duration = Duration::from_secs(2);

/// Why the engine failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored rows do not fit together.
    #[error(transparent)]
    Restore(#[from] RestoreError),
    /// A change was not committed in time (the store keeps failing or is overloaded).
    #[error("storage did not commit within {0:?}; try again")]
    Timeout(Duration),
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct WorkCounters {
    /// Leases issued.
    pub units_assigned: AtomicU64,
    /// Units settled (done, failed or given up).
    pub units_settled: AtomicU64,
    /// Results judged invalid.
    pub invalid_results: AtomicU64,
    /// Receipts issued.
    pub receipts_issued: AtomicU64,
    /// Transactions committed.
    pub commits: AtomicU64,
}

struct Inner {
    book: Book,
    rng: StdRng,
    ops: Vec<Op>,
    ticket: u64,
    outbox: VecDeque<(u64, Outbound)>,
    stopping: bool,
}

struct Core {
    inner: Mutex<Inner>,
    wake: Condvar,
    committed: watch::Sender<u64>,
    store: WorkStore,
    counters: WorkCounters,
}

/// The book, its store and its writer thread.
pub struct Engine {
    core: Arc<Core>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    issuer: NodeId,
}

impl Engine {
    /// Opens the store at `path`, rebuilds the book and starts the writer.
    pub fn open(path: &Path, key: SigningKey, config: WorkConfig) -> Result<Self, EngineError> {
        let seed = getrandom::u64().unwrap_or(0x5eed);
        Self::open_seeded(path, key, config, seed, Durability::PowerLoss)
    }

    /// [`Engine::open`] with a fixed seed for the scheduler's randomness, and a chosen
    /// durability (tests, benches; the coordinator always uses `PowerLoss`).
    pub fn open_seeded(
        path: &Path,
        key: SigningKey,
        config: WorkConfig,
        seed: u64,
        durability: Durability,
    ) -> Result<Self, EngineError> {
        let store = WorkStore::open(path, durability)?;
        let issuer = NodeId::from(key.verifying_key());
        let book = Book::restore(
            config,
            Ledger::new(key, config.credit_rate, config.serving_rate),
            store.load()?,
        )?;
        let core = Arc::new(Core {
            inner: Mutex::new(Inner {
                book,
                rng: StdRng::seed_from_u64(seed),
                ops: Vec::new(),
                ticket: 0,
                outbox: VecDeque::new(),
                stopping: false,
            }),
            wake: Condvar::new(),
            committed: watch::channel(0).0,
            store,
            counters: WorkCounters::default(),
        });
        let writing = core.clone();
        let writer = std::thread::Builder::new()
            .name("work-writer".into())
            .spawn(move || write_loop(&writing))
            .map_err(|e| StoreError::Task(e.to_string()))?;
        Ok(Self {
            core,
            writer: Mutex::new(Some(writer)),
            issuer,
        })
    }

    /// The coordinator id that signs receipts.
    pub fn issuer(&self) -> NodeId {
        self.issuer
    }

    /// Runs a decision on the book; returns its value and the ticket to wait for.
    pub fn apply<R>(
        &self,
        decide: impl FnOnce(&mut Book, &mut StdRng, &mut Changes) -> R,
    ) -> (R, u64) {
        let mut changes = Changes::default();
        let mut inner = self.core.inner.lock();
        let Inner { book, rng, .. } = &mut *inner;
        let value = decide(book, rng, &mut changes);
        self.count(&changes);
        if !changes.ops.is_empty() {
            inner.ticket += 1;
            inner.ops.append(&mut changes.ops);
            self.core.wake.notify_one();
        }
        let ticket = inner.ticket;
        if !changes.out.is_empty() && ticket <= self.committed() {
            // Nothing new to write: wake the sender, whose messages are due now.
            self.core.committed.send_modify(|_| ());
        }
        inner
            .outbox
            .extend(changes.out.into_iter().map(|o| (ticket, o)));
        (value, ticket)
    }

    /// Reads the book.
    pub fn read<R>(&self, look: impl FnOnce(&Book) -> R) -> R {
        look(&self.core.inner.lock().book)
    }

    /// Reads the book, with the ticket of the last change it has seen (wait for it to know
    /// the rows hold everything read).
    pub fn read_with_ticket<R>(&self, look: impl FnOnce(&Book) -> R) -> (R, u64) {
        let inner = self.core.inner.lock();
        (look(&inner.book), inner.ticket)
    }

    /// Adds writes that need no decision (an uploaded blob); returns their ticket.
    pub fn write(&self, ops: Vec<Op>) -> u64 {
        self.apply(|_, _, changes| changes.ops.extend(ops)).1
    }

    /// The highest committed ticket.
    pub fn committed(&self) -> u64 {
        *self.core.committed.borrow()
    }

    /// Changes of the committed ticket.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.core.committed.subscribe()
    }

    /// Waits until `ticket` is committed, at most `timeout`.
    pub async fn wait_committed(&self, ticket: u64, timeout: Duration) -> Result<(), EngineError> {
        let mut commits = self.subscribe();
        match tokio::time::timeout(timeout, commits.wait_for(|c| *c >= ticket)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(EngineError::Timeout(timeout)),
        }
    }

    /// Messages whose changes are committed, in order.
    pub fn take_committed_outbound(&self) -> Vec<Outbound> {
        let committed = self.committed();
        let mut inner = self.core.inner.lock();
        let ready = inner
            .outbox
            .iter()
            .take_while(|(ticket, _)| *ticket <= committed)
            .count();
        inner.outbox.drain(..ready).map(|(_, o)| o).collect()
    }

    /// The store, for reads (blobs, receipts).
    pub fn store(&self) -> &WorkStore {
        &self.core.store
    }

    /// The counters.
    pub fn counters(&self) -> &WorkCounters {
        &self.core.counters
    }

    /// Writes what is pending and stops the writer (blocking).
    pub fn shutdown(&self) {
        self.core.inner.lock().stopping = true;
        self.core.wake.notify_all();
        if let Some(writer) = self.writer.lock().take() {
            let _ = writer.join();
        }
    }

    fn count(&self, changes: &Changes) {
        let counters = &self.core.counters;
        for op in &changes.ops {
            match op {
                Op::Lease { .. } => counters.units_assigned.fetch_add(1, Ordering::Relaxed),
                Op::Settle { invalid, .. } => {
                    let n = invalid.len() as u64;
                    counters.invalid_results.fetch_add(n, Ordering::Relaxed);
                    counters.units_settled.fetch_add(1, Ordering::Relaxed)
                }
                Op::Receipt(_) => counters.receipts_issued.fetch_add(1, Ordering::Relaxed),
                _ => 0,
            };
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Commits pending writes in batches until stopped with nothing left (or failing at stop).
fn write_loop(core: &Core) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let (ops, ticket, stopping) = {
            let mut inner = core.inner.lock();
            while inner.ops.is_empty() && !inner.stopping {
                core.wake.wait(&mut inner);
            }
            if inner.ops.is_empty() {
                return;
            }
            (std::mem::take(&mut inner.ops), inner.ticket, inner.stopping)
        };
        match core.store.write(&ops) {
            Ok(()) => {
                backoff = Duration::from_millis(50);
                core.counters.commits.fetch_add(1, Ordering::Relaxed);
                core.committed.send_replace(ticket);
            }
            Err(e) if stopping => {
                return tracing::error!(
                    "work store write failed at shutdown, {} changes lost: {e}",
                    ops.len()
                );
            }
            Err(e) => {
                tracing::error!("work store write failed (retrying in {backoff:?}): {e}");
                let mut inner = core.inner.lock();
                let later = std::mem::replace(&mut inner.ops, ops);
                inner.ops.extend(later);
                drop(inner);
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(RETRY_MAX);
            }
        }
    }
}
