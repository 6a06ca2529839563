//! Everything the dashboard and the tray show, assembled from the node's status and the
//! owner's settings by pure functions (no clock, no files: `now` and the time zone are
//! passed in).

use chrono::TimeZone;
use idleshare_node::policy::{Decision, PauseReason};
use idleshare_node::settings::Settings;
use idleshare_node::{ConnectionState, NodeStatus};
use idleshare_protocol::MicroTokens;
use serde::Serialize;
use specta::Type;

/// The four states the tray draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum ContributionState {
    /// Running work for the network.
    Contributing,
    /// Ready, waiting for the owner to be away (input, CPU, a full-screen app).
    Waiting,
    /// Not contributing for a reason the owner chose or the machine imposes (switched off,
    /// snoozed, battery, heat, schedule, memory).
    Paused,
    /// Not connected to the coordinator.
    Offline,
}

impl ContributionState {
    /// The word the UI and the tray show.
    pub fn label(self) -> &'static str {
        match self {
            ContributionState::Contributing => "Contributing",
            ContributionState::Waiting => "Waiting",
            ContributionState::Paused => "Paused",
            ContributionState::Offline => "Offline",
        }
    }
}

/// Owner's and contributed share of one resource, in percent of the machine (0–100, always
/// a finite number).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct PercentGauge {
    #[specta(type = u32)]
    pub owner_percent: f32,
    #[specta(type = u32)]
    pub contributed_percent: f32,
}

impl PercentGauge {
    /// Nothing used.
    pub const ZERO: PercentGauge = PercentGauge {
        owner_percent: 0.0,
        contributed_percent: 0.0,
    };

    /// A gauge with both shares clamped to 0–100 (a reading that is not a number reads 0).
    pub fn new(owner_percent: f32, contributed_percent: f32) -> Self {
        let clean = |value: f32| {
            if value.is_finite() {
                value.clamp(0.0, 100.0)
            } else {
                0.0
            }
        };
        PercentGauge {
            owner_percent: clean(owner_percent),
            contributed_percent: clean(contributed_percent),
        }
    }
}

/// Network throughput, the owner's and the contributed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct NetworkGauge {
    pub owner_bytes_per_sec: u64,
    pub contributed_bytes_per_sec: u64,
}

/// The gauges of the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
#[allow(missing_docs)]
pub struct Gauges {
    pub cpu: PercentGauge,
    pub memory: PercentGauge,
    /// `None`: no GPU readable.
    pub gpu: Option<PercentGauge>,
    pub network: NetworkGauge,
}

/// Which network the node is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct NetworkInfo {
    /// The embedded local network (demo jobs), not a real coordinator.
    pub local: bool,
    /// The coordinator address in use.
    pub coordinator: String,
    /// Registered and heartbeating.
    pub connected: bool,
    /// The latest connection error, in words.
    pub last_error: Option<String>,
}

/// Units held and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[allow(missing_docs)]
pub struct JobCounts {
    pub held: u32,
    pub reported: u64,
    pub abandoned: u64,
}

/// Earned micro-tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[allow(missing_docs)]
pub struct TokenCounts {
    pub today: u64,
    pub total: u64,
}

/// The edge cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct CacheView {
    pub used_bytes: u64,
    pub quota_bytes: u64,
    pub items: u32,
    pub served_bytes: u64,
    pub earned_serving: u64,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, PartialEq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    /// The state the tray draws.
    pub state: ContributionState,
    /// A sentence a person can read.
    pub reason: String,
    /// The master switch.
    pub contributing: bool,
    /// The end of a running snooze (Unix ms).
    pub snoozed_until_ms: Option<u64>,
    /// The network.
    pub network: NetworkInfo,
    /// Resource use.
    pub gauges: Gauges,
    /// Work.
    pub jobs: JobCounts,
    /// Earnings in micro-tokens.
    pub tokens: TokenCounts,
    /// The edge cache.
    pub cache: CacheView,
}

/// What an overview is made from.
pub struct OverviewInputs<'a, Tz: TimeZone> {
    /// The node's status (`None` while it starts).
    pub status: Option<&'a NodeStatus>,
    /// The owner's settings.
    pub settings: &'a Settings,
    /// Whether the node is in the embedded local network.
    pub local: bool,
    /// Earned since local midnight.
    pub today: MicroTokens,
    /// Now (Unix ms).
    pub now_ms: u64,
    /// The owner's time zone.
    pub tz: &'a Tz,
}

/// Assembles the overview.
pub fn overview<Tz: TimeZone>(inputs: &OverviewInputs<'_, Tz>) -> Overview {
    let (state, reason) = state_and_reason(inputs);
    let status = inputs.status;
    let snoozed_until_ms = inputs
        .settings
        .contribution
        .snooze_until_ms
        .filter(|until| *until > inputs.now_ms);
    Overview {
        state,
        reason,
        contributing: inputs.settings.contribution.enabled,
        snoozed_until_ms,
        network: NetworkInfo {
            local: inputs.local,
            coordinator: status.map(|s| s.coordinator.clone()).unwrap_or_default(),
            connected: status.is_some_and(|s| s.connection == ConnectionState::Registered),
            last_error: status.and_then(|s| s.last_error.clone()),
        },
        gauges: gauges(status),
        jobs: status.map_or(
            JobCounts {
                held: 0,
                reported: 0,
                abandoned: 0,
            },
            |s| JobCounts {
                held: s.work.held,
                reported: s.work.reported,
                abandoned: s.work.abandoned,
            },
        ),
        tokens: TokenCounts {
            today: inputs.today.0,
            total: status.map_or(0, |s| s.earnings.balance.0),
        },
        cache: status.map_or(CacheView::from(&Default::default()), |s| {
            CacheView::from(&s.cache)
        }),
    }
}

