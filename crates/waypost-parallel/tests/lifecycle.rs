//! Starting, reattaching and finishing runs; the gate; ports and files.

use std::path::Path;

use waypost_parallel::{Repository, Run, StartError, inventory};

use crate::support::{anchor, commit_in, config, git, repo};

#[test]
fn a_run_gets_its_own_worktree_branch_and_record() {
    let repo = repo();
    let before_head = git(repo.path(), &["rev-parse", "HEAD"]);
    let r = Repository::open(repo.path()).expect("open");
    let run = Run::start(&r, &anchor(None), "fix-1", "main", &config()).expect("start");
    assert_eq!(run.branch(), "waypost/fix-1");
    assert!(!run.reattached());
    let wt = run.worktree().to_owned();
    assert!(wt.starts_with(r.common_dir()), "{}", wt.display());
    assert_eq!(
        git(&wt, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "waypost/fix-1"
    );
    assert!(
        wt.join("src/lib.rs").is_file(),
        "the worktree is checked out"
    );
    assert_eq!(
        git(&wt, &["status", "--porcelain"]),
        "",
        "fresh worktree is clean"
    );
    commit_in(&wt, "notes.txt", "work\n");
    let record = r.record("fix-1").expect("read").expect("record");
    assert_eq!(record.base_branch.as_deref(), Some("main"));
    assert_eq!(record.base_commit, before_head.trim());
    run.finish().expect("finish");
    // The main worktree is untouched; the work stays on the run's branch.
    assert_eq!(git(repo.path(), &["rev-parse", "HEAD"]), before_head);
    assert_eq!(git(repo.path(), &["status", "--porcelain"]), "");
    assert!(git(repo.path(), &["log", "--format=%s", "waypost/fix-1"]).contains("add notes.txt"));
    git(repo.path(), &["fsck", "--full", "--strict"]);
}

#[test]
fn a_run_reattaches_only_to_its_own_worktree() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    let cfg = config();
    let first = Run::start(&r, &anchor(Some(4)), "fix-1", "main", &cfg).expect("start");
    let wt = first.worktree().to_owned();
    commit_in(&wt, "a.txt", "a\n");
    first.finish().expect("finish");

    let again = Run::start(&r, &anchor(Some(4)), "fix-1", "main", &cfg).expect("reattach");
    assert!(again.reattached());
    assert_eq!(again.worktree(), wt);
    again.finish().expect("finish");

    // The worktree's owner marker names another run: refused.
    let admin = Path::new(&r.common_dir()).join("worktrees");
    let marker = std::fs::read_dir(&admin)
        .expect("admin dir")
        .filter_map(Result::ok)
        .map(|e| e.path().join(waypost_parallel::OWNER_MARKER))
        .find(|p| p.is_file())
        .expect("marker");
    std::fs::write(&marker, "someone-else\n").expect("tamper");
    let err = Run::start(&r, &anchor(Some(4)), "fix-1", "main", &cfg).expect_err("not ours");
    assert!(
        matches!(err, StartError::NotOwned { .. }) && err.to_string().contains("someone-else"),
        "{err}"
    );
    std::fs::write(&marker, "fix-1\n").expect("restore");

    // Another base than the one recorded: refused, nothing changed.
    commit_in(repo.path(), "b.txt", "b\n");
    let err = Run::start(&r, &anchor(Some(4)), "fix-1", "main", &cfg).expect_err("other base");
    assert!(err.to_string().contains("started from"), "{err}");
}

#[test]
fn a_branch_that_exists_without_a_record_is_not_taken_over() {
    let repo = repo();
    git(repo.path(), &["branch", "waypost/fix-1"]);
    let r = Repository::open(repo.path()).expect("open");
    let err = Run::start(&r, &anchor(None), "fix-1", "main", &config()).expect_err("occupied");
    assert!(matches!(err, StartError::Occupied { .. }), "{err}");
    assert!(r.record("fix-1").expect("read").is_none());
}

