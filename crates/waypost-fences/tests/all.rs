//! Integration tests of waypost-fences: one test binary. Tests that prove a
//! claim about processes start real processes: this same test binary, run
//! with `worker::worker_entry` and a job in `WAYPOST_FENCES_WORKER`.
#![allow(
    clippy::print_stderr,
    reason = "the stress tests report their figures on stderr (shown with --nocapture)"
)]

mod claim;
mod enqueue;
mod heartbeat;
mod jsonl;
mod ledger_store;
mod lock;
mod processes;
mod registry;
mod worker;
