//! Reports for people and tools: SARIF 2.1.0, Markdown, text.
//!
//! Text and Markdown are written to be read at thousands of findings: a
//! summary first (counts by gap type and by detector, the folders with the
//! most findings), then the findings grouped by detector, at most
//! [`Listing::per_detector`] of each, with a count of the rest. Each line
//! names its path once. The order is the report's, so the same report
//! always renders the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Value, json};
use waypost_schemas::{Gap, GapBaselineEntry, GapReportV1, GapSummary, Redacted, RiskLevel};

use crate::baseline::Comparison;
use crate::detector::Detector;

fn level(risk: RiskLevel) -> &'static str {
    match risk {
        RiskLevel::Critical | RiskLevel::High => "error",
        RiskLevel::Medium => "warning",
        RiskLevel::Low | RiskLevel::Info => "note",
    }
}

/// SARIF 2.1.0 for code scanning: one rule per detector (stable `ruleId`),
/// repository-relative URIs, `region.startLine`, snippets as objects, and
/// `partialFingerprints` from the gap id so alerts track the same gap across
/// scans.
pub fn sarif(report: &GapReportV1, detectors: &[Box<dyn Detector>]) -> Value {
    sarif_document(report, detectors, None)
}

/// [`sarif`] of a report set against a baseline: every result carries
/// `baselineState`, `new` or `unchanged`.
///
/// Baseline entries that no longer occur are not emitted as `absent`
/// results: code-scanning services such as GitHub's treat every result as
/// an open alert whatever its `baselineState` or `kind`, so an absent
/// result would reopen a gap that was fixed. [`text`] and [`markdown`] list
/// them.
pub fn sarif_with_baseline(
    report: &GapReportV1,
    detectors: &[Box<dyn Detector>],
    comparison: &Comparison,
) -> Value {
    sarif_document(report, detectors, Some(comparison))
}

fn sarif_document(
    report: &GapReportV1,
    detectors: &[Box<dyn Detector>],
    comparison: Option<&Comparison>,
) -> Value {
    let rules: Vec<Value> = detectors
        .iter()
        .map(|d| {
            json!({
                "id": d.id(),
                "name": d.id(),
                "shortDescription": {"text": d.description()},
                "fullDescription": {"text": d.description()},
                "properties": {"gap_type": d.gap_type().as_str(), "tags": ["waypost", d.gap_type().as_str()]},
            })
        })
        .collect();
    let index_of = |id: &str| detectors.iter().position(|d| d.id() == id);
    let unchanged: BTreeSet<&str> = comparison
        .map(|c| c.unchanged.iter().map(|g| g.gap_id.as_str()).collect())
        .unwrap_or_default();
    let results: Vec<Value> = report
        .gaps
        .iter()
        .map(|gap| {
            let rule = group_key(gap).to_owned();
            let mut result = json!({
                "ruleId": rule,
                // A likely gap is a note: code scanning does not open it as
                // an alert that fails a check.
                "level": if gap.is_certain() { level(gap.risk_classification) } else { "note" },
                "message": {"text": message(gap).as_str()},
                "locations": locations(gap),
                "partialFingerprints": {"waypostGapId/v1": gap.gap_id},
                "properties": {"gap_type": gap.gap_type.as_str(), "risk": gap.risk_classification.as_str(), "blocks_autopilot": gap.blocks_autopilot, "confidence": if gap.is_certain() { "certain" } else { "likely" }},
            });
            if let Some(i) = index_of(&rule) {
                result["ruleIndex"] = json!(i);
            }
            if comparison.is_some() {
                result["baselineState"] = json!(if unchanged.contains(gap.gap_id.as_str()) {
                    "unchanged"
                } else {
                    "new"
                });
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "waypost", "semanticVersion": env!("CARGO_PKG_VERSION"), "rules": rules}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    })
}

/// A SARIF result's message: the title and description, redacted.
fn message(gap: &Gap) -> Redacted<'static> {
    Redacted::owned(match (&gap.title, &gap.description) {
        (Some(t), Some(d)) => format!("{t}. {d}"),
        (Some(t), None) => t.clone(),
        (None, Some(d)) => d.clone(),
        (None, None) => gap.gap_type.as_str().to_owned(),
    })
}

