//! The session's side of the cache: tell the coordinator what is held, take pin orders,
//! send pin reports and clients' receipts, and serve the streams the coordinator opens on
//! this connection (relayed clients, spot checks, the HTTP gateway).

use std::sync::Arc;

use idleshare_protocol::cache::{MAX_INVENTORY, MAX_RECEIPTS_PER_FRAME, PinOutcome};
use idleshare_protocol::{CoordinatorMessage, NodeMessage};
use idleshare_transport::send_frame;
use quinn::{Connection, SendStream};
use tokio::task::JoinHandle;

use super::SessionError;
use crate::cache::CacheService;

/// Per-session state of the cache exchange.
pub(super) struct CacheLink {
    service: Option<Arc<CacheService>>,
    relay: Option<JoinHandle<()>>,
}

impl CacheLink {
    /// Starts serving the streams the coordinator opens on `connection`.
    pub(super) fn new(service: Option<Arc<CacheService>>, connection: &Connection) -> Self {
        let relay = service.clone().map(|service| {
            let connection = connection.clone();
            tokio::spawn(async move {
                while let Ok((send, recv)) = connection.accept_bi().await {
                    let service = service.clone();
                    tokio::spawn(async move {
                        crate::cache::serve_stream(&service, send, recv, None).await;
                    });
                }
            })
        });
        Self { service, relay }
    }

    /// Right after registration: what is held, then everything still unsent.
    pub(super) async fn start(&mut self, send: &mut SendStream) -> Result<(), SessionError> {
        let Some(service) = &self.service else {
            return Ok(());
        };
        let held = service.inventory();
        let mut frames = held.chunks(MAX_INVENTORY).peekable();
        if frames.peek().is_none() {
            let empty = NodeMessage::CacheInventory {
                contents: Vec::new(),
                last: true,
            };
            send_frame(send, &empty).await?;
        }
        while let Some(chunk) = frames.next() {
            let frame = NodeMessage::CacheInventory {
                contents: chunk.to_vec(),
                last: frames.peek().is_none(),
            };
            send_frame(send, &frame).await?;
        }
        service.resend_claims();
        self.flush(send).await
    }

    /// Resolves when reports or receipts wait (never without a cache).
    pub(super) async fn ready(&self) {
        match &self.service {
            Some(service) => service.outgoing().await,
            None => std::future::pending().await,
        }
    }

    /// Sends waiting pin reports and receipts.
    pub(super) async fn flush(&mut self, send: &mut SendStream) -> Result<(), SessionError> {
        let Some(service) = &self.service else {
            return Ok(());
        };
        let mut reports = service.take_reports().into_iter();
        while let Some((content, outcome)) = reports.next() {
            let frame = NodeMessage::PinReport {
                content,
                outcome: outcome.clone(),
            };
            if let Err(e) = send_frame(send, &frame).await {
                service
                    .requeue_reports(std::iter::once((content, outcome)).chain(reports).collect());
                return Err(e.into());
            }
        }
        while service.has_claims() {
            let claims = service.take_claims(MAX_RECEIPTS_PER_FRAME);
            send_frame(send, &NodeMessage::ServiceReceipts(claims)).await?;
        }
        Ok(())
    }

    /// Handles a cache message from the coordinator; `Ok(false)` when it is not one.
    pub(super) async fn on_message(
        &self,
        message: &CoordinatorMessage,
        send: &mut SendStream,
    ) -> Result<bool, SessionError> {
        match (message, &self.service) {
            (CoordinatorMessage::Pin(order), Some(service)) => service.pin((**order).clone()),
            (CoordinatorMessage::Pin(order), None) => {
                let refusal = NodeMessage::PinReport {
                    content: order.content,
                    outcome: PinOutcome::Failed {
                        reason: "this node keeps no cache".into(),
                    },
                };
                send_frame(send, &refusal).await?;
            }
            (CoordinatorMessage::Unpin { content }, Some(service)) => service.unpin(*content),
            (CoordinatorMessage::Unpin { .. }, None) => {}
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl Drop for CacheLink {
    fn drop(&mut self) {
        if let Some(relay) = self.relay.take() {
            relay.abort();
        }
    }
}
