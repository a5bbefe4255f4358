//! test_infra_drift: tests that do not run, or that point at nothing.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext, ScannedFile};

static MOD_DECL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z0-9_]+)\s*;").expect("literal")
});
static FIXTURE_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""((?:fixtures|testdata|test_data|tests/data)/[A-Za-z0-9_./-]+)""#)
        .expect("literal")
});
static INVARIANT_TEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"fn\s+([a-z]+_\d{3}_[a-z0-9_]*)\s*\(").expect("literal"));

/// `tests/*.rs` files that no test target compiles.
pub(crate) struct TestFileNotInTarget;

impl Detector for TestFileNotInTarget {
    fn id(&self) -> &'static str {
        "test_file_not_in_target"
    }
    fn gap_type(&self) -> GapType {
        GapType::TestInfraDrift
    }
    fn description(&self) -> &'static str {
        "a tests/*.rs file is not part of any test target (autotests is off and no test binary declares it)"
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        for (manifest, _) in ctx
            .files
            .iter()
            .filter(|(p, _)| p == "Cargo.toml" || p.ends_with("/Cargo.toml"))
        {
            let crate_dir = manifest.strip_suffix("Cargo.toml").unwrap_or_default();
            let Ok(text) = std::fs::read_to_string(ctx.root.join(manifest)) else {
                continue;
            };
            let Ok(table) = text.parse::<toml::Table>() else {
                continue;
            };
            let autotests = table
                .get("package")
                .and_then(|p| p.get("autotests"))
                .and_then(toml::Value::as_bool)
                .unwrap_or(true);
            if autotests {
                continue;
            }
            // Every tests/*.rs a declared test root reaches through `mod`.
            let mut included = BTreeSet::new();
            let roots: Vec<String> = table
                .get("test")
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| {
                    t.get("path")
                        .and_then(toml::Value::as_str)
                        .map(str::to_owned)
                })
                .collect();
            for root in &roots {
                let root_path = format!("{crate_dir}{root}");
                included.insert(root_path.clone());
                let dir = root_path
                    .rsplit_once('/')
                    .map_or(String::new(), |(d, _)| format!("{d}/"));
                if let Ok(source) = std::fs::read_to_string(ctx.root.join(&root_path)) {
                    for m in MOD_DECL.captures_iter(&source) {
                        included.insert(format!("{dir}{}.rs", &m[1]));
                        included.insert(format!("{dir}{}/mod.rs", &m[1]));
                    }
                }
            }
            let tests_dir = format!("{crate_dir}tests/");
            for (path, _) in ctx.files.iter().filter(|(p, _)| {
                p.starts_with(&tests_dir)
                    && p.ends_with(".rs")
                    && !p[tests_dir.len()..].contains('/')
            }) {
                if !included.contains(path) {
                    out.push(
                        Finding::new(self.id(), self.gap_type(), RiskLevel::Medium, path, format!("{path} is never compiled"))
                            .describe(format!("{manifest} sets autotests = false and no [[test]] target declares `mod` for it: its tests never run."))
                            .remedy("declare it with `mod` in the crate's test binary, or delete it", false),
                    );
                }
            }
        }
    }
}

/// Tests that carry an invariant id and are ignored.
pub(crate) struct InvariantTestSkipped;

impl Detector for InvariantTestSkipped {
    fn id(&self) -> &'static str {
        "invariant_test_skipped"
    }
    fn gap_type(&self) -> GapType {
        GapType::TestInfraDrift
    }
    fn description(&self) -> &'static str {
        "a test named after an invariant id is marked #[ignore], so the invariant is unproven"
    }
    fn wants(&self, path: &str) -> bool {
        path.ends_with(".rs")
    }
    fn check_file(&self, file: &ScannedFile<'_>, out: &mut Vec<Finding>) {
        // Most files have no `#[ignore`: skip them without splitting lines.
        if file
            .text
            .is_none_or(|t| memchr::memmem::find(t, b"#[ignore").is_none())
        {
            return;
        }
        let Some(Ok(text)) = file.text.map(std::str::from_utf8) else {
            return;
        };
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if !line.trim_start().starts_with("#[ignore") {
                continue;
            }
            // The test this attribute belongs to: the next `fn` within a few lines.
            let Some((offset, name)) = lines[i..]
                .iter()
                .take(6)
                .enumerate()
                .find_map(|(k, l)| INVARIANT_TEST.captures(l).map(|c| (k, c[1].to_owned())))
            else {
                continue;
            };
            let line_no = u32::try_from(i + offset + 1).unwrap_or(u32::MAX);
            out.push(
                Finding::new(self.id(), self.gap_type(), RiskLevel::High, file.path, format!("Invariant test `{name}` is ignored"))
                    .describe("A test named after an invariant is the proof that the invariant holds; ignored, it proves nothing.")
                    .at_line(line_no, lines[i + offset])
                    .remedy("make the test run, or document why the invariant no longer applies", true),
            );
        }
    }
}

