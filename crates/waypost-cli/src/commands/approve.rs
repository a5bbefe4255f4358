//! `waypost approve ACTION_ID --run RUN --by NAME`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;
use waypost::governance::{ApprovalError, store_approval};
use waypost::intention::resolve_anchor;
use waypost::parallel::Repository;
use waypost::parallel::landing::{self, Strategy};
use waypost::schemas::io::read_artifact;
use waypost::schemas::{ApprovalRecordV1, FormatV1, PlanAction, PlanProposalV1, RunLayout};

use crate::error::CommandError;
use crate::{Format, clock};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The action to approve, as the plan or `waypost runs land` names it.
    action_id: String,
    /// The run the action belongs to.
    #[arg(long)]
    run: String,
    /// Who approves it (recorded in the approval).
    #[arg(long = "by")]
    approver: String,
    /// The channel the approval comes through; it counts only when the
    /// anchor's governance_review.approval_channels lists it.
    #[arg(long, default_value = "cli")]
    channel: String,
    /// A note kept with the approval.
    #[arg(long)]
    comment: Option<String>,
    /// The repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// An action a run could have approved, and the plan it was proposed in.
type Known = (PlanAction, Option<String>);

/// Where the run's artifacts live, and the actions it has to approve: its
/// stored plan's and, for a parallel run, its landing (each strategy).
fn known_actions(args: &Args) -> Result<(RunLayout, Vec<Known>), CommandError> {
    let root = args
        .repo
        .canonicalize()
        .map_err(|e| CommandError::bad_input(format!("{}: {e}", args.repo.display())))?;
    let mut actions = Vec::new();
    let repo = Repository::open(&root).ok();
    let record = repo
        .as_ref()
        .and_then(|r| r.record(&args.run).ok().flatten());
    let project_id = match &record {
        Some(record) => record.project_id.clone(),
        None => resolve_anchor(&root, None, &clock()?)?.anchor.project_id,
    };
    let layout = RunLayout::new(&root, &project_id, &args.run)?;
    if let Ok(plan) = read_artifact::<PlanProposalV1>(&layout.plan_proposal()) {
        let id = plan.plan_proposal_id();
        actions.extend(plan.actions.into_iter().map(|a| (a, Some(id.clone()))));
    }
    if let (Some(repo), Some(_)) = (&repo, &record) {
        for strategy in [Strategy::Merge, Strategy::FastForward, Strategy::Rebase] {
            if let Ok(action) = landing::pending_action(repo, &args.run, strategy) {
                actions.push((action, None));
            }
        }
    }
    Ok((layout, actions))
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, CommandError> {
    let (layout, actions) = known_actions(args)?;
    let Some((action, plan_id)) = actions
        .iter()
        .find(|(a, _)| a.action_id == args.action_id)
        .cloned()
    else {
        let known: Vec<&str> = actions.iter().map(|(a, _)| a.action_id.as_str()).collect();
        let mut error = CommandError::bad_input(format!(
            "run `{}` has no action `{}` to approve",
            args.run, args.action_id
        ));
        error = if known.is_empty() {
            error.with_hint(
                "the run has no stored plan and no landing; `waypost propose --write` or `waypost runs start` makes one",
            )
        } else {
            error.with_hint(format!("its actions now: {}", known.join(", ")))
        };
        return Err(error.with_hint(
            "an action id names the action's content: a landing's changes when its run or base moves",
        ));
    };
    let record = ApprovalRecordV1 {
        format_version: FormatV1,
        action_id: action.action_id.clone(),
        action_sha256: action.content_sha256(),
        approver: args.approver.clone(),
        channel: args.channel.clone(),
        approved_at: clock()?.now(),
        project_id: Some(layout.project_id().to_owned()),
        run_id: Some(args.run.clone()),
        plan_proposal_id: plan_id,
        comment: args.comment.clone(),
        extra: Default::default(),
    };
    let path = store_approval(&layout, &record).map_err(|e| match e {
        ApprovalError::InvalidId(e) => CommandError::from(e),
        other => CommandError::bad_input(other.to_string()),
    })?;
    match args.format {
        Format::Text => {
            outln!(
                "approved {} ({}) by {} through {}",
                action.action_id,
                action.title.as_deref().unwrap_or(&action.action_id),
                record.approver,
                record.channel
            );
            outln!("  content  sha256:{}", record.action_sha256);
            outln!("  stored   {}", path.display());
        }
        Format::Json => {
            let text = serde_json::to_string_pretty(&json!({
                "approval": record,
                "path": path,
            }))
            .context("serialize the approval")?;
            outln!("{text}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
