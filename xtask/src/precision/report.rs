//! The precision report: scan, count, sample, write Markdown.
//!
//! The file starts with one `## <folder>` section per repository, in the
//! order the repositories were named: its HEAD commit, a table of findings
//! per detector (certain and likely), then for each detector with
//! findings a `### <detector>` section of sampled findings. Each sample is
//! a `#### <gap id>` section that starts with the two lines `- [ ] right`
//! and `- [ ] wrong` and the machine-readable line `<!-- sample {json} -->`,
//! then what a person needs to judge it: title, locations, excerpts,
//! confidence and the evidence's extra fields.
//!
//! The same trees and seed give the same bytes: gaps are sorted by the
//! SHA-256 of `"<seed>:<gap id>"`, everything else by name.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use sha2::{Digest, Sha256};
use waypost_gaps::{ReportContext, ScanConfig, detectors, scan};
use waypost_schemas::{Gap, Timestamp};

use super::{Confidence, Sample};

/// A gap without a detector id is counted under this name.
const NO_DETECTOR: &str = "(none)";

/// What one repository's scan found.
#[derive(Debug)]
struct ScannedRepo {
    /// The folder as named on the command line.
    given: String,
    /// The folder's own name.
    name: String,
    head: String,
    /// The ids of the detectors that ran, sorted.
    detectors: Vec<String>,
    gaps: Vec<Gap>,
}

/// The report for `repos` (folders as named on the command line): at most
/// `sample` findings per detector, chosen by `seed`. `now` is the scan's
/// "now" for age thresholds; it is not written into the report.
pub(super) fn render(
    repos: &[String],
    sample: usize,
    seed: u64,
    now: &Timestamp,
) -> Result<String> {
    let mut out = String::new();
    out.push_str("# Gap scanner precision\n\n");
    let _ = writeln!(
        out,
        "Seed {seed}; at most {sample} sampled findings per detector. Tick exactly one \
         box per sample: `[x] right` when the finding is a real problem, `[x] wrong` when it \
         is not. Then `cargo xtask precision fixtures --marked FILE --to DIR` turns the \
         marks into regression fixtures (see `docs/precision.md`).\n"
    );
    for given in repos {
        let repo = scan_repo(given, now)?;
        render_repo(&mut out, &repo, sample, seed);
    }
    Ok(out)
}

/// Scans the repository folder `given` with every built-in detector and
/// its own `waypost.toml` settings.
fn scan_repo(given: &str, now: &Timestamp) -> Result<ScannedRepo> {
    let root = Path::new(given);
    if !root.is_dir() {
        bail!("{given} is not a folder: name a checked-out repository");
    }
    let name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| given.to_owned());
    let config = ScanConfig::load(root)
        .with_context(|| format!("cannot read the scan settings of {given}"))?;
    let detectors = detectors::builtin(&config);
    let mut ids: Vec<String> = detectors
        .iter()
        .map(|d| d.id().to_owned())
        .filter(|id| !config.disabled.contains(id))
        .collect();
    ids.sort();
    ids.dedup();
    let context = ReportContext {
        project_id: name.clone(),
        run_id: "precision".to_owned(),
        now: now.clone(),
    };
    let outcome = scan(root, &detectors, &config, &context)
        .with_context(|| format!("cannot scan {given}"))?;
    Ok(ScannedRepo {
        given: given.to_owned(),
        name,
        head: head_commit(root),
        detectors: ids,
        gaps: outcome.report.gaps,
    })
}

/// The commit `root`'s HEAD names, as `git rev-parse` says; `unknown` when
/// `root` is not the top of a git repository or git cannot tell.
pub(super) fn head_commit(root: &Path) -> String {
    if !root.join(".git").exists() {
        return "unknown".to_owned();
    }
    Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--verify", "--quiet", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Findings of one detector in one repository.
#[derive(Debug, Default)]
struct Tally<'a> {
    certain: usize,
    likely: usize,
    gaps: Vec<&'a Gap>,
}

