//! Claim+release throughput of the PostgreSQL store against a bare
//! `UPDATE … RETURNING` loop on the same table, in the same run, with 1 and
//! 8 processes. Prints the ratio (the goal is at least 0.7x).
//!
//! The bare loop writes the same holder identity and owner token as a claim
//! does, so the ratio measures what the claim's rules cost, not the size of
//! the data. The two loops alternate for a few rounds (`WAYPOST_BENCH_ROUNDS`,
//! default 3, each `WAYPOST_BENCH_SECONDS` long, default 2) and the median
//! of each is compared, so load that comes and goes on the machine weighs on
//! both alike.
//!
//! Needs a server: `cargo xtask with-postgres -- cargo bench -p
//! waypost-store-postgres`. Without `WAYPOST_TEST_PG` it says so and exits.
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::process::Command;
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use waypost_fences::{ClaimOutcome, ClaimStore, Owner};
use waypost_store_postgres::{PgOptions, PgStore};

const SCHEMA: &str = "bench_claims";

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Ok(url) = std::env::var("WAYPOST_TEST_PG") else {
        println!(
            "skipped: WAYPOST_TEST_PG is not set (cargo xtask with-postgres -- cargo bench -p waypost-store-postgres)"
        );
        return;
    };
    if let Some(pos) = args.iter().position(|a| a == "--worker") {
        let mode = &args[pos + 1];
        let id: usize = args[pos + 2].parse().expect("id");
        let seconds: f64 = args[pos + 3].parse().expect("seconds");
        let ops = worker(&url, mode, id, Duration::from_secs_f64(seconds));
        println!("ops {ops}");
        return;
    }
    let seconds = std::env::var("WAYPOST_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0_f64);
    let rounds = std::env::var("WAYPOST_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3_usize)
        .max(1);
    // Create the schema once, before the processes start.
    drop(PgStore::connect(&url, PgOptions::default().with_schema(SCHEMA)).expect("connect"));
    for processes in [1, 8] {
        let (mut claims, mut bare) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            claims.push(run(&args[0], "claim", processes, seconds));
            bare.push(run(&args[0], "update", processes, seconds));
        }
        let (claims, bare) = (median(claims), median(bare));
        println!(
            "{processes} process(es): claim+release {claims:.0}/s, bare UPDATE … RETURNING pair {bare:.0}/s, ratio {:.2}x (medians of {rounds} alternating rounds of {seconds} s)",
            claims / bare
        );
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs `processes` workers of `mode` for `seconds` and returns operations
/// per second over all of them.
fn run(exe: &str, mode: &str, processes: usize, seconds: f64) -> f64 {
    let children: Vec<_> = (0..processes)
        .map(|id| {
            Command::new(exe)
                .args(["--worker", mode, &id.to_string(), &seconds.to_string()])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut ops = 0u64;
    for child in children {
        let out = child.wait_with_output().expect("worker");
        let text = String::from_utf8_lossy(&out.stdout);
        ops += text
            .lines()
            .find_map(|l| l.strip_prefix("ops "))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .expect("ops line");
    }
    ops as f64 / seconds
}

/// Each process works on a key of its own, so the figures measure the
/// cost of the operation, not of waiting for another process.
fn worker(url: &str, mode: &str, id: usize, length: Duration) -> u64 {
    let key = format!("bench-{id}");
    let mut ops = 0;
    let end = Instant::now() + length;
    match mode {
        "claim" => {
            let store = PgStore::connect(url, PgOptions::default().with_schema(SCHEMA))
                .expect("connect")
                .claims("bench");
            let owner = Owner::new(Some("bench"));
            while Instant::now() < end {
                let ClaimOutcome::Claimed { .. } = store
                    .claim(&key, &owner, Duration::from_secs(60))
                    .expect("claim")
                else {
                    panic!("a key of its own is free")
                };
                store.release(&key, owner.token()).expect("release");
                ops += 1;
            }
        }
        _ => {
            let owner = Owner::new(Some("bench"));
            let holder = serde_json::to_string(owner.identity()).expect("json");
            let mut client = Client::connect(url, NoTls).expect("connect");
            client
                .batch_execute(&format!("SET search_path TO {SCHEMA}"))
                .expect("schema");
            client
                .execute(
                    "INSERT INTO claims (namespace, key) VALUES ('bare', $1) ON CONFLICT DO NOTHING",
                    &[&key],
                )
                .expect("row");
            let take = client
                .prepare(
                    "UPDATE claims SET fencing_token = fencing_token + 1, owner_token = $2, holder = $3,
                         renewed_at = clock_timestamp()
                     WHERE namespace = 'bare' AND key = $1 RETURNING fencing_token",
                )
                .expect("prepare");
            let give = client
                .prepare(
                    "UPDATE claims SET owner_token = NULL, holder = NULL, renewed_at = NULL, released_at = clock_timestamp()
                     WHERE namespace = 'bare' AND key = $1 RETURNING fencing_token",
                )
                .expect("prepare");
            while Instant::now() < end {
                client
                    .query_one(&take, &[&key, &owner.token(), &holder])
                    .expect("take");
                client.query_one(&give, &[&key]).expect("give");
                ops += 1;
            }
        }
    }
    ops
}
