//! `cargo xtask precision`: how often the gap scanner is right.
//!
//! - `cargo xtask precision [--out FILE] [--sample N] [--seed S] REPO…`
//!   scans each checked-out repository with every built-in detector and
//!   writes a Markdown file (see [`report`]): counts per detector and, for
//!   each detector that found something, a deterministic sample of its
//!   findings with two boxes, `right` and `wrong`, for a person to tick.
//! - `cargo xtask precision fixtures --marked FILE --to DIR` reads such a
//!   file once ticked and turns each marked link or fixture finding into a
//!   regression fixture (see [`fixture`]) that
//!   `crates/waypost-gaps/tests/precision_fixtures.rs` runs.
//!
//! Every sample carries a machine-readable line, `<!-- sample {json} -->`
//! ([`Sample`]), so the second step never re-scans and never guesses.
//! `docs/precision.md` is the guide for people.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};
use waypost_schemas::{Extra, Gap, SourceLocation};

mod fixture;
mod marked;
mod report;
#[cfg(test)]
mod tests;

/// The usage line of the task.
const USAGE: &str = "usage: cargo xtask precision [--out FILE] [--sample N] [--seed S] REPO...\n   \
     or: cargo xtask precision fixtures --marked FILE --to DIR";

/// The evidence field that holds a reference's target exactly as the link
/// and fixture detectors found it written.
const TARGET_KEY: &str = "written_as";

/// The detectors whose findings can become regression fixtures.
const FIXTURE_DETECTORS: [&str; 2] = ["broken_markdown_link", "missing_test_fixture"];

/// Runs `cargo xtask precision` with the arguments after the task name.
/// Paths are taken relative to the folder the command was started in.
pub(crate) fn run(args: &[String]) -> Result<()> {
    if args.first().is_some_and(|a| a == "fixtures") {
        let options = parse_fixture_args(&args[1..])?;
        let outcome = fixture::write_fixtures(&options.marked, &options.to)?;
        outcome.print();
        return Ok(());
    }
    let options = parse_report_args(args)?;
    let epoch = std::env::var("SOURCE_DATE_EPOCH").ok();
    let now = waypost_schemas::Clock::from_source_date_epoch(epoch.as_deref())
        .context("SOURCE_DATE_EPOCH is not whole seconds since the epoch; unset it to use the system clock")?
        .now();
    let text = report::render(&options.repos, options.sample, options.seed, &now)?;
    std::fs::write(&options.out, text)
        .with_context(|| format!("cannot write {}", options.out.display()))?;
    #[expect(clippy::print_stderr, reason = "the xtask reports to the terminal")]
    {
        eprintln!("wrote {}", options.out.display());
    }
    Ok(())
}

/// What `cargo xtask precision REPO…` was asked to do.
#[derive(Debug)]
struct ReportArgs {
    out: PathBuf,
    sample: usize,
    seed: u64,
    repos: Vec<String>,
}

/// What `cargo xtask precision fixtures` was asked to do.
#[derive(Debug)]
struct FixtureArgs {
    marked: PathBuf,
    to: PathBuf,
}

/// Command-line arguments split into flags and the rest.
#[derive(Debug, Default)]
struct SplitArgs<'a> {
    /// `(name, value)` in the order given; a later one wins.
    flags: Vec<(&'a str, &'a str)>,
    positional: Vec<&'a str>,
}

/// Splits `--flag value` and `--flag=value` (for the `known` flags) from
/// the positional arguments. `--` ends the flags.
fn split_flags<'a>(args: &'a [String], known: &[&str]) -> Result<SplitArgs<'a>> {
    let mut split = SplitArgs::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            split.positional.extend(rest.by_ref().map(String::as_str));
            break;
        }
        if !arg.starts_with("--") {
            split.positional.push(arg.as_str());
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg.as_str(), None),
        };
        if !known.contains(&name) {
            bail!("unknown flag `{name}`\n{USAGE}");
        }
        let value = match inline {
            Some(value) => value,
            None => rest
                .next()
                .with_context(|| format!("`{name}` needs a value\n{USAGE}"))?,
        };
        split.flags.push((name, value));
    }
    Ok(split)
}

fn parse_report_args(args: &[String]) -> Result<ReportArgs> {
    let SplitArgs { flags, positional } = split_flags(args, &["--out", "--sample", "--seed"])?;
    let mut parsed = ReportArgs {
        out: PathBuf::from("precision.md"),
        sample: 20,
        seed: 0,
        repos: positional.into_iter().map(str::to_owned).collect(),
    };
    for (name, value) in flags {
        match name {
            "--out" => parsed.out = PathBuf::from(value),
            "--sample" => {
                parsed.sample = value
                    .parse()
                    .with_context(|| format!("--sample takes a whole number, not `{value}`"))?;
            }
            _ => {
                parsed.seed = value
                    .parse()
                    .with_context(|| format!("--seed takes a whole number, not `{value}`"))?;
            }
        }
    }
    if parsed.repos.is_empty() {
        bail!("name at least one repository folder\n{USAGE}");
    }
    Ok(parsed)
}

