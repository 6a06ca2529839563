//! Fuzz target for the control-stream frame decoder.
//!
//! Properties checked on arbitrary bytes, for both directions of the control stream:
//! - `decode_frame` and `decode_payload` return `Ok` or `Err`, never panic;
//! - a streaming reader that repeatedly decodes a frame and drops the bytes it used
//!   always makes progress and stops on `Ok(None)` (needs more bytes) or `Err`;
//! - every message that decodes re-encodes with `encode_frame` to a frame that decodes
//!   back to an equal message, using all of that frame's bytes.

#![no_main]

use std::fmt::Debug;

use idleshare_protocol::cache::{CacheRequest, CacheResponse};
use idleshare_protocol::frame::{decode_frame, decode_payload, encode_frame};
use idleshare_protocol::{CoordinatorMessage, MAX_CONTROL_FRAME_LEN, NodeMessage};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fuzz_target!(|data: &[u8]| {
    check::<NodeMessage>(data);
    check::<CoordinatorMessage>(data);
    check::<CacheRequest>(data);
    check::<CacheResponse>(data);
});

fn check<T>(data: &[u8])
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    // The first frame, and the whole input taken as a bare payload.
    if let Ok(Some((message, used))) = decode_frame::<T>(data, MAX_CONTROL_FRAME_LEN) {
        assert!(used <= data.len(), "used {used} of {} bytes", data.len());
        round_trip(&message);
    }
    if let Ok(message) = decode_payload::<T>(data) {
        round_trip(&message);
    }

    // A streaming reader: decode frames one after another, consuming the bytes each used.
    // Stops at the first `Ok(None)` (more bytes needed) or `Err`.
    let mut rest = data;
    while let Ok(Some((message, used))) = decode_frame::<T>(rest, MAX_CONTROL_FRAME_LEN) {
        assert!(
            used > 0 && used <= rest.len(),
            "decoder used {used} bytes of a {}-byte buffer",
            rest.len()
        );
        round_trip(&message);
        rest = &rest[used..];
    }
}

fn round_trip<T>(message: &T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let frame = encode_frame(message, MAX_CONTROL_FRAME_LEN)
        .unwrap_or_else(|e| panic!("decoded message does not re-encode: {e}: {message:?}"));
    let (back, used) = decode_frame::<T>(&frame, MAX_CONTROL_FRAME_LEN)
        .unwrap_or_else(|e| panic!("re-encoded frame does not decode: {e}: {message:?}"))
        .unwrap_or_else(|| panic!("re-encoded frame is incomplete: {message:?}"));
    assert_eq!(&back, message, "round trip changed the message");
    assert_eq!(used, frame.len(), "round trip did not use the whole frame");
}
