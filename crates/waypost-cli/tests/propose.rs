//! `waypost propose`: a plan for a real repository, in every format.

use serde_json::Value;

use crate::support::waypost_in;

#[test]
fn a_plan_is_proposed_for_the_scanned_gaps() {
    let repo = crate::support::repo_with_a_moved_link();
    let run = waypost_in(repo.path(), &["propose", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let actions = plan["actions"].as_array().expect("actions");
    let doc = actions
        .iter()
        .find(|a| a["action_type"] == "doc_update")
        .expect("the moved link is rewritten");
    assert_eq!(doc["edits"][0]["path"], "README.md");
    assert_eq!(doc["edits"][0]["old_text"], "docs/setup.md");
    assert_eq!(doc["edits"][0]["new_text"], "docs/guide/setup.md");
    let clutter = actions
        .iter()
        .find(|a| a["action_type"] == "file_move")
        .expect("the log is archived");
    assert_eq!(clutter["moves"][0]["from"], "debug.log");
    for action in actions {
        assert!(action["approval_status"].is_string());
        assert!(
            !action["approval_reasons"]
                .as_array()
                .expect("reasons")
                .is_empty()
        );
    }
}

#[test]
fn write_stores_plan_and_report_and_they_validate() {
    let repo = crate::support::repo_with_a_moved_link();
    let run = waypost_in(repo.path(), &["propose", "--write"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("plan_proposal_v1.json"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("auto-approved"), "{}", run.stdout);
    let runs = repo.path().join(".autonomous_runs");
    let run = waypost_in(repo.path(), &["validate", &runs.display().to_string()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("plan_proposal_v1"), "{}", run.stdout);
    assert!(run.stdout.contains("gap_report_v1"), "{}", run.stdout);
}

#[test]
fn a_given_report_is_planned_without_scanning_and_a_bad_one_is_named() {
    let repo = crate::support::repo_with_a_moved_link();
    let scan = waypost_in(repo.path(), &["scan", "--format", "json"]);
    let report = repo.path().join("report.json");
    std::fs::write(&report, &scan.stdout).expect("write report");
    let report_arg = report.display().to_string();
    let run = waypost_in(
        repo.path(),
        &["propose", "--gaps", &report_arg, "--format", "markdown"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("### waypost plan"), "{}", run.stdout);
    assert!(run.stdout.contains("| # | verdict | action | risk | why |"));

    std::fs::write(&report, "{\"format_version\": \"v1\"}").expect("write");
    let run = waypost_in(repo.path(), &["propose", "--gaps", &report_arg]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("report.json"), "{}", run.stderr);

    let run = waypost_in(repo.path(), &["propose", "--max-actions", "0"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("max_actions is 0"), "{}", run.stderr);
}

#[test]
fn the_quick_start_proposes_a_valid_plan_for_this_checkout() {
    // The README's quick start runs `waypost propose` on this checkout.
    let run = crate::support::waypost(&["propose", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = dir.path().join("plan.json");
    std::fs::write(&plan, &run.stdout).expect("write plan");
    let check = crate::support::waypost(&["validate", &plan.display().to_string()]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let text = crate::support::waypost(&["propose"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains(" actions (") || text.stdout.contains(" action ("),
        "{}",
        text.stdout
    );
}
