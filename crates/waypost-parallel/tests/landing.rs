//! Landing a run: governed, exactly once, checkouts of the base respected.

use waypost_parallel::landing::{self, LandOptions, LandOutcome, Strategy};
use waypost_parallel::{Repository, Run};
use waypost_schemas::{ApprovalRecordV1, IntentionAnchorV2, LandingState};

use crate::support::{commit_in, config, git, repo};

/// An anchor that allows parallel runs and accepts approvals through `cli`.
pub(crate) fn landing_anchor() -> IntentionAnchorV2 {
    serde_json::from_value(serde_json::json!({
        "format_version": "v2", "project_id": "demo", "created_at": "2026-01-01T00:00:00Z",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {
            "parallelism_isolation": {"allowed": true, "max_concurrent_runs": 64},
            "governance_review": {"approval_channels": ["cli"]}
        }
    }))
    .expect("anchor")
}

/// A human's approval of landing `run_id` as the repository stands now.
pub(crate) fn approve(r: &Repository, run_id: &str, strategy: Strategy) -> ApprovalRecordV1 {
    let action = landing::pending_action(r, run_id, strategy).expect("action");
    serde_json::from_value(serde_json::json!({
        "format_version": "v1", "action_id": action.action_id,
        "action_sha256": action.content_sha256(), "approver": "alice", "channel": "cli",
        "approved_at": "2026-01-01T00:00:00Z"
    }))
    .expect("approval")
}

/// A finished run `run_id` with one commit adding `file`.
pub(crate) fn run_with_commit(r: &Repository, run_id: &str, file: &str) {
    let run = Run::start(r, &landing_anchor(), run_id, "main", &config()).expect("start");
    commit_in(run.worktree(), file, &format!("{run_id}\n"));
    run.finish().expect("finish");
}

fn land(
    r: &Repository,
    run_id: &str,
    strategy: Strategy,
    approval: Option<&ApprovalRecordV1>,
) -> LandOutcome {
    let options = LandOptions {
        strategy,
        approval,
        ..LandOptions::default()
    };
    landing::land(r, &landing_anchor(), run_id, &options).expect("land")
}

#[test]
fn a_landing_needs_an_approval_bound_to_the_exact_commits() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    run_with_commit(&r, "fix-1", "a.txt");
    let main_before = git(repo.path(), &["rev-parse", "main"]);
    let outcome = land(&r, "fix-1", Strategy::Merge, None);
    let LandOutcome::NeedsApproval { action, reason } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        action.action_type,
        waypost_schemas::ActionType::GitOperation
    );
    assert!(reason.contains("no approval"), "{reason}");
    assert_eq!(
        git(repo.path(), &["rev-parse", "main"]),
        main_before,
        "nothing moved"
    );

    // An approval given before the base moved does not count after.
    let stale = approve(&r, "fix-1", Strategy::Merge);
    repo.write("other.txt", "x\n").commit_all("main moves");
    let outcome = land(&r, "fix-1", Strategy::Merge, Some(&stale));
    assert!(
        matches!(&outcome, LandOutcome::NeedsApproval { reason, .. } if reason.contains("the approval is for action")),
        "{outcome:?}"
    );
    let fresh = approve(&r, "fix-1", Strategy::Merge);
    let outcome = land(&r, "fix-1", Strategy::Merge, Some(&fresh));
    let LandOutcome::Landed {
        result,
        already: false,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(git(repo.path(), &["rev-parse", "main"]).trim(), result);
    assert_eq!(
        git(repo.path(), &["log", "-1", "--format=%P", "main"])
            .split_whitespace()
            .count(),
        2,
        "a merge commit"
    );
    // The main checkout (on main, clean) was brought along.
    assert_eq!(
        git(
            repo.path(),
            &["status", "--porcelain", "--untracked-files=no"]
        ),
        ""
    );
    assert!(repo.path().join("a.txt").is_file());
    let record = r.record("fix-1").expect("read").expect("record");
    let landing = record.landing.expect("landing recorded");
    assert_eq!(landing.state, LandingState::Landed);
    assert_eq!(landing.result.as_deref(), Some(result.as_str()));
    // The landing is audit evidence in the run's directory, naming the
    // approver.
    let governance = r
        .root()
        .join(".autonomous_runs/demo/runs/fix-1/fix-1/governance");
    let audits: Vec<_> = std::fs::read_dir(&governance)
        .expect("governance dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("audit-job-land-"))
        .collect();
    assert_eq!(audits.len(), 1, "{audits:?}");
    let audit: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(governance.join(&audits[0])).expect("audit"))
            .expect("json");
    assert_eq!(audit["status"], "completed");
    let contract = audits[0].replace("audit-job-land-", "contract-contract-land-");
    let contract = std::fs::read_to_string(governance.join(contract)).expect("contract");
    assert!(contract.contains("alice (cli)"), "{contract}");
    // Landing again is a no-op.
    assert!(matches!(
        land(&r, "fix-1", Strategy::Merge, None),
        LandOutcome::Landed { already: true, .. }
    ));
    git(repo.path(), &["fsck", "--full", "--strict"]);
}