/// String literals in tests that point at fixtures that do not exist.
pub(crate) struct MissingTestFixture;

impl Detector for MissingTestFixture {
    fn id(&self) -> &'static str {
        "missing_test_fixture"
    }
    fn gap_type(&self) -> GapType {
        GapType::TestInfraDrift
    }
    fn description(&self) -> &'static str {
        "a test refers to a fixture path that exists neither from the repository root nor from its crate"
    }
    fn wants(&self, path: &str) -> bool {
        path.ends_with(".rs") && path.split('/').any(|c| c == "tests")
            || path.ends_with("_test.py")
            || path.contains("/test_")
    }
    fn check_file(&self, file: &ScannedFile<'_>, out: &mut Vec<Finding>) {
        let has_fixture_path = file.text.is_some_and(|t| {
            [
                &b"fixtures/"[..],
                b"testdata/",
                b"test_data/",
                b"tests/data/",
            ]
            .iter()
            .any(|p| memchr::memmem::find(t, p).is_some())
        });
        if !has_fixture_path {
            return;
        }
        let Some(Ok(text)) = file.text.map(std::str::from_utf8) else {
            return;
        };
        // The crate (or package) folder: everything before `tests/`.
        let base = file.path.find("tests/").map_or("", |i| &file.path[..i]);
        for (i, line) in text.lines().enumerate() {
            for c in FIXTURE_PATH.captures_iter(line) {
                let target = &c[1];
                let found = [target.to_owned(), format!("{base}{target}")]
                    .iter()
                    .any(|p| ctx_exists(file, p));
                if !found {
                    out.push(
                        Finding::new(self.id(), self.gap_type(), RiskLevel::Medium, file.path, format!("{} refers to missing `{target}`", file.path))
                            .describe("The fixture is not in the repository: the test fails, or silently tests nothing.")
                            .at_line(u32::try_from(i + 1).unwrap_or(u32::MAX), line)
                            .remedy("restore the fixture or fix the path", false),
                    );
                }
            }
        }
    }
}

fn ctx_exists(file: &ScannedFile<'_>, relative: &str) -> bool {
    // Paths may end in a folder prefix used with join(); either form counts.
    let path = file.root.join(relative.trim_end_matches('/'));
    path.exists()
}

static TRAILER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^CI-Bucket:\s*[ABC]\s*$").expect("literal"));

/// Whether `path` is a test file or a test baseline.
fn is_test_path(path: &str) -> bool {
    path.split('/')
        .any(|c| c == "tests" || c == "test" || c == "__tests__")
        || path.rsplit('/').next().is_some_and(|n| {
            n.starts_with("test_")
                || n.contains("_test.")
                || n.contains(".test.")
                || n.ends_with(".snap")
        })
}

/// Commits in the range that change tests without saying why.
pub(crate) struct TestFixUnclassified;

impl Detector for TestFixUnclassified {
    fn id(&self) -> &'static str {
        "test_fix_unclassified"
    }
    fn gap_type(&self) -> GapType {
        GapType::TestInfraDrift
    }
    fn description(&self) -> &'static str {
        "a commit changes tests without a `CI-Bucket: A|B|C` trailer (A: the test was wrong, B: infrastructure was missing, C: the system had a bug)"
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        for commit in ctx.commits {
            let tests: Vec<&String> = commit.changed.iter().filter(|p| is_test_path(p)).collect();
            if tests.is_empty() || TRAILER.is_match(&commit.message) {
                continue;
            }
            let subject = commit.message.lines().next().unwrap_or_default();
            let short = &commit.id[..commit.id.len().min(12)];
            let mut f = Finding::new(self.id(), self.gap_type(), RiskLevel::Medium, tests[0], format!("Commit {short} changes tests without a CI-Bucket trailer"))
                .describe(format!("\"{subject}\" changes {} test file(s); a test change must say whether the test was wrong (A), infrastructure was missing (B) or the system had a bug (C).", tests.len()))
                .remedy("amend the commit message with `CI-Bucket: A`, `B` or `C`", true);
            f.paths = tests.into_iter().cloned().collect();
            out.push(f);
        }
    }
}
