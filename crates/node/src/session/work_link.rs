//! The session's side of compute work: ask for units, take assignments and revocations,
//! upload results, give leases back, and store receipts in the wallet.

use std::sync::Arc;
use std::time::{Duration, Instant};

use idleshare_protocol::messages::MAX_TEXT_LEN;
use idleshare_protocol::node_bounds::clip_text;
use idleshare_protocol::{CoordinatorMessage, NodeActivity, NodeId, NodeMessage};
use idleshare_transport::send_frame;
use quinn::{Connection, SendStream};
use tokio::sync::{mpsc, watch};

use super::SessionError;
use super::receipts::ReceiptSink;
use crate::cache::CacheService;
use crate::status::NodeStatus;
use crate::wallet::Wallet;
use crate::work::report::Settled;
use crate::work::transfer::TransferError;
use crate::work::{WorkEvent, WorkRunner};

/// What a node brings to work, kept across sessions.
pub(crate) struct WorkParts {
    pub runner: Arc<WorkRunner>,
    pub events: mpsc::UnboundedReceiver<WorkEvent>,
}

/// Per-session state of the work exchange.
pub(super) struct WorkLink<'a> {
    parts: Option<&'a mut WorkParts>,
    receipts: ReceiptSink,
    connection: Connection,
    /// The free slots the coordinator believes we have: what we last said, minus what it
    /// assigned since.
    coordinator_view: Option<u32>,
    /// When `WantWork` was last sent, and whether a newer count waits for the gap to pass.
    last_want: Option<Instant>,
    want_deferred: bool,
}

/// Shortest gap between two `WantWork` frames: the coordinator limits frames per second,
/// and a node finishing many small units must stay well inside that limit.
const WANT_WORK_GAP: Duration = Duration::from_millis(100);
/// Units held beyond the cores: one waits ready while the others run, so a core never idles
/// while the next unit's input is fetched.
const PREFETCH: u32 = 1;

/// Units wanted now: the policy's cores (plus one ready to go) minus leases held; nothing
/// while paused.
fn wanted(activity: &NodeActivity, held: u32) -> u32 {
    activity
        .budget()
        .filter(|budget| budget.cores > 0)
        .map_or(0, |budget| (budget.cores + PREFETCH).saturating_sub(held))
}

impl<'a> WorkLink<'a> {
    pub(super) fn new(
        parts: Option<&'a mut WorkParts>,
        wallet: Option<Arc<Wallet>>,
        cache: Option<Arc<CacheService>>,
        issuer: NodeId,
        connection: Connection,
    ) -> Self {
        Self {
            parts,
            receipts: ReceiptSink::new(wallet, cache, issuer),
            connection,
            coordinator_view: None,
            last_want: None,
            want_deferred: false,
        }
    }

    /// Right after registration: ask for missing receipts, retry results kept from a lost
    /// session, and say how much work we want.
    pub(super) async fn start(
        &mut self,
        send: &mut SendStream,
        activity: &NodeActivity,
    ) -> Result<(), SessionError> {
        self.receipts.sync(send).await?;
        if let Some(parts) = &self.parts {
            for (report, output) in parts.runner.take_pending_uploads() {
                parts.runner.upload(report, output, self.connection.clone());
            }
        }
        self.update_wanted(send, activity).await
    }

    /// Sends `WantWork` when our free slots differ from the coordinator's view, at most once
    /// per [`WANT_WORK_GAP`] (a later call, or [`Self::want_due`], sends the deferred count).
    pub(super) async fn update_wanted(
        &mut self,
        send: &mut SendStream,
        activity: &NodeActivity,
    ) -> Result<(), SessionError> {
        let Some(parts) = &self.parts else {
            return Ok(());
        };
        let slots = wanted(activity, parts.runner.held());
        #[cfg(feature = "test-hooks")]
        let slots = if parts.runner.hoards() {
            // A hoarder asks for the most it may, whatever it holds, every time.
            self.coordinator_view = None;
            1024
        } else {
            slots
        };
        if self.coordinator_view == Some(slots) {
            self.want_deferred = false;
            return Ok(());
        }
        if self
            .last_want
            .is_some_and(|at| at.elapsed() < WANT_WORK_GAP)
        {
            tracing::debug!("deferring a request for {slots} unit(s)");
            self.want_deferred = true;
            return Ok(());
        }
        tracing::debug!("asking for {slots} unit(s)");
        send_frame(send, &NodeMessage::WantWork { slots }).await?;
        self.coordinator_view = Some(slots);
        self.last_want = Some(Instant::now());
        self.want_deferred = false;
        Ok(())
    }

