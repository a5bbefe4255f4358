//! `GapReportV1`: what is wrong with a repository right now, with the signals
//! and evidence that show it.

use std::cmp::Ordering;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canonical::{canonical_of, content_id};
use crate::common::{Extra, FormatV1, Timestamp};
use crate::excerpt::Excerpt;
use crate::kind::{Artifact, ArtifactKind, FieldPath, RunFile};
use crate::layout::RunDir;

/// Deterministic gap detection report: mismatches between the current and the
/// intended state of a repository, with detection signals and evidence.
///
/// `gaps` is sorted by risk (most severe first), then gap type, then first
/// evidence path, then first line and column, then gap id;
/// `GapReportV1::sort_gaps` applies that order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Gap Report v1")]
pub struct GapReportV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// Project identifier.
    #[schemars(length(min = 1))]
    pub project_id: String,
    /// Run identifier.
    #[schemars(length(min = 1))]
    pub run_id: String,
    /// When the report was generated (RFC 3339).
    pub generated_at: Timestamp,
    /// Digest (lowercase hex, 16 to 64 characters) of the scanned workspace
    /// state: HEAD, index and scanned files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-f0-9]{16,64}$"))]
    pub workspace_state_digest: Option<String>,
    /// Detected gaps, in the documented order.
    pub gaps: Vec<Gap>,
    /// Counts by risk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<GapSummary>,
    /// Scanner metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<GapReportMetadata>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Artifact for GapReportV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::GapReportV1;
    const NAME: &'static str = "gap_report_v1";
    const SHORT_NAME: &'static str = "gaps";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "gapreport";
    const RUN_FILE: RunFile = RunFile::OnePerRun(RunDir::Gaps);
    const SIGNATURE_KEYS: &'static [&'static str] = &["gaps", "workspace_state_digest"];
    const VOLATILE_FIELDS: &'static [FieldPath] = &[
        &["generated_at"],
        &["run_id"],
        &["metadata", "scan_duration_ms"],
    ];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[
        &["gaps", "*", "detection_signals"],
        &["gaps", "*", "evidence", "file_paths"],
        &["gaps", "*", "evidence", "test_names"],
        &["gaps", "*", "evidence", "excerpts"],
        &["gaps", "*", "evidence", "locations"],
        &["gaps"],
    ];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/gap_report_v1.schema.json");
}

impl GapReportV1 {
    /// Sorts `gaps` into the documented order: risk (critical first), gap
    /// type, first evidence path, first line and column, gap id.
    pub fn sort_gaps(&mut self) {
        self.gaps.sort_by(Gap::report_order);
    }
}

/// One detected gap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Gap {
    /// Stable identifier: the same gap in the same state gets the same id
    /// (`Gap::derive_gap_id`).
    pub gap_id: String,
    /// Standardized gap type.
    pub gap_type: GapType,
    /// waypost addition: the specific check that found the gap (many
    /// detectors report one gap type). Also the SARIF rule id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub detector: Option<String>,
    /// Human-readable title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Detailed description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Signals that detected this gap (file paths, test names, ...).
    pub detection_signals: Vec<String>,
    /// Evidence pointers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<GapEvidence>,
    /// Risk severity.
    pub risk_classification: RiskLevel,
    /// Whether this gap blocks autonomous execution.
    pub blocks_autopilot: bool,
    /// A safe remediation approach, when there is a deterministic one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safe_remediation: Option<SafeRemediation>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The detection signal of a gap that is likely but not certain: the
/// detector could not rule out a reading of the evidence under which
/// nothing is wrong. A gap without it is certain.
pub const LIKELY_SIGNAL: &str = "confidence:likely";

/// The fields that make a gap the same gap: type, detector, signals
/// (without [`LIKELY_SIGNAL`]) and evidence. Title, description, risk,
/// confidence and remediation may be reworded or reclassified without the
/// gap becoming a different one.
#[derive(Serialize)]
struct Identity<'a> {
    gap_type: &'a GapType,
    #[serde(skip_serializing_if = "Option::is_none")]
    detector: Option<&'a String>,
    detection_signals: Vec<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<&'a GapEvidence>,
}

