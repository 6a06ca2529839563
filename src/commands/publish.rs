//! `idleshare publish FILE [--replicas N] [--wait]`: upload with progress, then (with
//! --wait) follow the copies onto nodes.

use std::io::Read;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use idleshare_protocol::ContentId;
use idleshare_protocol::api::PublishQuery;
use indicatif::{ProgressBar, ProgressStyle};

use crate::api_client::ApiClient;
use crate::cli::PublishArgs;

/// How often --wait asks how the copies are doing.
const POLL: Duration = Duration::from_millis(500);

pub fn run(args: PublishArgs) -> anyhow::Result<()> {
    let path = &args.file;
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    let name = match &args.name {
        Some(name) => name.clone(),
        None => path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let client = super::account::signed_client(&args.api)?;
    let limits = client.coordinator()?;
    if len > limits.max_publish_bytes {
        bail!(
            "{} is {len} bytes; this coordinator accepts at most {} bytes",
            path.display(),
            limits.max_publish_bytes
        );
    }
    let ours = hash(path, len)?;
    let bar = bytes_bar(len, "uploading");
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = bar.wrap_read(file);
    let query = PublishQuery {
        name: Some(name.clone()),
        replicas: args.replicas,
        days: args.days,
        serving_budget: args
            .serving_budget
            .as_deref()
            .map(super::account::parse_tokens)
            .transpose()?
            .map(|t| t.0),
    };
    let published = client.publish(&mut reader, len, ours, &query)?;
    bar.finish_and_clear();
    if published.id != ours {
        bail!(
            "the coordinator stored {} but the file hashes to {ours}",
            published.id
        );
    }
    let again = if published.new {
        ""
    } else {
        " (already published)"
    };
    println!("published {}{again}", published.id);
    println!("{len} bytes, {} copies wanted on nodes", published.replicas);
    if published.new {
        println!(
            "escrowed {} tokens for storage until {} (Unix ms), {} for anonymous fetches",
            published.storage_escrowed, published.paid_until_ms, published.serving_budget
        );
    }
    println!("fetch it with: idleshare fetch {} -o {name}", published.id);
    if args.wait {
        wait_for_copies(
            &client,
            &published.id,
            published.replicas,
            args.timeout_secs,
        )?;
    }
    Ok(())
}

/// The content id of the file, computed locally so the upload can be checked.
fn hash(path: &std::path::Path, len: u64) -> anyhow::Result<ContentId> {
    let bar = bytes_bar(len, "hashing");
    let mut file = bar.wrap_read(
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
    );
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).context("reading the file")?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    bar.finish_and_clear();
    Ok(ContentId::from_bytes(*hasher.finalize().as_bytes()))
}

fn wait_for_copies(
    client: &ApiClient,
    id: &ContentId,
    wanted: u8,
    timeout_secs: u64,
) -> anyhow::Result<()> {
    let bar = ProgressBar::new(u64::from(wanted)).with_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} copies")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("copying to nodes");
    let started = Instant::now();
    loop {
        let status = client.content_status(id)?;
        let stored = status.pins.iter().filter(|p| p.state == "stored").count() as u64;
        bar.set_position(stored);
        if stored >= u64::from(wanted) {
            bar.finish_and_clear();
            println!("stored on {stored} nodes");
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(timeout_secs) {
            bar.abandon();
            bail!("only {stored} of {wanted} copies stored after {timeout_secs} s");
        }
        std::thread::sleep(POLL);
    }
}

fn bytes_bar(len: u64, what: &str) -> ProgressBar {
    let style =
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar = ProgressBar::new(len).with_style(style);
    bar.set_message(what.to_owned());
    bar
}
