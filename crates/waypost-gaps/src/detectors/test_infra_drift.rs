//! test_infra_drift: tests that do not run, or that point at nothing.

use std::collections::{BTreeSet, HashMap};
use std::sync::{LazyLock, Mutex};

use regex::Regex;
use waypost_schemas::io::{Links, MAX_CONFIG_BYTES, read_text};
use waypost_schemas::paths::on_disk;
use waypost_schemas::{GapType, RiskLevel};

use super::doc_drift::lookup::{after_walk, tracked_somewhere};
use crate::detector::{Detector, Finding, Marker, ScanContext, ScannedFile};
use crate::resolve::{CodeUse, FolderCache, Folders, code_places, parent, pytest, rust};

static MOD_DECL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z0-9_]+)\s*;").expect("literal")
});
/// A string literal naming a path into a fixture folder, with any folders
/// before it: fixtures/a.json, tests/fixtures/a.json, crates/x/testdata/b,
/// tests/data/c (each in double quotes).
static FIXTURE_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#""((?:[A-Za-z0-9_.-]+/)*?(?:fixtures|testdata|test_data|tests/data)/[A-Za-z0-9_./-]+)""#,
    )
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
        let Some(text) = file.text_str() else {
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

/// The folder names that mark a path as a test's fixture data.
const FIXTURE_NEEDLES: [&str; 4] = ["fixtures/", "testdata/", "test_data/", "tests/data/"];

/// A searcher for [`FIXTURE_NEEDLES`]: SIMD (Teddy) where the processor
/// has it. Not the general automaton: its prefilter would pick `/` as the
/// rare byte and stop at every comment of a source file.
enum FixtureSearcher {
    Packed(aho_corasick::packed::Searcher),
    General(aho_corasick::AhoCorasick),
}

impl FixtureSearcher {
    fn is_match(&self, text: &[u8]) -> bool {
        match self {
            Self::Packed(s) => s.find(text).is_some(),
            Self::General(s) => s.is_match(text),
        }
    }
}

static FIXTURE_FOLDERS: LazyLock<FixtureSearcher> = LazyLock::new(|| {
    aho_corasick::packed::Config::new()
        .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
        .builder()
        .extend(FIXTURE_NEEDLES)
        .build()
        .map_or_else(
            || {
                FixtureSearcher::General(
                    aho_corasick::AhoCorasick::new(FIXTURE_NEEDLES).expect("literal needles"),
                )
            },
            FixtureSearcher::Packed,
        )
});

static TEST_ATTRIBUTE: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new("#[test]"));

/// String literals in tests that point at fixtures that do not exist where
/// the test runner looks for them ([`crate::resolve::code_places`]).
///
/// During the walk each literal is resolved with a `stat` per place; the
/// ones found nowhere are kept. After the walk they are dropped when git
/// ignores the place (a file the tests make) or when the test's package
/// holds a file ending in the literal (it is joined to a folder the line
/// does not show). A literal read by a call on its own line (`fs::read("…")`,
/// `open("…")`) or compiled in (`include_str!`) is certain; any other is
/// likely: how the string is used is not known.
#[derive(Default)]
pub(crate) struct MissingTestFixture {
    folders: FolderCache,
    missing: Mutex<Vec<(UnresolvedFixture, Finding)>>,
}

/// A literal found in none of the places its reader looks.
struct UnresolvedFixture {
    /// The literal, without a trailing `/`.
    written: String,
    /// The first place looked in (reported; asked whether git ignores it).
    place: String,
    /// The folder of the nearest manifest above the test file (`""` at
    /// the root): a tracked path ending in the literal counts only below
    /// it, not in some other package.
    package: String,
}

/// A call that reads the path given as its first argument, ending where
/// the literal starts (matched on the few bytes before it). Calls that
/// only name or probe a path (`Path::new`, `existsSync`) do not count: the
/// fixture may be optional.
static READ_CALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\b(?:read|read_to_string|read_dir|open|load|File::open|readFileSync|readFile)|include_str!|include_bytes!)\(\s*[rb]?$")
        .expect("literal")
});
/// A line that makes the file rather than reading it: a call that writes
/// or creates, or a write mode (`"w"`, `'wb'`, `"a+"`), outside the string
/// literals.
static WRITES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:write|create|mkdir|makedirs|save|dump|to_file|touch)\w*\s*\(|["'][wax]b?\+?["']"#)
        .expect("literal")
});
/// String literals, blanked before [`WRITES`] looks at a line.
static STRING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""[^"]{2,}"|'[^']{2,}'"#).expect("literal"));
/// How many bytes before a literal are looked at for the call reading it.
const CALL_WINDOW: usize = 64;
/// How much of a long line a finding keeps around its literal (bytes).
const EXCERPT_WINDOW: usize = 200;

