//! Executors: what carries out an approved action. The autopilot never
//! trusts an executor's own word: it rescans afterwards.
//!
//! The built-in executors do only safe, deterministic things, each exactly
//! as the action describes it (so an approval bound to the action's content
//! covers every byte they change): delete a stale file, move root clutter
//! into an archive folder, apply exact text edits. Each refuses a path that
//! goes through a symlink, leaves the repository or names a file with other
//! hard links, and checks everything before changing anything.

use std::collections::BTreeMap;
use std::path::Path;

use waypost_ledger::tidy::{TidyOptions, TidyReport};
use waypost_ledger::{Ledger, LedgerName};

use crate::store::Store;
use waypost_schemas::io::{Links, create_dirs_below, read_text, write_atomic};
use waypost_schemas::paths::{RepoPath, resolve};
use waypost_schemas::{ActionType, PlanAction, TextEdit};

/// The largest file a text edit rewrites.
const MAX_EDIT_BYTES: u64 = 16 * 1024 * 1024;

/// An executor could not carry out an action; what it says happened.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExecuteError {
    /// What went wrong, naming the path.
    pub message: String,
}

impl ExecuteError {
    /// An error saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Carries out actions of some kinds. Embedders add their own (an agent
/// that fixes a test, say); the autopilot picks the first executor that
/// [`handles`](Executor::handles) an action.
pub trait Executor: Send + Sync {
    /// A stable name, recorded with each action it ran.
    fn name(&self) -> &str;
    /// Whether this executor can carry out `action`.
    fn handles(&self, action: &PlanAction) -> bool;
    /// Carries out `action` in the repository at `root`; returns what it
    /// did in one sentence. This is a claim: the rescan decides.
    fn execute(&self, root: &Path, action: &PlanAction) -> Result<String, ExecuteError>;
}

/// The built-in executors.
pub fn builtin() -> Vec<Box<dyn Executor>> {
    vec![
        Box::new(RemoveStaleFile),
        Box::new(ArchiveClutter),
        Box::new(ApplyTextEdits),
    ]
}

/// A repository path the action may touch: one of its target paths (the
/// paths governance judged), plain, not in git's own folder, no link on
/// the way, not outside, not a file with other names.
pub(crate) fn checked(
    root: &Path,
    action: &PlanAction,
    path: &str,
) -> Result<RepoPath, ExecuteError> {
    let repo_path = RepoPath::new(path).map_err(|e| ExecuteError::new(format!("`{path}`: {e}")))?;
    if !action.target_paths.iter().any(|t| t == path) {
        return Err(ExecuteError::new(format!(
            "`{path}` is not one of the action's target paths; not touched"
        )));
    }
    if repo_path.segments().any(|s| s.eq_ignore_ascii_case(".git")) {
        return Err(ExecuteError::new(format!(
            "`{path}` is inside git's own folder; not touched"
        )));
    }
    let reach = resolve(root, path).map_err(|e| ExecuteError::new(format!("`{path}`: {e}")))?;
    if reach.through_symlink() || reach.outside.is_some() {
        return Err(ExecuteError::new(format!(
            "`{path}` goes through a symbolic link; not touched"
        )));
    }
    if reach.hard_links > 1 {
        return Err(ExecuteError::new(format!(
            "`{path}` has {} hard links; changing it would change the others",
            reach.hard_links
        )));
    }
    Ok(repo_path)
}

fn regular_file(root: &Path, path: &RepoPath) -> Result<(), ExecuteError> {
    match std::fs::symlink_metadata(path.under(root)) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(ExecuteError::new(format!("`{path}` is not a regular file"))),
        Err(e) => Err(ExecuteError::new(format!("`{path}`: {e}"))),
    }
}

/// Deletes the files of a `file_delete` (the proposer makes these only for
/// stale locks, claims and journals, with the staleness in the evidence).
#[derive(Debug)]
pub struct RemoveStaleFile;

impl Executor for RemoveStaleFile {
    fn name(&self) -> &str {
        "builtin:remove_stale_file"
    }

    fn handles(&self, action: &PlanAction) -> bool {
        action.action_type == ActionType::FileDelete
            && !action.target_paths.is_empty()
            && action.moves.is_empty()
            && action.edits.is_empty()
    }

