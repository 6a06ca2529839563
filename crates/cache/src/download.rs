//! Fetching content across providers: rank them by time to first byte, take segments in
//! order from the best, and move on at once when one sends bad data, refuses, stalls or
//! crawls. Every segment is checked group by group before it is handed out; every node that
//! served is paid by a signed receipt.

use idleshare_base::clock::unix_ms;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use idleshare_protocol::tree::{ByteRange, GROUP_BYTES};
use idleshare_protocol::{ContentId, NodeId};
use tokio::task::JoinSet;

use crate::fetch::{FetchError, FetchOptions, Piece, Route, fetch_range, send_receipt};

/// A node is given a cumulative receipt each time this many more bytes came from it (and
/// at the end): few receipts, and little unpaid if the client dies.
pub const RECEIPT_EVERY: u64 = 32 << 20;

/// How a download behaves.
#[derive(Debug, Clone, Copy)]
pub struct DownloadConfig {
    /// Bytes per segment.
    pub segment: u64,
    /// A provider silent this long is dropped.
    pub stall: Duration,
    /// A provider slower than the best rate seen divided by this is moved to the back.
    pub slow_factor: f64,
    /// Time allowed for the ranking probe of each provider.
    pub probe_timeout: Duration,
}

impl Default for DownloadConfig {
    /// 4 MiB segments, 5 s stall limit, 4× slower than the best counts as slow.
    fn default() -> Self {
        Self {
            segment: 4 << 20,
            stall: Duration::from_secs(5),
            slow_factor: 4.0,
            probe_timeout: Duration::from_secs(3),
        }
    }
}

/// A provider and what is known of it.
#[derive(Debug, Clone)]
struct Candidate {
    route: Route,
    ttfb: Option<Duration>,
}

/// Why a segment could not be fetched from anyone.
#[derive(Debug, thiserror::Error)]
#[error("no provider could serve bytes {start}..{end}: {reasons}")]
pub struct DownloadError {
    /// First byte of the segment.
    pub start: u64,
    /// One past its last byte.
    pub end: u64,
    /// What each provider said.
    pub reasons: String,
}

/// A verified segment.
#[derive(Debug)]
pub struct Segment {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Who served it.
    pub from: String,
    /// The node that served it (`None`: the origin).
    pub node: Option<NodeId>,
    /// Providers dropped on the way, with why.
    pub dropped: Vec<String>,
}

/// A node caught sending bytes that do not match the content id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadData {
    /// The node.
    pub node: NodeId,
    /// The first byte of the group that failed (or 0 for a wrong size).
    pub offset: u64,
    /// The check that failed.
    pub detail: String,
}

/// Who signs receipts for the bytes received.
#[derive(Debug, Clone)]
pub struct Payer {
    /// The client key.
    pub key: SigningKey,
    /// The session receipts name for a route without an order limit (such receipts are
    /// not paid: the coordinator pays only under an order's serial).
    pub session: u64,
}

/// One piece of content fetched from a changing set of providers.
pub struct Downloader {
    content: ContentId,
    size: u64,
    candidates: Vec<Candidate>,
    fallback: Option<Route>,
    payer: Option<Payer>,
    /// Per node: bytes received, bytes signed for, and how to reach it.
    owed: HashMap<NodeId, (u64, u64, Route)>,
    config: DownloadConfig,
    best_rate: f64,
    bad: Vec<BadData>,
    receipts: JoinSet<()>,
}

impl Downloader {
    /// A download of `content` (`size` bytes as published) from `routes`, with `fallback`
    /// (the origin) when every provider fails.
    pub fn new(
        content: ContentId,
        size: u64,
        routes: Vec<Route>,
        fallback: Option<Route>,
        payer: Option<Payer>,
        config: DownloadConfig,
    ) -> Self {
        Self {
            content,
            size,
            candidates: routes
                .into_iter()
                .map(|route| Candidate { route, ttfb: None })
                .collect(),
            fallback,
            payer,
            owed: HashMap::new(),
            config,
            best_rate: 0.0,
            bad: Vec::new(),
            receipts: JoinSet::new(),
        }
    }

    /// Providers still in play, best first.
    pub fn providers(&self) -> Vec<String> {
        self.candidates.iter().map(|c| c.route.label()).collect()
    }

    /// Nodes caught sending bad data so far.
    pub fn bad_data(&self) -> &[BadData] {
        &self.bad
    }

    /// Asks every provider for the first group at once and orders them by time to first
    /// byte; those that refuse, stall or send bad data are dropped. Returns what was dropped.
    pub async fn rank(&mut self) -> Vec<String> {
        let probe = ByteRange {
            start: 0,
            end: self.size.min(GROUP_BYTES),
        };
        let mut probes = JoinSet::new();
        for (index, candidate) in self.candidates.iter().enumerate() {
            let route = candidate.route.clone();
            let (content, size) = (self.content, self.size);
            let options = self.config.probe_timeout;
            probes.spawn(async move {
                let options = FetchOptions {
                    stall: options,
                    pacer: None,
                };
                (
                    index,
                    fetch_range(&route, content, size, probe, options, |_| Ok(())).await,
                )
            });
        }
        let mut results = HashMap::new();
        while let Some(Ok((index, result))) = probes.join_next().await {
            results.insert(index, result);
        }
        let mut dropped = Vec::new();
        let mut kept = Vec::new();
        let candidates: Vec<Candidate> = self.candidates.drain(..).collect();
        for (index, mut candidate) in candidates.into_iter().enumerate() {
            match results.remove(&index) {
                Some(Ok(transfer)) => {
                    candidate.ttfb = Some(transfer.first_byte);
                    kept.push(candidate);
                }
                Some(Err(error)) => {
                    self.note_bad(&candidate.route, &error);
                    dropped.push(error.to_string());
                }
                None => dropped.push(format!("{}: probe failed", candidate.route.label())),
            }
        }
        kept.sort_by_key(|c| c.ttfb);
        self.candidates = kept;
        dropped
    }

