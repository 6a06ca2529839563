//! The bounds of the HTTP front door, and the pure decisions over them: which body limit a
//! route has, and whether a request body arrives too slowly.

use std::time::Duration;

use axum::http::Method;
use idleshare_protocol::api::routes;
use idleshare_protocol::job::MAX_UNIT_BYTES;

/// Largest job description accepted (100,000 inputs of 66 JSON bytes fit).
pub const MAX_JOB_JSON: u64 = 16 << 20;

/// How the HTTP API bounds what one client can hold: time, connections, requests, bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpLimits {
    /// A request's headers must arrive whole within this, counted from its first byte
    /// (slowloris); the connection is then answered 408 and closed.
    pub header_timeout: Duration,
    /// A keep-alive connection with no request in flight is closed after this.
    pub idle_timeout: Duration,
    /// A request body that sends nothing for this long fails (408).
    pub body_stall: Duration,
    /// After the first `body_stall`, a request body must average at least this many bytes
    /// a second, or it fails (408).
    pub min_body_rate: u64,
    /// A response the client stops reading (no byte taken for this long) is cut.
    pub write_stall: Duration,
    /// Most HTTP connections open at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Most connections open at once from one IPv4 address or IPv6 /64; more are answered
    /// 503 and closed.
    pub max_connections_per_ip: usize,
    /// Most requests being answered at once (a streaming response counts until its last
    /// byte); more are answered 503 with `Retry-After`.
    pub max_in_flight: usize,
    /// Body limit of every route without a larger one of its own (JSON bodies).
    pub json_body_limit: u64,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_stall: Duration::from_secs(30),
            min_body_rate: 4096,
            write_stall: Duration::from_secs(30),
            max_connections: 4096,
            max_connections_per_ip: 64,
            max_in_flight: 1024,
            json_body_limit: 64 << 10,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl HttpLimits {
    /// The shortest of the timeouts: the watchdog looks at least four times within it.
    pub fn shortest_timeout(&self) -> Duration {
        [self.header_timeout, self.idle_timeout, self.write_stall]
            .into_iter()
            .min()
            .unwrap_or(Duration::from_secs(1))
    }
}

/// The most bytes a request to `method path` may carry: uploads and job descriptions have
/// their own documented limits (`publish_limit` is the coordinator's `--max-publish-mib`);
/// everything else is JSON at most `json_limit`.
pub fn body_limit(method: &Method, path: &str, json_limit: u64, publish_limit: u64) -> u64 {
    match (method, path) {
        (&Method::PUT, routes::BLOBS) => u64::from(MAX_UNIT_BYTES),
        (&Method::POST, routes::JOBS) => MAX_JOB_JSON,
        (&Method::PUT, routes::CONTENT_LIST) => publish_limit,
        _ => json_limit,
    }
}

/// Whether a body that has brought `received` bytes in `elapsed` is below `min_rate`
/// bytes a second, judged only once `grace` has passed (a slow start is forgiven).
pub fn body_too_slow(received: u64, elapsed: Duration, grace: Duration, min_rate: u64) -> bool {
    if elapsed <= grace || min_rate == 0 {
        return false;
    }
    let owed = u128::from(min_rate).saturating_mul(elapsed.as_millis()) / 1000;
    u128::from(received) < owed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_body_limit() {
        let json = 1000;
        let publish = 1 << 30;
        let cases = [
            (Method::PUT, routes::BLOBS, u64::from(MAX_UNIT_BYTES)),
            (Method::POST, routes::JOBS, MAX_JOB_JSON),
            (Method::PUT, routes::CONTENT_LIST, publish),
            (Method::GET, routes::CONTENT_LIST, json),
            (Method::GET, routes::BLOBS, json),
            (Method::POST, "/v1/accounts/x/deposits", json),
            (Method::POST, "/v1/content/x/orders", json),
            (Method::GET, "/anything/else", json),
        ];
        for (method, path, expected) in cases {
            assert_eq!(
                body_limit(&method, path, json, publish),
                expected,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn a_body_is_too_slow_only_after_the_grace_and_below_the_rate() {
        let grace = Duration::from_secs(10);
        let secs = Duration::from_secs;
        let cases = [
            // (received, elapsed, min rate, too slow)
            (0, secs(5), 100, false),
            (0, secs(10), 100, false),
            (0, secs(11), 100, true),
            (1100, secs(11), 100, false),
            (1099, secs(11), 100, true),
            (0, secs(1000), 0, false),
            (u64::MAX, secs(u64::MAX / 2), u64::MAX, true),
        ];
        for (received, elapsed, rate, expected) in cases {
            assert_eq!(
                body_too_slow(received, elapsed, grace, rate),
                expected,
                "{received} bytes in {elapsed:?} at {rate}/s"
            );
        }
    }
}
