//! Claim+release throughput against a raw flock lock/unlock loop, with 1, 2
//! and 8 contending processes, measured in the same run.
//!
//! `cargo bench -p waypost-fences --bench claim_throughput`
//! (`-- --seconds N` to change the window; default 2 s per case).
//!
//! Every case starts P worker processes (this binary again) that all hammer
//! one key (or one lock file) until a shared deadline; the figure is the
//! total number of completed claim+release pairs (or lock+unlock pairs) per
//! second. Printed per process count: the ratio to the raw flock loop (no
//! I/O at all), and to a hand-written durable baseline that takes the lock,
//! rewrites the record in place and fsyncs it, twice per pair like
//! claim+release (the least a durable claim can do, without the atomic
//! rename that makes it crash-safe).
#![allow(clippy::print_stdout, reason = "a bench binary reports on stdout")]

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use waypost_fences::{ClaimOutcome, ClaimStore, FileClaimStore, Owner};

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__worker") {
        let count = worker(
            &args[2],
            Path::new(&args[3]),
            args[4].parse().expect("start"),
            args[5].parse().expect("end"),
        );
        println!("{count}");
        return;
    }
    let seconds: u64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let window = Duration::from_secs(seconds);
    println!("claim+release vs raw flock lock/unlock, one key, {seconds} s per case");
    println!(
        "{:>9}  {:>12}  {:>12}  {:>12}  {:>12}  {:>12}",
        "processes", "claim ops/s", "flock ops/s", "claim/flock", "naive ops/s", "claim/naive"
    );
    for processes in [1, 2, 8] {
        let claim = run("claim", processes, window);
        let raw = run("flock", processes, window);
        let naive = run("naive", processes, window);
        println!(
            "{processes:>9}  {claim:>12.0}  {raw:>12.0}  {:>12.4}  {naive:>12.0}  {:>12.2}",
            claim / raw,
            claim / naive
        );
    }
}

/// Runs `processes` workers of `mode` over the same window; ops per second.
fn run(mode: &str, processes: usize, window: Duration) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let exe = std::env::current_exe().expect("bench binary");
    // Start a moment from now so every worker is up before the window opens.
    let start = now_ms() + 300;
    let end = start + window.as_millis();
    let children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "__worker",
                    mode,
                    &dir.path().display().to_string(),
                    &start.to_string(),
                    &end.to_string(),
                ])
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn worker")
        })
        .collect();
    let total: u64 = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("worker");
            assert!(out.status.success(), "worker failed");
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<u64>()
                .expect("count")
        })
        .sum();
    total as f64 / window.as_secs_f64()
}

/// Counts completed pairs between `start` and `end` (ms since the epoch).
fn worker(mode: &str, dir: &Path, start: u128, end: u128) -> u64 {
    while now_ms() < start {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut count = 0;
    match mode {
        "claim" => {
            let store = FileClaimStore::new(dir);
            let owner = Owner::new(Some("bench"));
            while now_ms() < end {
                match store
                    .claim("bench", &owner, Duration::from_secs(60))
                    .expect("claim")
                {
                    ClaimOutcome::Claimed { .. } => {
                        store.release("bench", owner.token()).expect("release");
                        count += 1;
                    }
                    ClaimOutcome::HeldBy { .. } => std::thread::yield_now(),
                }
            }
        }
        "flock" => {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(dir.join("raw.lock"))
                .expect("lock file");
            let mut lock = fd_lock::RwLock::new(file);
            while now_ms() < end {
                drop(lock.write().expect("flock"));
                count += 1;
            }
        }
        "naive" => {
            use std::io::{Seek, SeekFrom, Write};
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(dir.join("naive.lock"))
                .expect("lock file");
            let mut record = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(dir.join("naive.json"))
                .expect("record");
            let body = [b'x'; 400];
            let mut lock = fd_lock::RwLock::new(file);
            while now_ms() < end {
                // "claim" and "release": two durable in-place rewrites.
                for _ in 0..2 {
                    let _guard = lock.write().expect("flock");
                    record.set_len(0).expect("truncate");
                    record.seek(SeekFrom::Start(0)).expect("seek");
                    record.write_all(&body).expect("write");
                    record.sync_all().expect("fsync");
                }
                count += 1;
            }
        }
        other => panic!("unknown mode {other}"),
    }
    count
}
