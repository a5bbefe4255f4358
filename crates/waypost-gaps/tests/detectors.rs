//! Each detector: a fixture that triggers it, and the clean fixture that must not.

use waypost_test_support::TestRepo;

use crate::support::{clean_repo, fired, scan_dir};

/// Fails with the full list when `detector` did not fire on `path`.
fn assert_fired(got: &[(String, String)], detector: &str, path: &str) {
    assert!(
        got.iter().any(|(d, p)| d == detector && p == path),
        "{detector} did not fire on {path}: {got:?}"
    );
}

fn has(repo: &TestRepo, detector: &str, path: &str) -> bool {
    fired(&scan_dir(repo.path()).report)
        .iter()
        .any(|(d, p)| d == detector && p == path)
}

#[test]
fn a_clean_repository_has_no_gaps() {
    let repo = clean_repo();
    let outcome = scan_dir(repo.path());
    assert!(
        outcome.report.gaps.is_empty(),
        "{:?}",
        fired(&outcome.report)
    );
}

#[test]
fn git_operations_in_progress_and_stale_locks() {
    let repo = clean_repo();
    std::fs::write(repo.path().join(".git/MERGE_HEAD"), "0123\n").expect("marker");
    std::fs::write(repo.path().join(".git/index.lock"), "").expect("lock");
    let outcome = scan_dir(repo.path());
    let got = fired(&outcome.report);
    assert_fired(&got, "git_operation_in_progress", ".git/MERGE_HEAD");
    assert_fired(&got, "index_lock_left_behind", ".git/index.lock");
    assert!(
        outcome.report.gaps.iter().all(|g| g.blocks_autopilot),
        "both block the autopilot"
    );
}

#[test]
fn detached_head_and_unmerged_entries() {
    let repo = clean_repo();
    let head = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["checkout", "--quiet", head.trim()]);
    assert!(has(&repo, "detached_head", ".git/HEAD"));

    // A real conflict.
    let conflicted = clean_repo();
    conflicted.git(&["checkout", "--quiet", "-b", "other"]);
    conflicted
        .write("src/lib.rs", "pub fn g() {}\n")
        .commit_all("other");
    conflicted.git(&["checkout", "--quiet", "main"]);
    conflicted
        .write("src/lib.rs", "pub fn h() {}\n")
        .commit_all("main");
    let status = waypost_test_support::hermetic_git(conflicted.path())
        .args(["merge", "other"])
        .output()
        .expect("merge");
    assert!(!status.status.success(), "the merge conflicts");
    let got = fired(&scan_dir(conflicted.path()).report);
    assert_fired(&got, "unmerged_index_entries", "src/lib.rs");
    assert_fired(&got, "git_operation_in_progress", ".git/MERGE_HEAD");
}

#[test]
fn worktrees_whose_folder_is_gone() {
    let repo = clean_repo();
    let outside = tempfile::tempdir().expect("temp");
    let add = |name: &str| {
        let path = outside.path().join(name);
        repo.git(&[
            "worktree",
            "add",
            "--quiet",
            "-b",
            name,
            path.to_str().expect("UTF-8"),
        ]);
        path
    };
    let (kept, gone, locked) = (add("kept"), add("gone"), add("locked"));
    repo.git(&["worktree", "lock", locked.to_str().expect("UTF-8")]);
    assert!(kept.exists());
    assert!(
        !has(&repo, "worktree_missing", ".git/worktrees/gone"),
        "all present"
    );
    std::fs::remove_dir_all(&gone).expect("remove");
    std::fs::remove_dir_all(&locked).expect("remove");
    let got = fired(&scan_dir(repo.path()).report);
    let missing: Vec<&str> = got
        .iter()
        .filter(|(d, _)| d == "worktree_missing")
        .map(|(_, p)| p.as_str())
        .collect();
    assert_eq!(
        missing,
        [".git/worktrees/gone"],
        "not the kept or the locked one"
    );
}