    /// Says our free slots again even if unchanged (with each heartbeat, while we want work),
    /// so a count the coordinator lost (a race with a registration) heals within a beat.
    pub(super) async fn refresh_wanted(
        &mut self,
        send: &mut SendStream,
        activity: &NodeActivity,
    ) -> Result<(), SessionError> {
        // Nothing to heal while we want nothing (a paused node gets no work anyway).
        let held = self.parts.as_ref().map_or(0, |parts| parts.runner.held());
        if wanted(activity, held) > 0 {
            self.coordinator_view = None;
        }
        self.update_wanted(send, activity).await
    }

    /// When a deferred `WantWork` may go out.
    pub(super) fn want_due(&self) -> Option<Instant> {
        self.want_deferred.then(|| {
            self.last_want
                .map_or_else(Instant::now, |at| at + WANT_WORK_GAP)
        })
    }

    /// The next event from running units (never resolves without a runner).
    pub(super) async fn next_event(&mut self) -> Option<WorkEvent> {
        match &mut self.parts {
            Some(parts) => parts.events.recv().await,
            None => std::future::pending().await,
        }
    }

    pub(super) async fn on_event(
        &mut self,
        event: WorkEvent,
        send: &mut SendStream,
        status: &watch::Sender<NodeStatus>,
    ) -> Result<(), SessionError> {
        let Some(parts) = &self.parts else {
            return Ok(());
        };
        let runner = parts.runner.clone();
        match event {
            WorkEvent::Settled {
                lease,
                settled: Settled::Report(report, output),
            } => {
                tracing::debug!("{lease} finished; uploading its result");
                runner.upload(report, output, self.connection.clone());
            }
            WorkEvent::Settled {
                lease,
                settled: Settled::Abandon(reason),
            } => {
                tracing::warn!("giving back {lease}: {reason}");
                runner.release(lease, false);
                let reason = clip_text(&reason, MAX_TEXT_LEN);
                send_frame(send, &NodeMessage::Abandon { lease, reason }).await?;
            }
            WorkEvent::Uploaded {
                lease,
                outcome: Ok(()),
            } => {
                tracing::debug!("{lease}: result stored by the coordinator");
                runner.release(lease, true);
            }
            WorkEvent::Uploaded {
                lease,
                outcome: Err((TransferError::Refused(message), ..)),
            } => {
                tracing::warn!("coordinator refused the result of {lease}: {message}");
                runner.release(lease, false);
            }
            WorkEvent::Uploaded {
                lease,
                outcome: Err((error, report, output)),
            } => {
                if self.connection.close_reason().is_none() {
                    // It went out on an older connection; this session's is alive.
                    tracing::info!("upload of {lease} failed ({error}); sending it again");
                    runner.upload(report, output, self.connection.clone());
                } else {
                    tracing::warn!(
                        "upload of {lease} failed ({error}); keeping it for the next session"
                    );
                    runner.keep_for_later(report, output);
                }
            }
        }
        let stats = runner.stats();
        status.send_modify(|s| s.work = stats);
        Ok(())
    }

    /// Handles a work message from the coordinator; `Ok(false)` when it is not one.
    pub(super) async fn on_message(
        &mut self,
        message: &CoordinatorMessage,
        send: &mut SendStream,
        status: &watch::Sender<NodeStatus>,
    ) -> Result<bool, SessionError> {
        match message {
            CoordinatorMessage::Assign(assignment) => {
                let Some(parts) = &self.parts else {
                    let reason = "this node runs no work".to_owned();
                    send_frame(
                        send,
                        &NodeMessage::Abandon {
                            lease: assignment.lease,
                            reason,
                        },
                    )
                    .await?;
                    return Ok(true);
                };
                tracing::debug!(
                    "assigned {} ({} of {})",
                    assignment.lease,
                    assignment.unit,
                    assignment.job
                );
                parts
                    .runner
                    .assign((**assignment).clone(), self.connection.clone());
                // The coordinator counts one slot fewer for each assignment.
                self.coordinator_view = self.coordinator_view.map(|view| view.saturating_sub(1));
                let stats = parts.runner.stats();
                status.send_modify(|s| s.work = stats);
            }
            CoordinatorMessage::Revoke { lease } => {
                if let Some(parts) = &self.parts {
                    parts.runner.revoke(*lease);
                }
            }
            CoordinatorMessage::Receipt(receipt) => {
                self.receipts.store(receipt, send, status).await?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use idleshare_protocol::Budget;

    use super::*;

    #[test]
    fn work_is_wanted_only_while_contributing_and_up_to_the_cores() {
        let contributing = NodeActivity::Contributing {
            budget: Budget {
                cores: 2,
                cpu_percent: 100,
                ..Budget::default()
            },
        };
        assert_eq!(wanted(&contributing, 0), 3);
        assert_eq!(wanted(&contributing, 2), 1);
        assert_eq!(wanted(&contributing, 5), 0);
        assert_eq!(
            wanted(
                &NodeActivity::Paused {
                    reason: "owner active".into()
                },
                0
            ),
            0
        );
        assert_eq!(wanted(&NodeActivity::Starting, 0), 0);
    }
}
