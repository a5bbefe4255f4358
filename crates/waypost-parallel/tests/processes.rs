//! Concurrency and crash claims, proven with real processes.
//!
//! Sizes: reduced by default (CI); `WAYPOST_STRESS=full` runs the full size
//! (10 rounds of 8 simultaneous starters; 20 kill -9 at random points) and
//! prints figures.

use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::json;
use waypost_fences::{LockFile, identity};
use waypost_parallel::inventory::{self, GcAction};
use waypost_parallel::{Repository, Run};

use crate::support::{anchor, config, git, repo};
use waypost_test_support::workers::wait_for_report;

use crate::worker::{reports, worker};

fn full() -> bool {
    std::env::var("WAYPOST_STRESS").is_ok_and(|v| v == "full")
}

/// `n` processes start runs at the same moment, each commits `commits`
/// changes and writes as many artifacts; everything is checked after.
fn simultaneous_starts(n: usize, commits: u64, round: usize) {
    let repo = repo();
    let head = git(repo.path(), &["rev-parse", "HEAD"]);
    let index = std::fs::read(repo.path().join(".git/index")).expect("index");
    let go = repo.path().join(".git/go");
    let children: Vec<Child> = (0..n)
        .map(|i| {
            worker(&json!({
                "repo": repo.path(), "run_id": format!("r{round}-{i}"), "go": go,
                "commits": commits, "max": n, "ports": ["web"],
            }))
            .spawn()
            .expect("spawn")
        })
        .collect();
    std::fs::write(&go, "").expect("go");
    let mut ports = Vec::new();
    for (i, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().expect("worker");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let lines = reports(&stdout);
        assert!(
            output.status.success() && lines.iter().any(|r| r["done"] == true),
            "worker {i}: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let started = lines
            .iter()
            .find(|r| r["started"] == true)
            .expect("started");
        ports.push(started["ports"]["web"].as_u64().expect("port"));
    }
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), n, "every concurrent run had its own port");
    git(repo.path(), &["fsck", "--full", "--strict"]);
    assert_eq!(
        git(repo.path(), &["rev-parse", "HEAD"]),
        head,
        "main HEAD untouched"
    );
    assert_eq!(
        std::fs::read(repo.path().join(".git/index")).expect("index"),
        index,
        "main index untouched"
    );
    let r = Repository::open(repo.path()).expect("open");
    let runs_dir = r.root().join(".autonomous_runs/demo/runs");
    for i in 0..n {
        let id = format!("r{round}-{i}");
        let log = git(
            repo.path(),
            &["log", "--format=%s", &format!("waypost/{id}")],
        );
        for c in 0..commits {
            assert!(
                log.contains(&format!("add {id}/change-{c}.txt")),
                "{id}: {log}"
            );
        }
        // Only this run's files on its branch.
        let files = git(
            repo.path(),
            &["ls-tree", "-r", "--name-only", &format!("waypost/{id}")],
        );
        assert!(
            files
                .lines()
                .all(|f| !f.starts_with('r') || f.starts_with(&format!("{id}/"))),
            "{id}: {files}"
        );
        // Only this run's artifacts in its directory.
        let family = waypost_schemas::layout::family_of(&id);
        let logs = runs_dir.join(family).join(&id).join("logs");
        for entry in std::fs::read_dir(&logs).expect("logs") {
            let text = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
            assert!(text.starts_with(&format!("{id} ")), "{id}: {text}");
        }
        assert_eq!(
            std::fs::read_dir(&logs).expect("logs").count() as u64,
            commits
        );
    }
}

#[test]
fn two_processes_start_runs_at_the_same_moment() {
    simultaneous_starts(2, 3, 0);
}

#[test]
fn eight_processes_start_runs_at_the_same_moment() {
    let rounds = if full() { 10 } else { 1 };
    let started = Instant::now();
    for round in 0..rounds {
        simultaneous_starts(8, 3, round);
    }
    if full() {
        eprintln!(
            "8 simultaneous starters x {rounds} rounds: all {} runs started, committed and finished, fsck clean ({:.1?})",
            8 * rounds,
            started.elapsed()
        );
    }
}

