//! `idleshare bench cache`: the edge cache over loopback QUIC with real TLS, in one process.
//!
//! A small server loop answers cache streams the way a node does (request frame →
//! `store.reader` → `send_range`, which checks every group on the way out) from a real
//! `ContentStore` in a scratch directory, on an endpoint from `server_endpoint`. Clients dial
//! it with `connect` and fetch with `fetch_range`, which checks every group as it arrives.
//! The node's policy (activity, stream permits, receipts) is left out: this measures the
//! serving path, not the decision to serve.
//!
//! 1. Throughput: the same N bytes fetched whole through the cache, and sent by a raw
//!    baseline on a second endpoint of the same kind (same TLS, same transport limits) that
//!    writes them from memory in 256 KiB chunks to a client that reads and discards them.
//!    Transfers alternate, so drifting load hits both alike; medians are compared. The
//!    process's CPU time per transfer (both ends) is compared too: on a shared machine it
//!    moves less than wall time.
//! 2. Time to first byte on a cache hit: one-group ranges at random offsets on an open
//!    connection, request sent → answer header; beside it the same round trip on the raw
//!    baseline (request → first byte of a 16 KiB answer).
//! 3. Many clients at once, each with its own key, endpoint and connection, fetching a random
//!    1 MiB range of a 4 MiB item; every byte is compared with the source. The same crowd
//!    then reads 1 MiB each from the raw baseline. UDP receive-buffer drops are counted
//!    alongside: on loopback they, and the loss recovery they start, set the slowest times.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use ed25519_dalek::SigningKey;
use idleshare_base::clock::unix_ms;
use idleshare_cache::store::disk_bytes;
use idleshare_cache::{
    ContentStore, FetchOptions, Pacer, Piece, Route, client_endpoint, connect, fetch_range,
    send_range, server_endpoint,
};
use idleshare_protocol::cache::{CacheRequest, CacheResponse, MAX_CACHE_FRAME_LEN};
use idleshare_protocol::tree::{ByteRange, GROUP_BYTES, TreeShape};
use idleshare_protocol::{ContentId, NodeId};
use idleshare_transport::{recv_frame, send_frame};
use quinn::{Connection, Endpoint, RecvStream, SendStream};
use rand::{Rng, RngCore};
use serde_json::json;
use tokio::sync::Barrier;
use tokio::task::JoinHandle;

use super::process::ScratchDir;
use super::stats::{Summary, ms, print_json_line, ratio};
use crate::args::CacheBenchArgs;

const GOAL_RATIO: f64 = 0.8;
const GOAL_TTFB_P50: Duration = Duration::from_millis(2);
/// Write size of the raw baseline, and its client's read buffer.
const RAW_CHUNK: usize = 256 * 1024;
/// The item the concurrent clients fetch from, and the range each takes.
const CROWD_ITEM: usize = 4 << 20;
const CROWD_RANGE: u64 = 1 << 20;
/// A transfer with nothing arriving for this long has failed.
const STALL: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Errors printed in full (the rest are only counted).
const SHOWN_ERRORS: usize = 5;

/// Stored content and its bytes, to compare against.
struct Item {
    id: ContentId,
    bytes: Arc<Vec<u8>>,
}

impl Item {
    fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
}

/// Where clients dial: the server's pinned key and its two endpoints.
#[derive(Clone, Copy)]
struct Target {
    server: NodeId,
    cache: SocketAddr,
    raw: SocketAddr,
}

/// The in-process server: a cache endpoint over the store and a raw endpoint over memory.
struct BenchServer {
    target: Target,
    endpoints: [Endpoint; 2],
    accepts: [JoinHandle<()>; 2],
    failures: Arc<AtomicU64>,
}

impl BenchServer {
    fn start(store: Arc<ContentStore>, raw_source: Arc<Vec<u8>>) -> anyhow::Result<Self> {
        let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let cache = server_endpoint(&key, listen).context("cannot open the cache endpoint")?;
        let raw = server_endpoint(&key, listen).context("cannot open the raw endpoint")?;
        let target = Target {
            server: NodeId::from(key.verifying_key()),
            cache: cache.local_addr()?,
            raw: raw.local_addr()?,
        };
        let failures = Arc::new(AtomicU64::new(0));
        let pacer = Arc::new(Pacer::new(None));
        let serve_cache = move |send, recv| {
            let (store, pacer) = (store.clone(), pacer.clone());
            async move { serve_cache_stream(&store, &pacer, send, recv).await }
        };
        let serve_raw = move |send, recv| {
            let source = raw_source.clone();
            async move { serve_raw_stream(&source, send, recv).await }
        };
        let accepts = [
            tokio::spawn(accept(cache.clone(), failures.clone(), serve_cache)),
            tokio::spawn(accept(raw.clone(), failures.clone(), serve_raw)),
        ];
        Ok(Self {
            target,
            endpoints: [cache, raw],
            accepts,
            failures,
        })
    }

    fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        for endpoint in &self.endpoints {
            endpoint.close(0u32.into(), b"bench over");
        }
        for task in &self.accepts {
            task.abort();
        }
    }
}

/// Accepts connections and serves each of their streams with `serve` in its own task.
async fn accept<F, Fut>(endpoint: Endpoint, failures: Arc<AtomicU64>, serve: F)
where
    F: Fn(SendStream, RecvStream) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    while let Some(incoming) = endpoint.accept().await {
        let (failures, serve) = (failures.clone(), serve.clone());
        tokio::spawn(async move {
            let Ok(connection) = incoming.await else {
                failures.fetch_add(1, Ordering::Relaxed);
                return;
            };
            while let Ok((send, recv)) = connection.accept_bi().await {
                let (failures, serve) = (failures.clone(), serve.clone());
                tokio::spawn(async move {
                    if let Err(e) = serve(send, recv).await {
                        failures.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!("bench cache server: {e:#}");
                    }
                });
            }
        });
    }
}

/// A node's answer to a range request, without its policy: request → reader → `send_range`.
async fn serve_cache_stream(
    store: &ContentStore,
    pacer: &Pacer,
    mut send: SendStream,
    mut recv: RecvStream,
) -> anyhow::Result<()> {
    let request = recv_frame::<CacheRequest>(&mut recv, MAX_CACHE_FRAME_LEN);
    let request = tokio::time::timeout(REQUEST_TIMEOUT, request)
        .await
        .context("no request in time")??;
    let Some(CacheRequest::Range(request)) = request else {
        let message = "this bench serves ranges only".to_owned();
        send_frame(&mut send, &CacheResponse::Refused { message }).await?;
        bail!("a request other than a range");
    };
    let Some(reader) = store.reader(&request.content, unix_ms())? else {
        send_frame(&mut send, &CacheResponse::NotFound).await?;
        bail!("{} is not stored", request.content.short());
    };
    send_range(reader, request, &mut send, pacer).await?;
    Ok(())
}

/// The raw baseline: the client asks for a length (8 bytes, little-endian); that many bytes
/// of the source go back in `RAW_CHUNK` writes.
async fn serve_raw_stream(
    source: &[u8],
    mut send: SendStream,
    mut recv: RecvStream,
) -> anyhow::Result<()> {
    let mut wanted = [0u8; 8];
    tokio::time::timeout(REQUEST_TIMEOUT, recv.read_exact(&mut wanted))
        .await
        .context("no request in time")??;
    let len = usize::try_from(u64::from_le_bytes(wanted)).map_or(source.len(), |len| len);
    for chunk in source[..len.min(source.len())].chunks(RAW_CHUNK) {
        send.write_all(chunk).await?;
    }
    send.finish()?;
    Ok(())
}

pub async fn run(args: CacheBenchArgs) -> anyhow::Result<()> {
    let size = args.mib << 20;
    let scratch = ScratchDir::new("cache")?;
    println!(
        "bench cache: loopback QUIC + TLS in one process; store in {}",
        scratch.path().display()
    );
    let store_dir = scratch.path().join("store");
    let (store, big, crowd_item) = tokio::task::spawn_blocking(move || {
        let quota = 2 * (disk_bytes(size) + disk_bytes(CROWD_ITEM as u64));
        let store = ContentStore::open(&store_dir, quota).context("cannot open the store")?;
        let big = store_random(&store, size as usize, "big")?;
        let small = store_random(&store, CROWD_ITEM, "small")?;
        anyhow::Ok((store, big, small))
    })
    .await??;
    let server = BenchServer::start(store, big.bytes.clone())?;
    let mut results = json!({ "bench": "cache", "mib": args.mib, "reps": args.reps });

    let (endpoint, cache, raw) = dial_both(server.target).await?;
    println!(
        "(1) {} MiB fetched whole, verified by server and client, vs raw quinn from memory; median of {}",
        args.mib, args.reps
    );
    let (cache_time, raw_time) = throughput(&cache, &raw, &big, args.reps as usize).await?;
    merge(
        &mut results,
        report_throughput(size, &cache_time, &raw_time),
    );
    println!(
        "(2) cache-hit time to first byte: {} one-group ranges at random offsets, open connection",
        args.ttfb_requests
    );
    let (ttfb, raw_ttfb) = time_to_first_byte(&cache, &raw, &big, args.ttfb_requests).await?;
    merge(&mut results, report_ttfb(&ttfb, &raw_ttfb));
    cache.connection.close(0u32.into(), b"done");
    raw.close(0u32.into(), b"done");
    endpoint.wait_idle().await;

    println!(
        "(3) {} clients at once, own key, endpoint and connection each, a random 1 MiB of a 4 MiB item",
        args.clients
    );
    let clients = args.clients as usize;
    let cache_crowd = run_crowd(server.target, &crowd_item, clients, Sender::Cache).await;
    let raw_crowd = run_crowd(server.target, &crowd_item, clients, Sender::Raw).await;
    merge(&mut results, report_crowds(&cache_crowd, &raw_crowd));
    println!("server-side stream failures: {}", server.failures());
    results["server_errors"] = json!(server.failures());
    print_json_line(&results);
    Ok(())
}