#[test]
fn head_pointing_at_a_missing_object() {
    let repo = clean_repo();
    let branch = repo.path().join(".git/refs/heads/main");
    std::fs::write(&branch, "1111111111111111111111111111111111111111\n").expect("corrupt ref");
    assert!(has(&repo, "head_missing_object", ".git/HEAD"));
}

#[test]
fn encoding_problems() {
    let repo = clean_repo();
    std::fs::write(repo.path().join("src/latin1.txt"), b"caf\xe9\n").expect("write");
    std::fs::write(repo.path().join("src/greeting.txt"), b"\xEF\xBB\xBFhello\n").expect("write");
    // A BOM on purpose: a file named for it, and a test's input.
    std::fs::write(repo.path().join("src/has-bom.json"), b"\xEF\xBB\xBF{}\n").expect("write");
    repo.write("tests/fixtures/x.txt", "x\n");
    std::fs::write(repo.path().join("tests/fixtures/x.txt"), b"\xEF\xBB\xBFx\n").expect("write");
    std::fs::write(repo.path().join("src/mixed.txt"), b"a\r\nb\nc\nd\n").expect("write");
    std::fs::write(repo.path().join("src/CON.txt"), b"x\n").expect("write");
    std::fs::write(repo.path().join("src/Readme.txt"), b"x\n").expect("write");
    std::fs::write(repo.path().join("src/README.txt"), b"x\n").expect("write");
    // Two folders that differ in case: everything below them collides.
    repo.write("Docs/extra.txt", "x\n");
    let long = format!("src/{}f.txt", "deep-dir/".repeat(31));
    std::fs::create_dir_all(repo.path().join(long.rsplit_once('/').expect("dir").0))
        .expect("mkdir");
    std::fs::write(repo.path().join(&long), b"x\n").expect("write");
    let got = fired(&scan_dir(repo.path()).report);
    for (detector, path) in [
        ("invalid_utf8", "src/latin1.txt"),
        ("utf8_bom", "src/greeting.txt"),
        ("mixed_line_endings", "src/mixed.txt"),
        ("windows_invalid_name", "src/CON.txt"),
        ("case_collision", "src/README.txt"),
        ("case_collision", "Docs"),
        ("path_too_long", long.as_str()),
    ] {
        assert!(
            got.contains(&(detector.into(), path.into())),
            "{detector} on {path}: {got:?}"
        );
    }
    // Valid UTF-8 with one line ending kind, ordinary names: nothing.
    assert!(!got.iter().any(|(_, p)| p == "src/lib.rs"));
    for deliberate in ["src/has-bom.json", "tests/fixtures/x.txt"] {
        assert!(!got.iter().any(|(_, p)| p == deliberate), "{got:?}");
    }
}

#[test]
fn broken_links_and_code_paths_in_markdown() {
    let repo = clean_repo();
    repo.write(
        "docs/broken.md",
        "# Notes\n\n[gone](missing.md) and [ok](guide.md#top) and [web](https://example.org).\nThe code is in `src/nothing.rs`.\n\n```\n[not a link](nowhere.md)\n```\n",
    );
    let report = scan_dir(repo.path()).report;
    let gaps: Vec<_> = report
        .gaps
        .iter()
        .filter(|g| g.detector.as_deref() == Some("broken_markdown_link"))
        .collect();
    assert_eq!(gaps.len(), 2, "{:?}", fired(&report));
    let mut lines: Vec<u32> = gaps
        .iter()
        .map(|g| g.evidence.as_ref().expect("evidence").locations[0].start_line)
        .collect();
    lines.sort_unstable();
    assert_eq!(lines, [3, 4]);
}

#[test]
fn the_root_lists_keep_and_name_root_files() {
    let repo = clean_repo();
    repo.write("debug.log", "x\n")
        .write("NOTES.txt", "x\n")
        .write("vite.config.ts", "x\n");
    let config = waypost_gaps::ScanConfig {
        root_allowlist: vec!["debug.log".into()],
        root_denylist: vec!["NOTES.*".into()],
        ..waypost_gaps::ScanConfig::default()
    };
    let got = fired(
        &crate::support::scan_config(repo.path(), &config, &crate::support::context()).report,
    );
    let clutter: Vec<&str> = got
        .iter()
        .filter(|(d, _)| d == "root_file_outside_allowlist")
        .map(|(_, p)| p.as_str())
        .collect();
    // Allowed though shaped like a log; denied though shaped like nothing;
    // a tool's configuration is left alone.
    assert_eq!(clutter, ["NOTES.txt"]);
}