#[test]
fn fast_forward_and_rebase_land_without_a_merge_commit() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    run_with_commit(&r, "ff", "ff.txt");
    let approval = approve(&r, "ff", Strategy::FastForward);
    let head = git(repo.path(), &["rev-parse", "waypost/ff"]);
    assert!(matches!(
        land(&r, "ff", Strategy::FastForward, Some(&approval)),
        LandOutcome::Landed { already: false, .. }
    ));
    assert_eq!(git(repo.path(), &["rev-parse", "main"]), head);

    run_with_commit(&r, "rb", "rb.txt");
    repo.write("moved.txt", "x\n").commit_all("main moves");
    let approval = approve(&r, "rb", Strategy::FastForward);
    let outcome = land(&r, "rb", Strategy::FastForward, Some(&approval));
    assert!(
        matches!(&outcome, LandOutcome::Blocked { reason, .. } if reason.contains("not a fast-forward")),
        "{outcome:?}"
    );
    let approval = approve(&r, "rb", Strategy::Rebase);
    let outcome = land(&r, "rb", Strategy::Rebase, Some(&approval));
    assert!(
        matches!(outcome, LandOutcome::Landed { already: false, .. }),
        "{outcome:?}"
    );
    let parents = git(repo.path(), &["log", "-1", "--format=%P", "main"]);
    assert_eq!(parents.split_whitespace().count(), 1, "rebased, not merged");
    assert!(git(repo.path(), &["log", "--format=%s", "main"]).contains("add rb.txt"));
    git(repo.path(), &["fsck", "--full", "--strict"]);
}

#[test]
fn a_conflict_is_merge_blocked_with_its_paths_and_evidence_for_the_pilot() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    let run = Run::start(&r, &landing_anchor(), "clash", "main", &config()).expect("start");
    commit_in(run.worktree(), "README.md", "# from the run\n");
    run.finish().expect("finish");
    repo.write("README.md", "# from main\n")
        .commit_all("main edit");
    let main_before = git(repo.path(), &["rev-parse", "main"]);
    let approval = approve(&r, "clash", Strategy::Merge);
    let outcome = land(&r, "clash", Strategy::Merge, Some(&approval));
    let LandOutcome::Blocked { conflicts, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(conflicts, vec!["README.md".to_owned()]);
    assert_eq!(git(repo.path(), &["rev-parse", "main"]), main_before);
    assert_eq!(
        git(
            repo.path(),
            &["status", "--porcelain", "--untracked-files=no"]
        ),
        "",
        "nothing touched"
    );
    let record = r.record("clash").expect("read").expect("record");
    assert_eq!(
        record.landing.expect("landing").state,
        LandingState::MergeBlocked
    );
    let evidence = std::fs::read_to_string(
        r.root()
            .join(".autonomous_runs/demo/runs/clash/clash/tasks/land/verification.log"),
    )
    .expect("pilot evidence");
    assert!(
        evidence.contains("merge conflict") && evidence.ends_with("exit status: 1\n"),
        "{evidence}"
    );
    let governance = r
        .root()
        .join(".autonomous_runs/demo/runs/clash/clash/governance");
    let audit = std::fs::read_dir(&governance)
        .expect("governance dir")
        .map(|e| e.expect("entry").path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("audit-job-land-"))
        })
        .expect("audit evidence of the blocked landing");
    let audit: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(audit).expect("audit")).expect("json");
    assert_eq!(audit["status"], "failed");
}

