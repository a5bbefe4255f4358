//! Integration tests of waypost-store-postgres: one test binary.
//!
//! Tests that need a server read its URL from `WAYPOST_TEST_PG` (set by
//! `cargo xtask with-postgres -- …`) and are skipped, saying so, without
//! it. Each test works in a schema of its own, so they run in parallel
//! against one server. Tests that prove a claim about processes start
//! real processes: this same test binary, run with `worker::worker_entry`.
#![allow(
    clippy::print_stderr,
    reason = "skips and the stress tests' figures are reported on stderr (shown with --nocapture)"
)]

mod conformance;
mod failures;
mod processes;
mod support;
mod worker;
