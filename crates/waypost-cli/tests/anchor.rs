//! `waypost anchor init | check | show`.

use std::path::Path;

use serde_json::Value;

use crate::support::waypost_in;

fn fill_north_star(dir: &Path) {
    let path = dir.join("intention.toml");
    let text = std::fs::read_to_string(&path)
        .expect("read")
        .replace(
            "desired_outcomes = []",
            "desired_outcomes = [\"CI stays green\"]",
        )
        .replace(
            "success_signals = []",
            "success_signals = [\"a week without red builds\"]",
        )
        .replace("hard_blocks = []", "hard_blocks = [\"cargo test\"]")
        .replace(
            "persist_to_sot = []",
            "persist_to_sot = [\"build_history\"]",
        );
    std::fs::write(path, text).expect("write");
}

#[test]
fn check_with_no_anchor_uses_the_default_says_so_and_asks() {
    let dir = tempfile::tempdir().expect("temp");
    let run = waypost_in(dir.path(), &["anchor", "check"]);
    assert_eq!(run.code, 1, "questions remain: {}", run.stdout);
    assert!(run.stdout.contains("built-in default"), "{}", run.stdout);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn init_then_fill_in_gives_a_complete_anchor() {
    let dir = tempfile::tempdir().expect("temp");
    let run = waypost_in(dir.path(), &["anchor", "init"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(dir.path().join("intention.toml")).expect("written");
    assert!(
        text.contains("created_at = \"2026-01-01T00:00:00Z\""),
        "{text}"
    );
    assert_eq!(
        waypost_in(dir.path(), &["anchor", "check"]).code,
        1,
        "north star still empty"
    );
    fill_north_star(dir.path());
    let run = waypost_in(dir.path(), &["anchor", "check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn init_says_what_it_wrote_as_json_when_asked() {
    let dir = tempfile::tempdir().expect("temp");
    let run = waypost_in(
        dir.path(),
        &["anchor", "init", "mine.toml", "--format", "json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(out["written"], "mine.toml");
    assert!(dir.path().join("mine.toml").is_file());
}

#[test]
fn init_never_overwrites() {
    let dir = tempfile::tempdir().expect("temp");
    std::fs::write(dir.path().join("intention.toml"), "project_id = \"mine\"\n").expect("write");
    let run = waypost_in(dir.path(), &["anchor", "init"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("never overwrites"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("intention.toml")).expect("read"),
        "project_id = \"mine\"\n"
    );
}

#[test]
fn contradictions_and_risks_are_listed_with_codes() {
    let dir = tempfile::tempdir().expect("temp");
    assert_eq!(waypost_in(dir.path(), &["anchor", "init"]).code, 0);
    fill_north_star(dir.path());
    let path = dir.path().join("intention.toml");
    let text = std::fs::read_to_string(&path)
        .expect("read")
        .replace("default_policy = \"deny\"", "default_policy = \"allow\"")
        .replace("allowed = false", "allowed = true")
        .replace(
            "protected_paths = [\".git/**\", \".github/**\"]",
            "protected_paths = [\".git/**\", \".autonomous_runs/**\"]",
        );
    std::fs::write(&path, text).expect("write");
    let run = waypost_in(dir.path(), &["anchor", "check"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn a_broken_anchor_lists_every_problem_with_its_line() {
    let dir = tempfile::tempdir().expect("temp");
    std::fs::write(
        dir.path().join("intention.toml"),
        "project_id = \"x\"\n[safety_risk]\nrisk_tolerance = \"reckless\"\n[budget_cost]\ntoken_cap_global = -5\n[saftey]\na = 1\n",
    )
    .expect("write");
    let run = waypost_in(dir.path(), &["anchor", "check"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn a_missing_file_and_a_bad_source_date_epoch_are_usage_errors() {
    let dir = tempfile::tempdir().expect("temp");
    let run = waypost_in(dir.path(), &["anchor", "check", "nope.toml"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nope.toml"), "{}", run.stderr);
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_waypost"))
        .args(["anchor", "check"])
        .current_dir(dir.path())
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("SOURCE_DATE_EPOCH"));
}

#[test]
fn show_prints_the_same_anchor_in_every_format() {
    let dir = tempfile::tempdir().expect("temp");
    assert_eq!(waypost_in(dir.path(), &["anchor", "init"]).code, 0);
    let json = waypost_in(dir.path(), &["anchor", "show", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    // The artifact itself: saved, it is a file waypost accepts.
    let value: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(value["format_version"], "v2");
    assert!(value.get("anchor_id").is_none(), "{}", json.stdout);
    std::fs::write(dir.path().join("a.json"), &json.stdout).expect("write");
    let valid = waypost_in(dir.path(), &["validate", "a.json"]);
    assert_eq!(valid.code, 0, "{}{}", valid.stdout, valid.stderr);
    let check = waypost_in(dir.path(), &["anchor", "check", "--format", "json"]);
    let report: Value = serde_json::from_str(&check.stdout).expect("JSON");
    let id = report["anchor_id"].as_str().expect("id").to_owned();

    // The TOML form is an authored anchor that loads to the same intentions.
    let toml = waypost_in(dir.path(), &["anchor", "show", "--format", "toml"]);
    assert!(
        toml.stdout.starts_with(&format!("# anchor_id: {id}\n")),
        "{}",
        toml.stdout
    );
    std::fs::write(dir.path().join("shown.toml"), &toml.stdout).expect("write");
    let again = waypost_in(
        dir.path(),
        &["anchor", "show", "shown.toml", "--format", "json"],
    );
    let value2: Value = serde_json::from_str(&again.stdout).expect("JSON");
    assert_eq!(value2["pivot_intentions"], value["pivot_intentions"]);

    let text = waypost_in(dir.path(), &["anchor", "show"]);
    assert!(text.stdout.contains(&format!("anchor_id: {id}")));
    assert!(
        text.stdout.contains("risk_tolerance = \"low\""),
        "{}",
        text.stdout
    );
}

#[test]
fn this_repositorys_own_anchor_is_complete_and_consistent() {
    // The README's quick start runs this command on this checkout.
    let run = crate::support::waypost(&["anchor", "check"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("./intention.toml (TOML)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .ends_with("result: 0 errors, 0 warnings, 0 questions\n"),
        "{}",
        run.stdout
    );
}
