//! The detector trait and what detectors report.

use waypost_schemas::{Excerpt, GapType, RiskLevel, SafeRemediation, SourceLocation, Timestamp};

use crate::repo::RepoState;

/// One file as a detector sees it.
#[derive(Debug)]
pub struct ScannedFile<'a> {
    /// The scanned root on disk (for existence checks; never written).
    pub root: &'a std::path::Path,
    /// Repository-relative path with `/` separators.
    pub path: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// The content, when it is within the size cap and not binary.
    pub text: Option<&'a [u8]>,
}

/// What a scan knows besides the files: repository state, the clock, and
/// the list of every file the walk saw.
#[derive(Debug)]
pub struct ScanContext<'a> {
    /// Git state, when the root is a repository.
    pub repo: Option<&'a RepoState>,
    /// Every walked file (repository-relative, sorted) with its size.
    pub files: &'a [(String, u64)],
    /// "Now", for age thresholds (passed in; never read from the system here).
    pub now: &'a Timestamp,
    /// The scanned root on disk.
    pub root: &'a std::path::Path,
    /// The commits of the configured range, newest first (empty without one).
    pub commits: &'a [crate::repo::CommitInfo],
}

/// A finding, before it gets its id and its place in the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The detector.
    pub detector: &'static str,
    /// The standard gap type.
    pub gap_type: GapType,
    /// Severity.
    pub risk: RiskLevel,
    /// Whether the autopilot must stop.
    pub blocks_autopilot: bool,
    /// One line.
    pub title: String,
    /// What is wrong and why it matters.
    pub description: String,
    /// Repository-relative paths involved (at least one).
    pub paths: Vec<String>,
    /// Line-level locations.
    pub locations: Vec<SourceLocation>,
    /// Redacted excerpts.
    pub excerpts: Vec<Excerpt>,
    /// What would fix it.
    pub remediation: Option<SafeRemediation>,
}

impl Finding {
    /// A finding about `path` with no location yet.
    pub fn new(
        detector: &'static str,
        gap_type: GapType,
        risk: RiskLevel,
        path: &str,
        title: impl Into<String>,
    ) -> Self {
        Self {
            detector,
            gap_type,
            risk,
            blocks_autopilot: matches!(risk, RiskLevel::Critical),
            title: title.into(),
            description: String::new(),
            paths: vec![path.to_owned()],
            locations: Vec::new(),
            excerpts: Vec::new(),
            remediation: None,
        }
    }

    /// With a description.
    #[must_use]
    pub fn describe(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// At a line (1-based) of its first path, with an excerpt of that line.
    #[must_use]
    pub fn at_line(mut self, line: u32, content: &str) -> Self {
        let path = self.paths[0].clone();
        self.locations.push(SourceLocation {
            path: path.clone(),
            start_line: line.max(1),
            start_column: None,
            end_line: None,
            end_column: None,
        });
        self.excerpts
            .push(Excerpt::new(path, content).at_line(line.max(1)));
        self
    }

    /// Whether it blocks the autopilot.
    #[must_use]
    pub fn blocking(mut self, blocks: bool) -> Self {
        self.blocks_autopilot = blocks;
        self
    }

    /// With a safe remediation.
    #[must_use]
    pub fn remedy(mut self, approach: &str, requires_approval: bool) -> Self {
        self.remediation = Some(SafeRemediation {
            approach: Some(approach.to_owned()),
            requires_approval: Some(requires_approval),
            estimated_actions: Some(1),
            extra: Default::default(),
        });
        self
    }
}

/// A check. Each detector reports one gap type; many detectors may report
/// the same type. The engine walks the tree once and hands each file to the
/// detectors whose [`Detector::wants`] says yes; [`Detector::finish`] runs
/// once after the walk for checks over the whole tree or the repository.
pub trait Detector: Send + Sync {
    /// Stable id (also the SARIF rule id), e.g. `broken_markdown_link`.
    fn id(&self) -> &'static str;
    /// The gap type it reports.
    fn gap_type(&self) -> GapType;
    /// One sentence: what it looks for.
    fn description(&self) -> &'static str;
    /// Whether to see this file.
    fn wants(&self, _path: &str) -> bool {
        false
    }
    /// Checks one file.
    fn check_file(&self, _file: &ScannedFile<'_>, _out: &mut Vec<Finding>) {}
    /// Checks after the walk.
    fn finish(&self, _ctx: &ScanContext<'_>, _out: &mut Vec<Finding>) {}
}
