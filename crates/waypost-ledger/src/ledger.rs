//! One ledger: where its files are, reading and verifying it, and the one
//! append path (crate-private: only tidy appends).

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use waypost_fences::{
    LedgerStore, LedgerStoreError, LockError, LockFile, TornTail, check_chain, cut_torn_tail,
    identity,
};
use waypost_schemas::io::{Links, ReadError, read_file, write_atomic};
use waypost_schemas::{
    EntrySource, EntryStatus, FormatV1, GENESIS_HASH, LedgerEntryV1, LedgerName, Timestamp,
};

use crate::view;

/// The folder, relative to the repository root, that holds every ledger:
/// `<name>.jsonl` (the entries) and `<name>.md` (the rendered view). The
/// append lock is under `.autonomous_runs/ledgers/`.
pub const LEDGER_DIR: &str = "docs/ledgers";

/// Largest ledger file read: 256 MiB.
pub const MAX_LEDGER_BYTES: u64 = waypost_fences::MAX_LOG_BYTES;

/// How long an appender waits for another one.
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// One source-of-truth ledger of a repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ledger {
    root: PathBuf,
    name: LedgerName,
}

/// A ledger could not be read or appended to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The ledger does not verify; nothing is read from it or appended to it.
    #[error("{} does not verify:\n{}", verification.path.display(), verification.problem_lines())]
    Invalid {
        /// What verification found.
        verification: Box<Verification>,
    },
    /// The ledger file cannot be read (a link, a FIFO, too large).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The ledger's lock could not be taken.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The OS refused.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The rendered view could not be written.
    #[error(transparent)]
    View(#[from] waypost_schemas::io::WriteError),
    /// New entries do not continue the chain (FENCE-010).
    #[error(transparent)]
    Chain(#[from] LedgerStoreError),
}

/// The complete entries of a verified ledger.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    entries: Vec<LedgerEntryV1>,
    torn_tail: Option<TornTail>,
}

/// An entry with what later entries say about it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EntryState<'a> {
    /// The entry as written.
    pub entry: &'a LedgerEntryV1,
    /// The later entry that replaced it, if any.
    pub superseded_by: Option<&'a str>,
}

impl EntryState<'_> {
    /// Whether it still holds: nothing superseded it.
    pub fn is_current(&self) -> bool {
        self.superseded_by.is_none()
    }

    /// `recorded`, `proposed`, `accepted`, `rejected` or `superseded`.
    pub fn effective_status(&self) -> &'static str {
        if self.superseded_by.is_some() {
            "superseded"
        } else {
            self.entry.status.as_str()
        }
    }
}

impl History {
    /// The history of verified `entries` (read from another store).
    pub fn from_entries(entries: Vec<LedgerEntryV1>) -> Self {
        Self {
            entries,
            torn_tail: None,
        }
    }

    /// Every complete entry, oldest first: what held before and what holds
    /// now.
    pub fn entries(&self) -> &[LedgerEntryV1] {
        &self.entries
    }

    /// A final line without its newline (an append that did not finish),
    /// left out of [`History::entries`].
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn_tail.as_ref()
    }

    /// The last entry's hash, or the genesis hash of an empty ledger.
    pub fn head_hash(&self) -> &str {
        self.entries
            .last()
            .map_or(GENESIS_HASH, |e| e.hash.as_str())
    }

    /// The entry with this id.
    pub fn get(&self, entry_id: &str) -> Option<&LedgerEntryV1> {
        self.entries.iter().find(|e| e.entry_id == entry_id)
    }

    /// Whether an entry with this id is in the ledger.
    pub fn contains(&self, entry_id: &str) -> bool {
        self.get(entry_id).is_some()
    }

    fn superseders(&self) -> BTreeMap<&str, &str> {
        self.entries
            .iter()
            .filter_map(|e| {
                e.supersedes
                    .as_deref()
                    .map(|old| (old, e.entry_id.as_str()))
            })
            .collect()
    }

    /// Every entry with what later entries say about it, oldest first.
    pub fn states(&self) -> Vec<EntryState<'_>> {
        let superseders = self.superseders();
        self.entries
            .iter()
            .map(|entry| EntryState {
                entry,
                superseded_by: superseders.get(entry.entry_id.as_str()).copied(),
            })
            .collect()
    }

    /// What holds now: the entries no later entry superseded, oldest first.
    pub fn current(&self) -> Vec<&LedgerEntryV1> {
        self.states()
            .into_iter()
            .filter(EntryState::is_current)
            .map(|s| s.entry)
            .collect()
    }

    /// The entry about `subject` that holds now.
    pub fn current_for(&self, subject: &str) -> Option<&LedgerEntryV1> {
        self.current()
            .into_iter()
            .rev()
            .find(|e| e.subject.as_deref() == Some(subject))
    }
}

