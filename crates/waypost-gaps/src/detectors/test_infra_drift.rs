//! test_infra_drift: tests that do not run, or that point at nothing.

use std::collections::{BTreeSet, HashMap};
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use waypost_schemas::io::{Links, MAX_CONFIG_BYTES, read_text};
use waypost_schemas::paths::on_disk;
use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, Marker, ScanContext, ScannedFile};

static MOD_DECL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z0-9_]+)\s*;").expect("literal")
});
static FIXTURE_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""((?:fixtures|testdata|test_data|tests/data)/[A-Za-z0-9_./-]+)""#)
        .expect("literal")
});
static INVARIANT_TEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"fn\s+([a-z]+_\d{3}_[a-z0-9_]*)\s*\(").expect("literal"));

/// `tests/*.rs` files that no test target compiles. Remembers, per crate
/// with test files, which files its test targets reach (read once from its
/// manifest), not the files themselves.
#[derive(Default)]
pub(crate) struct TestFileNotInTarget {
    /// crate folder ("" or "crates/x/") -> the files its declared test
    /// roots reach, or None when the crate discovers tests itself.
    crates: Mutex<HashMap<String, Option<BTreeSet<String>>>>,
}

/// The `tests/*.rs` files a crate at `crate_dir` compiles, when its
/// manifest turns automatic test discovery off; None otherwise.
fn declared_test_files(root: &std::path::Path, crate_dir: &str) -> Option<BTreeSet<String>> {
    let text = read_text(
        &on_disk(root, &format!("{crate_dir}Cargo.toml")),
        MAX_CONFIG_BYTES,
        Links::Refuse,
    )
    .ok()?;
    let table = text.parse::<toml::Table>().ok()?;
    let autotests = table
        .get("package")
        .and_then(|p| p.get("autotests"))
        .and_then(toml::Value::as_bool)
        .unwrap_or(true);
    if autotests {
        return None;
    }
    // Every tests/*.rs a declared test root reaches through `mod`.
    let mut included = BTreeSet::new();
    for test_root in target_paths(&table, &["test"]) {
        // Only paths inside the repository are read (`../../x.rs` is not).
        let Ok(root_path) =
            waypost_schemas::paths::RepoPath::new(&format!("{crate_dir}{test_root}"))
        else {
            continue;
        };
        let root_path = root_path.as_str().to_owned();
        let dir = root_path
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| format!("{d}/"));
        if let Ok(source) = read_text(&on_disk(root, &root_path), MAX_CONFIG_BYTES, Links::Refuse) {
            for m in MOD_DECL.captures_iter(&source) {
                included.insert(format!("{dir}{}.rs", &m[1]));
                included.insert(format!("{dir}{}/mod.rs", &m[1]));
            }
        }
        included.insert(root_path);
    }
    Some(included)
}

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
    fn wants(&self, path: &str) -> bool {
        path.ends_with(".rs")
            && path
                .rsplit('/')
                .nth(1)
                .is_some_and(|parent| parent == "tests")
    }
    fn check_file(&self, file: &ScannedFile<'_>, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let path = file.path;
        let Some(crate_dir) = path
            .rsplit_once('/')
            .and_then(|(dir, _)| dir.strip_suffix("tests"))
        else {
            return;
        };
        let never_compiled = {
            let mut crates = self.crates.lock().expect("no panics while locked");
            // Read once per crate (under the lock: it happens once).
            crates
                .entry(crate_dir.to_owned())
                .or_insert_with(|| declared_test_files(ctx.root, crate_dir))
                .as_ref()
                .is_some_and(|included| !included.contains(path))
        };
        if never_compiled {
            out.push(
                Finding::of(self, RiskLevel::Medium, path, format!("{path} is never compiled"))
                    .describe(format!("{crate_dir}Cargo.toml sets autotests = false and no [[test]] target declares `mod` for it: its tests never run."))
                    .remedy("declare it with `mod` in the crate's test binary, or delete it", false),
            );
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
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        // Most files have no `#[ignore`: skip them without splitting lines.
        if !file.has(Marker::IgnoreAttribute) {
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
                Finding::of(self, RiskLevel::High, file.path, format!("Invariant test `{name}` is ignored"))
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
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
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
                        Finding::of(self, RiskLevel::Medium, file.path, format!("{} refers to missing `{target}`", file.path))
                            .describe("The fixture is not in the repository: the test fails, or silently tests nothing.")
                            .at_line(u32::try_from(i + 1).unwrap_or(u32::MAX), line)
                            .remedy("restore the fixture or fix the path", false),
                    );
                }
            }
        }
    }
}