impl Gap {
    /// Whether the detector is sure (no [`LIKELY_SIGNAL`] among the
    /// signals). Text output shows only certain gaps unless asked for all.
    /// A file of the signal's name among the evidence's paths is a path,
    /// not the signal: the signal counts only beyond those.
    pub fn is_certain(&self) -> bool {
        let signals = self
            .detection_signals
            .iter()
            .filter(|s| *s == LIKELY_SIGNAL)
            .count();
        let paths = self.evidence.as_ref().map_or(0, |e| {
            e.file_paths.iter().filter(|p| *p == LIKELY_SIGNAL).count()
        });
        signals <= paths
    }

    /// The first evidence path, if any: the third sort key of a report.
    pub fn first_path(&self) -> Option<&str> {
        let evidence = self.evidence.as_ref()?;
        evidence
            .file_paths
            .first()
            .or_else(|| evidence.locations.first().map(|l| &l.path))
            .map(String::as_str)
    }

    /// The line and column of the first evidence location, if any.
    fn first_position(&self) -> Option<(u32, Option<u32>)> {
        let location = self.evidence.as_ref()?.locations.first()?;
        Some((location.start_line, location.start_column))
    }

    /// The documented report order: risk, gap type, first path, first
    /// line and column (so one file's findings read top to bottom), gap id.
    pub fn report_order(a: &Gap, b: &Gap) -> Ordering {
        a.risk_classification
            .cmp(&b.risk_classification)
            .then(a.gap_type.cmp(&b.gap_type))
            .then_with(|| a.first_path().cmp(&b.first_path()))
            .then_with(|| a.first_position().cmp(&b.first_position()))
            .then_with(|| a.gap_id.cmp(&b.gap_id))
    }
}

/// Standardized gap types.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GapType {
    DocDrift,
    RootClutter,
    SotDuplicate,
    TestInfraDrift,
    MemoryBudgetCapIssue,
    WindowsEncodingIssue,
    BaselinePolicyDrift,
    ProtectedPathViolation,
    DbLockContention,
    GitStateCorruption,
    Unknown,
}

impl GapType {
    /// Every gap type, in declaration order.
    pub const ALL: [GapType; 11] = [
        Self::DocDrift,
        Self::RootClutter,
        Self::SotDuplicate,
        Self::TestInfraDrift,
        Self::MemoryBudgetCapIssue,
        Self::WindowsEncodingIssue,
        Self::BaselinePolicyDrift,
        Self::ProtectedPathViolation,
        Self::DbLockContention,
        Self::GitStateCorruption,
        Self::Unknown,
    ];

    /// The wire name, e.g. `doc_drift`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DocDrift => "doc_drift",
            Self::RootClutter => "root_clutter",
            Self::SotDuplicate => "sot_duplicate",
            Self::TestInfraDrift => "test_infra_drift",
            Self::MemoryBudgetCapIssue => "memory_budget_cap_issue",
            Self::WindowsEncodingIssue => "windows_encoding_issue",
            Self::BaselinePolicyDrift => "baseline_policy_drift",
            Self::ProtectedPathViolation => "protected_path_violation",
            Self::DbLockContention => "db_lock_contention",
            Self::GitStateCorruption => "git_state_corruption",
            Self::Unknown => "unknown",
        }
    }
}

/// Risk severity, most severe first: `critical`, `high`, `medium`, `low`,
/// `info`. The derived order sorts the most severe first.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl RiskLevel {
    /// The wire name, e.g. `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::Info => "info",
        }
    }
}

/// Evidence pointers. Lists are sets: their order carries no meaning and the
/// canonical form sorts them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GapEvidence {
    /// Repository-relative paths involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_paths: Vec<String>,
    /// Tests involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test_names: Vec<String>,
    /// Redacted excerpts of the evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excerpts: Vec<Excerpt>,
    /// waypost addition: line-level locations (for SARIF and review comments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub locations: Vec<SourceLocation>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A region of a repository file. Lines and columns are 1-based.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct SourceLocation {
    /// Repository-relative path with `/` separators.
    #[schemars(length(min = 1))]
    pub path: String,
    /// First line of the region.
    #[schemars(range(min = 1))]
    pub start_line: u32,
    /// First column of the region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub start_column: Option<u32>,
    /// Last line of the region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub end_line: Option<u32>,
    /// Column just past the end of the region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub end_column: Option<u32>,
}

