//! Baselines: the gaps a project has accepted for now, so that a scan can
//! report only what is new, as linters do.
//!
//! [`GapBaselineV1::of`] records every gap of a report; [`compare`] splits a
//! later report into gaps that are new, gaps the baseline already records,
//! and baseline entries that no longer occur (so the file can shrink).
//! Gaps are matched by fingerprint ([`Gap::fingerprint`]: the gap's
//! identity without lines and columns), counting identical ones: a gap
//! whose lines move still matches its entry; a second copy of an accepted
//! gap is new.
//!
//! ```
//! use waypost_gaps::baseline::compare;
//! use waypost_schemas::{GapBaselineV1, GapReportV1, Timestamp};
//!
//! # let report: GapReportV1 = serde_json::from_value(serde_json::json!({
//! #     "format_version": "v1", "project_id": "demo", "run_id": "scan-1",
//! #     "generated_at": "2026-01-01T00:00:00Z", "gaps": []
//! # }))?;
//! let accepted = GapBaselineV1::of(&report);
//! let comparison = compare(&report, &accepted);
//! assert!(comparison.new.is_empty() && comparison.absent.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use waypost_schemas::io::{
    Links, MAX_ARTIFACT_BYTES, ReadError, WriteError, read_file, write_artifact,
};
use waypost_schemas::validate::{self, ValidationError};
use waypost_schemas::{
    ArtifactKind, Gap, GapBaselineEntry, GapBaselineV1, GapReportV1, GapSummary,
};

/// A report set against a baseline.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Comparison {
    /// Gaps the baseline does not record, in report order.
    pub new: Vec<Gap>,
    /// Gaps the baseline records, in report order.
    pub unchanged: Vec<Gap>,
    /// Baseline entries no gap of the report matches any more, in the
    /// baseline's order.
    pub absent: Vec<GapBaselineEntry>,
}

// Invariant: GAP-010 Only gaps a baseline does not record count as findings.
// Category: determinism
// Why: a baseline lets a project adopt the scanner on a repository with thousands of
//      known gaps and still fail on the next new one; a gap counted twice, or a new gap
//      hidden by a near match, breaks that promise.
// Enforced by: compare matches by fingerprint, each baseline entry at most once (so a
//      second copy of an accepted gap is new), and puts every gap in exactly one of
//      new / unchanged; the CLI's exit code reads `new` alone.
/// Splits `report` against `baseline`: every gap is either new or
/// unchanged, and every baseline entry no gap matched is absent. Gaps are
/// matched by fingerprint in report order, each entry once: with two
/// entries of one fingerprint and three such gaps, the third is new.
pub fn compare(report: &GapReportV1, baseline: &GapBaselineV1) -> Comparison {
    let mut available: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in &baseline.known_gaps {
        *available.entry(entry.fingerprint.as_str()).or_default() += 1;
    }
    let mut matched: BTreeMap<String, usize> = BTreeMap::new();
    let mut new = Vec::new();
    let mut unchanged = Vec::new();
    for gap in &report.gaps {
        let fingerprint = gap.fingerprint();
        match available.get_mut(fingerprint.as_str()) {
            Some(left) if *left > 0 => {
                *left -= 1;
                *matched.entry(fingerprint).or_default() += 1;
                unchanged.push(gap.clone());
            }
            _ => new.push(gap.clone()),
        }
    }
    // The first entries of each fingerprint (in the baseline's order) are
    // the matched ones; the rest no longer occur.
    let absent = baseline
        .known_gaps
        .iter()
        .filter(|entry| match matched.get_mut(entry.fingerprint.as_str()) {
            Some(count) if *count > 0 => {
                *count -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect();
    Comparison {
        new,
        unchanged,
        absent,
    }
}

impl Comparison {
    /// `report` with only the new gaps, and its summary counting them: a
    /// valid `gap_report_v1` of what the baseline does not cover.
    pub fn new_gaps_report(&self, report: &GapReportV1) -> GapReportV1 {
        let mut only_new = report.clone();
        only_new.gaps.clone_from(&self.new);
        if only_new.summary.is_some() {
            only_new.summary = Some(GapSummary::of(&only_new.gaps));
        }
        only_new
    }

    /// Whether the baseline records the gap with this id.
    pub fn is_unchanged(&self, gap_id: &str) -> bool {
        self.unchanged.iter().any(|g| g.gap_id == gap_id)
    }
}

/// A baseline file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// The file cannot be read (missing, a link, a FIFO, too large).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The file is not JSON.
    #[error("baseline {}:{line}:{column}: not valid JSON: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// The file is another artifact (a gap report, say).
    #[error("baseline {}: this is a {found}, not a gap_baseline_v1 (`waypost scan --write-baseline FILE` writes one)", path.display())]
    WrongKind {
        /// The file.
        path: PathBuf,
        /// The kind it is.
        found: ArtifactKind,
    },
    /// The file is not a valid baseline.
    #[error("baseline {}: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: ValidationError,
    },
    /// The file could not be written; the file at the path is unchanged.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The baseline would be larger than a reader accepts: written, it
    /// could never be read back.
    #[error(
        "baseline {}: {bytes} bytes is more than the {cap}-byte cap a baseline is read within; fix or disable the noisiest detectors first (`[scan] disabled`)",
        path.display()
    )]
    TooLarge {
        /// The file that was not written.
        path: PathBuf,
        /// Its size as it would be written.
        bytes: u64,
        /// The read cap.
        cap: u64,
    },
}

