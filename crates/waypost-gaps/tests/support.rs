//! Scanning temporary repositories.

use std::path::Path;

use waypost_gaps::{ReportContext, ScanConfig, ScanOutcome, detectors, scan};
use waypost_schemas::{GapReportV1, Timestamp};
use waypost_test_support::TestRepo;

pub(crate) fn context() -> ReportContext {
    ReportContext {
        project_id: "demo".into(),
        run_id: "scan-20260101T000000Z".into(),
        now: Timestamp::parse("2026-01-01T00:00:00Z").expect("timestamp"),
    }
}

pub(crate) fn scan_dir(root: &Path) -> ScanOutcome {
    scan_config(root, &ScanConfig::default(), &context())
}

/// Scans `root` with the built-in detectors set up by `config`.
pub(crate) fn scan_config(
    root: &Path,
    config: &ScanConfig,
    context: &ReportContext,
) -> ScanOutcome {
    scan(root, &detectors::builtin(config), config, context).expect("scan")
}

/// The detectors that fired, with the first path of each gap.
pub(crate) fn fired(report: &GapReportV1) -> Vec<(String, String)> {
    report
        .gaps
        .iter()
        .map(|g| {
            let path = g
                .evidence
                .as_ref()
                .and_then(|e| e.file_paths.first().cloned())
                .unwrap_or_default();
            (g.detector.clone().unwrap_or_default(), path)
        })
        .collect()
}

/// A clean committed repository: README, a source file, a doc that links correctly.
pub(crate) fn clean_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write(
        "README.md",
        "# demo\n\nSee [the guide](docs/guide.md) and `src/lib.rs`.\n",
    )
    .write(
        "docs/guide.md",
        "# Guide\n\nBack to the [readme](../README.md).\n",
    )
    .write("src/lib.rs", "pub fn f() {}\n")
    .write("Cargo.toml", "[package]\nname = \"demo\"\n")
    .write(".gitignore", "/target\n")
    .commit_all("initial");
    repo
}