fn render_repo(out: &mut String, repo: &ScannedRepo, sample: usize, seed: u64) {
    let mut by_detector: BTreeMap<&str, Tally<'_>> = repo
        .detectors
        .iter()
        .map(|id| (id.as_str(), Tally::default()))
        .collect();
    for gap in &repo.gaps {
        let tally = by_detector
            .entry(gap.detector.as_deref().unwrap_or(NO_DETECTOR))
            .or_default();
        match Confidence::of(gap) {
            Confidence::Certain => tally.certain += 1,
            Confidence::Likely => tally.likely += 1,
        }
        tally.gaps.push(gap);
    }

    let _ = writeln!(out, "## {}\n", one_line(&repo.name));
    let _ = writeln!(
        out,
        "Folder {}, HEAD {}.\n",
        code(&repo.given),
        code(&repo.head)
    );
    out.push_str("| detector | findings | certain | likely |\n| --- | ---: | ---: | ---: |\n");
    let (mut certain, mut likely) = (0, 0);
    for (detector, tally) in &by_detector {
        let _ = writeln!(
            out,
            "| {detector} | {} | {} | {} |",
            tally.gaps.len(),
            tally.certain,
            tally.likely
        );
        certain += tally.certain;
        likely += tally.likely;
    }
    let _ = writeln!(
        out,
        "| **all** | {} | {certain} | {likely} |\n",
        certain + likely
    );

    for (detector, tally) in by_detector.iter().filter(|(_, t)| !t.gaps.is_empty()) {
        let chosen = choose(&tally.gaps, sample, seed);
        let _ = writeln!(
            out,
            "### {detector}: {} of {} findings\n",
            chosen.len(),
            tally.gaps.len()
        );
        for gap in chosen {
            render_sample(out, &Sample::of(&repo.given, &repo.head, gap), gap);
        }
    }
}

/// The first `n` of `gaps` ordered by the SHA-256 of `"<seed>:<gap id>"`
/// (then by gap id): a sample that does not depend on the report's order
/// and that another seed shuffles.
fn choose<'a>(gaps: &[&'a Gap], n: usize, seed: u64) -> Vec<&'a Gap> {
    let mut keyed: Vec<([u8; 32], &Gap)> = gaps
        .iter()
        .map(|gap| {
            let digest = Sha256::digest(format!("{seed}:{}", gap.gap_id));
            (digest.into(), *gap)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.gap_id.cmp(&b.1.gap_id)));
    keyed.into_iter().take(n).map(|(_, gap)| gap).collect()
}

fn render_sample(out: &mut String, sample: &Sample, gap: &Gap) {
    let _ = writeln!(out, "#### {}\n", one_line(&sample.gap_id));
    out.push_str("- [ ] right\n- [ ] wrong\n\n");
    let _ = writeln!(out, "{}\n", sample.comment_line());
    if let Some(title) = &gap.title {
        let _ = writeln!(out, "- title: {}", one_line(title));
    }
    for location in &sample.locations {
        let mut at = format!("{}:{}", location.path, location.start_line);
        if let Some(column) = location.start_column {
            let _ = write!(at, ":{column}");
        }
        let _ = writeln!(out, "- at: {}", code(&at));
    }
    let _ = writeln!(out, "- confidence: {}", sample.confidence.as_str());
    for (key, value) in &sample.extra {
        let shown = match value {
            Value::String(text) => code(text),
            other => code(&other.to_string()),
        };
        let _ = writeln!(out, "- {}: {shown}", code(key));
    }
    let excerpts = gap.evidence.as_ref().map_or(&[][..], |e| &e.excerpts[..]);
    for excerpt in excerpts {
        let mut from = excerpt.source().to_owned();
        if let Some(line) = excerpt.line() {
            let _ = write!(from, ":{line}");
        }
        let _ = writeln!(out, "- excerpt of {}:\n", code(&from));
        fenced(out, excerpt.preview());
    }
    out.push('\n');
}

/// `text` on one line: line breaks and other control characters shown
/// escaped, so nothing a finding says can start a line of its own.
fn one_line(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let shown: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            shown
        })
        .collect()
}

/// The longest run of backticks in `text`.
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// `text` as one Markdown code span, whatever backticks it holds.
pub(super) fn code(text: &str) -> String {
    let text = one_line(text);
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{text}{pad}{ticks}")
}

/// `text` as an indented fenced code block inside a list item, with a
/// fence longer than any backtick run in it, so no line of it can close
/// the block early.
fn fenced(out: &mut String, text: &str) {
    let fence = "`".repeat((longest_backtick_run(text) + 1).max(3));
    let _ = writeln!(out, "  {fence}text");
    for line in text.lines() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "  {fence}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_backticks_and_line_breaks() {
        assert_eq!(code("a.md"), "`a.md`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x`"), "`` `x` ``");
        assert_eq!(code("a\nb"), "`a\\nb`");
    }

    #[test]
    fn fences_outlast_the_backticks_inside() {
        let mut out = String::new();
        fenced(&mut out, "one ```` two");
        assert_eq!(out, "  `````text\n  one ```` two\n  `````\n");
    }
}
