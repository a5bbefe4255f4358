//! Listing runs and cleaning up without losing work.

use std::path::Path;

use waypost_parallel::inventory::{self, GcAction, MergeCheck, RunState};
use waypost_parallel::{Repository, Run};

use crate::support::{anchor, commit_in, config, git, repo};

#[test]
fn gc_removes_only_clean_merged_runs_and_quarantines_the_rest() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    let cfg = config();
    let a = anchor(Some(8));
    let start = |id: &str| Run::start(&r, &a, id, "main", &cfg).expect(id);

    // merged: its commit lands on main.
    let merged = start("merged");
    commit_in(merged.worktree(), "m.txt", "m\n");
    let merged_wt = merged.worktree().to_owned();
    merged.finish().expect("finish");
    git(
        repo.path(),
        &["merge", "--quiet", "--ff-only", "waypost/merged"],
    );
    // unmerged: a commit nobody has.
    let unmerged = start("unmerged");
    commit_in(unmerged.worktree(), "u.txt", "u\n");
    unmerged.finish().expect("finish");
    // dirty: uncommitted work.
    let dirty = start("dirty");
    std::fs::write(dirty.worktree().join("wip.txt"), "wip\n").expect("wip");
    dirty.finish().expect("finish");
    // running: still held.
    let running = start("running");

    let (runs, unrecorded) = inventory::list(&r).expect("list");
    assert!(unrecorded.is_empty());
    let by_id = |id: &str| runs.iter().find(|s| s.record.run_id == id).expect(id);
    assert_eq!(by_id("running").state, RunState::Active);
    assert_eq!(by_id("dirty").state, RunState::Ended);
    assert_eq!(by_id("dirty").changed, vec!["wip.txt".to_owned()]);
    assert!(by_id("merged").merged);
    assert!(!by_id("unmerged").merged);
    assert_eq!(by_id("unmerged").ahead, 1);
    assert_eq!(by_id("unmerged").merge, MergeCheck::Clean);
    assert!(by_id("dirty").disk_bytes > 0);

    let dry = inventory::gc(&r, false).expect("dry run");
    let action = |report: &[inventory::GcEntry], id: &str| {
        report
            .iter()
            .find(|e| e.run_id == id)
            .expect(id)
            .action
            .clone()
    };
    assert_eq!(action(&dry, "merged"), GcAction::Remove);
    assert_eq!(action(&dry, "unmerged"), GcAction::Quarantine);
    assert_eq!(action(&dry, "dirty"), GcAction::Quarantine);
    assert_eq!(action(&dry, "running"), GcAction::Running);
    assert!(merged_wt.is_dir(), "a dry run changes nothing");

    let done = inventory::gc(&r, true).expect("gc --execute");
    assert_eq!(action(&done, "merged"), GcAction::Remove);
    assert!(!merged_wt.exists(), "the merged run's worktree is gone");
    assert!(!git(repo.path(), &["branch", "--list"]).contains("waypost/merged"));
    // The dirty worktree and the unmerged branch survive, moved aside.
    let dirty_entry = done.iter().find(|e| e.run_id == "dirty").expect("dirty");
    assert!(
        dirty_entry.worktree.contains("quarantine"),
        "{}",
        dirty_entry.worktree
    );
    assert_eq!(
        std::fs::read_to_string(Path::new(&dirty_entry.worktree).join("wip.txt"))
            .expect("wip kept"),
        "wip\n"
    );
    assert!(git(repo.path(), &["log", "--format=%s", "waypost/unmerged"]).contains("add u.txt"));
    assert!(running.worktree().is_dir());
    git(repo.path(), &["fsck", "--full", "--strict"]);

    // A second gc keeps listing the quarantined runs and removes nothing.
    let again = inventory::gc(&r, true).expect("again");
    assert_eq!(action(&again, "dirty"), GcAction::Quarantined);
    assert_eq!(action(&again, "unmerged"), GcAction::Quarantined);
    assert!(Path::new(&dirty_entry.worktree).join("wip.txt").is_file());
    running.finish().expect("finish");
}

#[test]
fn list_reports_conflicting_runs_without_touching_any_worktree() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    let run = Run::start(&r, &anchor(None), "clash", "main", &config()).expect("start");
    commit_in(run.worktree(), "README.md", "# from the run\n");
    let wt = run.worktree().to_owned();
    run.finish().expect("finish");
    repo.write("README.md", "# from main\n")
        .commit_all("main edit");
    let index_before = std::fs::read(repo.path().join(".git/index")).expect("index");
    let status = inventory::show(&r, "clash").expect("show");
    assert_eq!(
        status.merge,
        MergeCheck::Conflicts(vec!["README.md".to_owned()])
    );
    assert_eq!(
        std::fs::read(repo.path().join(".git/index")).expect("index"),
        index_before
    );
    assert_eq!(git(&wt, &["status", "--porcelain"]), "");
    let err = inventory::show(&r, "nope").expect_err("unknown");
    assert!(err.to_string().contains("no run `nope`"), "{err}");
}
