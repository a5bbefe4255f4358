//! Crash safety, proven with real processes: `tidy --execute` killed with
//! SIGKILL at random points.
//!
//! Sizes: 20 kills by default (CI); `WAYPOST_STRESS=full` (or the ignored
//! `crash_loop_full_size`) runs 120 and prints its figures.

use std::collections::{BTreeMap, BTreeSet};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use waypost_ledger::{Ledger, tidy};

use waypost_test_support::workers::wait_for_report;

use crate::support::{all_ids, learnings, options, pilot_decision, run};
use crate::worker::worker;

fn full() -> bool {
    std::env::var("WAYPOST_STRESS").is_ok_and(|v| v == "full")
}

/// A small xorshift generator: the seed is printed, so a failure can be
/// replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Figures of one crash loop.
struct Figures {
    iterations: u32,
    killed: u32,
    finished: u32,
    torn_tails: u32,
    /// Kills that left this iteration's entries partly appended: the kill
    /// landed in the middle of the appends.
    mid_append: u32,
    entries: usize,
}

/// Each iteration adds a run (learnings with long lines, two pilot
/// decisions), starts a tidy worker and kills it at a random point within
/// the time a whole tidy takes. After every kill each ledger must verify
/// (a torn tail allowed); at the end one more tidy must complete every
/// ledger with each expected entry exactly once.
fn crash_loop(iterations: u32) -> Figures {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos() as u64
        | 1;
    eprintln!("crash loop seed {seed}");
    let mut rng = Rng(seed);
    let repo = tempfile::tempdir().expect("temp");
    let root = repo.path();
    let mut expected: BTreeSet<String> = BTreeSet::new();
    let mut figures = Figures {
        iterations,
        killed: 0,
        finished: 0,
        torn_tails: 0,
        mid_append: 0,
        entries: 0,
    };
    for i in 0..iterations {
        let layout = run(root, &format!("crash-20260101T{:06}Z", i));
        let long = "lorem ipsum dolor sit amet ".repeat(150);
        let lines: Vec<String> = (0..12).map(|n| format!("rule {i}.{n}: {long}")).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        learnings(&layout, &refs);
        pilot_decision(&layout, "batch-1");
        pilot_decision(&layout, "batch-2");
        let timer = Instant::now();
        let planned = tidy::plan(root, &options()).expect("plan between kills");
        // A whole tidy reads what the plan read and writes with an fsync per
        // line: kills land anywhere within twice the plan's time.
        let window = timer.elapsed() * 2 + Duration::from_millis(20);
        let new: BTreeSet<String> = planned
            .ledgers
            .iter()
            .flat_map(|l| l.appended.iter().map(|e| e.entry_id.clone()))
            .collect();
        expected.extend(new.iter().cloned());

        let delay = Duration::from_micros(rng.next() % (window.as_micros() as u64).max(1));
        let mut child = worker(&json!({"root": root}))
            .spawn()
            .expect("spawn worker");
        wait_for_report(&mut child, |r| r["started"] == true);
        thread::sleep(delay);
        let finished = child.try_wait().expect("poll").is_some();
        if finished {
            figures.finished += 1;
        } else {
            child.kill().expect("SIGKILL");
            figures.killed += 1;
        }
        let status = child.wait().expect("reap");
        if finished {
            assert!(status.success(), "a tidy that was not killed succeeds");
        }
        for ledger in Ledger::all(root) {
            let verification = ledger.verify().expect("verify after a kill");
            assert!(
                verification.is_ok(),
                "iteration {i}: {:?}",
                verification.problems
            );
            if verification.torn_tail.is_some() {
                figures.torn_tails += 1;
            }
        }
        let present: BTreeSet<String> = all_ids(root).into_iter().collect();
        let landed = new.iter().filter(|id| present.contains(*id)).count();
        if !finished && landed > 0 && landed < new.len() {
            figures.mid_append += 1;
        }
    }
    let done = tidy::execute(root, &options()).expect("the last tidy");
    assert!(
        done.ledgers.iter().all(|l| l.torn_tail.is_none()) || figures.torn_tails > 0,
        "a repaired tail was seen by a verify first"
    );
    let ids = all_ids(root);
    let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
    for id in &ids {
        *counts.entry(id).or_default() += 1;
    }
    assert!(
        counts.values().all(|&n| n == 1),
        "an entry id appears twice"
    );
    let present: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(present, expected, "every entry exactly once");
    assert_eq!(
        tidy::execute(root, &options()).expect("again").appended(),
        0
    );
    for ledger in Ledger::all(root) {
        let verification = ledger.verify().expect("verify");
        assert!(verification.is_ok() && verification.torn_tail.is_none());
        assert!(!verification.view_stale, "the last tidy renders every view");
    }
    figures.entries = ids.len();
    figures
}

fn report(figures: &Figures) {
    eprintln!(
        "crash: {} iterations, {} killed during tidy ({} in the middle of its appends), {} finished first, {} torn tails seen (each verified and repaired by the next tidy), {} entries each exactly once, every ledger verified after every kill",
        figures.iterations,
        figures.killed,
        figures.mid_append,
        figures.finished,
        figures.torn_tails,
        figures.entries
    );
}

#[test]
fn ledger_003_ledgers_verify_after_every_kill_and_tidy_completes_them_once() {
    let figures = crash_loop(if full() { 120 } else { 20 });
    assert!(figures.killed > 0, "at least one tidy was killed");
    report(&figures);
}

#[test]
#[ignore = "full-size crash loop (120 kills); also run by WAYPOST_STRESS=full"]
fn crash_loop_full_size() {
    report(&crash_loop(120));
}
