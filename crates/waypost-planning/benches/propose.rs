//! The plan proposer over 1,000 and 10,000 gaps: time, and how it grows.
//!
//! `cargo bench -p waypost-planning --bench propose`
//!
//! Reports of a realistic mix (stale locks, root clutter, links to moved
//! files, byte-order marks, merges in progress, gaps with no mechanical
//! fix, some likely ones), proposed twice: with the default bounds, and
//! with no bound so every gap becomes an action and the whole dependency
//! graph is ordered. The sizes run in alternating blocks; the fastest and
//! the median of 15 runs are reported. The goal: time(10k) / time(1k) at
//! most 12 (n log n), and 10,000 gaps in under a second.
#![allow(clippy::print_stdout, reason = "a bench binary reports on stdout")]

use std::time::{Duration, Instant};

/// The CLI's allocator: the bench measures what `waypost` does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use serde_json::json;
use waypost_planning::{ProposeOptions, propose};
use waypost_schemas::{GapReportV1, IntentionAnchorV2, Timestamp};

fn anchor() -> IntentionAnchorV2 {
    serde_json::from_value(json!({
        "format_version": "v2",
        "project_id": "bench",
        "created_at": "2026-01-01T00:00:00Z",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {
            "scope_boundaries": {"allowed_write_roots": ["docs/", "archive/", "*.log", "tmp/"], "protected_paths": ["deploy/**"]},
            "governance_review": {"default_policy": "deny", "auto_approve_rules": [
                {"rule_id": "docs", "criteria": {"action_types": ["doc_update"], "path_globs": ["docs/**"], "max_changed_lines": 5, "max_risk_score": 0.3}}
            ]}
        }
    }))
    .expect("anchor")
}

fn report(n: usize) -> GapReportV1 {
    let gaps: Vec<_> = (0..n)
        .map(|i| {
            let (detector, gap_type, path, extra) = match i % 7 {
                0 => ("old_lock_file", "db_lock_contention", format!("tmp/w{i}.lock"), json!({})),
                1 => ("root_file_outside_allowlist", "root_clutter", format!("debug{i}.log"), json!({})),
                2 => (
                    "broken_markdown_link",
                    "doc_drift",
                    format!("docs/d{}/page{i}.md", i % 50),
                    json!({"moved_to": format!("docs/moved/t{i}.md"), "written_as": format!("t{i}.md"),
                           "locations": [{"path": format!("docs/d{}/page{i}.md", i % 50), "start_line": 3}]}),
                ),
                3 => ("utf8_bom", "windows_encoding_issue", format!("docs/b{i}.md"), json!({})),
                4 => ("git_operation_in_progress", "git_state_corruption", ".git/MERGE_HEAD".to_owned(), json!({})),
                5 => ("mixed_line_endings", "windows_encoding_issue", format!("docs/d{}/page{}.md", i % 50, i - 3), json!({})),
                _ => ("missing_test_fixture", "test_infra_drift", format!("tests/t{i}.rs"), json!({})),
            };
            let mut evidence = json!({"file_paths": [path]});
            for (k, v) in extra.as_object().expect("object") {
                evidence[k] = v.clone();
            }
            let mut signals = vec![json!(path)];
            if i % 13 == 0 {
                signals.push(json!(waypost_schemas::LIKELY_SIGNAL));
            }
            let risk = ["low", "medium", "high"][i % 3];
            json!({
                "gap_id": format!("gap-{i:08}"),
                "gap_type": gap_type,
                "detector": detector,
                "title": format!("{path}: {detector}"),
                "description": format!("{detector} at {path}."),
                "detection_signals": signals,
                "evidence": evidence,
                "risk_classification": risk,
                "blocks_autopilot": false
            })
        })
        .collect();
    serde_json::from_value(json!({
        "format_version": "v1", "project_id": "bench", "run_id": "scan-20260101T000000Z",
        "generated_at": "2026-01-01T00:00:00Z", "gaps": gaps
    }))
    .expect("report")
}

/// The sizes measured: 1,000 and 10,000, or those given with `--sizes A,B`.
fn sizes() -> Vec<usize> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--sizes")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.split(',').filter_map(|n| n.parse().ok()).collect())
        .filter(|v: &Vec<usize>| v.len() == 2)
        .unwrap_or_else(|| vec![1_000, 10_000])
}

/// How many timed runs each size gets (in three alternating blocks).
const RUNS: usize = 15;

fn main() {
    let anchor = anchor();
    let now = Timestamp::parse("2026-01-01T00:00:00Z").expect("time");
    let reports: Vec<(usize, GapReportV1)> = sizes().into_iter().map(|n| (n, report(n))).collect();
    for (label, unbounded) in [("default bounds", false), ("no bound", true)] {
        let mut options = ProposeOptions::new("plan-20260101T000000Z", now.clone());
        if unbounded {
            options = options.with_bounds(usize::MAX, 20);
        }
        let mut times: Vec<Vec<Duration>> = vec![Vec::new(); reports.len()];
        let mut actions = vec![0; reports.len()];
        // Each size runs in blocks (the first run of a block dropped, so
        // its data is in cache as in a loop of calls), and the blocks of
        // the two sizes alternate, three times, so both see the same load
        // from the rest of the machine.
        for _ in 0..3 {
            for (at, (_, report)) in reports.iter().enumerate() {
                for run in 0..=RUNS / 3 {
                    let t = Instant::now();
                    let plan = propose(&anchor, report, &options).expect("plan");
                    actions[at] = plan.actions.len();
                    drop(plan);
                    if run > 0 {
                        times[at].push(t.elapsed());
                    }
                }
            }
        }
        let mut ratios = Vec::new();
        for (pick, name) in [(0, "fastest"), (RUNS / 2, "median")] {
            let picked: Vec<Duration> = times
                .iter_mut()
                .map(|t| {
                    t.sort();
                    t[pick]
                })
                .collect();
            for ((n, _), (t, count)) in reports.iter().zip(picked.iter().zip(&actions)) {
                println!("[{label}] {n:>6} gaps: {t:>10.2?} ({name} of {RUNS}), {count} actions");
            }
            ratios.push(format!(
                "{:.2} {name}",
                picked[1].as_secs_f64() / picked[0].as_secs_f64()
            ));
        }
        println!(
            "[{label}] time(large) / time(small): {} (goal for 10k / 1k: at most 12)",
            ratios.join(", ")
        );
    }
}
