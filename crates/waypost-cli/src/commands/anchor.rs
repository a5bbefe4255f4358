//! `waypost anchor init | check | show`

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;
use waypost::intention::{
    AnchorError, AnchorOrigin, ClarifyingQuestion, Finding, ResolvedAnchor, Severity, SourceFormat,
    Suggestion, TEMPLATE, check_anchor, check_autopack_profile, resolve_anchor, to_authored_toml,
    validate_pivot_completeness,
};
use waypost::schemas::ProvenanceOrigin;
use waypost::schemas::compat::Profile;

use crate::error::CommandError;
use crate::{Format, clock};

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Write a commented intention.toml to start from (never overwrites).
    ///
    /// Example: waypost anchor init && waypost anchor check
    Init {
        /// Where to write it.
        #[arg(default_value = "intention.toml")]
        path: PathBuf,
        /// Output format: json prints `{"written": PATH}`.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Check the anchor: errors, contradictions, clarifying questions.
    ///
    /// Without FILE: intention.toml, else the `[intention]` table of
    /// waypost.toml, else the built-in default, merged with what the
    /// repository implies. Exit 0 when complete and consistent, 1 when
    /// errors or questions remain, 2 when the file cannot be read.
    ///
    /// Example: waypost anchor check --format json
    Check {
        #[command(flatten)]
        target: Target,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// autopack: also warn about what Autopack will not enforce when
        /// the anchor is written in its profile. Default: `[output]
        /// compat` of waypost.toml.
        #[arg(long, value_enum)]
        compat: Option<super::CompatArg>,
    },
    /// Print the anchor in force.
    ///
    /// Example: waypost anchor show --format toml
    Show {
        #[command(flatten)]
        target: Target,
        /// json: the intention_anchor_v2 artifact itself (what `waypost
        /// validate` accepts); toml: the authored form; text: its anchor_id,
        /// then one line per field with where it came from.
        #[arg(long, value_enum, default_value_t)]
        format: ShowFormat,
        /// autopack: `--format json` prints only the fields Autopack's
        /// published schema names. Default: `[output] compat` of
        /// waypost.toml, else waypost (every field).
        #[arg(long, value_enum)]
        compat: Option<super::CompatArg>,
    },
}

/// What `anchor show --format` prints. The `--format` help says what each
/// is; the variants carry no doc comments, which would make `--help` list
/// them again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ShowFormat {
    Json,
    Toml,
    #[default]
    Text,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Target {
    /// An anchor file (TOML or JSON) instead of looking for one.
    file: Option<PathBuf>,
    /// The repository the anchor is for (inference reads it).
    #[arg(long, default_value = ".")]
    repo: PathBuf,
}

pub(crate) fn run(command: &Command) -> Result<ExitCode, CommandError> {
    match command {
        Command::Init { path, format } => init(path, *format),
        Command::Check {
            target,
            format,
            compat,
        } => check(target, *format, super::profile(&target.repo, *compat)?),
        Command::Show {
            target,
            format,
            compat,
        } => show(target, *format, super::profile(&target.repo, *compat)?),
    }
}

fn init(path: &Path, format: Format) -> Result<ExitCode, CommandError> {
    // create_new: refuse atomically if anything is there, even a file that
    // appears between a check and the write.
    let mut file = match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(CommandError::usage(format!(
                "{} already exists; waypost never overwrites an anchor (edit it, or remove it first)",
                path.display()
            )));
        }
        Err(e) => {
            return Err(CommandError::bad_input(format!(
                "cannot create {}: {e}",
                path.display()
            )));
        }
    };
    // Stamp the creation time so the anchor does not get a new one per run.
    let stamped = TEMPLATE.replacen(
        "project_id = \"my-project\"\n",
        &format!(
            "project_id = \"my-project\"\ncreated_at = \"{}\"\n",
            clock()?.now()
        ),
        1,
    );
    file.write_all(stamped.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("write {}", path.display()))?;
    match format {
        Format::Text => outln!(
            "wrote {}: fill in the north star, then run `waypost anchor check`",
            path.display()
        ),
        Format::Json => outln!("{}", serde_json::json!({ "written": path })),
    }
    Ok(ExitCode::SUCCESS)
}

/// Resolves the anchor; `Ok(Err(..))` is an anchor that does not load
/// (reported as a finding), `Err` one that cannot be read at all.
fn resolve(target: &Target) -> Result<Result<ResolvedAnchor, AnchorError>, CommandError> {
    if !target.repo.is_dir() {
        return Err(CommandError::usage(format!(
            "{}: not a folder",
            target.repo.display()
        )));
    }
    match resolve_anchor(&target.repo, target.file.as_deref(), &clock()?) {
        Err(AnchorError::Read(e)) => Err(e.into()),
        other => Ok(other),
    }
}

fn origin_text(origin: &AnchorOrigin) -> String {
    match origin {
        AnchorOrigin::File { path, format } => {
            let how = match format {
                SourceFormat::Toml => "TOML",
                SourceFormat::WaypostToml => "[intention] of waypost.toml",
                SourceFormat::Json => "JSON",
                SourceFormat::Artifact => "intention_anchor_v2 artifact",
            };
            format!("{} ({how})", path.display())
        }
        AnchorOrigin::BuiltInDefault => {
            "built-in default (no intention.toml, and no [intention] table in waypost.toml)".into()
        }
    }
}