#[test]
fn parallel_006_a_dirty_checkout_of_the_base_blocks_and_is_named_a_clean_one_is_updated() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    run_with_commit(&r, "fix-1", "a.txt");
    repo.write("README.md", "# local edit\n");
    let approval = approve(&r, "fix-1", Strategy::Merge);
    let outcome = land(&r, "fix-1", Strategy::Merge, Some(&approval));
    assert!(
        matches!(&outcome, LandOutcome::Blocked { reason, .. } if reason.contains("uncommitted changes") && reason.contains(&r.root().display().to_string())),
        "{outcome:?}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("README.md")).expect("read"),
        "# local edit\n"
    );
    // Clean again: the same landing (base unchanged) stays blocked until
    // the base moves or the run changes; after a new base it lands.
    git(repo.path(), &["checkout", "--", "README.md"]);
    repo.write("b.txt", "b\n").commit_all("main moves");
    let approval = approve(&r, "fix-1", Strategy::Merge);
    let outcome = land(&r, "fix-1", Strategy::Merge, Some(&approval));
    assert!(
        matches!(outcome, LandOutcome::Landed { already: false, .. }),
        "{outcome:?}"
    );
    assert!(
        repo.path().join("a.txt").is_file(),
        "the clean checkout was updated"
    );
    assert_eq!(
        git(
            repo.path(),
            &["status", "--porcelain", "--untracked-files=no"]
        ),
        ""
    );
}

#[test]
fn parallel_006_a_base_checked_out_only_elsewhere_is_updated_there() {
    let repo = repo();
    git(repo.path(), &["checkout", "--quiet", "-b", "side"]);
    let elsewhere = tempfile::tempdir().expect("temp");
    let wt = elsewhere.path().join("main-checkout");
    git(
        repo.path(),
        &[
            "worktree",
            "add",
            "--quiet",
            wt.to_str().expect("utf-8"),
            "main",
        ],
    );
    let r = Repository::open(repo.path()).expect("open");
    run_with_commit(&r, "fix-1", "a.txt");
    let approval = approve(&r, "fix-1", Strategy::Merge);
    assert!(matches!(
        land(&r, "fix-1", Strategy::Merge, Some(&approval)),
        LandOutcome::Landed { already: false, .. }
    ));
    assert!(wt.join("a.txt").is_file());
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    assert!(
        !repo.path().join("a.txt").exists(),
        "the checkout on another branch is untouched"
    );
}

#[test]
fn parallel_005_a_base_that_moves_between_preflight_and_landing_is_not_overwritten() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    run_with_commit(&r, "fix-1", "a.txt");
    let root = repo.path().to_owned();
    // Someone commits on main after the result is computed and recorded,
    // before the ref moves.
    let moved = std::sync::Mutex::new(None);
    let on_step = |step: landing::Step| {
        if step == landing::Step::Recorded {
            std::fs::write(root.join("late.txt"), "late\n").expect("write");
            git(&root, &["add", "late.txt"]);
            git(&root, &["commit", "--quiet", "-m", "late commit"]);
            *moved.lock().expect("lock") = Some(git(&root, &["rev-parse", "main"]));
        }
    };
    let approval = approve(&r, "fix-1", Strategy::Merge);
    let options = LandOptions {
        approval: Some(&approval),
        on_step: Some(&on_step),
        ..LandOptions::default()
    };
    let outcome = landing::land(&r, &landing_anchor(), "fix-1", &options).expect("land");
    assert!(
        matches!(&outcome, LandOutcome::Blocked { reason, .. } if reason.contains("moved while landing")),
        "{outcome:?}"
    );
    let late = moved.lock().expect("lock").clone().expect("the hook ran");
    assert_eq!(
        git(repo.path(), &["rev-parse", "main"]),
        late,
        "the late commit stands"
    );
    assert!(
        !repo.path().join("a.txt").exists(),
        "nothing of the run landed"
    );
    let landing = r
        .record("fix-1")
        .expect("read")
        .expect("record")
        .landing
        .expect("landing");
    assert_eq!(landing.state, LandingState::MergeBlocked);
    assert_eq!(landing.attempts, 1);

    // The old approval named the old base; a new one lands on the new base.
    assert!(matches!(
        land(&r, "fix-1", Strategy::Merge, Some(&approval)),
        LandOutcome::NeedsApproval { .. }
    ));
    let approval = approve(&r, "fix-1", Strategy::Merge);
    assert!(matches!(
        land(&r, "fix-1", Strategy::Merge, Some(&approval)),
        LandOutcome::Landed { already: false, .. }
    ));
    assert!(repo.path().join("a.txt").is_file() && repo.path().join("late.txt").is_file());
    let parents = git(repo.path(), &["log", "-1", "--format=%P", "main"]);
    assert!(
        parents.starts_with(late.trim()),
        "merged on top of the late commit: {parents}"
    );
}