#[test]
fn root_clutter_and_secrets_at_the_root() {
    let repo = clean_repo();
    repo.write("debug.log", "x\n")
        .write("scratch.py", "print(1)\n")
        .write(".env", "TOKEN=abc\n")
        .write(".env.local", "TOKEN=abc\n")
        .write(".env.production", "TOKEN=abc\n")
        .write(".env.bak.1", "TOKEN=abc\n")
        .write(".env.example", "TOKEN=\n")
        .write(".env.sample", "TOKEN=\n")
        .write(".env.template", "TOKEN=\n");
    let report = scan_dir(repo.path()).report;
    let got = fired(&report);
    for path in [
        "debug.log",
        "scratch.py",
        ".env",
        ".env.local",
        ".env.production",
        ".env.bak.1",
    ] {
        assert!(
            got.contains(&("root_file_outside_allowlist".into(), path.into())),
            "{path}: {got:?}"
        );
    }
    let risk_of = |path: &str| {
        report
            .gaps
            .iter()
            .find(|g| g.evidence.as_ref().is_some_and(|e| e.file_paths == [path]))
            .unwrap_or_else(|| panic!("{path} gap"))
            .risk_classification
    };
    for secret in [".env", ".env.local", ".env.production", ".env.bak.1"] {
        assert_eq!(
            risk_of(secret),
            waypost_schemas::RiskLevel::High,
            "{secret}"
        );
    }
    assert_eq!(risk_of("debug.log"), waypost_schemas::RiskLevel::Low);
    for template in [".env.example", ".env.sample", ".env.template"] {
        assert!(
            !got.iter().any(|(_, p)| p == template),
            "{template} is a conventional root file: {got:?}"
        );
    }
    assert!(
        !got.iter()
            .any(|(_, p)| p == "Cargo.toml" || p == "README.md"),
        "allowlisted files are fine"
    );
}

#[test]
fn files_over_budget() {
    let repo = clean_repo();
    let config = waypost_gaps::ScanConfig {
        file_budget_bytes: 1000,
        ..Default::default()
    };
    repo.write("docs/big.txt", &"x".repeat(2000));
    let outcome = crate::support::scan_config(repo.path(), &config, &crate::support::context());
    assert!(fired(&outcome.report).contains(&("file_over_budget".into(), "docs/big.txt".into())));
}

#[test]
fn duplicated_sot_files_and_ledger_entries() {
    let repo = clean_repo();
    repo.write("docs/BUILD_HISTORY.md", "# history\n")
        .write("archive/BUILD_HISTORY.md", "# history\n")
        .write("sot/builds.ledger.jsonl", "{\"id\": 1, \"v\": \"a\"}\n{\"id\": 2, \"v\": \"b\"}\n{\"id\": 1, \"v\": \"c\"}\n{\"id\": 2, \"v\": \"b\"}\n");
    let report = scan_dir(repo.path()).report;
    let got = fired(&report);
    assert_fired(&got, "duplicate_sot_file", "archive/BUILD_HISTORY.md");
    let mut ledger: Vec<String> = report
        .gaps
        .iter()
        .filter(|g| g.detector.as_deref() == Some("duplicate_ledger_entry"))
        .map(|g| g.description.clone().unwrap_or_default())
        .collect();
    ledger.sort();
    assert_eq!(
        ledger,
        [
            "line 3 reuses entry id 1 from line 1",
            "line 4 repeats the entry on line 2 exactly"
        ],
        "{got:?}"
    );
}

fn scan_with(repo: &TestRepo, config: waypost_gaps::ScanConfig) -> waypost_schemas::GapReportV1 {
    crate::support::scan_config(repo.path(), &config, &crate::support::context()).report
}