fn locations(gap: &Gap) -> Vec<Value> {
    let evidence = gap.evidence.as_ref();
    let mut out: Vec<Value> = evidence
        .map(|e| {
            e.locations
                .iter()
                .map(|loc| {
                    let snippet = e.excerpts.iter().find(|x| x.source() == loc.path && x.line() == Some(loc.start_line)).map(|x| Redacted::from(x).into_string());
                    let mut region = json!({"startLine": loc.start_line});
                    if let Some(col) = loc.start_column {
                        region["startColumn"] = json!(col);
                    }
                    if let Some(text) = snippet {
                        region["snippet"] = json!({"text": text});
                    }
                    json!({"physicalLocation": {"artifactLocation": {"uri": sarif_uri(&loc.path), "uriBaseId": "%SRCROOT%"}, "region": region}})
                })
                .collect()
        })
        .unwrap_or_default();
    if out.is_empty() {
        // A file-level finding: the file, no region.
        for path in evidence
            .map(|e| e.file_paths.as_slice())
            .unwrap_or_default()
            .iter()
            .take(1)
        {
            out.push(json!({"physicalLocation": {"artifactLocation": {"uri": sarif_uri(path), "uriBaseId": "%SRCROOT%"}}}));
        }
    }
    out
}

/// How many findings of each detector text and Markdown list unless asked
/// for another number.
pub const DEFAULT_LIMIT: usize = 20;

/// How many of the most affected folders the summary names.
const TOP_FOLDERS: usize = 5;

/// What [`text`] and [`markdown`] list.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Listing<'a> {
    /// At most this many findings of each detector (and of baseline
    /// entries no longer found); `None` lists them all.
    pub per_detector: Option<usize>,
    /// The report set against a baseline: only new gaps are listed and
    /// counted, the known ones are counted, and entries no longer found are
    /// listed.
    pub baseline: Option<&'a Comparison>,
    /// Likely gaps (see [`waypost_schemas::LIKELY_SIGNAL`]) are listed and
    /// counted too; by default only certain ones are, and the likely ones
    /// are counted in one line.
    pub likely: bool,
}

impl Default for Listing<'_> {
    fn default() -> Self {
        Self::limited(Some(DEFAULT_LIMIT))
    }
}

impl<'a> Listing<'a> {
    /// At most `per_detector` findings of each detector (`None`: all).
    pub fn limited(per_detector: Option<usize>) -> Self {
        Self {
            per_detector,
            baseline: None,
            likely: false,
        }
    }

    /// The same listing, with likely gaps listed too when `likely` holds.
    pub fn with_likely(self, likely: bool) -> Self {
        Self { likely, ..self }
    }

    /// The same listing, of the new gaps of `comparison` only.
    pub fn with_baseline(self, comparison: &'a Comparison) -> Self {
        Self {
            baseline: Some(comparison),
            ..self
        }
    }

    /// The gaps listed: the new ones with a baseline, else all; only the
    /// certain ones unless [`Listing::likely`].
    fn gaps<'r>(&self, report: &'r GapReportV1) -> Vec<&'r Gap>
    where
        'a: 'r,
    {
        self.candidates(report)
            .into_iter()
            .filter(|g| self.likely || g.is_certain())
            .collect()
    }

    /// The gaps listed before likely ones are left out.
    fn candidates<'r>(&self, report: &'r GapReportV1) -> Vec<&'r Gap>
    where
        'a: 'r,
    {
        match self.baseline {
            Some(c) => c.new.iter().collect(),
            None => report.gaps.iter().collect(),
        }
    }

    /// How many likely gaps are left out: `N likely gaps not listed …`, or
    /// `None` when none is.
    fn hidden_line(&self, report: &GapReportV1) -> Option<String> {
        if self.likely {
            return None;
        }
        let hidden = self
            .candidates(report)
            .iter()
            .filter(|g| !g.is_certain())
            .count();
        (hidden > 0).then(|| {
            format!(
                "{} not listed (not certain: `waypost scan --all` lists them)",
                count(hidden, "likely gap", "likely gaps")
            )
        })
    }

    /// How many of `total` are listed.
    fn shown(&self, total: usize) -> usize {
        self.per_detector.map_or(total, |n| n.min(total))
    }
}