/// Prints the throughput figures; returns their JSON fields.
fn report_throughput(size: u64, cache: &Costs, raw: &Costs) -> serde_json::Value {
    let (cache_mb_per_s, raw_mb_per_s) =
        (mb_per_s(size, cache.wall.p50), mb_per_s(size, raw.wall.p50));
    // Speed ratios are time ratios turned over: raw time ÷ cache time.
    let ratio_vs_raw = ratio(raw.wall.p50, cache.wall.p50);
    let best_ratio = ratio(raw.wall.min, cache.wall.min);
    println!(
        "  cache path: {cache_mb_per_s:>7.1} MB/s   {}",
        cache.wall.line()
    );
    println!(
        "  raw quinn:  {raw_mb_per_s:>7.1} MB/s   {}",
        raw.wall.line()
    );
    println!(
        "  cache speed = {} × raw (best runs: {}); goal ≥ {GOAL_RATIO}: {}",
        show(ratio_vs_raw),
        show(best_ratio),
        met(ratio_vs_raw.is_some_and(|r| r >= GOAL_RATIO))
    );
    // CPU is steadier than wall time on a shared machine: other load stretches both alike.
    let cpu = cache.cpu.zip(raw.cpu);
    let cpu_ratio = cpu.and_then(|(cache, raw)| ratio(cache.p50, raw.p50));
    if let Some((cache_cpu, raw_cpu)) = cpu {
        println!(
            "  CPU per transfer, whole process (both ends): cache {:.0} ms, raw {:.0} ms: {} × raw",
            ms(cache_cpu.p50),
            ms(raw_cpu.p50),
            show(cpu_ratio)
        );
    }
    json!({
        "cache_mb_per_s": round1(cache_mb_per_s),
        "raw_mb_per_s": round1(raw_mb_per_s),
        "ratio_vs_raw_quinn": ratio_vs_raw,
        "best_ratio_vs_raw_quinn": best_ratio,
        "goal_ratio": GOAL_RATIO,
        "cache_cpu_ms": cpu.map(|(cache, _)| ms(cache.p50)),
        "raw_cpu_ms": cpu.map(|(_, raw)| ms(raw.p50)),
        "cpu_ratio_vs_raw_quinn": cpu_ratio,
    })
}

/// Prints the time-to-first-byte figures; returns their JSON fields.
fn report_ttfb(cache: &Latencies, raw: &Latencies) -> serde_json::Value {
    println!(
        "  cache header: {}  p90 {:.2} ms",
        cache.line(),
        ms(cache.p90)
    );
    println!("  raw answer:   {}  p90 {:.2} ms", raw.line(), ms(raw.p90));
    println!(
        "  ratio p50 cache / raw: {}; goal p50 ≤ {} ms: {}",
        show(ratio(cache.summary.p50, raw.summary.p50)),
        GOAL_TTFB_P50.as_millis(),
        met(cache.summary.p50 <= GOAL_TTFB_P50)
    );
    json!({
        "ttfb_requests": cache.summary.count,
        "ttfb_p50_ms": ms(cache.summary.p50),
        "ttfb_p90_ms": ms(cache.p90),
        "ttfb_p99_ms": ms(cache.summary.p99),
        "raw_ttfb_p50_ms": ms(raw.summary.p50),
        "raw_ttfb_p99_ms": ms(raw.summary.p99),
        "goal_ttfb_p50_ms": ms(GOAL_TTFB_P50),
    })
}

