//! Extending waypost: a custom `Detector` (a gap the built-in ones do not
//! know), a custom `Executor` (the autopilot runs it only for actions the
//! policy cleared, and judges it by a rescan), and a custom `Advisor` (the
//! gate pilot's decision after a partly failed batch).
//!
//! ```sh
//! cargo run -p waypost --example custom -- path/to/repo
//! ```

#![allow(clippy::print_stdout)] // an example prints what it found

use std::path::{Path, PathBuf};

use waypost::autopilot::{Autopilot, AutopilotConfig, ExecuteError, Executor};
use waypost::gaps::{Detector, Finding, ReportContext, ScanContext, ScannedFile, detectors, scan};
use waypost::intention::resolve_anchor;
use waypost::planning::pilot::{Advisor, AdvisorError, HeuristicAdvisor, PilotContext};
use waypost::schemas::{ActionType, Clock, GapType, PilotDecisionV1, PlanAction, RiskLevel};

/// Finds `TODO(release)` markers, which this project must clear before a
/// release.
struct ReleaseTodos;

impl Detector for ReleaseTodos {
    fn id(&self) -> &'static str {
        "release_todo"
    }
    fn gap_type(&self) -> GapType {
        GapType::DocDrift
    }
    fn description(&self) -> &'static str {
        "a TODO(release) marker left in a source file"
    }
    fn wants(&self, path: &str) -> bool {
        path.ends_with(".rs")
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(text) = file.text else { return };
        if String::from_utf8_lossy(text).contains("TODO(release)") {
            out.push(Finding::of(
                self,
                RiskLevel::Low,
                file.path,
                "TODO(release) left behind",
            ));
        }
    }
}

/// Hands `custom` actions (problems with no mechanical fix) to a
/// (pretend) agent. It says what it did; the
/// autopilot's rescan decides whether it worked.
struct Agent;

impl Executor for Agent {
    fn name(&self) -> &str {
        "example:agent"
    }
    fn handles(&self, action: &PlanAction) -> bool {
        action.action_type == ActionType::Custom
    }
    fn execute(&self, _root: &Path, action: &PlanAction) -> Result<String, ExecuteError> {
        Err(ExecuteError::new(format!(
            "no agent is connected to work on {}",
            action.action_id
        )))
    }
}

/// Asks a model first and falls back to waypost's heuristic when the model
/// is unavailable (the pilot itself also falls back on an error).
struct ModelThenHeuristic;

impl Advisor for ModelThenHeuristic {
    fn name(&self) -> &str {
        "model-then-heuristic"
    }
    fn decide(&self, ctx: &PilotContext<'_>) -> Result<PilotDecisionV1, AdvisorError> {
        HeuristicAdvisor.decide(ctx)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    // The built-in detectors and ours, in one read-only pass.
    let anchor = resolve_anchor(&root, None, &Clock::System)?.anchor;
    let config = waypost::scan_config(&root, &anchor)?;
    let mut detectors = detectors::builtin(&config);
    detectors.push(Box::new(ReleaseTodos));
    let context = ReportContext {
        project_id: anchor.project_id.clone(),
        run_id: "custom-20260101T000000Z".into(),
        now: Clock::System.now(),
    };
    let found = scan(&root, &detectors, &config, &context)?.report;
    let ours = found
        .gaps
        .iter()
        .filter(|g| g.detector.as_deref() == Some(ReleaseTodos.id()));
    println!(
        "{} gap(s), {} TODO(release)",
        found.gaps.len(),
        ours.count()
    );
    println!(
        "advisor `{}` decides after a failed batch",
        ModelThenHeuristic.name()
    );

    // The autopilot, off: it proposes and says what it would run.
    let config = AutopilotConfig::new(&root).with_executor(Box::new(Agent));
    let report = Autopilot::new(config).run()?;
    println!(
        "run {}: {} action(s), {} would run, {} need a person; artifacts in {}",
        report.run_id,
        report.plan.actions.len(),
        report.session.would_execute_action_ids.len(),
        report.session.approval_requests.len(),
        report.run_dir.display()
    );
    Ok(())
}
