//! A registered session: heartbeats and their acks, capability updates, the bandwidth test,
//! and the goodbye.

use std::time::{Duration, Instant};

use idleshare_protocol::{
    BandwidthReport, Capabilities, CoordinatorMessage, NodeActivity, NodeMessage, Welcome,
};
use idleshare_transport::{FramedError, send_frame};
use quinn::{Connection, Endpoint, SendStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::cache_link::CacheLink;
use super::work_link::WorkLink;
use idleshare_base::clock::unix_ms;

use super::{SessionContext, SessionError};
use crate::bandwidth;
use crate::heartbeat::Unacked;
use crate::status::NodeStatus;

/// How long after a failed bandwidth test to try again (unless the usual age comes first).
const BANDWIDTH_RETRY: Duration = Duration::from_secs(60 * 60);
/// How long to wait for the coordinator to close after our goodbye.
const GOODBYE_GRACE: Duration = Duration::from_millis(500);

pub(super) struct Session {
    pub(super) endpoint: Endpoint,
    pub(super) connection: Connection,
    pub(super) send: SendStream,
    pub(super) frames: mpsc::Receiver<Result<CoordinatorMessage, FramedError>>,
    pub(super) welcome: Welcome,
    /// What we offer; each change is sent as an update.
    pub(super) capabilities: watch::Receiver<Capabilities>,
    pub(super) bandwidth_test:
        Option<JoinHandle<Result<BandwidthReport, bandwidth::BandwidthError>>>,
}

impl Session {
    pub(super) async fn heartbeat_loop(
        &mut self,
        ctx: &SessionContext,
        status: &watch::Sender<NodeStatus>,
        activity: &watch::Receiver<NodeActivity>,
        stop: &mut watch::Receiver<bool>,
        mut work: WorkLink<'_>,
        mut cache: CacheLink,
    ) -> Result<(), SessionError> {
        let interval = Duration::from_millis(self.welcome.heartbeat_interval_ms.max(50).into());
        let ack_deadline = interval.mul_f64(1.5);
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seq = 0u64;
        let mut unacked = Unacked::default();
        let mut activity = activity.clone();
        activity.mark_unchanged();
        // Tested at registration when the last result is stale, then again as it ages.
        let mut bandwidth_due = Some(self.bandwidth_due(ctx));
        let current = activity.borrow().clone();
        work.start(&mut self.send, &current).await?;
        cache.start(&mut self.send).await?;
        loop {
            let deadline = unacked.deadline(ack_deadline);
            tokio::select! {
                _ = stop.changed() => return Ok(()),
                _ = ticker.tick(), if unacked.is_empty() => {
                    seq += 1;
                    let current = activity.borrow_and_update().clone();
                    self.send_heartbeat(seq, current.clone()).await?;
                    unacked.sent(seq, Instant::now());
                    work.refresh_wanted(&mut self.send, &current).await?;
                }
                _ = sleep_until_opt(deadline) => return Err(SessionError::HeartbeatTimeout(ack_deadline)),
                _ = sleep_until_opt(bandwidth_due) => {
                    bandwidth_due = None;
                    let connection = self.connection.clone();
                    self.bandwidth_test = Some(tokio::spawn(async move {
                        bandwidth::measure(&connection, unix_ms()).await
                    }));
                }
                result = join_opt(&mut self.bandwidth_test) => {
                    self.bandwidth_test = None;
                    let measured = record_bandwidth(ctx, status, result);
                    let next = if measured { ctx.bandwidth_max_age } else { BANDWIDTH_RETRY.min(ctx.bandwidth_max_age) };
                    bandwidth_due = Some(Instant::now() + next);
                }
                Ok(()) = self.capabilities.changed() => {
                    let capabilities = self.capabilities.borrow_and_update().clone();
                    send_frame(&mut self.send, &NodeMessage::UpdateCapabilities { capabilities }).await?;
                }
                Ok(()) = activity.changed() => {
                    // A new decision reaches the coordinator now, not at the next beat.
                    seq += 1;
                    let current = activity.borrow_and_update().clone();
                    self.send_heartbeat(seq, current.clone()).await?;
                    unacked.sent(seq, Instant::now());
                    work.update_wanted(&mut self.send, &current).await?;
                }
                _ = sleep_until_opt(work.want_due()) => {
                    let current = activity.borrow().clone();
                    work.update_wanted(&mut self.send, &current).await?;
                }
                () = cache.ready() => cache.flush(&mut self.send).await?,
                Some(event) = work.next_event() => {
                    work.on_event(event, &mut self.send, status).await?;
                    let current = activity.borrow().clone();
                    work.update_wanted(&mut self.send, &current).await?;
                }
                frame = self.frames.recv() => match frame {
                    Some(Ok(CoordinatorMessage::HeartbeatAck { seq: acked })) => {
                        if let Some(rtt) = unacked.acked(acked, Instant::now()) {
                            let now = unix_ms();
                            status.send_modify(|s| {
                                s.last_heartbeat_ms = Some(now);
                                s.last_rtt_us = Some(rtt.as_micros() as u64);
                            });
                        }
                    }
                    Some(Ok(other)) => {
                        if !cache.on_message(&other, &mut self.send).await?
                            && !work.on_message(&other, &mut self.send, status).await?
                        {
                            return Err(SessionError::unexpected(Some(other)));
                        }
                        let current = activity.borrow().clone();
                        work.update_wanted(&mut self.send, &current).await?;
                    }
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(SessionError::unexpected(None)),
                },
            }
        }
    }

    async fn send_heartbeat(
        &mut self,
        seq: u64,
        activity: NodeActivity,
    ) -> Result<(), SessionError> {
        send_frame(&mut self.send, &NodeMessage::Heartbeat { seq, activity }).await?;
        Ok(())
    }

    /// Ends the session: a goodbye when we chose to leave, then closes the connection.
    /// When the stored bandwidth result becomes stale (now, if there is none).
    fn bandwidth_due(&self, ctx: &SessionContext) -> Instant {
        let now_ms = unix_ms();
        let due_ms = self
            .capabilities
            .borrow()
            .bandwidth
            .map_or(now_ms, |report| {
                report
                    .measured_at_ms
                    .saturating_add(ctx.bandwidth_max_age.as_millis() as u64)
            });
        Instant::now() + Duration::from_millis(due_ms.saturating_sub(now_ms))
    }

    pub(super) async fn close(mut self, stopping: bool) {
        if stopping {
            let goodbye = NodeMessage::Goodbye {
                reason: "node stopping".into(),
            };
            if send_frame(&mut self.send, &goodbye).await.is_ok() {
                let _ = self.send.finish();
                // The coordinator closes the connection once it has read our goodbye.
                let _ = tokio::time::timeout(GOODBYE_GRACE, self.connection.closed()).await;
            }
        }
        self.connection.close(0u32.into(), b"bye");
        let _ = tokio::time::timeout(GOODBYE_GRACE, self.endpoint.wait_idle()).await;
    }
}

/// Stores a finished bandwidth test (the capabilities watch carries it to the coordinator);
/// returns whether there was a result.
fn record_bandwidth(
    ctx: &SessionContext,
    status: &watch::Sender<NodeStatus>,
    result: Result<Result<BandwidthReport, bandwidth::BandwidthError>, tokio::task::JoinError>,
) -> bool {
    let report = match result {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => {
            tracing::warn!("bandwidth test failed: {e}");
            return false;
        }
        Err(e) => {
            tracing::warn!("bandwidth test task failed: {e}");
            return false;
        }
    };
    tracing::info!(
        "bandwidth: {:.1} Mbit/s down, {:.1} Mbit/s up, rtt {:.2} ms",
        report.download_kbps as f64 / 1000.0,
        report.upload_kbps as f64 / 1000.0,
        report.rtt_us as f64 / 1000.0
    );
    if let Err(e) = bandwidth::store_report(&ctx.data_dir, &report) {
        tracing::warn!("cannot store the bandwidth result: {e}");
    }
    ctx.capabilities.send_modify(|c| c.bandwidth = Some(report));
    status.send_modify(|s| s.bandwidth = Some(report));
    true
}

/// Waits for the task if there is one; never resolves otherwise.
async fn join_opt<T>(task: &mut Option<JoinHandle<T>>) -> Result<T, tokio::task::JoinError> {
    match task {
        Some(task) => task.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}
