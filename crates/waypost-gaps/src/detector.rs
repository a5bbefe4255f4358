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
    /// Which [`Marker`]s the text contains, found in one pass on first use.
    markers: std::cell::OnceCell<u8>,
    /// The text as a string when it is UTF-8, checked once on first use.
    utf8: std::cell::OnceCell<Option<&'a str>>,
}

/// Strings several built-in detectors look for in source files. They are
/// found together, in one pass over a file, whichever detector asks first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    /// `Invariant:`, the start of an invariant block.
    InvariantBlock = 0,
    /// `fn`, before any test name.
    Fn = 1,
    /// `#[ignore`, an ignored test.
    IgnoreAttribute = 2,
}

/// Every marker found.
const ALL_MARKERS: u8 = 0b111;

/// The needles, in [`Marker`] order. Few and starting with rare pairs of
/// bytes: the SIMD matcher checks a candidate at every place the first
/// bytes of any needle occur.
static MARKERS: std::sync::LazyLock<aho_corasick::AhoCorasick> = std::sync::LazyLock::new(|| {
    // Leftmost-first lets the searcher use its SIMD literal matcher.
    aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .build(["Invariant:", "fn", "#[ignore"])
        .expect("literal needles")
});

impl<'a> ScannedFile<'a> {
    /// A file at `path` (repository-relative) under `root`.
    pub fn new(
        root: &'a std::path::Path,
        path: &'a str,
        size: u64,
        text: Option<&'a [u8]>,
    ) -> Self {
        Self {
            root,
            path,
            size,
            text,
            markers: std::cell::OnceCell::new(),
            utf8: std::cell::OnceCell::new(),
        }
    }

    /// The text as a string, when there is text and it is UTF-8. Checked
    /// once per file whichever detectors ask, with SIMD: every text file's
    /// bytes are checked, so this is on the scan's hot path.
    pub fn text_str(&self) -> Option<&'a str> {
        let text = self.text?;
        *self
            .utf8
            .get_or_init(|| simdutf8::basic::from_utf8(text).ok())
    }

    /// Whether the text contains `marker` (false without text).
    pub(crate) fn has(&self, marker: Marker) -> bool {
        let found = *self.markers.get_or_init(|| {
            let mut found = 0u8;
            for m in MARKERS.find_iter(self.text.unwrap_or_default()) {
                found |= 1 << m.pattern().as_u32();
                if found == ALL_MARKERS {
                    break;
                }
            }
            found
        });
        found & (1 << marker as u8) != 0
    }
}

/// What a scan knows besides the files: repository state, the clock and
/// the commit range. There is deliberately no list of every file: the tree
/// is checked as it is walked, and a detector that judges across files
/// keeps only the few files it needs (see [`Detector`]).
#[derive(Debug)]
pub struct ScanContext<'a> {
    /// Git state, when the root is a repository.
    pub repo: Option<&'a RepoState>,
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
    /// Further evidence by name (for example `moved_to`), kept in the gap's
    /// evidence next to its paths and locations. Part of the gap's identity.
    pub evidence: waypost_schemas::Extra,
    /// Likely but not certain (see [`waypost_schemas::LIKELY_SIGNAL`]).
    pub likely: bool,
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
            evidence: waypost_schemas::Extra::new(),
            likely: false,
        }
    }

    /// A finding of `detector` (its id and gap type) about `path`.
    pub fn of(
        detector: &dyn Detector,
        risk: RiskLevel,
        path: &str,
        title: impl Into<String>,
    ) -> Self {
        Self::new(detector.id(), detector.gap_type(), risk, path, title)
    }

    /// With a description.
    #[must_use]
    pub fn describe(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Likely rather than certain when `likely` holds: the detector could
    /// not rule out a reading under which nothing is wrong.
    #[must_use]
    pub fn likely_if(mut self, likely: bool) -> Self {
        self.likely = likely;
        self
    }

    /// Adds a named piece of evidence (`moved_to`, `written_as`, ...).
    pub fn with_evidence(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.evidence.insert(name.to_owned(), value.into());
        self
    }

    /// At a line (1-based) of its first path, with an excerpt of that line.
    #[must_use]
    pub fn at_line(self, line: u32, content: &str) -> Self {
        let excerpt = Excerpt::new(self.paths[0].clone(), content);
        self.at_line_with(line, excerpt)
    }

    /// At a line (1-based) of its first path, with an excerpt of that line
    /// made already (several findings on one line can share one).
    #[must_use]
    pub fn at_line_with(mut self, line: u32, excerpt: Excerpt) -> Self {
        self.locations.push(SourceLocation {
            path: self.paths[0].clone(),
            start_line: line.max(1),
            start_column: None,
            end_line: None,
            end_column: None,
        });
        self.excerpts.push(excerpt.at_line(line.max(1)));
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
/// the same type.
///
/// The engine walks the tree once, on several threads, and checks each file
/// as it finds it: [`Detector::check_file`] for the files whose
/// [`Detector::wants`] says yes, [`Detector::check_dir`] for every folder
/// the walk enters. [`Detector::finish`] runs once after the walk.
///
/// Files arrive in no particular order. A detector that judges across files
/// (duplicates, declarations and their uses) keeps what it needs behind a
/// lock and takes it in `finish`; it keeps only the files it is about (a
/// ledger, a manifest), never every file, and picks by path rather than by
/// arrival, so memory follows the findings, not the tree, and the report
/// does not depend on thread timing. Such state belongs to one scan: build
/// the detectors afresh for each scan (as [`crate::detectors::builtin`] does).
pub trait Detector: Send + Sync {
    /// Stable id (also the SARIF rule id), e.g. `broken_markdown_link`.
    fn id(&self) -> &'static str;
    /// The gap type it reports.
    fn gap_type(&self) -> GapType;
    /// One sentence: what it looks for.
    fn description(&self) -> &'static str;
    /// Whether to see this file (repository-relative path, `/` separators).
    fn wants(&self, _path: &str) -> bool {
        false
    }
    /// Checks one file.
    fn check_file(&self, _file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, _out: &mut Vec<Finding>) {
    }
    /// Checks one folder the walk enters (repository-relative, `""` for the
    /// root); the folder's entries can be listed from `ctx.root`.
    fn check_dir(&self, _dir: &str, _ctx: &ScanContext<'_>, _out: &mut Vec<Finding>) {}
    /// Checks one entry the walk finds that is neither a regular file nor a
    /// folder (repository-relative): a symbolic link, a FIFO, a socket or a
    /// device. These are never read (a link is never read through), so they
    /// reach no [`check_file`](Self::check_file).
    fn check_special(&self, _path: &str, _ctx: &ScanContext<'_>, _out: &mut Vec<Finding>) {}
    /// Whether this detector reads the git index entry for `path` (in
    /// `ctx.repo.index`, or through `RepoState::tracks`). Only such entries,
    /// and conflicted ones, are kept after the index is read.
    fn keeps_index_entry(&self, _path: &str) -> bool {
        false
    }
    /// Checks after the walk.
    fn finish(&self, _ctx: &ScanContext<'_>, _out: &mut Vec<Finding>) {}
}
