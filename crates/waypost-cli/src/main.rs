//! The `waypost` command-line tool.
//!
//! Exit codes, for every command: 0 success, 1 findings (the command
//! documents what counts), 2 usage error or unreadable input, 3 internal
//! error.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the CLI is where waypost talks to people"
)]

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// `eprintln!` for notes (what was skipped, what a profile leaves out):
/// nothing under `--quiet`. Errors, and what a command was asked to write,
/// are not notes.
macro_rules! note {
    ($($arg:tt)*) => {
        if !$crate::quiet() {
            eprintln!($($arg)*);
        }
    };
}

/// `print!` that ends the program quietly when the reader has gone away
/// (`waypost scan | head`), as a pipe's writer should, instead of
/// panicking on the broken pipe.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))
    };
}

/// `println!` that ends the program quietly when the reader has gone away.
macro_rules! outln {
    () => {
        $crate::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod commands;
mod error;

/// Writes to standard output. A closed pipe ends the program with exit 0:
/// everything the command was asked to write to disk is written before it
/// prints, and the reader wanted no more. Any other error is reported and
/// ends it with exit 2.
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {e}");
        std::process::exit(2);
    }
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--quiet`: no progress display and no notes on standard error; results
/// and errors still print, and the exit code is the same.
pub(crate) fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether a progress display may be drawn: standard error is a terminal,
/// not `--quiet`, and no `-v` log is written there (its lines would be cut
/// into by the redrawn display).
pub(crate) fn progress_shown() -> bool {
    use std::io::IsTerminal as _;
    !quiet()
        && !VERBOSE.load(std::sync::atomic::Ordering::Relaxed)
        && std::io::stderr().is_terminal()
}

use error::CommandError;

/// mimalloc rather than the system's allocator: a scan or a plan makes many
/// small allocations, and glibc's malloc grows superlinearly slower on them
/// (the benches, which use it too, show the difference).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Governance kernel for autonomous coding agents.
#[derive(Debug, Parser)]
#[command(name = "waypost", version, about, propagate_version = true)]
struct Cli {
    /// Log what waypost does to standard error (-v: steps, -vv: every
    /// decision and file).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// No progress display and no notes on standard error; results and
    /// errors still print.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// `-v` and `-vv`: tracing to standard error, plain text.
fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => return,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // waypost's own crates at the level asked for; the libraries under them
    // (a shell parser logs every token at debug) only when they warn.
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("waypost", level)
        .with_default(tracing::Level::WARN);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .finish()
        .with(filter)
        .try_init();
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate artifact files against their schemas.
    ///
    /// Each PATH is a JSON file or a folder (every *.json below it, in path
    /// order). The kind is told from the document's shape and
    /// format_version unless --kind names it. Exit: 0 all valid, 1 any
    /// invalid, 2 any unreadable.
    ///
    /// Example: waypost validate .autonomous_runs/ --format json
    Validate(commands::validate::Args),
    /// Print the JSON Schema of an artifact kind.
    ///
    /// `--format json` prints the published schema exactly; `--format text`
    /// prints an outline of its fields.
    ///
    /// Example: waypost schema plan --format text
    Schema(commands::schema::Args),
    /// Scan a repository for gaps: what is wrong with it right now.
    ///
    /// Read-only: nothing in the repository is changed, unless --write stores
    /// the report in the run directory. Exit: 0 no gaps, 1 gaps found (only
    /// certain ones count unless --all), 2 bad input.
    ///
    /// Example: waypost scan --format sarif > waypost.sarif
    Scan(commands::scan::Args),
    /// Propose a plan: what to do about the gaps, each action classified by
    /// the governance policy.
    ///
    /// Scans first unless --gaps names a report. Each gap gets a bounded
    /// action (delete a stale lock, move root clutter into an archive
    /// folder, rewrite a link to a file that moved, or describe the problem
    /// for a person), with its risk factors, cost and verdict; what does
    /// not fit the bounds is deferred with the reason. Read-only unless
    /// --write. Exit: 0 a plan was proposed, 2 bad input.
    ///
    /// Example: waypost propose --format markdown
    Propose(commands::propose::Args),
    /// Print the marker line a declared generated file carries: the digest
    /// of its inputs as they are now.
    ///
    /// A generator writes this line into its output (in a comment); `waypost
    /// scan` reports the output as stale once its inputs change. Exit 0, or
    /// 2 when OUTPUT is not declared in `[[scan.generated]]`.
    ///
    /// Example: waypost generated docs/cli.md
    Generated(commands::generated::Args),
    /// Work with the intention anchor: what the humans want.
    #[command(subcommand)]
    Anchor(commands::anchor::Command),
    /// Ask the governance policy about an action before acting.
    #[command(subcommand)]
    Policy(commands::policy::Command),
    /// Parallel runs: start one in its own worktree, list them, land them,
    /// clean up.
    #[command(subcommand)]
    Runs(commands::runs::Command),
    /// Where coordination state (claims, leases, run slots, the queue) is
    /// kept: files on this machine, or a shared PostgreSQL database.
    #[command(subcommand)]
    Store(commands::store::Command),
    /// The main job: anchor, scan, plan, governance, and (when enabled)
    /// execute and verify; a summary a person reads in ten seconds.
    ///
    /// Every step is recorded in a new run directory (anchor, gap report,
    /// plan, autopilot session; proofs, jobs and audit evidence for what
    /// ran). The autopilot is off unless --enable or `[autopilot] enabled
    /// = true`: then the loop stops after the plan and says what it would
    /// run. Only auto-approved actions and actions with a valid approval
    /// run, and only through a built-in executor (delete a stale lock,
    /// archive root clutter, apply an exact doc edit); each is judged by a
    /// rescan, not by its executor. Exit: 0 nothing to do or all done, 1
    /// gaps remain or approval needed, 2 bad input.
    ///
    /// Example: waypost run --enable
    Run(commands::run::RunArgs),
    /// Continue a run after approvals: its stored plan, exactly the
    /// actions that are auto-approved or approved as they stand.
    ///
    /// An action changed after its approval is refused. Exit codes as
    /// `waypost run`.
    ///
    /// Example: waypost autopilot --run autopilot-20261203T080000Z --enable
    Autopilot(commands::run::AutopilotArgs),
    /// Approve an action of a run, bound to its exact content.
    ///
    /// The approval names who gave it and through which channel, and counts
    /// only while the action is exactly as approved (for a landing: the same
    /// run head and base commit). Stored as approvals/ACTION_ID.json in the
    /// run directory. Exit: 0 stored, 2 no such action or bad input.
    ///
    /// Example: waypost approve action-3f2a9c41d0e8b7a6c5d4e3f2 --run fix-docs --by alice
    Approve(commands::approve::Args),
    /// Consolidate run artifacts into the SOT ledgers (dry run unless
    /// --execute).
    ///
    /// Reads every run under `.autonomous_runs/`, takes only the allowlisted
    /// sources (autopilot sessions, pilot decisions and `logs/learnings.md`,
    /// plus what the anchor's `memory_continuity.persist_to_sot` names),
    /// redacts secrets and prints exactly what would be appended to
    /// `docs/ledgers/<ledger>.jsonl`. With --execute it appends, each ledger
    /// under its lock, cutting off a torn line a killed tidy left, then
    /// prunes run directories as the retention says (never ledgers).
    /// Tidying again appends nothing. Exit: 0 done, 2 bad input (an anchor
    /// rule tidy cannot use, a ledger that does not verify).
    ///
    /// Example: waypost tidy --execute --keep-runs 10
    Tidy(commands::tidy::Args),
    /// Read the SOT ledgers: verify them, show what holds now.
    #[command(subcommand)]
    Ledger(commands::ledger::Command),
    /// List the danger fences: each known coordination race, its root cause,
    /// the correct pattern, the wrong fixes, and the helper that fences it.
    ///
    /// Example: waypost fences --format json
    Fences(commands::fences::Args),
}

