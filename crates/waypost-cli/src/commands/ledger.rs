//! `waypost ledger verify|show`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;
use waypost::fences::LedgerStoreError;
use waypost::ledger::{History, Ledger, LedgerError, LedgerName};
use waypost::store::Store;

use crate::Format;
use crate::error::CommandError;

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Check the ledgers: every entry intact, in sequence, hash-chained,
    /// nothing cut off the end.
    ///
    /// Each problem names the file, the line and what is wrong (edited,
    /// deleted, reordered, moved from another ledger, truncated). A final
    /// line without its newline (an append that did not finish) is
    /// reported but is not a problem: readers ignore it and the next
    /// `tidy --execute` cuts it off. Exit: 0 every ledger verifies, 1 a
    /// problem was found, 2 a ledger cannot be read.
    ///
    /// Example: waypost ledger verify debug_log
    Verify(VerifyArgs),
    /// Print a ledger: what holds now, or with --all every entry ever
    /// appended, superseded ones marked.
    ///
    /// Exit: 0, or 2 when the ledger does not verify or cannot be read.
    ///
    /// Example: waypost ledger show architecture_decisions --all
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// The ledgers to check (build_history, debug_log,
    /// architecture_decisions, learned_rules); all when none is named.
    ledgers: Vec<String>,
    /// The repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ShowArgs {
    /// The ledger (build_history, debug_log, architecture_decisions,
    /// learned_rules).
    ledger: String,
    /// Every entry, superseded ones included; without it, what holds now.
    #[arg(long)]
    all: bool,
    /// The repository.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format: `json` prints the entries themselves.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(command: &Command) -> Result<ExitCode, CommandError> {
    match command {
        Command::Verify(args) => verify(args),
        Command::Show(args) => show(args),
    }
}

fn name(given: &str) -> Result<LedgerName, CommandError> {
    given
        .parse()
        .map_err(|e: waypost::schemas::UnknownLedger| CommandError::usage(e.to_string()))
}

fn ledger_error(err: LedgerError) -> CommandError {
    let invalid = matches!(err, LedgerError::Invalid { .. });
    let error = CommandError::bad_input(err.to_string());
    if invalid {
        error.with_hint("restore the ledger from version control; never edit it by hand")
    } else {
        error
    }
}

