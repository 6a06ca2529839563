//! The contribution loop: about once a second it samples the monitor, asks the policy, applies
//! the decision to the executor and publishes it (the status watch for the app, the activity
//! watch for heartbeats).
//!
//! It runs on its own thread because the sources do blocking reads (procfs, X11, D-Bus).
//! While work may run, an [`InputWatcher`] polls input every ~10 ms and pauses the executor
//! itself the moment the owner returns, then wakes this loop so status and heartbeat follow
//! at once instead of at the next tick.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use idleshare_protocol::NodeActivity;
use tokio::sync::watch;

use crate::executor::{InputWatcher, InputWatcherConfig, WorkExecutor};
use crate::monitor::desktop::detect_input_idle_source;
use crate::monitor::{ResourceMonitor, Snapshot};
use crate::policy::{ContributionPolicy, Decision, PauseReason, PolicyClock};
use crate::settings::Settings;
use crate::status::NodeStatus;
use idleshare_base::clock::unix_ms;

/// How often to sample while a setting pauses the node (switched off, snoozed, outside the
/// schedule): no reading can change that decision, and a node its owner switched off should
/// cost next to nothing. Readings stay fresh enough for the status view.
const SETTINGS_PAUSE_INTERVAL: Duration = Duration::from_secs(5);

/// Why the loop woke before its next tick.
enum Wake {
    /// The input watcher paused work: re-decide now.
    Input,
    /// The settings changed: re-decide now (a re-enabled node starts at once).
    Settings,
    /// The node is stopping.
    Stop,
}

/// The running loop; dropping it stops the thread (and the watcher with it).
pub(crate) struct Contributor {
    wake: mpsc::Sender<Wake>,
    thread: Option<JoinHandle<()>>,
}

/// Everything the loop reads and writes.
pub(crate) struct ContributorParts {
    pub monitor: ResourceMonitor,
    pub settings: watch::Receiver<Settings>,
    pub executor: Option<Arc<WorkExecutor>>,
    pub status: Arc<watch::Sender<NodeStatus>>,
    pub activity: watch::Sender<NodeActivity>,
    pub sample_interval: Duration,
    /// Called once, at the first decision to run (the owner is away for the first time).
    pub on_first_run: Option<Box<dyn FnOnce() + Send>>,
}

impl Contributor {
    /// Starts the loop on its own thread. Call inside a tokio runtime: a task forwards
    /// settings changes to the thread.
    pub fn start(parts: ContributorParts) -> std::io::Result<Self> {
        let (wake, woken) = mpsc::channel();
        let waker = wake.clone();
        let mut settings = parts.settings.clone();
        let settings_waker = wake.clone();
        tokio::spawn(async move {
            while settings.changed().await.is_ok() {
                if settings_waker.send(Wake::Settings).is_err() {
                    return;
                }
            }
        });
        let thread = std::thread::Builder::new()
            .name("idleshare-contributor".into())
            .spawn(move || run(parts, waker, woken))?;
        Ok(Self {
            wake,
            thread: Some(thread),
        })
    }
}