#[test]
fn changes_under_protected_paths() {
    let repo = clean_repo();
    repo.write("deploy/prod.yml", "replicas: 2\n")
        .commit_all("deploy");
    let config = || waypost_gaps::ScanConfig {
        protected_paths: vec!["deploy/**".into(), "Cargo.toml".into()],
        ..Default::default()
    };
    assert!(
        scan_with(&repo, config()).gaps.is_empty(),
        "committed and unchanged: nothing"
    );
    repo.write("deploy/prod.yml", "replicas: 20\n");
    repo.write("deploy/new.yml", "x: 1\n");
    repo.write("Cargo.toml", "[package]\nname = \"renamed\"\n");
    repo.git(&["add", "Cargo.toml"]);
    let report = scan_with(&repo, config());
    let titles: Vec<String> = report.gaps.iter().filter_map(|g| g.title.clone()).collect();
    assert!(
        titles.contains(&"deploy/prod.yml is protected and has unstaged changes".to_owned()),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"deploy/new.yml is protected and is a new, untracked file".to_owned()),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"Cargo.toml is protected and has staged changes".to_owned()),
        "{titles:?}"
    );
    assert!(report.gaps.iter().all(|g| g.blocks_autopilot));
    // Unprotected changes are not this detector's business.
    repo.write("src/lib.rs", "pub fn changed() {}\n");
    assert_eq!(scan_with(&repo, config()).gaps.len(), report.gaps.len());
}

#[test]
fn stale_claims_orphan_journals_and_old_locks() {
    let repo = clean_repo();
    // A claim held by a process that has exited.
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let pid = child.id();
    child.wait().expect("reap");
    let mut holder = waypost_fences::identity::this_process(Some("dead worker"));
    holder.pid = pid;
    holder.process_start = None;
    let mut record = waypost_schemas::ClaimRecordV1::unclaimed("workspace");
    record.holder = Some(holder);
    record.fencing_token = 3;
    record.lease_duration_ms = 600_000;
    record.acquired_at =
        Some(waypost_schemas::Timestamp::parse("2026-01-01T00:00:00Z").expect("t"));
    record.renewed_at = record.acquired_at.clone();
    repo.write(
        "claims/workspace.claim.json",
        &serde_json::to_string(&record).expect("json"),
    );
    // A claim whose holder is alive (this process) and whose lease runs: fine.
    let mut live = waypost_schemas::ClaimRecordV1::unclaimed("other");
    live.holder = Some(waypost_fences::identity::this_process(Some("me")));
    live.lease_duration_ms = 600_000;
    live.renewed_at = record.acquired_at.clone();
    repo.write(
        "claims/other.claim.json",
        &serde_json::to_string(&live).expect("json"),
    );
    repo.write("data/app.db-wal", "x")
        .write("data/kept.db", "db")
        .write("data/kept.db-wal", "x")
        .write("data/idle.db", "db")
        .write("data/idle.db-journal", "x");
    // Another process holds data/kept.db open, as a live connection would.
    let mut connection = std::process::Command::new("sh")
        .args(["-c", "exec 3<data/kept.db; echo ready; exec sleep 60"])
        .current_dir(repo.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(connection.stdout.take().expect("stdout")),
        &mut ready,
    )
    .expect("ready");
    repo.write("tmp/build.lock", "");
    repo.write("claims/workspace.claim.lock", "");
    let config = waypost_gaps::ScanConfig {
        lock_age_seconds: 0,
        ..Default::default()
    };
    let mut context = crate::support::context();
    context.now = waypost_schemas::Timestamp::parse("2030-01-01T00:00:00Z").expect("t");
    let report = crate::support::scan_config(repo.path(), &config, &context).report;
    let got = fired(&report);
    assert_fired(&got, "stale_claim", "claims/workspace.claim.json");
    assert!(
        got.contains(&("stale_claim".into(), "claims/other.claim.json".into())),
        "expired by its own lease: {got:?}"
    );
    assert_fired(&got, "orphan_sqlite_journal", "data/app.db-wal");
    assert!(
        !got.contains(&("orphan_sqlite_journal".into(), "data/kept.db-wal".into())),
        "its database is open: {got:?}"
    );
    assert_fired(&got, "orphan_sqlite_journal", "data/idle.db-journal");
    connection.kill().expect("kill");
    connection.wait().expect("reap");
    assert_fired(&got, "old_lock_file", "tmp/build.lock");
    assert!(
        !got.iter()
            .any(|(_, p)| p == "claims/workspace.claim.lock" || p == "Cargo.lock"),
        "persistent and dependency locks are fine: {got:?}"
    );
}

