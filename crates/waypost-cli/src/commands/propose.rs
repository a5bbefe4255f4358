//! `waypost propose`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use waypost::gaps::{ReportContext, scan_with_progress};
use waypost::intention::resolve_anchor;
use waypost::planning::propose::{self, ProposeOptions};
use waypost::schemas::io::{read_artifact, write_artifact_as};
use waypost::schemas::layout::new_run_id;
use waypost::schemas::{Artifact, GapReportV1, RunLayout};

use crate::clock;
use crate::error::CommandError;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    repo: super::RepoArg,
    /// Propose for this gap_report_v1 instead of scanning first.
    #[arg(long, value_name = "FILE")]
    gaps: Option<PathBuf>,
    /// Also store the plan (and the report it was made from) in a new run
    /// directory: plans/plan_proposal_v1.json.
    #[arg(long)]
    write: bool,
    /// text (people), json (the plan_proposal_v1 artifact), markdown (a
    /// pull-request comment).
    #[arg(long, value_enum, default_value_t)]
    format: ProposeFormat,
    /// Most actions in the plan; the rest of the gaps are deferred with the
    /// reason.
    #[arg(long, value_name = "N", default_value_t = propose::DEFAULT_MAX_ACTIONS)]
    max_actions: usize,
    /// Most target paths of one action.
    #[arg(long, value_name = "N", default_value_t = propose::DEFAULT_MAX_PATHS_PER_ACTION)]
    max_paths: usize,
    /// autopack: the JSON plan (printed and --write) and the written
    /// report hold only the fields Autopack's published schemas name;
    /// --write keeps the rest in `<name>.waypost.json` sidecars. Default:
    /// `[output] compat` of waypost.toml, else waypost (every field).
    #[arg(long, value_enum)]
    compat: Option<super::CompatArg>,
}

/// What `--format` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
enum ProposeFormat {
    #[default]
    Text,
    Json,
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
    let profile = super::profile(root, args.compat)?;
    let clock = clock()?;
    let resolved = resolve_anchor(root, None, &clock)?;
    let anchor = resolved.anchor;
    let now = clock.now();
    let run_id = new_run_id("plan", &now)?;
    let report: GapReportV1 = match &args.gaps {
        Some(path) => read_artifact(path)
            .map_err(|e| CommandError::bad_input(format!("{}: {e}", path.display())))?,
        None => {
            let config = waypost::scan_config(root, &anchor)?;
            let context = ReportContext {
                project_id: anchor.project_id.clone(),
                run_id: run_id.clone(),
                now: now.clone(),
            };
            let detectors = super::scan::builtin_detectors(root, &config)?;
            scan_with_progress(root, &detectors, &config, &context, &|_| {})?.report
        }
    };
    let options =
        ProposeOptions::new(run_id.clone(), now).with_bounds(args.max_actions, args.max_paths);
    let plan = propose::propose(&anchor, &report, &options)
        .map_err(|e| CommandError::bad_input(e.to_string()))?;
    if args.write {
        let layout = RunLayout::new(root, &anchor.project_id, &run_id)?;
        if args.gaps.is_none() {
            let path = layout.gap_report();
            write_artifact_as(&path, &report, profile)
                .with_context(|| format!("write {}", path.display()))?;
        }
        let path = layout.plan_proposal();
        let sidecar = write_artifact_as(&path, &plan, profile)
            .with_context(|| format!("write {}", path.display()))?;
        eprintln!("wrote {} ({})", path.display(), plan.content_id());
        if let Some(sidecar) = sidecar {
            eprintln!("wrote {}", sidecar.display());
        }
    }
    match args.format {
        ProposeFormat::Json => out!("{}", super::json_in(&plan, profile)),
        ProposeFormat::Markdown => out!("{}", propose::output::markdown(&plan)),
        ProposeFormat::Text => out!("{}", propose::output::text(&plan)),
    }
    Ok(ExitCode::SUCCESS)
}
