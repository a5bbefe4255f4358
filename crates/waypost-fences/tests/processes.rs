//! Concurrency and crash claims, proven with real processes.
//!
//! Sizes: reduced by default (CI); `WAYPOST_STRESS=full` runs the full size
//! (8 processes x 1000 claims; 200 kill -9 iterations) and prints figures.

use std::collections::BTreeMap;
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use waypost_fences::{ClaimOutcome, ClaimStore, FileClaimStore, LockFile, Owner, identity};

use waypost_test_support::workers::wait_for_report;

use crate::worker::{reports, worker};

fn full() -> bool {
    std::env::var("WAYPOST_STRESS").is_ok_and(|v| v == "full")
}

#[test]
fn fence_001_a_holder_killed_with_sigkill_releases_the_lock() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("executor.lock");
    let mut holder = worker(&json!({"mode": "hold_lock", "path": path}))
        .spawn()
        .expect("spawn holder");
    let report = wait_for_report(&mut holder, |r| r["locked"] == true);
    let me = identity::this_process(Some("test"));
    let lock = LockFile::new(&path);
    assert!(
        lock.try_acquire(&me).expect("try").is_none(),
        "the live holder's lock is respected"
    );
    assert_eq!(
        lock.holder().map(|h| u64::from(h.pid)),
        report["pid"].as_u64(),
        "the lock file names its holder"
    );

    holder.kill().expect("SIGKILL");
    holder.wait().expect("reap");
    let start = Instant::now();
    let guard = lock
        .try_acquire(&me)
        .expect("try")
        .expect("the kernel released the dead holder's lock");
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(guard.holder().pid, std::process::id());
    assert!(path.exists(), "lock files are never removed");
}

#[test]
fn fence_002_contending_processes_never_hold_a_key_together() {
    let (processes, claims) = if full() { (8, 1000) } else { (4, 40) };
    let keys = ["alpha", "beta", "gamma"];
    let dir = tempfile::tempdir().expect("temp");
    let start = Instant::now();
    let children: Vec<Child> = (0..processes)
        .map(|id| {
            worker(&json!({
                "mode": "contend", "dir": dir.path(), "keys": keys, "claims": claims,
                "worker": id, "seed": 0x9e37_79b9_u64 * (id + 1),
            }))
            .spawn()
            .expect("spawn worker")
        })
        .collect();
    let mut totals = BTreeMap::<&str, u64>::new();
    for child in children {
        let output = child.wait_with_output().expect("worker output");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "worker failed: {stderr}");
        let summary = reports(&String::from_utf8_lossy(&output.stdout))
            .pop()
            .expect("summary");
        for field in [
            "claims",
            "contention",
            "double",
            "lost_release",
            "takeovers",
        ] {
            *totals.entry(field).or_default() += summary[field].as_u64().expect(field);
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(totals["double"], 0, "two owners inside one key at once");
    assert_eq!(totals["lost_release"], 0, "a release failed");
    assert_eq!(totals["takeovers"], 0, "live holders were taken over");
    assert_eq!(totals["claims"], processes * claims);

    // The fencing-token ledger: per key, tokens are exactly 1..=n in the
    // order the holds happened, and no hold overlaps the next.
    let mut by_key: BTreeMap<String, Vec<(u64, u128, u128)>> = BTreeMap::new();
    for id in 0..processes {
        let text =
            std::fs::read_to_string(dir.path().join(format!("ledger-{id}.jsonl"))).expect("ledger");
        for line in text.lines() {
            let entry: Value = serde_json::from_str(line).expect("ledger line");
            let time = |k: &str| entry[k].as_str().expect(k).parse::<u128>().expect("ns");
            by_key
                .entry(entry["key"].as_str().expect("key").to_owned())
                .or_default()
                .push((
                    entry["token"].as_u64().expect("token"),
                    time("acquired_ns"),
                    time("released_ns"),
                ));
        }
    }
    let store = FileClaimStore::new(dir.path());
    let mut acquisitions = 0;
    for (key, mut holds) in by_key {
        holds.sort_unstable();
        let tokens: Vec<u64> = holds.iter().map(|h| h.0).collect();
        let expected: Vec<u64> = (1..=holds.len() as u64).collect();
        assert_eq!(tokens, expected, "{key}: tokens are unique and gapless");
        for pair in holds.windows(2) {
            assert!(
                pair[0].2 <= pair[1].1,
                "{key}: hold with token {} overlaps the hold with token {}",
                pair[0].0,
                pair[1].0
            );
        }
        let record = store.inspect(&key).expect("final record");
        assert_eq!(
            record.fencing_token,
            holds.len() as u64,
            "{key}: every acquisition is in the ledger"
        );
        assert!(record.holder.is_none(), "{key}: released at the end");
        acquisitions += holds.len();
    }
    assert_eq!(acquisitions as u64, processes * claims);
    eprintln!(
        "contention: {processes} processes x {claims} claims on {} keys in {elapsed:.2?} ({:.0} claim+release/s), {} HeldBy answers, 0 double claims, 0 lost releases",
        keys.len(),
        (processes * claims) as f64 / elapsed.as_secs_f64(),
        totals["contention"],
    );
}

#[test]
fn fence_003_the_fencing_counter_never_goes_backwards_when_holders_are_killed() {
    crash_loop(if full() { 200 } else { 20 });
}

#[test]
fn fence_008_claim_files_always_parse_when_writers_are_killed() {
    // The crash loop checks that the claim file parses after every kill; run
    // a short loop here so the fence has a test of its own name.
    crash_loop(5);
}

/// Kills a claim/release churner at random points and checks, after every
/// kill: the claim file parses, the next acquirer gets the claim at once,
/// and the fencing counter never goes backwards.
fn crash_loop(iterations: u32) {
    let dir = tempfile::tempdir().expect("temp");
    let key = "workspace";
    let store = FileClaimStore::new(dir.path()).with_lock_timeout(Duration::from_secs(5));
    let me = Owner::new(Some("test"));
    let mut jitter = waypost_test_support::Jitter::new(u64::from(std::process::id()));
    let mut highest = 0;
    let mut took_over = 0;
    let mut slowest = Duration::ZERO;
    for _ in 0..iterations {
        let mut churner = worker(&json!({"mode": "churn", "dir": dir.path(), "key": key}))
            .spawn()
            .expect("spawn churner");
        wait_for_report(&mut churner, |r| r["token"].is_u64());
        thread::sleep(Duration::from_micros(jitter.below(3000)));
        churner.kill().expect("SIGKILL");
        churner.wait().expect("reap");

        let record = store
            .inspect(key)
            .expect("the claim file parses after a kill");
        assert!(
            record.fencing_token >= highest,
            "counter went back from {highest} to {}",
            record.fencing_token
        );
        highest = record.fencing_token;

        let start = Instant::now();
        match store
            .claim(key, &me, Duration::from_secs(600))
            .expect("claim after a kill")
        {
            ClaimOutcome::Claimed {
                fencing_token,
                took_over: previous,
            } => {
                assert!(
                    fencing_token > highest,
                    "token {fencing_token} not above {highest}"
                );
                highest = fencing_token;
                took_over += u32::from(previous.is_some());
            }
            ClaimOutcome::HeldBy { holder, .. } => {
                panic!("a killed holder (pid {}) still holds the claim", holder.pid)
            }
        }
        slowest = slowest.max(start.elapsed());
        store.release(key, me.token()).expect("release");
    }
    assert!(
        slowest < Duration::from_secs(2),
        "the next acquirer waited {slowest:?}"
    );
    let litter = std::fs::read_dir(dir.path())
        .expect("list")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        })
        .count();
    assert_eq!(
        litter, 0,
        "a temporary file a killed writer left is reused and renamed by the next writer"
    );
    eprintln!(
        "crash: {iterations} kill -9 iterations, {took_over} killed while holding (taken over at once), slowest next claim {slowest:.2?}, final fencing token {highest}"
    );
}