#[test]
fn tests_that_never_run_skipped_invariant_tests_and_missing_fixtures() {
    let repo = clean_repo();
    repo.write("crates/a/Cargo.toml", "[package]\nname = \"a\"\nautotests = false\n\n[[test]]\nname = \"all\"\npath = \"tests/all.rs\"\n")
        .write("crates/a/tests/all.rs", "mod included;\n")
        .write("crates/a/tests/included.rs", "#[test]\nfn ok() { let _ = std::fs::read(\"fixtures/there.json\"); }\n")
        .write("crates/a/fixtures/there.json", "{}\n")
        .write("crates/a/tests/forgotten.rs", "#[test]\n#[ignore]\nfn job_003_terminal_states_are_immutable() {}\n#[test]\nfn reads() { std::fs::read(\"fixtures/gone.json\").unwrap(); }\n");
    let got = fired(&scan_dir(repo.path()).report);
    assert_fired(
        &got,
        "test_file_not_in_target",
        "crates/a/tests/forgotten.rs",
    );
    assert!(
        !got.iter()
            .any(|(d, p)| d == "test_file_not_in_target" && p.ends_with("included.rs")),
        "{got:?}"
    );
    assert_fired(
        &got,
        "invariant_test_skipped",
        "crates/a/tests/forgotten.rs",
    );
    assert_fired(&got, "missing_test_fixture", "crates/a/tests/forgotten.rs");
    assert!(
        !got.iter()
            .any(|(d, p)| d == "missing_test_fixture" && p.ends_with("included.rs")),
        "{got:?}"
    );
    // The project declares no invariant at all: a test name that looks
    // like an id is not one.
    assert!(
        !got.iter().any(|(d, _)| d == "invariant_undocumented"),
        "{got:?}"
    );
    // Once it declares one, JOB-003 is tested but has no block.
    repo.write(
        "crates/a/src/claims.rs",
        "// Invariant: CLM-001 A claim has one holder.\n",
    );
    let got = fired(&scan_dir(repo.path()).report);
    assert_fired(
        &got,
        "invariant_undocumented",
        "crates/a/tests/forgotten.rs",
    );
    repo.write(
        "crates/a/src/lib.rs",
        "// Invariant: JOB-003 Terminal states are immutable.\n",
    );
    let got = fired(&scan_dir(repo.path()).report);
    assert!(
        !got.iter().any(|(d, _)| d == "invariant_undocumented"),
        "{got:?}"
    );
}

#[test]
fn test_configuration_naming_paths_that_do_not_exist() {
    let repo = clean_repo();
    repo.write(
        "crates/a/Cargo.toml",
        "[package]\nname = \"a\"\n\n[[test]]\nname = \"all\"\npath = \"tests/all.rs\"\n\n[[bench]]\nname = \"speed\"\npath = \"benches/speed.rs\"\n",
    )
    .write("crates/a/tests/all.rs", "")
    .write("py/pytest.ini", "[pytest]\ntestpaths = tests\n    integration\naddopts = -q\n")
    .write("py/tests/test_x.py", "")
    .write("pyproject.toml", "[tool.pytest.ini_options]\ntestpaths = [\"py/tests\", \"e2e\"]\n")
    .write("setup.cfg", "[metadata]\nname = x\n\n[tool:pytest]\ntestpaths = py/tests\n");
    let report = scan_dir(repo.path()).report;
    let mut titles: Vec<String> = report
        .gaps
        .iter()
        .filter(|g| g.detector.as_deref() == Some("missing_test_path"))
        .filter_map(|g| g.title.clone())
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            "crates/a/Cargo.toml names missing test path `benches/speed.rs`",
            "py/pytest.ini names missing test path `integration`",
            "pyproject.toml names missing test path `e2e`",
        ]
    );
    let bench = report
        .gaps
        .iter()
        .find(|g| g.title.as_deref().is_some_and(|t| t.contains("speed.rs")))
        .expect("gap");
    let location = &bench.evidence.as_ref().expect("evidence").locations[0];
    assert_eq!(location.start_line, 10, "the line that names it");
}

