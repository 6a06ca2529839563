//! Demo jobs for the devnet: Mandelbrot frames, one tile per unit, submitted one frame after
//! another, so a local node visibly earns tokens. One local node means no one to compare
//! with: the demo jobs ask for replication 1 and say so.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use idleshare_protocol::api::JobStatus;
use idleshare_protocol::{JobLimits, JobSpec};
use workload_kernels::mandelbrot::Tile;

use crate::api_client::ApiClient;

/// The sample Mandelbrot module (built from `assets/workloads/mandelbrot`).
const MANDELBROT_WASM: &[u8] = include_bytes!("../../assets/workloads/wasm/mandelbrot.wasm");
/// Tiles per side of a frame (so 16 units per job).
const TILES_PER_SIDE: u32 = 4;
/// Pixels per tile side.
const TILE_PIXELS: u32 = 96;
/// Iterations per pixel.
const MAX_ITERATIONS: u32 = 3000;

/// Feeds frames to the coordinator at `http` until `stop` is set, printing each result.
pub fn feed(http: SocketAddr, stop: Arc<AtomicBool>) {
    let client = ApiClient::new(&format!("http://{http}"));
    let mut frame = 0u32;
    while !stop.load(Ordering::Relaxed) {
        match run_frame(&client, frame, &stop) {
            Ok(Some(status)) => println!(
                "devnet: demo {} done: {} tiles, fuel {}, paid {} tokens",
                status.job, status.units.done, status.fuel, status.paid
            ),
            Ok(None) => return,
            Err(error) => {
                eprintln!("devnet: demo job failed: {error:#}");
                sleep_unless_stopped(Duration::from_secs(10), &stop);
            }
        }
        frame += 1;
        sleep_unless_stopped(Duration::from_secs(2), &stop);
    }
}

/// Submits frame `frame` and waits for it; `None` when stopped first.
fn run_frame(
    client: &ApiClient,
    frame: u32,
    stop: &AtomicBool,
) -> anyhow::Result<Option<JobStatus>> {
    let module = client.put_blob(MANDELBROT_WASM)?;
    let inputs = frame_tiles(frame)
        .iter()
        .map(|tile| client.put_blob(&tile.encode()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let spec = JobSpec {
        module,
        entry: "run".into(),
        inputs,
        limits: JobLimits::default(),
        replication: 1,
    };
    let submitted = client.submit(&spec)?;
    println!(
        "devnet: submitted demo {} ({} Mandelbrot tiles; replication 1: a local network of one node)",
        submitted.job, submitted.units
    );
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let status = client.status(submitted.job)?;
        if status.finished {
            return Ok(Some(status));
        }
        std::thread::sleep(Duration::from_millis(500));
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
    let until = std::time::Instant::now() + total;
    while std::time::Instant::now() < until && !stop.load(Ordering::Relaxed) {
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
