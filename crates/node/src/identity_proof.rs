//! The node's identity proof of work (see `idleshare_protocol::proof`): kept in
//! `DATA/identity-proof.json` so it is computed once per identity, and computed on a
//! lowest-priority thread when a coordinator asks for a stronger one.
//!
//! The search starts at a random nonce: hashing is memoryless, so a search cut short (the
//! node stopped) loses nothing in expectation when the next one starts elsewhere.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use idleshare_protocol::NodeId;
use idleshare_protocol::proof::MAX_ID_DIFFICULTY;
use idleshare_protocol::proof::{self, IdentityProof};
use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, watch};

use crate::session::SessionContext;
use crate::status::{ConnectionState, NodeStatus};

/// File name of the stored proof inside the data directory.
pub const PROOF_FILE_NAME: &str = "identity-proof.json";

/// Nonces hashed between checks for a stop and progress reports (a few ms of work).
const SLICE: u64 = 1 << 14;

/// The stored proof: whose it is, and the nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct StoredProof {
    node_id: NodeId,
    nonce: u64,
}

/// Where the proof is kept.
pub fn proof_path(data_dir: &Path) -> PathBuf {
    data_dir.join(PROOF_FILE_NAME)
}

/// The stored proof for `node_id`, if one is there (a proof for another key, or an
/// unreadable file, counts as none: the coordinator says what it needs).
pub fn load(data_dir: &Path, node_id: &NodeId) -> Option<IdentityProof> {
    let text = std::fs::read_to_string(proof_path(data_dir)).ok()?;
    let stored: StoredProof = serde_json::from_str(&text).ok()?;
    (stored.node_id == *node_id).then_some(IdentityProof {
        nonce: stored.nonce,
    })
}

/// Stores `proof` for `node_id` atomically.
pub fn store(data_dir: &Path, node_id: &NodeId, proof: IdentityProof) -> std::io::Result<()> {
    let path = proof_path(data_dir);
    let tmp = path.with_extension("json.tmp");
    let stored = StoredProof {
        node_id: *node_id,
        nonce: proof.nonce,
    };
    let json = serde_json::to_vec_pretty(&stored).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, json)?;
    std::fs::rename(tmp, path)
}

/// How a search is going, for the node's status.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// The difficulty sought.
    pub bits: u8,
    /// Hashes per second measured so far (`None` before the first slice).
    pub hashes_per_second: Option<f64>,
}

impl Progress {
    /// Expected time for the whole search at the measured rate, in whole seconds.
    pub fn expected_secs(&self) -> Option<u64> {
        let rate = self.hashes_per_second.filter(|r| *r > 0.0)?;
        Some((proof::expected_hashes(self.bits) / rate).ceil() as u64)
    }
}

/// Why no proof came back.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The search thread could not be started.
    #[error("cannot start the identity proof thread: {0}")]
    Thread(std::io::Error),
    /// The search was stopped before it found a proof.
    #[error("the identity proof search was stopped")]
    Stopped,
}

/// A search running on its own lowest-priority thread; dropping it stops the thread.
pub struct Search {
    found: oneshot::Receiver<IdentityProof>,
    stop: Arc<AtomicBool>,
}

impl Search {
    /// Starts searching for a proof of `bits` for `node_id`; `report` hears the progress
    /// about once a second.
    pub fn start(
        node_id: NodeId,
        bits: u8,
        report: impl FnMut(Progress) + Send + 'static,
    ) -> Result<Self, ProofError> {
        let (sender, found) = oneshot::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("idleshare-identity-proof".into())
            .spawn(move || {
                crate::executor::lower_current_thread();
                if let Some(proof) = run(node_id, bits, &stopped, report) {
                    let _ = sender.send(proof);
                }
            })
            .map_err(ProofError::Thread)?;
        Ok(Self { found, stop })
    }

    /// The proof, once found.
    pub async fn found(mut self) -> Result<IdentityProof, ProofError> {
        (&mut self.found).await.map_err(|_| ProofError::Stopped)
    }
}

