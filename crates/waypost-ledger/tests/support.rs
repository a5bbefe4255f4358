//! Runs with artifacts in a temporary repository, and tidy options.

use std::fs;
use std::path::{Path, PathBuf};

use waypost_ledger::tidy::{Allowlist, Retention, TidyOptions};
use waypost_ledger::{Ledger, LedgerName};
use waypost_schemas::{RunLayout, Timestamp};

/// Tidy options with the default allowlist, no pruning and a fixed time.
pub(crate) fn options() -> TidyOptions {
    TidyOptions {
        allowlist: Allowlist::defaults(),
        project: None,
        run: None,
        retention: Retention::KeepAll,
        now: Timestamp::parse("2026-01-01T00:00:00Z").expect("timestamp"),
    }
}

/// The run `run_id` of project `demo` under `root`.
pub(crate) fn run(root: &Path, run_id: &str) -> RunLayout {
    RunLayout::new(root, "demo", run_id).expect("run layout")
}

/// Writes `contents` to `path`, creating its folder.
pub(crate) fn write(path: &Path, contents: &str) {
    fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    fs::write(path, contents).expect("write");
}

/// A committed valid fixture of `kind`.
pub(crate) fn fixture(kind: &str, name: &str) -> String {
    fs::read_to_string(
        waypost_test_support::fixtures_dir()
            .join("artifacts/valid")
            .join(kind)
            .join(format!("{name}.json")),
    )
    .expect("fixture")
}

/// Writes learnings, one per line.
pub(crate) fn learnings(run: &RunLayout, lines: &[&str]) {
    let mut text = String::from("# Learnings\n");
    for line in lines {
        text.push_str(&format!("- {line}\n"));
    }
    write(&run.learnings(), &text);
}

/// Writes a valid pilot decision for `batch`.
pub(crate) fn pilot_decision(run: &RunLayout, batch: &str) -> PathBuf {
    let path = run.pilot_decision(batch).expect("batch id");
    write(
        &path,
        &fixture("pilot_decision_v1", "advisor_retry_and_skip"),
    );
    path
}

/// The ledger file's bytes (empty when missing).
pub(crate) fn bytes(root: &Path, name: LedgerName) -> Vec<u8> {
    fs::read(Ledger::new(root, name).path()).unwrap_or_default()
}

/// Every entry id of every ledger, in file order.
pub(crate) fn all_ids(root: &Path) -> Vec<String> {
    Ledger::all(root)
        .iter()
        .flat_map(|l| {
            l.read()
                .expect("the ledger reads")
                .entries()
                .iter()
                .map(|e| e.entry_id.clone())
                .collect::<Vec<_>>()
        })
        .collect()
}
