//! Regression fixtures from people's judgements of the scanner's findings
//! (`cargo xtask precision fixtures`, see `docs/precision.md`).
//!
//! Each folder under `tests/data/precision/` holds `expect.json` and
//! `tree/`. The tree is scanned with the built-in detectors; a gap of the
//! fixture's detector on its file whose evidence names its target must be
//! reported, as certain, exactly when `finding_expected` is true.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use waypost_schemas::Gap;

use crate::support::scan_dir;

/// The folder of the committed fixtures.
fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/precision")
}

/// What a fixture expects.
#[derive(Debug)]
struct Expectation {
    detector: String,
    file: String,
    target: String,
    finding_expected: bool,
}

fn read_expectation(path: &Path) -> Result<Expectation, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
    let string = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("no string `{key}`"))
    };
    Ok(Expectation {
        detector: string("detector")?,
        file: string("file")?,
        target: string("target")?,
        finding_expected: value
            .get("finding_expected")
            .and_then(Value::as_bool)
            .ok_or("no boolean `finding_expected`")?,
    })
}

/// Copies the folder `from` into `to`, files and folders only.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create folder");
    for entry in fs::read_dir(from).expect("read fixture folder") {
        let entry = entry.expect("fixture entry");
        let kind = entry.file_type().expect("file type");
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &dest);
        } else if kind.is_file() {
            fs::copy(entry.path(), &dest).expect("copy fixture file");
        }
    }
}

/// Whether `gap` is the fixture's finding: its detector, on its file, for
/// its target (the evidence's `written_as`).
fn matches(gap: &Gap, expectation: &Expectation) -> bool {
    let Some(evidence) = &gap.evidence else {
        return false;
    };
    gap.detector.as_deref() == Some(expectation.detector.as_str())
        && gap.first_path() == Some(expectation.file.as_str())
        && evidence.extra.get("written_as").and_then(Value::as_str)
            == Some(expectation.target.as_str())
}

/// Runs every fixture under `root`: how many there are, and one line per
/// fixture that disagrees with the scanner.
fn run_fixtures(root: &Path) -> (usize, Vec<String>) {
    let mut folders: Vec<PathBuf> = match fs::read_dir(root) {
        Ok(entries) => entries
            .map(|e| e.expect("fixture entry").path())
            .filter(|p| p.join("expect.json").is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    folders.sort();
    let mut mismatches = Vec::new();
    for folder in &folders {
        let name = folder
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let expectation = match read_expectation(&folder.join("expect.json")) {
            Ok(expectation) => expectation,
            Err(why) => {
                mismatches.push(format!("{name}: expect.json: {why}"));
                continue;
            }
        };
        let work = tempfile::tempdir().expect("temporary folder");
        copy_tree(&folder.join("tree"), work.path());
        let outcome = scan_dir(work.path());
        // Reported means reported as certain: a likely gap is only counted
        // by default, so a finding judged wrong may stay as a likely one,
        // and one judged right must not become likely.
        let found = outcome
            .report
            .gaps
            .iter()
            .any(|g| matches(g, &expectation) && g.is_certain());
        if found != expectation.finding_expected {
            let what = if expectation.finding_expected {
                "expected a finding, got none"
            } else {
                "expected no finding, got one"
            };
            mismatches.push(format!(
                "{name}: {what} ({} on {} for `{}`)",
                expectation.detector, expectation.file, expectation.target
            ));
        }
    }
    (folders.len(), mismatches)
}

#[test]
fn judged_findings_stay_judged() {
    let (count, mismatches) = run_fixtures(&fixtures_root());
    assert!(
        mismatches.is_empty(),
        "{} of {count} precision fixtures disagree with the scanner:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The runner itself: fixtures that hold (a finding expected and found,
/// none expected and none found), one the scanner contradicts and a
/// malformed one are each told apart.
#[test]
fn fixture_runner_names_each_disagreement() {
    let root = tempfile::tempdir().expect("temporary folder");
    let write = |path: &str, text: &str| {
        let path = root.path().join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
        fs::write(path, text).expect("write");
    };
    let expect = |target: &str, expected: bool| {
        format!(
            "{{\"detector\": \"broken_markdown_link\", \"file\": \"docs/a.md\", \"target\": \"{target}\", \
             \"reference\": \"link\", \"finding_expected\": {expected}, \"source\": {{\"repo\": \"r\", \"head\": \"h\"}}}}\n"
        )
    };
    // The link resolves: no finding, as expected.
    write("holds/expect.json", &expect("b.md", false));
    write("holds/tree/docs/a.md", "[x](b.md)\n");
    write("holds/tree/docs/b.md", "");
    // A broken link judged a real problem: found, for that target.
    write("broken/expect.json", &expect("gone.md", true));
    write("broken/tree/docs/a.md", "[x](gone.md)\n");
    // The resolving link judged a real problem: the scanner disagrees.
    write("contradicted/expect.json", &expect("b.md", true));
    write("contradicted/tree/docs/a.md", "[x](b.md)\n");
    write("contradicted/tree/docs/b.md", "");
    write("malformed/expect.json", "{\"detector\": 1}\n");
    write("no-expectation/tree/docs/a.md", "[x](gone.md)\n");

    let (count, mismatches) = run_fixtures(root.path());
    assert_eq!(count, 4, "folders without expect.json are not fixtures");
    assert_eq!(
        mismatches,
        [
            "contradicted: expected a finding, got none (broken_markdown_link on docs/a.md for `b.md`)",
            "malformed: expect.json: no string `detector`",
        ]
    );
}
