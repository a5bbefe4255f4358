//! `waypost run [PATH]` and `waypost autopilot --run RUN`: the whole loop.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use waypost::autopilot::{Autopilot, AutopilotConfig, AutopilotError, AutopilotReport, Stage};
use waypost::schemas::config::AutopilotConfig as AutopilotSection;
use waypost::schemas::{
    ActionOutcome, ApprovalBasis, ApprovalStatus, RequestStatus, SessionStatus,
};

use crate::error::CommandError;
use crate::{Format, clock};

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    repo: super::RepoArg,
    /// Execute the actions that are auto-approved or approved (also
    /// `[autopilot] enabled = true` in waypost.toml). Without it nothing
    /// is changed.
    #[arg(long)]
    enable: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, clap::Args)]
pub(crate) struct AutopilotArgs {
    /// The run to continue (its stored plan; approvals given since count).
    #[arg(long)]
    run: String,
    /// Execute (also `[autopilot] enabled = true` in waypost.toml).
    #[arg(long)]
    enable: bool,
    /// The repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn autopilot_error(err: AutopilotError) -> CommandError {
    match err {
        AutopilotError::Anchor(e) => e.into(),
        AutopilotError::Config(e) => e.into(),
        AutopilotError::Scan(e) => e.into(),
        AutopilotError::Id(e) => e.into(),
        AutopilotError::Resume { .. } => CommandError::bad_input(err.to_string())
            .with_hint("`waypost run` starts a run and prints its id"),
        other => CommandError::bad_input(other.to_string()),
    }
}

pub(crate) fn run(args: &RunArgs) -> Result<ExitCode, CommandError> {
    loop_once(args.repo.root(), None, args.enable, args.format)
}

pub(crate) fn autopilot(args: &AutopilotArgs) -> Result<ExitCode, CommandError> {
    loop_once(&args.repo, Some(&args.run), args.enable, args.format)
}

fn loop_once(
    root: &std::path::Path,
    resume: Option<&str>,
    enable: bool,
    format: Format,
) -> Result<ExitCode, CommandError> {
    if !root.is_dir() {
        return Err(CommandError::usage(format!(
            "{}: not a folder",
            root.display()
        )));
    }
    let enabled = enable || AutopilotSection::load(root)?.enabled;
    let mut config = AutopilotConfig::new(root)
        .enabled(enabled)
        .clock(clock()?)
        .store(super::store::selected(root)?);
    if let Some(run_id) = resume {
        config = config.resume(run_id);
    }
    // A progress line on a terminal only (and not under a `-v` log).
    let bar = crate::progress_shown().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    if let Some(bar) = &bar {
        let bar = bar.clone();
        config = config.on_stage(move |stage| {
            bar.set_message(match stage {
                Stage::Anchor => "loading the anchor".to_owned(),
                Stage::Scan => "scanning".to_owned(),
                Stage::Propose => "proposing a plan".to_owned(),
                Stage::Execute(title) => format!("executing: {title}"),
                Stage::Verify => "verifying by rescan".to_owned(),
                Stage::Record => "recording the run in the ledgers".to_owned(),
                _ => String::new(),
            });
        });
    }
    let outcome = Autopilot::new(config).run();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = outcome.map_err(autopilot_error)?;
    let done = report.session.status == SessionStatus::Completed
        && report.session.would_execute_action_ids.is_empty()
        && report
            .plan
            .actions
            .iter()
            .all(|a| report.session.executed_action_ids.contains(&a.action_id));
    {
        match format {
            Format::Text => out!("{}", summary(&report)),
            Format::Json => {
                let text = serde_json::to_string_pretty(&json!({
                    "run_id": report.run_id,
                    "run_dir": report.run_dir,
                    "anchor_is_default": report.anchor_is_default,
                    "autopilot_enabled": report.enabled,
                    "gaps": report.report.gaps.len(),
                    "actions": report.plan.actions.len(),
                    "session": report.session,
                }))
                .context("serialize the run")?;
                outln!("{text}");
            }
        }
    }
    Ok(ExitCode::from(if done { 0 } else { 1 }))
}

