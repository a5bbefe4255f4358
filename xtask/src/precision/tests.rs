//! The round trip: a repository, its report, marks, fixtures.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use waypost_schemas::Timestamp;
use waypost_test_support::TestRepo;

use super::marked::{self, Marked};
use super::{Sample, fixture, report};

/// A small workspace with two broken links, a test reading a missing
/// fixture, and same-name files in and out of `.gitignore`.
fn source_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n")
        .write(
            "pyproject.toml",
            "[project]\nname = \"demo\"\n\n[tool.pytest.ini_options]\ntestpaths = [\"crates/demo/tests\"]\naddopts = \"-q\"\n",
        )
        .write(".gitignore", "/target\n")
        .write("README.md", "# demo\n")
        .write(
            "crates/demo/Cargo.toml",
            "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .write("crates/demo/src/lib.rs", "//! demo\n")
        .write(
            "crates/demo/tests/reads.rs",
            "#[test]\nfn reads() {\n    let _ = std::fs::read(\"tests/data/input.txt\");\n}\n",
        )
        .write("examples/input.txt", "private words\n")
        .write(
            "docs/index.md",
            "# Docs\n\nSee [the setup](setup.md) and [the plan](plan.md).\n",
        )
        .write("docs/guide/setup.md", "# Setup\n\nprivate words\n")
        .commit_all("initial");
    // Ignored: a build output is not where a reader finds the file.
    repo.write("target/setup.md", "built\n");
    repo
}

fn now() -> Timestamp {
    Timestamp::parse("2026-01-01T00:00:00Z").expect("timestamp")
}

/// The one sample of `detector` (and `target`, when given).
fn find<'a>(marked: &'a [Marked], detector: &str, target: Option<&str>) -> &'a Sample {
    let found: Vec<&Sample> = marked
        .iter()
        .filter_map(|m| m.sample.as_ref().ok())
        .filter(|s| s.detector == detector && (target.is_none() || s.target() == target))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {detector} sample for {target:?}: {found:?}"
    );
    found[0]
}

/// Ticks `label` in the section of `gap_id`.
fn tick(text: &str, gap_id: &str, label: &str) -> String {
    let start = text
        .find(&format!("#### {gap_id}\n"))
        .expect("the sample's heading");
    let box_at = start
        + text[start..]
            .find(&format!("- [ ] {label}\n"))
            .expect("the sample's box");
    format!("{}- [x]{}", &text[..box_at], &text[box_at + 5..])
}

/// Every file under `dir`, relative, with its contents.
fn files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for entry in fs::read_dir(&folder).expect("read folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .to_str()
                    .expect("UTF-8")
                    .replace('\\', "/");
                out.insert(relative, fs::read_to_string(&path).expect("read"));
            }
        }
    }
    out
}

fn expect_json(
    detector: &str,
    file: &str,
    target: &str,
    reference: &str,
    expected: bool,
    repo: &str,
    head: &str,
) -> String {
    format!(
        "{{\n  \"detector\": \"{detector}\",\n  \"file\": \"{file}\",\n  \"target\": \"{target}\",\n  \
         \"reference\": \"{reference}\",\n  \"finding_expected\": {expected},\n  \
         \"source\": {{ \"repo\": \"{repo}\", \"head\": \"{head}\" }}\n}}\n"
    )
}

#[test]
fn reports_are_byte_identical_for_the_same_tree_and_seed() {
    let repo = source_repo();
    let given = repo.path().to_str().expect("UTF-8").to_owned();
    let first = report::render(std::slice::from_ref(&given), 20, 7, &now()).expect("report");
    let second = report::render(std::slice::from_ref(&given), 20, 7, &now()).expect("report");
    assert_eq!(first, second);
    assert!(first.contains("| broken_markdown_link | 2 | "), "{first}");
    assert!(
        first.contains("### broken_markdown_link: 2 of 2 findings"),
        "{first}"
    );
    let one = report::render(std::slice::from_ref(&given), 1, 7, &now()).expect("report");
    assert!(
        one.contains("### broken_markdown_link: 1 of 2 findings"),
        "{one}"
    );
}

#[test]
fn a_missing_folder_is_named_in_the_error() {
    let err = report::render(&["/no/such/repo".to_owned()], 20, 0, &now()).expect_err("no folder");
    assert!(format!("{err:#}").contains("/no/such/repo"), "{err:#}");
}

