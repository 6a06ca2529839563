//! `idleshare node status`: the live snapshot and decision of a running node.

use std::fmt::Write;

use anyhow::Context;
use idleshare_base::clock::unix_ms;
use idleshare_node::monitor::Snapshot;
use idleshare_node::policy::Decision;
use idleshare_node::status_file::{StatusFile, read_status_file};
use idleshare_protocol::NodeActivity;

use crate::cli::NodeStatusArgs;

/// A status older than this means the node is not running (it rewrites every 5 s).
const STALE_AFTER_MS: u64 = 15_000;

pub fn print(args: NodeStatusArgs) -> anyhow::Result<()> {
    let data_dir = super::data_dir(args.data, "node")?;
    let file = read_status_file(&data_dir).context("cannot read the node status")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&file)?);
    } else {
        print!("{}", render(&file, unix_ms()));
    }
    Ok(())
}

/// The status as lines for people.
pub fn render(file: &StatusFile, now_ms: u64) -> String {
    let status = &file.status;
    let mut out = String::new();
    let age_ms = now_ms.saturating_sub(file.written_at_ms);
    if age_ms > STALE_AFTER_MS {
        let _ = writeln!(
            out,
            "node not running (pid {} last wrote its status {} s ago); last known state:",
            file.pid,
            age_ms / 1000
        );
    }
    let _ = writeln!(out, "node        {}", status.node_id);
    let _ = writeln!(out, "key         {}", status.key_storage);
    let _ = writeln!(out, "coordinator {}", status.coordinator);
    let _ = writeln!(out, "connection  {}", status.summary());
    let _ = writeln!(
        out,
        "decision    {}",
        decision_line(status.decision.as_ref())
    );
    match &status.snapshot {
        Some(snapshot) => render_snapshot(&mut out, snapshot),
        None => out.push_str("resources   not sampled yet\n"),
    }
    let _ = writeln!(
        out,
        "work        {} units held, {} reported, {} given back",
        status.work.held, status.work.reported, status.work.abandoned
    );
    let _ = writeln!(
        out,
        "earnings    {} tokens in {} receipts",
        status.earnings.balance, status.earnings.receipts
    );
    let cache = &status.cache;
    let _ = writeln!(
        out,
        "cache       {} of {} in {} items; {} served, {} tokens earned serving; now {}/s up, {}/s down",
        bytes(cache.used_bytes),
        bytes(cache.quota_bytes),
        cache.items,
        bytes(cache.served_bytes),
        cache.earned_serving,
        bytes(cache.traffic.upload_bytes_per_sec),
        bytes(cache.traffic.download_bytes_per_sec)
    );
    if let Some(bandwidth) = status.bandwidth {
        let _ = writeln!(
            out,
            "bandwidth   {:.1} Mbit/s down, {:.1} Mbit/s up, rtt {:.2} ms",
            bandwidth.download_kbps as f64 / 1000.0,
            bandwidth.upload_kbps as f64 / 1000.0,
            bandwidth.rtt_us as f64 / 1000.0
        );
    }
    out
}

fn decision_line(decision: Option<&Decision>) -> String {
    decision.map_or_else(
        || "not decided yet".into(),
        |decision| NodeActivity::from(decision).to_string(),
    )
}

