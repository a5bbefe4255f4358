//! `waypost validate PATH...`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};
use waypost::schemas::ArtifactKind;
use waypost::schemas::io::{LoadError, read_any};

use crate::Format;
use crate::error::CommandError;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Artifact files, or folders to search for *.json files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Validate every file as this kind instead of telling it from the file
    /// (intention_anchor_v2, gap_report_v1, plan_proposal_v1,
    /// autopilot_session_v1, approval_record_v1; short forms such as `anchor`
    /// or `plan` work too).
    #[arg(long, value_parser = super::parse_kind)]
    kind: Option<ArtifactKind>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// The result for one file.
enum Status {
    Valid(ArtifactKind),
    Invalid {
        kind: Option<ArtifactKind>,
        errors: Vec<(String, String)>,
    },
    Unreadable(String),
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, CommandError> {
    let files = expand(&args.paths)?;
    let results: Vec<(PathBuf, Status)> = files
        .into_iter()
        .map(|path| {
            let status = check(&path, args.kind);
            (path, status)
        })
        .collect();
    let count = |f: fn(&Status) -> bool| results.iter().filter(|(_, s)| f(s)).count();
    let valid = count(|s| matches!(s, Status::Valid(_)));
    let invalid = count(|s| matches!(s, Status::Invalid { .. }));
    let unreadable = count(|s| matches!(s, Status::Unreadable(_)));

    match args.format {
        Format::Text => print_text(&results, valid, invalid, unreadable),
        Format::Json => print_json(&results, valid, invalid, unreadable)?,
    }
    Ok(ExitCode::from(if unreadable > 0 {
        2
    } else if invalid > 0 {
        1
    } else {
        0
    }))
}

/// Files in argument order; folders expand to their *.json files in path
/// order. A path that does not exist is a usage error before anything runs.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CommandError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect_json(path, &mut found)
                .with_context(|| format!("cannot list {}", path.display()))?;
            if found.is_empty() {
                return Err(CommandError::usage(format!(
                    "{}: the folder holds no .json files",
                    path.display()
                )));
            }
            found.sort();
            files.extend(found);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(CommandError::usage(format!(
                "{}: no such file or folder",
                path.display()
            )));
        }
    }
    Ok(files)
}

/// Every `*.json` below `dir`. Links are not followed, neither to folders
/// (a link back up cannot loop, and each file is listed once) nor to files
/// (a link can lead anywhere); a `*.json` that is a FIFO or a device is
/// listed and then refused, by kind, when read. Sidecars of the Autopack
/// profile (`*.waypost.json`) are not listed: each is read with its
/// artifact, which it completes.
fn collect_json(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_json(&path, found)?;
        } else if !kind.is_symlink()
            && path.extension().is_some_and(|e| e == "json")
            && !waypost::schemas::compat::is_sidecar(&path)
        {
            found.push(path);
        }
    }
    Ok(())
}

fn check(path: &Path, kind: Option<ArtifactKind>) -> Status {
    match read_any(path, kind) {
        Ok((kind, _)) => Status::Valid(kind),
        Err(LoadError::Read(err)) => Status::Unreadable(err.to_string()),
        Err(LoadError::Parse {
            line,
            column,
            message,
            ..
        }) => Status::Invalid {
            kind,
            errors: vec![(
                String::new(),
                format!("not valid JSON at line {line}, column {column}: {message}"),
            )],
        },
        Err(LoadError::Detect { source, .. }) => Status::Invalid {
            kind: None,
            errors: vec![(String::new(), source.to_string())],
        },
        Err(LoadError::Invalid { source, .. }) => Status::Invalid {
            kind: Some(source.kind()),
            errors: source
                .violations()
                .into_iter()
                .map(|v| (v.pointer, v.message))
                .collect(),
        },
        Err(other) => Status::Unreadable(other.to_string()),
    }
}

fn pointer_or_root(pointer: &str) -> &str {
    if pointer.is_empty() { "/" } else { pointer }
}

fn print_text(results: &[(PathBuf, Status)], valid: usize, invalid: usize, unreadable: usize) {
    for (path, status) in results {
        let path = path.display();
        match status {
            Status::Valid(kind) => outln!("valid       {path} ({kind})"),
            Status::Invalid { kind, errors } => {
                match kind {
                    Some(kind) => outln!("invalid     {path} ({kind})"),
                    None => outln!("invalid     {path}"),
                }
                for (pointer, message) in errors {
                    outln!("    {}: {message}", pointer_or_root(pointer));
                }
            }
            Status::Unreadable(message) => outln!("unreadable  {path}: {message}"),
        }
    }
    outln!("{valid} valid, {invalid} invalid, {unreadable} unreadable");
}

fn print_json(
    results: &[(PathBuf, Status)],
    valid: usize,
    invalid: usize,
    unreadable: usize,
) -> Result<(), CommandError> {
    let files: Vec<Value> = results
        .iter()
        .map(|(path, status)| {
            let path = path.display().to_string();
            match status {
                Status::Valid(kind) => json!({"path": path, "status": "valid", "kind": kind.name(), "errors": []}),
                Status::Invalid { kind, errors } => json!({
                    "path": path,
                    "status": "invalid",
                    "kind": kind.map(ArtifactKind::name),
                    "errors": errors.iter().map(|(p, m)| json!({"pointer": p, "message": m})).collect::<Vec<_>>(),
                }),
                Status::Unreadable(message) => json!({
                    "path": path,
                    "status": "unreadable",
                    "kind": null,
                    "errors": [{"pointer": "", "message": message}],
                }),
            }
        })
        .collect();
    let report = json!({
        "files": files,
        "summary": {"valid": valid, "invalid": invalid, "unreadable": unreadable},
    });
    let text = serde_json::to_string_pretty(&report).context("serialize the report")?;
    outln!("{text}");
    Ok(())
}
