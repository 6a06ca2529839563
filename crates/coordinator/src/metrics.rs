//! Counters for `/metrics`, rendered in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use idleshare_protocol::ErrorCode;

/// Every error code, in a fixed order (index = position in the rejection counters).
pub const ERROR_CODES: [ErrorCode; 12] = [
    ErrorCode::UnsupportedVersion,
    ErrorCode::IdentityMismatch,
    ErrorCode::MalformedFrame,
    ErrorCode::FrameTooLarge,
    ErrorCode::UnexpectedMessage,
    ErrorCode::InvalidContent,
    ErrorCode::RateLimited,
    ErrorCode::TooManyConnections,
    ErrorCode::ShuttingDown,
    ErrorCode::Internal,
    ErrorCode::WeakIdentityProof,
    ErrorCode::Throttled,
];

/// A snake_case label for an error code.
pub fn code_label(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::UnsupportedVersion => "unsupported_version",
        ErrorCode::IdentityMismatch => "identity_mismatch",
        ErrorCode::MalformedFrame => "malformed_frame",
        ErrorCode::FrameTooLarge => "frame_too_large",
        ErrorCode::UnexpectedMessage => "unexpected_message",
        ErrorCode::InvalidContent => "invalid_content",
        ErrorCode::RateLimited => "rate_limited",
        ErrorCode::TooManyConnections => "too_many_connections",
        ErrorCode::ShuttingDown => "shutting_down",
        ErrorCode::Internal => "internal",
        ErrorCode::WeakIdentityProof => "weak_identity_proof",
        ErrorCode::Throttled => "throttled",
    }
}

/// Why the QUIC front door refused a connection, in a fixed order (index = position in
/// [`Metrics::door_refusals`]): all connections in use, too many from one address, the node
/// session budget spent, the cache client budget spent.
pub const DOOR_REFUSALS: [&str; 4] = ["connections", "per_ip", "node_sessions", "cache_clients"];

/// Process-wide counters, updated lock-free by sessions.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Connections currently open (handshaking or in session).
    pub connections_active: AtomicU64,
    /// Connections refused at the front door, for any reason (see [`Metrics::door_refusals`]).
    pub connections_refused: AtomicU64,
    /// Connections refused at the front door, by reason (index as in [`DOOR_REFUSALS`]).
    pub door_refusals: [AtomicU64; DOOR_REFUSALS.len()],
    /// QUIC Retry packets sent to make clients prove their address.
    pub quic_retries: AtomicU64,
    /// TLS/QUIC handshakes that failed (wrong ALPN, bad certificate, ...).
    pub handshakes_failed: AtomicU64,
    /// Successful registrations.
    pub registrations: AtomicU64,
    /// Heartbeats received.
    pub heartbeats: AtomicU64,
    /// Sessions rejected, by error code (index as in [`ERROR_CODES`]).
    pub rejections: [AtomicU64; ERROR_CODES.len()],
    /// Content bytes served from origin copies.
    pub origin_bytes: AtomicU64,
    /// Bytes relayed from nodes to clients.
    pub relayed_bytes: AtomicU64,
    /// Content bytes the HTTP gateway sent.
    pub gateway_bytes: AtomicU64,
    /// Times a node was caught serving bytes that fail verification.
    pub bad_cache_data: AtomicU64,
    /// Spot checks run.
    pub spot_checks: AtomicU64,
}

