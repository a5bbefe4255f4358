//! `waypost policy check`: verdict, reasons, counterfactual, exit codes.

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::waypost_in;

const ANCHOR: &str = r#"
project_id = "demo"
[north_star]
desired_outcomes = ["docs stay current"]

[safety_risk]
never_allow = ["git push --force", "secrets/**"]
requires_approval = ["cargo publish"]

[scope_boundaries]
allowed_write_roots = ["docs/", "src/"]
protected_paths = [".github/**"]

[governance_review]
default_policy = "deny"

[[governance_review.auto_approve_rules]]
rule_id = "small-docs"
criteria = { action_types = ["doc_update"], path_globs = ["docs/**"], max_changed_lines = 40, max_risk_score = 0.2 }
"#;

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp");
    std::fs::write(dir.path().join("intention.toml"), ANCHOR).expect("write");
    std::fs::create_dir_all(dir.path().join("docs")).expect("mkdir");
    dir
}

fn write_action(dir: &std::path::Path, action: &Value) {
    std::fs::write(dir.join("action.json"), action.to_string()).expect("write");
}

#[test]
fn an_action_a_rule_covers_is_auto_approved_with_exit_0() {
    let dir = repo();
    write_action(
        dir.path(),
        &json!({"action_type": "doc_update", "target_paths": ["docs/a.md"], "estimated_changed_lines": 5, "risk_score": 0.1}),
    );
    let run = waypost_in(dir.path(), &["policy", "check", "--action", "action.json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("verdict: auto-approve\n"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("rule:small-docs"), "{}", run.stdout);
}

#[test]
fn a_hidden_force_push_is_denied_with_its_rule_and_exit_1() {
    let dir = repo();
    write_action(
        dir.path(),
        &json!({"action_type": "git_operation", "command": "cd docs && FOO=1 git -C .. push -f", "risk_score": 0.1}),
    );
    let run = waypost_in(
        dir.path(),
        &[
            "policy",
            "check",
            "--action",
            "action.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(report["verdict"], "deny");
    assert_eq!(report["approval_status"], "blocked");
    let reasons = report["reasons"].as_array().expect("reasons");
    assert!(
        reasons.iter().any(|r| r["rule_id"] == "anchor.never_allow"
            && r["message"]
                .as_str()
                .is_some_and(|m| m.contains("`git push --force`"))),
        "{reasons:?}"
    );
    assert_eq!(report["counterfactual"]["kind"], "none");
}

#[test]
fn the_action_can_come_on_standard_input_and_needing_approval_exits_1() {
    let dir = repo();
    let mut child = Command::new(env!("CARGO_BIN_EXE_waypost"))
        .args(["policy", "check", "--action", "-"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(
            json!({"action_type": "doc_update", "target_paths": ["docs/a.md"], "estimated_changed_lines": 120, "risk_score": 0.1})
                .to_string()
                .as_bytes(),
        )
        .expect("write");
    let output = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("verdict: require approval\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("counterfactual: reduce changed lines from 120 to at most 40; then rule `small-docs` approves it"),
        "{stdout}"
    );
}

#[test]
fn bad_input_names_the_file_and_what_is_wrong_with_exit_2() {
    let dir = repo();
    std::fs::write(dir.path().join("action.json"), "{not json").expect("write");
    let run = waypost_in(dir.path(), &["policy", "check", "--action", "action.json"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("action.json: not JSON"),
        "{}",
        run.stderr
    );

    write_action(dir.path(), &json!({"action_type": "doc_update"}));
    let run = waypost_in(dir.path(), &["policy", "check", "--action", "action.json"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`risk_score` is required"),
        "{}",
        run.stderr
    );

    write_action(
        dir.path(),
        &json!({"action_type": "doc_update", "risk_score": 0.1, "target_paths": "docs/a.md"}),
    );
    let run = waypost_in(dir.path(), &["policy", "check", "--action", "action.json"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("action.json"), "{}", run.stderr);

    let run = waypost_in(dir.path(), &["policy", "check", "--action", "missing.json"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.json"), "{}", run.stderr);
}

#[test]
fn an_unknown_action_type_needs_approval() {
    let dir = repo();
    write_action(
        dir.path(),
        &json!({"action_type": "teleport", "target_paths": ["docs/a.md"], "estimated_changed_lines": 1, "risk_score": 0.0}),
    );
    let run = waypost_in(dir.path(), &["policy", "check", "--action", "action.json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("builtin.unknown_action_type"),
        "{}",
        run.stdout
    );
}
