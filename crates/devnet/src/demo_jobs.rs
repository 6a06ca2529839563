//! Demo work for a local network: Mandelbrot frames, one tile per unit, submitted one frame
//! after another, so a local node visibly earns tokens; and a demo site in the edge cache,
//! read back through the gateway every few frames (see `demo_site`). One local node means
//! no one to compare with: the demo jobs ask for replication 1 and say so.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use idleshare_protocol::api::{ContentPublished, JobStatus, JobSubmitted};
use idleshare_protocol::{ContentId, JobLimits, JobSpec};
use workload_kernels::mandelbrot::Tile;

use crate::demo_site;
use ed25519_dalek::SigningKey;
use idleshare_coordinator::client::{ApiClient, ClientError};

/// The sample Mandelbrot module (built from `assets/workloads/mandelbrot`).
const MANDELBROT_WASM: &[u8] = include_bytes!("../../../assets/workloads/wasm/mandelbrot.wasm");
/// Tiles per side of a frame (so 16 units per job).
const TILES_PER_SIDE: u32 = 4;
/// Pixels per tile side.
const TILE_PIXELS: u32 = 96;
/// Iterations per pixel.
const MAX_ITERATIONS: u32 = 3000;
/// Pause between frames.
const BETWEEN_FRAMES: Duration = Duration::from_secs(2);
/// Pause after a failed frame before the next try.
const AFTER_FAILURE: Duration = Duration::from_secs(10);
/// The demo site is visited once every this many frames.
const FRAMES_PER_VISIT: u32 = 3;

/// What the feeder did, for a shell to print or show.
#[derive(Debug)]
pub enum DemoEvent {
    /// A frame was submitted as a job.
    Submitted(JobSubmitted),
    /// A frame's job finished.
    Finished(JobStatus),
    /// A frame failed; the feeder tries again shortly.
    Failed(ClientError),
    /// The demo site was published to the edge cache.
    SitePublished(ContentPublished),
    /// The demo site was read through the gateway (served by the node once it holds it).
    SiteVisited {
        /// Bytes read and checked.
        bytes: u64,
    },
}

/// Receives the feeder's events (on the feeder's thread).
pub type DemoObserver = Box<dyn Fn(DemoEvent) + Send>;

/// Feeds frames on its own thread until stopped (or dropped).
pub struct DemoFeeder {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DemoFeeder {
    /// Starts feeding the coordinator whose HTTP API is at `http`, as the customer whose
    /// account `key` signs for.
    pub fn start(
        http: SocketAddr,
        key: SigningKey,
        observer: DemoObserver,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("idleshare-demo-jobs".into())
            .spawn(move || feed(&ApiClient::at(http).with_key(key), &flag, &observer))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Asks the feeder to stop and waits for its thread (at most one HTTP call).
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for DemoFeeder {
    fn drop(&mut self) {
        // Without waiting: a drop may happen on an async runtime thread.
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn feed(api: &ApiClient, stop: &AtomicBool, observer: &DemoObserver) {
    let mut frame = 0u32;
    let mut site = None;
    while !stop.load(Ordering::Relaxed) {
        if frame.is_multiple_of(FRAMES_PER_VISIT) {
            site = tend_site(api, site, observer);
        }
        match run_frame(api, frame, stop, observer) {
            Ok(Some(status)) => observer(DemoEvent::Finished(status)),
            Ok(None) => return,
            Err(error) => {
                observer(DemoEvent::Failed(error));
                sleep_unless_stopped(AFTER_FAILURE, stop);
            }
        }
        frame = frame.wrapping_add(1);
        sleep_unless_stopped(BETWEEN_FRAMES, stop);
    }
}

/// Publishes the demo site if it is not yet, else visits it; returns its id once published.
fn tend_site(
    api: &ApiClient,
    site: Option<ContentId>,
    observer: &DemoObserver,
) -> Option<ContentId> {
    let Some(id) = site else {
        return match demo_site::publish(api) {
            Ok(published) => {
                let id = published.id;
                observer(DemoEvent::SitePublished(published));
                Some(id)
            }
            Err(error) => {
                observer(DemoEvent::Failed(error));
                None
            }
        };
    };
    match demo_site::visit(api, &id) {
        Ok(bytes) => observer(DemoEvent::SiteVisited { bytes }),
        Err(error) => observer(DemoEvent::Failed(error)),
    }
    Some(id)
}

/// Submits frame `frame` and waits for it; `None` when stopped first.
fn run_frame(
    api: &ApiClient,
    frame: u32,
    stop: &AtomicBool,
    observer: &DemoObserver,
) -> Result<Option<JobStatus>, ClientError> {
    let module = api.put_blob(MANDELBROT_WASM)?;
    let inputs = frame_tiles(frame)
        .iter()
        .map(|tile| api.put_blob(&tile.encode()))
        .collect::<Result<Vec<_>, _>>()?;
    let spec = JobSpec {
        module,
        entry: "run".into(),
        inputs,
        limits: JobLimits::default(),
        replication: 1,
    };
    let submitted = api.submit(&spec)?;
    let job = submitted.job;
    observer(DemoEvent::Submitted(submitted));
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let status = api.job_status(job)?;
        if status.finished {
            return Ok(Some(status));
        }
        sleep_unless_stopped(Duration::from_millis(500), stop);
    }
}

/// The tiles of frame `frame`: each frame zooms further into the seahorse valley.
fn frame_tiles(frame: u32) -> Vec<Tile> {
    let (centre_re, centre_im) = (-0.743_643_887, 0.131_825_904);
    let width = 3.0 * 0.7f64.powi((frame % 40) as i32);
    let step = width / f64::from(TILES_PER_SIDE * TILE_PIXELS);
    let (left, top) = (centre_re - width / 2.0, centre_im - width / 2.0);
    let mut tiles = Vec::new();
    for row in 0..TILES_PER_SIDE {
        for column in 0..TILES_PER_SIDE {
            tiles.push(Tile {
                width: TILE_PIXELS,
                height: TILE_PIXELS,
                max_iterations: MAX_ITERATIONS,
                re_min: left + f64::from(column * TILE_PIXELS) * step,
                im_min: top + f64::from(row * TILE_PIXELS) * step,
                step,
            });
        }
    }
    tiles
}

fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) {
    let until = Instant::now() + total;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_sixteen_valid_tiles_that_zoom_in() {
        let first = frame_tiles(0);
        assert_eq!(first.len(), 16);
        for tile in &first {
            assert_eq!(Tile::parse(&tile.encode()), Some(*tile));
        }
        assert!(frame_tiles(5)[0].step < first[0].step);
    }

    #[test]
    fn the_embedded_module_fits_the_abi() {
        assert_eq!(
            idleshare_protocol::abi::check_module(MANDELBROT_WASM, "run"),
            Ok(())
        );
    }
}
