//! The plan proposer over 1,000 and 10,000 gaps: time, and how it grows.
//!
//! `cargo bench -p waypost-planning --bench propose`
//!
//! Reports of a realistic mix (stale locks, root clutter, links to moved
//! files, byte-order marks, merges in progress, gaps with no mechanical
//! fix, some likely ones), proposed twice: with the default bounds, and
//! with no bound so every gap becomes an action and the whole dependency
//! graph is ordered. The goal: time(10k) / time(1k) at most 12 (n log n),
//! and 10,000 gaps in under a second.
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

/// Median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
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

fn main() {
    let anchor = anchor();
    let now = Timestamp::parse("2026-01-01T00:00:00Z").expect("time");
    for (label, unbounded) in [("default bounds", false), ("no bound", true)] {
        let mut times = Vec::new();
        for n in sizes() {
            let report = report(n);
            let mut options = ProposeOptions::new("plan-20260101T000000Z", now.clone());
            if unbounded {
                options = options.with_bounds(usize::MAX, 20);
            }
            let mut actions = 0;
            let t = median(5, || {
                let plan = propose(&anchor, &report, &options).expect("plan");
                actions = plan.actions.len();
            });
            println!("[{label}] {n:>6} gaps: {t:>10.2?} (median of 5), {actions} actions");
            times.push(t);
        }
        println!(
            "[{label}] time(large) / time(small): {:.2} (goal for 10k / 1k: at most 12)",
            times[1].as_secs_f64() / times[0].as_secs_f64()
        );
    }
}