/// Prints what the concurrent clients did; returns the JSON fields.
fn report_crowds(cache: &Crowd, raw: &Crowd) -> serde_json::Value {
    for (label, crowd) in [("cache", cache), ("raw  ", raw)] {
        println!(
            "  {label}: connected in {:.2} s; {:.1} MiB in {:.2} s: {:.1} MB/s in all; errors {}; UDP drops {}",
            crowd.connected.as_secs_f64(),
            crowd.bytes as f64 / (1 << 20) as f64,
            crowd.took.as_secs_f64(),
            crowd.mb_per_s(),
            crowd.errors.len(),
            crowd.udp_drops.map_or("n/a".into(), |n| n.to_string()),
        );
        if let Some(each) = &crowd.each {
            println!("         per client: {}", each.line());
        }
        for error in crowd.errors.iter().take(SHOWN_ERRORS) {
            println!("         {error}");
        }
    }
    let ratio_vs_raw = ratio(raw.took, cache.took);
    println!(
        "  cache speed = {} × raw; errors {} (goal 0): {}",
        show(ratio_vs_raw),
        cache.errors.len(),
        met(cache.errors.is_empty())
    );
    json!({
        "clients": cache.clients,
        "errors": cache.errors.len(),
        "concurrent_seconds": (cache.took.as_secs_f64() * 1000.0).round() / 1000.0,
        "concurrent_mb_per_s": round1(cache.mb_per_s()),
        "concurrent_client_p50_ms": cache.each.map(|s| ms(s.p50)),
        "concurrent_client_p99_ms": cache.each.map(|s| ms(s.p99)),
        "concurrent_raw_mb_per_s": round1(raw.mb_per_s()),
        "concurrent_raw_errors": raw.errors.len(),
        "concurrent_ratio_vs_raw_quinn": ratio_vs_raw,
        "concurrent_udp_drops": cache.udp_drops,
        "concurrent_raw_udp_drops": raw.udp_drops,
    })
}

/// Adds the fields of `more` (an object) to `results`.
fn merge(results: &mut serde_json::Value, more: serde_json::Value) {
    if let (Some(results), serde_json::Value::Object(more)) = (results.as_object_mut(), more) {
        results.extend(more);
    }
}

/// Stores `len` random bytes the way a publisher's origin copy arrives (`import`).
fn store_random(store: &Arc<ContentStore>, len: usize, name: &str) -> anyhow::Result<Item> {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    let path = store.dir().join(format!("incoming-{name}"));
    std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    let id = store.import(&path, unix_ms())?;
    Ok(Item {
        id,
        bytes: Arc::new(bytes),
    })
}

/// A fresh client key and endpoint, and a connection to `addr`.
async fn dial(target: Target, addr: SocketAddr) -> anyhow::Result<(Endpoint, Connection)> {
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let endpoint = client_endpoint(addr)?;
    let connection = connect(&endpoint, &key, target.server, addr, CONNECT_TIMEOUT).await?;
    Ok((endpoint, connection))
}

/// One client endpoint with a cache route and a raw connection to the server.
async fn dial_both(target: Target) -> anyhow::Result<(Endpoint, Route, Connection)> {
    let (endpoint, cache) = dial(target, target.cache).await?;
    let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let raw = connect(&endpoint, &key, target.server, target.raw, CONNECT_TIMEOUT).await?;
    Ok((endpoint, Route::node(cache, target.server), raw))
}

/// Wall and CPU times of one kind of transfer.
struct Costs {
    wall: Summary,
    /// Whole-process CPU (both ends, every thread); `None` off Linux.
    cpu: Option<Summary>,
}

/// Alternating whole fetches through the cache and the raw baseline, after one small
/// untimed transfer of each (handshake leftovers, first allocations). Returns the cache's
/// costs, then the baseline's.
async fn throughput(
    cache: &Route,
    raw: &Connection,
    item: &Item,
    reps: usize,
) -> anyhow::Result<(Costs, Costs)> {
    let whole = ByteRange::whole(item.size());
    let warm_up = ByteRange {
        start: 0,
        end: item.size().min(4 << 20),
    };
    fetch_discarding(cache, item, warm_up).await?;
    raw_fetch(raw, warm_up.len()).await?;
    let (mut cache_wall, mut raw_wall) = (Vec::new(), Vec::new());
    let (mut cache_cpu, mut raw_cpu) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let cpu = process_cpu();
        cache_wall.push(fetch_discarding(cache, item, whole).await?.total);
        cache_cpu.extend(cpu_since(cpu));
        let cpu = process_cpu();
        raw_wall.push(raw_fetch(raw, item.size()).await?.1);
        raw_cpu.extend(cpu_since(cpu));
    }
    let costs = |wall: &[Duration], cpu: &[Duration]| {
        anyhow::Ok(Costs {
            wall: Summary::of(wall).context("no transfers")?,
            cpu: Summary::of(cpu),
        })
    };
    Ok((costs(&cache_wall, &cache_cpu)?, costs(&raw_wall, &raw_cpu)?))
}

