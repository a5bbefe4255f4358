//! `waypost runs start|list|show|land|gc`

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};
use waypost::governance::load_approval;
use waypost::intention::resolve_anchor;
use waypost::parallel::inventory::{self, GcAction, MergeCheck, RunStatus};
use waypost::parallel::landing::{self, LandError, LandOptions, LandOutcome, Strategy};
use waypost::parallel::{InventoryError, Repository, Run, StartError};
use waypost::schemas::RunLayout;
use waypost::schemas::config::RunsConfig;

use crate::error::CommandError;
use crate::{Format, clock};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Start a run in its own git worktree and branch, run COMMAND there,
    /// and release the run when it ends.
    ///
    /// The run takes a slot (as the anchor's parallelism_isolation allows),
    /// its executor lock, its workspace lease, its worktree on branch
    /// `waypost/RUN` (reattached when this run created it before), the ports
    /// named in `[runs] ports` and the files in `[runs] copy_files`. COMMAND
    /// runs in the worktree with WAYPOST_RUN_ID, WAYPOST_WORKTREE,
    /// WAYPOST_RUN_DIR, WAYPOST_FENCING_TOKEN and WAYPOST_PORT_<NAME> set.
    /// Without COMMAND the worktree is created (or checked) and the run
    /// released at once. Exit: COMMAND's status (0 without one), 1 the run
    /// was refused (gate full, executor busy, lease held), 2 bad input.
    ///
    /// Example: waypost runs start fix-docs --base main -- cargo test
    Start(StartArgs),
    /// List runs: state, branch, whether it merges cleanly, disk use.
    ///
    /// Reads only: statuses without optional locks, merges computed with
    /// `git merge-tree`. Exit 0.
    ///
    /// Example: waypost runs list --format json
    List(ListArgs),
    /// Show one run in detail.
    ///
    /// Example: waypost runs show fix-docs
    Show(ShowArgs),
    /// Land a run: merge its branch into the branch it started from.
    ///
    /// A governed git_operation: by default it needs a person's approval,
    /// bound to the run's head and the base commit (`waypost approve
    /// ACTION_ID --run RUN --by NAME`; the action id is printed here). The
    /// result is computed first without touching anything; a conflict, or a
    /// checkout of the base with uncommitted changes, blocks the landing
    /// and says why. Exactly one lander per base branch; the base moves
    /// only from the commit the result was computed on. A clean checkout
    /// of the base is brought to the new commit. Exit: 0 landed (or
    /// already), 1 needs approval, blocked, denied or busy, 2 bad input.
    ///
    /// Example: waypost runs land fix-docs --strategy ff
    Land(LandArgs),
    /// Clean up ended runs without losing work (dry run unless --execute).
    ///
    /// A worktree is removed only when its run is gone, its tree is clean
    /// and its branch is merged into its base or pushed; its branch is
    /// deleted only when merged. Anything else is quarantined: moved under
    /// `.git/waypost/quarantine/`, branch kept, listed. Exit 0.
    ///
    /// Example: waypost runs gc --execute
    Gc(GcArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct StartArgs {
    /// The run id (letters, digits, `.`, `_`, `-`).
    run_id: String,
    /// The commit, branch or tag the run starts from. Default: the base
    /// it started from when the run exists, else HEAD.
    #[arg(long)]
    base: Option<String>,
    /// The repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// The command to run in the worktree.
    #[arg(last = true)]
    command: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// The repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ShowArgs {
    /// The run id.
    run_id: String,
    /// The repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// How a run's branch lands.
#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
enum LandStrategy {
    /// A merge commit with the base and the run's head as parents.
    #[default]
    Merge,
    /// Move the base to the run's head; only when that is a fast-forward.
    Ff,
    /// Replay the run's commits on the base.
    Rebase,
}

#[derive(Debug, clap::Args)]
pub(crate) struct LandArgs {
    /// The run id.
    run_id: String,
    /// How to land.
    #[arg(long, value_enum, default_value_t)]
    strategy: LandStrategy,
    /// The repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, clap::Args)]
pub(crate) struct GcArgs {
    /// Remove and quarantine; without it, only say what would happen.
    #[arg(long)]
    execute: bool,
    /// The repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(command: &Command) -> Result<ExitCode, CommandError> {
    match command {
        Command::Start(args) => start(args),
        Command::List(args) => list(args),
        Command::Show(args) => show(args),
        Command::Land(args) => land(args),
        Command::Gc(args) => gc(args),
    }
}

/// The repository at `path`, its claims in the selected store (`[store]`
/// of its waypost.toml, or WAYPOST_STORE_URL).
fn open(path: &Path) -> Result<Repository, CommandError> {
    let repo = Repository::open(path).map_err(|e| CommandError::bad_input(e.to_string()))?;
    let store = super::store::selected(repo.root())?;
    Ok(store.repository(repo))
}

fn inventory_error(err: InventoryError) -> CommandError {
    match err {
        InventoryError::UnknownRun { .. } => CommandError::bad_input(err.to_string())
            .with_hint("`waypost runs list` names every run with a record"),
        other => CommandError::bad_input(other.to_string()),
    }
}

fn start(args: &StartArgs) -> Result<ExitCode, CommandError> {
    let repo = open(&args.repo)?;
    let config = RunsConfig::load(repo.root())?;
    let resolved = resolve_anchor(repo.root(), None, &clock()?)?;
    let base = match &args.base {
        Some(base) => base.clone(),
        None => match repo.record(&args.run_id) {
            Ok(Some(record)) => record.base_commit,
            _ => "HEAD".to_owned(),
        },
    };
    let run = match Run::start(&repo, &resolved.anchor, &args.run_id, &base, &config) {
        Ok(run) => run,
        Err(
            e @ (StartError::Refused { .. }
            | StartError::ExecutorBusy { .. }
            | StartError::LeaseHeld { .. }),
        ) => {
            eprintln!("refused: {e}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(CommandError::bad_input(e.to_string())),
    };
    let run_dir = run.writer().layout().run_dir();
    match args.format {
        Format::Text => {
            outln!(
                "run {} {} in {}",
                run.run_id(),
                if run.reattached() {
                    "reattached"
                } else {
                    "started"
                },
                run.worktree().display()
            );
            outln!("  branch     {}", run.branch());
            outln!("  base       {}", run.record().base_commit);
            outln!("  run dir    {}", run_dir.display());
            for (name, port) in run.ports() {
                outln!("  port       {name} = {port}");
            }
        }
        Format::Json => {
            let text = serde_json::to_string_pretty(&json!({
                "run_id": run.run_id(),
                "reattached": run.reattached(),
                "worktree": run.worktree(),
                "branch": run.branch(),
                "base_commit": run.record().base_commit,
                "run_dir": run_dir,
                "ports": run.ports(),
                "fencing_token": run.fencing_token(),
            }))
            .context("serialize the run")?;
            outln!("{text}");
        }
    }
    let mut code = ExitCode::SUCCESS;
    if let Some((program, rest)) = args.command.split_first() {
        let mut child = std::process::Command::new(program);
        child
            .args(rest)
            .current_dir(run.worktree())
            .env("WAYPOST_RUN_ID", run.run_id())
            .env("WAYPOST_WORKTREE", run.worktree())
            .env("WAYPOST_RUN_DIR", &run_dir)
            .env("WAYPOST_FENCING_TOKEN", run.fencing_token().to_string());
        for (name, port) in run.ports() {
            let var = format!(
                "WAYPOST_PORT_{}",
                name.to_ascii_uppercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            );
            child.env(var, port.to_string());
        }
        let status = child
            .status()
            .map_err(|e| CommandError::bad_input(format!("cannot run `{program}`: {e}")))?;
        code = match status.code() {
            Some(0) => ExitCode::SUCCESS,
            Some(n) => ExitCode::from(u8::try_from(n).unwrap_or(1)),
            None => ExitCode::from(1),
        };
    }
    run.finish().context("release the run")?;
    Ok(code)
}

fn merge_text(merge: &MergeCheck) -> String {
    match merge {
        MergeCheck::Clean => "clean".to_owned(),
        MergeCheck::Conflicts(paths) => format!("conflicts ({})", paths.len()),
        MergeCheck::Unknown(_) => "unknown".to_owned(),
    }
}

fn status_json(s: &RunStatus) -> Value {
    json!({
        "run_id": s.record.run_id,
        "state": s.state.as_str(),
        "holder_pid": s.holder.as_ref().map(|h| h.pid),
        "holder_host": s.holder.as_ref().and_then(|h| h.hostname.clone()),
        "fencing_token": s.fencing_token,
        "branch": s.record.branch,
        "base_branch": s.record.base_branch,
        "base_commit": s.record.base_commit,
        "head": s.head,
        "ahead": s.ahead,
        "merged": s.merged,
        "pushed": s.pushed,
        "merge": match &s.merge {
            MergeCheck::Clean => json!({"clean": true}),
            MergeCheck::Conflicts(paths) => json!({"clean": false, "conflicts": paths}),
            MergeCheck::Unknown(why) => json!({"clean": null, "reason": why}),
        },
        "worktree": s.record.worktree,
        "worktree_exists": s.worktree_exists,
        "quarantined": s.record.quarantined_at.is_some(),
        "changed": s.changed,
        "disk_bytes": s.disk_bytes,
        "ports": s.record.ports,
    })
}

fn list(args: &ListArgs) -> Result<ExitCode, CommandError> {
    let repo = open(&args.repo)?;
    let (runs, unrecorded) = inventory::list(&repo).map_err(inventory_error)?;
    match args.format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&json!({
                "runs": runs.iter().map(status_json).collect::<Vec<_>>(),
                "unrecorded_worktrees": unrecorded.iter().map(|u| json!({"path": u.path, "branch": u.branch})).collect::<Vec<_>>(),
            }))
            .context("serialize the runs")?;
            outln!("{text}");
        }
        Format::Text => {
            if runs.is_empty() {
                outln!("no runs");
            } else {
                let mut out = String::new();
                let _ = writeln!(
                    out,
                    "{:<28} {:<7} {:>5} {:<6} {:<16} {:>10}  HOLDER",
                    "RUN", "STATE", "AHEAD", "DIRTY", "MERGE", "DISK"
                );
                for s in &runs {
                    let holder = s
                        .holder
                        .as_ref()
                        .map(|h| match &h.hostname {
                            // A pid alone would name a process of this machine.
                            Some(host) => format!("pid {} on {host}", h.pid),
                            None => format!("pid {}", h.pid),
                        })
                        .unwrap_or_else(|| "-".to_owned());
                    let _ = writeln!(
                        out,
                        "{:<28} {:<7} {:>5} {:<6} {:<16} {:>10}  {holder}{}",
                        s.record.run_id,
                        s.state.as_str(),
                        s.ahead,
                        if s.changed.is_empty() { "no" } else { "yes" },
                        merge_text(&s.merge),
                        human_bytes(s.disk_bytes),
                        if s.record.quarantined_at.is_some() {
                            " (quarantined)"
                        } else {
                            ""
                        }
                    );
                }
                out!("{out}");
            }
            for u in &unrecorded {
                outln!(
                    "unrecorded worktree {} (branch {}): no run record names it",
                    u.path.display(),
                    u.branch.as_deref().unwrap_or("detached")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: &ShowArgs) -> Result<ExitCode, CommandError> {
    let repo = open(&args.repo)?;
    let s = inventory::show(&repo, &args.run_id).map_err(inventory_error)?;
    match args.format {
        Format::Json => {
            let text =
                serde_json::to_string_pretty(&status_json(&s)).context("serialize the run")?;
            outln!("{text}");
        }
        Format::Text => {
            outln!("run {}  ({})", s.record.run_id, s.state.as_str());
            if let Some(h) = &s.holder {
                outln!(
                    "  holder     pid {} on {} (fencing token {})",
                    h.pid,
                    h.hostname.as_deref().unwrap_or("an unknown host"),
                    s.fencing_token
                );
            }
            outln!("  branch     {} ({} ahead)", s.record.branch, s.ahead);
            outln!(
                "  base       {} {}",
                s.record.base_branch.as_deref().unwrap_or("(detached)"),
                s.record.base_commit
            );
            outln!("  worktree   {}", s.record.worktree);
            outln!("  disk       {}", human_bytes(s.disk_bytes));
            outln!(
                "  merged     {}   pushed {}",
                if s.merged { "yes" } else { "no" },
                if s.pushed { "yes" } else { "no" }
            );
            match &s.merge {
                MergeCheck::Conflicts(paths) => {
                    outln!("  merge      conflicts in: {}", paths.join(", "));
                }
                other => outln!("  merge      {}", merge_text(other)),
            }
            for path in &s.changed {
                outln!("  changed    {path}");
            }
            for (name, port) in &s.record.ports {
                outln!("  port       {name} = {port}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn land_error(err: LandError) -> CommandError {
    match err {
        LandError::UnknownRun(_) => CommandError::bad_input(err.to_string())
            .with_hint("`waypost runs list` names every run with a record"),
        other => CommandError::bad_input(other.to_string()),
    }
}

fn land(args: &LandArgs) -> Result<ExitCode, CommandError> {
    let repo = open(&args.repo)?;
    let strategy = match args.strategy {
        LandStrategy::Merge => Strategy::Merge,
        LandStrategy::Ff => Strategy::FastForward,
        LandStrategy::Rebase => Strategy::Rebase,
    };
    let record = repo
        .record(&args.run_id)
        .map_err(|e| CommandError::bad_input(e.to_string()))?
        .ok_or_else(|| land_error(LandError::UnknownRun(args.run_id.clone())))?;
    let resolved = resolve_anchor(repo.root(), None, &clock()?)?;
    let action = landing::pending_action(&repo, &args.run_id, strategy).map_err(land_error)?;
    let layout = RunLayout::new(repo.root(), &record.project_id, &args.run_id)?;
    let approval = load_approval(&layout, &action.action_id)
        .map_err(|e| CommandError::bad_input(e.to_string()))?;
    let options = LandOptions {
        strategy,
        approval: approval.as_ref(),
        ..LandOptions::default()
    };
    let outcome =
        landing::land(&repo, &resolved.anchor, &args.run_id, &options).map_err(land_error)?;
    let base = record.base_branch.as_deref().unwrap_or("(detached)");
    let (status, code) = match &outcome {
        LandOutcome::Landed { already: false, .. } => ("landed", 0),
        LandOutcome::Landed { already: true, .. } => ("already_landed", 0),
        LandOutcome::Blocked { .. } => ("merge_blocked", 1),
        LandOutcome::NeedsApproval { .. } => ("requires_approval", 1),
        LandOutcome::Denied { .. } => ("denied", 1),
        LandOutcome::HeldBy { .. } => ("busy", 1),
        _ => ("unknown", 1),
    };
    match args.format {
        Format::Json => {
            let detail = match &outcome {
                LandOutcome::Landed { result, .. } => json!({"result": result}),
                LandOutcome::Blocked { reason, conflicts } => {
                    json!({"reason": reason, "conflicts": conflicts})
                }
                LandOutcome::NeedsApproval { action, reason } => {
                    json!({"reason": reason, "action": action})
                }
                LandOutcome::Denied { reason } => json!({"reason": reason}),
                LandOutcome::HeldBy { holder } => json!({"holder": holder}),
                _ => json!({}),
            };
            let text = serde_json::to_string_pretty(&json!({
                "run_id": args.run_id,
                "base_branch": record.base_branch,
                "strategy": strategy.as_str(),
                "status": status,
                "detail": detail,
            }))
            .context("serialize the landing")?;
            outln!("{text}");
        }
        Format::Text => match &outcome {
            LandOutcome::Landed { result, already } => {
                if *already {
                    outln!("run {} is already in {base} ({result})", args.run_id);
                } else {
                    outln!("landed run {} into {base}: {result}", args.run_id);
                }
            }
            LandOutcome::Blocked { reason, conflicts } => {
                outln!("merge blocked: {reason}");
                for path in conflicts {
                    outln!("  conflict   {path}");
                }
            }
            LandOutcome::NeedsApproval { action, reason } => {
                outln!(
                    "needs approval: {}",
                    action.title.as_deref().unwrap_or(&action.action_id)
                );
                outln!("  action     {}", action.action_id);
                outln!("  why        {reason}");
                outln!(
                    "  approve    waypost approve {} --run {} --by NAME",
                    action.action_id,
                    args.run_id
                );
            }
            LandOutcome::Denied { reason } => outln!("denied: {reason}"),
            LandOutcome::HeldBy { holder } => outln!(
                "busy: pid {} on {} is landing into {base}; try again when it ends",
                holder.pid,
                holder.hostname.as_deref().unwrap_or("an unknown host")
            ),
            other => outln!("{other:?}"),
        },
    }
    Ok(ExitCode::from(code))
}

fn gc(args: &GcArgs) -> Result<ExitCode, CommandError> {
    let repo = open(&args.repo)?;
    let report = inventory::gc(&repo, args.execute).map_err(inventory_error)?;
    match args.format {
        Format::Json => {
            let entries: Vec<Value> = report
                .iter()
                .map(|e| {
                    json!({
                        "run_id": e.run_id,
                        "action": e.action.as_str(),
                        "detail": match &e.action { GcAction::Kept(why) => Some(why.clone()), _ => None },
                        "reason": e.reason,
                        "disk_bytes": e.disk_bytes,
                        "worktree": e.worktree,
                        "branch_deleted": e.branch_deleted,
                    })
                })
                .collect();
            let text =
                serde_json::to_string_pretty(&json!({"executed": args.execute, "runs": entries}))
                    .context("serialize the gc report")?;
            outln!("{text}");
        }
        Format::Text => {
            if report.is_empty() {
                outln!("no runs");
            }
            for e in &report {
                let what = match (&e.action, args.execute) {
                    (GcAction::Remove, false) => "would remove",
                    (GcAction::Remove, true) => "removed",
                    (GcAction::Quarantine, false) => "would quarantine",
                    (GcAction::Quarantine, true) => "quarantined",
                    (GcAction::Quarantined, _) => "kept (quarantined)",
                    (GcAction::Running, _) => "kept (running)",
                    (GcAction::Kept(_), _) => "kept",
                };
                let detail = match &e.action {
                    GcAction::Kept(why) => format!(": {why}"),
                    _ => String::new(),
                };
                outln!(
                    "{:<28} {what:<18} {:>10}  {}{detail}",
                    e.run_id,
                    human_bytes(e.disk_bytes),
                    e.reason
                );
            }
            if !args.execute
                && report
                    .iter()
                    .any(|e| matches!(e.action, GcAction::Remove | GcAction::Quarantine))
            {
                outln!("dry run: nothing changed; `waypost runs gc --execute` applies this");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
