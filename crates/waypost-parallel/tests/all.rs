//! Integration tests of waypost-parallel: one test binary. Tests that prove
//! a claim about processes start real processes: this same test binary, run
//! with `worker::worker_entry` and a job in `WAYPOST_PARALLEL_WORKER`.
#![allow(
    clippy::print_stderr,
    reason = "the stress tests report their figures on stderr (shown with --nocapture)"
)]

mod gc;
mod hostile;
mod landing;
mod lifecycle;
mod processes;
mod support;
mod worker;
mod writer;
