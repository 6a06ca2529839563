//! A customer's fetch of a whole piece of content into a file: connect to every provider
//! (directly where the coordinator could reach it, else through its relay), rank them, fetch
//! segment by segment with failover, resume a `.part` file left by an earlier try, and check
//! the finished file against the content id before it takes its name.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use idleshare_protocol::cache::Provider;
use idleshare_protocol::tree::{ByteRange, GROUP_BYTES};
use idleshare_protocol::{ContentId, CoordinatorAddress};
use quinn::Connection;

use crate::connect::{ConnectError, client_endpoint, connect, resolve};
use crate::download::{BadData, DownloadConfig, DownloadError, Downloader, Payer};
use crate::fetch::Route;

/// How long to wait for a provider's own endpoint before going through the relay.
const DIRECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long to wait for the coordinator.
const COORDINATOR_TIMEOUT: Duration = Duration::from_secs(5);

/// What to fetch and from whom.
#[derive(Debug, Clone)]
pub struct FetchPlan {
    /// The content.
    pub content: ContentId,
    /// Its size, as the coordinator published it.
    pub size: u64,
    /// Nodes holding it, best first, each with the order limit that pays it.
    pub providers: Vec<Provider>,
    /// The coordinator (relay and origin).
    pub coordinator: CoordinatorAddress,
    /// The client's key (receipts are signed with it).
    pub key: SigningKey,
    /// Where the content goes (`<out>.part` while it arrives).
    pub out: PathBuf,
    /// Segments, stalls, slowness.
    pub config: DownloadConfig,
}

/// Told how a fetch goes.
pub trait FetchProgress {
    /// The fetch starts at `from` of `total` bytes (`from > 0` when resuming).
    fn started(&self, from: u64, total: u64, providers: &[String]);
    /// `done` bytes are in the file; the last segment came from `source`.
    fn advanced(&self, done: u64, source: &str);
    /// Something worth a line: a provider dropped, a switch.
    fn note(&self, line: &str);
}

/// How a fetch went.
#[derive(Debug, Clone)]
pub struct FetchReport {
    /// Bytes in the file.
    pub size: u64,
    /// Where the fetch resumed (0 for a fresh one).
    pub resumed_from: u64,
    /// Bytes by source, in the order sources were first used.
    pub sources: Vec<(String, u64)>,
    /// Nodes caught sending bad bytes (report them to the coordinator).
    pub bad_data: Vec<BadData>,
}

/// Why a fetch failed. What arrived stays in the `.part` file for the next try.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The output file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Nobody could serve a segment.
    #[error(transparent)]
    Download(#[from] DownloadError),
    /// The file on disk does not hash to the content id (damaged locally after arrival).
    #[error("the finished file hashes to {found}, not {expected}; it was deleted: fetch again")]
    Damaged {
        /// The content id.
        expected: ContentId,
        /// What the file hashes to.
        found: ContentId,
    },
}

fn part_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// Fetches `plan.content` into `plan.out`.
pub async fn fetch_to_file(
    plan: FetchPlan,
    progress: &dyn FetchProgress,
) -> Result<FetchReport, ClientError> {
    let part = part_path(&plan.out);
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ClientError::Io { path, source }
    };
    let (mut file, resumed_from) = open_part(&part, plan.size).map_err(io(&part))?;
    let coordinator = connect_coordinator(&plan).await;
    if let Err(e) = &coordinator {
        progress.note(&format!(
            "coordinator unreachable for relay and origin: {e}"
        ));
    }
    let coordinator = coordinator.ok();
    let routes = routes(&plan, coordinator.as_ref(), progress).await;
    let payer = Payer {
        key: plan.key.clone(),
        session: rand::random(),
    };
    let origin = coordinator.clone().map(Route::origin);
    let mut downloader = Downloader::new(
        plan.content,
        plan.size,
        routes,
        origin,
        Some(payer),
        plan.config,
    );
    for dropped in downloader.rank().await {
        progress.note(&format!("skipping a provider: {dropped}"));
    }
    progress.started(resumed_from, plan.size, &downloader.providers());
    let mut sources: Vec<(String, u64)> = Vec::new();
    let mut at = resumed_from;
    while at < plan.size {
        let range = ByteRange {
            start: at,
            end: (at + plan.config.segment).min(plan.size),
        };
        let segment = downloader.segment(range).await?;
        for dropped in &segment.dropped {
            progress.note(&format!("switching provider: {dropped}"));
        }
        file.write_all(&segment.bytes).map_err(io(&part))?;
        match sources.iter_mut().find(|(name, _)| *name == segment.from) {
            Some((_, bytes)) => *bytes += range.len(),
            None => sources.push((segment.from.clone(), range.len())),
        }
        at = range.end;
        progress.advanced(at, &segment.from);
    }
    file.sync_all().map_err(io(&part))?;
    drop(file);
    let bad_data = downloader.bad_data().to_vec();
    downloader.finish(Duration::from_secs(3)).await;
    let found = hash_file(&part).map_err(io(&part))?;
    if found != plan.content {
        let _ = std::fs::remove_file(&part);
        return Err(ClientError::Damaged {
            expected: plan.content,
            found,
        });
    }
    std::fs::rename(&part, &plan.out).map_err(io(&plan.out))?;
    Ok(FetchReport {
        size: plan.size,
        resumed_from,
        sources,
        bad_data,
    })
}

/// Opens (or creates) the `.part` file, keeping whole groups of an earlier try; returns it
/// positioned at its end, and that offset.
fn open_part(part: &Path, size: u64) -> std::io::Result<(File, u64)> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(part)?;
    let held = file.metadata()?.len();
    let keep = if held > size {
        0
    } else {
        held / GROUP_BYTES * GROUP_BYTES
    };
    file.set_len(keep)?;
    file.seek(SeekFrom::Start(keep))?;
    Ok((file, keep))
}

fn hash_file(path: &Path) -> std::io::Result<ContentId> {
    let mut file = File::open(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(ContentId::from_bytes(*hasher.finalize().as_bytes()));
        }
        hasher.update(&buffer[..n]);
    }
}

async fn connect_coordinator(plan: &FetchPlan) -> Result<Connection, ConnectError> {
    let addr = resolve(&plan.coordinator.host_port()).await?;
    let endpoint = client_endpoint(addr)?;
    connect(
        &endpoint,
        &plan.key,
        plan.coordinator.key,
        addr,
        COORDINATOR_TIMEOUT,
    )
    .await
}

/// A route per provider: its own endpoint when it answers, else the relay.
async fn routes(
    plan: &FetchPlan,
    coordinator: Option<&Connection>,
    progress: &dyn FetchProgress,
) -> Vec<Route> {
    let mut routes = Vec::new();
    for provider in &plan.providers {
        if let Some(addr) = provider.direct {
            let direct = async {
                let endpoint = client_endpoint(addr)?;
                connect(&endpoint, &plan.key, provider.node, addr, DIRECT_TIMEOUT).await
            };
            match direct.await {
                Ok(connection) => {
                    let route = Route::node(connection, provider.node);
                    routes.push(route.with_order(provider.order.clone()));
                    continue;
                }
                Err(e) => progress.note(&format!(
                    "node {} not reachable directly ({e}); using the relay",
                    provider.node.short()
                )),
            }
        }
        if let Some(coordinator) = coordinator {
            let route = Route::relay(coordinator.clone(), provider.node);
            routes.push(route.with_order(provider.order.clone()));
        }
    }
    routes
}
