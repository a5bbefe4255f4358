//! `waypost scan`: exit 0 no gaps, 1 gaps, 2 bad input.

use serde_json::Value;
use waypost_test_support::TestRepo;

use crate::support::waypost_in;

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
    assert!(
        text.stderr.is_empty(),
        "no progress bar when not on a terminal: {}",
        text.stderr
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
    repo.write(
        "waypost.toml",
        "[scan]\ndisabled = [\"broken_markdown_link\", \"root_file_outside_allowlist\"]\n",
    );
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