#[test]
fn parallel_006_an_untracked_file_in_the_way_blocks_before_the_base_moves() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    run_with_commit(&r, "fix-1", "a.txt");
    std::fs::write(repo.path().join("a.txt"), "precious\n").expect("untracked");
    let main_before = git(repo.path(), &["rev-parse", "main"]);
    let approval = approve(&r, "fix-1", Strategy::Merge);
    let outcome = land(&r, "fix-1", Strategy::Merge, Some(&approval));
    assert!(
        matches!(&outcome, LandOutcome::Blocked { reason, .. } if reason.contains("cannot take the result") && reason.contains("a.txt")),
        "{outcome:?}"
    );
    assert_eq!(
        git(repo.path(), &["rev-parse", "main"]),
        main_before,
        "main did not move"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("a.txt")).expect("kept"),
        "precious\n"
    );
    assert_eq!(
        git(
            repo.path(),
            &["status", "--porcelain", "--untracked-files=no"]
        ),
        ""
    );
    // Out of the way, the same approval lands it (nothing it names moved).
    std::fs::remove_file(repo.path().join("a.txt")).expect("rm");
    let outcome = land(&r, "fix-1", Strategy::Merge, Some(&approval));
    assert!(
        matches!(outcome, LandOutcome::Landed { already: false, .. }),
        "{outcome:?}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("a.txt")).expect("landed"),
        "fix-1\n"
    );
}

#[test]
fn parallel_005_a_run_branch_moved_after_the_decision_is_not_landed() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    run_with_commit(&r, "fix-1", "a.txt");
    let wt = r.root().join(".git/waypost/worktrees/fix-1");
    let root = repo.path().to_owned();
    // After the approval was checked and the claim taken, the run's branch
    // gets one more (unapproved) commit.
    let on_step = |step: landing::Step| {
        if step == landing::Step::Claimed {
            commit_in(&wt, "evil.txt", "unapproved\n");
        }
    };
    let approval = approve(&r, "fix-1", Strategy::Merge);
    let options = LandOptions {
        approval: Some(&approval),
        on_step: Some(&on_step),
        ..LandOptions::default()
    };
    let main_before = git(&root, &["rev-parse", "main"]);
    let outcome = landing::land(&r, &landing_anchor(), "fix-1", &options).expect("land");
    assert!(
        matches!(&outcome, LandOutcome::Blocked { reason, .. } if reason.contains("moved after the landing was decided")),
        "{outcome:?}"
    );
    assert_eq!(git(&root, &["rev-parse", "main"]), main_before);
    assert!(!root.join("evil.txt").exists());
    // The new head needs its own approval.
    assert!(matches!(
        land(&r, "fix-1", Strategy::Merge, Some(&approval)),
        LandOutcome::NeedsApproval { .. }
    ));
}

// Real processes.

mod processes {
    use std::process::Child;
    use std::time::{Duration, Instant};

    use serde_json::json;
    use waypost_parallel::Repository;
    use waypost_parallel::landing::{LandOutcome, Strategy};
    use waypost_test_support::workers::wait_for_report;

    use super::{approve, land, run_with_commit};
    use crate::support::{git, repo};
    use crate::worker::{reports, worker};

    fn full() -> bool {
        std::env::var("WAYPOST_STRESS").is_ok_and(|v| v == "full")
    }