impl Drop for Search {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The search loop: slices of nonces from a random start until found or stopped.
fn run(
    node_id: NodeId,
    bits: u8,
    stop: &AtomicBool,
    mut report: impl FnMut(Progress),
) -> Option<IdentityProof> {
    let mut next = rand::random::<u64>() >> 1;
    let started = Instant::now();
    let mut last_report = started;
    let mut hashed = 0u64;
    report(Progress {
        bits,
        hashes_per_second: None,
    });
    while !stop.load(Ordering::Relaxed) {
        if let Some(found) = proof::search(&node_id, bits, next, SLICE) {
            return Some(found);
        }
        next = next.wrapping_add(SLICE);
        hashed += SLICE;
        if last_report.elapsed() >= Duration::from_secs(1) {
            last_report = Instant::now();
            report(Progress {
                bits,
                hashes_per_second: Some(hashed as f64 / started.elapsed().as_secs_f64()),
            });
        }
    }
    None
}

/// Whether a coordinator's demand for `bits` is one to meet: within the protocol's bound,
/// and stronger than the proof we hold (else asking again would loop; that coordinator is
/// backed off from like any failure).
pub(crate) fn worth_computing(ctx: &SessionContext, bits: u8) -> bool {
    let node_id = idleshare_protocol::NodeId::from(ctx.key.verifying_key());
    let held = idleshare_protocol::proof::proof_bits(&node_id, ctx.proof);
    if bits > MAX_ID_DIFFICULTY {
        tracing::warn!(
            "the coordinator asks for a {bits}-bit identity proof, beyond the protocol's \
             {MAX_ID_DIFFICULTY}; not computing it"
        );
        return false;
    }
    held < u32::from(bits)
}

/// Computes an identity proof of `bits` on a lowest-priority thread, showing progress in
/// the status, and stores it; `Ok(None)` when the node is stopped first.
pub(crate) async fn prove(
    ctx: &SessionContext,
    bits: u8,
    status: &Arc<watch::Sender<NodeStatus>>,
    stop: &mut watch::Receiver<bool>,
) -> Result<Option<IdentityProof>, ProofError> {
    let node_id = idleshare_protocol::NodeId::from(ctx.key.verifying_key());
    tracing::info!("proving this node's identity to the network: a {bits}-bit proof of work");
    let shown = status.clone();
    let search = Search::start(node_id, bits, move |progress| {
        shown.send_modify(|s| {
            s.connection = ConnectionState::ProvingIdentity {
                bits,
                expected_secs: progress.expected_secs(),
            }
        });
    })?;
    let started = std::time::Instant::now();
    let proof = tokio::select! {
        found = search.found() => found?,
        _ = stop.changed() => return Ok(None),
    };
    tracing::info!(
        "identity proof of {bits} bits found in {:.1?}",
        started.elapsed()
    );
    if let Err(e) = store(&ctx.data_dir, &node_id, proof) {
        tracing::warn!("cannot store the identity proof (it is recomputed next start): {e}");
    }
    Ok(Some(proof))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> NodeId {
        NodeId::from(ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key())
    }

    #[tokio::test]
    async fn a_search_finds_a_proof_that_is_stored_and_reloaded_for_its_key_only() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path(), &id()), None);
        let found = Search::start(id(), 10, |_| {})
            .unwrap()
            .found()
            .await
            .unwrap();
        assert!(proof::verify(&id(), found, 10).is_ok());
        store(dir.path(), &id(), found).unwrap();
        assert_eq!(load(dir.path(), &id()), Some(found));
        let other = NodeId::from(ed25519_dalek::SigningKey::from_bytes(&[8; 32]).verifying_key());
        assert_eq!(load(dir.path(), &other), None);
        std::fs::write(proof_path(dir.path()), "not json").unwrap();
        assert_eq!(load(dir.path(), &id()), None);
    }

    #[tokio::test]
    async fn a_dropped_search_stops() {
        let (tx, rx) = std::sync::mpsc::channel();
        let search = Search::start(id(), 200, move |p| {
            let _ = tx.send(p);
        })
        .unwrap();
        assert_eq!(rx.recv().unwrap().hashes_per_second, None);
        drop(search);
        // The thread ends (its sender is dropped) instead of searching for ever.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                _ => assert!(Instant::now() < deadline, "search still running"),
            }
        }
    }

    #[test]
    fn expected_time_table() {
        // (bits, hashes per second, expected seconds)
        let cases = [
            (10, None, None),
            (10, Some(1024.0), Some(1)),
            (25, Some(1_700_000.0), Some(20)),
            (20, Some(0.0), None),
        ];
        for (bits, rate, secs) in cases {
            let progress = Progress {
                bits,
                hashes_per_second: rate,
            };
            assert_eq!(progress.expected_secs(), secs, "{bits} at {rate:?}");
        }
    }
}