fn render_snapshot(out: &mut String, snapshot: &Snapshot) {
    let sources = &snapshot.sources;
    let unknown = |source: &str| format!("unknown ({source})");
    let cpu = snapshot.cpu.as_ref().map_or_else(
        || unknown(&sources.cpu),
        |cpu| {
            format!(
                "{:.0}% of {} cores: yours {:.0}%, Idleshare {:.0}%",
                cpu.total_percent,
                cpu.cores,
                cpu.owner_percent(),
                cpu.idleshare_percent
            )
        },
    );
    let memory = snapshot.memory.as_ref().map_or_else(
        || unknown(&sources.memory),
        |m| {
            format!(
                "{} of {} used, Idleshare {}",
                bytes(m.used_bytes),
                bytes(m.total_bytes),
                bytes(m.idleshare_bytes)
            )
        },
    );
    let gpus = if snapshot.gpus.is_empty() {
        "none".to_owned()
    } else {
        let names: Vec<String> = snapshot
            .gpus
            .iter()
            .map(|g| match g.utilization_percent {
                Some(load) => format!("{} ({load:.0}%)", g.name),
                None => g.name.clone(),
            })
            .collect();
        names.join(", ")
    };
    let battery = match &snapshot.battery {
        None => unknown(&sources.battery),
        Some(b) if !b.present => "none (mains power)".into(),
        Some(b) => format!(
            "{}{}",
            if b.on_battery_power {
                "on battery"
            } else {
                "on mains"
            },
            b.level_percent
                .map_or(String::new(), |l| format!(", {l:.0}%"))
        ),
    };
    let temperature = snapshot.cpu_temperature_c.map_or_else(
        || unknown(&sources.temperature),
        |c| format!("CPU {c:.0} °C"),
    );
    let network = snapshot.network.map_or_else(
        || unknown(&sources.network),
        |n| {
            format!(
                "{}/s down, {}/s up",
                bytes(n.download_bytes_per_sec),
                bytes(n.upload_bytes_per_sec)
            )
        },
    );
    let fullscreen = snapshot
        .fullscreen_app
        .map_or_else(|| unknown(&sources.fullscreen), |f| yes_no(f).to_owned());
    let idle = snapshot.input_idle.map_or_else(
        || unknown(&sources.input_idle),
        |d| format!("{} s ({})", d.as_secs(), sources.input_idle),
    );
    for (label, value) in [
        ("cpu", cpu),
        ("memory", memory),
        ("gpus", gpus),
        ("battery", battery),
        ("temperature", temperature),
        ("network", network),
        ("fullscreen", fullscreen),
        ("input idle", idle),
    ] {
        let _ = writeln!(out, "{label:<11} {value}");
    }
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idleshare_node::KeyStorage;
    use idleshare_node::monitor::{CpuUsage, MemoryUsage};
    use idleshare_node::policy::PauseReason;
    use idleshare_node::status::NodeStatus;
    use idleshare_protocol::NodeId;

    fn file(written_at_ms: u64) -> StatusFile {
        let id = NodeId::from(ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key());
        let mut status = NodeStatus::starting(id, KeyStorage::Keychain, "k@h:1".into());
        status.decision = Some(Decision::Paused {
            reason: PauseReason::OnBattery,
        });
        status.snapshot = Some(Snapshot {
            cpu: Some(CpuUsage {
                cores: 4,
                total_percent: 30.0,
                idleshare_percent: 10.0,
                per_core_percent: vec![],
            }),
            memory: Some(MemoryUsage {
                total_bytes: 8 << 30,
                used_bytes: 2 << 30,
                idleshare_bytes: 12 << 20,
            }),
            ..Snapshot::default()
        });
        StatusFile {
            written_at_ms,
            pid: 7,
            status,
        }
    }

    #[test]
    fn live_status_shows_decision_readings_and_unknowns() {
        let text = render(&file(1_000), 1_500);
        assert!(!text.contains("not running"), "{text}");
        assert!(
            text.contains("decision    paused: running on battery"),
            "{text}"
        );
        assert!(
            text.contains("30% of 4 cores: yours 20%, Idleshare 10%"),
            "{text}"
        );
        assert!(
            text.contains("2.0 GiB of 8.0 GiB used, Idleshare 12.0 MiB"),
            "{text}"
        );
        assert!(text.contains("input idle  unknown"), "{text}");
        assert!(text.contains("gpus        none"), "{text}");
    }

    #[test]
    fn stale_status_says_the_node_is_not_running() {
        let text = render(&file(1_000), 60_000);
        assert!(text.starts_with("node not running (pid 7"), "{text}");
    }
}
