//! Start+stop of a run (all four layers) against plain git (`git worktree
//! add`, then `git worktree remove` and `git branch -D`), measured in the
//! same run on the same repository.
//!
//! `cargo bench -p waypost-parallel --bench run_start`
//! (`-- --files N --rounds R` to change the tree size and repetitions;
//! defaults 500 files, 15 rounds).
//!
//! Cases, each repeated R times (the median is reported):
//! - one starter: start a run, finish it, remove its worktree and branch
//!   (`runs gc --execute`), against `git worktree add -b` then `remove`
//!   then `branch -D`;
//! - eight concurrent starters (threads, one run each, all released at one
//!   moment), against eight concurrent `git worktree add` processes; every
//!   waypost start must succeed, and the plain git failure rate is counted.
#![allow(clippy::print_stdout, reason = "a bench binary reports on stdout")]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::json;
use waypost_parallel::{Repository, Run, inventory};
use waypost_schemas::IntentionAnchorV2;
use waypost_schemas::config::RunsConfig;

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    waypost_test_support::hermetic_git(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("git")
}

fn anchor() -> IntentionAnchorV2 {
    serde_json::from_value(json!({
        "format_version": "v2", "project_id": "bench", "created_at": "2026-01-01T00:00:00Z",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {"parallelism_isolation": {"allowed": true, "max_concurrent_runs": 16}}
    }))
    .expect("anchor")
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.parse().expect("a number"))
    };
    let files = value("--files", 500);
    let rounds = value("--rounds", 15);

    let repo = waypost_test_support::TestRepo::new();
    for i in 0..files {
        repo.write(
            &format!("src/m{}/f{i}.rs", i % 20),
            &format!("pub fn f{i}() -> usize {{ {i} }}\n").repeat(20),
        );
    }
    repo.commit_all("tree");
    let root = repo.path();
    let r = Repository::open(root).expect("open");
    let anchor = anchor();
    let config = RunsConfig::default();

    // One starter.
    let mut ours = Vec::new();
    let mut plain = Vec::new();
    let (mut starts, mut finishes, mut gcs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let t = Instant::now();
        let run = Run::start(&r, &anchor, &format!("one-{round}"), "main", &config).expect("start");
        starts.push(t.elapsed());
        let f = Instant::now();
        run.finish().expect("finish");
        finishes.push(f.elapsed());
        let g = Instant::now();
        inventory::gc(&r, true).expect("gc");
        gcs.push(g.elapsed());
        ours.push(t.elapsed());

        let path = root.join(format!(".git/plain/one-{round}"));
        let path = path.to_str().expect("utf-8");
        let branch = format!("plain/one-{round}");
        let t = Instant::now();
        assert!(
            git(
                root,
                &["worktree", "add", "-q", "-b", &branch, path, "main"]
            )
            .status
            .success()
        );
        assert!(git(root, &["worktree", "remove", path]).status.success());
        assert!(git(root, &["branch", "-q", "-D", &branch]).status.success());
        plain.push(t.elapsed());
    }
    let (ours1, plain1) = (median(ours), median(plain));
    println!(
        "one starter, {files} files: waypost start+stop {ours1:.2?}, plain git add+remove {plain1:.2?}, ratio {:.2} (goal <= 1.5)",
        ours1.as_secs_f64() / plain1.as_secs_f64()
    );
    println!(
        "  waypost medians: start {:.2?}, finish {:.2?}, gc --execute {:.2?}",
        median(starts),
        median(finishes),
        median(gcs)
    );

    // Eight concurrent starters.
    let mut ours = Vec::new();
    let mut plain = Vec::new();
    let mut plain_failures = 0;
    for round in 0..rounds {
        let barrier = Arc::new(Barrier::new(8));
        let t = Instant::now();
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (r, anchor, config, barrier) = (
                    r.clone(),
                    anchor.clone(),
                    config.clone(),
                    Arc::clone(&barrier),
                );
                std::thread::spawn(move || {
                    barrier.wait();
                    Run::start(&r, &anchor, &format!("many-{round}-{i}"), "main", &config)
                        .map(|run| run.finish())
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .expect("thread")
                .expect("every waypost start succeeds")
                .expect("finish");
        }
        ours.push(t.elapsed());
        inventory::gc(&r, true).expect("gc");

        let t = Instant::now();
        let children: Vec<_> = (0..8)
            .map(|i| {
                let path = root.join(format!(".git/plain/many-{round}-{i}"));
                waypost_test_support::hermetic_git(root)
                    .args([
                        "worktree",
                        "add",
                        "-q",
                        "-b",
                        &format!("plain/many-{round}-{i}"),
                    ])
                    .arg(path)
                    .arg("main")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn git")
            })
            .collect();
        for mut child in children {
            if !child.wait().expect("git").success() {
                plain_failures += 1;
            }
        }
        plain.push(t.elapsed());
        // Clean up plain git's worktrees for the next round (not timed).
        let _ = Command::new("rm")
            .arg("-rf")
            .arg(root.join(".git/plain"))
            .status();
        let _ = git(root, &["worktree", "prune"]);
        for i in 0..8 {
            let _ = git(
                root,
                &["branch", "-q", "-D", &format!("plain/many-{round}-{i}")],
            );
        }
    }
    let (ours8, plain8) = (median(ours), median(plain));
    println!(
        "eight concurrent starters: waypost {ours8:.2?} (all {} starts succeeded), plain git {plain8:.2?} ({plain_failures} of {} adds failed, {:.1}%), ratio {:.2}",
        8 * rounds,
        8 * rounds,
        100.0 * plain_failures as f64 / (8 * rounds) as f64,
        ours8.as_secs_f64() / plain8.as_secs_f64()
    );
}