/// What verifying a ledger found.
#[derive(Clone, Debug, PartialEq)]
pub struct Verification {
    /// The ledger file.
    pub path: PathBuf,
    /// Complete lines that hold an entry.
    pub entries: usize,
    /// A final line without its newline: an append that did not finish. It
    /// is not an error (readers ignore it and the next append cuts it off),
    /// only reported.
    pub torn_tail: Option<TornTail>,
    /// Everything wrong, in line order. Empty when the ledger verifies.
    pub problems: Vec<Problem>,
    /// The rendered view lags behind the ledger (an append whose view was
    /// not yet rewritten); the next tidy rewrites it.
    pub view_stale: bool,
}

impl Verification {
    /// Whether the ledger verifies (a torn tail and a stale view allowed).
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem_lines(&self) -> String {
        self.problems
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One thing wrong with a ledger: the file, the line and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The ledger file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.kind)
    }
}

/// What is wrong with a line of a ledger.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The line is not JSON (or is blank).
    #[error("not JSON: {message}")]
    NotJson {
        /// What the parser said.
        message: String,
    },
    /// The line is JSON but not a ledger entry.
    #[error("not a ledger entry: {message}")]
    NotAnEntry {
        /// What the parser said.
        message: String,
    },
    /// The entry belongs to another ledger.
    #[error("entry of the {found} ledger (moved here from another ledger)")]
    WrongLedger {
        /// The ledger it names.
        found: LedgerName,
    },
    /// The entry's content does not give its `hash`.
    #[error("edited: the entry's hash is {recorded} but its content hashes to {computed}")]
    Edited {
        /// The hash written in the entry.
        recorded: String,
        /// The hash of what the line now says.
        computed: String,
    },
    /// The entry's content does not give its `entry_id`.
    #[error("edited: entry_id is {recorded} but the content gives {derived}")]
    IdMismatch {
        /// The id written in the entry.
        recorded: String,
        /// The id its content gives.
        derived: String,
    },
    /// Entries are missing before this line.
    #[error(
        "deleted: sequence {found} follows {previous}, so entries {expected}..{found} are missing"
    )]
    Deleted {
        /// The previous sequence (0 before the first entry).
        previous: u64,
        /// The sequence that should have come.
        expected: u64,
        /// The sequence on this line.
        found: u64,
    },
    /// The entry is not where its sequence puts it.
    #[error("reordered: sequence {found} where {expected} was expected")]
    Reordered {
        /// The sequence that should have come.
        expected: u64,
        /// The sequence on this line.
        found: u64,
    },
    /// The entry does not chain to the one before it.
    #[error(
        "chain broken: prev_hash is {found} but the entry before it hashes to {expected} (an earlier entry was rewritten, removed or moved)"
    )]
    ChainBroken {
        /// The previous entry's hash (or the genesis hash).
        expected: String,
        /// The entry's `prev_hash`.
        found: String,
    },
    /// The entry id was used before.
    #[error("entry {entry_id} already appears on line {first_line}")]
    DuplicateId {
        /// The id.
        entry_id: String,
        /// Where it first appears.
        first_line: usize,
    },
    /// `supersedes` names no earlier entry.
    #[error("supersedes {entry_id}, which is not an earlier entry of this ledger")]
    UnknownSupersedes {
        /// The id named.
        entry_id: String,
    },
    /// `supersedes` names an entry another entry already superseded.
    #[error("supersedes {entry_id}, which line {first_line} already superseded")]
    SupersededTwice {
        /// The id named.
        entry_id: String,
        /// The line that superseded it first.
        first_line: usize,
    },
    /// The view records more entries than the ledger holds.
    #[error(
        "truncated: the view records {recorded} entries with head {head}, the ledger holds {found}"
    )]
    Truncated {
        /// What the view records.
        recorded: u64,
        /// The head hash the view records.
        head: String,
        /// Complete entries in the ledger.
        found: u64,
    },
    /// The entry at the view's head is not the one the view recorded.
    #[error(
        "rewritten: the view records entry {sequence} with hash {recorded}, the ledger's hashes to {found}"
    )]
    HeadMismatch {
        /// The sequence the view's head names.
        sequence: u64,
        /// The hash the view records.
        recorded: String,
        /// The hash of the ledger's entry there.
        found: String,
    },
}

