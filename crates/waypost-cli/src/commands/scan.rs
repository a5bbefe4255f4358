//! `waypost scan`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use waypost::gaps::baseline::{self, Comparison};
use waypost::gaps::output::Listing;
use waypost::gaps::{Detector, ReportContext, ScanConfig, detectors, output, scan_with_progress};
use waypost::intention::resolve_anchor;
use waypost::schemas::io::write_artifact_as;
use waypost::schemas::layout::new_run_id;
use waypost::schemas::{GapBaselineV1, RunLayout};

use crate::clock;
use crate::error::{CommandError, did_you_mean};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    repo: super::RepoArg,
    /// Also store the report as gaps/gap_report_v1.json in a new run directory.
    #[arg(long)]
    write: bool,
    /// text (people), json (the gap_report_v1 artifact), sarif (code
    /// scanning), markdown (a pull-request comment).
    #[arg(long, value_enum, default_value_t)]
    format: ScanFormat,
    /// Also check the commits of this range (`BASE..HEAD`): test changes
    /// need a `CI-Bucket: A|B|C` trailer.
    #[arg(long, value_name = "BASE..HEAD")]
    range: Option<String>,
    /// List the detectors (id, gap type, what each looks for) and exit;
    /// the ids are what `[scan] disabled` takes.
    #[arg(long)]
    list_detectors: bool,
    /// List at most N findings of each detector in text and Markdown (0:
    /// all), with a count of the rest; JSON and SARIF always hold every gap.
    #[arg(long, value_name = "N", default_value_t = output::DEFAULT_LIMIT)]
    limit: usize,
    /// Also list likely gaps in text and Markdown, and let them set the
    /// exit code. A likely gap is one its detector cannot be sure of (a
    /// string that may not be used as a path, a path in a code span that
    /// may be meant for the reader to create); by default they are only
    /// counted. JSON and SARIF always hold every gap, marked with the
    /// signal `confidence:likely`.
    #[arg(long)]
    all: bool,
    /// Report only the gaps this baseline does not record, and list its
    /// entries that no longer occur (so the file can shrink).
    ///
    /// FILE is a gap_baseline_v1 written by --write-baseline; a symbolic
    /// link is refused. The exit code is 1 only for new gaps (0 when every
    /// gap is in the baseline). Gaps are matched by fingerprint (what the
    /// gap is and in which files, not at which line): a gap whose lines
    /// move still matches, and a second copy of an accepted gap is new.
    /// With --format json the output is a
    /// gap_report_v1 of the new gaps only; with sarif every result carries
    /// baselineState new or unchanged (entries no longer found are not
    /// emitted: code-scanning services show every result as an open alert);
    /// text and markdown list the new gaps and the entries no longer found.
    /// --write still stores the full report.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record every gap of this scan in FILE (a gap_baseline_v1) and exit 0.
    ///
    /// The file is sorted and holds no time, so the same gaps give the same
    /// bytes, and it is replaced atomically. With --baseline as well, the
    /// output compares with the old file first, then FILE is rewritten to
    /// the current gaps (the two may name the same file).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// autopack: the JSON report (printed and --write) holds only the
    /// fields Autopack's published schema names; --write keeps the rest
    /// in gap_report_v1.waypost.json. Default: `[output] compat` of
    /// waypost.toml, else waypost (every field).
    #[arg(long, value_enum)]
    compat: Option<super::CompatArg>,
}

/// What `--format` prints. The `--format` help says what each is; the
/// variants carry no doc comments, which would make `--help` list them again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
enum ScanFormat {
    #[default]
    Text,
    Json,
    Sarif,
    Markdown,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, CommandError> {
    let root = args.repo.root();
    if !root.is_dir() {
        return Err(CommandError::usage(format!(
            "{}: not a folder",
            root.display()
        )));
    }
    if args.list_detectors {
        let config = ScanConfig::load(root)?;
        let builtin = detectors::builtin(&config);
        refuse_unknown_disabled(root, &config, &builtin)?;
        for d in &builtin {
            let state = if config.disabled.iter().any(|id| id == d.id()) {
                " (disabled)"
            } else {
                ""
            };
            outln!(
                "{:<34} {:<25} {}{state}",
                d.id(),
                d.gap_type().as_str(),
                d.description()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    // A bad baseline is reported before the scan, not after it.
    let accepted = args.baseline.as_deref().map(baseline::read).transpose()?;
    let clock = clock()?;
    let anchor = resolve_anchor(root, None, &clock)?.anchor;
    let project_id = anchor.project_id.clone();
    let mut config = waypost::scan_config(root, &anchor)?;
    config.range.clone_from(&args.range);
    let now = clock.now();
    let run_id = new_run_id("scan", &now)?;
    let context = ReportContext {
        project_id: project_id.clone(),
        run_id: run_id.clone(),
        now,
    };
    let detectors = builtin_detectors(root, &config)?;
    let profile = super::profile(root, args.compat)?;

    // Progress only for a person watching a terminal (and not a log). The tree is read as it
    // is walked, so there is a running count rather than a total.
    let bar = crate::progress_shown().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} scanned {human_pos} files ({rate})")
                .map(|style| {
                    style.with_key(
                        "rate",
                        |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                            // Whole files a second: "46,200/s", not "46,199.9955/s".
                            let rate = indicatif::HumanCount(state.per_sec() as u64);
                            let _ = write!(out, "{rate}/s");
                        },
                    )
                })
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar
    });
    let progress = |done: usize| {
        if let Some(bar) = &bar {
            bar.set_position(done as u64);
        }
    };
    let outcome = scan_with_progress(root, &detectors, &config, &context, &progress)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = &outcome.report;
    let comparison = accepted.as_ref().map(|b| baseline::compare(report, b));

