//! The worker side of the process tests. The parent runs this test binary
//! with `--ignored --exact worker::worker_entry` and a JSON job in
//! `WAYPOST_PG_WORKER`; the worker reports on stdout, one line per event.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::Command;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use waypost_fences::{ClaimOutcome, ClaimStore, Owner};
use waypost_store_postgres::PgStore;

use waypost_test_support::workers::report;
pub(crate) use waypost_test_support::workers::reports;

use crate::support::options;

const JOB: &str = "WAYPOST_PG_WORKER";

/// A command that runs one worker with `job`.
pub(crate) fn worker(job: &Value) -> Command {
    waypost_test_support::workers::command(JOB, job)
}

fn now_ns() -> u128 {
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
    match job["mode"].as_str().expect("mode") {
        "contend" => contend(&job),
        "churn" => churn(&job),
        other => panic!("unknown worker mode {other}"),
    }
}

fn store(job: &Value) -> PgStore {
    let url = job["url"].as_str().expect("url");
    let schema = job["schema"].as_str().expect("schema");
    PgStore::connect(url, options(schema)).expect("connect")
}

/// Claims keys `claims` times (or until the `stop` file appears), checking
/// mutual exclusion with an O_EXCL occupancy file per key, and logs every
/// hold to its own ledger.
fn contend(job: &Value) {
    let dir = PathBuf::from(job["dir"].as_str().expect("dir"));
    let keys: Vec<String> = serde_json::from_value(job["keys"].clone()).expect("keys");
    let claims = job["claims"].as_u64().unwrap_or(u64::MAX);
    let stop = job["stop"].as_str().map(PathBuf::from);
    let id = job["worker"].as_u64().expect("worker");
    let mut jitter = waypost_test_support::Jitter::new(job["seed"].as_u64().expect("seed"));
    let store = store(job).claims("contend");
    let owner = Owner::new(Some(&format!("worker-{id}")));
    let occupied = dir.join("occupied");
    fs::create_dir_all(&occupied).expect("occupied dir");
    let mut ledger = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("ledger-{id}.jsonl")))
        .expect("ledger");
    report(&json!({"started": true}));
    let (mut done, mut contention, mut double, mut lost, mut takeovers) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    while done < claims && !stop.as_ref().is_some_and(|s| s.exists()) {
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
        done += 1;
    }
    report(
        &json!({"worker": id, "claims": done, "contention": contention, "double": double, "lost_release": lost, "takeovers": takeovers}),
    );
}

/// Claims and releases one key with a short lease forever, reporting each
/// token, until killed.
fn churn(job: &Value) {
    let store = store(job).claims("churn");
    let key = job["key"].as_str().expect("key");
    let lease = Duration::from_millis(job["lease_ms"].as_u64().expect("lease_ms"));
    let owner = Owner::new(Some("churn"));
    loop {
        match store.claim(key, &owner, lease).expect("claim") {
            ClaimOutcome::Claimed { fencing_token, .. } => {
                report(&json!({"token": fencing_token}));
                store.release(key, owner.token()).expect("release");
            }
            ClaimOutcome::HeldBy { .. } => thread::sleep(Duration::from_millis(5)),
        }
    }
}