/// An entry to append: what it says and where it came from. Its id, place
/// in the chain and time are given when it is appended.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Draft {
    /// The ledger it goes to.
    pub(crate) ledger: LedgerName,
    /// What it was made from: an artifact kind name or `learning`.
    pub(crate) kind: String,
    /// What it is about, when later entries may replace it.
    pub(crate) subject: Option<String>,
    /// What it records.
    pub(crate) status: EntryStatus,
    /// The run-local file.
    pub(crate) source: EntrySource,
    /// One line for people (already redacted).
    pub(crate) summary: String,
    /// What is kept (already redacted).
    pub(crate) payload: serde_json::Value,
}

impl Draft {
    /// The entry this draft becomes at `sequence` after `prev_hash`.
    fn entry(&self, sequence: u64, prev_hash: &str, at: &Timestamp) -> LedgerEntryV1 {
        let mut entry = LedgerEntryV1 {
            format_version: FormatV1,
            entry_id: String::new(),
            ledger: self.ledger,
            sequence,
            kind: self.kind.clone(),
            subject: self.subject.clone(),
            status: self.status,
            supersedes: None,
            source: self.source.clone(),
            summary: self.summary.clone(),
            payload: self.payload.clone(),
            recorded_at: at.clone(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
            extra: BTreeMap::new(),
        };
        entry.entry_id = entry.derive_entry_id();
        entry
    }
}

/// What appending drafts to a ledger gives: the new entries, and the
/// drafts left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Chained {
    /// The entries to append, in order, chained.
    pub(crate) entries: Vec<LedgerEntryV1>,
    /// Drafts whose entry id is already in the ledger.
    pub(crate) already_present: usize,
    /// Drafts about a subject whose current entry already says the same.
    pub(crate) unchanged: usize,
}

/// Chains `drafts` after `history`: ids already present are skipped (so
/// tidying again adds nothing), a draft about a subject whose current entry
/// has the same payload is skipped, and a draft about a subject with another
/// current entry supersedes it.
pub(crate) fn chain(history: &History, drafts: &[Draft], at: &Timestamp) -> Chained {
    let mut out = Chained::default();
    let mut seen: std::collections::BTreeSet<String> =
        history.entries.iter().map(|e| e.entry_id.clone()).collect();
    // Current entry per subject, kept up to date as drafts are chained.
    let mut current: BTreeMap<String, (String, serde_json::Value)> = BTreeMap::new();
    for entry in history.current() {
        if let Some(subject) = &entry.subject {
            current.insert(
                subject.clone(),
                (entry.entry_id.clone(), entry.payload.clone()),
            );
        }
    }
    let mut sequence = history.entries.last().map_or(0, |e| e.sequence);
    let mut prev = history.head_hash().to_owned();
    for draft in drafts {
        let mut entry = draft.entry(sequence + 1, &prev, at);
        if seen.contains(&entry.entry_id) {
            out.already_present += 1;
            continue;
        }
        if let Some(subject) = &draft.subject {
            match current.get(subject) {
                Some((_, payload)) if *payload == draft.payload => {
                    out.unchanged += 1;
                    continue;
                }
                Some((id, _)) => entry.supersedes = Some(id.clone()),
                None => {}
            }
            current.insert(
                subject.clone(),
                (entry.entry_id.clone(), draft.payload.clone()),
            );
        }
        entry.hash = entry.compute_hash();
        sequence += 1;
        prev = entry.hash.clone();
        seen.insert(entry.entry_id.clone());
        out.entries.push(entry);
    }
    out
}

