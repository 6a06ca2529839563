//! `idleshare fetch CID -o FILE`: from the nodes that hold it, verified, resumable.

use std::time::Duration;

use anyhow::Context;
use idleshare_cache::DownloadConfig;
use idleshare_cache::client::{FetchPlan, FetchProgress, fetch_to_file};
use idleshare_protocol::ContentId;
use idleshare_protocol::api::{
    BadDataReport, ContentOrders, ContentStatus, CoordinatorInfo, OrdersRequest,
};
use indicatif::{ProgressBar, ProgressStyle};

use crate::api_client::ApiClient;
use crate::cli::FetchArgs;

pub async fn run(args: FetchArgs) -> anyhow::Result<()> {
    let content: ContentId = args
        .content
        .parse()
        .with_context(|| format!("{:?} is not a content id", args.content))?;
    let client = super::account::signed_client(&args.api)?;
    let key = client.signing_key().context("no account key")?.clone();
    let (status, orders, info) = tokio::task::spawn_blocking({
        move || -> anyhow::Result<(ContentStatus, ContentOrders, CoordinatorInfo)> {
            let status = client.content_status(&content)?;
            // Order limits for every provider, escrowed from this account: the nodes serve
            // only under them and are paid from them.
            let orders = client
                .content_orders(&content, &OrdersRequest::default())
                .context("cannot get order limits (does your account have tokens? see `idleshare account`)")?;
            Ok((status, orders, client.coordinator()?))
        }
    })
    .await??;
    if !orders.providers.is_empty() {
        println!(
            "escrowed {} tokens for {} provider(s); what is not served comes back when the orders expire",
            orders.escrowed,
            orders.providers.len()
        );
    }
    let plan = FetchPlan {
        content,
        size: status.size,
        providers: orders.providers.clone(),
        coordinator: info.address,
        key,
        out: args.out.clone(),
        config: DownloadConfig {
            segment: args.segment_kib * 1024,
            stall: super::seconds("--stall-secs", args.stall_secs)?,
            ..DownloadConfig::default()
        },
    };
    println!(
        "fetching {} ({} bytes) from {} provider(s)",
        status.name,
        status.size,
        orders.providers.len()
    );
    let progress = Progress::new(status.size);
    let result = fetch_to_file(plan, &progress).await;
    progress.bar.finish_and_clear();
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            return Err(e).context("fetch failed (what arrived is kept; run it again to resume)");
        }
    };
    for bad in &report.bad_data {
        println!(
            "node {} sent bad data at byte {}; reported",
            bad.node.short(),
            bad.offset
        );
        let report = BadDataReport {
            node: bad.node,
            offset: bad.offset,
            detail: bad.detail.clone(),
        };
        let client = ApiClient::new(&args.api.api);
        let sent =
            tokio::task::spawn_blocking(move || client.report_bad_data(&content, &report)).await?;
        if let Err(e) = sent {
            eprintln!("warning: the report did not reach the coordinator: {e}");
        }
    }
    if report.resumed_from > 0 {
        println!("resumed at byte {}", report.resumed_from);
    }
    for (source, bytes) in &report.sources {
        println!("  {bytes} bytes from {source}");
    }
    println!("verified {} bytes into {}", report.size, args.out.display());
    Ok(())
}

struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new(total: u64) -> Self {
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::new(total).with_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
        Self { bar }
    }
}

impl Progress {
    /// A line above the bar (printed even when there is no terminal to draw the bar on).
    fn say(&self, line: &str) {
        self.bar.suspend(|| eprintln!("{line}"));
    }
}

impl FetchProgress for Progress {
    fn started(&self, from: u64, _total: u64, providers: &[String]) {
        if from > 0 {
            self.say(&format!("resuming at byte {from}"));
        }
        self.bar.set_position(from);
        self.say(&format!(
            "providers, fastest first: {}",
            providers.join(", ")
        ));
    }

    fn advanced(&self, done: u64, source: &str) {
        self.bar.set_position(done);
        self.bar.set_message(source.to_owned());
    }

    fn note(&self, line: &str) {
        self.say(line);
    }
}
