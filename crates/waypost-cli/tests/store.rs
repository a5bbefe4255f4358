//! `waypost store` and the store the other commands use: files unless
//! `[store] url` or `WAYPOST_STORE_URL` names a PostgreSQL database.

use waypost_test_support::TestRepo;

use crate::support::{waypost_in, waypost_with};

/// The test server's URL, or `None` after saying why the test is skipped.
fn pg_url() -> Option<String> {
    let url = std::env::var("WAYPOST_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        #[expect(clippy::print_stderr, reason = "a skipped test says why")]
        {
            eprintln!(
                "skipped: WAYPOST_TEST_PG is not set (cargo xtask with-postgres -- cargo test -p waypost-cli --test all store::)"
            );
        }
    }
    url
}

fn repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n").commit_all("init");
    repo
}

#[test]
fn without_a_url_the_store_is_files() {
    let repo = repo();
    let run = waypost_in(repo.path(), &["store", "status"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "store: files in the repository\n");
    let run = waypost_in(repo.path(), &["store", "migrate"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("files need no migration"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_bad_store_url_is_bad_input_naming_where_it_came_from() {
    let repo = repo();
    let run = waypost_with(
        repo.path(),
        &["runs", "list"],
        &[("WAYPOST_STORE_URL", "mysql://ann:s3cret@db/wp")],
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("WAYPOST_STORE_URL") && run.stderr.contains("not a PostgreSQL URL"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);

    repo.write("waypost.toml", "[store]\nurl = \"db.internal\"\n");
    let run = waypost_in(repo.path(), &["store", "status"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("[store] url: expected a PostgreSQL URL"),
        "{}",
        run.stderr
    );

    // A server that is not there: named, with what to do.
    repo.write("waypost.toml", "[store]\nretry_seconds = 1\n");
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("postgres://ann@127.0.0.1:{port}/wp?connect_timeout=1");
    let run = waypost_with(
        repo.path(),
        &["store", "status"],
        &[("WAYPOST_STORE_URL", url.as_str())],
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("unavailable") && run.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
}

#[test]
fn runs_hold_their_slots_and_leases_in_postgres_when_it_is_configured() {
    let Some(url) = pg_url() else {
        return;
    };
    let repo = repo();
    let schema = format!(
        "t_cli_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .subsec_nanos()
    );
    repo.write(
        "waypost.toml",
        &format!("[store]\nurl = \"{url}\"\nschema = \"{schema}\"\nnamespace = \"cli\"\n"),
    )
    .commit_all("the shared store");
    let run = waypost_in(repo.path(), &["store", "migrate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("PostgreSQL") && run.stdout.contains("schema version: 1"),
        "{}",
        run.stdout
    );

    // While `outer` runs, its slot is held in the database: a second run is
    // refused there, and `runs list` reads its lease from there.
    let bin = env!("CARGO_BIN_EXE_waypost");
    let script = format!(
        "{bin} runs list --format json --repo ../../../.. > list.json; {bin} runs start inner --repo ../../../..; echo $? > inner.txt"
    );
    let run = waypost_in(
        repo.path(),
        &["runs", "start", "outer", "--", "sh", "-c", &script],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let worktree = repo.path().join(".git/waypost/worktrees/outer");
    let inner = std::fs::read_to_string(worktree.join("inner.txt")).expect("inner status");
    assert_eq!(inner.trim(), "1", "the second run was refused");
    let list: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(worktree.join("list.json")).expect("list"))
            .expect("json");
    let outer = &list["runs"][0];
    assert_eq!(outer["run_id"], "outer");
    assert_eq!(outer["state"], "active", "{list}");
    assert_eq!(outer["fencing_token"], 1);
    assert!(
        !repo
            .path()
            .join(".git/waypost/claims/leases/outer.claim.json")
            .exists(),
        "no lease was kept in files"
    );
    // Ended, the run released its lease in the database.
    let run = waypost_in(repo.path(), &["runs", "list", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let list: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let states: Vec<&str> = list["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|r| r["state"].as_str())
        .collect();
    assert!(states.iter().all(|s| *s == "ended"), "{list}");
}

#[test]
fn tidy_appends_the_ledgers_to_postgres_when_it_is_configured() {
    let Some(url) = pg_url() else {
        return;
    };
    let repo = repo();
    let schema = format!(
        "t_tidy_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .subsec_nanos()
    );
    repo.write(
        ".autonomous_runs/demo/runs/build/build-20260101T000000Z/logs/learnings.md",
        "- run cargo fmt before clippy\n- the CI cache is per branch\n",
    );
    let env = [("WAYPOST_STORE_URL", url.as_str())];
    repo.write("waypost.toml", &format!("[store]\nschema = \"{schema}\"\n"));
    let dry = waypost_with(repo.path(), &["tidy"], &env);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout
            .starts_with("dry run: 2 entries would be appended"),
        "{}",
        dry.stdout
    );
    let done = waypost_with(
        repo.path(),
        &["tidy", "--execute", "--format", "json"],
        &env,
    );
    assert_eq!(done.code, 0, "{}", done.stderr);
    assert!(
        done.stderr.contains("ledgers: PostgreSQL"),
        "{}",
        done.stderr
    );
    let done: serde_json::Value = serde_json::from_str(&done.stdout).expect("json");
    assert_eq!(done["appended"], 2);
    assert!(
        !repo.path().join("docs/ledgers").exists(),
        "the ledgers went to the database, not to files"
    );
    let again = waypost_with(repo.path(), &["tidy", "--execute"], &env);
    assert!(
        again.stdout.starts_with("appended 0 entries"),
        "{}",
        again.stdout
    );
    let show = waypost_with(repo.path(), &["ledger", "show", "learned_rules"], &env);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(
        show.stdout.starts_with("learned_rules in PostgreSQL")
            && show.stdout.contains("run cargo fmt before clippy"),
        "{}",
        show.stdout
    );
    let verify = waypost_with(repo.path(), &["ledger", "verify"], &env);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
    assert!(
        verify.stdout.contains("ok     learned_rules (2 entries)"),
        "{}",
        verify.stdout
    );
}

#[test]
fn the_loop_records_what_it_ran_in_postgres_when_it_is_configured() {
    let Some(url) = pg_url() else {
        return;
    };
    let schema = format!(
        "t_loop_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .subsec_nanos()
    );
    let repo = TestRepo::new();
    repo.write(
        "intention.toml",
        r#"project_id = "demo"
[scope_boundaries]
allowed_write_roots = ["README.md", "docs/"]
[memory_continuity]
persist_to_sot = ["build_history"]
[governance_review]
approval_channels = ["cli"]
[[governance_review.auto_approve_rules]]
rule_id = "links"
description = "Moved links"
criteria = { action_types = ["doc_update"], path_globs = ["*.md", "docs/**"], max_changed_lines = 5, max_risk_score = 0.3 }
[[governance_review.auto_approve_rules]]
rule_id = "ledgers"
description = "Record runs in the ledgers"
criteria = { action_types = ["tidy_apply"], path_globs = ["docs/ledgers/**"], max_changed_lines = 20, max_risk_score = 0.2 }
"#,
    )
    .write(".gitignore", ".autonomous_runs/\n")
    .write("docs/guide.md", "# Guide\n")
    .write("README.md", "# demo\n\nSee [the guide](guide.md).\n")
    .write("waypost.toml", &format!("[store]\nschema = \"{schema}\"\n"))
    .commit_all("init");
    let env = [("WAYPOST_STORE_URL", url.as_str())];
    let run = waypost_with(repo.path(), &["run", "--enable"], &env);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("done, verified in the ledgers"),
        "{}",
        run.stdout
    );
    assert!(
        !repo.path().join("docs/ledgers").exists(),
        "the ledgers went to the database, not to files"
    );
    let show = waypost_with(
        repo.path(),
        &["ledger", "show", "build_history", "--format", "json"],
        &env,
    );
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(
        show.stdout.contains("autopilot_session_v1"),
        "{}",
        show.stdout
    );
    // The plan is there once; only the session as it ended (it now lists
    // the record action) is new.
    let tidy = waypost_with(
        repo.path(),
        &[
            "tidy",
            "--run",
            "autopilot-20260101T000000Z",
            "--format",
            "json",
        ],
        &env,
    );
    let tidy: serde_json::Value = serde_json::from_str(&tidy.stdout).expect("json");
    assert_eq!(tidy["ledgers"][0]["already_present"], 1, "{tidy}");
    assert_eq!(tidy["appended"], 1, "{tidy}");
}
