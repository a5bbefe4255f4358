//! `waypost runs`: start a run around a command, refuse a second one,
//! list, show and clean up.

use waypost_test_support::TestRepo;

use crate::support::{waypost, waypost_in};

fn repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n").commit_all("init");
    repo
}

/// `sh -c SCRIPT` as trailing arguments.
fn sh(script: &str) -> [&str; 3] {
    ["sh", "-c", script]
}

#[test]
fn start_runs_the_command_in_the_worktree_with_the_run_in_its_environment() {
    let repo = repo();
    let script = "test \"$PWD\" = \"$WAYPOST_WORKTREE\" && echo \"$WAYPOST_RUN_ID:$WAYPOST_FENCING_TOKEN\" > seen.txt && exit 7";
    let mut args = vec!["runs", "start", "fix-1", "--base", "main", "--"];
    args.extend(sh(script));
    let run = waypost_in(repo.path(), &args);
    assert_eq!(
        run.code, 7,
        "the command's status is the exit code: {}",
        run.stderr
    );
    assert!(
        run.stdout.contains("run fix-1 started in"),
        "{}",
        run.stdout
    );
    let wt = repo.path().join(".git/waypost/worktrees/fix-1");
    assert_eq!(
        std::fs::read_to_string(wt.join("seen.txt")).expect("seen"),
        "fix-1:1\n"
    );
    // Started again, it reattaches and the lease token moves on.
    let again = waypost_in(
        repo.path(),
        &[
            "runs", "start", "fix-1", "--base", "main", "--format", "json",
        ],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    let json: serde_json::Value = serde_json::from_str(&again.stdout).expect("json");
    assert_eq!(json["reattached"], true);
    assert_eq!(json["fencing_token"], 2);
}

#[test]
fn a_second_run_is_refused_while_one_runs_unless_the_anchor_allows_parallel_runs() {
    let repo = repo();
    let bin = env!("CARGO_BIN_EXE_waypost");
    let inner = format!("{bin} runs start inner --repo \"$WAYPOST_WORKTREE/../../../..\"");
    let mut args = vec!["runs", "start", "outer", "--"];
    args.extend(sh(&inner));
    let run = waypost_in(repo.path(), &args);
    assert_eq!(run.code, 1, "the inner start is refused: {}", run.stderr);
    assert!(
        run.stderr.contains("does not allow parallel runs") && run.stderr.contains("run outer"),
        "{}",
        run.stderr
    );

    repo.write(
        "waypost.toml",
        "[intention]\nproject_id = \"demo\"\n\n[intention.parallelism_isolation]\nallowed = true\nmax_concurrent_runs = 2\n",
    )
    .commit_all("allow parallel runs");
    // Reattached without --base, the run keeps the base it started from.
    let run = waypost_in(repo.path(), &args);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn a_held_run_is_listed_with_its_holders_pid_and_host() {
    let repo = repo();
    let bin = env!("CARGO_BIN_EXE_waypost");
    // Listed from inside the run, while `runs start` holds it.
    let list = format!(
        "{bin} runs list --repo \"$WAYPOST_WORKTREE/../../../..\" > listed.txt && \
         {bin} runs list --repo \"$WAYPOST_WORKTREE/../../../..\" --format json > listed.json"
    );
    let mut args = vec!["runs", "start", "held", "--"];
    args.extend(sh(&list));
    let run = waypost_in(repo.path(), &args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let wt = repo.path().join(".git/waypost/worktrees/held");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wt.join("listed.json")).expect("json"))
            .expect("json");
    let held = &json["runs"][0];
    let pid = held["holder_pid"].as_u64().expect("a holder while it runs");
    let text = std::fs::read_to_string(wt.join("listed.txt")).expect("text");
    let line = text
        .lines()
        .find(|l| l.starts_with("held "))
        .expect("the run's line");
    let holder = match held["holder_host"].as_str() {
        Some(host) => format!("pid {pid} on {host}"),
        None => format!("pid {pid}"),
    };
    assert!(
        line.ends_with(&holder),
        "{line:?} should end with {holder:?}"
    );
}

#[test]
fn list_show_and_gc_say_what_runs_hold_and_never_lose_work() {
    let repo = repo();
    let mut args = vec!["runs", "start", "work", "--"];
    args.extend(sh("echo change > c.txt && git add c.txt && git -c user.name=t -c user.email=t@t.invalid commit -qm change"));
    assert_eq!(waypost_in(repo.path(), &args).code, 0);
    assert_eq!(waypost_in(repo.path(), &["runs", "start", "idle"]).code, 0);

    let list = waypost_in(repo.path(), &["runs", "list", "--format", "json"]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    let json: serde_json::Value = serde_json::from_str(&list.stdout).expect("json");
    let runs = json["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    let work = runs.iter().find(|r| r["run_id"] == "work").expect("work");
    assert_eq!(work["ahead"], 1);
    assert_eq!(work["state"], "ended");
    assert_eq!(work["merge"]["clean"], true);

    let show = waypost_in(repo.path(), &["runs", "show", "work"]);
    assert!(
        show.stdout.contains("waypost/work (1 ahead)"),
        "{}",
        show.stdout
    );

    let dry = waypost_in(repo.path(), &["runs", "gc"]);
    assert!(
        dry.stdout.contains("would quarantine") && dry.stdout.contains("would remove"),
        "{}",
        dry.stdout
    );
    assert!(repo.path().join(".git/waypost/worktrees/idle").is_dir());
    let done = waypost_in(repo.path(), &["runs", "gc", "--execute"]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(!repo.path().join(".git/waypost/worktrees/idle").exists());
    assert!(
        repo.path()
            .join(".git/waypost/quarantine/work/c.txt")
            .is_file()
    );
    assert!(repo.git(&["branch", "--list"]).contains("waypost/work"));

    let unknown = waypost_in(repo.path(), &["runs", "show", "nope"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no run `nope`"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn hostile_run_ids_and_bases_are_bad_input() {
    let repo = repo();
    for (id, base, says) in [
        ("../x", "HEAD", "contains a path separator"),
        ("ok", "no-such-base", "does not name a commit"),
    ] {
        let run = waypost_in(repo.path(), &["runs", "start", id, "--base", base]);
        assert_eq!(run.code, 2, "{id} {base}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{}", run.stderr);
    }
    let outside = tempfile::tempdir().expect("temp");
    let run = waypost(&[
        "runs",
        "list",
        "--repo",
        &outside.path().display().to_string(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn land_asks_for_an_approval_bound_to_the_commits_then_lands_once() {
    let repo = repo();
    repo.write(".gitignore", ".autonomous_runs/\n")
        .commit_all("ignore run artifacts");
    let mut args = vec!["runs", "start", "fix-1", "--"];
    let script = "echo fixed > fix.txt && git add fix.txt && git -c user.name=a -c user.email=a@b commit -qm fix";
    args.extend(sh(script));
    let started = waypost_in(repo.path(), &args);
    assert_eq!(started.code, 0, "{}", started.stderr);

    let asked = waypost_in(repo.path(), &["runs", "land", "fix-1", "--format", "json"]);
    assert_eq!(asked.code, 1, "{}", asked.stderr);
    let json: serde_json::Value = serde_json::from_str(&asked.stdout).expect("json");
    assert_eq!(json["status"], "requires_approval");
    let action_id = json["detail"]["action"]["action_id"]
        .as_str()
        .expect("action id")
        .to_owned();
    assert!(!repo.path().join("fix.txt").exists(), "nothing landed");

    let unknown = waypost_in(
        repo.path(),
        &["approve", "action-0", "--run", "fix-1", "--by", "alice"],
    );
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains(&action_id),
        "lists the actions: {}",
        unknown.stderr
    );

    let approved = waypost_in(
        repo.path(),
        &["approve", &action_id, "--run", "fix-1", "--by", "alice"],
    );
    assert_eq!(approved.code, 0, "{}", approved.stderr);
    assert!(
        approved.stdout.contains("by alice through cli"),
        "{}",
        approved.stdout
    );

    let landed = waypost_in(repo.path(), &["runs", "land", "fix-1"]);
    assert_eq!(landed.code, 0, "{}", landed.stderr);
    assert!(
        landed.stdout.starts_with("landed run fix-1 into main"),
        "{}",
        landed.stdout
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("fix.txt")).expect("landed file"),
        "fixed\n",
        "the clean checkout of main was brought along"
    );
    let again = waypost_in(repo.path(), &["runs", "land", "fix-1"]);
    assert_eq!(again.code, 0);
    assert!(again.stdout.contains("already in main"), "{}", again.stdout);
    let merges = repo.git(&["rev-list", "--merges", "--count", "main"]);
    assert_eq!(merges.trim(), "1", "merged exactly once");
    // The outcome is kept with the run.
    let local = repo
        .path()
        .join(".autonomous_runs/unnamed-project/runs/fix-1/fix-1/logs/run_record_v1.json");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(local).expect("run-local record"))
            .expect("json");
    assert_eq!(record["landing"]["state"], "landed");
}

#[test]
fn land_of_an_unknown_run_is_bad_input() {
    let repo = repo();
    let out = waypost(&[
        "runs",
        "land",
        "nope",
        "--repo",
        repo.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no run `nope`"), "{}", out.stderr);
}