impl Drop for Contributor {
    fn drop(&mut self) {
        let _ = self.wake.send(Wake::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(mut parts: ContributorParts, waker: mpsc::Sender<Wake>, woken: mpsc::Receiver<Wake>) {
    let mut policy = ContributionPolicy::new();
    let mut watcher: Option<InputWatcher> = None;
    let mut announced: Option<Decision> = None;
    loop {
        let snapshot = parts.monitor.sample(unix_ms());
        let settings = parts.settings.borrow_and_update().clone();
        let decision = policy.decide(&settings, &snapshot, PolicyClock::local_now());
        if decision.is_run()
            && let Some(first_run) = parts.on_first_run.take()
        {
            first_run();
        }
        if let Some(executor) = &parts.executor {
            executor.set_budget(match &decision {
                Decision::Run { budget } => Some(*budget),
                Decision::Paused { .. } => None,
            });
            watcher = adjust_watcher(watcher, &decision, &snapshot, &settings, executor, &waker);
        }
        let interval = if paused_by_settings(&decision) {
            parts.sample_interval.max(SETTINGS_PAUSE_INTERVAL)
        } else {
            parts.sample_interval
        };
        publish(&parts, snapshot, decision, &mut announced);
        match woken.recv_timeout(interval) {
            Ok(Wake::Input | Wake::Settings) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Wake::Stop) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    if let Some(executor) = &parts.executor {
        executor.pause_now();
    }
}

/// Whether the owner's settings alone pause the node, whatever the readings.
fn paused_by_settings(decision: &Decision) -> bool {
    matches!(
        decision,
        Decision::Paused {
            reason: PauseReason::SwitchedOff
                | PauseReason::Snoozed { .. }
                | PauseReason::OutsideSchedule
        }
    )
}

/// Watches input only while work may run and input idleness is measurable at all.
fn adjust_watcher(
    watcher: Option<InputWatcher>,
    decision: &Decision,
    snapshot: &Snapshot,
    settings: &Settings,
    executor: &WorkExecutor,
    waker: &mpsc::Sender<Wake>,
) -> Option<InputWatcher> {
    let wanted = decision.is_run() && snapshot.input_idle.is_some();
    match (wanted, watcher) {
        (true, Some(watcher)) => Some(watcher),
        (true, None) => {
            let required = Duration::from_secs(settings.policy.input_idle_secs.into());
            let waker = waker.clone();
            let started = InputWatcher::start(
                detect_input_idle_source(),
                executor.control(),
                InputWatcherConfig::new(required),
                move |event| {
                    tracing::debug!("owner is back ({:?}): work paused", event.reason);
                    let _ = waker.send(Wake::Input);
                },
            );
            started
                .inspect_err(|e| tracing::warn!("cannot watch input for fast pausing: {e}"))
                .ok()
        }
        (false, Some(watcher)) => {
            watcher.stop();
            None
        }
        (false, None) => None,
    }
}

/// Publishes every sample on the status watch, and the activity (heartbeats, log) only when
/// the decision's outcome changes.
fn publish(
    parts: &ContributorParts,
    snapshot: Snapshot,
    decision: Decision,
    announced: &mut Option<Decision>,
) {
    let news = announced
        .as_ref()
        .is_none_or(|last| !last.same_outcome(&decision));
    if news {
        let activity = NodeActivity::from(&decision);
        tracing::info!("{activity}");
        parts.activity.send_replace(activity);
        *announced = Some(decision.clone());
    }
    parts.status.send_modify(|status| {
        status.activity = parts.activity.borrow().clone();
        status.snapshot = Some(snapshot);
        status.decision = Some(decision);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use idleshare_protocol::Budget;

    #[test]
    fn only_settings_pauses_slow_the_sampling() {
        let paused = |reason| Decision::Paused { reason };
        assert!(paused_by_settings(&paused(PauseReason::SwitchedOff)));
        assert!(paused_by_settings(&paused(PauseReason::Snoozed {
            until_ms: 1
        })));
        assert!(paused_by_settings(&paused(PauseReason::OutsideSchedule)));
        assert!(!paused_by_settings(&paused(PauseReason::OnBattery)));
        assert!(!paused_by_settings(&paused(PauseReason::FullscreenApp)));
        let budget = Budget::default();
        assert!(!paused_by_settings(&Decision::Run { budget }));
    }

    #[test]
    fn decisions_map_to_heartbeat_activity() {
        let budget = Budget {
            cores: 2,
            ..Budget::default()
        };
        assert_eq!(
            NodeActivity::from(&Decision::Run { budget }),
            NodeActivity::Contributing { budget }
        );
        assert_eq!(
            NodeActivity::from(&Decision::Paused {
                reason: PauseReason::OnBattery
            }),
            NodeActivity::Paused {
                reason: "running on battery".into()
            }
        );
    }
}