#[test]
fn test_changes_without_a_ci_bucket_trailer_in_a_range() {
    let repo = clean_repo();
    let base = repo.git(&["rev-parse", "HEAD"]).trim().to_owned();
    repo.write("tests/a.rs", "#[test]\nfn a() {}\n")
        .commit_all("add a test\n\nCI-Bucket: B");
    repo.write("tests/a.rs", "#[test]\nfn a() { assert!(true) }\n")
        .commit_all("loosen the test");
    repo.write("src/lib.rs", "pub fn g() {}\n")
        .commit_all("not a test change");
    let config = || waypost_gaps::ScanConfig {
        range: Some(format!("{base}..HEAD")),
        ..Default::default()
    };
    let report = scan_with(&repo, config());
    let gaps: Vec<_> = report
        .gaps
        .iter()
        .filter(|g| g.detector.as_deref() == Some("test_fix_unclassified"))
        .collect();
    assert_eq!(gaps.len(), 1, "{:?}", fired(&report));
    assert!(
        gaps[0]
            .description
            .as_deref()
            .unwrap_or_default()
            .contains("\"loosen the test\""),
        "{:?}",
        gaps[0].description
    );
    // Without a range there is nothing to check; a bad range is an error.
    assert!(
        !fired(&scan_dir(repo.path()).report)
            .iter()
            .any(|(d, _)| d == "test_fix_unclassified")
    );
    let bad = waypost_gaps::ScanConfig {
        range: Some("nope..HEAD".into()),
        ..Default::default()
    };
    let err = waypost_gaps::scan(
        repo.path(),
        &waypost_gaps::detectors::builtin(&bad),
        &bad,
        &crate::support::context(),
    )
    .expect_err("bad range");
    assert!(err.to_string().contains("cannot resolve `nope`"), "{err}");
}

#[test]
fn baselines_changed_without_approval_and_baselines_outside_runs() {
    let repo = clean_repo();
    repo.write("tests/snapshots/out.snap", "old\n")
        .commit_all("baseline");
    assert!(scan_dir(repo.path()).report.gaps.is_empty());
    repo.write("tests/snapshots/out.snap", "new\n");
    repo.write("src/baseline.json", "{}\n");
    let got = fired(&scan_dir(repo.path()).report);
    assert_fired(
        &got,
        "baseline_changed_without_approval",
        "tests/snapshots/out.snap",
    );
    assert_fired(&got, "shared_baseline_outside_run", "src/baseline.json");
    // A ledger entry that names another baseline changes nothing; one that
    // names this baseline makes the change legitimate.
    repo.write(
        "docs/ledgers/decisions.jsonl",
        "{\"id\": 1, \"text\": \"accepted tests/snapshots/other.snap\"}\n",
    );
    let got = fired(&scan_dir(repo.path()).report);
    assert_fired(
        &got,
        "baseline_changed_without_approval",
        "tests/snapshots/out.snap",
    );
    repo.write(
        "docs/ledgers/decisions.jsonl",
        "{\"id\": 1, \"text\": \"accepted tests/snapshots/out.snap: the API changed\"}\n",
    );
    let got = fired(&scan_dir(repo.path()).report);
    assert!(
        !got.iter()
            .any(|(d, _)| d == "baseline_changed_without_approval"),
        "{got:?}"
    );
    std::fs::remove_file(repo.path().join("docs/ledgers/decisions.jsonl")).expect("remove");
    // An approval record that names the baseline makes the change legitimate.
    repo.write(
        ".autonomous_runs/demo/runs/scan/scan-1/approvals/action-1.json",
        "{\"comment\": \"refresh tests/snapshots/out.snap after the API change\"}\n",
    );
    let got = fired(&scan_dir(repo.path()).report);
    assert!(
        !got.iter()
            .any(|(d, _)| d == "baseline_changed_without_approval"),
        "{got:?}"
    );
}