/// How results are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people.
    #[default]
    Text,
    /// For programs: one JSON document on standard output.
    Json,
}

/// The clock for timestamps: `SOURCE_DATE_EPOCH` when set (reproducible
/// output), else the system clock. The CLI is the only place that reads it.
fn clock() -> Result<waypost::schemas::Clock, CommandError> {
    let epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
    waypost::schemas::Clock::from_source_date_epoch(epoch.as_deref()).map_err(|e| {
        CommandError::from(e).with_hint("unset SOURCE_DATE_EPOCH to use the system clock")
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    VERBOSE.store(cli.verbose > 0, std::sync::atomic::Ordering::Relaxed);
    let outcome = match cli.command {
        Command::Validate(args) => commands::validate::run(&args),
        Command::Schema(args) => commands::schema::run(&args),
        Command::Fences(args) => commands::fences::run(&args),
        Command::Anchor(command) => commands::anchor::run(&command),
        Command::Policy(command) => commands::policy::run(&command),
        Command::Scan(args) => commands::scan::run(&args),
        Command::Propose(args) => commands::propose::run(&args),
        Command::Generated(args) => commands::generated::run(&args),
        Command::Runs(command) => commands::runs::run(&command),
        Command::Store(command) => commands::store::run(&command),
        Command::Approve(args) => commands::approve::run(&args),
        Command::Run(args) => commands::run::run(&args),
        Command::Autopilot(args) => commands::run::autopilot(&args),
        Command::Tidy(args) => commands::tidy::run(&args),
        Command::Ledger(command) => commands::ledger::run(&command),
    };
    error::finish(outcome)
}
