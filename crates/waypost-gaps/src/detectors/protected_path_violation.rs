//! protected_path_violation: changes under the anchor's protected paths.

use waypost_schemas::paths::{PathKey, PathPattern, PatternSet};
use waypost_schemas::{GapType, RiskLevel};

use crate::changes::ChangeKind;
use crate::detector::{Detector, Finding, ScanContext, ScannedFile};

/// Work-tree or staged changes, and untracked files, under protected paths.
pub(crate) struct ProtectedPathChange {
    patterns: PatternSet,
    /// Tells this detector's answers apart from another's in the
    /// per-thread memo of [`ProtectedPathChange::folder_covered`].
    id: u64,
}

/// The next [`ProtectedPathChange::id`].
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl ProtectedPathChange {
    /// Patterns that do not parse are refused before the scan starts
    /// ([`crate::ScanError::ProtectedPath`]).
    pub(crate) fn new(protected: &[String]) -> Self {
        Self {
            patterns: protected
                .iter()
                .filter_map(|p| PathPattern::new(p).ok())
                .collect(),
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// The finding for one change (`change` names it in the evidence: a
    /// path both staged for deletion and untracked has two).
    fn finding(&self, path: &str, change: &str, what: &str) -> Finding {
        Finding::of(self, RiskLevel::High, path, format!("{path} is protected and {what}"))
            .with_evidence("change", change)
            .describe("The anchor protects this path: no agent may change it, and a change that is already there must be reviewed by a human before agents run.")
            .blocking(true)
            .remedy("a human reviews the change and either reverts it or commits it deliberately", true)
    }

    /// Whether `path`, or a spelling of it that a common filesystem folds
    /// to the same name, is protected.
    fn protected(&self, path: &str) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        // Walked and indexed paths are already normal: fold them directly.
        let key = PathKey::of(path);
        let folder = key.as_str().rsplit_once('/').map_or("", |(dir, _)| dir);
        self.folder_covered(folder) || self.patterns.covering_key(&key).is_some()
    }

    /// Whether a pattern covers all of `folder` (a key). The index and the
    /// walk both ask about the files of one folder one after another: the
    /// answer for the last folder asked on this thread is kept.
    fn folder_covered(&self, folder: &str) -> bool {
        thread_local! {
            static LAST: std::cell::RefCell<(u64, String, bool)> =
                const { std::cell::RefCell::new((u64::MAX, String::new(), false)) };
        }
        if folder.is_empty() {
            return false;
        }
        LAST.with(|last| {
            let mut last = last.borrow_mut();
            if last.0 == self.id && last.1 == folder {
                return last.2;
            }
            let covered = self.patterns.covers_all_of_key(&PathKey::of(folder));
            last.0 = self.id;
            last.1.clear();
            last.1.push_str(folder);
            last.2 = covered;
            covered
        })
    }
}

impl Detector for ProtectedPathChange {
    fn id(&self) -> &'static str {
        "protected_path_modified"
    }
    fn gap_type(&self) -> GapType {
        GapType::ProtectedPathViolation
    }
    fn description(&self) -> &'static str {
        "a file under the anchor's protected paths has a staged or unstaged change, or is new"
    }
    /// Every file, when some path is protected: whether it is protected is
    /// asked only in a repository (outside one nothing is new or changed).
    fn wants(&self, _path: &str) -> bool {
        !self.patterns.is_empty()
    }
    fn keeps_index_entry(&self, path: &str) -> bool {
        self.protected(path)
    }
    /// A walked file under a protected path that the index does not have.
    fn check_file(&self, file: &ScannedFile<'_>, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        if let Some(repo) = ctx.repo
            && self.protected(file.path)
            && !repo.tracks(file.path)
            && !repo.in_submodule(file.path)
        {
            out.push(self.finding(file.path, "untracked", "is a new, untracked file"));
        }
    }
    /// A symbolic link (or FIFO, socket, device) under a protected path that
    /// the index does not have.
    fn check_special(&self, path: &str, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        if let Some(repo) = ctx.repo
            && self.protected(path)
            && !repo.tracks(path)
            && !repo.in_submodule(path)
        {
            let what =
                match std::fs::symlink_metadata(waypost_schemas::paths::on_disk(ctx.root, path)) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        "is a new, untracked symbolic link"
                    }
                    _ => "is a new, untracked special file (FIFO, socket or device)",
                };
            out.push(self.finding(path, "untracked", what));
        }
    }
    /// Index entries under protected paths that `git status` reports as
    /// changed, staged or in the work tree.
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(repo) = ctx.repo else { return };
        if self.patterns.is_empty() {
            return;
        }
        for change in repo.changes.iter().filter(|c| self.protected(&c.path)) {
            let finding = self.finding(&change.path, change.kind.id(), &change.kind.describe());
            out.push(match change.kind {
                // Not known to be a change: reviewed, but not a blocker.
                ChangeKind::Unknown { .. } => {
                    let mut finding = finding.blocking(false);
                    finding.risk = RiskLevel::Medium;
                    finding
                }
                _ => finding,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_detector_keeps_its_own_answer_for_a_folder() {
        let whole = ProtectedPathChange::new(&["src/**".to_owned()]);
        let keys = ProtectedPathChange::new(&["**/*.pem".to_owned()]);
        let none = ProtectedPathChange::new(&[]);
        // Alternating on one thread, over the files of one folder.
        for _ in 0..2 {
            assert!(whole.protected("src/a/x.rs"));
            assert!(!keys.protected("src/a/x.rs"));
            assert!(keys.protected("src/a/k.pem"));
            assert!(!none.protected("src/a/k.pem"));
            assert!(whole.protected("src/a/k.pem"));
        }
        // A folder named like a covered file covers what it holds.
        assert!(keys.protected("certs/old.pem/readme.txt"));
        assert!(!whole.protected("docs/a.md"));
        assert!(whole.protected("SRC/B.RS"), "folded as filesystems fold");
    }
}