/// A safe remediation approach.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SafeRemediation {
    /// What to do, in plain words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approach: Option<String>,
    /// Whether a human must approve it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_approval: Option<bool>,
    /// How many actions it is expected to take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_actions: Option<u32>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Gap counts by risk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GapSummary {
    /// All gaps.
    #[serde(default)]
    pub total_gaps: u64,
    /// Gaps classified critical.
    #[serde(default)]
    pub critical_gaps: u64,
    /// Gaps classified high.
    #[serde(default)]
    pub high_gaps: u64,
    /// Gaps classified medium.
    #[serde(default)]
    pub medium_gaps: u64,
    /// Gaps classified low.
    #[serde(default)]
    pub low_gaps: u64,
    /// Gaps that block the autopilot.
    #[serde(default)]
    pub autopilot_blockers: u64,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl GapSummary {
    /// Counts `gaps` (a slice of gaps, or of references to them).
    pub fn of<'a>(gaps: impl IntoIterator<Item = &'a Gap>) -> Self {
        let mut summary = Self {
            total_gaps: 0,
            critical_gaps: 0,
            high_gaps: 0,
            medium_gaps: 0,
            low_gaps: 0,
            autopilot_blockers: 0,
            extra: Extra::new(),
        };
        for gap in gaps {
            summary.total_gaps += 1;
            match gap.risk_classification {
                RiskLevel::Critical => summary.critical_gaps += 1,
                RiskLevel::High => summary.high_gaps += 1,
                RiskLevel::Medium => summary.medium_gaps += 1,
                RiskLevel::Low => summary.low_gaps += 1,
                RiskLevel::Info => {}
            }
            summary.autopilot_blockers += u64::from(gap.blocks_autopilot);
        }
        summary
    }
}

/// Scanner metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GapReportMetadata {
    /// Version of the scanner that wrote the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scanner_version: Option<String>,
    /// How long the scan took (volatile: excluded from ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_duration_ms: Option<u64>,
    /// How many files the scan walked: those it read, and those it could
    /// only name (binaries, files over the size cap). A report that says
    /// nothing is wrong says so about this many files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files_scanned: Option<u64>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Gap {
    /// The arrays of a gap's identity whose order carries no meaning.
    const UNORDERED: [FieldPath; 5] = [
        &["detection_signals"],
        &["evidence", "file_paths"],
        &["evidence", "test_names"],
        &["evidence", "excerpts"],
        &["evidence", "locations"],
    ];

    /// The gap's identity fields, serialized as the whole gap would
    /// serialize them (absent options left out), without the prose around
    /// them: a report of thousands of gaps derives thousands of ids.
    fn identity(&self) -> Identity<'_> {
        // Confidence is a judgement about the gap, not part of what it is:
        // a gap that turns certain or likely stays the same gap.
        let mut signals: Vec<&String> = self.detection_signals.iter().collect();
        if !self.is_certain()
            && let Some(at) = signals.iter().rposition(|s| *s == LIKELY_SIGNAL)
        {
            signals.remove(at);
        }
        Identity {
            gap_type: &self.gap_type,
            detector: self.detector.as_ref(),
            detection_signals: signals,
            evidence: self.evidence.as_ref(),
        }
    }

    /// The canonical bytes of the gap's identity fields.
    pub fn identity_bytes(&self) -> Vec<u8> {
        canonical_of(&self.identity(), &[], &Self::UNORDERED)
    }

    /// `gap-<24 hex>`: stable for the same gap in the same state, whatever
    /// the order of its signals and evidence.
    pub fn derive_gap_id(&self) -> String {
        content_id("gap", &self.identity_bytes())
    }

    /// Where a gap is within its files (lines and columns) is left out of its
    /// fingerprint.
    const POSITIONS: [FieldPath; 5] = [
        &["evidence", "locations", "*", "start_line"],
        &["evidence", "locations", "*", "start_column"],
        &["evidence", "locations", "*", "end_line"],
        &["evidence", "locations", "*", "end_column"],
        &["evidence", "excerpts", "*", "line"],
    ];

    /// `gapfp-<24 hex>`: the gap's identity without the lines and columns it
    /// was found at, so the same gap keeps its fingerprint when lines above
    /// it are added or removed. Two identical gaps in one file (the same
    /// broken link twice) share it; a baseline counts them.
    pub fn fingerprint(&self) -> String {
        content_id(
            "gapfp",
            &canonical_of(&self.identity(), &Self::POSITIONS, &Self::UNORDERED),
        )
    }
}

impl GapReportV1 {
    /// `gapreport-<24 hex>`: derived from the canonical content; the run id,
    /// generation time and scan duration are excluded, so two scans of the
    /// same state give the same id.
    pub fn gap_report_id(&self) -> String {
        self.content_id()
    }
}