#[test]
fn run_directories_over_budget_and_logs_past_retention() {
    let repo = clean_repo();
    repo.write(".gitignore", "/target\n/.autonomous_runs\n");
    repo.write(
        ".autonomous_runs/demo/runs/scan/scan-1/gaps/big.json",
        &"x".repeat(5000),
    );
    repo.write(
        ".autonomous_runs/demo/runs/scan/scan-1/logs/run.log",
        "old log\n",
    );
    repo.write(
        ".autonomous_runs/demo/runs/scan/scan-2/logs/run.log",
        "fresh\n",
    );
    let config = waypost_gaps::ScanConfig {
        run_budget_bytes: 1000,
        log_retention_days: 30,
        ..Default::default()
    };
    let mut context = crate::support::context();
    // "Now" is far past the files' times: every log is old.
    context.now = waypost_schemas::Timestamp::parse("2099-01-01T00:00:00Z").expect("t");
    let report = crate::support::scan_config(repo.path(), &config, &context).report;
    let got = fired(&report);
    assert_fired(
        &got,
        "run_dir_over_budget",
        ".autonomous_runs/demo/runs/scan/scan-1",
    );
    assert!(
        !got.contains(&(
            "run_dir_over_budget".into(),
            ".autonomous_runs/demo/runs/scan/scan-2".into()
        )),
        "{got:?}"
    );
    assert_fired(
        &got,
        "run_log_past_retention",
        ".autonomous_runs/demo/runs/scan/scan-1/logs",
    );
    // With "now" at the scan date, nothing is past retention.
    let report =
        crate::support::scan_config(repo.path(), &config, &crate::support::context()).report;
    assert!(
        !fired(&report)
            .iter()
            .any(|(d, _)| d == "run_log_past_retention")
    );
}

#[test]
fn feature_intent_in_critical_folders() {
    let repo = clean_repo();
    repo.write(
        "src/core/engine.rs",
        "// FEATURE_INTENT: schedules work\npub fn run() {}\n",
    )
    .write("src/core/helper.rs", "pub fn help() {}\n")
    .write("src/other.rs", "pub fn other() {}\n");
    let config = || waypost_gaps::ScanConfig {
        critical_dirs: vec!["src/core".into()],
        ..Default::default()
    };
    let got = fired(&scan_with(&repo, config()));
    assert_fired(&got, "feature_intent_missing", "src/core/helper.rs");
    assert!(
        !got.iter()
            .any(|(d, p)| d == "feature_intent_missing" && p != "src/core/helper.rs"),
        "{got:?}"
    );
    assert!(
        !fired(&scan_dir(repo.path()).report)
            .iter()
            .any(|(d, _)| d == "feature_intent_missing"),
        "no critical folders configured: nothing"
    );
}

