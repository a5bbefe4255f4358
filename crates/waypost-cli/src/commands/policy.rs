//! `waypost policy check`: ask before acting.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};
use waypost::governance::{Action, ActionKind, Counterfactual, Decision, Policy, Verdict};
use waypost::intention::resolve_anchor;
use waypost::schemas::io::{Links, read_text};
use waypost::schemas::{ActionType, PlanAction};

use crate::error::CommandError;
use crate::{Format, clock};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Decide one action under the anchor in force: the verdict, every
    /// reason with its rule id, and what would have made it automatic.
    ///
    /// The action is JSON: one element of a plan proposal's `actions`
    /// (`action_type`, `target_paths`, `command`, `risk_score`,
    /// `estimated_changed_lines`, `estimated_cost`); `action_id`,
    /// `target_gap_ids`, `approval_status` and the other verdict fields may be
    /// left out. Exit 0 when auto-approved, 1 when it needs approval or is
    /// denied, 2 for bad input.
    ///
    /// Example: waypost policy check --action action.json --format json
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The action as a JSON file, or `-` for standard input.
    #[arg(long, value_name = "FILE|-")]
    action: PathBuf,
    /// An anchor file (TOML or JSON) instead of the repository's own.
    #[arg(long, value_name = "FILE")]
    anchor: Option<PathBuf>,
    /// The repository: where the anchor is looked for, and the tree target
    /// paths are resolved against (symlinks, hard links).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(command: &Command) -> Result<ExitCode, CommandError> {
    match command {
        Command::Check(args) => check(args),
    }
}

fn check(args: &CheckArgs) -> Result<ExitCode, CommandError> {
    let (name, text) = read_action(&args.action)?;
    let action =
        parse_action(&text).map_err(|e| CommandError::bad_input(format!("{name}: {e}")))?;
    if !args.repo.is_dir() {
        return Err(CommandError::usage(format!(
            "{}: not a folder",
            args.repo.display()
        )));
    }
    let resolved = resolve_anchor(&args.repo, args.anchor.as_deref(), &clock()?)?;
    let policy = Policy::from_anchor(&resolved.anchor, Some(args.repo.clone()));
    let decision = policy.decide(&action);
    match args.format {
        Format::Text => out!("{}", text_report(&decision, &policy)),
        Format::Json => {
            let report = json_report(&decision, &policy, &resolved.anchor.anchor_id());
            let text = serde_json::to_string_pretty(&report).context("serialize the decision")?;
            outln!("{text}");
        }
    }
    Ok(ExitCode::from(u8::from(
        decision.verdict != Verdict::AutoApprove,
    )))
}

/// The action's text and a name for messages.
fn read_action(path: &std::path::Path) -> Result<(String, String), CommandError> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(MAX_ACTION_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| CommandError::bad_input(format!("standard input: {e}")))?;
        if text.len() as u64 > MAX_ACTION_BYTES {
            return Err(CommandError::bad_input(format!(
                "standard input: an action is at most {MAX_ACTION_BYTES} bytes"
            )));
        }
        return Ok(("standard input".into(), text));
    }
    let name = path.display().to_string();
    // A named file: a link is followed; a FIFO, a device or a huge file is
    // refused without blocking or loading it.
    let text = read_text(path, MAX_ACTION_BYTES, Links::Follow)?;
    Ok((name, text))
}

/// Largest action document read.
const MAX_ACTION_BYTES: u64 = 1024 * 1024;

/// A plan action with the verdict fields optional; an action type waypost
/// does not know is kept as such (and needs approval).
fn parse_action(text: &str) -> Result<Action, String> {
    let mut value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let object = value
        .as_object_mut()
        .ok_or("expected a JSON object: one action of a plan proposal")?;
    if !object.contains_key("risk_score") {
        return Err("`risk_score` is required: a number from 0 (safe) to 1 (dangerous)".into());
    }
    let kind_text = match object.get("action_type") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("`action_type` must be a string".into()),
        None => return Err("`action_type` is required".into()),
    };
    let unknown = serde_json::from_value::<ActionType>(json!(kind_text)).is_err();
    if unknown {
        object.insert("action_type".into(), json!("custom"));
    }
    object
        .entry("action_id")
        .or_insert_with(|| json!("action-unchecked"));
    object.entry("target_gap_ids").or_insert_with(|| json!([]));
    object
        .entry("approval_status")
        .or_insert_with(|| json!("requires_approval"));
    let plan: PlanAction = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let mut action = Action::from_plan(&plan);
    if unknown {
        action.kind = ActionKind::Unknown(kind_text);
    }
    Ok(action)
}

fn text_report(decision: &Decision, policy: &Policy) -> String {
    let mut out = format!("verdict: {}\n", decision.verdict);
    if !decision.reasons.is_empty() {
        out.push_str("reasons:\n");
        for r in &decision.reasons {
            out.push_str(&format!("  [{}] {}: {}\n", r.verdict, r.rule_id, r.message));
        }
    }
    out.push_str(&format!("counterfactual: {}\n", decision.counterfactual));
    for entry in policy.unenforceable() {
        out.push_str(&format!(
            "note: {entry} is free text the policy cannot enforce\n"
        ));
    }
    out
}

fn json_report(decision: &Decision, policy: &Policy, anchor_id: &str) -> Value {
    let counterfactual = match &decision.counterfactual {
        Counterfactual::NotNeeded => json!({"kind": "not_needed"}),
        Counterfactual::Change(changes) => json!({"kind": "change", "changes": changes}),
        Counterfactual::None(why) => json!({"kind": "none", "why": why}),
    };
    json!({
        "anchor_id": anchor_id,
        "verdict": decision.verdict.to_string(),
        "approval_status": decision.verdict.approval_status(),
        "reasons": decision.reasons.iter().map(|r| json!({
            "verdict": r.verdict.to_string(),
            "rule_id": r.rule_id,
            "message": r.message,
        })).collect::<Vec<_>>(),
        "counterfactual": counterfactual,
        "unenforceable": policy.unenforceable(),
    })
}
