//! `waypost run`, `waypost approve` and `waypost autopilot`: the whole loop
//! on generated repositories, judged by what is on disk afterwards.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use waypost_test_support::TestRepo;

use crate::support::waypost_in;

/// An anchor whose one auto-approve rule covers the built-in executors'
/// actions; `risk_tolerance` decides whether deleting a lock (risk 0.55)
/// is automatic too.
fn anchor(risk_tolerance: &str) -> String {
    format!(
        r#"project_id = "demo"

[safety_risk]
risk_tolerance = "{risk_tolerance}"

[scope_boundaries]
allowed_write_roots = ["README.md", "docs/", "archive/", "build.lock", "scratch-notes.txt"]
protected_paths = ["config/**"]

[governance_review]
default_policy = "deny"
approval_channels = ["cli"]

[[governance_review.auto_approve_rules]]
rule_id = "safe-fixes"
description = "Stale locks, root clutter and moved links"
criteria = {{ action_types = ["doc_update", "file_move", "file_delete"], path_globs = ["**"], max_changed_lines = 40, max_risk_score = 0.6 }}
"#
    )
}

/// A repository with a stale lock, a root clutter file and a link to a doc
/// that moved.
fn messy(risk_tolerance: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write("intention.toml", &anchor(risk_tolerance))
        .write(".gitignore", ".autonomous_runs/\n")
        .write("docs/guide.md", "# Guide\n")
        .write("README.md", "# demo\n\nSee [the guide](guide.md).\n")
        .write("scratch-notes.txt", "notes\n")
        .commit_all("init");
    repo.write("build.lock", "");
    // Three days before the fixed clock the tests run under.
    let status = Command::new("touch")
        .args(["-d", "@1766966400"])
        .arg(repo.path().join("build.lock"))
        .status()
        .expect("touch");
    assert!(status.success());
    repo
}

fn json(run: &crate::support::Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

fn run_dir(out: &Value) -> PathBuf {
    PathBuf::from(out["run_dir"].as_str().expect("run dir"))
}

/// Edits each action of the plan stored in run directory `dir` (as a
/// hostile hand on disk would); returns the edited plan.
fn edit_stored_plan(dir: &Path, mut edit: impl FnMut(&mut Value)) -> Value {
    let path = dir.join("plans/plan_proposal_v1.json");
    let mut plan: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("plan")).expect("json");
    for action in plan["actions"].as_array_mut().expect("actions") {
        edit(action);
    }
    std::fs::write(&path, serde_json::to_string_pretty(&plan).expect("json")).expect("write");
    plan
}