#[test]
fn fence_007_processes_enqueueing_one_key_store_it_once() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("queue.jsonl");
    let children: Vec<Child> = (0..6)
        .map(|i| {
            worker(&json!({"mode": "enqueue", "path": path, "key": "job-1", "item": format!("from-{i}")}))
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut inserted = 0;
    let mut items = Vec::new();
    for child in children {
        let output = child.wait_with_output().expect("output");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report = reports(&String::from_utf8_lossy(&output.stdout))
            .pop()
            .expect("report");
        inserted += u32::from(report["inserted"] == true);
        items.push(report["item"].as_str().expect("item").to_owned());
    }
    assert_eq!(inserted, 1, "exactly one process stored the item");
    items.dedup();
    assert_eq!(
        items.len(),
        1,
        "every process got the stored item back: {items:?}"
    );
    let queue: waypost_fences::JsonlQueue<String> = waypost_fences::JsonlQueue::new(&path);
    assert_eq!(queue.entries().expect("read").len(), 1);
}

#[test]
fn fence_009_a_paused_holder_cannot_write_after_a_takeover() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("temp");
    let target = dir.path().join("workspace-state.txt");
    let mut paused = worker(&json!({
        "mode": "fenced_writer", "dir": dir.path(), "key": "workspace",
        "lease_ms": 200, "target": target,
    }))
    .stdin(std::process::Stdio::piped())
    .spawn()
    .expect("spawn");
    let claimed = wait_for_report(&mut paused, |r| r["claimed"] == true);
    let old_token = claimed["token"].as_u64().expect("token");

    // The holder is alive but silent: its lease runs out by the record's
    // duration, and a successor takes over with a newer token.
    let store = FileClaimStore::new(dir.path());
    let successor = Owner::new(Some("successor"));
    let deadline = Instant::now() + Duration::from_secs(30);
    let new_token = loop {
        match store
            .claim("workspace", &successor, Duration::from_secs(60))
            .expect("claim")
        {
            ClaimOutcome::Claimed {
                fencing_token,
                took_over,
            } => {
                assert!(
                    took_over.is_some(),
                    "the successor took over the paused holder"
                );
                break fencing_token;
            }
            ClaimOutcome::HeldBy { .. } => {
                assert!(Instant::now() < deadline, "the lease never expired");
                thread::sleep(Duration::from_millis(20));
            }
        }
    };
    assert!(new_token > old_token);
    store
        .fenced("workspace", new_token, || {
            waypost_fences::write_atomic(&target, b"successor").expect("write")
        })
        .expect("the current holder writes");

    // The old holder wakes up and tries to write with its old token.
    writeln!(paused.stdin.as_mut().expect("stdin"), "go").expect("wake the holder");
    let answer = wait_for_report(&mut paused, |r| r.get("wrote").is_some());
    paused.wait().expect("reap");
    assert_eq!(answer["wrote"], false, "{answer}");
    let error = answer["error"].as_str().expect("error");
    assert!(
        error.contains(&format!("fencing token {old_token} was refused"))
            && error.contains(&format!("held with token {new_token}")),
        "{error}"
    );
    assert_eq!(std::fs::read(&target).expect("read"), b"successor");
}
