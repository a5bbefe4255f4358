//! `waypost scan`: exit 0 no gaps, 1 gaps, 2 bad input.

use serde_json::Value;
use waypost_test_support::TestRepo;

use crate::support::{Run, waypost_in};

fn repo_with_gaps() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n\n[guide](docs/missing.md)\n")
        .write("Cargo.toml", "[package]\nname = \"demo\"\n")
        .commit_all("initial");
    repo.write("debug.log", "x\n");
    repo
}

#[test]
fn a_clean_repository_exits_zero() {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n").commit_all("initial");
    let run = waypost_in(repo.path(), &["scan", "--quiet"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .ends_with("0 gaps (0 critical, 0 high, 0 medium, 0 low), 0 blocking the autopilot\n")
    );
}

#[test]
fn gaps_exit_one_in_every_format() {
    let repo = repo_with_gaps();
    let text = waypost_in(repo.path(), &["scan"]);
    assert_eq!(text.code, 1);
    assert!(
        text.stdout.contains("broken_markdown_link") && text.stdout.contains("debug.log"),
        "{}",
        text.stdout
    );
    assert_eq!(
        text.stderr, "scanned 3 files\n",
        "no progress bar when not on a terminal, only what was scanned"
    );

    let json = waypost_in(repo.path(), &["scan", "--format", "json"]);
    assert_eq!(json.code, 1);
    let report: Value = serde_json::from_str(&json.stdout).expect("JSON");
    waypost::schemas::validate::validate_value(
        waypost::schemas::ArtifactKind::GapReportV1,
        &report,
    )
    .expect("a valid gap report");
    assert_eq!(
        report["project_id"], "demo",
        "the project comes from the anchor (inferred from Cargo.toml)"
    );
    assert_eq!(
        report["generated_at"], "2026-01-01T00:00:00Z",
        "SOURCE_DATE_EPOCH"
    );
    assert_eq!(
        report["metadata"]["files_scanned"], 3,
        "README.md, Cargo.toml and debug.log"
    );

    let sarif = waypost_in(repo.path(), &["scan", "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif.stdout).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["results"]
            .as_array()
            .expect("results")
            .len(),
        2
    );

    let markdown = waypost_in(repo.path(), &["scan", "--format", "markdown"]);
    assert!(
        markdown.stdout.starts_with("### waypost gap scan\n"),
        "{}",
        markdown.stdout
    );
}

#[test]
fn the_same_state_gives_the_same_json() {
    let repo = repo_with_gaps();
    let one = waypost_in(repo.path(), &["scan", "--format", "json"]).stdout;
    let two = waypost_in(repo.path(), &["scan", "--format", "json"]).stdout;
    assert_eq!(one, two, "byte-identical with a fixed SOURCE_DATE_EPOCH");
}

#[test]
fn write_stores_the_report_in_a_run_directory() {
    let repo = repo_with_gaps();
    let run = waypost_in(repo.path(), &["scan", "--write", "--quiet"]);
    assert_eq!(run.code, 1);
    let path = repo
        .path()
        .join(".autonomous_runs/demo/runs/scan/scan-20260101T000000Z/gaps/gap_report_v1.json");
    assert!(run.stderr.contains("gap_report_v1.json"), "{}", run.stderr);
    let (kind, _) = waypost::schemas::io::read_any(&path, None).expect("a valid stored report");
    assert_eq!(kind, waypost::schemas::ArtifactKind::GapReportV1);
}

#[test]
fn bad_input_exits_two() {
    let repo = repo_with_gaps();
    let run = waypost_in(repo.path(), &["scan", "no/such/folder"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no/such/folder: not a folder"),
        "{}",
        run.stderr
    );
    repo.write("waypost.toml", "[scan]\nmax_file_bytes = \"big\"\n");
    let run = waypost_in(repo.path(), &["scan"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("[scan] max_file_bytes: expected a positive number of bytes"),
        "{}",
        run.stderr
    );
    // Committed: an untracked waypost.toml is a change to a protected path.
    repo.write(
        "waypost.toml",
        "[scan]\ndisabled = [\"broken_markdown_link\", \"root_file_outside_allowlist\"]\n",
    )
    .commit_all("configure");
    let run = waypost_in(repo.path(), &["scan"]);
    assert_eq!(run.code, 0, "both detectors disabled: {}", run.stdout);
}

#[test]
fn a_generator_embeds_the_marker_that_keeps_its_output_fresh() {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n")
        .write("src/lib.rs", "pub fn f() {}\n")
        .write(
            "waypost.toml",
            "[[scan.generated]]\noutput = \"docs/api.md\"\ninputs = [\"src/**\"]\ncommand = \"make api\"\n",
        )
        .write("docs/api.md", "# API\n")
        .commit_all("initial");
    let stale = waypost_in(repo.path(), &["scan", "--quiet"]);
    assert_eq!(stale.code, 1);
    assert!(
        stale
            .stdout
            .contains("docs/api.md does not record its inputs"),
        "{}",
        stale.stdout
    );
    let marker = waypost_in(repo.path(), &["generated", "docs/api.md"]);
    assert_eq!(marker.code, 0, "{}", marker.stderr);
    assert!(
        marker.stdout.starts_with("waypost-generated-from: sha256:") && marker.stdout.len() == 96,
        "{:?}",
        marker.stdout
    );
    let as_json = waypost_in(
        repo.path(),
        &["generated", "docs/api.md", "--format", "json"],
    );
    let as_json: serde_json::Value = serde_json::from_str(&as_json.stdout).expect("json");
    assert_eq!(as_json["marker"], marker.stdout.trim());
    assert_eq!(as_json["output"], "docs/api.md");
    repo.write(
        "docs/api.md",
        &format!("# API\n\n<!-- {} -->\n", marker.stdout.trim()),
    );
    let fresh = waypost_in(repo.path(), &["scan", "--quiet"]);
    assert_eq!(fresh.code, 0, "{}", fresh.stdout);
    repo.write("src/lib.rs", "pub fn changed() {}\n");
    let changed = waypost_in(repo.path(), &["scan", "--quiet", "--format", "json"]);
    assert_eq!(changed.code, 1);
    let report: Value = serde_json::from_str(&changed.stdout).expect("JSON");
    let gap = &report["gaps"][0];
    assert_eq!(gap["title"], "Generated file docs/api.md is stale");
    assert_eq!(
        gap["safe_remediation"]["approach"],
        "run `make api` and commit the result"
    );
    let undeclared = waypost_in(repo.path(), &["generated", "docs/other.md"]);
    assert_eq!(undeclared.code, 2);
    assert!(
        undeclared
            .stderr
            .contains("docs/other.md: not declared in ./waypost.toml [[scan.generated]] (declared: docs/api.md)"),
        "{}",
        undeclared.stderr
    );
}

#[test]
fn detectors_are_listed_and_disabling_an_unknown_one_is_refused() {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n")
        .write("waypost.toml", "[scan]\ndisabled = [\"utf8_bom\"]\n")
        .commit_all("initial");
    let list = waypost_in(repo.path(), &["scan", "--list-detectors"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert!(lines.len() >= 30, "{}", list.stdout);
    let bom = lines
        .iter()
        .find(|l| l.starts_with("utf8_bom "))
        .expect("listed");
    assert!(
        bom.contains("windows_encoding_issue") && bom.ends_with("(disabled)"),
        "{bom}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("worktree_missing ") && !l.ends_with("(disabled)"))
    );
    repo.write("waypost.toml", "[scan]\ndisabled = [\"utf8_bmo\"]\n");
    let typo = waypost_in(repo.path(), &["scan", "--quiet"]);
    assert_eq!(typo.code, 2);
    assert!(
        typo.stderr
            .contains("[scan] disabled: no detector is called `utf8_bmo`"),
        "{}",
        typo.stderr
    );
}

#[test]
fn this_repository_scans_without_gaps_in_its_own_content() {
    // The README's quick start scans this checkout. Gaps that depend on the
    // local working state (stray files, git operations, locks) are the
    // developer's; gaps in the committed content are the project's.
    let run = crate::support::waypost(&["scan", "--quiet", "--format", "json"]);
    assert!(run.code <= 1, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let content_gaps: Vec<&Value> = report["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .filter(|g| {
            [
                "doc_drift",
                "test_infra_drift",
                "sot_duplicate",
                "windows_encoding_issue",
            ]
            .contains(&g["gap_type"].as_str().unwrap_or_default())
        })
        .collect();
    assert!(content_gaps.is_empty(), "{content_gaps:#?}");
}

/// Four broken links in two folders, a stray log and a BOM: three detectors.
fn repo_with_many_gaps() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n\n[guide](docs/missing.md)\n")
        .write("Cargo.toml", "[package]\nname = \"demo\"\n")
        .write("docs/a/one.md", "# one\n\n[x](gone1.md)\n")
        .write("docs/a/two.md", "# two\n\n[x](gone2.md)\n")
        .write("docs/b/three.md", "# three\n\n[x](gone3.md)\n")
        .write("src/lib.rs", "\u{feff}pub fn f() {}\n")
        .commit_all("initial");
    repo.write("debug.log", "x\n");
    repo
}

#[test]
fn text_output_is_a_summary_then_findings_grouped_by_detector() {
    let repo = repo_with_many_gaps();
    let run = waypost_in(repo.path(), &["scan", "--quiet", "--limit", "2"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
    // The limit cuts each detector's list, and says how many are left.
    assert!(
        run.stdout.contains(
            "  low      docs/a/one.md:3 links to `gone1.md`, which does not exist\n  … and 2 more\n"
        ),
        "{}",
        run.stdout
    );
    let all = waypost_in(repo.path(), &["scan", "--quiet", "--limit", "0"]);
    assert!(!all.stdout.contains("… and"), "{}", all.stdout);
    assert!(
        all.stdout
            .contains("  low      docs/b/three.md:3 links to `gone3.md`, which does not exist\n"),
        "{}",
        all.stdout
    );
    let default = waypost_in(repo.path(), &["scan", "--quiet"]);
    assert_eq!(
        default.stdout, all.stdout,
        "20 per detector is more than there are"
    );
    let markdown = waypost_in(
        repo.path(),
        &["scan", "--quiet", "--format", "markdown", "--limit", "1"],
    );
    assert!(
        markdown
            .stdout
            .contains("\n…and 3 more (see the full report).\n"),
        "{}",
        markdown.stdout
    );
}

/// `waypost scan --write-baseline waypost-baseline.json` in `repo`: the
/// file and the run.
fn write_baseline(repo: &TestRepo) -> (std::path::PathBuf, Run) {
    let file = repo.path().join("waypost-baseline.json");
    let file_arg = file.to_str().expect("UTF-8 path");
    let run = waypost_in(
        repo.path(),
        &["scan", "--quiet", "--write-baseline", file_arg],
    );
    (file, run)
}

#[test]
fn a_baseline_reports_only_new_gaps_and_what_no_longer_occurs() {
    let repo = repo_with_many_gaps();
    let (file, write) = write_baseline(&repo);
    let file_arg = file.to_str().expect("UTF-8 path");
    assert_eq!(
        write.code, 0,
        "writing a baseline accepts the gaps: {}",
        write.stderr
    );
    assert!(
        write.stderr.contains("6 gap(s) recorded"),
        "{}",
        write.stderr
    );
    let (kind, value) = waypost::schemas::io::read_any(&file, None).expect("a valid baseline");
    assert_eq!(kind, waypost::schemas::ArtifactKind::GapBaselineV1);
    assert_eq!(value["known_gaps"].as_array().expect("entries").len(), 6);
    let first = std::fs::read(&file).expect("baseline");

    // Nothing changed: nothing new, exit 0, and the file is rewritten
    // byte for byte.
    let same = waypost_in(repo.path(), &["scan", "--quiet", "--baseline", file_arg]);
    assert_eq!(same.code, 0, "{}{}", same.stdout, same.stderr);
    assert!(
        same.stdout.starts_with(
            "0 new gaps (0 critical, 0 high, 0 medium, 0 low), 0 blocking the autopilot\n\
             baseline: 6 known gaps not listed, 0 entries no longer found\n"
        ),
        "{}",
        same.stdout
    );
    waypost_in(
        repo.path(),
        &["scan", "--quiet", "--write-baseline", file_arg],
    );
    assert_eq!(
        std::fs::read(&file).expect("baseline"),
        first,
        "byte-identical"
    );

    // One gap fixed, one new: exit 1 for the new one, the fixed one listed.
    repo.write("docs/b/three.md", "# three\n")
        .write("docs/c/four.md", "# four\n\n[x](gone4.md)\n");
    let run = waypost_in(repo.path(), &["scan", "--quiet", "--baseline", file_arg]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("1 new gap (0 critical, 0 high, 0 medium, 1 low)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("baseline: 5 known gaps not listed, 1 entry no longer found\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  low      docs/c/four.md:3 links to `gone4.md`"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("docs/a/one.md"),
        "known gaps are not listed: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("no longer found (1 entry the baseline can drop):\n  low      docs/b/three.md:3 links to `gone3.md`"),
        "{}",
        run.stdout
    );

    // JSON: a valid gap report of the new gap only.
    let json = waypost_in(
        repo.path(),
        &[
            "scan",
            "--quiet",
            "--format",
            "json",
            "--baseline",
            file_arg,
        ],
    );
    assert_eq!(json.code, 1);
    let report: Value = serde_json::from_str(&json.stdout).expect("JSON");
    waypost::schemas::validate::validate_value(
        waypost::schemas::ArtifactKind::GapReportV1,
        &report,
    )
    .expect("a valid gap report");
    assert_eq!(report["gaps"].as_array().expect("gaps").len(), 1);
    assert_eq!(report["summary"]["total_gaps"], 1);
    assert!(
        json.stderr
            .contains("5 known gap(s) not reported as new, 1 entry no longer found"),
        "{}",
        json.stderr
    );

    // SARIF: every current gap, marked.
    let sarif = waypost_in(
        repo.path(),
        &[
            "scan",
            "--quiet",
            "--format",
            "sarif",
            "--baseline",
            file_arg,
        ],
    );
    let sarif: Value = serde_json::from_str(&sarif.stdout).expect("SARIF");
    let mut states: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["baselineState"].as_str().expect("baselineState"))
        .collect();
    states.sort_unstable();
    assert_eq!(
        states,
        [
            "new",
            "unchanged",
            "unchanged",
            "unchanged",
            "unchanged",
            "unchanged"
        ]
    );

    // Both flags: compare with the old file, then rewrite it; exit 0.
    let both = waypost_in(
        repo.path(),
        &[
            "scan",
            "--quiet",
            "--baseline",
            file_arg,
            "--write-baseline",
            file_arg,
        ],
    );
    assert_eq!(both.code, 0, "{}", both.stderr);
    assert!(
        both.stdout.starts_with("1 new gap"),
        "compared with the old file: {}",
        both.stdout
    );
    let after = waypost_in(repo.path(), &["scan", "--quiet", "--baseline", file_arg]);
    assert_eq!(after.code, 0, "{}", after.stdout);
    assert!(
        after
            .stdout
            .contains("baseline: 6 known gaps not listed, 0 entries no longer found\n"),
        "{}",
        after.stdout
    );
}

/// Lines added above a known gap do not make it new; a second copy of a
/// known gap is new, and so is the same link in another file.
#[test]
fn a_baseline_follows_gaps_whose_lines_move_and_counts_copies() {
    let repo = repo_with_many_gaps();
    let (file, write) = write_baseline(&repo);
    let file_arg = file.to_str().expect("UTF-8 path");
    assert_eq!(write.code, 0, "{}", write.stderr);

    // Three lines above the broken link: the same gap, on another line.
    repo.write(
        "docs/a/one.md",
        "# one\n\nan intro\nmore intro\neven more\n\n[x](gone1.md)\n",
    );
    let moved = waypost_in(repo.path(), &["scan", "--quiet", "--baseline", file_arg]);
    assert_eq!(moved.code, 0, "{}{}", moved.stdout, moved.stderr);
    assert!(
        moved
            .stdout
            .contains("baseline: 6 known gaps not listed, 0 entries no longer found\n"),
        "{}",
        moved.stdout
    );

    // The same broken link twice in that file: one is known, one is new.
    repo.write(
        "docs/a/one.md",
        "# one\n\n[x](gone1.md)\n\nagain: [x](gone1.md)\n",
    );
    let copied = waypost_in(repo.path(), &["scan", "--quiet", "--baseline", file_arg]);
    assert_eq!(copied.code, 1, "{}", copied.stderr);
    assert!(copied.stdout.starts_with("1 new gap"), "{}", copied.stdout);
    // The one listed as new is the second, further down.
    assert!(
        copied
            .stdout
            .contains("docs/a/one.md:5 links to `gone1.md`"),
        "{}",
        copied.stdout
    );
}

#[test]
fn the_same_state_gives_the_same_output_with_a_baseline() {
    let repo = repo_with_many_gaps();
    let file = repo.path().join("waypost-baseline.json");
    let file_arg = file.to_str().expect("UTF-8 path");
    waypost_in(
        repo.path(),
        &["scan", "--quiet", "--write-baseline", file_arg],
    );
    repo.write("docs/c/four.md", "# four\n\n[x](gone4.md)\n")
        .write("docs/a/one.md", "# one\n");
    for format in ["json", "text", "markdown", "sarif"] {
        let args = [
            "scan",
            "--quiet",
            "--limit",
            "1",
            "--format",
            format,
            "--baseline",
            file_arg,
        ];
        let one = waypost_in(repo.path(), &args);
        let two = waypost_in(repo.path(), &args);
        assert_eq!(one.code, 1, "{format}: {}", one.stderr);
        assert_eq!(one.stdout, two.stdout, "{format}: byte-identical");
        assert!(one.stdout.contains("gone4.md"), "{format}: {}", one.stdout);
    }
}

#[test]
fn a_bad_baseline_is_refused_before_the_scan_naming_the_file() {
    let repo = repo_with_many_gaps();
    let missing = waypost_in(
        repo.path(),
        &["scan", "--quiet", "--baseline", "no-such.json"],
    );
    assert_eq!(missing.code, 2);
    assert!(
        missing.stdout.is_empty(),
        "no scan output: {}",
        missing.stdout
    );
    assert!(
        missing.stderr.contains("cannot read no-such.json"),
        "{}",
        missing.stderr
    );
    assert!(
        missing
            .stderr
            .contains("hint: `waypost scan --write-baseline FILE`"),
        "{}",
        missing.stderr
    );

    // Each bad file: refused (exit 2) with the file and what is wrong.
    let report = waypost_in(repo.path(), &["scan", "--quiet", "--format", "json"]);
    for (name, content, expected) in [
        (
            "torn.json",
            "{\"format_version\": \"v1\", \"known_gaps\": [",
            &["baseline torn.json:1:", "not valid JSON"][..],
        ),
        (
            "bad.json",
            "{\"format_version\": \"v1\", \"known_gaps\": [{\"gap_id\": \"\"}]}",
            &["baseline bad.json: gap_baseline_v1:", "/known_gaps/0"][..],
        ),
        (
            "report.json",
            report.stdout.as_str(),
            &["baseline report.json: this is a gap_report_v1, not a gap_baseline_v1"][..],
        ),
    ] {
        repo.write(name, content);
        let run = waypost_in(repo.path(), &["scan", "--quiet", "--baseline", name]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        for fragment in expected {
            assert!(run.stderr.contains(fragment), "{name}: {}", run.stderr);
        }
    }

    #[cfg(unix)]
    {
        waypost_in(
            repo.path(),
            &["scan", "--quiet", "--write-baseline", "real.json"],
        );
        std::os::unix::fs::symlink("real.json", repo.path().join("link.json")).expect("link");
        let link = waypost_in(repo.path(), &["scan", "--quiet", "--baseline", "link.json"]);
        assert_eq!(link.code, 2);
        assert!(
            link.stderr.contains("link.json: it is a symbolic link"),
            "{}",
            link.stderr
        );
        let real = waypost_in(repo.path(), &["scan", "--quiet", "--baseline", "real.json"]);
        assert_ne!(real.code, 2, "the file itself is fine: {}", real.stderr);
    }
}

/// A likely gap (a code span naming a file that is not there: it may be
/// one the reader is to create) is counted, not listed, and does not fail
/// the scan; `--all` lists it and fails. JSON holds it either way, marked.
#[test]
fn likely_gaps_are_counted_unless_all_are_asked_for() {
    let repo = TestRepo::new();
    repo.write(
        "README.md",
        "# demo\n\nCreate `src/generated.rs` before you build.\n",
    )
    .write("Cargo.toml", "[package]\nname = \"demo\"\n")
    .write("src/lib.rs", "pub fn f() {}\n")
    .commit_all("initial");
    let text = waypost_in(repo.path(), &["scan", "--quiet"]);
    assert_eq!(text.code, 0, "{}{}", text.stdout, text.stderr);
    assert!(
        text.stdout
            .contains("1 likely gap not listed (not certain: `waypost scan --all` lists them)"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("src/generated.rs"), "{}", text.stdout);
    let all = waypost_in(repo.path(), &["scan", "--quiet", "--all"]);
    assert_eq!(all.code, 1, "{}{}", all.stdout, all.stderr);
    assert!(all.stdout.contains("src/generated.rs"), "{}", all.stdout);
    assert!(!all.stdout.contains("likely gap"), "{}", all.stdout);
    let json = waypost_in(repo.path(), &["scan", "--quiet", "--format", "json"]);
    assert_eq!(json.code, 0);
    let report: Value = serde_json::from_str(&json.stdout).expect("json");
    let signals = &report["gaps"][0]["detection_signals"];
    assert!(
        signals
            .as_array()
            .is_some_and(|s| s.iter().any(|v| v == "confidence:likely")),
        "{signals}"
    );
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    use std::io::Read;
    // Many findings, so the output is longer than a pipe holds.
    let repo = TestRepo::new();
    let mut doc = String::from("# Links\n");
    for i in 0..3000 {
        doc.push_str(&format!("- [gone {i}](missing/file-{i}.md)\n"));
    }
    repo.write("README.md", &doc).commit_all("init");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_waypost"))
        .args(["scan", "--limit", "0"])
        .current_dir(repo.path())
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 64];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("some output");
    // The read end is closed here, as `| head -c 64` would.
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    let status = child.wait().expect("wait");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}