impl Detector for MissingTestFixture {
    fn id(&self) -> &'static str {
        "missing_test_fixture"
    }
    fn gap_type(&self) -> GapType {
        GapType::TestInfraDrift
    }
    fn description(&self) -> &'static str {
        "a test refers to a fixture path that is in none of the places its test runner looks"
    }
    /// Test code: Rust (below a `tests` folder, or any file holding a
    /// `#[test]`, such as a generated runner); Python `test_*.py` and
    /// `*_test.py`; JavaScript and TypeScript `*.test.*`, `*.spec.*` and
    /// files below `__tests__`.
    fn wants(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
        match extension {
            "rs" => true,
            "py" => stem.starts_with("test_") || stem.ends_with("_test"),
            "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => {
                stem.ends_with(".test")
                    || stem.ends_with(".spec")
                    || path.split('/').any(|c| c == "__tests__")
            }
            _ => false,
        }
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, _out: &mut Vec<Finding>) {
        let Some(bytes) = file.text else { return };
        // Rust outside `tests/` is test code only where it holds a test
        // (asked first: `#[` is rare, and most source files hold no test).
        if file.path.ends_with(".rs")
            && !file.path.split('/').any(|c| c == "tests")
            && TEST_ATTRIBUTE.find(bytes).is_none()
        {
            return;
        }
        if !FIXTURE_FOLDERS.is_match(bytes) {
            return;
        }
        let Some(text) = file.text_str() else {
            return;
        };
        // A file under a name shown escaped: paths relative to it cannot be
        // resolved as written, so none is judged.
        if file.path.contains('\\') {
            return;
        }
        let folders = Folders::new(file.root, &self.folders);
        let package = folders
            .nearest(parent(file.path), |f| f.manifest)
            .map(|(dir, _)| dir)
            .unwrap_or_default();
        let mut missing = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if !FIXTURE_PATH.is_match(line) {
                continue;
            }
            // A line that writes the file: it is the test's output.
            if WRITES.is_match(&STRING.replace_all(line, "\"\"")) {
                continue;
            }
            for c in FIXTURE_PATH.captures_iter(line) {
                let literal = c.get(1).expect("group 1");
                let written = literal.as_str().trim_end_matches('/');
                let usage = if file.path.ends_with(".rs") {
                    rust::usage(line)
                } else {
                    CodeUse::Runtime
                };
                let places = code_places(&folders, file.path, written, usage);
                if places.is_empty() || places.iter().any(|p| folders.exists(p)) {
                    continue;
                }
                // The opening quote is one byte before the literal.
                let quote = literal.start().saturating_sub(1);
                let before =
                    &line[line.floor_char_boundary(quote.saturating_sub(CALL_WINDOW))..quote];
                let certain = usage != CodeUse::Runtime || READ_CALL.is_match(before);
                // A longer path into a fixture folder that no call reads on
                // its line is as often a file a test writes into a tree it
                // builds, or an expectation: not judged.
                let at_fixture_folder = ["fixtures/", "testdata/", "test_data/", "tests/data/"]
                    .iter()
                    .any(|f| written.starts_with(f));
                if !certain && !at_fixture_folder {
                    continue;
                }
                // Around the literal only: a line of thousands of literals
                // keeps a few hundred bytes per finding.
                let excerpt = &line[line.floor_char_boundary(quote.saturating_sub(EXCERPT_WINDOW))
                    ..line.floor_char_boundary(literal.end().saturating_add(EXCERPT_WINDOW))];
                let finding = Finding::of(self, RiskLevel::Medium, file.path, format!("{} refers to missing `{written}`", file.path))
                    .describe(format!("The fixture is not at `{}`, where the test runner looks for it, nor anywhere else in its package: the test fails, or silently tests nothing.", places[0]))
                    .at_line(u32::try_from(i + 1).unwrap_or(u32::MAX), excerpt)
                    .remedy("restore the fixture or fix the path", false)
                    .likely_if(!certain)
                    .with_evidence("written_as", written)
                    .with_evidence("reference", "string_literal");
                missing.push((
                    UnresolvedFixture {
                        written: written.to_owned(),
                        place: places[0].clone(),
                        package: package.clone(),
                    },
                    finding,
                ));
            }
        }
        if !missing.is_empty() {
            self.missing
                .lock()
                .expect("no panics while locked")
                .extend(missing);
        }
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let missing = std::mem::take(&mut *self.missing.lock().expect("no panics while locked"));
        if missing.is_empty() {
            self.folders.clear();
            return;
        }
        let folders = Folders::new(ctx.root, &self.folders);
        let (repo, mut ignore) = after_walk(ctx);
        let written: BTreeSet<&str> = missing.iter().map(|(m, _)| m.written.as_str()).collect();
        let elsewhere = repo
            .as_ref()
            .map(|repo| tracked_somewhere(repo, ctx.root, &written))
            .unwrap_or_default();
        for (m, finding) in missing {
            // Joined to a folder the line does not show: a file of the
            // test's own package ends in the literal.
            // test's own package (not a package nested in it) ends in the
            // literal.
            let in_package = elsewhere.get(&m.written).is_some_and(|paths| {
                paths.iter().any(|p| {
                    folders
                        .nearest(parent(p), |f| f.manifest)
                        .map(|(dir, _)| dir)
                        .unwrap_or_default()
                        == m.package
                })
            });
            if in_package || ignore.ignores(&m.place, false) {
                continue;
            }
            out.push(finding);
        }
        self.folders.clear();
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
        let Some(text) = file.text_str() else {
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
            // pytest's own files: the `testpaths` of the one that
            // configures it.
            _ => pytest::configures(name, text).unwrap_or_default(),
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
