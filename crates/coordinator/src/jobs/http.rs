//! HTTP routes for blobs, jobs and the ledger (filled in by the next change).
