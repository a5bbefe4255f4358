//! protected_path_violation: changes under the anchor's protected paths.

use globset::{GlobBuilder, GlobMatcher};
use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext, ScannedFile};
use crate::repo::{blob_id, head_blobs};

/// A protected path: a glob, or a plain path covering itself and below.
pub(crate) enum Pattern {
    Glob(GlobMatcher),
    Prefix(String),
}

impl Pattern {
    pub(crate) fn new(text: &str) -> Option<Self> {
        let text = text.trim().trim_start_matches("./");
        if text.contains(['*', '?', '[', '{']) {
            GlobBuilder::new(text)
                .literal_separator(true)
                .build()
                .ok()
                .map(|g| Self::Glob(g.compile_matcher()))
        } else {
            Some(Self::Prefix(text.trim_end_matches('/').to_owned()))
        }
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        match self {
            Self::Glob(g) => g.is_match(path),
            Self::Prefix(p) => path == p || path.starts_with(&format!("{p}/")),
        }
    }
}

/// Work-tree or staged changes, and untracked files, under protected paths.
pub(crate) struct ProtectedPathChange {
    patterns: Vec<Pattern>,
}

impl ProtectedPathChange {
    pub(crate) fn new(protected: &[String]) -> Self {
        Self {
            patterns: protected.iter().filter_map(|p| Pattern::new(p)).collect(),
        }
    }

    fn finding(&self, path: &str, what: &str) -> Finding {
        Finding::of(self, RiskLevel::High, path, format!("{path} is protected and {what}"))
            .describe("The anchor protects this path: no agent may change it, and a change that is already there must be reviewed by a human before agents run.")
            .blocking(true)
            .remedy("a human reviews the change and either reverts it or commits it deliberately", true)
    }

    fn protected(&self, path: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(path))
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
            match std::fs::read(ctx.root.join(path)) {
                Err(_) => report(path, "was deleted in the work tree"),
                Ok(bytes) if blob_id(&bytes).as_deref() != Some(index_id.as_str()) => {
                    report(path, "has unstaged changes");
                }
                Ok(_) => {}
            }
            if in_head.get(path.as_str()).cloned().flatten().as_deref() != Some(index_id.as_str()) {
                report(path, "has staged changes");
            }
        }
    }
}
