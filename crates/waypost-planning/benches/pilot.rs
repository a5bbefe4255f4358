//! Pilot validation and re-batching over random task DAGs of 1 000 and
//! 10 000 tasks, and the ratio of the two: linear work gives 10, the goal
//! is at most 12 (n log n).
//!
//! `cargo bench -p waypost-planning --bench pilot` (`-- --runs N` to change
//! the number of timed runs per size; default 15, the median is reported).
//!
//! Each case: a random DAG (each task depends on up to 3 earlier tasks and
//! touches up to 2 files out of 2n), the first 30% done, 8 tasks of the
//! next layer failed with assorted log signatures; timed is what the pilot
//! does per call once the context is built: the heuristic decision (which
//! re-batches every pending task at concurrency 8) and its validation.
#![allow(clippy::print_stdout, reason = "a bench binary reports on stdout")]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use waypost_planning::pilot::{
    FailedTask, LogText, PilotContext, RetryBudget, TaskGraph, TaskSpec, exit_status,
    heuristic_decision, validate,
};
use waypost_schemas::Timestamp;
use waypost_schemas::paths::RepoPath;

const LOGS: &[&str] = &[
    "running 12 tests\ntest result: FAILED. 11 passed; 1 failed\nexit status: 101",
    "error[E0425]: cannot find value `x` in this scope\nexit status: 101",
    "CONFLICT (content): Merge conflict in src/lib.rs\nexit status: 1",
    "test api::slow has been running for over 60 seconds\ntimed out\nexit status: 124",
    "fatal: Authentication failed for 'https://example.invalid/r.git/'\nexit status: 128",
    "FLAKY 2/3 [ 0.5s] demo::tests::races\nexit status: 100",
    "segmentation fault\nexit status: 139",
];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

fn key(i: usize) -> String {
    format!("t{i:06}")
}

fn graph(n: usize, seed: u64) -> TaskGraph {
    let mut rng = Rng(seed);
    TaskGraph::new((0..n).map(|i| {
        let deps: Vec<String> = if i == 0 {
            Vec::new()
        } else {
            (0..rng.below(4)).map(|_| key(rng.below(i))).collect()
        };
        let files: Vec<RepoPath> = (0..1 + rng.below(2))
            .map(|_| RepoPath::new(&format!("src/f{}.rs", rng.below(2 * n))).expect("path"))
            .collect();
        TaskSpec::new(key(i)).depends_on(deps).touches(files)
    }))
    .expect("edges point to earlier tasks")
}

fn context(graph: &TaskGraph) -> PilotContext<'_> {
    let n = graph.len();
    let at = Timestamp::parse("2026-01-01T00:00:00Z").expect("literal");
    let budget = RetryBudget {
        per_task: 2,
        run_remaining: 50,
        used: BTreeMap::new(),
    };
    let mut ctx = PilotContext::new(
        graph,
        "bench",
        "bench-20260101T000000Z",
        "batch-1",
        at,
        8,
        budget,
    );
    let done = n * 3 / 10;
    let keys: Vec<String> = graph.keys().map(str::to_owned).collect();
    ctx.done = keys[..done].iter().cloned().collect();
    ctx.pending = keys[done..].iter().cloned().collect();
    ctx.failed = keys[done..]
        .iter()
        .filter(|k| graph.dependencies(k).iter().all(|d| ctx.done.contains(*d)))
        .take(8)
        .enumerate()
        .map(|(i, k)| {
            let log = LOGS[i % LOGS.len()];
            FailedTask {
                key: k.clone(),
                verification_log: Some(LogText {
                    text: log.to_owned(),
                    cut_bytes: 0,
                }),
                exit_status: exit_status(log),
                attempts: 1,
                ..FailedTask::default()
            }
        })
        .collect();
    ctx
}

fn time(n: usize, runs: usize) -> Duration {
    let graph = graph(n, 0x9E37_79B9_7F4A_7C15);
    let ctx = context(&graph);
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs + 2 {
        let start = Instant::now();
        let decision = heuristic_decision(&ctx);
        validate(&ctx, &decision).expect("the heuristic decision is valid");
        times.push(start.elapsed());
        std::hint::black_box(decision);
    }
    // Two warm-up runs are dropped.
    let mut timed = times.split_off(2);
    timed.sort();
    timed[timed.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    println!("pilot decision + validation (re-batching every pending task), median of {runs} runs");
    let small = time(1_000, runs);
    let large = time(10_000, runs);
    println!("{:>8}  {:>12}", "tasks", "time");
    println!("{:>8}  {:>12.3?}", 1_000, small);
    println!("{:>8}  {:>12.3?}", 10_000, large);
    println!(
        "time(10k)/time(1k) = {:.2} (goal: at most 12)",
        large.as_secs_f64() / small.as_secs_f64()
    );
}
