//! `waypost scan`

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use waypost::gaps::{Detector, ReportContext, ScanConfig, detectors, output, scan_with_progress};
use waypost::intention::resolve_anchor;
use waypost::schemas::RunLayout;
use waypost::schemas::io::{to_pretty_json, write_artifact};
use waypost::schemas::layout::new_run_id;

use crate::clock;
use crate::error::{CommandError, did_you_mean};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The repository to scan.
    #[arg(default_value = ".")]
    path: PathBuf,
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
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// List the detectors (id, gap type, what each looks for) and exit;
    /// the ids are what `[scan] disabled` takes.
    #[arg(long)]
    list_detectors: bool,
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
    let root = &args.path;
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
            println!(
                "{:<34} {:<25} {}{state}",
                d.id(),
                d.gap_type().as_str(),
                d.description()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
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
    let detectors = detectors::builtin(&config);
    refuse_unknown_disabled(root, &config, &detectors)?;

    // Progress only for a person watching a terminal. The tree is read as it
    // is walked, so there is a running count rather than a total.
    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} scanned {pos} files ({per_sec})")
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
        write_artifact(&path, report).with_context(|| format!("write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    match args.format {
        ScanFormat::Json => print!("{}", to_pretty_json(report)),
        ScanFormat::Sarif => {
            let text = serde_json::to_string_pretty(&output::sarif(report, &detectors))
                .context("serialize SARIF")?;
            println!("{text}");
        }
        ScanFormat::Markdown => print!("{}", output::markdown(report)),
        ScanFormat::Text => {
            print!("{}", output::text(report));
            if !outcome.skipped.too_large.is_empty() {
                eprintln!(
                    "note: {} file(s) over the {}-byte cap were not read: {}",
                    outcome.skipped.too_large.len(),
                    config.max_file_bytes,
                    outcome.skipped.too_large.join(", ")
                );
            }
            for why in &outcome.skipped.refused_folders {
                eprintln!("note: a folder was not scanned: {why}");
            }
        }
    }
    Ok(ExitCode::from(if report.gaps.is_empty() { 0 } else { 1 }))
}

/// The CLI runs the built-in detectors only: an id in `[scan] disabled`
/// that none of them has is a typo.
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