/// `1,234,567`.
/// [`thousands`] of a count kept as `u64`.
fn thousands_u64(n: u64) -> String {
    thousands(usize::try_from(n).unwrap_or(usize::MAX))
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 gap`, `2,950 gaps`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// The detector that found a gap, or its gap type when it names none: the
/// group it is listed in and its SARIF rule.
fn group_key(gap: &Gap) -> &str {
    gap.detector.as_deref().unwrap_or(gap.gap_type.as_str())
}

/// The findings of one detector, in report order.
struct Group<'r> {
    detector: &'r str,
    gap_type: &'static str,
    gaps: Vec<&'r Gap>,
}

/// `gaps` grouped by detector; groups in the order of their first gap
/// (the report's order: the most severe first).
fn groups<'r>(gaps: &[&'r Gap]) -> Vec<Group<'r>> {
    let mut out: Vec<Group<'r>> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for &gap in gaps {
        let key = group_key(gap);
        let i = *index.entry(key).or_insert_with(|| {
            out.push(Group {
                detector: key,
                gap_type: gap.gap_type.as_str(),
                gaps: Vec::new(),
            });
            out.len() - 1
        });
        out[i].gaps.push(gap);
    }
    out
}

/// Counts of `keys`, most first, then by name.
fn tally<'k>(keys: impl IntoIterator<Item = &'k str>) -> Vec<(&'k str, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for key in keys {
        *counts.entry(key).or_default() += 1;
    }
    let mut out: Vec<(&str, usize)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    out
}

/// The folder a gap is in: its first path's folder with a trailing `/`, or
/// `(root)`; `None` for a gap with no path.
fn folder(gap: &Gap) -> Option<&str> {
    let path = gap.first_path().filter(|p| !p.is_empty())?;
    Some(match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "(root)",
    })
}

/// Where a gap is: the path of its first location and that line, else its
/// first path.
fn place(gap: &Gap) -> Option<(&str, Option<u32>)> {
    let e = gap.evidence.as_ref()?;
    e.locations
        .first()
        .map(|l| (l.path.as_str(), Some(l.start_line)))
        .or_else(|| e.file_paths.first().map(|p| (p.as_str(), None)))
}

/// The place of a baseline entry, as [`place`].
fn entry_place(entry: &GapBaselineEntry) -> Option<(&str, Option<u32>)> {
    entry.path.as_deref().map(|p| (p, entry.line))
}

/// One finding in words, naming its path once: a title that already names
/// the path gets the line added there (`README.md:3 links to …`); any other
/// title follows the place (`.git/HEAD: HEAD is detached`). `code` wraps the
/// place (Markdown puts it in backticks).
fn finding_text(
    place: Option<(&str, Option<u32>)>,
    title: &Redacted<'_>,
    code: impl Fn(&str) -> String,
) -> String {
    let title = title.as_str();
    let Some((path, line)) = place.filter(|(p, _)| !p.is_empty()) else {
        return title.to_owned();
    };
    let shown = match line {
        Some(line) => code(&format!("{path}:{line}")),
        None => code(path),
    };
    match find_path(title, path) {
        Some(at) => format!("{}{shown}{}", &title[..at], &title[at + path.len()..]),
        None => format!("{shown}: {title}"),
    }
}

/// Where `path` occurs in `title` as a whole path: not part of a longer
/// name on either side.
fn find_path(title: &str, path: &str) -> Option<usize> {
    let part_of_name = |c: char| c.is_alphanumeric() || matches!(c, '/' | '_' | '-' | '.');
    title.match_indices(path).map(|(at, _)| at).find(|&at| {
        let before = title[..at].chars().next_back();
        let mut after = title[at + path.len()..].chars();
        let next = after.next();
        let continues = match next {
            // A sentence may end right after the path; a longer name may not.
            Some('.') => after.next().is_some_and(part_of_name),
            Some(c) => part_of_name(c),
            None => false,
        };
        !before.is_some_and(part_of_name) && !continues
    })
}

/// The title of a gap (else its description, else its type), redacted:
/// a report read from a file may hold text no scanner redacted.
fn title_of(gap: &Gap) -> Redacted<'_> {
    Redacted::new(
        gap.title
            .as_deref()
            .or(gap.description.as_deref())
            .unwrap_or(gap.gap_type.as_str()),
    )
}

/// The title of a baseline entry (else its gap type), redacted.
fn entry_title(entry: &GapBaselineEntry) -> Redacted<'_> {
    Redacted::new(entry.title.as_deref().unwrap_or(entry.gap_type.as_str()))
}

/// `N gaps (a critical, b high, c medium, d low), e blocking the autopilot`,
/// with `new` before `gaps` when set against a baseline.
fn totals(gaps: &[&Gap], against_baseline: bool) -> String {
    let s = GapSummary::of(gaps.iter().copied());
    let n = thousands_u64;
    format!(
        "{} {} ({} critical, {} high, {} medium, {} low), {} blocking the autopilot",
        n(s.total_gaps),
        match (against_baseline, s.total_gaps == 1) {
            (true, true) => "new gap",
            (true, false) => "new gaps",
            (false, true) => "gap",
            (false, false) => "gaps",
        },
        n(s.critical_gaps),
        n(s.high_gaps),
        n(s.medium_gaps),
        n(s.low_gaps),
        n(s.autopilot_blockers),
    )
}

/// What the baseline accounts for: `40 known gaps not listed, 2 baseline
/// entries no longer found`.
fn baseline_line(c: &Comparison) -> String {
    format!(
        "baseline: {} not listed, {} no longer found",
        count(c.unchanged.len(), "known gap", "known gaps"),
        count(c.absent.len(), "entry", "entries"),
    )
}

/// One table of the text summary: a heading, rows of counts, and what was
/// left out.
struct CountTable<'k> {
    heading: &'static str,
    rows: Vec<(&'k str, usize)>,
    more: Option<String>,
}

/// The summary's tables, names and counts aligned across all of them.
fn write_counts(out: &mut String, tables: &[CountTable<'_>]) {
    let rows = || tables.iter().flat_map(|t| t.rows.iter());
    let name_width = rows().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let count_width = rows().map(|(_, n)| thousands(*n).len()).max().unwrap_or(0);
    for table in tables.iter().filter(|t| !t.rows.is_empty()) {
        let _ = writeln!(out, "{}:", table.heading);
        for (name, n) in &table.rows {
            let _ = writeln!(
                out,
                "  {name:<name_width$}  {:>count_width$}",
                thousands(*n)
            );
        }
        if let Some(more) = &table.more {
            let _ = writeln!(out, "  {more}");
        }
    }
}

/// Plain text for a person at a terminal: the totals, counts by gap type,
/// by detector and the folders with the most findings; then the findings
/// grouped by detector (at most [`Listing::per_detector`] each, then
/// `… and N more`); with a baseline, the entries no longer found; and the
/// totals again as the last line.
pub fn text(report: &GapReportV1, listing: &Listing<'_>) -> String {
    let gaps = listing.gaps(report);
    let against = listing.baseline.is_some();
    let mut out = String::new();
    let totals = totals(&gaps, against);
    let hidden = listing.hidden_line(report);
    let _ = writeln!(out, "{totals}");
    if let Some(hidden) = &hidden {
        let _ = writeln!(out, "{hidden}");
    }
    if let Some(c) = listing.baseline {
        let _ = writeln!(out, "{}", baseline_line(c));
    }
    if gaps.is_empty() && listing.baseline.is_none_or(|c| c.absent.is_empty()) {
        return out;
    }
    let groups = groups(&gaps);
    if !gaps.is_empty() {
        out.push('\n');
        let folders = tally(gaps.iter().filter_map(|g| folder(g)));
        let more = (folders.len() > TOP_FOLDERS).then(|| {
            let rest = folders.len() - TOP_FOLDERS;
            format!(
                "… and {} more {}",
                thousands(rest),
                if rest == 1 { "folder" } else { "folders" }
            )
        });
        write_counts(
            &mut out,
            &[
                CountTable {
                    heading: "by gap type",
                    rows: tally(gaps.iter().map(|g| g.gap_type.as_str())),
                    more: None,
                },
                CountTable {
                    heading: "by detector",
                    rows: tally(gaps.iter().map(|g| group_key(g))),
                    more: None,
                },
                CountTable {
                    heading: "folders with the most findings",
                    rows: folders.into_iter().take(TOP_FOLDERS).collect(),
                    more,
                },
            ],
        );
    }
    for group in &groups {
        let _ = writeln!(
            out,
            "\n{} ({}): {}",
            group.detector,
            group.gap_type,
            count(group.gaps.len(), "gap", "gaps")
        );
        let shown = listing.shown(group.gaps.len());
        for gap in &group.gaps[..shown] {
            let _ = writeln!(
                out,
                "  {:<8} {}{}",
                gap.risk_classification.as_str(),
                finding_text(place(gap), &title_of(gap), str::to_owned),
                likely_mark(gap)
            );
        }
        if group.gaps.len() > shown {
            let _ = writeln!(out, "  … and {} more", thousands(group.gaps.len() - shown));
        }
    }
    if let Some(c) = listing.baseline.filter(|c| !c.absent.is_empty()) {
        let _ = writeln!(
            out,
            "\nno longer found ({} the baseline can drop):",
            count(c.absent.len(), "entry", "entries")
        );
        let shown = listing.shown(c.absent.len());
        for entry in &c.absent[..shown] {
            let title = entry_title(entry);
            let _ = writeln!(
                out,
                "  {:<8} {} [{}]",
                entry.risk_classification.as_str(),
                finding_text(entry_place(entry), &title, str::to_owned),
                entry.detector.as_deref().unwrap_or(entry.gap_type.as_str()),
            );
        }
        if c.absent.len() > shown {
            let _ = writeln!(out, "  … and {} more", thousands(c.absent.len() - shown));
        }
    }
    out.push('\n');
    if let Some(n) = listing.per_detector.filter(|&n| {
        groups.iter().any(|g| g.gaps.len() > n)
            || listing.baseline.is_some_and(|c| c.absent.len() > n)
    }) {
        let _ = writeln!(
            out,
            "at most {} listed per detector",
            count(n, "finding", "findings")
        );
    }
    let _ = writeln!(out, "{totals}");
    out
}

/// ` (likely)` after a gap the scanner is not certain of (listed with
/// `--all`), so a reader tells the two apart without the JSON.
fn likely_mark(gap: &Gap) -> &'static str {
    if gap.is_certain() { "" } else { " (likely)" }
}

/// Escapes a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Markdown suitable for a pull-request comment: the totals, a table of
/// counts by risk and one by detector, the folders with the most findings,
/// then a table per detector (at most [`Listing::per_detector`] rows, then
/// a count of the rest); with a baseline, the entries no longer found.
pub fn markdown(report: &GapReportV1, listing: &Listing<'_>) -> String {
    let gaps = listing.gaps(report);
    let mut out = String::from("### waypost gap scan\n\n");
    let absent = listing.baseline.map_or(&[][..], |c| c.absent.as_slice());
    if let Some(c) = listing.baseline {
        let _ = writeln!(out, "{}.\n", baseline_line(c));
    }
    if let Some(hidden) = listing.hidden_line(report) {
        let _ = writeln!(out, "{hidden}.\n");
    }
    if gaps.is_empty() && absent.is_empty() {
        out.push_str(if listing.baseline.is_some() {
            "No new gaps.\n"
        } else {
            "No gaps found.\n"
        });
        return out;
    }
    let s = GapSummary::of(gaps.iter().copied());
    let _ = writeln!(
        out,
        "**{}**, {} blocking the autopilot.\n",
        count(
            gaps.len(),
            if listing.baseline.is_some() {
                "new gap"
            } else {
                "gap"
            },
            if listing.baseline.is_some() {
                "new gaps"
            } else {
                "gaps"
            }
        ),
        s.autopilot_blockers
    );
    if !gaps.is_empty() {
        out.push_str("| critical | high | medium | low |\n|---:|---:|---:|---:|\n");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |\n",
            thousands_u64(s.critical_gaps),
            thousands_u64(s.high_gaps),
            thousands_u64(s.medium_gaps),
            thousands_u64(s.low_gaps)
        );
        let groups = groups(&gaps);
        out.push_str("| check | type | gaps |\n|---|---|---:|\n");
        let mut by_count: Vec<&Group<'_>> = groups.iter().collect();
        by_count.sort_by(|a, b| {
            b.gaps
                .len()
                .cmp(&a.gaps.len())
                .then(a.detector.cmp(b.detector))
        });
        for group in by_count {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                group.detector,
                group.gap_type,
                thousands(group.gaps.len())
            );
        }
        let folders = tally(gaps.iter().filter_map(|g| folder(g)));
        if !folders.is_empty() {
            let top: Vec<String> = folders
                .iter()
                .take(TOP_FOLDERS)
                .map(|(f, n)| match *f {
                    "(root)" => format!("the root ({})", thousands(*n)),
                    f => format!("`{}` ({})", cell(f), thousands(*n)),
                })
                .collect();
            let _ = writeln!(out, "\nMost findings in {}.", top.join(", "));
        }
        for group in &groups {
            let _ = writeln!(
                out,
                "\n#### `{}` ({}): {}\n\n| risk | finding |\n|---|---|",
                group.detector,
                group.gap_type,
                count(group.gaps.len(), "gap", "gaps")
            );
            let shown = listing.shown(group.gaps.len());
            for gap in &group.gaps[..shown] {
                let _ = writeln!(
                    out,
                    "| {}{}{} | {} |",
                    gap.risk_classification.as_str(),
                    if gap.blocks_autopilot {
                        " (blocks)"
                    } else {
                        ""
                    },
                    likely_mark(gap),
                    cell(&finding_text(place(gap), &title_of(gap), |p| format!(
                        "`{p}`"
                    )))
                );
            }
            if group.gaps.len() > shown {
                let _ = writeln!(
                    out,
                    "\n…and {} more (see the full report).",
                    thousands(group.gaps.len() - shown)
                );
            }
        }
    }
    if !absent.is_empty() {
        let _ = writeln!(
            out,
            "\n#### No longer found: {} the baseline can drop\n\n| check | finding |\n|---|---|",
            count(absent.len(), "entry", "entries")
        );
        let shown = listing.shown(absent.len());
        for entry in &absent[..shown] {
            let title = entry_title(entry);
            let _ = writeln!(
                out,
                "| `{}` | {} |",
                entry.detector.as_deref().unwrap_or(entry.gap_type.as_str()),
                cell(&finding_text(entry_place(entry), &title, |p| format!(
                    "`{p}`"
                )))
            );
        }
        if absent.len() > shown {
            let _ = writeln!(out, "\n…and {} more.", thousands(absent.len() - shown));
        }
    }
    out
}

