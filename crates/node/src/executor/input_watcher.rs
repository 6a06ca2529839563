//! Yields the CPU the moment the owner comes back, without waiting for the monitor.
//!
//! While work runs, a thread reads the input idle source every ~10 ms. When the idle time
//! drops (input arrived since the last read) or falls below the required idle, it pauses
//! the executor at once and tells the node. While work is paused it reads nothing: the
//! monitor's once-a-second sampling and the policy decide when work may run again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::gate::ExecutorControl;
use crate::monitor::snapshot::InputIdleSource;

/// How the watcher polls.
#[derive(Debug, Clone)]
pub struct InputWatcherConfig {
    /// Time between reads while work runs.
    pub poll_interval: Duration,
    /// Idle time below which work must not run (the policy's required idle).
    pub required_idle: Duration,
    /// While paused, how often the watcher wakes to notice that it should stop.
    pub paused_check_interval: Duration,
}

impl InputWatcherConfig {
    /// Reads every 10 ms while work runs; yields below `required_idle`.
    pub fn new(required_idle: Duration) -> Self {
        Self {
            poll_interval: Duration::from_millis(10),
            required_idle,
            paused_check_interval: Duration::from_millis(100),
        }
    }
}

/// Why the watcher paused work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YieldReason {
    /// The idle time went down since the previous read: someone touched the machine.
    InputArrived,
    /// The idle time is below the required idle (work was started too early, or the first
    /// read after starting already shows activity).
    IdleBelowRequired,
}

/// A pause the watcher made, for the node to act on (report, feed the policy).
#[derive(Debug, Clone, Copy)]
pub struct YieldEvent {
    /// Why.
    pub reason: YieldReason,
    /// The idle time read before, if any.
    pub idle_before: Option<Duration>,
    /// The idle time read now.
    pub idle_now: Duration,
    /// When the watcher paused the executor (just before calling back).
    pub paused_at: Instant,
}

/// The watcher thread; dropping it (or [`InputWatcher::stop`]) stops and joins it.
pub struct InputWatcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl InputWatcher {
    /// Starts watching `source` for `control`'s executor; `on_yield` runs on the watcher
    /// thread after each pause (wrap a `tokio::sync::Notify` or `watch` sender in it to wake
    /// async code), so it must be quick.
    pub fn start(
        source: Box<dyn InputIdleSource>,
        control: ExecutorControl,
        config: InputWatcherConfig,
        on_yield: impl FnMut(YieldEvent) + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let watch = Watch {
            source,
            control,
            config,
            on_yield,
            stop: stop.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("idleshare-input-watch".into())
            .spawn(move || watch.run())?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the watcher and waits for its thread (up to one paused check interval).
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for InputWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Watch<F> {
    source: Box<dyn InputIdleSource>,
    control: ExecutorControl,
    config: InputWatcherConfig,
    on_yield: F,
    stop: Arc<AtomicBool>,
}

impl<F: FnMut(YieldEvent)> Watch<F> {
    fn run(mut self) {
        // The previous read while work ran; forgotten on every pause, so a stale reading
        // from before the pause never counts as "idle went down".
        let mut idle_before: Option<Duration> = None;
        while !self.stop.load(Ordering::Acquire) {
            if !self.control.is_running() {
                idle_before = None;
                self.control
                    .wait_until_running(self.config.paused_check_interval);
                continue;
            }
            // Unknown (source lost) is left to the policy: no reading, no verdict.
            if let Some(idle_now) = self.source.read() {
                if let Some(reason) = self.verdict(idle_before, idle_now) {
                    self.control.pause_now();
                    let paused_at = Instant::now();
                    (self.on_yield)(YieldEvent {
                        reason,
                        idle_before,
                        idle_now,
                        paused_at,
                    });
                    idle_before = None;
                    continue;
                }
                idle_before = Some(idle_now);
            }
            std::thread::sleep(self.config.poll_interval);
        }
    }

    fn verdict(&self, idle_before: Option<Duration>, idle_now: Duration) -> Option<YieldReason> {
        if idle_before.is_some_and(|before| idle_now < before) {
            Some(YieldReason::InputArrived)
        } else if idle_now < self.config.required_idle {
            Some(YieldReason::IdleBelowRequired)
        } else {
            None
        }
    }
}
