//! Runs contributed CPU work on worker threads at the lowest OS priority, and stops it within
//! a few milliseconds when the owner comes back.
//!
//! Work is cooperative: a job is a [`WorkSlice`] that does about a millisecond of work per
//! call and keeps its own state between calls. Workers check a shared pause gate between
//! slices and park on it (no CPU at all) while work is paused, so [`WorkExecutor::pause_now`]
//! only flips an atomic flag and returns. A paused job stays whole and resumes where it left
//! off. WebAssembly units (`executor/wasm_unit.rs`) end their slices through wasmtime's
//! epoch interruption (an async yield at the next epoch tick) instead of returning by
//! themselves; the gate is the same for both.
//!
//! The budget decides how many workers run ([`Budget::cores`]) and for what share of the
//! time ([`Budget::cpu_percent`], by duty cycling over 50 ms periods). The
//! [`InputWatcher`] pauses work the moment the owner touches keyboard or mouse, without
//! waiting for the once-a-second monitor.

mod burn;
mod duty_cycle;
mod gate;
mod input_watcher;
mod priority;
mod thread_cpu;
mod wasm_unit;
mod worker;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use idleshare_protocol::Budget;

pub use burn::BurnCpu;
pub use gate::ExecutorControl;
use gate::Gate;
pub use input_watcher::{InputWatcher, InputWatcherConfig, YieldEvent, YieldReason};
pub use priority::{WorkerPriority, lower_current_thread};
pub use wasm_unit::{OnFinish, WasmUnit};

/// What a slice of work reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SliceOutcome {
    /// More work is left: call again.
    Continue,
    /// The job is finished; the executor drops it.
    Done,
}

/// A job that works in small slices. Each call should take about a millisecond or less:
/// the executor can pause only between calls, so the slice length bounds how long the owner
/// waits for the CPU back. State lives in the job, so a paused job resumes where it was.
pub trait WorkSlice: Send {
    /// Does one slice of work.
    fn run_slice(&mut self) -> SliceOutcome;
}

/// How the executor is set up.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// Worker threads (the most cores a budget can use).
    pub workers: usize,
    /// Most jobs waiting at once; more are refused with [`ExecutorError::QueueFull`].
    pub queue_capacity: usize,
    /// Also lower this process's *autogroup* to nice 19 (Linux, `/proc/self/autogroup`).
    /// Without it, the kernel shares CPU 50/50 between the autogroups of different sessions
    /// (say, the node's service session and the owner's terminal), whatever the thread
    /// priority. It applies to the whole process and every process in its session (a
    /// terminal's shell included), and lasts as long as that session, after this process
    /// exits too. Right for a node running in its own session (a service, or after
    /// `setsid`); an app hosting the node in its UI process, or a run from a terminal, may
    /// prefer to turn it off.
    pub lower_session_autogroup: bool,
}

impl ExecutorConfig {
    /// `workers` threads, 1024 queued jobs at most, autogroup lowered.
    pub fn new(workers: usize) -> Self {
        Self {
            workers,
            queue_capacity: 1024,
            lower_session_autogroup: true,
        }
    }
}

impl Default for ExecutorConfig {
    /// One worker per logical core.
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |cores| cores.get()))
    }
}

/// Why the executor refused something.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    /// A configuration with zero workers.
    #[error("an executor needs at least one worker")]
    NoWorkers,
    /// The OS would not start a worker thread.
    #[error("cannot start a worker thread: {0}")]
    Spawn(#[from] std::io::Error),
    /// A worker died before reporting that it started.
    #[error("a worker thread died while starting")]
    WorkerDied,
    /// The job queue is at its bound.
    #[error("the job queue is full ({capacity} jobs)")]
    QueueFull {
        /// The bound.
        capacity: usize,
    },
}

/// Worker threads running [`WorkSlice`] jobs under a budget. Starts paused; dropping it
/// stops the workers (each finishes its current slice) and drops queued jobs.
pub struct WorkExecutor {
    gate: Arc<Gate>,
    workers: Vec<JoinHandle<()>>,
    priority: WorkerPriority,
}

impl WorkExecutor {
    /// Starts `config.workers` threads, each lowered to the lowest priority it can get.
    pub fn start(config: ExecutorConfig) -> Result<Self, ExecutorError> {
        if config.workers == 0 {
            return Err(ExecutorError::NoWorkers);
        }
        if config.lower_session_autogroup {
            priority::lower_session_autogroup();
        }
        let gate = Arc::new(Gate::new(config.queue_capacity));
        let mut executor = Self {
            gate: gate.clone(),
            workers: Vec::with_capacity(config.workers),
            priority: WorkerPriority::Unchanged,
        };
        let (started, priorities) = mpsc::channel();
        for index in 0..config.workers {
            let (gate, started) = (gate.clone(), started.clone());
            let thread = std::thread::Builder::new()
                .name(format!("idleshare-work-{index}"))
                .spawn(move || worker::run(index, &gate, started))?;
            executor.workers.push(thread);
        }
        drop(started);
        for _ in 0..config.workers {
            executor.priority = priorities.recv().map_err(|_| ExecutorError::WorkerDied)?;
        }
        tracing::info!(
            "executor: {} workers at priority {:?}",
            config.workers,
            executor.priority
        );
        Ok(executor)
    }

    /// Queues a job; it runs when a worker is free and work is not paused.
    pub fn submit(&self, job: Box<dyn WorkSlice>) -> Result<(), ExecutorError> {
        self.gate.submit(job)
    }

    /// `None` pauses everything now; `Some` runs `budget.cores` workers (at most all of
    /// them) for `budget.cpu_percent` of the time. Zero cores or zero percent pause.
    pub fn set_budget(&self, budget: Option<Budget>) {
        match budget {
            Some(budget) if budget.cores > 0 && budget.cpu_percent > 0 => {
                let cores = usize::try_from(budget.cores).unwrap_or(usize::MAX);
                self.gate
                    .resume(cores.min(self.workers.len()), budget.cpu_percent.min(100));
            }
            _ => self.gate.pause_now(),
        }
    }

    /// Pauses all work at once: returns after an atomic store; workers stop at the end of
    /// their current slice and park.
    pub fn pause_now(&self) {
        self.gate.pause_now();
    }

    /// A cloneable handle for other threads: pause, and wait for work to run.
    pub fn control(&self) -> ExecutorControl {
        ExecutorControl::new(self.gate.clone())
    }

    /// Whether work is paused.
    pub fn is_paused(&self) -> bool {
        !self.gate.is_running()
    }

    /// Number of worker threads.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }

    /// The priority the workers got.
    pub fn worker_priority(&self) -> WorkerPriority {
        self.priority
    }

    /// CPU time each worker thread has used so far (`None` where the OS cannot say; only
    /// Linux is implemented).
    pub fn worker_cpu_times(&self) -> Vec<Option<Duration>> {
        self.workers.iter().map(thread_cpu::cpu_time_of).collect()
    }

    /// Jobs finished so far.
    pub fn completed_jobs(&self) -> u64 {
        self.gate.completed_jobs()
    }

    /// Jobs waiting for a worker (paused jobs included).
    pub fn queued_jobs(&self) -> usize {
        self.gate.queued_jobs()
    }
}

impl Drop for WorkExecutor {
    fn drop(&mut self) {
        self.gate.shut_down();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}