/// A repository path as a SARIF `uri` (a relative URI reference): the
/// name's bytes (escaped names unescaped first), with every byte outside
/// RFC 3986's unreserved characters and `/` percent-encoded.
fn sarif_uri(shown: &str) -> String {
    let bytes = waypost_schemas::paths::unescape_name(shown);
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes.iter() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use waypost_schemas::{FormatV1, GapEvidence, GapType, SourceLocation, Timestamp};

    use super::*;
    use crate::baseline::compare;

    /// A gap of `detector` at `path` (line `line` when given), titled as the
    /// detectors title them: the path first.
    fn gap(
        detector: &str,
        gap_type: GapType,
        risk: RiskLevel,
        path: &str,
        line: Option<u32>,
    ) -> Gap {
        let mut gap = Gap {
            gap_id: String::new(),
            gap_type,
            detector: Some(detector.to_owned()),
            title: Some(format!("{path} has a problem")),
            description: None,
            detection_signals: vec![path.to_owned()],
            evidence: Some(GapEvidence {
                file_paths: vec![path.to_owned()],
                locations: line
                    .map(|start_line| SourceLocation {
                        path: path.to_owned(),
                        start_line,
                        start_column: None,
                        end_line: None,
                        end_column: None,
                    })
                    .into_iter()
                    .collect(),
                ..GapEvidence::default()
            }),
            risk_classification: risk,
            blocks_autopilot: false,
            safe_remediation: None,
            extra: Default::default(),
        };
        gap.gap_id = gap.derive_gap_id();
        gap
    }

    fn report(gaps: Vec<Gap>) -> GapReportV1 {
        let mut report = GapReportV1 {
            format_version: FormatV1,
            project_id: "demo".into(),
            run_id: "scan-20260101T000000Z".into(),
            generated_at: Timestamp::parse("2026-01-01T00:00:00Z").expect("timestamp"),
            workspace_state_digest: None,
            summary: Some(GapSummary::of(&gaps)),
            gaps,
            metadata: None,
            extra: Default::default(),
        };
        report.sort_gaps();
        report
    }

    /// 2,970 broken links in 30 folders, 3 stray root files and one BOM.
    fn many() -> GapReportV1 {
        let mut gaps: Vec<Gap> = (0..2970)
            .map(|i| {
                gap(
                    "broken_markdown_link",
                    GapType::DocDrift,
                    RiskLevel::Low,
                    &format!("docs/d{:02}/n{i:04}.md", i % 30 + (i / 2000) * 40),
                    Some(3),
                )
            })
            .collect();
        for name in ["a.log", "b.log", ".env"] {
            let risk = if name == ".env" {
                RiskLevel::High
            } else {
                RiskLevel::Low
            };
            gaps.push(gap(
                "root_file_outside_allowlist",
                GapType::RootClutter,
                risk,
                name,
                None,
            ));
        }
        gaps.push(gap(
            "utf8_bom",
            GapType::WindowsEncodingIssue,
            RiskLevel::Medium,
            "src/lib.rs",
            None,
        ));
        report(gaps)
    }

    /// The finding lines (indented by two, not `… and`) under each heading.
    fn listed(text: &str) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("  ") {
                if let Some((_, lines)) = out.last_mut() {
                    lines.push(rest.to_owned());
                }
            } else if line.contains("): ") {
                out.push((line.to_owned(), Vec::new()));
            }
        }
        out
    }

    #[test]
    fn likely_gaps_listed_with_all_are_marked_in_text_and_markdown() {
        let sure = gap(
            "broken_markdown_link",
            GapType::DocDrift,
            RiskLevel::Low,
            "a.md",
            Some(1),
        );
        let mut likely = gap(
            "broken_markdown_link",
            GapType::DocDrift,
            RiskLevel::Low,
            "b.md",
            Some(2),
        );
        likely
            .detection_signals
            .push(waypost_schemas::LIKELY_SIGNAL.to_owned());
        likely.gap_id = likely.derive_gap_id();
        let report = report(vec![sure, likely]);
        let listing = Listing::limited(None).with_likely(true);
        let text = text(&report, &listing);
        let marked: Vec<&str> = text.lines().filter(|l| l.ends_with(" (likely)")).collect();
        assert_eq!(
            marked,
            ["  low      b.md:2 has a problem (likely)"],
            "{text}"
        );
        let markdown = markdown(&report, &listing);
        let rows: Vec<&str> = markdown
            .lines()
            .filter(|l| l.starts_with("| low"))
            .collect();
        assert_eq!(
            rows,
            [
                "| low | `a.md:1` has a problem |",
                "| low (likely) | `b.md:2` has a problem |"
            ],
            "{markdown}"
        );
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(2950), "2,950");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn text_lists_at_most_the_limit_per_detector_and_counts_the_rest() {
        let report = many();
        let text = text(&report, &Listing::limited(Some(20)));
        let groups = listed(&text);
        let headings: Vec<&str> = groups.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(
            headings,
            [
                "root_file_outside_allowlist (root_clutter): 3 gaps",
                "utf8_bom (windows_encoding_issue): 1 gap",
                "broken_markdown_link (doc_drift): 2,970 gaps",
            ],
            "grouped by detector, the group of the most severe gap first:\n{text}"
        );
        let links = &groups[2].1;
        assert_eq!(links.len(), 21, "{links:#?}");
        assert!(
            links[..20].iter().all(|l| l.starts_with("low      docs/d")),
            "{links:#?}"
        );
        assert_eq!(links[20], "… and 2,950 more");
        assert_eq!(groups[0].1.len(), 3, "a group under the limit is not cut");
        assert!(!groups[0].1.iter().any(|l| l.starts_with('…')));
        assert!(
            text.contains("\nat most 20 findings listed per detector\n"),
            "{text}"
        );
        assert!(text.ends_with(
            "\n2,974 gaps (0 critical, 1 high, 1 medium, 2,972 low), 0 blocking the autopilot\n"
        ));

        let one = super::text(&report, &Listing::limited(Some(1)));
        assert!(
            one.contains("\n  … and 2,969 more\n") && one.contains("\n  … and 2 more\n"),
            "{one}"
        );

        let all = super::text(&report, &Listing::limited(None));
        let groups = listed(&all);
        assert_eq!(groups[2].1.len(), 2970);
        let cut: Vec<&str> = all.lines().filter(|l| l.starts_with("  … and")).collect();
        assert_eq!(cut, ["  … and 57 more folders"], "no finding is cut");
        assert!(!all.contains("at most"));
    }

    #[test]
    fn text_starts_with_a_summary_by_type_detector_and_folder() {
        let text = text(&many(), &Listing::default());
        let summary: Vec<&str> = text.lines().take(19).collect();
        assert_eq!(
            summary,
            [
                "2,974 gaps (0 critical, 1 high, 1 medium, 2,972 low), 0 blocking the autopilot",
                "",
                "by gap type:",
                "  doc_drift                    2,970",
                "  root_clutter                     3",
                "  windows_encoding_issue           1",
                "by detector:",
                "  broken_markdown_link         2,970",
                "  root_file_outside_allowlist      3",
                "  utf8_bom                         1",
                "folders with the most findings:",
                "  docs/d00/                       67",
                "  docs/d01/                       67",
                "  docs/d02/                       67",
                "  docs/d03/                       67",
                "  docs/d04/                       67",
                "  … and 57 more folders",
                "",
                "root_file_outside_allowlist (root_clutter): 3 gaps",
            ],
            "{text}"
        );
    }

    #[test]
    fn each_line_names_its_path_once() {
        let text = text(&many(), &Listing::default());
        let line = text
            .lines()
            .find(|l| l.contains("docs/d00/n0000.md"))
            .expect("listed");
        assert_eq!(line, "  low      docs/d00/n0000.md:3 has a problem");
        assert!(text.contains("\n  high     .env has a problem\n"), "{text}");
        // A title that does not name the path follows it.
        let mut detached = gap(
            "detached_head",
            GapType::GitStateCorruption,
            RiskLevel::Medium,
            ".git/HEAD",
            None,
        );
        detached.title = Some("HEAD is detached".into());
        assert_eq!(
            finding_text(place(&detached), &title_of(&detached), str::to_owned),
            ".git/HEAD: HEAD is detached"
        );
        // A longer name that starts or ends with the path is not the path.
        assert_eq!(find_path("a.md.bak clutters", "a.md"), None);
        assert_eq!(find_path("docs/a.md links", "a.md"), None);
        assert_eq!(find_path("see a.md.", "a.md"), Some(4));
        assert_eq!(find_path("`a.md` and a.md", "a.md"), Some(1));
    }

    #[test]
    fn gap_010_a_baseline_lists_only_new_gaps_and_what_no_longer_occurs() {
        let old = many();
        let accepted = waypost_schemas::GapBaselineV1::of(&old);
        let mut gaps = old.gaps.clone();
        gaps.retain(|g| g.first_path() != Some("a.log") && g.first_path() != Some("b.log"));
        gaps.push(gap(
            "utf8_bom",
            GapType::WindowsEncodingIssue,
            RiskLevel::Medium,
            "src/new.rs",
            None,
        ));
        let now = report(gaps);
        let comparison = compare(&now, &accepted);
        assert_eq!(comparison.new.len(), 1);
        assert_eq!(comparison.unchanged.len(), 2972);
        assert_eq!(comparison.absent.len(), 2);
        let text = text(&now, &Listing::limited(Some(1)).with_baseline(&comparison));
        assert!(
            text.starts_with(
                "1 new gap (0 critical, 0 high, 1 medium, 0 low), 0 blocking the autopilot\n\
             baseline: 2,972 known gaps not listed, 2 entries no longer found\n"
            ),
            "{text}"
        );
        assert!(
            !text.contains("broken_markdown_link"),
            "known gaps are not listed: {text}"
        );
        assert!(
            text.contains("\n  medium   src/new.rs has a problem\n"),
            "{text}"
        );
        assert!(
            text.contains("no longer found (2 entries the baseline can drop):\n  low      a.log has a problem [root_file_outside_allowlist]\n  … and 1 more\n"),
            "{text}"
        );
        let sarif = sarif_with_baseline(&now, &[], &comparison);
        let states: Vec<&str> = sarif["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| r["baselineState"].as_str().expect("state"))
            .collect();
        assert_eq!(
            states.len(),
            now.gaps.len(),
            "absent entries are not results"
        );
        assert_eq!(states.iter().filter(|s| **s == "new").count(), 1);
        assert_eq!(states.iter().filter(|s| **s == "unchanged").count(), 2972);
        assert!(
            super::sarif(&now, &[])["runs"][0]["results"][0]
                .get("baselineState")
                .is_none()
        );
    }

    #[test]
    fn markdown_is_cut_per_detector_too() {
        let md = markdown(&many(), &Listing::limited(Some(5)));
        let rows = md
            .lines()
            .filter(|l| l.starts_with("| low | `docs/"))
            .count();
        assert_eq!(rows, 5, "{md}");
        assert!(
            md.contains("\n…and 2,965 more (see the full report).\n"),
            "{md}"
        );
        assert!(
            md.contains("| `broken_markdown_link` | doc_drift | 2,970 |"),
            "{md}"
        );
        // The risk table counts the way the rest of the output does.
        let risks = md
            .lines()
            .skip_while(|l| !l.starts_with("| critical |"))
            .nth(2)
            .unwrap_or_default();
        assert!(risks.contains("2,9"), "{risks}");
    }
}
