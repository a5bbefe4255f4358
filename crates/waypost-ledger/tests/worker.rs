//! The worker side of the process tests. The parent runs this test binary
//! with `--ignored --exact worker::worker_entry` and a JSON job in
//! `WAYPOST_LEDGER_WORKER`; the worker runs `tidy::execute` on the job's
//! repository and reports on stdout.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};
use waypost_ledger::tidy;

use crate::support::options;

const JOB: &str = "WAYPOST_LEDGER_WORKER";

/// A command that runs one worker with `job`.
pub(crate) fn worker(job: &Value) -> Command {
    waypost_test_support::workers::command(JOB, job)
}

#[test]
#[ignore = "entry point of the worker processes that the process tests spawn"]
fn worker_entry() {
    // Run by hand (cargo test -- --ignored) it has no job and does nothing.
    let Ok(job) = std::env::var(JOB) else { return };
    let job: Value = serde_json::from_str(&job).expect("job is JSON");
    let root = PathBuf::from(job["root"].as_str().expect("root"));
    waypost_test_support::workers::report(&json!({"started": true}));
    let report = tidy::execute(&root, &options()).expect("tidy");
    waypost_test_support::workers::report(&json!({"appended": report.appended()}));
}
