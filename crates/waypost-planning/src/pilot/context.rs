//! Context assembly: everything the pilot knows about a run, rebuilt from
//! the run directory on every call.
//!
//! Nothing is cached between calls. The task states come from the evidence
//! the orchestrator wrote under `tasks/<task_key>/` (see
//! [`TaskFile`](waypost_schemas::layout::TaskFile)), the learnings from
//! `logs/learnings.md`, and what earlier calls decided (retries spent,
//! tasks skipped or held, failure signatures) from the decisions under
//! `pilot/`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use waypost_schemas::io::{Links, LoadError, ReadError, open_regular, read_artifact};
use waypost_schemas::layout::{IdKind, RunDir, TaskFile, check_id};
use waypost_schemas::{PilotDecisionV1, RunLayout, Timestamp};

use super::budget::RetryBudget;
use super::graph::TaskGraph;

/// Largest QA verdict, summary or learnings file read whole; a larger one
/// is cut from the middle like a log.
const MAX_NOTE_BYTES: u64 = 64 * 1024;

/// What the pilot is told about a run when a batch ended.
///
/// Built by [`assemble`] from the run directory (or by hand, for an
/// embedder that keeps its state elsewhere and for tests); handed to an
/// [`Advisor`](super::Advisor).
#[derive(Clone, Debug)]
pub struct PilotContext<'g> {
    /// The task graph of the run.
    pub graph: &'g TaskGraph,
    /// The project.
    pub project_id: String,
    /// The run.
    pub run_id: String,
    /// The batch that ended.
    pub batch_id: String,
    /// The time recorded in the decision.
    pub decided_at: Timestamp,
    /// How many tasks may share a batch.
    pub concurrency: usize,
    /// Tasks whose verification evidence says they are done.
    pub done: BTreeSet<String>,
    /// Tasks of the batch that ended whose evidence does not say done,
    /// sorted by key.
    pub failed: Vec<FailedTask>,
    /// Every task still to run: the failed ones and those not yet run.
    pub pending: BTreeSet<String>,
    /// Tasks an earlier decision skipped.
    pub skipped: BTreeSet<String>,
    /// Tasks an earlier decision left waiting for a human.
    pub held: BTreeSet<String>,
    /// What the run has learnt so far: `logs/learnings.md` line by line,
    /// then the learnings of earlier decisions.
    pub learnings: Vec<String>,
    /// Retries left, per task and for the run.
    pub budget: RetryBudget,
}

impl<'g> PilotContext<'g> {
    /// A context in which every task of `graph` is pending and nothing has
    /// failed yet; fill the fields to describe a run.
    pub fn new(
        graph: &'g TaskGraph,
        project_id: &str,
        run_id: &str,
        batch_id: &str,
        decided_at: Timestamp,
        concurrency: usize,
        budget: RetryBudget,
    ) -> Self {
        Self {
            graph,
            project_id: project_id.to_owned(),
            run_id: run_id.to_owned(),
            batch_id: batch_id.to_owned(),
            decided_at,
            concurrency,
            done: BTreeSet::new(),
            failed: Vec::new(),
            pending: graph.keys().map(str::to_owned).collect(),
            skipped: BTreeSet::new(),
            held: BTreeSet::new(),
            learnings: Vec::new(),
            budget,
        }
    }

    /// Pending tasks that are not failed ones: the tasks that remain.
    pub fn remaining(&self) -> impl Iterator<Item = &str> {
        let failed: BTreeSet<&str> = self.failed.iter().map(|f| f.key.as_str()).collect();
        self.pending
            .iter()
            .map(String::as_str)
            .filter(move |k| !failed.contains(k))
    }

    /// The failed task `key`, if it failed.
    pub fn failure(&self, key: &str) -> Option<&FailedTask> {
        self.failed
            .binary_search_by(|f| f.key.as_str().cmp(key))
            .ok()
            .map(|i| &self.failed[i])
    }
}

/// A task of the batch that ended that is not done, with its evidence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailedTask {
    /// The task.
    pub key: String,
    /// Its verification log, cut from the middle when oversized; `None`
    /// when there is none.
    pub verification_log: Option<LogText>,
    /// The exit status the log ends with (`exit status: N`), if any.
    pub exit_status: Option<i32>,
    /// The reviewer's verdict, if any.
    pub qa_verdict: Option<QaVerdict>,
    /// The agent's own summary: context only, never evidence.
    pub summary: Option<String>,
    /// Times the task has run, this attempt included.
    pub attempts: u32,
    /// Failure signatures recorded for the task by earlier decisions.
    pub previous_signatures: BTreeSet<String>,
}

/// A log as the pilot reads it: whole, or its start and end around a
/// marker when it is larger than the limit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogText {
    /// The text (with the marker where bytes were cut).
    pub text: String,
    /// How many bytes were cut from the middle (0 when whole).
    pub cut_bytes: u64,
}

/// A reviewer's verdict: `pass` or `fail` on the first line, notes below.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QaVerdict {
    /// Whether the first line says `pass`.
    pub passed: bool,
    /// The lines below it.
    pub notes: String,
}

