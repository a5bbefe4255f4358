//! Pilot validation and re-batching over random task DAGs of 1 000 and
//! 10 000 tasks, and the ratio of the two: linear work gives 10, the goal
//! is at most 12 (n log n).
//!
//! `cargo bench -p waypost-planning --bench pilot` (`-- --runs N` to change
//! the number of timed runs per size; default 60, in three blocks per size
//! that alternate; the fastest and the median run of each size are
//! reported).
//!
//! Each case: a random DAG (each task depends on up to 3 earlier tasks and
//! touches up to 2 files out of 2n), the first 30% done, 8 tasks of the
//! next layer failed with assorted log signatures; timed is what the pilot
//! does per call once the context is built: the heuristic decision (which
//! re-batches every pending task at concurrency 8) and its validation.
#![allow(clippy::print_stdout, reason = "a bench binary reports on stdout")]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The CLI's allocator: the bench measures what `waypost` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// One case: its graph and context, built once.
struct Case {
    graph: TaskGraph,
}

/// The times of one run: the decision (with its re-batching), its
/// validation, and both.
fn once(ctx: &PilotContext<'_>) -> [Duration; 3] {
    let start = Instant::now();
    let decision = heuristic_decision(ctx);
    let decided = start.elapsed();
    validate(ctx, &decision).expect("the heuristic decision is valid");
    let total = start.elapsed();
    std::hint::black_box(decision);
    [decided, total - decided, total]
}

/// The fastest of `times`, per column: on a shared machine the fastest
/// run is the one least disturbed by other work.
fn fastest(times: &[[Duration; 3]]) -> [Duration; 3] {
    let mut out = [Duration::MAX; 3];
    for t in times {
        for i in 0..3 {
            out[i] = out[i].min(t[i]);
        }
    }
    out
}

/// The median of `times`, per column.
fn median(times: &[[Duration; 3]]) -> [Duration; 3] {
    let mut out = [Duration::ZERO; 3];
    for (i, slot) in out.iter_mut().enumerate() {
        let mut column: Vec<Duration> = times.iter().map(|t| t[i]).collect();
        column.sort();
        *slot = column[column.len() / 2];
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    println!(
        "pilot decision + validation (re-batching every pending task), {runs} runs per size in alternating blocks"
    );
    let cases: Vec<Case> = [1_000, 10_000]
        .into_iter()
        .map(|n| Case {
            graph: graph(n, 0x9E37_79B9_7F4A_7C15),
        })
        .collect();
    let contexts: Vec<PilotContext<'_>> = cases.iter().map(|c| context(&c.graph)).collect();
    let mut times: Vec<Vec<[Duration; 3]>> = vec![Vec::new(); contexts.len()];
    // Each size runs in blocks (two warm-up runs dropped, so its data is
    // in cache as it would be in a loop of calls), and the blocks of the
    // two sizes alternate, three times, so both see the same load from
    // the rest of the machine.
    for _ in 0..3 {
        for (ctx, out) in contexts.iter().zip(&mut times) {
            for run in 0..runs / 3 + 2 {
                let t = once(ctx);
                if run >= 2 {
                    out.push(t);
                }
            }
        }
    }
    println!(
        "{:>8}  {:>8}  {:>12}  {:>12}  {:>12}",
        "tasks", "", "decision", "validation", "both"
    );
    let mut summary = Vec::new();
    for (ctx, t) in contexts.iter().zip(&times) {
        for (label, row) in [("fastest", fastest(t)), ("median", median(t))] {
            println!(
                "{:>8}  {label:>8}  {:>12.3?}  {:>12.3?}  {:>12.3?}",
                ctx.graph.len(),
                row[0],
                row[1],
                row[2]
            );
        }
        summary.push((fastest(t), median(t)));
    }
    let ratio = |a: Duration, b: Duration| b.as_secs_f64() / a.as_secs_f64();
    let (small, large) = (summary[0], summary[1]);
    println!(
        "time(10k)/time(1k), both: {:.2} fastest, {:.2} median (decision {:.2}, validation {:.2}, fastest); goal: at most 12",
        ratio(small.0[2], large.0[2]),
        ratio(small.1[2], large.1[2]),
        ratio(small.0[0], large.0[0]),
        ratio(small.0[1], large.0[1]),
    );
}