/// Every JSON file of the run directory validates as its kind.
fn assert_all_valid(repo: &Path, dir: &Path) {
    let run = waypost_in(repo, &["validate", dir.to_str().expect("utf-8")]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(" valid, 0 invalid, 0 unreadable"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("\ninvalid"), "{}", run.stdout);
}

#[test]
fn a_clean_repository_has_nothing_to_do_and_exits_0() {
    let repo = TestRepo::new();
    repo.write(".gitignore", ".autonomous_runs/\n")
        .write("README.md", "# demo\n")
        .commit_all("init");
    let run = waypost_in(repo.path(), &["run", "--enable"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("gaps      none"), "{}", run.stdout);
    assert!(
        run.stdout.contains("built-in default"),
        "says the anchor is the default: {}",
        run.stdout
    );
}

#[test]
fn without_enable_nothing_changes_and_the_session_says_what_would_run() {
    let repo = messy("high");
    let run = waypost_in(repo.path(), &["run", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let out = json(&run);
    let session = &out["session"];
    assert_eq!(session["status"], "blocked_approval_required");
    assert_eq!(
        session["would_execute_action_ids"].as_array().map(Vec::len),
        Some(3)
    );
    assert!(session.get("executed_actions").is_none());
    assert!(
        session["blocked_reason"]
            .as_str()
            .expect("reason")
            .contains("autopilot is off")
    );
    assert!(
        repo.path().join("build.lock").exists() && repo.path().join("scratch-notes.txt").exists()
    );
    assert!(
        std::fs::read_to_string(repo.path().join("README.md"))
            .expect("readme")
            .contains("(guide.md)")
    );
    assert_all_valid(repo.path(), &run_dir(&out));
}

#[test]
fn enabled_it_executes_the_auto_approved_actions_and_verifies_them_by_rescan() {
    let repo = messy("high");
    let run = waypost_in(repo.path(), &["run", "--enable", "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = json(&run);
    let session = &out["session"];
    assert_eq!(session["status"], "completed");
    let executed = session["executed_actions"].as_array().expect("executed");
    assert_eq!(executed.len(), 3);
    for e in executed {
        assert_eq!(e["outcome"], "succeeded", "{e}");
        assert_eq!(e["approval"]["kind"], "rule");
        assert_eq!(e["approval"]["rule_id"], "rule:safe-fixes");
    }
    // On disk: the lock is gone, the clutter archived, the link rewritten.
    assert!(!repo.path().join("build.lock").exists());
    assert_eq!(
        std::fs::read_to_string(repo.path().join("archive/scratch-notes.txt")).expect("archived"),
        "notes\n"
    );
    assert!(
        std::fs::read_to_string(repo.path().join("README.md"))
            .expect("readme")
            .contains("[the guide](docs/guide.md)")
    );
    // Proofs, jobs, contracts and audit evidence, all valid.
    let dir = run_dir(&out);
    for e in executed {
        let proof: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(e["proof"].as_str().expect("proof")))
                .expect("proof file"),
        )
        .expect("json");
        assert_eq!(proof["outcome"], "succeeded");
        assert_ne!(
            proof["files_before"], proof["files_after"],
            "the files changed"
        );
        let job = e["job_id"].as_str().expect("job");
        assert!(dir.join(format!("governance/audit-{job}.json")).is_file());
    }
    assert_all_valid(repo.path(), &dir);
    // A second run finds nothing left.
    let again = waypost_in(repo.path(), &["run", "--enable"]);
    assert_eq!(again.code, 0, "{}", again.stdout);
    assert!(again.stdout.contains("gaps      none"), "{}", again.stdout);
}

#[test]
fn blocked_actions_write_approval_requests_and_nothing_runs() {
    let repo = messy("high");
    // A merge in progress and a change to a protected path.
    repo.write("config/app.toml", "a = 1\n")
        .commit_all("config");
    repo.write("config/app.toml", "a = 2\n");
    let head = repo.git(&["rev-parse", "HEAD"]);
    std::fs::write(repo.path().join(".git/MERGE_HEAD"), head).expect("merge head");
    let run = waypost_in(repo.path(), &["run", "--enable", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let out = json(&run);
    let session = &out["session"];
    let requests = session["approval_requests"].as_array().expect("requests");
    assert!(!requests.is_empty());
    let plan: Value = serde_json::from_str(
        &std::fs::read_to_string(run_dir(&out).join("plans/plan_proposal_v1.json")).expect("plan"),
    )
    .expect("json");
    let git_op = plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["action_type"] == "git_operation")
        .expect("the merge in progress is a git operation");
    assert!(
        requests
            .iter()
            .any(|r| r["action_id"] == git_op["action_id"]),
        "the merge needs a person: {requests:?}"
    );
    // A merge in progress blocks the autopilot: nothing was executed.
    assert_eq!(
        std::fs::read_to_string(repo.path().join("config/app.toml")).expect("cfg"),
        "a = 2\n"
    );
    assert_all_valid(repo.path(), &run_dir(&out));
}

#[test]
fn approve_then_resume_runs_exactly_the_approved_actions_and_refuses_an_edited_one() {
    let repo = messy("moderate");
    let first = waypost_in(repo.path(), &["run", "--enable", "--format", "json"]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    let out = json(&first);
    let run_id = out["run_id"].as_str().expect("run id").to_owned();
    let requests = out["session"]["approval_requests"]
        .as_array()
        .expect("requests");
    assert_eq!(
        requests.len(),
        1,
        "the lock delete needs a person: {requests:?}"
    );
    let lock_action = requests[0]["action_id"].as_str().expect("id").to_owned();
    assert!(
        repo.path().join("build.lock").exists(),
        "not deleted without approval"
    );

    let approved = waypost_in(
        repo.path(),
        &["approve", &lock_action, "--run", &run_id, "--by", "alice"],
    );
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    let resumed = waypost_in(
        repo.path(),
        &[
            "autopilot",
            "--run",
            &run_id,
            "--enable",
            "--format",
            "json",
        ],
    );
    let out = json(&resumed);
    let executed = out["session"]["executed_actions"]
        .as_array()
        .expect("executed");
    let lock = executed
        .iter()
        .find(|e| e["action_id"] == lock_action.as_str())
        .expect("the approved action ran");
    assert_eq!(lock["approval"]["kind"], "approval");
    assert_eq!(lock["approval"]["approver"], "alice");
    assert_eq!(lock["approval"]["channel"], "cli");
    assert!(!repo.path().join("build.lock").exists());

    // An approved action edited in the stored plan afterwards no longer
    // matches its approval: refused, not run.
    let second = messy("moderate");
    let first = waypost_in(second.path(), &["run", "--format", "json"]);
    let out = json(&first);
    let run_id = out["run_id"].as_str().expect("run id").to_owned();
    let dir = run_dir(&out);
    let lock_action = out["session"]["approval_requests"][0]["action_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let approved = waypost_in(
        second.path(),
        &["approve", &lock_action, "--run", &run_id, "--by", "alice"],
    );
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    edit_stored_plan(&dir, |action| {
        if action["action_id"] == lock_action.as_str() {
            action["target_paths"] = serde_json::json!(["build.lock", "README.md"]);
        }
    });
    let resumed = waypost_in(
        second.path(),
        &[
            "autopilot",
            "--run",
            &run_id,
            "--enable",
            "--format",
            "json",
        ],
    );
    assert_eq!(resumed.code, 1, "{}", resumed.stderr);
    let out = json(&resumed);
    let request = out["session"]["approval_requests"]
        .as_array()
        .expect("requests")
        .iter()
        .find(|r| r["action_id"] == lock_action.as_str())
        .expect("still waiting")
        .clone();
    assert!(
        request["reason"]
            .as_str()
            .expect("reason")
            .contains("edited on disk"),
        "{request}"
    );
    assert_eq!(request["approval_status"], "blocked");
    assert!(
        second.path().join("build.lock").exists(),
        "the edited action did not run"
    );
    assert!(second.path().join("README.md").exists());
}

#[test]
fn resuming_an_unknown_run_is_bad_input() {
    let repo = messy("high");
    let run = waypost_in(
        repo.path(),
        &["autopilot", "--run", "nope-20260101T000000Z", "--enable"],
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("cannot resume run `nope-20260101T000000Z`"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_quick_start_runs_the_loop_on_this_checkout_and_changes_nothing_but_its_run_dir() {
    // The README's quick start: `waypost run` on this checkout, autopilot off.
    let root = waypost_test_support::workspace_root();
    let before = crate::support::waypost(&["scan", "--format", "json"]);
    let run = crate::support::waypost(&["run", "--format", "json"]);
    assert!(
        run.code == 0 || run.code == 1,
        "{}{}",
        run.stdout,
        run.stderr
    );
    let out = json(&run);
    assert_eq!(out["autopilot_enabled"], false);
    assert!(
        out["session"].get("executed_actions").is_none(),
        "nothing executed"
    );
    let dir = run_dir(&out);
    assert!(
        dir.starts_with(root.join(".autonomous_runs")),
        "{}",
        dir.display()
    );
    assert_all_valid(&root, &dir);
    std::fs::remove_dir_all(&dir).expect("remove the run dir");
    // The checkout's gaps are what they were (the run dir is ignored).
    let after = crate::support::waypost(&["scan", "--format", "json"]);
    let gaps = |s: &str| -> usize {
        serde_json::from_str::<Value>(s).map_or(0, |v| v["gaps"].as_array().map_or(0, Vec::len))
    };
    assert_eq!(gaps(&before.stdout), gaps(&after.stdout));
}

#[test]
fn a_plan_edited_to_write_into_git_or_a_protected_file_runs_nothing() {
    let repo = messy("high");
    let first = waypost_in(repo.path(), &["run", "--format", "json"]);
    let out = json(&first);
    let run_id = out["run_id"].as_str().expect("run id").to_owned();
    let plan = edit_stored_plan(&run_dir(&out), |action| {
        if action["action_type"] == "doc_update" {
            action["edits"][0]["path"] = Value::from(".git/config");
        }
        if action["action_type"] == "file_move" {
            action["moves"][0]["to"] = Value::from(".git/hooks/pre-commit");
        }
    });
    let config_before = std::fs::read_to_string(repo.path().join(".git/config")).expect("config");
    let resumed = waypost_in(
        repo.path(),
        &[
            "autopilot",
            "--run",
            &run_id,
            "--enable",
            "--format",
            "json",
        ],
    );
    assert_eq!(resumed.code, 1, "{}", resumed.stderr);
    let out = json(&resumed);
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".git/config")).expect("config"),
        config_before
    );
    assert!(!repo.path().join(".git/hooks/pre-commit").exists());
    assert!(repo.path().join("scratch-notes.txt").exists());
    let executed: Vec<&str> = out["session"]["executed_actions"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action_id"].as_str()).collect())
        .unwrap_or_default();
    for action in plan["actions"].as_array().expect("actions") {
        if action["action_type"] != "file_delete" {
            assert!(!executed.contains(&action["action_id"].as_str().expect("id")));
        }
    }
}

#[test]
fn resuming_twice_never_runs_an_action_again() {
    let repo = messy("high");
    let first = waypost_in(repo.path(), &["run", "--format", "json"]);
    let run_id = json(&first)["run_id"].as_str().expect("run id").to_owned();
    for _ in 0..2 {
        let resumed = waypost_in(
            repo.path(),
            &[
                "autopilot",
                "--run",
                &run_id,
                "--enable",
                "--format",
                "json",
            ],
        );
        assert_eq!(resumed.code, 0, "{}{}", resumed.stdout, resumed.stderr);
        let out = json(&resumed);
        assert_eq!(out["session"]["status"], "completed");
        assert_eq!(
            out["session"]["executed_actions"].as_array().map(Vec::len),
            Some(3)
        );
    }
    assert_eq!(
        std::fs::read_to_string(repo.path().join("README.md")).expect("readme"),
        "# demo\n\nSee [the guide](docs/guide.md).\n",
        "the link was rewritten once"
    );
}

#[test]
fn after_the_loop_tidy_appends_the_session_to_the_build_history_once() {
    let repo = messy("high");
    let run = waypost_in(repo.path(), &["run", "--enable", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let session_id = json(&run)["session"]["session_id"]
        .as_str()
        .expect("id")
        .to_owned();
    for _ in 0..2 {
        let tidy = waypost_in(repo.path(), &["tidy", "--execute"]);
        assert_eq!(tidy.code, 0, "{}{}", tidy.stdout, tidy.stderr);
    }
    let history = std::fs::read_to_string(repo.path().join("docs/ledgers/build_history.jsonl"))
        .expect("build history");
    assert_eq!(history.lines().count(), 1, "one entry, once: {history}");
    assert!(history.contains(&session_id), "{history}");
    let verify = waypost_in(repo.path(), &["ledger", "verify"]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
    // The committed ledger folder holds ledgers only (no lock files).
    let names: Vec<String> = std::fs::read_dir(repo.path().join("docs/ledgers"))
        .expect("ledgers")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".jsonl") || n.ends_with(".md")),
        "{names:?}"
    );
}

#[test]
fn verbose_logs_to_stderr_quiet_silences_notes_and_repo_names_the_repository() {
    let repo = messy("high");
    let plain = waypost_in(repo.path(), &["run"]);
    assert!(!plain.stderr.contains("stage="), "{}", plain.stderr);
    let verbose = waypost_in(repo.path(), &["-vv", "run"]);
    assert!(verbose.stderr.contains("stage=Scan"), "{}", verbose.stderr);
    assert!(
        verbose.stderr.contains("verdict=auto-approve"),
        "{}",
        verbose.stderr
    );
    // The same summary on stdout, whatever the log level.
    let body = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| !l.contains("autopilot-"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(body(&verbose.stdout), body(&plain.stdout));
    // Quiet: no notes on stderr; the result still prints, the exit code
    // is the same.
    let quiet = waypost_in(repo.path(), &["-vv", "run", "--quiet"]);
    assert_eq!(body(&quiet.stdout), body(&plain.stdout));
    assert_eq!(quiet.code, plain.code);
    // `--repo DIR` is PATH, as every command takes it.
    let elsewhere =
        crate::support::waypost(&["run", "--repo", repo.path().to_str().expect("utf-8")]);
    assert_eq!(body(&elsewhere.stdout), body(&plain.stdout));
    let both = waypost_in(repo.path(), &["run", ".", "--repo", "."]);
    assert_eq!(both.code, 2, "PATH and --repo together are refused");
}

#[test]
fn every_subcommand_help_shows_an_example_and_an_output_format() {
    let commands: &[&[&str]] = &[
        &["validate"],
        &["schema"],
        &["scan"],
        &["propose"],
        &["generated"],
        &["anchor", "init"],
        &["anchor", "check"],
        &["anchor", "show"],
        &["policy", "check"],
        &["runs", "start"],
        &["runs", "list"],
        &["runs", "show"],
        &["runs", "land"],
        &["runs", "gc"],
        &["approve"],
        &["run"],
        &["autopilot"],
        &["tidy"],
        &["ledger", "verify"],
        &["ledger", "show"],
        &["fences"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let help = crate::support::waypost(&args);
        assert_eq!(help.code, 0, "{command:?}: {}", help.stderr);
        assert!(
            help.stdout.contains("Example: waypost "),
            "{command:?} has no example:\n{}",
            help.stdout
        );
        assert!(
            help.stdout.contains("--format <FORMAT>"),
            "{command:?} has no --format:\n{}",
            help.stdout
        );
    }
}

#[test]
fn with_memory_asked_for_the_loop_records_what_ran_in_the_ledgers() {
    let repo = messy("high");
    let anchor = anchor("high")
        .replace(
            "[governance_review]",
            "[memory_continuity]\npersist_to_sot = [\"build_history\", \"debug_log\"]\n\n[governance_review]",
        )
        .replace(
            "allowed_write_roots = [",
            "allowed_write_roots = [\"docs/ledgers/\", ",
        )
        + r#"
[[governance_review.auto_approve_rules]]
rule_id = "ledgers"
description = "Record runs in the ledgers"
criteria = { action_types = ["tidy_apply"], path_globs = ["docs/ledgers/**"], max_changed_lines = 40, max_risk_score = 0.2 }
"#;
    repo.write("intention.toml", &anchor).commit_all("remember");
    let run = waypost_in(repo.path(), &["run", "--enable"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("done, verified in the ledgers"),
        "{}",
        run.stdout
    );
    let verify = waypost_in(repo.path(), &["ledger", "verify"]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
    let lines = |name: &str| {
        std::fs::read_to_string(repo.path().join(format!("docs/ledgers/{name}.jsonl")))
            .unwrap_or_default()
            .lines()
            .count()
    };
    // The session and the plan; the gap report and the three fixes' audit
    // evidence.
    assert_eq!(lines("build_history"), 2);
    assert_eq!(lines("debug_log"), 4);
    // A later tidy adds only what the record step itself wrote: the
    // session as it ended (it now lists the record action) and the record
    // action's audit evidence; nothing twice.
    let tidy = waypost_in(repo.path(), &["tidy", "--execute"]);
    assert_eq!(tidy.code, 0, "{}", tidy.stderr);
    assert_eq!(lines("build_history"), 3);
    assert_eq!(lines("debug_log"), 5);
    let again = waypost_in(repo.path(), &["tidy", "--execute"]);
    assert!(
        again.stdout.starts_with("appended 0 entries"),
        "{}",
        again.stdout
    );
}