    fn execute(&self, root: &Path, action: &PlanAction) -> Result<String, ExecuteError> {
        let paths = action
            .target_paths
            .iter()
            .map(|p| checked(root, action, p))
            .collect::<Result<Vec<_>, _>>()?;
        for path in &paths {
            regular_file(root, path)?;
        }
        for path in &paths {
            std::fs::remove_file(path.under(root))
                .map_err(|e| ExecuteError::new(format!("cannot delete `{path}`: {e}")))?;
        }
        Ok(format!("deleted {} file(s)", paths.len()))
    }
}

/// Moves the files of a `file_move` to where the action says, creating
/// folders as needed; never over an existing file.
#[derive(Debug)]
pub struct ArchiveClutter;

impl Executor for ArchiveClutter {
    fn name(&self) -> &str {
        "builtin:archive_clutter"
    }

    fn handles(&self, action: &PlanAction) -> bool {
        action.action_type == ActionType::FileMove && !action.moves.is_empty()
    }

    fn execute(&self, root: &Path, action: &PlanAction) -> Result<String, ExecuteError> {
        let mut moves = Vec::new();
        let mut ends = std::collections::BTreeSet::new();
        for m in &action.moves {
            let from = checked(root, action, &m.from)?;
            let to = checked(root, action, &m.to)?;
            regular_file(root, &from)?;
            for end in [&from, &to] {
                if !ends.insert(end.as_str().to_owned()) {
                    return Err(ExecuteError::new(format!(
                        "`{end}` is named by two moves of the action; nothing moved"
                    )));
                }
            }
            if std::fs::symlink_metadata(to.under(root)).is_ok() {
                return Err(ExecuteError::new(format!(
                    "`{to}` exists already; `{from}` is not moved over it"
                )));
            }
            moves.push((from, to));
        }
        for (from, to) in &moves {
            if let Some((folder, _)) = to.as_str().rsplit_once('/') {
                create_dirs_below(root, Path::new(folder))
                    .map_err(|e| ExecuteError::new(format!("cannot create `{folder}`: {e}")))?;
            }
            // A second name, then the first removed: unlike a rename, the
            // link fails if something appeared at the destination since.
            std::fs::hard_link(from.under(root), to.under(root))
                .and_then(|()| std::fs::remove_file(from.under(root)))
                .map_err(|e| ExecuteError::new(format!("cannot move `{from}` to `{to}`: {e}")))?;
        }
        Ok(format!("moved {} file(s)", moves.len()))
    }
}

/// Applies the exact text edits of an action (a rewritten link, a removed
/// byte-order mark): each edit's old text must stand on its line, or
/// nothing is written.
#[derive(Debug)]
pub struct ApplyTextEdits;

impl Executor for ApplyTextEdits {
    fn name(&self) -> &str {
        "builtin:apply_text_edits"
    }

    fn handles(&self, action: &PlanAction) -> bool {
        matches!(
            action.action_type,
            ActionType::DocUpdate | ActionType::TidyApply
        ) && !action.edits.is_empty()
            && action.moves.is_empty()
    }

    fn execute(&self, root: &Path, action: &PlanAction) -> Result<String, ExecuteError> {
        let mut by_file: BTreeMap<&str, Vec<&TextEdit>> = BTreeMap::new();
        for edit in &action.edits {
            by_file.entry(edit.path.as_str()).or_default().push(edit);
        }
        let mut rewritten = Vec::new();
        for (file, edits) in by_file {
            let path = checked(root, action, file)?;
            regular_file(root, &path)?;
            let text = read_text(&path.under(root), MAX_EDIT_BYTES, Links::Refuse)
                .map_err(|e| ExecuteError::new(e.to_string()))?;
            rewritten.push((path, apply(file, &text, &edits)?));
        }
        for (path, text) in &rewritten {
            write_atomic(&path.under(root), text.as_bytes())
                .map_err(|e| ExecuteError::new(e.to_string()))?;
        }
        Ok(format!(
            "applied {} edit(s) to {} file(s)",
            action.edits.len(),
            rewritten.len()
        ))
    }
}