    /// Sends `signal` (`-STOP`, `-CONT`) to the process `pid`.
    fn signal(pid: &str, signal: &str) {
        assert!(
            std::process::Command::new("kill")
                .args([signal, pid])
                .status()
                .expect("kill")
                .success()
        );
    }

    /// Whether some process holds one of the claim stores' key locks below
    /// `dir` (each held only while one read-decide-write runs).
    fn a_key_lock_is_held(dir: &std::path::Path) -> bool {
        let me = waypost_fences::identity::this_process(Some("test probe"));
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().any(|entry| {
            let path = entry.path();
            if path.is_dir() {
                a_key_lock_is_held(&path)
            } else if path.to_string_lossy().ends_with(".claim.lock") {
                // Taken and let go at once when free.
                matches!(
                    waypost_fences::LockFile::new(path).try_acquire(&me),
                    Ok(None)
                )
            } else {
                false
            }
        })
    }

    /// Stops `pid` at a moment it is inside no claim store's key lock. A
    /// process stopped within one (its heartbeat renewing a lease, for a
    /// few microseconds) keeps every other claimant of that key waiting
    /// until it runs again: safe, but not what a test of a lander paused
    /// past its lease is about.
    fn stop_outside_key_locks(pid: &str, claims: &std::path::Path) {
        for _ in 0..200 {
            signal(pid, "-STOP");
            if !a_key_lock_is_held(claims) {
                return;
            }
            signal(pid, "-CONT");
            std::thread::sleep(Duration::from_millis(3));
        }
        panic!("the lander was inside a key lock at every one of 200 stops");
    }

    fn merges_of(repo: &std::path::Path, run_id: &str) -> usize {
        git(repo, &["log", "--format=%s", "main"])
            .lines()
            .filter(|l| l.starts_with(&format!("Merge run {run_id} ")))
            .count()
    }

