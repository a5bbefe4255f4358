//! Claims through PostgreSQL, proven with real processes.
//!
//! Sizes: reduced by default (CI); `WAYPOST_STRESS=full` runs the full size
//! (8 processes x 1000 claims on 3 keys; 200 SIGKILLed holders; 20 sessions
//! ended by the server mid-claim) and prints figures (`--nocapture`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Child;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use waypost_fences::{ClaimOutcome, ClaimStore, Owner};
use waypost_test_support::workers::wait_for_report;

use crate::support::{TestDb, full};
use crate::worker::{reports, worker};

/// Totals of the workers' summaries.
fn collect(children: Vec<Child>) -> BTreeMap<&'static str, u64> {
    let mut totals = BTreeMap::new();
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
    totals
}

/// Checks the workers' hold ledgers: per key, tokens are exactly 1..=n in
/// the order the holds happened, and no hold overlaps the next. Returns the
/// number of holds.
fn check_ledgers(dir: &Path, workers: u64, db: &TestDb) -> u64 {
    let mut by_key: BTreeMap<String, Vec<(u64, u128, u128)>> = BTreeMap::new();
    for id in 0..workers {
        let text =
            std::fs::read_to_string(dir.join(format!("ledger-{id}.jsonl"))).unwrap_or_default();
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
    let store = db.store.claims("contend");
    let mut holds_total = 0;
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
            "{key}: every grant is in a ledger"
        );
        holds_total += holds.len() as u64;
    }
    holds_total
}

fn contender(db: &TestDb, dir: &Path, id: u64, keys: &[&str], extra: &Value) -> Child {
    let mut job = json!({
        "mode": "contend", "url": db.url, "schema": db.schema, "dir": dir, "keys": keys,
        "worker": id, "seed": 0x9e37_79b9_u64 * (id + 1),
    });
    for (k, v) in extra.as_object().expect("object") {
        job[k] = v.clone();
    }
    worker(&job).spawn().expect("spawn worker")
}

#[test]
fn pgstore_001_contending_processes_never_hold_a_key_together() {
    let Some(db) = TestDb::new("contend") else {
        return;
    };
    let (processes, claims) = if full() { (8, 1000) } else { (4, 50) };
    let keys = ["alpha", "beta", "gamma"];
    let dir = tempfile::tempdir().expect("temp");
    let start = Instant::now();
    let children: Vec<Child> = (0..processes)
        .map(|id| contender(&db, dir.path(), id, &keys, &json!({"claims": claims})))
        .collect();
    let totals = collect(children);
    let elapsed = start.elapsed();
    assert_eq!(totals["double"], 0, "two owners inside one key at once");
    assert_eq!(totals["lost_release"], 0, "a release failed");
    assert_eq!(totals["takeovers"], 0, "live holders were taken over");
    assert_eq!(totals["claims"], processes * claims);
    assert_eq!(
        check_ledgers(dir.path(), processes, &db),
        processes * claims
    );
    eprintln!(
        "postgres contention: {processes} processes x {claims} claims on {} keys in {elapsed:.2?} ({:.0} claim+release/s), {} HeldBy answers, 0 double claims, tokens strictly increasing per key",
        keys.len(),
        (processes * claims) as f64 / elapsed.as_secs_f64(),
        totals["contention"],
    );
}