/// `text` with `edits` applied: on each edit's line (1-based), the first
/// occurrence of its old text replaced by its new text.
fn apply(file: &str, text: &str, edits: &[&TextEdit]) -> Result<String, ExecuteError> {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    for edit in edits {
        let index = usize::try_from(edit.line)
            .ok()
            .and_then(|l| l.checked_sub(1))
            .filter(|&i| i < lines.len())
            .ok_or_else(|| ExecuteError::new(format!("`{file}` has no line {}", edit.line)))?;
        let line = &mut lines[index];
        // Applied once: a line that holds the new text already (a rewrite
        // whose new text contains the old, run twice) is left alone.
        if !edit.new_text.is_empty() && line.contains(&edit.new_text) {
            return Err(ExecuteError::new(format!(
                "line {} of `{file}` holds `{}` already; the edit is not applied twice",
                edit.line, edit.new_text
            )));
        }
        let Some(at) = line.find(&edit.old_text) else {
            return Err(ExecuteError::new(format!(
                "line {} of `{file}` no longer holds `{}`; the file changed since the plan",
                edit.line, edit.old_text
            )));
        };
        if line.matches(&edit.old_text).count() > 1 {
            return Err(ExecuteError::new(format!(
                "line {} of `{file}` holds `{}` more than once; which one is meant is not clear",
                edit.line, edit.old_text
            )));
        }
        line.replace_range(at..at + edit.old_text.len(), &edit.new_text);
    }
    Ok(lines.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(line: u32, old: &str, new: &str) -> TextEdit {
        TextEdit {
            path: "a.md".into(),
            line,
            old_text: old.into(),
            new_text: new.into(),
        }
    }

    #[test]
    fn edits_replace_the_old_text_on_their_line_only() {
        let text = "see [x](old.md)\nand [y](old.md)\n";
        let e = edit(2, "old.md", "docs/new.md");
        assert_eq!(
            apply("a.md", text, &[&e]).expect("applies"),
            "see [x](old.md)\nand [y](docs/new.md)\n"
        );
        let bom = edit(1, "\u{feff}", "");
        assert_eq!(
            apply("a.md", "\u{feff}# t\n", &[&bom]).expect("bom"),
            "# t\n"
        );
    }

    #[test]
    fn an_edit_applies_once_even_when_its_new_text_contains_the_old() {
        let e = edit(1, "guide.md", "docs/guide.md");
        let once = apply("a.md", "see [g](guide.md)\n", &[&e]).expect("once");
        assert_eq!(once, "see [g](docs/guide.md)\n");
        let twice = apply("a.md", &once, &[&e]).expect_err("not twice");
        assert!(twice.message.contains("already"), "{twice}");
        let ambiguous = edit(1, "a", "b");
        assert!(apply("a.md", "a a\n", &[&ambiguous]).is_err());
    }

    #[test]
    fn an_edit_whose_old_text_is_gone_or_whose_line_is_missing_changes_nothing() {
        let gone = edit(1, "old.md", "new.md");
        let err = apply("a.md", "nothing here\n", &[&gone]).expect_err("refused");
        assert!(err.message.contains("no longer holds"), "{err}");
        let missing = edit(9, "x", "y");
        assert!(apply("a.md", "x\n", &[&missing]).is_err());
        let zero = edit(0, "x", "y");
        assert!(apply("a.md", "x\n", &[&zero]).is_err());
    }
}

/// The evidence line of an action's ledger entry: `ledger_entry:<ledger>:<entry id>`.
pub(crate) const ENTRY_EVIDENCE: &str = "ledger_entry:";

/// Appends run artifacts to the ledgers through tidy: a `tidy_apply` whose
/// target paths are the ledgers (and their views) and whose evidence names
/// every entry it appends. The autopilot builds one for the run it has
/// just finished (its record step); it is not in [`builtin`] because its
/// tidy options belong to one run.
///
/// It refuses when tidy would now append anything other than exactly the
/// entries the action names, or write a ledger the action does not target:
/// the decision covered those entries and no others.
#[derive(Debug)]
pub struct AppendLedgerEntries {
    options: TidyOptions,
    store: Store,
}

impl AppendLedgerEntries {
    /// An executor that runs tidy with `options` on the repository's
    /// ledger files.
    pub fn new(options: TidyOptions) -> Self {
        Self {
            options,
            store: Store::Files,
        }
    }

    /// The same, on the ledgers of `store` (a shared database).
    #[must_use]
    pub fn in_store(mut self, store: Store) -> Self {
        self.store = store;
        self
    }

    /// `ledger_entry:<ledger>:<entry id>` for each entry `report` appends.
    pub fn evidence(report: &TidyReport) -> Vec<String> {
        report
            .ledgers
            .iter()
            .flat_map(|change| {
                change
                    .appended
                    .iter()
                    .map(move |e| format!("{ENTRY_EVIDENCE}{}:{}", change.ledger, e.entry_id))
            })
            .collect()
    }

    /// The entries `action`'s evidence names ([`AppendLedgerEntries::evidence`]),
    /// by ledger; an unknown ledger is an error.
    pub(crate) fn named_entries(
        action: &PlanAction,
    ) -> Result<BTreeMap<LedgerName, Vec<&str>>, String> {
        let mut by_ledger: BTreeMap<LedgerName, Vec<&str>> = BTreeMap::new();
        for line in &action.evidence {
            let Some((ledger, entry_id)) = line
                .strip_prefix(ENTRY_EVIDENCE)
                .and_then(|rest| rest.split_once(':'))
            else {
                continue;
            };
            let name: LedgerName = ledger
                .parse()
                .map_err(|_| format!("`{ledger}` is no ledger"))?;
            by_ledger.entry(name).or_default().push(entry_id);
        }
        Ok(by_ledger)
    }
}

/// Whether `path` is a ledger or its view, relative to the repository.
fn is_ledger_file(path: &str) -> bool {
    LedgerName::ALL.iter().any(|name| {
        let ledger = Ledger::new(Path::new(""), *name);
        path == ledger.relative_path() || path == ledger.view_relative_path()
    })
}

impl Executor for AppendLedgerEntries {
    fn name(&self) -> &str {
        "builtin:append_ledger_entries"
    }

    fn handles(&self, action: &PlanAction) -> bool {
        action.action_type == ActionType::TidyApply
            && action.edits.is_empty()
            && action.moves.is_empty()
            && !action.target_paths.is_empty()
            && action.target_paths.iter().all(|p| is_ledger_file(p))
    }

    fn execute(&self, root: &Path, action: &PlanAction) -> Result<String, ExecuteError> {
        for path in &action.target_paths {
            let path = checked(root, action, path)?;
            if std::fs::symlink_metadata(path.under(root)).is_ok() {
                regular_file(root, &path)?;
            }
        }
        let planned = self
            .store
            .tidy_plan(root, &self.options)
            .map_err(|e| ExecuteError::new(e.to_string()))?;
        let mut expected: Vec<&String> = action
            .evidence
            .iter()
            .filter(|e| e.starts_with(ENTRY_EVIDENCE))
            .collect();
        expected.sort();
        let mut now = Self::evidence(&planned);
        now.sort();
        if now.iter().collect::<Vec<_>>() != expected {
            return Err(ExecuteError::new(format!(
                "tidy would now append {} entries, not the {} the action names: the runs changed since it was decided",
                now.len(),
                expected.len()
            )));
        }
        for change in planned.ledgers.iter().filter(|c| !c.appended.is_empty()) {
            let ledger = Ledger::new(root, change.ledger).relative_path();
            if !action.target_paths.contains(&ledger) {
                return Err(ExecuteError::new(format!(
                    "tidy would append to `{ledger}`, which the action does not target"
                )));
            }
        }
        let done = self
            .store
            .tidy_execute(root, &self.options)
            .map_err(|e| ExecuteError::new(e.to_string()))?;
        let per_ledger: Vec<String> = done
            .ledgers
            .iter()
            .filter(|c| !c.appended.is_empty())
            .map(|c| format!("{} to {}", c.appended.len(), c.ledger))
            .collect();
        Ok(format!("appended {}", per_ledger.join(", ")))
    }
}