fn parse_fixture_args(args: &[String]) -> Result<FixtureArgs> {
    let SplitArgs { flags, positional } = split_flags(args, &["--marked", "--to"])?;
    if let Some(extra) = positional.first() {
        bail!("unexpected argument `{extra}`\n{USAGE}");
    }
    let find = |flag: &str| {
        flags
            .iter()
            .rev()
            .find(|(name, _)| *name == flag)
            .map(|(_, value)| PathBuf::from(value))
            .with_context(|| format!("`{flag}` is required\n{USAGE}"))
    };
    Ok(FixtureArgs {
        marked: find("--marked")?,
        to: find("--to")?,
    })
}

/// Whether a finding is certain or only likely: a detector marks the
/// likely ones with the signal `confidence:likely`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Confidence {
    Certain,
    Likely,
}

impl Confidence {
    fn of(gap: &Gap) -> Self {
        if gap.is_certain() {
            Self::Certain
        } else {
            Self::Likely
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Certain => "certain",
            Self::Likely => "likely",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "certain" => Some(Self::Certain),
            "likely" => Some(Self::Likely),
            _ => None,
        }
    }
}

/// One sampled finding: what the report's `<!-- sample {json} -->` line
/// holds, and all that turning a mark into a fixture needs.
#[derive(Clone, Debug, PartialEq)]
struct Sample {
    /// The repository folder as it was named on the command line.
    repo: String,
    /// Its HEAD commit when the report was made, or `unknown`.
    head: String,
    gap_id: String,
    /// The detector id; empty for a gap without one.
    detector: String,
    /// The evidence's repository-relative paths, in the gap's order.
    file_paths: Vec<String>,
    locations: Vec<SourceLocation>,
    /// The evidence's extra fields (`written_as`, `reference`, `moved_to`, ...).
    extra: Extra,
    confidence: Confidence,
}

impl Sample {
    /// The sample of `gap`, found in the repository `repo` at `head`.
    fn of(repo: &str, head: &str, gap: &Gap) -> Self {
        let evidence = gap.evidence.as_ref();
        Self {
            repo: repo.to_owned(),
            head: head.to_owned(),
            gap_id: gap.gap_id.clone(),
            detector: gap.detector.clone().unwrap_or_default(),
            file_paths: evidence.map(|e| e.file_paths.clone()).unwrap_or_default(),
            locations: evidence.map(|e| e.locations.clone()).unwrap_or_default(),
            extra: evidence.map(|e| e.extra.clone()).unwrap_or_default(),
            confidence: Confidence::of(gap),
        }
    }

    /// The finding's file: its first evidence path, or its first location's.
    fn file(&self) -> Option<&str> {
        self.file_paths
            .first()
            .or_else(|| self.locations.first().map(|l| &l.path))
            .map(String::as_str)
    }

    /// The reference's target as written in the file, if the evidence
    /// has it.
    fn target(&self) -> Option<&str> {
        self.extra_str(TARGET_KEY)
    }

    /// A string field of the evidence's extra fields.
    fn extra_str(&self, key: &str) -> Option<&str> {
        self.extra.get(key).and_then(Value::as_str)
    }

    fn to_json(&self) -> Value {
        json!({
            "repo": self.repo,
            "head": self.head,
            "gap_id": self.gap_id,
            "detector": self.detector,
            "file_paths": self.file_paths,
            "locations": self.locations,
            "extra": self.extra,
            "confidence": self.confidence.as_str(),
        })
    }

    /// The report line `<!-- sample {json} -->`. `<`, `>` and `&` only
    /// occur inside JSON strings, where they are written as `\u003c` and
    /// so on: no value can end the comment early.
    fn comment_line(&self) -> String {
        let text = serde_json::to_string(&self.to_json())
            .expect("a JSON value of strings, numbers and maps serializes");
        let escaped = text
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
        format!("<!-- sample {escaped} -->")
    }

    /// Reads the JSON of a sample line, or says what is wrong with it.
    fn from_json(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let object = value.as_object().ok_or("not a JSON object")?;
        let string = |key: &str| -> Result<String, String> {
            object
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("no string `{key}`"))
        };
        let list = |key: &str| -> Result<Vec<Value>, String> {
            match object.get(key) {
                None => Ok(Vec::new()),
                Some(Value::Array(items)) => Ok(items.clone()),
                Some(_) => Err(format!("`{key}` is not a list")),
            }
        };
        let file_paths = list("file_paths")?
            .into_iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or("a file path is not a string")
            })
            .collect::<Result<Vec<_>, _>>()?;
        let locations = list("locations")?
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<Vec<SourceLocation>, _>>()
            .map_err(|e| format!("a location is malformed: {e}"))?;
        let extra = match object.get("extra") {
            None => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(_) => return Err("`extra` is not an object".to_owned()),
        };
        let confidence = string("confidence")?;
        Ok(Self {
            repo: string("repo")?,
            head: string("head")?,
            gap_id: string("gap_id")?,
            detector: string("detector")?,
            file_paths,
            locations,
            extra: extra.into_iter().collect(),
            confidence: Confidence::parse(&confidence)
                .ok_or_else(|| format!("unknown confidence `{confidence}`"))?,
        })
    }
}
