//! The Autopack profile from the command line: the files hold only
//! published fields, sidecars keep the rest, and waypost reads them whole.

use std::path::{Path, PathBuf};

use serde_json::Value;
use waypost_test_support::TestRepo;

use crate::support::waypost_in;

/// Every file named `name` under `dir`.
fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(find(&path, name));
        } else if path.file_name().is_some_and(|n| n == name) {
            out.push(path);
        }
    }
    out
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

fn check_compat_files(repo: &TestRepo) {
    let runs = repo.path().join(".autonomous_runs");
    let report = find(&runs, "gap_report_v1.json");
    let plan = find(&runs, "plan_proposal_v1.json");
    assert_eq!((report.len(), plan.len()), (1, 1), "{report:?} {plan:?}");
    let report_text = std::fs::read_to_string(&report[0]).expect("read");
    for waypost_field in ["\"detector\"", "\"locations\"", "\"line\""] {
        assert!(
            !report_text.contains(waypost_field),
            "{waypost_field} in {report_text}"
        );
    }
    let plan_value = json(&plan[0]);
    for action in plan_value["actions"].as_array().expect("actions") {
        for waypost_field in [
            "approval_reasons",
            "estimated_changed_lines",
            "edits",
            "moves",
            "source",
            "evidence",
        ] {
            assert!(
                action.get(waypost_field).is_none(),
                "{waypost_field} in {action}"
            );
        }
    }
    let sidecar = json(&report[0].with_file_name("gap_report_v1.waypost.json"));
    assert_eq!(sidecar["sidecar"], "waypost_sidecar_v1");
    assert!(!sidecar["changes"].as_array().expect("changes").is_empty());
    assert!(
        plan[0]
            .with_file_name("plan_proposal_v1.waypost.json")
            .is_file()
    );
    // waypost reads them whole: valid, and the merged plan's id is the one
    // the sidecar records.
    let run = waypost_in(repo.path(), &["validate", &runs.display().to_string()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        !run.stdout.contains("waypost.json"),
        "sidecars are read with their artifact: {}",
        run.stdout
    );
}

#[test]
fn propose_writes_report_and_plan_in_the_autopack_profile() {
    let repo = crate::support::repo_with_a_moved_link();
    let run = waypost_in(repo.path(), &["propose", "--write", "--compat", "autopack"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("plan_proposal_v1.waypost.json"),
        "{}",
        run.stderr
    );
    check_compat_files(&repo);
}

#[test]
fn the_configuration_sets_the_profile_and_the_flag_overrides_it() {
    let repo = crate::support::repo_with_a_moved_link();
    repo.write("waypost.toml", "[output]\ncompat = \"autopack\"\n")
        .commit_all("config");
    let run = waypost_in(repo.path(), &["propose", "--write"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    check_compat_files(&repo);

    let scan = waypost_in(repo.path(), &["scan", "--format", "json"]);
    assert!(!scan.stdout.contains("\"detector\""), "{}", scan.stdout);
    assert!(
        scan.stderr.contains("Autopack profile leaves out"),
        "{}",
        scan.stderr
    );
    let full = waypost_in(
        repo.path(),
        &["scan", "--format", "json", "--compat", "waypost"],
    );
    assert!(full.stdout.contains("\"detector\""));

    repo.write("waypost.toml", "[output]\ncompat = \"autopak\"\n");
    let bad = waypost_in(repo.path(), &["scan", "--format", "json"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("[output] compat"), "{}", bad.stderr);
}

#[test]
fn anchor_check_warns_what_autopack_will_not_enforce() {
    let repo = TestRepo::new();
    repo.write(
        "intention.toml",
        "project_id = \"demo\"\n[governance_review]\nnever_auto_approve = [\"src/main.rs\"]\n[[governance_review.auto_approve_rules]]\nrule_id = \"docs\"\ncriteria = { action_types = [\"doc_update\"], path_globs = [\"docs/**\"], max_changed_lines = 20 }\n",
    )
    .write("README.md", "# demo\n")
    .commit_all("init");
    let plain = waypost_in(repo.path(), &["anchor", "check"]);
    assert!(
        !plain.stdout.contains("autopack_not_enforced"),
        "{}",
        plain.stdout
    );
    let compat = waypost_in(repo.path(), &["anchor", "check", "--compat", "autopack"]);
    assert!(
        compat.stdout.contains("autopack_not_enforced"),
        "{}{}",
        compat.stdout,
        compat.stderr
    );
    assert!(compat.stdout.contains("rule `docs`"), "{}", compat.stdout);
    let shown = waypost_in(
        repo.path(),
        &["anchor", "show", "--format", "json", "--compat", "autopack"],
    );
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let anchor: Value = serde_json::from_str(&shown.stdout).expect("JSON");
    assert!(
        anchor["pivot_intentions"]["governance_review"]
            .get("never_auto_approve")
            .is_none()
    );
    assert!(anchor.get("provenance").is_none());
    let description =
        anchor["pivot_intentions"]["governance_review"]["auto_approve_rules"][0]["description"]
            .as_str()
            .expect("described");
    assert!(
        description.contains("waypost enforces: action types doc_update"),
        "{description}"
    );
}
