//! Workspace automation. Run through the cargo alias: `cargo xtask <task>`.
//!
//! - `cargo xtask schemas [--check]`: JSON Schemas of every artifact into
//!   `schemas/`.
//! - `cargo xtask fixtures [--check]`: the sample artifacts under
//!   `fixtures/artifacts/`, valid and invalid, with their manifest.
//!
//! With `--check` nothing is written: a stale, missing or extra file fails
//! the task with the command that fixes it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

mod codegen;
mod fixtures;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            #[expect(clippy::print_stderr, reason = "the xtask reports to the terminal")]
            {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (task, flags) = args
        .split_first()
        .context("usage: cargo xtask <schemas|fixtures> [--check]")?;
    let mode = match flags {
        [] => codegen::Mode::Write,
        [flag] if flag == "--check" => codegen::Mode::Check,
        _ => bail!("unexpected arguments {flags:?}; usage: cargo xtask {task} [--check]"),
    };
    let root = workspace_root();
    std::env::set_current_dir(&root)
        .with_context(|| format!("cannot enter the workspace root {}", root.display()))?;
    match task.as_str() {
        "schemas" => codegen::schemas(&root, mode),
        "fixtures" => fixtures::generate(&root, mode),
        other => bail!("unknown task `{other}`; tasks: schemas, fixtures"),
    }
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_owned()
}