#[test]
fn parallel_001_a_run_killed_with_sigkill_gives_everything_back_and_keeps_its_work() {
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    let mut holder = worker(&json!({
        "repo": repo.path(), "run_id": "victim", "commits": 2, "hold": true, "max": 1,
        "ports": ["web"],
    }))
    .spawn()
    .expect("spawn");
    let started = wait_for_report(&mut holder, |r| r["started"] == true);
    wait_for_report(&mut holder, |r| r["holding"] == true);
    let port = started["ports"]["web"].as_u64().expect("port");

    // While it lives: its executor lock, its slot (one allowed) are held.
    let me = identity::this_process(Some("test"));
    let lock = LockFile::new(r.coordination_dir().join("executors/victim.lock"));
    assert!(lock.try_acquire(&me).expect("try").is_none());
    let err = Run::start(&r, &anchor(None), "other", "main", &config()).expect_err("slot held");
    assert!(err.to_string().contains("run victim"), "{err}");

    holder.kill().expect("SIGKILL");
    holder.wait().expect("reap");
    // The executor lock frees at once.
    drop(
        lock.try_acquire(&me)
            .expect("try")
            .expect("free after SIGKILL"),
    );
    // Slot, lease and port come back as soon as the holder is seen gone.
    let mut cfg = config();
    cfg.ports = vec!["web".to_owned()];
    cfg.port_range = (
        u16::try_from(port).expect("port"),
        u16::try_from(port).expect("port"),
    );
    let other = Run::start(&r, &anchor(None), "other", "main", &cfg).expect("slot and port back");
    assert_eq!(other.ports()["web"], u16::try_from(port).expect("port"));
    other.finish().expect("finish");

    // Its worktree and commits are kept.
    let wt = std::path::PathBuf::from(started["worktree"].as_str().expect("worktree"));
    assert!(wt.join("uncommitted.txt").is_file());
    let log = git(repo.path(), &["log", "--format=%s", "waypost/victim"]);
    assert!(log.contains("add victim/change-1.txt"), "{log}");

    // gc keeps the dirty, unmerged work: quarantined, not removed.
    let report = inventory::gc(&r, true).expect("gc");
    let victim = report
        .iter()
        .find(|e| e.run_id == "victim")
        .expect("victim");
    assert_eq!(victim.action, GcAction::Quarantine, "{}", victim.reason);
    assert!(
        std::path::Path::new(&victim.worktree)
            .join("uncommitted.txt")
            .is_file()
    );
    assert!(git(repo.path(), &["log", "--format=%s", "waypost/victim"]).contains("change-1"));
    git(repo.path(), &["fsck", "--full", "--strict"]);
}

#[test]
fn parallel_004_a_start_killed_at_any_point_is_completed_by_the_next_start() {
    let iterations = if full() { 100 } else { 4 };
    let repo = repo();
    let r = Repository::open(repo.path()).expect("open");
    // How long a whole worker takes, so kills land anywhere in it.
    let calibration = Instant::now();
    let output = worker(&json!({"repo": repo.path(), "run_id": "calibrate", "max": 64}))
        .output()
        .expect("calibration worker");
    assert!(output.status.success());
    let span = u64::try_from(calibration.elapsed().as_micros()).expect("short");
    let mut jitter = waypost_test_support::Jitter::new(0x9e37_79b9_7f4a_7c15);
    let mut left = std::collections::BTreeMap::<&str, u32>::new();
    let started = Instant::now();
    for i in 0..iterations {
        let run_id = format!("k{i}");
        let mut child = worker(&json!({"repo": repo.path(), "run_id": run_id, "max": 64}))
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_micros(jitter.below(span)));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        let record = r.record(&run_id).expect("record readable");
        // Read the branch as a file: a kill inside the worktree add can
        // leave a registration that git itself cannot read until the next
        // start sweeps it.
        let branch = repo
            .path()
            .join(format!(".git/refs/heads/waypost/{run_id}"));
        let stage = match (record, !branch.is_file()) {
            (None, true) => "nothing",
            (None, false) => panic!("iteration {i}: a branch without a record"),
            (Some(_), true) => "record only",
            (Some(_), false) => "record and branch or more",
        };
        *left.entry(stage).or_default() += 1;
        // Whatever the kill left, the same run starts now and its worktree
        // is complete and on its branch.
        let run =
            Run::start(&r, &anchor(Some(64)), &run_id, "main", &config()).unwrap_or_else(|e| {
                let listing = std::process::Command::new("find")
                    .arg(repo.path().join(".git/worktrees"))
                    .arg(repo.path().join(".git/waypost/worktrees"))
                    .arg("-maxdepth")
                    .arg("2")
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                    .unwrap_or_default();
                panic!("iteration {i}: {e}\n{listing}")
            });
        assert_eq!(
            git(run.worktree(), &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
            format!("waypost/{run_id}")
        );
        assert_eq!(git(run.worktree(), &["status", "--porcelain"]), "");
        run.finish().expect("finish");
    }
    git(repo.path(), &["fsck", "--full", "--strict"]);
    if full() {
        eprintln!(
            "kill -9 during start: {iterations} iterations over a {:.1?} worker, left behind {left:?}, every next start completed ({:.1?})",
            Duration::from_micros(span),
            started.elapsed()
        );
    }
}
