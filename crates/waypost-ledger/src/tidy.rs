//! Tidy: consolidate run-local artifacts into the ledgers.
//!
//! [`plan`] reads every run under `.autonomous_runs/` (through
//! [`RunLayout::discover`]) and says exactly which entries would be
//! appended to which ledger; [`execute`] appends them, each ledger under
//! its lock, then prunes run directories as the retention says. Only the
//! sources in the [`Allowlist`] are read; each [`Source`] goes to one
//! ledger ([`Source::ledger`]).

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use waypost_fences::{LedgerStore, TornTail};
use waypost_schemas::io::{Links, ReadError, read_file};
use waypost_schemas::{
    ArtifactKind, EntrySource, EntryStatus, LedgerEntryV1, LedgerName, MemoryContinuity, RunFile,
    RunLayout, Timestamp, canonical, redact, redact_json, validate,
};

use crate::ledger::{Chained, Draft, History, Ledger, LedgerError, chain};

/// Largest run-local file tidy reads: 16 MiB.
pub const MAX_SOURCE_BYTES: u64 = 16 * 1024 * 1024;

/// The name of the learnings source in `persist_to_sot` and in an entry's
/// `kind`.
pub const LEARNING: &str = "learning";

/// The key of `memory_continuity.retention_rules` that says how many run
/// directories of each family to keep: `"keep_last 10"` (or just `"10"`).
pub const RUNS_RETENTION_KEY: &str = "runs";

/// What tidy can read from a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Source {
    /// An artifact of this kind.
    Artifact(ArtifactKind),
    /// `logs/learnings.md`: one learned rule per line.
    Learnings,
}

impl Source {
    /// Every source that goes to a ledger, in the order tidy reads a run.
    pub fn all() -> Vec<Source> {
        ArtifactKind::ALL
            .into_iter()
            .map(Source::Artifact)
            .chain([Source::Learnings])
            .filter(|s| s.ledger().is_some())
            .collect()
    }

    /// The name used in `persist_to_sot` and in an entry's `kind`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Artifact(kind) => kind.name(),
            Self::Learnings => LEARNING,
        }
    }

    /// The ledger this source goes to; `None` for kinds that never become
    /// project memory (claims, run records, gap baselines, ledger entries,
    /// contract and job snapshots: their history is in their own files).
    pub fn ledger(self) -> Option<LedgerName> {
        Some(match self {
            Self::Artifact(ArtifactKind::AutopilotSessionV1 | ArtifactKind::PlanProposalV1) => {
                LedgerName::BuildHistory
            }
            Self::Artifact(
                ArtifactKind::PilotDecisionV1
                | ArtifactKind::AuditEvidenceV1
                | ArtifactKind::GapReportV1,
            ) => LedgerName::DebugLog,
            Self::Artifact(ArtifactKind::IntentionAnchorV2 | ArtifactKind::ApprovalRecordV1) => {
                LedgerName::ArchitectureDecisions
            }
            Self::Learnings => LedgerName::LearnedRules,
            Self::Artifact(_) => return None,
        })
    }

    /// What entries from it record: decisions are accepted (and replace
    /// earlier ones about the same subject), everything else is a fact.
    fn status(self) -> EntryStatus {
        match self {
            Self::Artifact(ArtifactKind::IntentionAnchorV2 | ArtifactKind::ApprovalRecordV1)
            | Self::Learnings => EntryStatus::Accepted,
            Self::Artifact(_) => EntryStatus::Recorded,
        }
    }
}

/// The sources tidy reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowlist {
    sources: BTreeSet<Source>,
}

/// The sources allowed without being named: what a run did
/// (`autopilot_session_v1`), what went wrong (`pilot_decision_v1`) and what
/// it learnt (`learning`).
pub const DEFAULT_SOURCES: [Source; 3] = [
    Source::Artifact(ArtifactKind::AutopilotSessionV1),
    Source::Artifact(ArtifactKind::PilotDecisionV1),
    Source::Learnings,
];

impl Allowlist {
    /// [`DEFAULT_SOURCES`].
    pub fn defaults() -> Self {
        Self {
            sources: DEFAULT_SOURCES.into_iter().collect(),
        }
    }

    /// The defaults plus what the anchor's `memory_continuity.persist_to_sot`
    /// names: a ledger (`build_history`: every source of that ledger), an
    /// artifact kind (`gap_report_v1`, `gaps`) or `learning`.
    pub fn from_anchor(memory: Option<&MemoryContinuity>) -> Result<Self, TidyError> {
        let mut list = Self::defaults();
        for name in memory.map(|m| m.persist_to_sot.as_slice()).unwrap_or(&[]) {
            list.allow(name)?;
        }
        Ok(list)
    }

