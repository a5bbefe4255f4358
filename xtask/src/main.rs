//! Workspace automation. Run through the cargo alias: `cargo xtask <task>`.
//!
//! - `cargo xtask schemas [--check]`: JSON Schemas of every artifact into
//!   `schemas/`.
//! - `cargo xtask fixtures [--check]`: the sample artifacts under
//!   `fixtures/artifacts/`, valid and invalid, with their manifest.
//! - `cargo xtask precision [--out FILE] [--sample N] [--seed S] REPO…` and
//!   `cargo xtask precision fixtures --marked FILE --to DIR`: a sample of the
//!   gap scanner's findings for a person to judge, and the judgements as
//!   regression fixtures (see `docs/precision.md`).
//! - `cargo xtask secret-rules [--check]` and `cargo xtask secret-rules
//!   --from FILE --version V --commit C`: the redactor's maintained rule set
//!   (gitleaks' default configuration, vendored under
//!   `crates/waypost-schemas/data/gitleaks/`) as Rust, and its refresh.
//! - `cargo xtask invariants-doc [--check]`: `docs/invariants/` from the
//!   `// Invariant:` blocks of `crates/`, the tests that carry their ids and
//!   the danger-fence registry; fails on duplicate ids, untested invariants,
//!   tests of undeclared ids and ignored tests without a reason.
//! - `cargo xtask with-postgres -- CMD…`: CMD against a throwaway PostgreSQL
//!   cluster (installed from the distribution's packages when missing),
//!   with `WAYPOST_TEST_PG` set to its URL; the cluster is stopped and
//!   removed whatever CMD does.
//!
//! With `--check` nothing is written: a stale, missing or extra file fails
//! the task with the command that fixes it. The generators work from the
//! workspace root; `precision` takes paths relative to the current folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

mod codegen;
mod fixtures;
mod invariants;
mod postgres;
mod precision;
mod secret_rules;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.split_first() {
        Some((task, rest)) if task == "with-postgres" => postgres::run(rest),
        _ => run().map(|()| ExitCode::SUCCESS),
    };
    match outcome {
        Ok(code) => code,
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
    let (task, flags) = args.split_first().context(
        "usage: cargo xtask <schemas|fixtures|invariants-doc|secret-rules|precision|with-postgres> [ARGS]",
    )?;
    let generate: fn(&Path, codegen::Mode) -> Result<()> = match task.as_str() {
        "schemas" => codegen::schemas,
        "fixtures" => fixtures::generate,
        "invariants-doc" => invariants::generate,
        "precision" => return precision::run(flags),
        "secret-rules" => {
            let root = workspace_root();
            return secret_rules::run(&root, flags);
        }
        other => {
            bail!(
                "unknown task `{other}`; tasks: schemas, fixtures, invariants-doc, secret-rules, precision, with-postgres"
            )
        }
    };
    let mode = match flags {
        [] => codegen::Mode::Write,
        [flag] if flag == "--check" => codegen::Mode::Check,
        _ => bail!("unexpected arguments {flags:?}; usage: cargo xtask {task} [--check]"),
    };
    let root = workspace_root();
    std::env::set_current_dir(&root)
        .with_context(|| format!("cannot enter the workspace root {}", root.display()))?;
    generate(&root, mode)
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_owned()
}
