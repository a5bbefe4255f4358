//! Reports for people and tools: SARIF 2.1.0, Markdown, text.

use std::fmt::Write as _;

use serde_json::{Value, json};
use waypost_schemas::{Gap, GapReportV1, RiskLevel};

use crate::detector::Detector;

fn level(risk: RiskLevel) -> &'static str {
    match risk {
        RiskLevel::Critical | RiskLevel::High => "error",
        RiskLevel::Medium => "warning",
        RiskLevel::Low | RiskLevel::Info => "note",
    }
}

fn risk_name(risk: RiskLevel) -> &'static str {
    match risk {
        RiskLevel::Critical => "critical",
        RiskLevel::High => "high",
        RiskLevel::Medium => "medium",
        RiskLevel::Low => "low",
        RiskLevel::Info => "info",
    }
}

/// SARIF 2.1.0 for code scanning: one rule per detector (stable `ruleId`),
/// repository-relative URIs, `region.startLine`, snippets as objects, and
/// `partialFingerprints` from the gap id so alerts track the same gap across
/// scans.
pub fn sarif(report: &GapReportV1, detectors: &[Box<dyn Detector>]) -> Value {
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
    let results: Vec<Value> = report
        .gaps
        .iter()
        .map(|gap| {
            let rule = gap.detector.clone().unwrap_or_else(|| gap.gap_type.as_str().to_owned());
            let mut result = json!({
                "ruleId": rule,
                "level": level(gap.risk_classification),
                "message": {"text": message(gap)},
                "locations": locations(gap),
                "partialFingerprints": {"waypostGapId/v1": gap.gap_id},
                "properties": {"gap_type": gap.gap_type.as_str(), "risk": risk_name(gap.risk_classification), "blocks_autopilot": gap.blocks_autopilot},
            });
            if let Some(i) = index_of(&rule) {
                result["ruleIndex"] = json!(i);
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

fn message(gap: &Gap) -> String {
    match (&gap.title, &gap.description) {
        (Some(t), Some(d)) => format!("{t}. {d}"),
        (Some(t), None) => t.clone(),
        (None, Some(d)) => d.clone(),
        (None, None) => gap.gap_type.as_str().to_owned(),
    }
}

fn locations(gap: &Gap) -> Vec<Value> {
    let evidence = gap.evidence.as_ref();
    let mut out: Vec<Value> = evidence
        .map(|e| {
            e.locations
                .iter()
                .map(|loc| {
                    let snippet = e.excerpts.iter().find(|x| x.source() == loc.path && x.line() == Some(loc.start_line)).map(|x| x.preview().to_owned());
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

/// Where a gap is: `path:line` of its first location, else its first path.
fn place(gap: &Gap) -> Option<String> {
    let e = gap.evidence.as_ref()?;
    e.locations
        .first()
        .map(|l| format!("{}:{}", l.path, l.start_line))
        .or_else(|| e.file_paths.first().cloned())
}

/// Markdown suitable for a pull-request comment: a summary line, a table of
/// counts, and one row per gap (at most 50, then a count of the rest).
pub fn markdown(report: &GapReportV1) -> String {
    let mut out = String::from("### waypost gap scan\n\n");
    let s = report.summary.clone().unwrap_or_default();
    if report.gaps.is_empty() {
        out.push_str("No gaps found.\n");
        return out;
    }
    let _ = writeln!(
        out,
        "**{} gap{}**, {} blocking the autopilot.\n",
        s.total_gaps,
        if s.total_gaps == 1 { "" } else { "s" },
        s.autopilot_blockers
    );
    out.push_str("| critical | high | medium | low |\n|---:|---:|---:|---:|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} |\n",
        s.critical_gaps, s.high_gaps, s.medium_gaps, s.low_gaps
    );
    out.push_str("| risk | type | check | where | what |\n|---|---|---|---|---|\n");
    const ROWS: usize = 50;
    for gap in report.gaps.iter().take(ROWS) {
        let place = place(gap).map(|p| format!("`{p}`")).unwrap_or_default();
        let _ = writeln!(
            out,
            "| {}{} | {} | `{}` | {} | {} |",
            risk_name(gap.risk_classification),
            if gap.blocks_autopilot {
                " (blocks)"
            } else {
                ""
            },
            gap.gap_type.as_str(),
            gap.detector.as_deref().unwrap_or("-"),
            place.replace('|', "\\|"),
            gap.title.as_deref().unwrap_or_default().replace('|', "\\|"),
        );
    }
    if report.gaps.len() > ROWS {
        let _ = writeln!(
            out,
            "\n…and {} more (see the full report).",
            report.gaps.len() - ROWS
        );
    }
    out
}

/// Plain text, one gap per line plus a summary.
pub fn text(report: &GapReportV1) -> String {
    let mut out = String::new();
    for gap in &report.gaps {
        let place = place(gap).unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<8} {:<24} {place}: {}",
            risk_name(gap.risk_classification),
            gap.detector.as_deref().unwrap_or(gap.gap_type.as_str()),
            gap.title.as_deref().unwrap_or_default()
        );
    }
    let s = report.summary.clone().unwrap_or_default();
    let _ = writeln!(
        out,
        "{} gaps ({} critical, {} high, {} medium, {} low), {} blocking the autopilot",
        s.total_gaps, s.critical_gaps, s.high_gaps, s.medium_gaps, s.low_gaps, s.autopilot_blockers
    );
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
