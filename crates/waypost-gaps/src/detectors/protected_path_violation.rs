//! protected_path_violation: changes under the anchor's protected paths.

use waypost_schemas::paths::{PathKey, PathPattern, PatternSet};
use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext, ScannedFile};
use crate::repo::{WorkTree, head_blobs, work_tree_blob};

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

    fn finding(&self, path: &str, what: &str) -> Finding {
        Finding::of(self, RiskLevel::High, path, format!("{path} is protected and {what}"))
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
        {
            out.push(self.finding(file.path, "is a new, untracked file"));
        }
    }
    /// A symbolic link (or FIFO, socket, device) under a protected path that
    /// the index does not have.
    fn check_special(&self, path: &str, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        if let Some(repo) = ctx.repo
            && self.protected(path)
            && !repo.tracks(path)
        {
            let what =
                match std::fs::symlink_metadata(waypost_schemas::paths::on_disk(ctx.root, path)) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        "is a new, untracked symbolic link"
                    }
                    _ => "is a new, untracked special file (FIFO, socket or device)",
                };
            out.push(self.finding(path, what));
        }
    }
    /// Index entries under protected paths changed in the work tree or
    /// against HEAD.
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(repo) = ctx.repo else { return };
        if self.patterns.is_empty() {
            return;
        }
        let indexed: Vec<&(String, String, u32)> = repo
            .index
            .iter()
            .filter(|(p, _, stage)| *stage == 0 && self.protected(p))
            .collect();
        let in_head = head_blobs(
            ctx.root,
            &indexed
                .iter()
                .map(|(p, _, _)| p.as_str())
                .collect::<Vec<_>>(),
        );
        let mut report = |path: &str, what: &str| out.push(self.finding(path, what));
        for (path, index_id, _) in &indexed {
            // Compared as git compares: content and mode (a link by its
            // target path, never by reading through it; a file turned into a
            // link, or made executable, is a change).
            let index_mode = repo.modes.get(path.as_str()).copied();
            match work_tree_blob(ctx.root, path) {
                WorkTree::Missing => report(path, "was deleted in the work tree"),
                WorkTree::Blob(id, mode)
                    if id == *index_id && index_mode.is_none_or(|m| same_mode(m, mode)) => {}
                WorkTree::Blob(id, _) if id == *index_id => {
                    report(path, "changed its type or mode (file, link, executable)");
                }
                WorkTree::Blob(..) => report(path, "has unstaged changes"),
                WorkTree::Other => report(
                    path,
                    "was replaced by something git cannot compare (not a regular file, or too large)",
                ),
            }
            if in_head.get(path.as_str()).cloned().flatten().as_deref() != Some(index_id.as_str()) {
                report(path, "has staged changes");
            }
        }
    }
}

/// Whether two git modes are the same, as this platform can tell: without
/// an executable bit (not Unix) only the kind (file, link) counts.
fn same_mode(index: u32, work: u32) -> bool {
    index == work || (!cfg!(unix) && index & 0o170_000 == work & 0o170_000)
}