/// What an append did.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Appended {
    /// The entries written, in order.
    pub(crate) chained: Chained,
    /// A torn tail a killed appender left, cut off before writing.
    pub(crate) repaired: Option<TornTail>,
}

impl Ledger {
    /// The ledger `name` of the repository at `root`.
    pub fn new(root: impl Into<PathBuf>, name: LedgerName) -> Self {
        Self {
            root: root.into(),
            name,
        }
    }

    /// Every ledger of the repository at `root`, in [`LedgerName::ALL`]
    /// order.
    pub fn all(root: &Path) -> Vec<Ledger> {
        LedgerName::ALL
            .into_iter()
            .map(|name| Self::new(root, name))
            .collect()
    }

    /// Which ledger.
    pub fn name(&self) -> LedgerName {
        self.name
    }

    /// `<root>/docs/ledgers/<name>.jsonl`.
    pub fn path(&self) -> PathBuf {
        self.root.join(self.relative_path())
    }

    /// `docs/ledgers/<name>.jsonl`, as shown to people.
    pub fn relative_path(&self) -> String {
        format!("{LEDGER_DIR}/{}.jsonl", self.name)
    }

    /// `docs/ledgers/<name>.md`, relative to the repository.
    pub fn view_relative_path(&self) -> String {
        format!("{LEDGER_DIR}/{}.md", self.name)
    }

    /// `<root>/docs/ledgers/<name>.md`: the rendered view.
    pub fn view_path(&self) -> PathBuf {
        self.root.join(LEDGER_DIR).join(format!("{}.md", self.name))
    }

    /// `<root>/.autonomous_runs/ledgers/<name>.lock`: held by whoever
    /// appends. Beside the run artifacts (ignored by git), not beside the
    /// ledger, so the committed ledger folder holds only ledgers.
    pub fn lock_path(&self) -> PathBuf {
        self.root
            .join(waypost_schemas::layout::RUNS_ROOT)
            .join("ledgers")
            .join(format!("{}.lock", self.name))
    }

    fn io(&self, source: io::Error) -> LedgerError {
        LedgerError::Io {
            path: self.path(),
            source,
        }
    }