    /// Fetches `range` (checked), from the best provider that serves it.
    pub async fn segment(&mut self, range: ByteRange) -> Result<Segment, DownloadError> {
        let mut dropped = Vec::new();
        while !self.candidates.is_empty() {
            let route = self.candidates[0].route.clone();
            match self.fetch(&route, range).await {
                Ok((bytes, elapsed)) => {
                    self.after_success(&route, range.len(), elapsed);
                    return Ok(Segment {
                        bytes,
                        from: route.label(),
                        node: route.node,
                        dropped,
                    });
                }
                Err(error) => {
                    self.note_bad(&route, &error);
                    dropped.push(error.to_string());
                    self.candidates.remove(0);
                }
            }
        }
        if let Some(origin) = self.fallback.clone() {
            match self.fetch(&origin, range).await {
                Ok((bytes, _)) => {
                    return Ok(Segment {
                        bytes,
                        from: origin.label(),
                        node: None,
                        dropped,
                    });
                }
                Err(error) => dropped.push(error.to_string()),
            }
        }
        Err(DownloadError {
            start: range.start,
            end: range.end,
            reasons: if dropped.is_empty() {
                "no providers".into()
            } else {
                dropped.join("; ")
            },
        })
    }

    async fn fetch(
        &self,
        route: &Route,
        range: ByteRange,
    ) -> Result<(Vec<u8>, Duration), FetchError> {
        let mut bytes = Vec::with_capacity(range.len() as usize);
        let options = FetchOptions {
            stall: self.config.stall,
            pacer: None,
        };
        let started = Instant::now();
        fetch_range(route, self.content, self.size, range, options, |piece| {
            if let Piece::Content { bytes: piece, .. } = piece {
                bytes.extend_from_slice(piece);
            }
            Ok(())
        })
        .await?;
        Ok((bytes, started.elapsed()))
    }

    /// Pays the node, and moves a provider far slower than the best to the back.
    fn after_success(&mut self, route: &Route, bytes: u64, elapsed: Duration) {
        let rate = bytes as f64 / elapsed.as_secs_f64().max(1e-6);
        self.best_rate = self.best_rate.max(rate);
        if rate * self.config.slow_factor < self.best_rate && self.candidates.len() > 1 {
            tracing::info!(
                "{} is slow ({rate:.0} B/s); trying others first",
                route.label()
            );
            let slow = self.candidates.remove(0);
            self.candidates.push(slow);
        }
        let Some(node) = route.node else { return };
        let owed = self.owed.entry(node).or_insert((0, 0, route.clone()));
        owed.0 += bytes;
        if owed.0 - owed.1 >= RECEIPT_EVERY {
            owed.1 = owed.0;
            let total = owed.0;
            self.sign(route.clone(), total);
        }
    }

    /// Sends a cumulative receipt for `total` bytes over `route`, in the background.
    fn sign(&mut self, route: Route, total: u64) {
        let Some(payer) = &self.payer else { return };
        let session = route.serial().unwrap_or(payer.session);
        let (key, content) = (payer.key.clone(), self.content);
        // Receipts are cumulative: a lost or late one is covered by the next.
        self.receipts.spawn(async move {
            let now = unix_ms();
            let sent = send_receipt(
                &route,
                &key,
                content,
                session,
                total,
                now,
                Duration::from_secs(5),
            );
            if let Err(e) = sent.await {
                tracing::debug!("receipt to {} not delivered: {e}", route.label());
            }
        });
    }

    /// Bytes received from each node so far.
    pub fn received(&self) -> HashMap<NodeId, u64> {
        self.owed
            .iter()
            .map(|(node, owed)| (*node, owed.0))
            .collect()
    }

    fn note_bad(&mut self, route: &Route, error: &FetchError) {
        let Some(node) = route.node else { return };
        let offset = match error {
            FetchError::Corrupt { error, .. } => corrupt_offset(error),
            FetchError::WrongSize { .. } => 0,
            _ => return,
        };
        self.bad.push(BadData {
            node,
            offset,
            detail: error.to_string(),
        });
    }

    /// Signs for every byte not yet signed for, and waits (at most `wait`) for the receipts
    /// to arrive.
    pub async fn finish(mut self, wait: Duration) {
        let unsigned: Vec<(Route, u64)> = self
            .owed
            .values_mut()
            .filter(|owed| owed.0 > owed.1)
            .map(|owed| {
                owed.1 = owed.0;
                (owed.2.clone(), owed.0)
            })
            .collect();
        for (route, total) in unsigned {
            self.sign(route, total);
        }
        let _ = tokio::time::timeout(wait, async {
            while self.receipts.join_next().await.is_some() {}
        })
        .await;
    }
}

fn corrupt_offset(error: &idleshare_protocol::tree::TreeError) -> u64 {
    use idleshare_protocol::tree::TreeError;
    match error {
        TreeError::BadGroup { offset, .. } | TreeError::BadParent { offset, .. } => *offset,
        _ => 0,
    }
}
