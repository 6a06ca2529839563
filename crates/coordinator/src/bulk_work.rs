//! Work transfers on bulk streams: a node fetches the module or input of a lease it holds,
//! and sends a result (its report, then exactly the output's bytes). A result is answered
//! `Received` only once it is committed to the work store.

use std::sync::Arc;
use std::time::Duration;

use idleshare_protocol::bulk::BulkResponse;
use idleshare_protocol::{ContentId, NodeId, UnitOutcome, UnitReport};
use idleshare_transport::{FramedError, send_frame};
use quinn::{RecvStream, SendStream};

use crate::bulk::refuse;
use crate::jobs::ReportOutcome;
use crate::jobs::ops::Op;
use idleshare_base::clock::unix_ms;

use crate::server::Shared;

/// How long a node may take to send a result's output bytes.
const OUTPUT_READ_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a result waits for its commit before the node is told to retry.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Sends a module or input the node's running leases need.
pub(crate) async fn serve_fetch(
    mut send: SendStream,
    shared: &Arc<Shared>,
    node: NodeId,
    id: ContentId,
) -> Result<(), FramedError> {
    if !shared.work.read(|book| book.may_fetch(&node, &id)) {
        let message = format!(
            "not yours: {} is not the module or input of a lease you hold",
            id.short()
        );
        return refuse(&mut send, message).await;
    }
    let reading = shared.clone();
    let bytes = tokio::task::spawn_blocking(move || reading.work.store().blob(&id)).await;
    let bytes = match bytes {
        Ok(Ok(Some(bytes))) => bytes,
        Ok(Ok(None)) => return refuse(&mut send, format!("{} is not stored", id.short())).await,
        Ok(Err(e)) => return refuse(&mut send, format!("store failed: {e}")).await,
        Err(e) => return refuse(&mut send, format!("store task failed: {e}")).await,
    };
    let len = bytes.len() as u32;
    send_frame(&mut send, &BulkResponse::Blob { len }).await?;
    send.write_all(&bytes).await?;
    let _ = send.finish();
    Ok(())
}

/// Reads a result's output, checks it, records it and acknowledges it once committed.
pub(crate) async fn serve_result(
    mut send: SendStream,
    mut recv: RecvStream,
    shared: &Arc<Shared>,
    node: NodeId,
    report: UnitReport,
) -> Result<(), FramedError> {
    let limit = match shared
        .work
        .read(|book| book.check_report(&node, report.lease))
    {
        Ok(limit) => limit,
        Err(e) => return refuse(&mut send, e.to_string()).await,
    };
    let len = report.output_len();
    if len > limit {
        let message = format!("output of {len} bytes is over the job's limit of {limit}");
        return refuse(&mut send, message).await;
    }
    let mut bytes = vec![0u8; len as usize];
    match tokio::time::timeout(OUTPUT_READ_TIMEOUT, recv.read_exact(&mut bytes)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return refuse(
                &mut send,
                format!("output of {len} bytes not received: {e}"),
            )
            .await;
        }
        Err(_) => {
            return refuse(
                &mut send,
                format!("output not received within {OUTPUT_READ_TIMEOUT:?}"),
            )
            .await;
        }
    }
    let output = match &report.outcome {
        UnitOutcome::Output { id, .. } if ContentId::of(&bytes) != *id => {
            let message = format!("output bytes do not match their content id {}", id.short());
            return refuse(&mut send, message).await;
        }
        UnitOutcome::Output { id, .. } => Some((*id, Arc::<[u8]>::from(bytes))),
        UnitOutcome::Failed { .. } => None,
    };
    let now = unix_ms();
    let (outcome, ticket) = shared.work.apply(|book, rng, ch| {
        // The output belongs to the job's owner, who alone reads it back.
        let owner = book.lease_job_owner(report.lease).unwrap_or(node);
        let outcome = book.report(node, &report, now, rng, ch);
        if let (Ok(ReportOutcome::Counted), Some((id, bytes))) = (&outcome, output) {
            ch.ops.push(Op::Blob { id, owner, bytes });
        }
        outcome
    });
    if let Err(e) = outcome {
        return refuse(&mut send, e.to_string()).await;
    }
    if let Err(e) = shared.work.wait_committed(ticket, COMMIT_TIMEOUT).await {
        return refuse(&mut send, e.to_string()).await;
    }
    let received = BulkResponse::Received {
        bytes: u64::from(len),
    };
    send_frame(&mut send, &received).await?;
    let _ = send.finish();
    Ok(())
}
