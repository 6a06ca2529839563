//! The Node page: identity, key storage, connection, benchmark results, reputation.

use idleshare_node::{KeyStorage, NodeStatus};
use idleshare_protocol::HardwareScores;
use idleshare_protocol::api::Reputation;
use serde::Serialize;
use specta::Type;

/// Where the node's private key is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
pub struct KeyStorageView {
    /// In the OS keychain (otherwise a 0600 file, which the page warns about).
    pub keychain: bool,
    /// Where and why, in words.
    pub detail: String,
}

/// What the node measured about this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct BenchmarkView {
    /// Integer operations, millions per second on one core.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_score: Option<u64>,
    /// Memory copy bandwidth, MB/s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_score: Option<u64>,
    /// Upload to the coordinator, bits per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_up_bps: Option<u64>,
    /// Download from the coordinator, bits per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bandwidth_down_bps: Option<u64>,
}

/// The coordinator's record of this node's results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
pub struct ReputationView {
    /// Valid results ever.
    pub valid: u64,
    /// Invalid results ever.
    pub invalid: u64,
    /// Valid results in a row.
    pub streak: u64,
}

/// Everything the Node page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    /// The node id (its public key, base32).
    pub node_id: String,
    /// Where its key is.
    pub key_storage: KeyStorageView,
    /// The coordinator address in use.
    pub coordinator: String,
    /// The connection in words.
    pub connection: String,
    /// Benchmark results (`None` before the first measurement).
    pub benchmark: Option<BenchmarkView>,
    /// Reputation (`None` where the coordinator's records are not at hand: a remote one).
    pub reputation: Option<ReputationView>,
}

/// Assembles the Node page from the status, the stored hardware scores and, for the local
/// network, the coordinator's reputation record.
pub fn node_info(
    status: &NodeStatus,
    hardware: Option<HardwareScores>,
    reputation: Option<Reputation>,
) -> NodeInfo {
    let bandwidth = status.bandwidth;
    let benchmark = (hardware.is_some() || bandwidth.is_some()).then(|| BenchmarkView {
        cpu_score: hardware.map(|h| h.cpu_int_mops),
        memory_score: hardware.map(|h| h.memory_mb_per_sec),
        bandwidth_up_bps: bandwidth.map(|b| b.upload_kbps.saturating_mul(1000)),
        bandwidth_down_bps: bandwidth.map(|b| b.download_kbps.saturating_mul(1000)),
    });
    NodeInfo {
        node_id: status.node_id.to_string(),
        key_storage: KeyStorageView {
            keychain: matches!(status.key_storage, KeyStorage::Keychain),
            detail: status.key_storage.to_string(),
        },
        coordinator: status.coordinator.clone(),
        connection: status.summary(),
        benchmark,
        reputation: reputation.map(|r| ReputationView {
            valid: r.valid,
            invalid: r.invalid,
            streak: r.consecutive_valid,
        }),
    }
}

/// Reads the scores the node stored (`hardware.json`); `None` if it has not measured yet.
pub fn stored_hardware(node_dir: &std::path::Path) -> Option<HardwareScores> {
    let bytes = std::fs::read(node_dir.join(idleshare_node::hwbench::HARDWARE_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use idleshare_node::ConnectionState;
    use idleshare_protocol::BandwidthReport;

    use super::*;
    use crate::overview::tests::registered;

    #[test]
    fn the_page_shows_scores_bandwidth_in_bits_and_the_streak() {
        let mut status = registered(None);
        status.bandwidth = Some(BandwidthReport {
            download_kbps: 80_000,
            upload_kbps: 20_000,
            rtt_us: 300,
            measured_at_ms: 1,
        });
        let hardware = HardwareScores {
            cpu_int_mops: 900,
            cpu_float_mflops: 800,
            memory_mb_per_sec: 12_000,
        };
        let reputation = Reputation {
            consecutive_valid: 12,
            valid: 40,
            invalid: 1,
        };
        let info = node_info(&status, Some(hardware), Some(reputation));
        assert!(info.key_storage.keychain);
        let benchmark = info.benchmark.unwrap();
        assert_eq!(benchmark.cpu_score, Some(900));
        assert_eq!(benchmark.bandwidth_up_bps, Some(20_000_000));
        assert_eq!(info.reputation.unwrap().streak, 12);
        assert_eq!(info.connection, "registered");
    }

    #[test]
    fn nothing_measured_yet_is_null_and_absent_fields_are_left_out() {
        let mut status = registered(None);
        status.connection = ConnectionState::Connecting { attempt: 0 };
        let info = node_info(&status, None, None);
        assert_eq!(info.benchmark, None);
        let json = serde_json::to_value(node_info(
            &status,
            Some(HardwareScores {
                cpu_int_mops: 1,
                cpu_float_mflops: 1,
                memory_mb_per_sec: 1,
            }),
            None,
        ))
        .unwrap();
        assert_eq!(json["benchmark"]["cpuScore"], 1);
        assert!(json["benchmark"].get("bandwidthUpBps").is_none());
        assert_eq!(json["reputation"], serde_json::Value::Null);
        assert_eq!(json["keyStorage"]["keychain"], true);
    }
}
