//! The worker side of the process tests. The parent runs this test binary
//! with `--ignored --exact worker::worker_entry` and a JSON job in
//! `WAYPOST_FENCES_WORKER`; the worker reports on stdout, one line per event.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::Command;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use waypost_fences::{
    ClaimOutcome, ClaimStore, Enqueued, FileClaimStore, JsonlQueue, LockFile, Owner, enqueue_once,
    identity,
};

const JOB: &str = "WAYPOST_FENCES_WORKER";

use waypost_test_support::workers::report;
pub(crate) use waypost_test_support::workers::reports;

/// A command that runs one worker with `job`.
pub(crate) fn worker(job: &Value) -> Command {
    waypost_test_support::workers::command(JOB, job)
}

pub(crate) fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos()
}

#[test]
#[ignore = "entry point of the worker processes that the process tests spawn"]
fn worker_entry() {
    // Run by hand (cargo test -- --ignored) it has no job and does nothing.
    let Ok(job) = std::env::var(JOB) else { return };
    let job: Value = serde_json::from_str(&job).expect("job is JSON");
    let text = |k: &str| job[k].as_str().expect(k).to_owned();
    match job["mode"].as_str().expect("mode") {
        "hold_lock" => hold_lock(PathBuf::from(text("path"))),
        "contend" => contend(&job),
        "churn" => churn(PathBuf::from(text("dir")), &text("key")),
        "enqueue" => enqueue(PathBuf::from(text("path")), &text("key"), &text("item")),
        "fenced_writer" => fenced_writer(&job),
        other => panic!("unknown worker mode {other}"),
    }
}

fn hold_lock(path: PathBuf) {
    let me = identity::this_process(Some("lock holder"));
    let _guard = LockFile::new(path)
        .acquire(&me, Duration::from_secs(10))
        .expect("lock");
    report(&json!({"locked": true, "pid": std::process::id()}));
    // Hold until killed.
    loop {
        thread::sleep(Duration::from_secs(60));
    }
}

/// Claims keys `claims` times, checking mutual exclusion with an O_EXCL
/// occupancy file per key, and logs every hold to its own ledger.
fn contend(job: &Value) {
    let dir = PathBuf::from(job["dir"].as_str().expect("dir"));
    let keys: Vec<String> = serde_json::from_value(job["keys"].clone()).expect("keys");
    let claims = job["claims"].as_u64().expect("claims");
    let id = job["worker"].as_u64().expect("worker");
    let mut jitter = waypost_test_support::Jitter::new(job["seed"].as_u64().expect("seed"));
    let store = FileClaimStore::new(&dir).with_lock_timeout(Duration::from_secs(120));
    let owner = Owner::new(Some(&format!("worker-{id}")));
    let occupied = dir.join("occupied");
    fs::create_dir_all(&occupied).expect("occupied dir");
    let mut ledger = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("ledger-{id}.jsonl")))
        .expect("ledger");
    let (mut contention, mut double, mut lost, mut takeovers) = (0u64, 0u64, 0u64, 0u64);
    for _ in 0..claims {
        let key = &keys[jitter.index(keys.len())];
        let token = loop {
            match store
                .claim(key, &owner, Duration::from_secs(600))
                .expect("claim")
            {
                ClaimOutcome::Claimed {
                    fencing_token,
                    took_over,
                } => {
                    takeovers += u64::from(took_over.is_some());
                    break fencing_token;
                }
                ClaimOutcome::HeldBy { .. } => {
                    contention += 1;
                    thread::sleep(Duration::from_micros(200));
                }
            }
        };
        let acquired_ns = now_ns();
        let sentinel = occupied.join(key);
        let mine = match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&sentinel)
        {
            Ok(_) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                double += 1;
                false
            }
            Err(e) => panic!("occupancy file: {e}"),
        };
        if mine {
            fs::remove_file(&sentinel).expect("leave the key");
        }
        let released_ns = now_ns();
        if store.release(key, owner.token()).is_err() {
            lost += 1;
        }
        let line = json!({"key": key, "token": token, "worker": id, "acquired_ns": acquired_ns.to_string(), "released_ns": released_ns.to_string()});
        ledger
            .write_all(format!("{line}\n").as_bytes())
            .expect("ledger write");
    }
    report(
        &json!({"worker": id, "claims": claims, "contention": contention, "double": double, "lost_release": lost, "takeovers": takeovers}),
    );
}

/// Claims and releases one key forever, reporting each token, until killed.
fn churn(dir: PathBuf, key: &str) {
    let store = FileClaimStore::new(dir).with_lock_timeout(Duration::from_secs(30));
    let owner = Owner::new(Some("churn"));
    loop {
        match store
            .claim(key, &owner, Duration::from_secs(600))
            .expect("claim")
        {
            ClaimOutcome::Claimed { fencing_token, .. } => {
                report(&json!({"token": fencing_token}));
                store.release(key, owner.token()).expect("release");
            }
            ClaimOutcome::HeldBy { .. } => thread::sleep(Duration::from_micros(100)),
        }
    }
}

fn enqueue(path: PathBuf, key: &str, item: &str) {
    let queue: JsonlQueue<String> = JsonlQueue::new(path);
    let outcome = enqueue_once(&queue, key, item.to_owned(), 10).expect("enqueue");
    let (inserted, stored) = match outcome {
        Enqueued::Inserted(item) => (true, item),
        Enqueued::Existing(item) => (false, item),
    };
    report(&json!({"inserted": inserted, "item": stored}));
}

/// Claims `key` with a short lease, reports its token, waits for a line on
/// stdin (paused past its lease), then tries a fenced write of `text` to
/// `target` and reports whether the store let it.
fn fenced_writer(job: &Value) {
    let dir = PathBuf::from(job["dir"].as_str().expect("dir"));
    let key = job["key"].as_str().expect("key");
    let lease = Duration::from_millis(job["lease_ms"].as_u64().expect("lease_ms"));
    let store = FileClaimStore::new(&dir);
    let owner = Owner::new(Some("paused writer"));
    let ClaimOutcome::Claimed { fencing_token, .. } =
        store.claim(key, &owner, lease).expect("claim")
    else {
        panic!("the key is free for the first writer")
    };
    report(&json!({"claimed": true, "token": fencing_token}));
    let mut line = String::new();
    io::stdin().read_line(&mut line).expect("stdin");
    let target = PathBuf::from(job["target"].as_str().expect("target"));
    let outcome = store.fenced(key, fencing_token, || {
        waypost_fences::write_atomic(&target, b"stale holder").expect("write")
    });
    match outcome {
        Ok(()) => report(&json!({"wrote": true})),
        Err(e) => report(&json!({"wrote": false, "error": e.to_string()})),
    }
}