    /// Allows what `name` names (see [`Allowlist::from_anchor`]).
    pub fn allow(&mut self, name: &str) -> Result<(), TidyError> {
        if let Ok(ledger) = name.parse::<LedgerName>() {
            self.sources.extend(
                Source::all()
                    .into_iter()
                    .filter(|s| s.ledger() == Some(ledger)),
            );
            return Ok(());
        }
        if name.trim() == LEARNING {
            self.sources.insert(Source::Learnings);
            return Ok(());
        }
        match name.parse::<ArtifactKind>() {
            Ok(kind) if Source::Artifact(kind).ledger().is_some() => {
                self.sources.insert(Source::Artifact(kind));
                Ok(())
            }
            Ok(kind) => Err(TidyError::NotPersistable {
                name: name.to_owned(),
                kind,
            }),
            Err(_) => Err(TidyError::UnknownPersistName {
                name: name.to_owned(),
            }),
        }
    }

    /// The allowed sources, in the order tidy reads them.
    pub fn sources(&self) -> impl Iterator<Item = Source> + '_ {
        self.sources.iter().copied()
    }

    /// Whether `source` is allowed.
    pub fn allows(&self, source: Source) -> bool {
        self.sources.contains(&source)
    }
}

/// How many run directories tidy keeps after it has consolidated them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retention {
    /// Keep every run directory (the default).
    #[default]
    KeepAll,
    /// Keep the newest N run directories of each family (by run id, whose
    /// timestamp suffix sorts by time); prune the older ones.
    KeepLast(usize),
}

impl Retention {
    /// `memory_continuity.retention_rules.runs` of the anchor
    /// (`"keep_last N"`, `"keep N"` or `"N"`), else [`Retention::KeepAll`].
    pub fn from_anchor(memory: Option<&MemoryContinuity>) -> Result<Self, TidyError> {
        let Some(rule) = memory.and_then(|m| m.retention_rules.get(RUNS_RETENTION_KEY)) else {
            return Ok(Self::KeepAll);
        };
        let number = rule
            .trim()
            .trim_start_matches("keep_last")
            .trim_start_matches("keep")
            .trim();
        number
            .parse()
            .map(Self::KeepLast)
            .map_err(|_| TidyError::BadRetention { rule: rule.clone() })
    }
}

/// What tidy is asked to do.
#[derive(Clone, Debug)]
pub struct TidyOptions {
    /// The sources to read.
    pub allowlist: Allowlist,
    /// Only this project's runs; all projects when `None`.
    pub project: Option<String>,
    /// Only the run with this id (the autopilot consolidating the run it
    /// just finished); every run when `None`.
    pub run: Option<String>,
    /// Which run directories to prune after a successful execute.
    pub retention: Retention,
    /// The time recorded in new entries.
    pub now: Timestamp,
}

