//! `GapBaselineV1`: the gaps a project knows about and has accepted for now,
//! so that a scan reports only the gaps that are new.
//!
//! A baseline is matched by fingerprint ([`Gap::fingerprint`]): the gap's
//! identity without the lines and columns it was found at, so a gap whose
//! lines move (a line added above it) still matches, while a gap with other
//! evidence does not. Identical gaps in one file share a fingerprint and are
//! counted: a baseline that records one broken link to `x.md` accepts one,
//! and a second one is new. The other fields of an entry are there for the
//! people who review the file in a diff: what the gap is and where it was.
//!
//! [`Gap::fingerprint`]: crate::Gap::fingerprint

use std::cmp::Ordering;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Extra, FormatV1};
use crate::gap::{Gap, GapReportV1, GapType, RiskLevel};
use crate::kind::{Artifact, ArtifactKind, FieldPath, RunFile};

/// The gaps a scan should not report as new.
///
/// `known_gaps` is sorted by path (entries without one first), then gap id;
/// [`GapBaselineV1::sort`] applies that order. The file holds no time and no
/// run id: the same gaps always give the same bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Gap Baseline v1")]
pub struct GapBaselineV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// The accepted gaps, in the documented order.
    pub known_gaps: Vec<GapBaselineEntry>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Artifact for GapBaselineV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::GapBaselineV1;
    const NAME: &'static str = "gap_baseline_v1";
    const SHORT_NAME: &'static str = "baseline";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "gapbaseline";
    // A file the user names (`waypost scan --baseline FILE`), usually kept in
    // the repository beside the code it describes.
    const RUN_FILE: RunFile = RunFile::Elsewhere;
    const SIGNATURE_KEYS: &'static [&'static str] = &["known_gaps"];
    const VOLATILE_FIELDS: &'static [FieldPath] = &[];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[&["known_gaps"]];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/gap_baseline_v1.schema.json");
}

impl GapBaselineV1 {
    /// A baseline of `known_gaps`, sorted into the documented order.
    pub fn new(known_gaps: Vec<GapBaselineEntry>) -> Self {
        let mut baseline = Self {
            format_version: FormatV1,
            known_gaps,
            extra: Extra::new(),
        };
        baseline.sort();
        baseline
    }

    /// A baseline that accepts every gap of `report` (each id once; gaps
    /// that share a fingerprint each get an entry).
    pub fn of(report: &GapReportV1) -> Self {
        let mut entries: Vec<GapBaselineEntry> =
            report.gaps.iter().map(GapBaselineEntry::of).collect();
        entries.sort_by(|a, b| a.gap_id.cmp(&b.gap_id));
        entries.dedup_by(|a, b| a.gap_id == b.gap_id);
        Self::new(entries)
    }

    /// Sorts `known_gaps` into the documented order: path (none first),
    /// then gap id.
    pub fn sort(&mut self) {
        self.known_gaps.sort_by(GapBaselineEntry::file_order);
    }
}

/// One accepted gap: its id, and enough to recognise it in a review.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GapBaselineEntry {
    /// The gap's id in the report it was recorded from (it changes when
    /// the gap's lines move; kept to find the gap in that report).
    #[schemars(length(min = 1))]
    pub gap_id: String,
    /// The gap's fingerprint (`gapfp-` and 24 hex digits): its identity
    /// without lines and columns. The field a scan compares.
    #[schemars(regex(pattern = r"^gapfp-[a-f0-9]{24}$"))]
    pub fingerprint: String,
    /// The gap's type.
    pub gap_type: GapType,
    /// The check that found it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector: Option<String>,
    /// Its risk when it was recorded.
    pub risk_classification: RiskLevel,
    /// Its first evidence path, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub path: Option<String>,
    /// The line of its first evidence location, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub line: Option<u32>,
    /// Its title when it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl GapBaselineEntry {
    /// The entry that records `gap`: its id and fingerprint, type,
    /// detector, risk, first evidence path and line, and title.
    pub fn of(gap: &Gap) -> Self {
        let evidence = gap.evidence.as_ref();
        let first_location = evidence.and_then(|e| e.locations.first());
        Self {
            gap_id: gap.gap_id.clone(),
            fingerprint: gap.fingerprint(),
            gap_type: gap.gap_type,
            detector: gap.detector.clone(),
            risk_classification: gap.risk_classification,
            path: gap
                .first_path()
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
            line: first_location
                .filter(|l| Some(l.path.as_str()) == gap.first_path())
                .map(|l| l.start_line),
            title: gap.title.clone(),
            extra: Extra::new(),
        }
    }

    /// The documented file order: path (none first), then gap id.
    pub fn file_order(a: &Self, b: &Self) -> Ordering {
        a.path.cmp(&b.path).then_with(|| a.gap_id.cmp(&b.gap_id))
    }
}
