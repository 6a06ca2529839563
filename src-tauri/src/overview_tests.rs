use chrono::FixedOffset;
use idleshare_node::monitor::{CpuUsage, MemoryUsage, NetworkRates, Snapshot};
use idleshare_node::policy::{Decision, PauseReason};
use idleshare_node::settings::Settings;
use idleshare_node::{ConnectionState, KeyStorage, NodeStatus};
use idleshare_protocol::{Budget, MicroTokens};

use super::*;

/// 2026-03-10 12:00:00 UTC.
pub const NOON_MS: u64 = 1_773_144_000_000;

pub fn node_id() -> idleshare_protocol::NodeId {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    idleshare_protocol::NodeId::from_bytes(key.to_bytes()).unwrap()
}

pub fn registered(decision: Option<Decision>) -> NodeStatus {
    let mut status =
        NodeStatus::starting(node_id(), KeyStorage::Keychain, "KEY@127.0.0.1:7350".into());
    status.connection = ConnectionState::Registered;
    status.decision = decision;
    status
}

fn paused(reason: PauseReason) -> Option<Decision> {
    Some(Decision::Paused { reason })
}

fn state_of(status: Option<&NodeStatus>, settings: &Settings) -> (ContributionState, String) {
    state_and_reason(&OverviewInputs {
        status,
        settings,
        local: true,
        today: MicroTokens(0),
        now_ms: NOON_MS,
        tz: &FixedOffset::east_opt(3600).unwrap(),
    })
}

#[test]
fn a_running_decision_while_registered_is_contributing() {
    let status = registered(Some(Decision::Run {
        budget: Budget {
            cores: 3,
            ..Budget::default()
        },
    }));
    let (state, reason) = state_of(Some(&status), &Settings::default());
    assert_eq!(state, ContributionState::Contributing);
    assert_eq!(reason, "Contributing 3 cores while you are away");
}

#[test]
fn the_owner_at_the_keyboard_means_waiting_and_heat_means_paused() {
    let busy = registered(paused(PauseReason::OwnerActive {
        idle_secs: 4,
        required_secs: 180,
    }));
    let (state, reason) = state_of(Some(&busy), &Settings::default());
    assert_eq!(state, ContributionState::Waiting);
    assert!(
        reason.starts_with("Waiting: you are using this computer"),
        "{reason}"
    );

    let hot = registered(paused(PauseReason::CpuTooHot {
        celsius: 91,
        limit: 85,
    }));
    let (state, reason) = state_of(Some(&hot), &Settings::default());
    assert_eq!(state, ContributionState::Paused);
    assert!(reason.starts_with("CPU too hot"), "{reason}");
}

#[test]
fn switching_off_or_snoozing_shows_paused_before_the_node_notices() {
    let running = registered(Some(Decision::Run {
        budget: Budget::default(),
    }));
    let mut settings = Settings::default();
    settings.contribution.enabled = false;
    assert_eq!(
        state_of(Some(&running), &settings),
        (
            ContributionState::Paused,
            "Contributing is switched off".into()
        )
    );
    let mut settings = Settings::default();
    settings.snooze(1, NOON_MS);
    // One hour after noon UTC, shown in UTC+1.
    assert_eq!(
        state_of(Some(&running), &settings),
        (ContributionState::Paused, "Snoozed until 14:00".into())
    );
    // A snooze in the past is over.
    settings.contribution.snooze_until_ms = Some(NOON_MS - 1);
    assert_eq!(
        state_of(Some(&running), &settings).0,
        ContributionState::Contributing
    );
}

#[test]
fn a_stale_switched_off_decision_after_switching_on_reads_resuming() {
    let status = registered(paused(PauseReason::SwitchedOff));
    assert_eq!(
        state_of(Some(&status), &Settings::default()),
        (ContributionState::Waiting, "Resuming…".into())
    );
}

#[test]
fn not_registered_is_offline_with_the_error() {
    let mut status = registered(None);
    status.connection = ConnectionState::Backoff { retry_in_ms: 2000 };
    status.last_error = Some("timed out".into());
    let (state, reason) = state_of(Some(&status), &Settings::default());
    assert_eq!(state, ContributionState::Offline);
    assert_eq!(reason, "Cannot reach the coordinator (timed out); retrying");
    assert_eq!(
        state_of(None, &Settings::default()).0,
        ContributionState::Offline
    );
}

#[test]
fn the_overview_carries_tokens_jobs_and_gauges() {
    let mut status = registered(None);
    status.earnings.balance = MicroTokens(5_000_000);
    status.work.held = 2;
    status.work.reported = 40;
    status.snapshot = Some(Snapshot {
        cpu: Some(CpuUsage {
            cores: 4,
            total_percent: 60.0,
            idleshare_percent: 45.0,
            per_core_percent: vec![],
        }),
        memory: Some(MemoryUsage {
            total_bytes: 1000,
            used_bytes: 500,
            idleshare_bytes: 100,
        }),
        ..Snapshot::default()
    });
    let overview = overview(&OverviewInputs {
        status: Some(&status),
        settings: &Settings::default(),
        local: true,
        today: MicroTokens(1_500_000),
        now_ms: NOON_MS,
        tz: &chrono::Utc,
    });
    assert_eq!(
        overview.tokens,
        TokenCounts {
            today: 1_500_000,
            total: 5_000_000
        }
    );
    assert_eq!(overview.jobs.held, 2);
    assert_eq!(overview.jobs.reported, 40);
    assert_eq!(overview.gauges.cpu.owner_percent, 15.0);
    assert_eq!(overview.gauges.cpu.contributed_percent, 45.0);
    assert_eq!(overview.gauges.memory.owner_percent, 40.0);
    assert_eq!(overview.gauges.memory.contributed_percent, 10.0);
    assert_eq!(overview.gauges.gpu, None);
    assert!(overview.network.local && overview.network.connected);
    let json = serde_json::to_value(&overview).unwrap();
    assert_eq!(json["state"], "waiting");
    assert_eq!(json["snoozedUntilMs"], serde_json::Value::Null);
    assert_eq!(json["network"]["lastError"], serde_json::Value::Null);
    assert_eq!(json["cache"]["earnedServing"], 0);
}

#[test]
fn the_caches_traffic_is_the_contributed_share_of_the_network() {
    let mut status = registered(None);
    status.snapshot = Some(Snapshot {
        network: Some(NetworkRates {
            download_bytes_per_sec: 3_000,
            upload_bytes_per_sec: 9_000,
        }),
        ..Snapshot::default()
    });
    status.cache.traffic = NetworkRates {
        download_bytes_per_sec: 1_000,
        upload_bytes_per_sec: 7_000,
    };
    let network = network_gauge(&status);
    assert_eq!(network.owner_bytes_per_sec, 4_000);
    assert_eq!(network.contributed_bytes_per_sec, 8_000);

    // Loopback traffic (the local network) is not in the interface counters.
    status.cache.traffic.upload_bytes_per_sec = 50_000;
    let network = network_gauge(&status);
    assert_eq!(network.owner_bytes_per_sec, 0);
    assert_eq!(network.contributed_bytes_per_sec, 51_000);
}

fn network_gauge(status: &NodeStatus) -> NetworkGauge {
    let settings = Settings::default();
    let inputs = OverviewInputs {
        status: Some(status),
        settings: &settings,
        local: false,
        today: MicroTokens(0),
        now_ms: NOON_MS,
        tz: &chrono::Utc,
    };
    overview(&inputs).gauges.network
}