#[test]
fn marks_become_fixtures_built_from_names_only() {
    let repo = source_repo();
    let given = repo.path().to_str().expect("UTF-8").to_owned();
    let name = repo
        .path()
        .canonicalize()
        .expect("canonical")
        .file_name()
        .expect("name")
        .to_str()
        .expect("UTF-8")
        .to_owned();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();

    let mut text = report::render(std::slice::from_ref(&given), 20, 0, &now()).expect("report");
    assert!(text.contains(&head), "the report names HEAD");
    let marked = marked::parse(&text);
    let plan = find(&marked, "broken_markdown_link", Some("plan.md")).clone();
    let setup = find(&marked, "broken_markdown_link", Some("setup.md")).clone();
    let reads = find(&marked, "missing_test_fixture", None).clone();
    text = tick(&text, &plan.gap_id, "right");
    text = tick(&text, &setup.gap_id, "wrong");
    text = tick(&text, &reads.gap_id, "right");

    let work = tempfile::tempdir().expect("tempdir");
    let marked_file = work.path().join("precision.md");
    fs::write(&marked_file, &text).expect("write");
    let to = work.path().join("precision");
    let outcome = fixture::write_fixtures(&marked_file, &to).expect("fixtures");
    assert_eq!(outcome.written.len(), 3, "{outcome:?}");
    assert!(
        outcome
            .skipped
            .iter()
            .all(|(_, why)| why == "no box ticked"),
        "{outcome:?}"
    );
    assert_eq!(outcome.marks["broken_markdown_link"], (1, 1));
    assert_eq!(outcome.marks["missing_test_fixture"], (1, 0));

    let markers = [
        ("tree/Cargo.toml", "[workspace]\n"),
        (
            "tree/pyproject.toml",
            "[tool.pytest.ini_options]\ntestpaths = [\"crates/demo/tests\"]\n",
        ),
    ];
    let expected = |entries: &[(&str, String)]| -> BTreeMap<String, String> {
        markers
            .iter()
            .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
            .chain(entries.iter().map(|(p, c)| ((*p).to_owned(), c.clone())))
            .collect()
    };

    let plan_dir = to.join(format!("broken_markdown_link-{}", plan.gap_id));
    assert_eq!(
        files(&plan_dir),
        expected(&[
            (
                "expect.json",
                expect_json(
                    "broken_markdown_link",
                    "docs/index.md",
                    "plan.md",
                    "link",
                    true,
                    &name,
                    &head
                ),
            ),
            ("tree/docs/index.md", "[x](plan.md)\n".to_owned()),
        ])
    );

    // The same-name file is there, empty; the ignored build output is not.
    let setup_dir = to.join(format!("broken_markdown_link-{}", setup.gap_id));
    assert_eq!(
        files(&setup_dir),
        expected(&[
            (
                "expect.json",
                expect_json(
                    "broken_markdown_link",
                    "docs/index.md",
                    "setup.md",
                    "link",
                    false,
                    &name,
                    &head
                ),
            ),
            ("tree/docs/index.md", "[x](setup.md)\n".to_owned()),
            ("tree/docs/guide/setup.md", String::new()),
        ])
    );

    let reads_dir = to.join(format!("missing_test_fixture-{}", reads.gap_id));
    assert_eq!(
        files(&reads_dir),
        expected(&[
            (
                "expect.json",
                expect_json(
                    "missing_test_fixture",
                    "crates/demo/tests/reads.rs",
                    // In two parts: the scan of this repository reads this
                    // file too, and would take the expectation for a
                    // fixture a test reads.
                    concat!("tests/data", "/input.txt"),
                    "string_literal",
                    true,
                    &name,
                    &head,
                ),
            ),
            (
                "tree/crates/demo/Cargo.toml",
                "[package]\nname = \"fixture\"\nversion = \"0.0.0\"\n".to_owned(),
            ),
            (
                "tree/crates/demo/tests/reads.rs",
                "#[test]\nfn reads_fixture() {\n    let _ = std::fs::read(\"tests/data/input.txt\");\n}\n"
                    .to_owned(),
            ),
            ("tree/examples/input.txt", String::new()),
        ])
    );

    // The trees put the scanner where the source did: the findings judged
    // right come back from the reproduction alone.
    for (dir, sample) in [(&plan_dir, &plan), (&reads_dir, &reads)] {
        let sample_of = |gap: &waypost_schemas::Gap| Sample::of(&given, &head, gap);
        let found = rescan(&dir.join("tree")).iter().map(sample_of).any(|s| {
            s.detector == sample.detector
                && s.file() == sample.file()
                && s.target() == sample.target()
        });
        assert!(found, "{} reproduces {}", dir.display(), sample.gap_id);
    }

    // Running it again replaces the fixtures with the same files.
    let again = fixture::write_fixtures(&marked_file, &to).expect("fixtures");
    assert_eq!(again.written, outcome.written);
}

/// The gaps the built-in detectors find in `root`.
fn rescan(root: &Path) -> Vec<waypost_schemas::Gap> {
    let config = waypost_gaps::ScanConfig::default();
    let context = waypost_gaps::ReportContext {
        project_id: "fixture".to_owned(),
        run_id: "precision".to_owned(),
        now: now(),
    };
    waypost_gaps::scan(
        root,
        &waypost_gaps::detectors::builtin(&config),
        &config,
        &context,
    )
    .expect("scan")
    .report
    .gaps
}

#[test]
fn a_file_without_samples_is_refused() {
    let work = tempfile::tempdir().expect("tempdir");
    let file = work.path().join("notes.md");
    fs::write(&file, "# Notes\n\n- [x] right\n").expect("write");
    let err = fixture::write_fixtures(&file, &work.path().join("out")).expect_err("no samples");
    assert!(format!("{err:#}").contains("holds no samples"), "{err:#}");
    let missing =
        fixture::write_fixtures(&work.path().join("none.md"), work.path()).expect_err("unreadable");
    assert!(format!("{missing:#}").contains("none.md"), "{missing:#}");
}

#[test]
fn arguments_parse_with_defaults() {
    let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let parsed =
        super::parse_report_args(&args(&["a", "--seed=3", "b", "--sample", "5"])).expect("parse");
    assert_eq!(parsed.repos, ["a", "b"]);
    assert_eq!((parsed.sample, parsed.seed), (5, 3));
    assert_eq!(parsed.out, Path::new("precision.md"));
    assert!(super::parse_report_args(&args(&["--out", "x.md"])).is_err());
    assert!(super::parse_report_args(&args(&["a", "--bogus"])).is_err());
    let fixtures =
        super::parse_fixture_args(&args(&["--marked", "m.md", "--to", "d"])).expect("parse");
    assert_eq!(
        (fixtures.marked.as_path(), fixtures.to.as_path()),
        (Path::new("m.md"), Path::new("d"))
    );
    assert!(super::parse_fixture_args(&args(&["--marked", "m.md"])).is_err());
}