/// CPU time this process has used, every thread (live and exited), from `/proc/self/stat`
/// (in ticks of 10 ms: Linux's USER_HZ); `None` where there is no such file.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, from field 3 (state): utime is field 14, stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |at: usize| fields.get(at)?.parse::<u64>().ok();
    Some(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
}

fn cpu_since(before: Option<Duration>) -> Option<Duration> {
    Some(process_cpu()?.saturating_sub(before?))
}

/// A verified fetch whose content is counted and dropped.
async fn fetch_discarding(
    route: &Route,
    item: &Item,
    range: ByteRange,
) -> anyhow::Result<idleshare_cache::Transfer> {
    let mut content = 0u64;
    let options = FetchOptions {
        stall: STALL,
        pacer: None,
    };
    let transfer = fetch_range(route, item.id, item.size(), range, options, |piece| {
        if let Piece::Content { bytes, .. } = piece {
            content += bytes.len() as u64;
        }
        Ok(())
    })
    .await?;
    ensure!(
        content == range.len(),
        "got {content} of {} bytes",
        range.len()
    );
    Ok(transfer)
}

/// The raw baseline: `len` bytes read and discarded; (first byte, total), from the stream's
/// opening.
async fn raw_fetch(connection: &Connection, len: u64) -> anyhow::Result<(Duration, Duration)> {
    let exchange = async {
        let started = Instant::now();
        let (mut send, mut recv) = connection.open_bi().await?;
        send.write_all(&len.to_le_bytes()).await?;
        send.finish()?;
        let mut buffer = vec![0u8; RAW_CHUNK];
        let (mut received, mut first_byte) = (0u64, None);
        while let Some(n) = recv.read(&mut buffer).await? {
            first_byte.get_or_insert_with(|| started.elapsed());
            received += n as u64;
        }
        ensure!(received == len, "raw: got {received} of {len} bytes");
        Ok((first_byte.unwrap_or_default(), started.elapsed()))
    };
    tokio::time::timeout(STALL, exchange)
        .await
        .context("raw transfer stalled")?
}

/// A summary with the 90th percentile the shared `Summary` leaves out.
struct Latencies {
    summary: Summary,
    p90: Duration,
}

impl Latencies {
    fn of(samples: &[Duration]) -> anyhow::Result<Self> {
        let summary = Summary::of(samples).context("no samples")?;
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let rank = (0.9 * sorted.len() as f64).ceil() as usize;
        let p90 = sorted[rank.clamp(1, sorted.len()) - 1];
        Ok(Self { summary, p90 })
    }

    fn line(&self) -> String {
        self.summary.line()
    }
}

/// Alternating one-group requests to the cache and to the raw baseline.
async fn time_to_first_byte(
    cache: &Route,
    raw: &Connection,
    item: &Item,
    requests: u64,
) -> anyhow::Result<(Latencies, Latencies)> {
    let groups = TreeShape::new(item.size()).groups();
    let (mut cache_times, mut raw_times) = (Vec::new(), Vec::new());
    for _ in 0..requests {
        let group = rand::rng().random_range(0..groups);
        let start = group * GROUP_BYTES;
        let range = ByteRange {
            start,
            end: (start + GROUP_BYTES).min(item.size()),
        };
        cache_times.push(fetch_discarding(cache, item, range).await?.first_byte);
        raw_times.push(raw_fetch(raw, GROUP_BYTES).await?.0);
    }
    Ok((Latencies::of(&cache_times)?, Latencies::of(&raw_times)?))
}

/// Who sends the concurrent clients their bytes: the cache, or the raw baseline.
#[derive(Clone, Copy)]
enum Sender {
    Cache,
    Raw,
}

/// What the concurrent clients did.
struct Crowd {
    clients: usize,
    connected: Duration,
    took: Duration,
    bytes: u64,
    each: Option<Summary>,
    errors: Vec<String>,
    /// Datagrams dropped for full UDP receive buffers meanwhile (machine-wide).
    udp_drops: Option<u64>,
}