fn verify(args: &VerifyArgs) -> Result<ExitCode, CommandError> {
    let names: Vec<LedgerName> = if args.ledgers.is_empty() {
        LedgerName::ALL.to_vec()
    } else {
        args.ledgers
            .iter()
            .map(|n| name(n))
            .collect::<Result<_, _>>()?
    };
    let store = super::store::selected(&args.repo)?;
    if !matches!(store, Store::Files) {
        return verify_in_store(&store, args, &names);
    }
    let mut results = Vec::new();
    for name in names {
        let ledger = Ledger::new(&args.repo, name);
        results.push((ledger.clone(), ledger.verify().map_err(ledger_error)?));
    }
    let ok = results.iter().all(|(_, v)| v.is_ok());
    match args.format {
        Format::Text => {
            for (ledger, v) in &results {
                let verdict = if v.is_ok() { "ok" } else { "FAILED" };
                outln!(
                    "{verdict:<7}{} ({} entries)",
                    ledger.relative_path(),
                    v.entries
                );
                if let Some(torn) = &v.torn_tail {
                    outln!(
                        "    torn tail: {} bytes at offset {} (an append that did not finish; ignored, cut by the next tidy --execute)",
                        torn.len,
                        torn.offset
                    );
                }
                if v.view_stale {
                    outln!("    the view is behind the ledger; the next tidy --execute renders it");
                }
                for problem in &v.problems {
                    outln!(
                        "    {}:{}: {}",
                        ledger.relative_path(),
                        problem.line,
                        problem.kind
                    );
                }
            }
        }
        Format::Json => {
            let value = json!({
                "ok": ok,
                "ledgers": results.iter().map(|(ledger, v)| json!({
                    "ledger": ledger.name().as_str(),
                    "path": ledger.relative_path(),
                    "ok": v.is_ok(),
                    "entries": v.entries,
                    "torn_tail": v.torn_tail.as_ref().map(|t| json!({"offset": t.offset, "len": t.len})),
                    "view_stale": v.view_stale,
                    "problems": v.problems.iter().map(|p| json!({
                        "line": p.line,
                        "message": p.kind.to_string(),
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            });
            outln!(
                "{}",
                serde_json::to_string_pretty(&value).context("serialize")?
            );
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `verify` of ledgers kept in a shared store: the store checks the chain
/// of every entry as it reads them.
fn verify_in_store(
    store: &Store,
    args: &VerifyArgs,
    names: &[LedgerName],
) -> Result<ExitCode, CommandError> {
    let ledgers = store.ledgers(&args.repo);
    let mut results = Vec::new();
    for name in names {
        results.push(match ledgers.entries(*name) {
            Ok(entries) => (*name, Ok(entries.len())),
            Err(e @ LedgerStoreError::Invalid { .. }) => (*name, Err(e.to_string())),
            Err(e) => return Err(CommandError::bad_input(e.to_string())),
        });
    }
    let ok = results.iter().all(|(_, r)| r.is_ok());
    match args.format {
        Format::Text => {
            println!("ledgers in {}", store.describe());
            for (name, result) in &results {
                match result {
                    Ok(entries) => println!("{:<7}{name} ({entries} entries)", "ok"),
                    Err(problem) => println!("{:<7}{name}\n    {problem}", "FAILED"),
                }
            }
        }
        Format::Json => {
            let value = json!({
                "ok": ok,
                "store": store.describe(),
                "ledgers": results.iter().map(|(name, r)| json!({
                    "ledger": name.as_str(),
                    "ok": r.is_ok(),
                    "entries": r.as_ref().ok(),
                    "problems": r.as_ref().err().map(|p| vec![json!({"message": p})]).unwrap_or_default(),
                })).collect::<Vec<_>>(),
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&value).context("serialize")?
            );
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn show(args: &ShowArgs) -> Result<ExitCode, CommandError> {
    let ledger = Ledger::new(&args.repo, name(&args.ledger)?);
    let store = super::store::selected(&args.repo)?;
    let (history, place) = match &store {
        Store::Files => (ledger.read().map_err(ledger_error)?, ledger.relative_path()),
        shared => (
            History::from_entries(
                shared
                    .ledgers(&args.repo)
                    .entries(ledger.name())
                    .map_err(|e| CommandError::bad_input(e.to_string()))?,
            ),
            format!("{} in {}", ledger.name(), shared.describe()),
        ),
    };
    let states: Vec<_> = history
        .states()
        .into_iter()
        .filter(|s| args.all || s.is_current())
        .collect();
    match args.format {
        Format::Text => {
            outln!(
                "{}: {} of {} entries{}",
                place,
                states.len(),
                history.entries().len(),
                if args.all { "" } else { " hold now" }
            );
            for state in &states {
                let entry = state.entry;
                out!(
                    "#{} {} {} {}: {}",
                    entry.sequence,
                    entry.entry_id,
                    state.effective_status(),
                    entry.kind,
                    entry.summary
                );
                match state.superseded_by {
                    Some(by) => outln!(" (superseded by {by})"),
                    None => outln!(),
                }
            }
            if let Some(torn) = history.torn_tail() {
                outln!(
                    "torn tail: {} bytes at offset {} ignored",
                    torn.len,
                    torn.offset
                );
            }
        }
        Format::Json => {
            let value = json!({
                "ledger": ledger.name().as_str(),
                "path": place,
                "entries": states.iter().map(|s| {
                    let mut v = serde_json::to_value(s.entry).unwrap_or_default();
                    v["effective_status"] = json!(s.effective_status());
                    if let Some(by) = s.superseded_by {
                        v["superseded_by"] = json!(by);
                    }
                    v
                }).collect::<Vec<_>>(),
            });
            outln!(
                "{}",
                serde_json::to_string_pretty(&value).context("serialize")?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
