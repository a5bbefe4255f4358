//! # waypost-ledger
//!
//! Source-of-truth ledgers, the project's permanent memory, and tidy, the
//! only way anything gets into them.
//!
//! ## Files
//!
//! Each ledger ([`LedgerName`]: `build_history`, `debug_log`,
//! `architecture_decisions`, `learned_rules`) lives in the repository under
//! [`LEDGER_DIR`] (`docs/ledgers/`):
//!
//! - `<name>.jsonl`: the record. One [`LedgerEntryV1`] per line, compact
//!   JSON, appended and never rewritten. Each entry carries a content-derived
//!   `entry_id` (what it says and which run and file it came from), its
//!   `source` (project, family, run, repository-relative file and that file's
//!   SHA-256), a `status`, its `sequence` from 1, the previous entry's hash in
//!   `prev_hash` (the first entry has the genesis hash, 64 zeros) and its own
//!   `hash` over everything else.
//! - `<name>.md`: a view rendered from the record after every append, for
//!   people. It also records the entry count and head hash, so cutting
//!   entries off the end of the record is detected too.
//!
//! The append lock is `.autonomous_runs/ledgers/<name>.lock` (an OS lock
//! through [`waypost_fences::LockFile`], beside the run artifacts that git
//! ignores, never removed).
//!
//! ## Reading
//!
//! [`Ledger::verify`] checks every line and names the file, the line and
//! what is wrong (edited, deleted, reordered, moved from another ledger,
//! truncated); a final line without its newline is a torn tail, reported
//! and ignored. [`Ledger::read`] gives the verified [`History`]:
//! [`History::entries`] is everything that ever held, [`History::current`]
//! what holds now. Decisions change by new entries: an entry about the same
//! subject as an earlier one names it in `supersedes`, and the earlier one
//! then reads as superseded.
//!
//! ## Writing
//!
//! Only [`tidy::execute`] appends. It reads the run directories
//! (`.autonomous_runs/<project>/runs/<family>/<run_id>/`, through
//! [`RunLayout`](waypost_schemas::RunLayout)), takes only the sources in the
//! [`Allowlist`] (defaults plus the anchor's
//! `memory_continuity.persist_to_sot`), redacts secrets, and appends each
//! ledger's new entries under its lock, one `write` and one `fsync` per
//! line, after cutting off a torn tail a killed tidy left. Entries already
//! present are skipped by id, so tidying again adds nothing. Retention
//! prunes run directories, never ledgers. [`tidy::plan`] says exactly what
//! would be appended without writing.
//!
//! ```
//! use waypost_ledger::tidy::{self, Allowlist, Retention, TidyOptions};
//! use waypost_ledger::{Ledger, LedgerName};
//! use waypost_schemas::{RunLayout, Timestamp};
//!
//! let repo = tempfile::tempdir()?;
//! let run = RunLayout::new(repo.path(), "demo", "build-20260101T000000Z")?;
//! std::fs::create_dir_all(run.learnings().parent().expect("logs/"))?;
//! std::fs::write(run.learnings(), "- run cargo fmt before clippy\n")?;
//!
//! let options = TidyOptions {
//!     allowlist: Allowlist::defaults(),
//!     project: None,
//!     run: None,
//!     retention: Retention::KeepAll,
//!     now: Timestamp::parse("2026-01-01T00:00:00Z")?,
//! };
//! assert_eq!(tidy::plan(repo.path(), &options)?.appended(), 1);
//! tidy::execute(repo.path(), &options)?;
//! assert_eq!(tidy::execute(repo.path(), &options)?.appended(), 0);
//!
//! let rules = Ledger::new(repo.path(), LedgerName::LearnedRules).read()?;
//! assert_eq!(rules.current()[0].payload["text"], "run cargo fmt before clippy");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ledger;
pub mod tidy;
mod view;

pub use ledger::{
    EntryState, FileLedgerStore, History, LEDGER_DIR, Ledger, LedgerError, MAX_LEDGER_BYTES,
    Problem, ProblemKind, Verification,
};
pub use tidy::{Allowlist, Retention, Source, TidyError, TidyOptions, TidyReport};
pub use waypost_fences::TornTail;
pub use waypost_schemas::{EntrySource, EntryStatus, LedgerEntryV1, LedgerName};