/// Reads and validates the baseline at `path` (within the artifact size
/// cap). A symbolic link is refused: baselines are usually kept in the
/// repository, and a repository is untrusted input.
pub fn read(path: &Path) -> Result<GapBaselineV1, BaselineError> {
    let bytes = read_file(path, MAX_ARTIFACT_BYTES, Links::Refuse)?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| BaselineError::Parse {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: without_position(&e.to_string()),
        })?;
    if let Ok(found) = ArtifactKind::detect(&value)
        && found != ArtifactKind::GapBaselineV1
    {
        return Err(BaselineError::WrongKind {
            path: path.to_owned(),
            found,
        });
    }
    validate::validate(&value).map_err(|source| BaselineError::Invalid {
        path: path.to_owned(),
        source,
    })
}

/// Writes `baseline` to `path` atomically, sorted into its documented
/// order: the old file or the new one, never a torn mix.
pub fn write(path: &Path, baseline: &GapBaselineV1) -> Result<(), BaselineError> {
    let mut sorted = baseline.clone();
    sorted.sort();
    let bytes = waypost_schemas::io::to_pretty_json(&sorted).len() as u64;
    if bytes > MAX_ARTIFACT_BYTES {
        return Err(BaselineError::TooLarge {
            path: path.to_owned(),
            bytes,
            cap: MAX_ARTIFACT_BYTES,
        });
    }
    Ok(write_artifact(path, &sorted)?)
}

/// serde_json appends " at line L column C"; the error reports those itself.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use waypost_schemas::{GapType, RiskLevel};

    /// A baseline a reader would refuse is not written, and an existing
    /// file is left as it was.
    #[test]
    fn a_baseline_too_large_to_read_back_is_not_written() {
        let dir = tempfile::tempdir().expect("temp");
        let path = dir.path().join("waypost-baseline.json");
        write(&path, &GapBaselineV1::new(Vec::new())).expect("a small one is written");
        let before = std::fs::read(&path).expect("written");
        let entry = |i: usize| GapBaselineEntry {
            gap_id: format!("gap-{i:024x}"),
            fingerprint: format!("gapfp-{i:024x}"),
            gap_type: GapType::DocDrift,
            detector: None,
            risk_classification: RiskLevel::Low,
            path: None,
            line: None,
            title: Some("x".repeat(12 * 1024 * 1024)),
            extra: Default::default(),
        };
        let huge = GapBaselineV1::new((0..3).map(entry).collect());
        let error = write(&path, &huge).expect_err("too large");
        assert!(matches!(error, BaselineError::TooLarge { .. }), "{error}");
        assert!(
            error.to_string().contains("waypost-baseline.json"),
            "{error}"
        );
        assert_eq!(std::fs::read(&path).expect("still there"), before);
    }
}
