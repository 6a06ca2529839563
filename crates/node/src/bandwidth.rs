//! The bandwidth test against the coordinator: download, upload and round-trip time over
//! bulk QUIC streams beside the control stream, run at registration when the last result
//! is older than a day, and kept in `DATA_DIR/bandwidth.json`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use idleshare_protocol::BandwidthReport;
use idleshare_protocol::bulk::{BulkRequest, BulkResponse, MAX_BULK_CONTROL_FRAME_LEN};
use idleshare_transport::{FramedError, recv_frame, send_frame};
use quinn::Connection;

/// File name of the stored result inside the data directory.
pub const BANDWIDTH_FILE_NAME: &str = "bandwidth.json";
/// Bytes downloaded by one test: small, so a metered connection barely notices.
pub const DOWNLOAD_TEST_BYTES: u32 = 2 << 20;
/// Bytes uploaded by one test.
pub const UPLOAD_TEST_BYTES: u32 = 1 << 20;
/// Round-trip probes; the fastest counts. Few, because each is a bulk stream and the
/// coordinator rations those (the heartbeats measure round trips all the time anyway).
const RTT_PROBES: usize = 2;

/// Why a bandwidth test failed.
#[derive(Debug, thiserror::Error)]
pub enum BandwidthError {
    /// A stream could not be opened.
    #[error("cannot open a bulk stream: {0}")]
    Open(#[from] quinn::ConnectionError),
    /// A frame failed.
    #[error(transparent)]
    Framed(#[from] FramedError),
    /// Reading the download failed.
    #[error("download failed: {0}")]
    Read(#[from] quinn::ReadError),
    /// Writing the upload failed.
    #[error("upload failed: {0}")]
    Write(#[from] quinn::WriteError),
    /// The coordinator refused or answered oddly.
    #[error("coordinator: {0}")]
    Refused(String),
}

/// Whether a stored report is recent enough to skip a new test.
pub fn is_fresh(report: &BandwidthReport, now_ms: u64, max_age: Duration) -> bool {
    now_ms.saturating_sub(report.measured_at_ms) < max_age.as_millis() as u64
}

/// Kilobits per second for `bytes` moved in `elapsed`.
pub fn kbps(bytes: u64, elapsed: Duration) -> u64 {
    let micros = elapsed.as_micros().max(1) as u64;
    bytes.saturating_mul(8_000) / micros
}

/// Runs the test on an established connection.
pub async fn measure(
    connection: &Connection,
    now_ms: u64,
) -> Result<BandwidthReport, BandwidthError> {
    let mut rtt = Duration::MAX;
    for _ in 0..RTT_PROBES {
        let started = Instant::now();
        download(connection, 1).await?;
        rtt = rtt.min(started.elapsed());
    }
    let started = Instant::now();
    let received = download(connection, DOWNLOAD_TEST_BYTES).await?;
    // One round trip of each transfer is request latency, not throughput.
    let download_time = started.elapsed().saturating_sub(rtt);
    let started = Instant::now();
    upload(connection, UPLOAD_TEST_BYTES).await?;
    let upload_time = started.elapsed().saturating_sub(rtt);
    Ok(BandwidthReport {
        download_kbps: kbps(received, download_time),
        upload_kbps: kbps(u64::from(UPLOAD_TEST_BYTES), upload_time),
        rtt_us: rtt.as_micros() as u64,
        measured_at_ms: now_ms,
    })
}

async fn download(connection: &Connection, bytes: u32) -> Result<u64, BandwidthError> {
    let (mut send, mut recv) = connection.open_bi().await?;
    send_frame(&mut send, &BulkRequest::Download { bytes }).await?;
    let _ = send.finish();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    while let Some(n) = recv.read(&mut buffer).await? {
        received += n as u64;
    }
    if received != u64::from(bytes) {
        // A refusal arrives as a short frame instead of the bytes asked for.
        return Err(BandwidthError::Refused(format!(
            "asked for {bytes} bytes, received {received}"
        )));
    }
    Ok(received)
}

async fn upload(connection: &Connection, bytes: u32) -> Result<(), BandwidthError> {
    let (mut send, mut recv) = connection.open_bi().await?;
    send_frame(&mut send, &BulkRequest::Upload { bytes }).await?;
    let chunk = vec![0u8; 64 * 1024];
    let mut left = bytes as usize;
    while left > 0 {
        let n = left.min(chunk.len());
        send.write_all(&chunk[..n]).await?;
        left -= n;
    }
    let _ = send.finish();
    match recv_frame::<BulkResponse>(&mut recv, MAX_BULK_CONTROL_FRAME_LEN).await? {
        Some(BulkResponse::Received { bytes: got }) if got == u64::from(bytes) => Ok(()),
        Some(BulkResponse::Refused { message }) => Err(BandwidthError::Refused(message)),
        other => Err(BandwidthError::Refused(format!(
            "unexpected answer {other:?}"
        ))),
    }
}

/// Where the result is kept.
pub fn report_path(data_dir: &Path) -> PathBuf {
    data_dir.join(BANDWIDTH_FILE_NAME)
}

/// The stored report, if any; a missing or unreadable file means none (it is re-measured).
pub fn load_report(data_dir: &Path) -> Option<BandwidthReport> {
    let text = std::fs::read_to_string(report_path(data_dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Stores the report atomically.
pub fn store_report(data_dir: &Path, report: &BandwidthReport) -> std::io::Result<()> {
    let path = report_path(data_dir);
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, json)?;
    std::fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_and_rate_arithmetic() {
        let report = BandwidthReport {
            measured_at_ms: 1_000,
            ..BandwidthReport::default()
        };
        let day = Duration::from_secs(86_400);
        assert!(is_fresh(&report, 1_000 + 86_399_999, day));
        assert!(!is_fresh(&report, 1_000 + 86_400_000, day));
        assert!(
            is_fresh(&report, 0, day),
            "a clock going back never forces a test"
        );
        assert_eq!(kbps(1_000_000, Duration::from_secs(1)), 8_000);
        assert!(kbps(1, Duration::ZERO) > 0, "no division by zero");
    }

    #[test]
    fn stored_report_round_trips_and_garbage_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_report(dir.path()), None);
        let report = BandwidthReport {
            download_kbps: 1,
            upload_kbps: 2,
            rtt_us: 3,
            measured_at_ms: 4,
        };
        store_report(dir.path(), &report).unwrap();
        assert_eq!(load_report(dir.path()), Some(report));
        std::fs::write(report_path(dir.path()), "{").unwrap();
        assert_eq!(load_report(dir.path()), None);
    }
}