impl From<&idleshare_node::CacheStats> for CacheView {
    fn from(cache: &idleshare_node::CacheStats) -> Self {
        CacheView {
            used_bytes: cache.used_bytes,
            quota_bytes: cache.quota_bytes,
            items: cache.items,
            served_bytes: cache.served_bytes,
            earned_serving: cache.earned_serving.0,
        }
    }
}

/// The state and its sentence. The owner's switch and snooze come first and apply at
/// once (the node's decision follows within a sample); then the connection; then the
/// policy's decision.
pub fn state_and_reason<Tz: TimeZone>(
    inputs: &OverviewInputs<'_, Tz>,
) -> (ContributionState, String) {
    use ContributionState::*;
    let contribution = &inputs.settings.contribution;
    if !contribution.enabled {
        return (Paused, "Contributing is switched off".into());
    }
    if let Some(until) = contribution.snooze_until_ms.filter(|u| *u > inputs.now_ms) {
        return (
            Paused,
            format!("Snoozed until {}", clock_time(until, inputs)),
        );
    }
    let Some(status) = inputs.status else {
        return (Offline, "Starting the node…".into());
    };
    match &status.connection {
        ConnectionState::Registered => {}
        ConnectionState::Connecting { attempt: 0 } => {
            return (Offline, "Connecting to the coordinator…".into());
        }
        ConnectionState::Stopped => return (Offline, "The node is stopped".into()),
        ConnectionState::ProvingIdentity { .. } | ConnectionState::WaitingForKeychain { .. } => {
            return (Offline, capitalised(&status.summary()));
        }
        ConnectionState::Connecting { .. } | ConnectionState::Backoff { .. } => {
            let error = status.last_error.as_deref().unwrap_or("no answer");
            return (
                Offline,
                format!("Cannot reach the coordinator ({error}); retrying"),
            );
        }
    }
    match &status.decision {
        None => (Waiting, "Taking the first readings…".into()),
        Some(Decision::Run { budget }) => (
            Contributing,
            format!(
                "Contributing {} core{} while you are away",
                budget.cores,
                if budget.cores == 1 { "" } else { "s" }
            ),
        ),
        // The owner just switched on or the snooze just ended: the decision follows.
        Some(Decision::Paused {
            reason: PauseReason::SwitchedOff | PauseReason::Snoozed { .. },
        }) => (Waiting, "Resuming…".into()),
        Some(Decision::Paused { reason }) if waits_for_owner(reason) => {
            (Waiting, capitalised(&format!("waiting: {reason}")))
        }
        Some(Decision::Paused { reason }) => (Paused, capitalised(&reason.to_string())),
    }
}

/// Pauses that end by themselves once the owner is away (as opposed to the owner's choice
/// or the machine's condition).
pub fn waits_for_owner(reason: &PauseReason) -> bool {
    matches!(
        reason,
        PauseReason::OwnerActive { .. }
            | PauseReason::OwnerCpuBusy { .. }
            | PauseReason::FullscreenApp
    )
}

fn clock_time<Tz: TimeZone>(unix_ms: u64, inputs: &OverviewInputs<'_, Tz>) -> String {
    let Some(at) = inputs.tz.timestamp_millis_opt(unix_ms as i64).single() else {
        return "later".into();
    };
    let same_day = inputs
        .tz
        .timestamp_millis_opt(inputs.now_ms as i64)
        .single()
        .is_some_and(|now| now.date_naive() == at.date_naive());
    let format = if same_day { "%H:%M" } else { "%a %H:%M" };
    at.naive_local().format(format).to_string()
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn gauges(status: Option<&NodeStatus>) -> Gauges {
    let snapshot = status.and_then(|s| s.snapshot.as_ref());
    let cpu = snapshot
        .and_then(|s| s.cpu.as_ref())
        .map_or(PercentGauge::ZERO, |cpu| {
            PercentGauge::new(cpu.owner_percent(), cpu.idleshare_percent)
        });
    let memory = snapshot
        .and_then(|s| s.memory.as_ref())
        .map_or(PercentGauge::ZERO, |m| {
            let total = m.total_bytes.max(1) as f64;
            let ours = m.idleshare_bytes.min(m.used_bytes);
            PercentGauge::new(
                ((m.used_bytes - ours) as f64 / total * 100.0) as f32,
                (ours as f64 / total * 100.0) as f32,
            )
        });
    // GPU work does not run yet: what a GPU shows is the owner's.
    let gpu = snapshot.and_then(|s| {
        let readings: Vec<f32> = s
            .gpus
            .iter()
            .filter_map(|g| g.utilization_percent)
            .collect();
        (!readings.is_empty())
            .then(|| PercentGauge::new(readings.iter().sum::<f32>() / readings.len() as f32, 0.0))
    });
    // The contributed share is the edge cache's traffic (serving and filling); the rest of
    // what the interfaces moved is the owner's. (The cache's traffic can be loopback, as in
    // the local network, which the interface counters leave out: hence the saturation.)
    let total = snapshot.and_then(|s| s.network).map_or(0, |n| {
        n.download_bytes_per_sec
            .saturating_add(n.upload_bytes_per_sec)
    });
    let contributed = status.map_or(0, |s| {
        s.cache
            .traffic
            .download_bytes_per_sec
            .saturating_add(s.cache.traffic.upload_bytes_per_sec)
    });
    let network = NetworkGauge {
        owner_bytes_per_sec: total.saturating_sub(contributed),
        contributed_bytes_per_sec: contributed,
    };
    Gauges {
        cpu,
        memory,
        gpu,
        network,
    }
}

#[cfg(test)]
#[path = "overview_tests.rs"]
pub(crate) mod tests;