impl Metrics {
    /// Counts one rejection with `code`.
    pub fn rejected(&self, code: ErrorCode) {
        if let Some(i) = ERROR_CODES.iter().position(|c| *c == code) {
            self.rejections[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts one refusal at the front door with `reason`, one of [`DOOR_REFUSALS`].
    pub fn door_refused(&self, reason: &str) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
        if let Some(i) = DOOR_REFUSALS.iter().position(|r| *r == reason) {
            self.door_refusals[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Renders the counters plus the registry gauges.
    pub fn render(&self, nodes_online: usize, nodes_offline: usize) -> String {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, lines: &[(String, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in lines {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        metric(
            "idleshare_nodes",
            "gauge",
            "Known nodes by state.",
            &[
                ("{state=\"online\"}".into(), nodes_online as u64),
                ("{state=\"offline\"}".into(), nodes_offline as u64),
            ],
        );
        let counters: [(&str, &str, &str, &AtomicU64); 11] = [
            (
                "idleshare_connections_active",
                "gauge",
                "Open QUIC connections.",
                &self.connections_active,
            ),
            (
                "idleshare_connections_refused_total",
                "counter",
                "Connections refused at the connection limit.",
                &self.connections_refused,
            ),
            (
                "idleshare_quic_retries_total",
                "counter",
                "QUIC Retry packets sent to make clients prove their address.",
                &self.quic_retries,
            ),
            (
                "idleshare_handshakes_failed_total",
                "counter",
                "Failed QUIC/TLS handshakes.",
                &self.handshakes_failed,
            ),
            (
                "idleshare_registrations_total",
                "counter",
                "Accepted node registrations.",
                &self.registrations,
            ),
            (
                "idleshare_heartbeats_total",
                "counter",
                "Heartbeats received.",
                &self.heartbeats,
            ),
            (
                "idleshare_origin_bytes_total",
                "counter",
                "Content bytes served from origin copies.",
                &self.origin_bytes,
            ),
            (
                "idleshare_relayed_bytes_total",
                "counter",
                "Bytes relayed from nodes to clients.",
                &self.relayed_bytes,
            ),
            (
                "idleshare_gateway_bytes_total",
                "counter",
                "Content bytes sent by the HTTP gateway.",
                &self.gateway_bytes,
            ),
            (
                "idleshare_bad_cache_data_total",
                "counter",
                "Nodes caught serving bytes that fail verification.",
                &self.bad_cache_data,
            ),
            (
                "idleshare_spot_checks_total",
                "counter",
                "Spot checks of cached copies.",
                &self.spot_checks,
            ),
        ];
        for (name, kind, help, counter) in counters {
            metric(name, kind, help, &[(String::new(), get(counter))]);
        }
        let rejections: Vec<(String, u64)> = ERROR_CODES
            .iter()
            .zip(&self.rejections)
            .map(|(code, counter)| {
                (
                    format!("{{reason=\"{}\"}}", code_label(*code)),
                    get(counter),
                )
            })
            .collect();
        let door: Vec<(String, u64)> = DOOR_REFUSALS
            .iter()
            .zip(&self.door_refusals)
            .map(|(reason, counter)| (format!("{{reason=\"{reason}\"}}"), get(counter)))
            .collect();
        metric(
            "idleshare_door_refusals_total",
            "counter",
            "Connections refused at the QUIC front door, by reason.",
            &door,
        );
        metric(
            "idleshare_sessions_rejected_total",
            "counter",
            "Sessions refused or ended with an error, by reason.",
            &rejections,
        );
        out
    }
}

/// Renders the work engine's counters.
pub fn render_work(counters: &crate::jobs::engine::WorkCounters) -> String {
    let lines: [(&str, &str, &AtomicU64); 5] = [
        (
            "idleshare_units_assigned_total",
            "Leases issued to nodes.",
            &counters.units_assigned,
        ),
        (
            "idleshare_units_settled_total",
            "Units settled (done, failed or given up).",
            &counters.units_settled,
        ),
        (
            "idleshare_invalid_results_total",
            "Results that disagreed with the quorum.",
            &counters.invalid_results,
        ),
        (
            "idleshare_receipts_issued_total",
            "Credit receipts issued.",
            &counters.receipts_issued,
        ),
        (
            "idleshare_work_commits_total",
            "Work store transactions committed.",
            &counters.commits,
        ),
    ];
    let mut out = String::new();
    for (name, help, counter) in lines {
        let value = counter.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text_with_help_type_and_labels() {
        let metrics = Metrics::default();
        metrics.heartbeats.fetch_add(3, Ordering::Relaxed);
        metrics.rejected(ErrorCode::FrameTooLarge);
        let text = metrics.render(2, 1);
        assert!(
            text.contains(
                "# TYPE idleshare_heartbeats_total counter\nidleshare_heartbeats_total 3\n"
            )
        );
        assert!(text.contains("idleshare_nodes{state=\"online\"} 2\n"));
        assert!(text.contains("idleshare_sessions_rejected_total{reason=\"frame_too_large\"} 1\n"));
        metrics.door_refused("per_ip");
        let text = metrics.render(2, 1);
        assert!(text.contains("idleshare_door_refusals_total{reason=\"per_ip\"} 1\n"));
        assert!(text.contains("idleshare_connections_refused_total 1\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<u64>().is_ok(), "{line}");
        }
    }
}