    if args.write {
        let layout = RunLayout::new(root, &project_id, &run_id)?;
        let path = layout.gap_report();
        // Never through a link: a linked `.autonomous_runs` would put the
        // report (and its folders) outside the repository.
        if let Ok(relative) = path.strip_prefix(root) {
            let reach = waypost::schemas::paths::resolve(root, &relative.to_string_lossy())
                .map_err(|e| CommandError::bad_input(format!("{}: {e}", path.display())))?;
            if let Some(link) = reach.links.first() {
                return Err(CommandError::bad_input(format!(
                    "refusing to write {}: {link} is a symbolic link, and run directories are written only inside the repository",
                    path.display()
                )));
            }
        }
        let sidecar = write_artifact_as(&path, report, profile)
            .with_context(|| format!("write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
        if let Some(sidecar) = sidecar {
            eprintln!("wrote {}", sidecar.display());
        }
    }
    if let Some(path) = &args.write_baseline {
        let current = GapBaselineV1::of(report);
        baseline::write(path, &current)?;
        eprintln!(
            "wrote {}: {} gap(s) recorded",
            path.display(),
            current.known_gaps.len()
        );
    }
    print_report(args, report, &detectors, comparison.as_ref(), profile)?;
    if args.format == ScanFormat::Text {
        // What was looked at, so a clean result can be read for what it is.
        let binary = match outcome.skipped.binary {
            0 => String::new(),
            n => format!(" ({n} binary: names and sizes only)"),
        };
        let files = outcome.files_scanned;
        note!(
            "scanned {} file{}{binary}",
            indicatif::HumanCount(files as u64),
            if files == 1 { "" } else { "s" }
        );
        if !outcome.skipped.too_large.is_empty() {
            note!(
                "note: {} file(s) over the {}-byte cap were not read: {}",
                outcome.skipped.too_large.len(),
                config.max_file_bytes,
                outcome.skipped.too_large.join(", ")
            );
        }
        for why in &outcome.skipped.refused_folders {
            note!("note: a folder was not scanned: {why}");
        }
    }
    // Findings are the gaps the baseline does not record; writing a
    // baseline accepts every gap there is.
    // Only certain gaps count, unless --all.
    let counts = |gaps: &[waypost::schemas::Gap]| gaps.iter().any(|g| args.all || g.is_certain());
    let findings = match &comparison {
        _ if args.write_baseline.is_some() => false,
        Some(c) => counts(&c.new),
        None => counts(&report.gaps),
    };
    Ok(ExitCode::from(u8::from(findings)))
}

/// Prints `report` in the chosen format, set against the baseline if one
/// was given.
fn print_report(
    args: &Args,
    report: &waypost::schemas::GapReportV1,
    detectors: &[Box<dyn Detector>],
    comparison: Option<&Comparison>,
    profile: waypost::schemas::compat::Profile,
) -> Result<(), CommandError> {
    let limit = (args.limit > 0).then_some(args.limit);
    let listing = match comparison {
        Some(c) => Listing::limited(limit).with_baseline(c),
        None => Listing::limited(limit),
    }
    .with_likely(args.all);
    // JSON and SARIF readers get the baseline's counts on standard error;
    // text and Markdown carry them.
    let note = |c: &Comparison| {
        if let Some(path) = &args.baseline {
            eprintln!(
                "baseline {}: {} known gap(s) not reported as new, {} entr{} no longer found",
                path.display(),
                c.unchanged.len(),
                c.absent.len(),
                if c.absent.len() == 1 { "y" } else { "ies" }
            );
        }
    };
    match args.format {
        ScanFormat::Json => match comparison {
            Some(c) => {
                out!("{}", super::json_in(&c.new_gaps_report(report), profile));
                note(c);
            }
            None => out!("{}", super::json_in(report, profile)),
        },
        ScanFormat::Sarif => {
            let document = match comparison {
                Some(c) => {
                    note(c);
                    output::sarif_with_baseline(report, detectors, c)
                }
                None => output::sarif(report, detectors),
            };
            let text = serde_json::to_string_pretty(&document).context("serialize SARIF")?;
            outln!("{text}");
        }
        ScanFormat::Markdown => out!("{}", output::markdown(report, &listing)),
        ScanFormat::Text => out!("{}", output::text(report, &listing)),
    }
    Ok(())
}

/// The CLI runs the built-in detectors only: an id in `[scan] disabled`
/// that none of them has is a typo.
/// The built-in detectors for `config`, refusing a `[scan] disabled` id
/// that names none of them.
pub(crate) fn builtin_detectors(
    root: &std::path::Path,
    config: &ScanConfig,
) -> Result<Vec<Box<dyn Detector>>, CommandError> {
    let detectors = detectors::builtin(config);
    refuse_unknown_disabled(root, config, &detectors)?;
    Ok(detectors)
}

fn refuse_unknown_disabled(
    root: &std::path::Path,
    config: &ScanConfig,
    builtin: &[Box<dyn Detector>],
) -> Result<(), CommandError> {
    let Some(unknown) = config
        .disabled
        .iter()
        .find(|id| !builtin.iter().any(|d| d.id() == id.as_str()))
    else {
        return Ok(());
    };
    let error = CommandError::bad_input(format!(
        "{}: [scan] disabled: no detector is called `{unknown}` (waypost scan --list-detectors lists them)",
        root.join("waypost.toml").display()
    ));
    Err(
        match did_you_mean(unknown, builtin.iter().map(|d| d.id())) {
            Some(hint) => error.with_hint(hint),
            None => error,
        },
    )
}