impl Crowd {
    fn mb_per_s(&self) -> f64 {
        mb_per_s(self.bytes, self.took)
    }
}

/// `clients` tasks dial at once, wait for each other, then fetch (and, through the cache,
/// compare) 1 MiB each.
async fn run_crowd(target: Target, item: &Item, clients: usize, kind: Sender) -> Crowd {
    let ranges: Vec<ByteRange> = {
        let mut rng = rand::rng();
        (0..clients)
            .map(|_| {
                let start = rng.random_range(0..=item.size() - CROWD_RANGE);
                ByteRange {
                    start,
                    end: start + CROWD_RANGE,
                }
            })
            .collect()
    };
    let barrier = Arc::new(Barrier::new(clients + 1));
    let drops_before = udp_receive_drops();
    let started = Instant::now();
    let tasks: Vec<_> = ranges
        .into_iter()
        .map(|range| {
            let barrier = barrier.clone();
            let item = Item {
                id: item.id,
                bytes: item.bytes.clone(),
            };
            tokio::spawn(async move {
                let addr = match kind {
                    Sender::Cache => target.cache,
                    Sender::Raw => target.raw,
                };
                let dialled = dial(target, addr).await;
                // Every task reaches the barrier, failed or not, or the others wait forever.
                barrier.wait().await;
                let (_endpoint, connection) = dialled?;
                let started = Instant::now();
                match kind {
                    Sender::Cache => fetch_and_compare(&connection, target, &item, range).await?,
                    Sender::Raw => {
                        raw_fetch(&connection, range.len()).await?;
                    }
                }
                let took = started.elapsed();
                connection.close(0u32.into(), b"done");
                anyhow::Ok(took)
            })
        })
        .collect();
    barrier.wait().await;
    let connected = started.elapsed();
    let started = Instant::now();
    let (mut each, mut errors) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await {
            Ok(Ok(took)) => each.push(took),
            Ok(Err(e)) => errors.push(format!("{e:#}")),
            Err(e) => errors.push(format!("client task failed: {e}")),
        }
    }
    Crowd {
        clients,
        connected,
        took: started.elapsed(),
        bytes: each.len() as u64 * CROWD_RANGE,
        each: Summary::of(&each),
        errors,
        udp_drops: udp_receive_drops()
            .zip(drops_before)
            .map(|(after, before)| after.saturating_sub(before)),
    }
}

/// A verified fetch of `range`, compared byte for byte with the source.
async fn fetch_and_compare(
    connection: &Connection,
    target: Target,
    item: &Item,
    range: ByteRange,
) -> anyhow::Result<()> {
    let route = Route::node(connection.clone(), target.server);
    let got = fetch_copy(&route, item, range).await?;
    let want = &item.bytes[range.start as usize..range.end as usize];
    ensure!(got == want, "bytes differ from the source in {range:?}");
    Ok(())
}

/// Datagrams the kernel dropped because a UDP receive buffer was full, machine-wide (Linux
/// `/proc/net/snmp`); `None` elsewhere. Drops on loopback end in loss recovery, whose
/// timers, not the cache, then set the slowest clients' times.
fn udp_receive_drops() -> Option<u64> {
    let snmp = std::fs::read_to_string("/proc/net/snmp").ok()?;
    let mut udp = snmp.lines().filter(|line| line.starts_with("Udp:"));
    let (names, values) = (udp.next()?, udp.next()?);
    let at = names
        .split_whitespace()
        .position(|name| name == "RcvbufErrors")?;
    values.split_whitespace().nth(at)?.parse().ok()
}

/// A verified fetch of `range` into memory.
async fn fetch_copy(route: &Route, item: &Item, range: ByteRange) -> anyhow::Result<Vec<u8>> {
    let mut copy = vec![0u8; range.len() as usize];
    let options = FetchOptions {
        stall: STALL,
        pacer: None,
    };
    fetch_range(route, item.id, item.size(), range, options, |piece| {
        let Piece::Content { at, bytes } = piece else {
            return Ok(());
        };
        let from = (at.start - range.start) as usize;
        // The decoder only hands out checked pieces of the range it was asked for.
        copy[from..from + bytes.len()].copy_from_slice(bytes);
        Ok(())
    })
    .await?;
    Ok(copy)
}

fn mb_per_s(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / 1e6 / took.as_secs_f64().max(1e-9)
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn show(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}"))
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}