#[test]
fn pgstore_001_killed_holders_never_cause_a_double_grant() {
    let Some(db) = TestDb::new("kills") else {
        return;
    };
    let kills = if full() { 200 } else { 20 };
    let key = "workspace";
    let store = db.store.claims("churn");
    let me = Owner::new(Some("test"));
    let mut jitter = waypost_test_support::Jitter::new(u64::from(std::process::id()));
    let (mut highest, mut killed_holding, mut slowest) = (0, 0, Duration::ZERO);
    for _ in 0..kills {
        let mut churner = worker(&json!({
            "mode": "churn", "url": db.url, "schema": db.schema, "key": key, "lease_ms": 300,
        }))
        .spawn()
        .expect("spawn churner");
        wait_for_report(&mut churner, |r| r["token"].is_u64());
        thread::sleep(Duration::from_micros(jitter.below(3000)));
        churner.kill().expect("SIGKILL");
        churner.wait().expect("reap");

        let record = store.inspect(key).expect("record after a kill");
        assert!(
            record.fencing_token >= highest,
            "counter went back from {highest} to {}",
            record.fencing_token
        );
        highest = record.fencing_token;
        let start = Instant::now();
        let deadline = start + Duration::from_secs(10);
        let token = loop {
            match store
                .claim(key, &me, Duration::from_secs(600))
                .expect("claim")
            {
                ClaimOutcome::Claimed {
                    fencing_token,
                    took_over,
                } => {
                    killed_holding += u32::from(took_over.is_some());
                    break fencing_token;
                }
                ClaimOutcome::HeldBy {
                    fencing_token,
                    holder,
                    ..
                } => {
                    // A claim the churner sent before it died may still
                    // commit: the server finishes a statement it received.
                    // It is the dead churner's, with the next token.
                    assert_eq!(
                        holder.label.as_deref(),
                        Some("churn"),
                        "only the churner held it"
                    );
                    assert!(
                        fencing_token >= highest,
                        "counter went back from {highest} to {fencing_token}"
                    );
                    highest = fencing_token;
                    assert!(
                        Instant::now() < deadline,
                        "the dead holder's lease never ran out"
                    );
                    thread::sleep(Duration::from_millis(20));
                }
            }
        };
        assert!(token > highest, "token {token} not above {highest}");
        highest = token;
        slowest = slowest.max(start.elapsed());
        store.release(key, me.token()).expect("release");
    }
    eprintln!(
        "postgres kills: {kills} SIGKILLed churners, {killed_holding} killed while holding (taken over once their 300 ms lease ran out by the database's clock), slowest next claim {slowest:.2?}, final fencing token {highest}, 0 double grants"
    );
}

#[test]
fn pgstore_001_sessions_ended_by_the_server_mid_claim_never_cause_a_double_grant() {
    let Some(db) = TestDb::new("terminate") else {
        return;
    };
    let terminations = if full() { 20 } else { 4 };
    let keys = ["solo"];
    let dir = tempfile::tempdir().expect("temp");
    let stop = dir.path().join("stop");
    let mut children: Vec<Child> = (0..2)
        .map(|id| contender(&db, dir.path(), id, &keys, &json!({"stop": stop})))
        .collect();
    for child in &mut children {
        wait_for_report(child, |r| r["started"] == true);
    }
    let mut admin = db.client();
    let mut jitter = waypost_test_support::Jitter::new(u64::from(std::process::id()) ^ 0x5eed);
    let mut ended = 0;
    let start = Instant::now();
    while ended < terminations {
        thread::sleep(Duration::from_millis(20 + jitter.below(80)));
        // Any session of the workers: mid-claim, mid-release or between.
        let pids: Vec<i32> = admin
            .query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = 'waypost' AND pid <> pg_backend_pid() AND datname = current_database() AND query LIKE '%claim%'",
                &[],
            )
            .expect("sessions")
            .iter()
            .map(|r| r.get(0))
            .collect();
        let Some(&pid) = pids.get(jitter.index(pids.len().max(1))) else {
            continue;
        };
        let done: bool = admin
            .query_one("SELECT pg_terminate_backend($1)", &[&pid])
            .expect("terminate")
            .get(0);
        ended += u32::from(done);
    }
    std::fs::write(&stop, b"stop").expect("stop the workers");
    let totals = collect(children);
    assert_eq!(totals["double"], 0, "two owners inside one key at once");
    assert_eq!(totals["lost_release"], 0, "a release failed");
    let holds = check_ledgers(dir.path(), 2, &db);
    assert_eq!(holds, totals["claims"]);
    eprintln!(
        "postgres terminations: {ended} worker sessions ended by pg_terminate_backend in {:.2?} while 2 processes contended for one key; {holds} claims, 0 double grants, tokens gapless and increasing",
        start.elapsed()
    );
}
