//! `waypost tidy` and `waypost ledger`: a dry run, the append, idempotence,
//! verification and its exit codes.

use waypost_test_support::TestRepo;

use crate::support::waypost_in;

const RUN_DIR: &str = ".autonomous_runs/demo/runs/build/build-20260101T000000Z";

fn repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n").commit_all("init");
    repo.write(
        &format!("{RUN_DIR}/logs/learnings.md"),
        "- run cargo fmt before clippy\n- the CI cache is per branch\n",
    );
    repo
}

#[test]
fn tidy_is_a_dry_run_until_execute_and_appends_once() {
    let repo = repo();
    let dry = waypost_in(repo.path(), &["tidy"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout
            .starts_with("dry run: 2 entries would be appended from 1 run(s)"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("run cargo fmt before clippy"),
        "{}",
        dry.stdout
    );
    assert!(!repo.path().join("docs/ledgers").exists());

    let json = waypost_in(repo.path(), &["tidy", "--format", "json"]);
    let planned: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let done = waypost_in(repo.path(), &["tidy", "--execute", "--format", "json"]);
    assert_eq!(done.code, 0, "{}", done.stderr);
    let done: serde_json::Value = serde_json::from_str(&done.stdout).expect("json");
    assert_eq!(done["appended"], 2);
    assert_eq!(
        planned["ledgers"], done["ledgers"],
        "the dry run printed exactly what was appended"
    );
    let again = waypost_in(repo.path(), &["tidy", "--execute"]);
    assert!(
        again.stdout.starts_with("appended 0 entries"),
        "{}",
        again.stdout
    );

    let verify = waypost_in(repo.path(), &["ledger", "verify"]);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
    assert!(
        verify
            .stdout
            .contains("ok     docs/ledgers/learned_rules.jsonl (2 entries)"),
        "{}",
        verify.stdout
    );
    let show = waypost_in(repo.path(), &["ledger", "show", "learned_rules"]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(
        show.stdout.contains("2 of 2 entries hold now"),
        "{}",
        show.stdout
    );
}

#[test]
fn ledger_verify_names_the_line_and_exits_one_and_tidy_refuses_to_append() {
    let repo = repo();
    assert_eq!(waypost_in(repo.path(), &["tidy", "--execute"]).code, 0);
    let path = repo.path().join("docs/ledgers/learned_rules.jsonl");
    let text = std::fs::read_to_string(&path).expect("ledger");
    std::fs::write(&path, text.replace("per branch", "per commit")).expect("edit");

    let verify = waypost_in(repo.path(), &["ledger", "verify", "learned_rules"]);
    assert_eq!(verify.code, 1, "{}", verify.stdout);
    assert!(
        verify
            .stdout
            .contains("docs/ledgers/learned_rules.jsonl:2: edited"),
        "{}",
        verify.stdout
    );
    let tidy = waypost_in(repo.path(), &["tidy", "--execute"]);
    assert_eq!(tidy.code, 2, "{}", tidy.stderr);
    assert!(
        tidy.stderr.contains("hint: `waypost ledger verify`"),
        "{}",
        tidy.stderr
    );

    let unknown = waypost_in(repo.path(), &["ledger", "show", "future_plan"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("unknown ledger"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_torn_tail_is_reported_by_verify_and_cut_by_the_next_tidy() {
    let repo = repo();
    assert_eq!(waypost_in(repo.path(), &["tidy", "--execute"]).code, 0);
    let path = repo.path().join("docs/ledgers/learned_rules.jsonl");
    let mut bytes = std::fs::read(&path).expect("ledger");
    bytes.extend_from_slice(b"{\"format_ver");
    std::fs::write(&path, &bytes).expect("tear");
    let verify = waypost_in(repo.path(), &["ledger", "verify", "learned_rules"]);
    assert_eq!(
        verify.code, 0,
        "a torn tail is not a failure: {}",
        verify.stdout
    );
    assert!(
        verify.stdout.contains("torn tail: 12 bytes"),
        "{}",
        verify.stdout
    );
    let tidy = waypost_in(repo.path(), &["tidy", "--execute"]);
    assert!(
        tidy.stdout.contains("cut off a torn final line (12 bytes"),
        "{}",
        tidy.stdout
    );
    let verify = waypost_in(repo.path(), &["ledger", "verify", "learned_rules"]);
    assert!(!verify.stdout.contains("torn tail"), "{}", verify.stdout);
}

#[test]
fn run_limits_tidy_to_one_run_and_an_unknown_run_is_bad_input() {
    let repo = repo();
    repo.write(
        ".autonomous_runs/demo/runs/build/build-20260102T000000Z/logs/learnings.md",
        "- a second run's rule\n",
    );
    let one = waypost_in(
        repo.path(),
        &[
            "tidy",
            "--run",
            "build-20260102T000000Z",
            "--format",
            "json",
        ],
    );
    assert_eq!(one.code, 0, "{}", one.stderr);
    let one: serde_json::Value = serde_json::from_str(&one.stdout).expect("json");
    assert_eq!(one["runs"], 1);
    assert_eq!(one["appended"], 1, "only the second run's learning: {one}");

    let missing = waypost_in(repo.path(), &["tidy", "--run", "build-20990101T000000Z"]);
    assert_eq!(missing.code, 2, "{}", missing.stdout);
    assert!(
        missing
            .stderr
            .contains("--run build-20990101T000000Z: no such run"),
        "{}",
        missing.stderr
    );
}
