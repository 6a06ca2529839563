//! A unit the coordinator can revoke: it ends at its next slice, without reporting.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::executor::{SliceOutcome, WorkSlice};

pub(super) struct Cancellable {
    inner: Box<dyn WorkSlice>,
    cancel: Arc<AtomicBool>,
}

impl Cancellable {
    pub(super) fn new(inner: Box<dyn WorkSlice>, cancel: Arc<AtomicBool>) -> Self {
        Self { inner, cancel }
    }
}

impl WorkSlice for Cancellable {
    fn run_slice(&mut self) -> SliceOutcome {
        if self.cancel.load(Ordering::Acquire) {
            return SliceOutcome::Done;
        }
        self.inner.run_slice()
    }
}
