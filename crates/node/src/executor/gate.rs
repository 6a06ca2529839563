//! The pause gate the workers share: run/pause state, the budget, and the job queue.
//!
//! Pausing only stores an atomic flag, so it never waits for a lock a worker holds; workers
//! read the flag between slices. Anything that lets workers run again (resume, a new job,
//! shutdown) changes state under the queue lock and then wakes every sleeper, so no wake-up
//! is lost.

use idleshare_base::sync::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use super::{ExecutorError, WorkSlice};

type Job = Box<dyn WorkSlice>;

pub(crate) struct Gate {
    running: AtomicBool,
    active_workers: AtomicUsize,
    cpu_percent: AtomicU8,
    shutting_down: AtomicBool,
    completed: AtomicU64,
    queue_capacity: usize,
    queue: Mutex<VecDeque<Job>>,
    changed: Condvar,
}

impl Gate {
    pub(crate) fn new(queue_capacity: usize) -> Self {
        Self {
            running: AtomicBool::new(false),
            active_workers: AtomicUsize::new(0),
            cpu_percent: AtomicU8::new(100),
            shutting_down: AtomicBool::new(false),
            completed: AtomicU64::new(0),
            queue_capacity,
            queue: Mutex::new(VecDeque::new()),
            changed: Condvar::new(),
        }
    }

    pub(crate) fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire) && !self.shutting_down.load(Ordering::Acquire)
    }

    /// Whether worker `index` may run a slice now.
    pub(crate) fn may_run(&self, index: usize) -> bool {
        self.is_running() && index < self.active_workers.load(Ordering::Acquire)
    }

    pub(crate) fn cpu_percent(&self) -> u8 {
        self.cpu_percent.load(Ordering::Relaxed)
    }

    pub(crate) fn pause_now(&self) {
        self.running.store(false, Ordering::Release);
    }

    pub(crate) fn resume(&self, active_workers: usize, cpu_percent: u8) {
        let _queue = self.queue.lock();
        self.active_workers.store(active_workers, Ordering::Release);
        self.cpu_percent.store(cpu_percent, Ordering::Relaxed);
        self.running.store(true, Ordering::Release);
        self.changed.notify_all();
    }

    pub(crate) fn shut_down(&self) {
        let _queue = self.queue.lock();
        self.shutting_down.store(true, Ordering::Release);
        self.changed.notify_all();
    }

    pub(crate) fn submit(&self, job: Job) -> Result<(), ExecutorError> {
        let mut queue = self.queue.lock();
        if queue.len() >= self.queue_capacity {
            return Err(ExecutorError::QueueFull {
                capacity: self.queue_capacity,
            });
        }
        queue.push_back(job);
        self.changed.notify_all();
        Ok(())
    }

    /// Parks worker `index` until it may run and a job is queued; `None` on shutdown.
    pub(crate) fn next_job(&self, index: usize) -> Option<Job> {
        let mut queue = self.queue.lock();
        loop {
            if self.shutting_down.load(Ordering::Acquire) {
                return None;
            }
            if self.may_run(index)
                && let Some(job) = queue.pop_front()
            {
                return Some(job);
            }
            self.changed.wait(&mut queue);
        }
    }

    /// A job its worker had to stop: first in line, so it resumes before newer ones.
    pub(crate) fn give_back(&self, job: Job) {
        let mut queue = self.queue.lock();
        queue.push_front(job);
        // A budget cut may have stopped this worker while another active one sits idle.
        self.changed.notify_all();
    }

    /// Sleeps up to `rest` (duty cycling); a budget change or shutdown ends it early.
    pub(crate) fn rest(&self, rest: Duration) {
        let mut queue = self.queue.lock();
        self.changed.wait_for(&mut queue, rest);
    }

    /// Blocks while paused, for at most `timeout`; whether work runs now.
    pub(crate) fn wait_until_running(&self, timeout: Duration) -> bool {
        let mut queue = self.queue.lock();
        self.changed
            .wait_while_for(&mut queue, |_| !self.is_running(), timeout);
        self.is_running()
    }

    pub(crate) fn job_finished(&self) {
        self.completed.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn completed_jobs(&self) -> u64 {
        self.completed.load(Ordering::Relaxed)
    }

    pub(crate) fn queued_jobs(&self) -> usize {
        self.queue.lock().len()
    }
}

/// A cloneable handle to an executor's gate for other threads (such as the
/// [`InputWatcher`](super::InputWatcher)): pause at once, or wait until work runs.
#[derive(Clone)]
pub struct ExecutorControl {
    gate: Arc<Gate>,
}

impl ExecutorControl {
    pub(crate) fn new(gate: Arc<Gate>) -> Self {
        Self { gate }
    }

    /// Pauses all work at once (see [`WorkExecutor::pause_now`](super::WorkExecutor::pause_now)).
    pub fn pause_now(&self) {
        self.gate.pause_now();
    }

    /// Whether work is allowed to run (not paused, not shut down).
    pub fn is_running(&self) -> bool {
        self.gate.is_running()
    }

    /// Blocks while work is paused, for at most `timeout`; returns whether it runs now.
    pub fn wait_until_running(&self, timeout: Duration) -> bool {
        self.gate.wait_until_running(timeout)
    }
}