#[test]
fn generated_files_are_stale_once_their_inputs_change() {
    use waypost_gaps::generated::{GeneratedFile, inputs_digest, marker};
    let repo = clean_repo();
    repo.write("src/extra.rs", "pub fn g() {}\n")
        .write("target/ignored.rs", "ignored by .gitignore\n");
    let declared = GeneratedFile {
        output: "docs/api.md".into(),
        inputs: vec!["src/**/*.rs".into()],
        command: Some("cargo xtask api-doc".into()),
    };
    let config = || waypost_gaps::ScanConfig {
        generated: vec![declared.clone()],
        ..Default::default()
    };
    let titles = || -> Vec<String> {
        scan_with(&repo, config())
            .gaps
            .iter()
            .filter(|g| g.detector.as_deref() == Some("stale_generated_file"))
            .filter_map(|g| g.title.clone())
            .collect()
    };
    assert_eq!(titles(), ["Generated file docs/api.md is missing"]);
    repo.write("docs/api.md", "# API\n");
    assert_eq!(
        titles(),
        ["Generated file docs/api.md does not record its inputs"]
    );
    // Generated now: the marker records the inputs as they are.
    let write_generated = || {
        let digest = inputs_digest(repo.path(), &declared).expect("digest");
        repo.write(
            "docs/api.md",
            &format!("# API\n\n<!-- {} -->\n", marker(&digest)),
        );
    };
    write_generated();
    assert!(titles().is_empty(), "fresh: {:?}", titles());
    // Files that are not inputs, or are git-ignored, do not matter.
    repo.write("README.md", "# demo, edited\n")
        .write("target/ignored.rs", "still ignored\n");
    assert!(titles().is_empty(), "{:?}", titles());
    // An input changes, then a new input appears: stale each time.
    repo.write("src/extra.rs", "pub fn g2() {}\n");
    assert_eq!(titles(), ["Generated file docs/api.md is stale"]);
    let gap = scan_with(&repo, config())
        .gaps
        .into_iter()
        .find(|g| g.detector.as_deref() == Some("stale_generated_file"))
        .expect("gap");
    let remedy = gap
        .safe_remediation
        .and_then(|r| r.approach)
        .unwrap_or_default();
    assert!(remedy.contains("cargo xtask api-doc"), "{remedy}");
    write_generated();
    assert!(titles().is_empty());
    repo.write("src/more/new.rs", "pub fn h() {}\n");
    assert_eq!(titles(), ["Generated file docs/api.md is stale"]);
    write_generated();
    assert!(titles().is_empty());
    // Removing an input is a change too.
    std::fs::remove_file(repo.path().join("src/more/new.rs")).expect("remove");
    assert_eq!(titles(), ["Generated file docs/api.md is stale"]);
}

#[test]
fn generated_file_declarations_are_checked_when_loaded() {
    let dir = tempfile::tempdir().expect("temp");
    let load = |body: &str| {
        std::fs::write(dir.path().join("waypost.toml"), body).expect("write");
        waypost_gaps::ScanConfig::load(dir.path()).map_err(|e| e.to_string())
    };
    let config = load(
        "[[scan.generated]]\noutput = \"docs/api.md\"\ninputs = [\"src/**/*.rs\"]\ncommand = \"make docs\"\n",
    )
    .expect("valid");
    assert_eq!(config.generated.len(), 1);
    assert_eq!(config.generated[0].command.as_deref(), Some("make docs"));
    for (body, expected) in [
        (
            "[[scan.generated]]\noutput = \"docs/api.md\"\n",
            "[scan] generated[0].inputs: missing",
        ),
        (
            "[[scan.generated]]\noutput = \"a.md\"\ninputs = [\"src/[\"]\n",
            "[scan] generated[0].inputs: `src/[`",
        ),
        (
            "[[scan.generated]]\noutput = \"../a.md\"\ninputs = [\"src/*\"]\n",
            "[scan] generated[0].output: `../a.md` climbs out of the repository with `..`",
        ),
        (
            "[[scan.generated]]\noutput = \"./docs/a.md\"\ninputs = [\"src/*\"]\n",
            "[scan] generated[0].output: `./docs/a.md` must be written as the plain repository path `docs/a.md`",
        ),
        (
            "[[scan.generated]]\noutput = \"a.md\"\ninputs = [\"src/*\"]\n\n[[scan.generated]]\noutput = \"b.md\"\ninputs = []\n",
            "[scan] generated[1].inputs: expected a non-empty list of globs",
        ),
        (
            "[[scan.generated]]\noutput = \"a.md\"\ninputs = [\"src/*\"]\nrun = \"x\"\n",
            "[scan] generated[0].run: unknown key",
        ),
        (
            "[scan]\ngenerated = \"docs\"\n",
            "[scan] generated: expected",
        ),
    ] {
        let err = load(body).expect_err(body);
        assert!(err.contains(expected), "{body}: {err}");
    }
}
