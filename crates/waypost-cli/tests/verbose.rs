//! `-v` and `-vv`: each step, then every decision and file, logged to
//! standard error; what a command prints on standard output is the same.

use waypost_test_support::TestRepo;

use crate::support::waypost_in;

/// A repository with a broken link, a binary file, a log at the root and
/// a protected file changed in the work tree.
fn repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n\n[guide](docs/missing.md)\n")
        .write("Cargo.toml", "[package]\nname = \"demo\"\n")
        .write(".github/ci.yml", "on: push\n")
        .commit_all("initial");
    repo.write(".github/ci.yml", "on: [push, pull_request]\n");
    std::fs::write(
        repo.path().join("logo.png"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    )
    .expect("write");
    repo.write("debug.log", "x\n");
    repo
}

/// The log lines of `stderr` at `level` (`INFO`, `DEBUG`).
fn lines<'a>(stderr: &'a str, level: &str) -> Vec<&'a str> {
    stderr
        .lines()
        .filter(|l| l.trim_start().starts_with(level))
        .collect()
}

#[test]
fn scan_logs_its_steps_with_v_and_every_file_and_gap_with_vv() {
    let repo = repo();
    let quiet = waypost_in(repo.path(), &["scan", "--format", "json"]);
    let steps = waypost_in(repo.path(), &["-v", "scan", "--format", "json"]);
    let every = waypost_in(repo.path(), &["-vv", "scan", "--format", "json"]);
    assert_eq!(quiet.code, 1, "{}", quiet.stderr);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    for run in [&steps, &every] {
        assert_eq!(run.code, quiet.code);
        assert_eq!(
            run.stdout, quiet.stdout,
            "logging changes nothing on stdout"
        );
    }

    let info = lines(&steps.stderr, "INFO");
    for step in [
        "anchor",
        "scan started",
        "git state read",
        "tree walked files=5 binary=1",
        "protected and baseline files compared with the index and HEAD changed=1",
        "scan finished gaps=",
    ] {
        assert!(
            info.iter().any(|l| l.contains(step)),
            "`{step}` among the steps:\n{}",
            steps.stderr
        );
    }
    assert!(
        lines(&steps.stderr, "DEBUG").is_empty(),
        "-v logs steps only:\n{}",
        steps.stderr
    );

    let debug = lines(&every.stderr, "DEBUG");
    for file in ["README.md", "Cargo.toml", "debug.log"] {
        assert!(
            debug
                .iter()
                .any(|l| l.contains("file checked") && l.contains(&format!("path=\"{file}\""))),
            "{file} logged as checked:\n{}",
            every.stderr
        );
    }
    assert!(
        debug
            .iter()
            .any(|l| l.contains("binary") && l.contains("path=\"logo.png\"")),
        "the binary logged as such:\n{}",
        every.stderr
    );
    assert!(
        debug
            .iter()
            .any(|l| l.contains("changed") && l.contains("path=.github/ci.yml")),
        "the changed protected file logged:\n{}",
        every.stderr
    );
    let gaps = debug.iter().filter(|l| l.contains(" gap gap=gap-")).count();
    let report: serde_json::Value = serde_json::from_str(&quiet.stdout).expect("JSON");
    assert_eq!(
        gaps,
        report["gaps"].as_array().expect("gaps").len(),
        "every gap of the report logged:\n{}",
        every.stderr
    );
}

#[test]
fn propose_logs_each_governance_decision_with_vv() {
    let repo = repo();
    let run = waypost_in(repo.path(), &["-vv", "propose", "--format", "json"]);
    assert!(run.code <= 1, "{}", run.stderr);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON plan");
    let actions = plan["actions"].as_array().expect("actions");
    assert!(!actions.is_empty(), "{}", run.stdout);
    let decided: Vec<&str> = lines(&run.stderr, "DEBUG")
        .into_iter()
        .filter(|l| l.contains("governance decided"))
        .collect();
    // Each action, and each candidate refused (its gaps deferred).
    let refused = plan["deferred"]
        .as_array()
        .expect("deferred")
        .iter()
        .filter(|d| {
            d["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("governance refuses"))
        })
        .count();
    assert_eq!(
        refused, 1,
        "the protected file's action is refused: {}",
        run.stdout
    );
    assert_eq!(decided.len(), actions.len() + refused, "{}", run.stderr);
    assert_eq!(
        decided
            .iter()
            .filter(|l| l.contains("verdict=deny"))
            .count(),
        refused,
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("TOKEN"),
        "other crates' debug logs are left out:\n{}",
        run.stderr
    );
    for action in actions {
        let verdict = match action["approval_status"].as_str().expect("status") {
            "auto_approved" => "verdict=auto-approve",
            _ => "verdict=require approval",
        };
        let kind = action["action_type"].as_str().expect("type");
        assert!(
            decided
                .iter()
                .any(|l| l.contains(&format!("action=\"{kind}\"")) && l.contains(verdict)),
            "{kind} {verdict} logged:\n{}",
            run.stderr
        );
    }
    assert!(
        lines(&run.stderr, "INFO")
            .iter()
            .any(|l| l.contains(&format!("plan proposed actions={}", actions.len()))),
        "{}",
        run.stderr
    );
}
