//! Embedding waypost in another tool: scan a repository, propose a plan,
//! and ask the policy about each action.
//!
//! ```sh
//! cargo run -p waypost --example embed -- path/to/repo
//! ```

#![allow(clippy::print_stdout)] // an example prints what it found

use std::path::PathBuf;

use waypost::gaps::{ReportContext, detectors, scan};
use waypost::governance::{Action, Policy};
use waypost::intention::resolve_anchor;
use waypost::planning::propose::{ProposeOptions, propose};
use waypost::schemas::Clock;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    let clock = Clock::System;

    // What the humans want (the built-in default when nobody wrote it).
    let anchor = resolve_anchor(&root, None, &clock)?.anchor;

    // What is wrong, read-only.
    let config = waypost::scan_config(&root, &anchor)?;
    let context = ReportContext {
        project_id: anchor.project_id.clone(),
        run_id: "embed-20260101T000000Z".into(),
        now: clock.now(),
    };
    let report = scan(&root, &detectors::builtin(&config), &config, &context)?.report;

    // What to do about it, each action classified with its reasons.
    let plan = propose(
        &anchor,
        &report,
        &ProposeOptions::new(context.run_id, clock.now()),
    )?;
    let policy = Policy::from_anchor(&anchor, Some(root.clone()));
    println!(
        "{} gap(s), {} action(s)",
        report.gaps.len(),
        plan.actions.len()
    );
    for action in &plan.actions {
        // Ask again right before acting: the policy is the only judge.
        let decision = policy.decide(&Action::from_plan(action));
        println!(
            "{:<16} {}  ({})",
            decision.verdict.to_string(),
            action.title.as_deref().unwrap_or(&action.action_id),
            decision.summary()
        );
    }
    Ok(())
}
