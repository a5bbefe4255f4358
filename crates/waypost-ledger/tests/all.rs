//! Integration tests of waypost-ledger: one test binary. The crash tests
//! start real processes: this same test binary, run with
//! `worker::worker_entry` and a job in `WAYPOST_LEDGER_WORKER`.
#![allow(
    clippy::print_stderr,
    reason = "the stress tests report their figures on stderr (shown with --nocapture)"
)]

mod architecture;
mod ledger;
mod processes;
mod support;
mod tidy;
mod worker;