    #[test]
    fn parallel_005_eight_processes_landing_one_run_merge_it_exactly_once() {
        let repo = repo();
        let r = Repository::open(repo.path()).expect("open");
        run_with_commit(&r, "fix-1", "a.txt");
        let go = repo.path().join(".git/go");
        let children: Vec<Child> = (0..8)
            .map(|_| {
                worker(&json!({"mode": "land", "repo": repo.path(), "run_id": "fix-1", "go": go}))
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        std::fs::write(&go, "").expect("go");
        let mut outcomes = Vec::new();
        for child in children {
            let output = child.wait_with_output().expect("worker");
            let report = reports(&String::from_utf8_lossy(&output.stdout))
                .pop()
                .expect("report");
            outcomes.push(report);
        }
        let fresh = outcomes
            .iter()
            .filter(|o| o["outcome"] == "landed" && o["already"] == false)
            .count();
        assert_eq!(fresh, 1, "{outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|o| o["outcome"] == "landed" || o["outcome"] == "held"),
            "{outcomes:?}"
        );
        assert_eq!(merges_of(repo.path(), "fix-1"), 1);
        git(repo.path(), &["fsck", "--full", "--strict"]);
    }

    #[test]
    fn parallel_005_a_lander_killed_at_any_point_lands_the_run_exactly_once() {
        let iterations = if full() { 100 } else { 20 };
        let repo = repo();
        // The main checkout sits on another branch: the base is not checked out.
        git(repo.path(), &["checkout", "--quiet", "-b", "side"]);
        let r = Repository::open(repo.path()).expect("open");
        let calibrate = Instant::now();
        run_with_commit(&r, "calibrate", "calibrate.txt");
        let output = worker(&json!({"mode": "land", "repo": repo.path(), "run_id": "calibrate"}))
            .output()
            .expect("calibration");
        assert!(output.status.success());
        let span = u64::try_from(calibrate.elapsed().as_micros()).expect("short");
        let mut jitter = waypost_test_support::Jitter::new(0x2545_f491_4f6c_dd1d);
        let (mut killed_before, mut found_landed) = (0, 0);
        for i in 0..iterations {
            let run_id = format!("k{i}");
            run_with_commit(&r, &run_id, &format!("k{i}.txt"));
            let mut child = worker(&json!({"mode": "land", "repo": repo.path(), "run_id": run_id}))
                .spawn()
                .expect("spawn");
            std::thread::sleep(Duration::from_micros(jitter.below(span)));
            child.kill().expect("SIGKILL");
            let output = child.wait_with_output().expect("reap");
            if reports(&String::from_utf8_lossy(&output.stdout)).is_empty() {
                killed_before += 1;
            }
            let approval = approve(&r, &run_id, Strategy::Merge);
            let outcome = land(&r, &run_id, Strategy::Merge, Some(&approval));
            match outcome {
                LandOutcome::Landed { already, .. } => found_landed += u32::from(already),
                other => panic!("iteration {i}: {other:?}"),
            }
            assert_eq!(merges_of(repo.path(), &run_id), 1, "iteration {i}");
            let landing = r.record(&run_id).expect("read").expect("record").landing;
            if let Some(landing) = landing {
                assert!(landing.attempts <= 3, "iteration {i}: {landing:?}");
            }
        }
        git(repo.path(), &["fsck", "--full", "--strict"]);
        if full() {
            eprintln!(
                "kill -9 during landing: {iterations} iterations over a {:.1?} lander, {killed_before} killed before reporting, {found_landed} found already landed by the next lander, every run merged exactly once",
                Duration::from_micros(span)
            );
        }
    }

    #[test]
    fn parallel_005_a_lander_paused_past_its_lease_cannot_move_the_base_after_a_takeover() {
        let repo = repo();
        let r = Repository::open(repo.path()).expect("open");
        run_with_commit(&r, "fix-1", "a.txt");
        let mut paused = worker(&json!({
            "mode": "land", "repo": repo.path(), "run_id": "fix-1",
            "lease_ms": 300, "pause_at": "recorded", "pause_ms": 200,
        }))
        .spawn()
        .expect("spawn");
        let step = wait_for_report(&mut paused, |r| r["step"] == "recorded");
        let pid = step["pid"].as_u64().expect("pid").to_string();
        stop_outside_key_locks(&pid, &repo.path().join(".git/waypost/claims"));
        std::thread::sleep(Duration::from_millis(900));
        let approval = approve(&r, "fix-1", Strategy::Merge);
        let outcome = land(&r, "fix-1", Strategy::Merge, Some(&approval));
        assert!(
            matches!(outcome, LandOutcome::Landed { already: false, .. }),
            "{outcome:?}"
        );
        let main = git(repo.path(), &["rev-parse", "main"]);
        signal(&pid, "-CONT");
        let answer = wait_for_report(&mut paused, |r| r.get("outcome").is_some());
        paused.wait().expect("reap");
        assert_eq!(answer["outcome"], "error", "{answer}");
        assert!(
            answer["error"]
                .as_str()
                .expect("error")
                .contains("was refused"),
            "{answer}"
        );
        assert_eq!(
            git(repo.path(), &["rev-parse", "main"]),
            main,
            "the old lander moved nothing"
        );
        assert_eq!(merges_of(repo.path(), "fix-1"), 1);
    }

    #[test]
    fn parallel_005_a_landing_longer_than_its_lease_is_not_taken_over_while_alive() {
        let repo = repo();
        let r = Repository::open(repo.path()).expect("open");
        run_with_commit(&r, "fix-1", "a.txt");
        let mut slow = worker(&json!({
            "mode": "land", "repo": repo.path(), "run_id": "fix-1",
            "lease_ms": 300, "pause_at": "computed", "pause_ms": 1500,
        }))
        .spawn()
        .expect("spawn");
        wait_for_report(&mut slow, |r| r["step"] == "computed");
        let approval = approve(&r, "fix-1", Strategy::Merge);
        let until = Instant::now() + Duration::from_millis(1000);
        let mut tries = 0;
        while Instant::now() < until {
            let outcome = land(&r, "fix-1", Strategy::Merge, Some(&approval));
            assert!(matches!(outcome, LandOutcome::HeldBy { .. }), "{outcome:?}");
            tries += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(tries >= 5);
        let answer = wait_for_report(&mut slow, |r| r.get("outcome").is_some());
        slow.wait().expect("reap");
        assert_eq!(answer["outcome"], "landed", "{answer}");
        assert_eq!(merges_of(repo.path(), "fix-1"), 1);
    }
}