/// Test configuration that names test paths that do not exist: Cargo
/// `[[test]]`/`[[bench]]` paths, and pytest `testpaths` (pytest.ini,
/// tox.ini, setup.cfg, pyproject.toml).
pub(crate) struct MissingTestPath;

const TEST_CONFIGS: [&str; 5] = [
    "Cargo.toml",
    "pyproject.toml",
    "pytest.ini",
    "tox.ini",
    "setup.cfg",
];

impl Detector for MissingTestPath {
    fn id(&self) -> &'static str {
        "missing_test_path"
    }
    fn gap_type(&self) -> GapType {
        GapType::TestInfraDrift
    }
    fn description(&self) -> &'static str {
        "test configuration (a Cargo test target, pytest testpaths) names a path that does not exist"
    }
    fn wants(&self, path: &str) -> bool {
        TEST_CONFIGS.contains(&path.rsplit('/').next().unwrap_or(path))
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(Ok(text)) = file.text.map(std::str::from_utf8) else {
            return;
        };
        let (dir, name) = file
            .path
            .rsplit_once('/')
            .map_or(("", file.path), |(d, n)| (d, n));
        let named: Vec<String> = match name {
            "Cargo.toml" => text
                .parse::<toml::Table>()
                .map(|t| {
                    target_paths(&t, &["test", "bench"])
                        .into_iter()
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            "pyproject.toml" => text
                .parse::<toml::Table>()
                .ok()
                .and_then(|t| {
                    let paths = t
                        .get("tool")?
                        .get("pytest")?
                        .get("ini_options")?
                        .get("testpaths")?
                        .as_array()?
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect();
                    Some(paths)
                })
                .unwrap_or_default(),
            "setup.cfg" => ini_testpaths(text, "tool:pytest"),
            _ => ini_testpaths(text, "pytest"),
        };
        for target in named {
            let relative = if dir.is_empty() {
                target.clone()
            } else {
                format!("{dir}/{target}")
            };
            // Globs (pytest accepts them) and absolute paths are not checked.
            if target.contains(['*', '?', '[']) || target.starts_with('/') {
                continue;
            }
            if !ctx_exists(file, &relative) {
                let (line_no, line) = text
                    .lines()
                    .enumerate()
                    .find(|(_, l)| l.contains(target.as_str()))
                    .map_or((1, ""), |(i, l)| (i + 1, l));
                out.push(
                    Finding::of(self, RiskLevel::Medium, file.path, format!("{} names missing test path `{target}`", file.path))
                        .describe("The configured test path does not exist: the tests it should hold never run, or the build fails.")
                        .at_line(u32::try_from(line_no).unwrap_or(u32::MAX), line)
                        .remedy("restore the path or fix the configuration", false),
                );
            }
        }
    }
}

/// The `path`s of a manifest's targets of the given kinds (`test`, `bench`).
fn target_paths<'t>(table: &'t toml::Table, kinds: &[&str]) -> Vec<&'t str> {
    kinds
        .iter()
        .filter_map(|kind| table.get(*kind).and_then(toml::Value::as_array))
        .flatten()
        .filter_map(|t| t.get("path").and_then(toml::Value::as_str))
        .collect()
}

/// pytest's `testpaths` in an INI file's `[section]`: whitespace-separated,
/// continued on indented lines.
fn ini_testpaths(text: &str, section: &str) -> Vec<String> {
    let mut in_section = false;
    let mut in_value = false;
    let mut paths = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_section = trimmed == format!("[{section}]");
            in_value = false;
            continue;
        }
        if !in_section || trimmed.starts_with(['#', ';']) {
            continue;
        }
        let continued = in_value && line.starts_with([' ', '\t']) && !trimmed.is_empty();
        let value = if continued {
            Some(trimmed)
        } else {
            in_value = false;
            trimmed
                .split_once(['=', ':'])
                .filter(|(key, _)| key.trim() == "testpaths")
                .map(|(_, value)| value.trim())
        };
        if let Some(value) = value {
            in_value = true;
            paths.extend(value.split_whitespace().map(str::to_owned));
        }
    }
    paths
}

fn ctx_exists(file: &ScannedFile<'_>, relative: &str) -> bool {
    // Paths may end in a folder prefix used with join(); either form counts.
    on_disk(file.root, relative.trim_end_matches('/')).exists()
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
            let mut f = Finding::of(self, RiskLevel::Medium, tests[0], format!("Commit {short} changes tests without a CI-Bucket trailer"))
                .describe(format!("\"{subject}\" changes {} test file(s); a test change must say whether the test was wrong (A), infrastructure was missing (B) or the system had a bug (C).", tests.len()))
                .remedy("amend the commit message with `CI-Bucket: A`, `B` or `C`", true);
            f.paths = tests.into_iter().cloned().collect();
            out.push(f);
        }
    }
}