/// Evidence could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// A task's evidence or the learnings file could not be read.
    #[error("cannot read pilot evidence: {0}")]
    Read(#[from] ReadError),
    /// An earlier decision under `pilot/` could not be loaded.
    #[error("cannot load an earlier pilot decision: {0}")]
    Decision(#[from] LoadError),
    /// The `pilot/` folder could not be listed.
    #[error("cannot list {}: {source}", path.display())]
    List {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A task key in the batch cannot name an evidence folder.
    #[error("{0}")]
    Id(#[from] waypost_schemas::layout::IdError),
}

/// The marker that replaces the middle of an oversized log.
pub fn cut_marker(cut_bytes: u64) -> String {
    format!("\n[... {cut_bytes} bytes cut from the middle ...]\n")
}

/// `text` whole when it is at most `max_bytes` long; otherwise its first
/// and last `max_bytes / 2` bytes (on character boundaries) around
/// [`cut_marker`], so both the command that ran and how it ended stay in.
pub fn cut_middle(text: &str, max_bytes: usize) -> LogText {
    if text.len() <= max_bytes {
        return LogText {
            text: text.to_owned(),
            cut_bytes: 0,
        };
    }
    let half = max_bytes / 2;
    let head_end = text.floor_char_boundary(half);
    let tail_start = text.ceil_char_boundary(text.len() - half);
    let cut = (tail_start - head_end) as u64;
    LogText {
        text: format!(
            "{}{}{}",
            &text[..head_end],
            cut_marker(cut),
            &text[tail_start..]
        ),
        cut_bytes: cut,
    }
}

/// Reads `path` as a log of at most `max_bytes`: a larger file is read only
/// at its start and end (never whole) and cut from the middle. `None` when
/// the file does not exist; invalid UTF-8 is replaced.
pub fn read_log(path: &Path, max_bytes: u64) -> Result<Option<LogText>, ReadError> {
    let (mut file, size) = match open_regular(path, Links::Refuse) {
        Ok(opened) => opened,
        Err(ReadError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let io_error = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    if size <= max_bytes {
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.take(max_bytes)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        return Ok(Some(LogText {
            text: String::from_utf8_lossy(&bytes).into_owned(),
            cut_bytes: 0,
        }));
    }
    let half = max_bytes / 2;
    let mut head = Vec::with_capacity(usize::try_from(half).unwrap_or(0));
    (&mut file)
        .take(half)
        .read_to_end(&mut head)
        .map_err(io_error)?;
    file.seek(SeekFrom::Start(size - half)).map_err(io_error)?;
    let mut tail = Vec::with_capacity(usize::try_from(half).unwrap_or(0));
    file.take(half).read_to_end(&mut tail).map_err(io_error)?;
    // Whole characters only: drop a sequence cut at the end of the head and
    // continuation bytes at the start of the tail.
    let head = whole_prefix(&head);
    let skip = tail.iter().take_while(|&&b| (b & 0xC0) == 0x80).count();
    let tail = &tail[skip..];
    let cut = size - head.len() as u64 - tail.len() as u64;
    Ok(Some(LogText {
        text: format!(
            "{}{}{}",
            String::from_utf8_lossy(head),
            cut_marker(cut),
            String::from_utf8_lossy(tail)
        ),
        cut_bytes: cut,
    }))
}

/// `bytes` without an incomplete UTF-8 sequence at its end.
fn whole_prefix(bytes: &[u8]) -> &[u8] {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes,
        Err(e) if e.error_len().is_none() => &bytes[..e.valid_up_to()],
        Err(_) => bytes,
    }
}

/// The status a verification log ends with: its last non-empty line,
/// `exit status: N`.
pub fn exit_status(log: &str) -> Option<i32> {
    let last = log.lines().rev().find(|l| !l.trim().is_empty())?;
    last.trim()
        .strip_prefix("exit status:")
        .and_then(|n| n.trim().parse().ok())
}

/// Reads a QA verdict: `pass` or `fail` on the first line (any case);
/// anything else there is not a pass.
pub fn parse_qa_verdict(text: &str) -> QaVerdict {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().trim().to_ascii_lowercase();
    QaVerdict {
        passed: first == "pass",
        notes: lines.collect::<Vec<_>>().join("\n").trim().to_owned(),
    }
}

// Invariant: PILOT-004 A task is done only when its verification evidence says so.
// Category: governance
// Why: an agent that reports success while its checks fail would unblock dependents on
//      broken work; the agent's own summary is what it claims, not evidence.
// Enforced by: context::task_evidence counts a task done only when tasks/<key>/verification.log
//      ends with `exit status: 0` and no QA verdict says fail; summary.md is never read for it.
/// What a task's evidence folder says: whether it is done, and the evidence
/// for a failed one.
fn task_evidence(
    layout: &RunLayout,
    key: &str,
    max_log_bytes: u64,
) -> Result<(bool, FailedTask), ContextError> {
    let log = read_log(
        &layout.task_file(key, TaskFile::VerificationLog)?,
        max_log_bytes,
    )?;
    let exit = log.as_ref().and_then(|l| exit_status(&l.text));
    let qa = read_log(&layout.task_file(key, TaskFile::QaVerdict)?, MAX_NOTE_BYTES)?
        .map(|t| parse_qa_verdict(&t.text));
    let done = exit == Some(0) && qa.as_ref().is_none_or(|q| q.passed);
    Ok((
        done,
        FailedTask {
            key: key.to_owned(),
            verification_log: log,
            exit_status: exit,
            qa_verdict: qa,
            summary: None,
            attempts: 1,
            previous_signatures: BTreeSet::new(),
        },
    ))
}

/// What [`assemble`] needs besides the run directory.
#[derive(Clone, Copy, Debug)]
pub struct AssembleInput<'a> {
    /// The batch that ended.
    pub batch_id: &'a str,
    /// The tasks it ran.
    pub ran: &'a [String],
    /// The time recorded in the decision.
    pub decided_at: &'a Timestamp,
    /// How many tasks may share a batch.
    pub concurrency: usize,
    /// Largest log read whole.
    pub max_log_bytes: u64,
}

/// The decisions under `pilot/` other than `batch_id`'s, by batch id.
pub(crate) fn earlier_decisions(
    layout: &RunLayout,
    batch_id: &str,
) -> Result<Vec<PilotDecisionV1>, ContextError> {
    let dir = layout.dir(RunDir::Pilot);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(ContextError::List { path: dir, source }),
    };
    let mut batches = BTreeSet::new();
    for entry in entries {
        let entry = entry.map_err(|source| ContextError::List {
            path: dir.clone(),
            source,
        })?;
        let name = entry.file_name();
        let Some(batch) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
            continue;
        };
        if batch != batch_id && check_id(IdKind::Batch, batch).is_ok() {
            batches.insert(batch.to_owned());
        }
    }
    batches
        .into_iter()
        .map(|batch| {
            let path = layout.pilot_decision(&batch)?;
            Ok(read_artifact::<PilotDecisionV1>(&path)?)
        })
        .collect()
}

/// Rebuilds the pilot's context from the run directory: which tasks are
/// done (by their verification evidence), which of `input.ran` failed,
/// what is pending, what earlier decisions skipped or held, the learnings,
/// and the retries left (`budget` given the retries already spent, which
/// are counted from the earlier decisions).
///
/// Stateless: two calls on the same directory give the same context.
pub fn assemble<'g>(
    layout: &RunLayout,
    graph: &'g TaskGraph,
    input: &AssembleInput<'_>,
    budget: impl FnOnce(BTreeMap<String, u32>) -> RetryBudget,
) -> Result<PilotContext<'g>, ContextError> {
    let earlier = earlier_decisions(layout, input.batch_id)?;
    let mut retries_used: BTreeMap<String, u32> = BTreeMap::new();
    let mut signatures: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut skipped = BTreeSet::new();
    let mut held = BTreeSet::new();
    let mut learnings = Vec::new();
    if let Some(text) = read_log(&layout.learnings(), MAX_NOTE_BYTES)? {
        learnings.extend(
            text.text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    for decision in &earlier {
        for (task, strategy) in &decision.retry_strategies {
            if strategy.action.retries() {
                *retries_used.entry(task.clone()).or_default() += 1;
            }
        }
        for analysis in &decision.failure_analysis {
            if let Some(signature) = &analysis.signature {
                signatures
                    .entry(analysis.task_key.clone())
                    .or_default()
                    .insert(signature.clone());
            }
        }
        skipped.extend(decision.skips.iter().map(|s| s.task_key.clone()));
        held.extend(decision.held.iter().map(|s| s.task_key.clone()));
        learnings.extend(decision.new_learnings.iter().cloned());
    }
    let ran: BTreeSet<&str> = input.ran.iter().map(String::as_str).collect();
    let mut done = BTreeSet::new();
    let mut failed = Vec::new();
    let mut pending = BTreeSet::new();
    for key in graph.keys() {
        let (is_done, mut evidence) = task_evidence(layout, key, input.max_log_bytes)?;
        if is_done {
            done.insert(key.to_owned());
            skipped.remove(key);
            held.remove(key);
        } else if ran.contains(key) {
            evidence.summary =
                read_log(&layout.task_file(key, TaskFile::Summary)?, MAX_NOTE_BYTES)?
                    .map(|t| t.text);
            evidence.attempts = 1 + retries_used.get(key).copied().unwrap_or(0);
            evidence.previous_signatures = signatures.remove(key).unwrap_or_default();
            skipped.remove(key);
            held.remove(key);
            failed.push(evidence);
            pending.insert(key.to_owned());
        } else if !skipped.contains(key) && !held.contains(key) {
            pending.insert(key.to_owned());
        }
    }
    Ok(PilotContext {
        graph,
        project_id: layout.project_id().to_owned(),
        run_id: layout.run_id().to_owned(),
        batch_id: input.batch_id.to_owned(),
        decided_at: input.decided_at.clone(),
        concurrency: input.concurrency,
        done,
        failed,
        pending,
        skipped,
        held,
        learnings,
        budget: budget(retries_used),
    })
}
