//! protected_path_violation: changes under the anchor's protected paths.

use waypost_schemas::paths::{PathKey, PathPattern, PatternSet};
use waypost_schemas::{GapType, RiskLevel};

use crate::changes::ChangeKind;
use crate::detector::{Detector, Finding, ScanContext, ScannedFile};

/// Work-tree or staged changes, and untracked files, under protected paths.
pub(crate) struct ProtectedPathChange {
    patterns: PatternSet,
}

impl ProtectedPathChange {
    /// Patterns that do not parse are refused before the scan starts
    /// ([`crate::ScanError::ProtectedPath`]).
    pub(crate) fn new(protected: &[String]) -> Self {
        Self {
            patterns: protected
                .iter()
                .filter_map(|p| PathPattern::new(p).ok())
                .collect(),
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
        // Walked and indexed paths are already normal: fold them directly.
        !self.patterns.is_empty() && self.patterns.covering_key(&PathKey::of(path)).is_some()
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
    fn wants(&self, path: &str) -> bool {
        self.protected(path)
    }
    fn keeps_index_entry(&self, path: &str) -> bool {
        self.protected(path)
    }
    /// A walked file under a protected path that the index does not have.
    fn check_file(&self, file: &ScannedFile<'_>, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        if let Some(repo) = ctx.repo
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