/// What a person reads in ten seconds.
fn summary(r: &AutopilotReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "waypost run {}", r.run_id);
    if r.anchor_is_default {
        let _ = writeln!(
            out,
            "  anchor    built-in default (no intention.toml: `waypost anchor init` writes one); it auto-approves nothing"
        );
    }
    // Gaps by type and risk.
    let mut by_type: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for gap in &r.report.gaps {
        *by_type
            .entry(gap.gap_type.as_str())
            .or_default()
            .entry(gap.risk_classification.as_str())
            .or_default() += 1;
    }
    if by_type.is_empty() {
        let _ = writeln!(out, "  gaps      none");
    } else {
        let _ = writeln!(out, "  gaps      {}", r.report.gaps.len());
        for (ty, risks) in &by_type {
            let parts: Vec<String> = risks.iter().map(|(k, n)| format!("{n} {k}")).collect();
            let _ = writeln!(out, "    {ty:<24} {}", parts.join(", "));
        }
    }
    // Actions by what happened to them.
    let s = &r.session;
    let titles: BTreeMap<&str, &str> = r
        .plan
        .actions
        .iter()
        .map(|a| {
            (
                a.action_id.as_str(),
                a.title.as_deref().unwrap_or(a.action_id.as_str()),
            )
        })
        .collect();
    let title = |id: &str| titles.get(id).copied().unwrap_or(id).to_owned();
    let auto = r
        .plan
        .actions
        .iter()
        .filter(|a| a.approval_status == ApprovalStatus::AutoApproved)
        .count();
    let _ = writeln!(
        out,
        "  actions   {} ({auto} auto-approved)",
        r.plan.actions.len()
    );
    for e in &s.executed_actions {
        let by = match &e.approval {
            ApprovalBasis::Rule { rule_id } => rule_id.clone(),
            ApprovalBasis::Approval {
                approver, channel, ..
            } => format!("{approver} via {channel}"),
        };
        let verdict = match e.outcome {
            ActionOutcome::Succeeded if is_record(&e.action_id) => {
                "done, verified in the ledgers".to_owned()
            }
            ActionOutcome::Succeeded => "done, verified by rescan".to_owned(),
            ActionOutcome::Failed if e.remaining_gap_ids.is_empty() => {
                format!("FAILED: {}", e.executor_report)
            }
            ActionOutcome::Failed => "FAILED: the rescan still finds its gap".to_owned(),
        };
        let _ = writeln!(
            out,
            "    executed  {} [{by}]: {verdict}",
            title(&e.action_id)
        );
    }
    for id in &s.would_execute_action_ids {
        let _ = writeln!(out, "    would run {}", title(id));
    }
    for req in &s.approval_requests {
        let word = match req.approval_status {
            RequestStatus::RequiresApproval => "approval",
            RequestStatus::Blocked => "blocked ",
        };
        let _ = writeln!(
            out,
            "    {word}  {} ({}): {}",
            title(&req.action_id),
            req.action_id,
            req.reason
        );
    }
    if let Some(why) = &s.blocked_reason {
        let _ = writeln!(out, "  stopped   {why}");
    }
    let _ = writeln!(out, "  artifacts {}", r.run_dir.display());
    if s.approval_requests
        .iter()
        .any(|q| q.approval_status == RequestStatus::RequiresApproval && !is_record(&q.action_id))
    {
        let _ = writeln!(
            out,
            "  next      waypost approve ACTION_ID --run {} --by NAME; then waypost autopilot --run {} --enable",
            r.run_id, r.run_id
        );
    } else if s.approval_requests.iter().any(|q| is_record(&q.action_id)) {
        let _ = writeln!(out, "  next      waypost tidy --execute --run {}", r.run_id);
    } else if !r.enabled && !s.would_execute_action_ids.is_empty() {
        let _ = writeln!(
            out,
            "  next      waypost autopilot --run {} --enable",
            r.run_id
        );
    }
    out
}

/// The autopilot's own action that records the run in the ledgers.
fn is_record(action_id: &str) -> bool {
    action_id.starts_with(waypost::autopilot::RECORD_ACTION_PREFIX)
}