    fn bytes(&self) -> Result<Vec<u8>, LedgerError> {
        match read_file(&self.path(), MAX_LEDGER_BYTES, Links::Refuse) {
            Ok(bytes) => Ok(bytes),
            Err(ReadError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Ok(Vec::new())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Checks every line: that it is an entry of this ledger, that its
    /// content gives its `entry_id` and `hash`, that it chains to the entry
    /// before it (the first to the genesis hash) in sequence, that no id
    /// repeats and that `supersedes` names an earlier entry once; and, with
    /// the view, that no entry was cut off the end. A final line without its
    /// newline is a torn tail: reported, not an error. A missing ledger is
    /// an empty one.
    pub fn verify(&self) -> Result<Verification, LedgerError> {
        let bytes = self.bytes()?;
        let (verification, _) = self.verify_bytes(&bytes);
        Ok(verification)
    }

    /// The verified history: what held before and what holds now.
    pub fn read(&self) -> Result<History, LedgerError> {
        let bytes = self.bytes()?;
        let (verification, history) = self.verify_bytes(&bytes);
        if verification.is_ok() {
            Ok(history)
        } else {
            Err(LedgerError::Invalid {
                verification: Box::new(verification),
            })
        }
    }

    fn verify_bytes(&self, bytes: &[u8]) -> (Verification, History) {
        let path = self.path();
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let torn_tail = (complete < bytes.len()).then(|| TornTail {
            offset: complete as u64,
            len: (bytes.len() - complete) as u64,
        });
        let mut problems = Vec::new();
        let mut problem = |line: usize, kind: ProblemKind| {
            problems.push(Problem {
                path: path.clone(),
                line,
                kind,
            });
        };
        let lines: Vec<&[u8]> = if complete == 0 {
            Vec::new()
        } else {
            bytes[..complete - 1].split(|&b| b == b'\n').collect()
        };
        // Parse first, so a sequence problem can tell a deletion from a move.
        let mut parsed: Vec<(usize, LedgerEntryV1)> = Vec::new();
        for (index, line) in lines.iter().enumerate() {
            let number = index + 1;
            let value: serde_json::Value = match serde_json::from_slice(line) {
                Ok(value) => value,
                Err(e) => {
                    problem(
                        number,
                        ProblemKind::NotJson {
                            message: e.to_string(),
                        },
                    );
                    continue;
                }
            };
            match serde_json::from_value::<LedgerEntryV1>(value) {
                Ok(entry) => parsed.push((number, entry)),
                Err(e) => problem(
                    number,
                    ProblemKind::NotAnEntry {
                        message: e.to_string(),
                    },
                ),
            }
        }
        let all_sequences: Vec<u64> = parsed.iter().map(|(_, e)| e.sequence).collect();
        let mut first_line_of: BTreeMap<String, usize> = BTreeMap::new();
        let mut superseded_on: BTreeMap<String, usize> = BTreeMap::new();
        let mut previous: Option<(usize, &LedgerEntryV1)> = None;
        let mut highest = 0u64;
        let mut previous_in_order = true;
        for (number, entry) in &parsed {
            let number = *number;
            if entry.ledger != self.name {
                problem(
                    number,
                    ProblemKind::WrongLedger {
                        found: entry.ledger,
                    },
                );
            }
            let computed = entry.compute_hash();
            if computed != entry.hash {
                problem(
                    number,
                    ProblemKind::Edited {
                        recorded: entry.hash.clone(),
                        computed,
                    },
                );
            }
            let derived = entry.derive_entry_id();
            if derived != entry.entry_id {
                problem(
                    number,
                    ProblemKind::IdMismatch {
                        recorded: entry.entry_id.clone(),
                        derived,
                    },
                );
            }
            // Judged against the highest sequence so far, so one moved entry
            // is one problem, not a cascade.
            let expected = highest + 1;
            let in_order = entry.sequence == expected;
            if !in_order {
                let moved = entry.sequence <= highest || all_sequences.contains(&expected);
                problem(
                    number,
                    if moved {
                        ProblemKind::Reordered {
                            expected,
                            found: entry.sequence,
                        }
                    } else {
                        ProblemKind::Deleted {
                            previous: highest,
                            expected,
                            found: entry.sequence,
                        }
                    },
                );
            } else if previous_in_order {
                // The chain is checked between neighbours that are both in
                // place; a line after a misplaced one is judged by its
                // sequence alone.
                let adjacent = previous.is_none_or(|(line, _)| line + 1 == number);
                let expected_prev = previous.map_or(GENESIS_HASH, |(_, e)| e.hash.as_str());
                if adjacent && entry.prev_hash != expected_prev {
                    problem(
                        number,
                        ProblemKind::ChainBroken {
                            expected: expected_prev.to_owned(),
                            found: entry.prev_hash.clone(),
                        },
                    );
                }
            }
            highest = highest.max(entry.sequence);
            previous_in_order = in_order;
            if let Some(&first_line) = first_line_of.get(&entry.entry_id) {
                problem(
                    number,
                    ProblemKind::DuplicateId {
                        entry_id: entry.entry_id.clone(),
                        first_line,
                    },
                );
            }
            if let Some(old) = &entry.supersedes {
                if !first_line_of.contains_key(old) {
                    problem(
                        number,
                        ProblemKind::UnknownSupersedes {
                            entry_id: old.clone(),
                        },
                    );
                } else if let Some(&first_line) = superseded_on.get(old) {
                    problem(
                        number,
                        ProblemKind::SupersededTwice {
                            entry_id: old.clone(),
                            first_line,
                        },
                    );
                } else {
                    superseded_on.insert(old.clone(), number);
                }
            }
            first_line_of
                .entry(entry.entry_id.clone())
                .or_insert(number);
            previous = Some((number, entry));
        }
        let entries: Vec<LedgerEntryV1> = parsed.into_iter().map(|(_, e)| e).collect();
        let mut view_stale = false;
        if let Some(head) = view::read_head(&self.view_path()) {
            let found = entries.len() as u64;
            if head.entries > found {
                problem(
                    lines.len() + 1,
                    ProblemKind::Truncated {
                        recorded: head.entries,
                        head: head.hash,
                        found,
                    },
                );
            } else {
                view_stale = head.entries < found;
                let at = usize::try_from(head.entries).unwrap_or(usize::MAX);
                if let Some(entry) = at.checked_sub(1).and_then(|i| entries.get(i))
                    && entry.hash != head.hash
                {
                    problem(
                        at,
                        ProblemKind::HeadMismatch {
                            sequence: head.entries,
                            recorded: head.hash,
                            found: entry.hash.clone(),
                        },
                    );
                }
            }
        } else {
            view_stale = !entries.is_empty();
        }
        let verification = Verification {
            path,
            entries: entries.len(),
            torn_tail: torn_tail.clone(),
            problems,
            view_stale,
        };
        (verification, History { entries, torn_tail })
    }

    /// Appends `drafts` (see [`chain`]) under the ledger's lock: a torn tail
    /// is cut off first, the ledger must verify, each entry is one write of
    /// one whole line followed by an fsync, and the view is rewritten
    /// atomically at the end.
    // Invariant: LEDGER-006 Nothing but tidy writes a ledger.
    // Category: governance
    // Why: project memory changes only through `tidy --execute`: allowlisted,
    //      idempotent, redacted, append-only. A second writer would skip some of that.
    // Enforced by: Ledger::append is crate-private and tidy::execute its only caller (a
    //      LedgerStore appends only entries chained by its caller, and checks the chain);
    //      a test fails when code outside waypost-ledger names the ledger folder.
    pub(crate) fn append(&self, drafts: &[Draft], at: &Timestamp) -> Result<Appended, LedgerError> {
        let mut chained = Chained::default();
        let (_, repaired) = self.append_entries(&mut |history| {
            chained = chain(history, drafts, at);
            chained.entries.clone()
        })?;
        Ok(Appended { chained, repaired })
    }

    /// Appends what `make` chains after the verified history, under the
    /// ledger's lock, once [`check_chain`] accepts it (FENCE-010).
    fn append_entries(
        &self,
        make: &mut dyn FnMut(&History) -> Vec<LedgerEntryV1>,
    ) -> Result<(Vec<LedgerEntryV1>, Option<TornTail>), LedgerError> {
        // Invariant: LEDGER-002 A ledger's old bytes are a prefix of its new bytes.
        // Category: crash-safety
        // Why: the ledgers are permanent memory; a rewrite can lose what it rewrites, and
        //      a reader in the middle of one sees neither version.
        // Root cause: read-modify-write of the whole file, or two appenders at once.
        // Correct pattern: under the ledger's lock, O_APPEND writes of whole lines, each
        //      followed by fsync; the only bytes ever removed are a torn final line no
        //      reader counted.
        // Forbidden: rewriting the file (even atomically) to append; appending without
        //      the lock; "fixing" an edited line in place.
        // Enforced by: Ledger::append, the only code that opens a ledger for writing.
        let holder = identity::this_process(Some("waypost tidy"));
        let lock = self.lock_path();
        if let Some(dir) = lock.parent() {
            fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        }
        let _guard = LockFile::new(lock).acquire(&holder, LOCK_TIMEOUT)?;
        let path = self.path();
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        }
        let mut file =
            waypost_schemas::io::no_follow(OpenOptions::new().read(true).append(true).create(true))
                .open(&path)
                .map_err(|e| self.io(e))?;
        waypost_schemas::io::ensure_regular(&file, &path)
            .map_err(|e| self.io(io::Error::new(io::ErrorKind::InvalidInput, e.to_string())))?;
        // Invariant: LEDGER-003 A torn tail is cut off, under the lock, before the next append.
        // Category: crash-safety
        // Why: a writer killed mid-line leaves a final line without its newline; appending
        //      after it would glue two entries into one corrupt line.
        // Enforced by: Ledger::append calls cut_torn_tail while holding the ledger's lock
        //      and reports what it cut in Appended::repaired.
        let repaired = cut_torn_tail(&mut file).map_err(|e| self.io(e))?;
        if repaired.is_some() {
            file.sync_data().map_err(|e| self.io(e))?;
        }
        let history = self.read()?;
        let new = make(&history);
        check_chain(self.name, history.entries.last(), &new)?;
        for entry in &new {
            let mut line = serde_json::to_vec(entry).map_err(|e| self.io(io::Error::other(e)))?;
            line.push(b'\n');
            file.write_all(&line).map_err(|e| self.io(e))?;
            file.sync_data().map_err(|e| self.io(e))?;
        }
        drop(file);
        let mut all = history.entries;
        all.extend(new.iter().cloned());
        let full = History {
            entries: all,
            torn_tail: None,
        };
        // A tidy killed between its last line and its view left the view
        // behind: any append brings it up to date.
        let recorded = view::read_head(&self.view_path());
        if recorded
            .is_none_or(|h| h.entries != full.entries.len() as u64 || h.hash != full.head_hash())
        {
            write_atomic(&self.view_path(), view::render(self.name, &full).as_bytes())?;
        }
        Ok((new, repaired))
    }
}

/// The ledgers of a repository's files under [`LEDGER_DIR`]: the default
/// [`LedgerStore`], for one machine. `waypost-store-postgres` keeps the
/// same entries in a shared database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileLedgerStore {
    root: PathBuf,
}

impl FileLedgerStore {
    /// The ledgers of the repository at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

impl LedgerStore for FileLedgerStore {
    fn entries(&self, ledger: LedgerName) -> Result<Vec<LedgerEntryV1>, LedgerStoreError> {
        Ledger::new(&self.root, ledger)
            .read()
            .map(|history| history.entries)
            .map_err(|e| store_error(ledger, e))
    }

    fn append_chained(
        &self,
        ledger: LedgerName,
        chain: &mut dyn FnMut(&[LedgerEntryV1]) -> Vec<LedgerEntryV1>,
    ) -> Result<Vec<LedgerEntryV1>, LedgerStoreError> {
        Ledger::new(&self.root, ledger)
            .append_entries(&mut |history| chain(history.entries()))
            .map(|(new, _)| new)
            .map_err(|e| store_error(ledger, e))
    }
}

fn store_error(ledger: LedgerName, error: LedgerError) -> LedgerStoreError {
    match error {
        LedgerError::Chain(e) => e,
        LedgerError::Invalid { verification } => LedgerStoreError::Invalid {
            ledger,
            problem: verification.problem_lines(),
        },
        other => LedgerStoreError::Store {
            ledger,
            source: Box::new(other),
        },
    }
}
