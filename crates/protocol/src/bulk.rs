//! Bulk streams: each bulk transfer gets its own QUIC stream beside the control stream, so a
//! big transfer never delays a heartbeat.
//!
//! A node opens a bidirectional stream and sends one [`BulkRequest`] frame:
//! - `Download { bytes }` (bandwidth test): the coordinator sends `bytes` bytes, then
//!   finishes the stream;
//! - `Upload { bytes }` (bandwidth test): the node sends `bytes` bytes after the request and
//!   finishes; the coordinator answers with [`BulkResponse::Received`];
//! - `Fetch { id }`: a module or input the node's leases need; the coordinator answers
//!   [`BulkResponse::Blob`] and then exactly `len` bytes;
//! - `Result(report)`: a unit's report, followed by its output bytes; the coordinator answers
//!   [`BulkResponse::Received`] once the result is stored durably.
//!
//! A refused request is answered with [`BulkResponse::Refused`] (too big, too frequent, not
//! yours).

use serde::{Deserialize, Serialize};

use crate::bounds::{BoundsError, check_range};
use crate::content::ContentId;
use crate::work::UnitReport;

/// Largest bandwidth-test transfer either way (16 MiB).
pub const MAX_BANDWIDTH_TEST_BYTES: u32 = 16 << 20;

/// Largest request or response frame on a bulk stream.
pub const MAX_BULK_CONTROL_FRAME_LEN: usize = 1024;

/// The first frame on a bulk stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkRequest {
    /// Send me this many bytes.
    Download {
        /// Bytes requested.
        bytes: u32,
    },
    /// I am about to send this many bytes.
    Upload {
        /// Bytes announced.
        bytes: u32,
    },
    /// Send me this content (a module or an input of one of my leases).
    Fetch {
        /// Its content id.
        id: ContentId,
    },
    /// A unit's result; its output bytes follow.
    Result(UnitReport),
}

/// The coordinator's answer on a bulk stream, where one is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BulkResponse {
    /// The upload arrived in full.
    Received {
        /// Bytes received.
        bytes: u64,
    },
    /// The content follows: exactly `len` bytes, then the stream ends.
    Blob {
        /// Its length.
        len: u32,
    },
    /// The request was refused.
    Refused {
        /// Why.
        message: String,
    },
}

impl BulkRequest {
    /// Checks the request against the limits.
    pub fn validate(&self) -> Result<(), BoundsError> {
        match self {
            BulkRequest::Download { bytes } | BulkRequest::Upload { bytes } => check_range(
                "transfer bytes",
                u64::from(*bytes),
                1,
                u64::from(MAX_BANDWIDTH_TEST_BYTES),
            ),
            BulkRequest::Fetch { .. } => Ok(()),
            BulkRequest::Result(report) => report.validate(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_outside_the_limit_are_refused_with_the_numbers() {
        assert!(BulkRequest::Download { bytes: 1 }.validate().is_ok());
        assert!(
            BulkRequest::Upload {
                bytes: MAX_BANDWIDTH_TEST_BYTES
            }
            .validate()
            .is_ok()
        );
        let err = BulkRequest::Upload {
            bytes: MAX_BANDWIDTH_TEST_BYTES + 1,
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("16777217"), "{err}");
        assert!(BulkRequest::Download { bytes: 0 }.validate().is_err());
    }
}