/// Tidy could not plan or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TidyError {
    /// `persist_to_sot` names nothing tidy knows.
    #[error(
        "memory_continuity.persist_to_sot names `{name}`, which is no ledger, artifact kind or `learning`"
    )]
    UnknownPersistName {
        /// The name.
        name: String,
    },
    /// `persist_to_sot` names a kind that never goes to a ledger.
    #[error("memory_continuity.persist_to_sot names `{name}`: {kind} never goes to a ledger")]
    NotPersistable {
        /// The name.
        name: String,
        /// The kind it names.
        kind: ArtifactKind,
    },
    /// The retention rule is not a count.
    #[error("memory_continuity.retention_rules.runs is `{rule}`; expected `keep_last N`")]
    BadRetention {
        /// The rule as written.
        rule: String,
    },
    /// A ledger could not be read or appended to.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// A ledger kept in another store could not be read or appended to.
    #[error(transparent)]
    Store(#[from] waypost_fences::LedgerStoreError),
    /// The run folders could not be read or pruned.
    #[error("{}: {source}", path.display())]
    Io {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// What tidy does (or did) to one ledger.
#[derive(Clone, Debug, PartialEq)]
pub struct LedgerChange {
    /// Which ledger.
    pub ledger: LedgerName,
    /// Its file (for a ledger kept in another store, its name).
    pub path: PathBuf,
    /// The entries appended (or, in a plan, that would be), in order.
    pub appended: Vec<LedgerEntryV1>,
    /// Entries already in the ledger (tidied before).
    pub already_present: usize,
    /// Decisions whose current entry already says the same.
    pub unchanged: usize,
    /// A torn tail cut off first (in a plan: that would be cut).
    pub torn_tail: Option<TornTail>,
}

/// A run-local file tidy did not take, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// What tidy does (a plan) or did (after execute).
#[derive(Clone, Debug, PartialEq)]
pub struct TidyReport {
    /// Whether anything was written.
    pub executed: bool,
    /// Runs read.
    pub runs: usize,
    /// One change per ledger that has an allowed source, in
    /// [`LedgerName::ALL`] order.
    pub ledgers: Vec<LedgerChange>,
    /// Files not taken.
    pub skipped: Vec<Skipped>,
    /// Run directories pruned (in a plan: that would be).
    pub pruned: Vec<PathBuf>,
    /// Run directories kept despite the retention because they hold a file
    /// tidy skipped.
    pub kept: Vec<PathBuf>,
}

impl TidyReport {
    /// Entries appended (or that would be) over every ledger.
    pub fn appended(&self) -> usize {
        self.ledgers.iter().map(|l| l.appended.len()).sum()
    }
}

/// What tidy read from the runs.
struct Collected {
    runs: Vec<RunLayout>,
    drafts: BTreeMap<LedgerName, Vec<Draft>>,
    skipped: Vec<Skipped>,
}

/// Says what [`execute`] would append, without writing anything.
pub fn plan(root: &Path, options: &TidyOptions) -> Result<TidyReport, TidyError> {
    let collected = collect(root, options)?;
    let mut ledgers = Vec::new();
    for (name, drafts) in &collected.drafts {
        let ledger = Ledger::new(root, *name);
        let history = ledger.read()?;
        let chained = chain(&history, drafts, &options.now);
        ledgers.push(LedgerChange {
            ledger: *name,
            path: ledger.path(),
            appended: chained.entries,
            already_present: chained.already_present,
            unchanged: chained.unchanged,
            torn_tail: history.torn_tail().cloned(),
        });
    }
    let (pruned, kept) = prunable(&collected, options.retention);
    Ok(TidyReport {
        executed: false,
        runs: collected.runs.len(),
        ledgers,
        skipped: collected.skipped,
        pruned,
        kept,
    })
}

// Invariant: LEDGER-001 Tidying twice adds nothing the first tidy did not.
// Category: determinism
// Why: tidy is re-run after crashes, by hand and by schedulers; project memory that
//      grows with every run of the tool instead of every run of an agent is noise.
// Enforced by: entry ids derive from what an entry says and where it came from
//      (LedgerEntryV1::derive_entry_id), and chain() skips every id the ledger holds,
//      deciding under the ledger's lock.
/// Appends what [`plan`] says, each ledger under its lock (a torn tail a
/// killed tidy left is cut first and reported), then prunes run directories
/// as `options.retention` says. Ledgers are never pruned.
pub fn execute(root: &Path, options: &TidyOptions) -> Result<TidyReport, TidyError> {
    let collected = collect(root, options)?;
    let mut ledgers = Vec::new();
    for (name, drafts) in &collected.drafts {
        let ledger = Ledger::new(root, *name);
        let appended = ledger.append(drafts, &options.now)?;
        ledgers.push(LedgerChange {
            ledger: *name,
            path: ledger.path(),
            appended: appended.chained.entries,
            already_present: appended.chained.already_present,
            unchanged: appended.chained.unchanged,
            torn_tail: appended.repaired,
        });
    }
    prune(collected, ledgers, options)
}

/// [`plan`] against the ledgers of `store` (a shared database) instead of
/// the repository's files. Each change's `path` is the ledger's name.
pub fn plan_in(
    store: &dyn LedgerStore,
    root: &Path,
    options: &TidyOptions,
) -> Result<TidyReport, TidyError> {
    let collected = collect(root, options)?;
    let mut ledgers = Vec::new();
    for (name, drafts) in &collected.drafts {
        let history = History::from_entries(store.entries(*name)?);
        let chained = chain(&history, drafts, &options.now);
        ledgers.push(store_change(*name, chained));
    }
    let (pruned, kept) = prunable(&collected, options.retention);
    Ok(TidyReport {
        executed: false,
        runs: collected.runs.len(),
        ledgers,
        skipped: collected.skipped,
        pruned,
        kept,
    })
}

/// [`execute`] appending to the ledgers of `store` (a shared database):
/// each ledger's entries are chained and appended in one exclusive hold of
/// that ledger (FENCE-010), then run directories are pruned as
/// `options.retention` says. Each change's `path` is the ledger's name.
pub fn execute_in(
    store: &dyn LedgerStore,
    root: &Path,
    options: &TidyOptions,
) -> Result<TidyReport, TidyError> {
    let collected = collect(root, options)?;
    let mut ledgers = Vec::new();
    for (name, drafts) in &collected.drafts {
        let mut chained = Chained::default();
        store.append_chained(*name, &mut |entries| {
            chained = chain(
                &History::from_entries(entries.to_vec()),
                drafts,
                &options.now,
            );
            chained.entries.clone()
        })?;
        ledgers.push(store_change(*name, chained));
    }
    prune(collected, ledgers, options)
}

fn store_change(ledger: LedgerName, chained: Chained) -> LedgerChange {
    LedgerChange {
        ledger,
        path: PathBuf::from(ledger.as_str()),
        appended: chained.entries,
        already_present: chained.already_present,
        unchanged: chained.unchanged,
        torn_tail: None,
    }
}

/// Prunes run directories after every ledger append succeeded.
fn prune(
    collected: Collected,
    ledgers: Vec<LedgerChange>,
    options: &TidyOptions,
) -> Result<TidyReport, TidyError> {
    let (pruned, kept) = prunable(&collected, options.retention);
    // Invariant: LEDGER-004 Retention prunes run directories, never ledgers.
    // Category: filesystem
    // Why: run directories are scratch; the ledgers are the permanent memory they were
    //      consolidated into.
    // Enforced by: execute removes only RunLayout::run_dir() paths, after every ledger
    //      append succeeded, and keeps runs holding a file tidy skipped.
    for dir in &pruned {
        tracing::debug!(dir = %dir.display(), "pruning a run directory");
        fs::remove_dir_all(dir).map_err(|source| TidyError::Io {
            path: dir.clone(),
            source,
        })?;
    }
    Ok(TidyReport {
        executed: true,
        runs: collected.runs.len(),
        ledgers,
        skipped: collected.skipped,
        pruned,
        kept,
    })
}

/// The run directories the retention prunes, and those it would prune but
/// keeps because they hold a skipped file.
fn prunable(collected: &Collected, retention: Retention) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let Retention::KeepLast(keep) = retention else {
        return (Vec::new(), Vec::new());
    };
    let mut by_family: BTreeMap<(&str, &str), Vec<&RunLayout>> = BTreeMap::new();
    for run in &collected.runs {
        by_family
            .entry((run.project_id(), run.family()))
            .or_default()
            .push(run);
    }
    let mut pruned = Vec::new();
    let mut kept = Vec::new();
    for runs in by_family.values() {
        // `runs` is sorted by run id (RunLayout::discover).
        let old = runs.len().saturating_sub(keep);
        for run in &runs[..old] {
            let dir = run.run_dir();
            if collected.skipped.iter().any(|s| s.path.starts_with(&dir)) {
                kept.push(dir);
            } else {
                pruned.push(dir);
            }
        }
    }
    (pruned, kept)
}

fn collect(root: &Path, options: &TidyOptions) -> Result<Collected, TidyError> {
    let runs: Vec<RunLayout> = RunLayout::discover(root)
        .map_err(|source| TidyError::Io {
            path: root.join(waypost_schemas::layout::RUNS_ROOT),
            source,
        })?
        .into_iter()
        .filter(|r| {
            options
                .project
                .as_deref()
                .is_none_or(|p| p == r.project_id())
                && options.run.as_deref().is_none_or(|id| id == r.run_id())
        })
        .collect();
    // Every allowlisted ledger that exists is looked at (a torn tail is cut
    // even with nothing to add); one that does not exist is created only
    // when an entry goes in.
    let mut drafts: BTreeMap<LedgerName, Vec<Draft>> = BTreeMap::new();
    for source in options.allowlist.sources() {
        if let Some(ledger) = source.ledger()
            && std::fs::symlink_metadata(Ledger::new(root, ledger).path()).is_ok()
        {
            drafts.entry(ledger).or_default();
        }
    }
    let mut skipped = Vec::new();
    for run in &runs {
        for source in options.allowlist.sources() {
            let Some(ledger) = source.ledger() else {
                continue;
            };
            for (path, subject) in files_of(run, source)? {
                let bytes = match read_file(&path, MAX_SOURCE_BYTES, Links::Refuse) {
                    Ok(bytes) => bytes,
                    Err(ReadError::Io { source, .. })
                        if source.kind() == io::ErrorKind::NotFound =>
                    {
                        continue;
                    }
                    Err(e) => {
                        skipped.push(Skipped {
                            path,
                            reason: e.to_string(),
                        });
                        continue;
                    }
                };
                let entry_source = EntrySource {
                    project_id: run.project_id().to_owned(),
                    family: run.family().to_owned(),
                    run_id: run.run_id().to_owned(),
                    artifact: relative(root, &path),
                    artifact_sha256: canonical::sha256_hex(&bytes),
                };
                match drafts_of(source, ledger, subject, entry_source, &bytes) {
                    Ok(new) => drafts.entry(ledger).or_default().extend(new),
                    Err(reason) => skipped.push(Skipped { path, reason }),
                }
            }
        }
    }
    for skip in &skipped {
        tracing::debug!(path = %skip.path.display(), reason = %skip.reason, "not taken");
    }
    for (ledger, drafts) in &drafts {
        tracing::debug!(
            ledger = ledger.as_str(),
            drafts = drafts.len(),
            "entries read from the runs"
        );
    }
    tracing::info!(
        runs = runs.len(),
        ledgers = drafts.len(),
        skipped = skipped.len(),
        "runs read for the ledgers"
    );
    Ok(Collected {
        runs,
        drafts,
        skipped,
    })
}

/// The files of `source` in `run`, each with the subject its entry is
/// about; paths come from `RunLayout`.
fn files_of(run: &RunLayout, source: Source) -> Result<Vec<(PathBuf, Option<String>)>, TidyError> {
    let kind = match source {
        Source::Learnings => return Ok(vec![(run.learnings(), None)]),
        Source::Artifact(kind) => kind,
    };
    let subject_of = |id: Option<&str>| match kind {
        ArtifactKind::IntentionAnchorV2 => Some("intention_anchor".to_owned()),
        ArtifactKind::ApprovalRecordV1 => id.map(|id| format!("approval:{id}")),
        _ => None,
    };
    match kind.run_file() {
        RunFile::OnePerRun(_) => Ok(run
            .run_file(kind)
            .map(|path| vec![(path, subject_of(None))])
            .unwrap_or_default()),
        RunFile::OnePerId { dir, prefix, .. } => {
            let mut out = Vec::new();
            for id in ids_in(&run.dir(dir), prefix)? {
                if let Some(Ok(path)) = run.id_file(kind, &id) {
                    out.push((path, subject_of(Some(&id))));
                }
            }
            Ok(out)
        }
        _ => Ok(Vec::new()),
    }
}

/// The ids of the `<prefix><id>.json` files in `dir` (sidecars left out),
/// sorted; none when `dir` does not exist.
fn ids_in(dir: &Path, prefix: &str) -> Result<Vec<String>, TidyError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(TidyError::Io {
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut ids = Vec::new();
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name.ends_with(".waypost.json") {
            continue;
        }
        if let Some(id) = name
            .strip_prefix(prefix)
            .and_then(|n| n.strip_suffix(".json"))
        {
            ids.push(id.to_owned());
        }
    }
    ids.sort();
    Ok(ids)
}

/// `path` relative to `root`, `/`-separated.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Longest summary kept, in characters.
const SUMMARY_CHARS: usize = 200;

fn one_line(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    if line.chars().count() > SUMMARY_CHARS {
        let cut: String = line.chars().take(SUMMARY_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

// Invariant: LEDGER-005 No secret reaches a ledger.
// Category: security
// Why: ledgers are committed and shared; a token copied from a run's log into one
//      lives in the repository's history for ever.
// Enforced by: drafts_of passes every payload through redact_json and every summary
//      through redact before an entry is made.
/// The drafts one file gives; `Err` says why it is skipped.
fn drafts_of(
    source: Source,
    ledger: LedgerName,
    subject: Option<String>,
    entry_source: EntrySource,
    bytes: &[u8],
) -> Result<Vec<Draft>, String> {
    let draft = |summary: String, payload: serde_json::Value| Draft {
        ledger,
        kind: source.name().to_owned(),
        subject: subject.clone(),
        status: source.status(),
        source: entry_source.clone(),
        summary: one_line(&redact(&summary)),
        payload,
    };
    match source {
        Source::Learnings => {
            let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
            Ok(text
                .lines()
                .map(|l| l.trim().trim_start_matches(['-', '*']).trim())
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| {
                    let text = redact(l).into_owned();
                    draft(text.clone(), serde_json::json!({ "text": text }))
                })
                .collect())
        }
        Source::Artifact(kind) => {
            let mut value: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
            validate::validate_value(kind, &value)
                .map_err(|e| format!("not a valid {kind}: {e}"))?;
            let id =
                canonical::content_id(kind.id_prefix(), &canonical::canonical_bytes(kind, &value));
            redact_json(&mut value);
            Ok(vec![draft(
                format!("{kind} {id} of run {}", entry_source.run_id),
                value,
            )])
        }
    }
}
