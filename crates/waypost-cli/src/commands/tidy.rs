//! `waypost tidy [--execute]`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};
use waypost::intention::resolve_anchor;
use waypost::ledger::tidy::{Allowlist, Retention, TidyError, TidyOptions, TidyReport};
use waypost::store::Store;

use crate::error::CommandError;
use crate::{Format, clock};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Append to the ledgers and prune run directories; without it, only
    /// print what would be appended and pruned.
    #[arg(long)]
    execute: bool,
    /// Only the runs of this project.
    #[arg(long)]
    project: Option<String>,
    /// Only this run (what `waypost run` names when recording a run in
    /// the ledgers needs a person's go-ahead).
    #[arg(long, value_name = "RUN")]
    run: Option<String>,
    /// Keep the newest N run directories of each family and prune the rest
    /// (after their files are in the ledgers). Default: the anchor's
    /// `memory_continuity.retention_rules.runs`, else keep every run.
    #[arg(long, value_name = "N")]
    keep_runs: Option<usize>,
    /// The repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format: `json` prints every entry exactly as it is (or would
    /// be) appended.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn tidy_error(err: TidyError) -> CommandError {
    match err {
        TidyError::Ledger(waypost::ledger::LedgerError::Invalid { .. }) => CommandError::bad_input(
            err.to_string(),
        )
        .with_hint(
            "`waypost ledger verify` names every problem; restore the ledger from version control",
        ),
        TidyError::UnknownPersistName { .. }
        | TidyError::NotPersistable { .. }
        | TidyError::BadRetention { .. } => CommandError::bad_input(err.to_string())
            .with_hint("fix [memory_continuity] in the anchor (`waypost anchor check`)"),
        other => CommandError::bad_input(other.to_string()),
    }
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, CommandError> {
    let root: &Path = &args.repo;
    let clock = clock()?;
    let resolved = resolve_anchor(root, None, &clock)?;
    let memory = resolved.anchor.pivot_intentions.memory_continuity.as_ref();
    let options = TidyOptions {
        allowlist: Allowlist::from_anchor(memory).map_err(tidy_error)?,
        project: args.project.clone(),
        run: args.run.clone(),
        retention: match args.keep_runs {
            Some(n) => Retention::KeepLast(n),
            None => Retention::from_anchor(memory).map_err(tidy_error)?,
        },
        now: clock.now(),
    };
    // The ledgers are the repository's files unless a shared store is
    // configured ([store] url, or WAYPOST_STORE_URL).
    let store = super::store::selected(root)?;
    if !matches!(store, Store::Files) {
        note!("ledgers: {}", store.describe());
    }
    let report = if args.execute {
        store.tidy_execute(root, &options)
    } else {
        store.tidy_plan(root, &options)
    }
    .map_err(tidy_error)?;
    if let Some(run) = &args.run
        && report.runs == 0
    {
        return Err(CommandError::bad_input(format!(
            "--run {run}: no such run under .autonomous_runs/"
        ))
        .with_hint("`waypost runs list` names the runs"));
    }
    match args.format {
        Format::Text => out!("{}", text(root, &report)),
        Format::Json => {
            let text =
                serde_json::to_string_pretty(&to_json(root, &report)).context("serialize")?;
            outln!("{text}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn text(root: &Path, report: &TidyReport) -> String {
    let mut out = String::new();
    let appended = report.appended();
    if report.executed {
        out.push_str(&format!(
            "appended {appended} entr{} from {} run(s)\n",
            if appended == 1 { "y" } else { "ies" },
            report.runs
        ));
    } else {
        out.push_str(&format!(
            "dry run: {appended} entr{} would be appended from {} run(s); --execute appends\n",
            if appended == 1 { "y" } else { "ies" },
            report.runs
        ));
    }
    for change in &report.ledgers {
        if let Some(torn) = &change.torn_tail {
            out.push_str(&format!(
                "{}: {} a torn final line ({} bytes at offset {}) left by an append that did not finish\n",
                shown(root, &change.path),
                if report.executed { "cut off" } else { "would cut off" },
                torn.len,
                torn.offset
            ));
        }
        out.push_str(&format!(
            "{}: {} new, {} already present, {} unchanged\n",
            shown(root, &change.path),
            change.appended.len(),
            change.already_present,
            change.unchanged
        ));
        for entry in &change.appended {
            out.push_str(&format!(
                "  + #{} {} {} {}: {}\n",
                entry.sequence,
                entry.entry_id,
                entry.status.as_str(),
                entry.kind,
                entry.summary
            ));
            if let Some(old) = &entry.supersedes {
                out.push_str(&format!("      supersedes {old}\n"));
            }
        }
    }
    for skipped in &report.skipped {
        out.push_str(&format!(
            "skipped {}: {}\n",
            shown(root, &skipped.path),
            skipped.reason
        ));
    }
    let verb = if report.executed {
        "pruned"
    } else {
        "would prune"
    };
    for dir in &report.pruned {
        out.push_str(&format!("{verb} {}\n", shown(root, dir)));
    }
    for dir in &report.kept {
        out.push_str(&format!(
            "kept {} (it holds a skipped file)\n",
            shown(root, dir)
        ));
    }
    out
}

fn to_json(root: &Path, report: &TidyReport) -> Value {
    json!({
        "executed": report.executed,
        "runs": report.runs,
        "appended": report.appended(),
        "ledgers": report.ledgers.iter().map(|c| json!({
            "ledger": c.ledger.as_str(),
            "path": shown(root, &c.path),
            "entries": c.appended,
            "already_present": c.already_present,
            "unchanged": c.unchanged,
            "torn_tail": c.torn_tail.as_ref().map(|t| json!({"offset": t.offset, "len": t.len})),
        })).collect::<Vec<_>>(),
        "skipped": report.skipped.iter().map(|s| json!({
            "path": shown(root, &s.path),
            "reason": s.reason,
        })).collect::<Vec<_>>(),
        "pruned": report.pruned.iter().map(|d| shown(root, d)).collect::<Vec<_>>(),
        "kept": report.kept.iter().map(|d| shown(root, d)).collect::<Vec<_>>(),
    })
}