#[test]
fn parallel_001_the_gate_refuses_a_second_run_unless_the_anchor_allows_it() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    let cfg = config();
    let one = Run::start(&r, &anchor(None), "one", "main", &cfg).expect("first");
    let err = Run::start(&r, &anchor(None), "two", "main", &cfg).expect_err("second");
    let text = err.to_string();
    assert!(
        matches!(err, StartError::Refused { .. })
            && text.contains("does not allow parallel runs")
            && text.contains("run one"),
        "{text}"
    );
    assert!(
        r.record("two").expect("read").is_none(),
        "a refused run creates nothing"
    );
    one.finish().expect("finish");
    Run::start(&r, &anchor(None), "two", "main", &cfg)
        .expect("the slot came back")
        .finish()
        .expect("finish");
}

#[test]
fn parallel_001_the_gate_admits_up_to_the_limit_and_then_one_more_when_one_ends() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    let cfg = config();
    let a = anchor(Some(2));
    let first = Run::start(&r, &a, "r1", "main", &cfg).expect("1");
    let second = Run::start(&r, &a, "r2", "main", &cfg).expect("2");
    let err = Run::start(&r, &a, "r3", "main", &cfg).expect_err("3");
    assert!(err.to_string().contains("all 2 run slots"), "{err}");
    second.finish().expect("finish");
    let third = Run::start(&r, &a, "r3", "main", &cfg).expect("3 after one ended");
    third.finish().expect("finish");
    first.finish().expect("finish");
}

#[test]
fn a_second_executor_of_the_same_run_fails_at_once_naming_the_holder() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    let cfg = config();
    let run = Run::start(&r, &anchor(Some(4)), "fix-1", "main", &cfg).expect("start");
    let started = std::time::Instant::now();
    let err = Run::start(&r, &anchor(Some(4)), "fix-1", "main", &cfg).expect_err("busy");
    assert!(
        matches!(err, StartError::ExecutorBusy { .. })
            && err
                .to_string()
                .contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "it does not wait for the holder"
    );
    run.finish().expect("finish");
}

#[test]
fn parallel_003_runs_lease_distinct_free_ports_and_get_copied_files() {
    let repo = repo();
    repo.write(".gitignore", ".env\n").commit_all("ignore env");
    std::fs::write(repo.path().join(".env"), "TOKEN=local-only\n").expect("env");
    let r = Repository::open(repo.path()).expect("open");
    let mut cfg = config();
    cfg.ports = vec!["web".to_owned(), "db".to_owned()];
    cfg.port_range = (47000, 47009);
    cfg.copy_files = vec![".env".to_owned(), "missing.env".to_owned()];
    // Something else on the host uses one port of the range.
    let busy = std::net::TcpListener::bind(("127.0.0.1", 47000)).ok();
    let a = Run::start(&r, &anchor(Some(4)), "a", "main", &cfg).expect("a");
    let b = Run::start(&r, &anchor(Some(4)), "b", "main", &cfg).expect("b");
    let mut all: Vec<u16> = a
        .ports()
        .values()
        .chain(b.ports().values())
        .copied()
        .collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(
        all.len(),
        4,
        "four distinct ports: {:?} {:?}",
        a.ports(),
        b.ports()
    );
    if busy.is_some() {
        assert!(
            !all.contains(&47000),
            "a port in use on the host is skipped"
        );
    }
    assert!(all.iter().all(|p| (47000..=47009).contains(p)));
    assert_eq!(
        std::fs::read_to_string(a.worktree().join(".env")).expect("copied"),
        "TOKEN=local-only\n"
    );
    assert_eq!(a.record().copied_files, vec![".env".to_owned()]);
    a.finish().expect("finish");
    let c = Run::start(&r, &anchor(Some(4)), "c", "main", &cfg).expect("c");
    assert!(
        c.ports()
            .values()
            .all(|p| !b.ports().values().any(|q| q == p)),
        "a live run's ports are never handed out again"
    );
    drop((b, c));
    // Once the copied file is in place, the worktree still counts as clean.
    let (runs, _) = inventory::list(&r).expect("list");
    assert!(
        runs.iter().all(|s| s.changed.is_empty()),
        "{:?}",
        runs.iter().map(|s| &s.changed).collect::<Vec<_>>()
    );
}