fn check(target: &Target, format: Format, profile: Profile) -> Result<ExitCode, CommandError> {
    let resolved = match resolve(target)? {
        Ok(resolved) => resolved,
        Err(error) => {
            match format {
                Format::Text => outln!("{error}\n\nresult: the anchor does not load"),
                Format::Json => {
                    outln!("{}", json!({"loaded": false, "error": error.to_string()}))
                }
            }
            return Ok(ExitCode::from(1));
        }
    };
    let mut findings = check_anchor(&resolved.anchor);
    if profile == Profile::Autopack {
        findings.extend(check_autopack_profile(&resolved.anchor));
    }
    let questions = validate_pivot_completeness(&resolved.anchor, Some(&resolved.inferred));
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    match format {
        Format::Text => out!(
            "{}",
            check_text(&resolved, &findings, &questions, errors, warnings)
        ),
        Format::Json => {
            let report = json!({
                "loaded": true,
                "anchor_id": resolved.anchor.anchor_id(),
                "origin": origin_text(&resolved.origin),
                "built_in_default": resolved.origin == AnchorOrigin::BuiltInDefault,
                "findings": findings.iter().map(|f| json!({
                    "severity": f.severity.name(),
                    "code": f.code, "field": f.field, "message": f.message,
                })).collect::<Vec<_>>(),
                "questions": questions.iter().map(|q| json!({
                    "pivot": q.pivot, "field": q.field, "question": q.question,
                    "suggested": q.suggested.as_ref().map(|(v, _)| v.clone()),
                    "suggested_from": q.suggested.as_ref().map(|(_, s)| suggestion_name(*s)),
                })).collect::<Vec<_>>(),
            });
            let text = serde_json::to_string_pretty(&report).context("serialize the report")?;
            outln!("{text}");
        }
    }
    Ok(ExitCode::from(if errors > 0 || !questions.is_empty() {
        1
    } else {
        0
    }))
}

fn suggestion_name(s: Suggestion) -> &'static str {
    match s {
        Suggestion::Inferred => "inferred",
        Suggestion::BuiltIn => "built-in default",
    }
}

fn check_text(
    resolved: &ResolvedAnchor,
    findings: &[Finding],
    questions: &[ClarifyingQuestion],
    errors: usize,
    warnings: usize,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "anchor:    {}", origin_text(&resolved.origin));
    let _ = writeln!(out, "anchor_id: {}", resolved.anchor.anchor_id());
    let guessed = resolved.anchor.provenance.len();
    if guessed > 0 {
        let _ = writeln!(
            out,
            "           {guessed} fields were not written by a human (see `waypost anchor show`)"
        );
    }
    if !findings.is_empty() {
        out.push('\n');
        for f in findings {
            let _ = writeln!(
                out,
                "{:<7} {} at {}\n        {}",
                f.severity.name(),
                f.code,
                f.field,
                f.message
            );
        }
    }
    if !questions.is_empty() {
        let _ = writeln!(out, "\nquestions:");
        for (i, q) in questions.iter().enumerate() {
            let _ = writeln!(out, "{:>2}. {}\n    fills {}", i + 1, q.question, q.field);
            if let Some((value, from)) = &q.suggested {
                let _ = writeln!(out, "    suggested ({}): {value}", suggestion_name(*from));
            }
        }
    }
    let _ = writeln!(
        out,
        "\nresult: {errors} error{}, {warnings} warning{}, {} question{}",
        if errors == 1 { "" } else { "s" },
        if warnings == 1 { "" } else { "s" },
        questions.len(),
        if questions.len() == 1 { "" } else { "s" },
    );
    out
}

fn show(target: &Target, format: ShowFormat, profile: Profile) -> Result<ExitCode, CommandError> {
    let resolved = match resolve(target)? {
        Ok(resolved) => resolved,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(1));
        }
    };
    let anchor = &resolved.anchor;
    match format {
        // The artifact itself, byte for byte what a run directory holds
        // (`waypost validate` accepts it); its anchor_id is in the text
        // format and in `anchor check --format json`.
        ShowFormat::Json => out!("{}", super::json_in(anchor, profile)),
        ShowFormat::Toml => out!("{}", to_authored_toml(anchor)),
        ShowFormat::Text => {
            let mut out = format!(
                "anchor:    {}\nanchor_id: {}\nproject:   {}\n",
                origin_text(&resolved.origin),
                anchor.anchor_id(),
                anchor.project_id
            );
            let pivots = serde_json::to_value(&anchor.pivot_intentions).context("serialize")?;
            for (section, fields) in pivots.as_object().into_iter().flatten() {
                let _ = writeln!(out, "\n[{section}]");
                for (field, value) in fields.as_object().into_iter().flatten() {
                    let pointer = format!("/pivot_intentions/{section}/{field}");
                    let note = match anchor.provenance.get(&pointer) {
                        Some(p) if p.origin == ProvenanceOrigin::Default => {
                            "  (built-in default)".to_owned()
                        }
                        Some(p) if p.sources.is_empty() => "  (inferred)".to_owned(),
                        Some(p) => format!("  (inferred from {})", p.sources.join(", ")),
                        None => String::new(),
                    };
                    let _ = writeln!(out, "{field} = {value}{note}");
                }
            }
            out!("{out}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
