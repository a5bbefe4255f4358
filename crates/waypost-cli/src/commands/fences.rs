//! `waypost fences`

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};
use waypost::fences::DANGER_FENCES;

use crate::Format;
use crate::error::CommandError;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, CommandError> {
    match args.format {
        Format::Text => out!("{}", text()),
        Format::Json => {
            let fences: Vec<Value> = DANGER_FENCES
                .iter()
                .map(|f| {
                    json!({
                        "id": f.id,
                        "name": f.name,
                        "race": f.race,
                        "root_cause": f.root_cause,
                        "correct_pattern": f.correct_pattern,
                        "forbidden": f.forbidden,
                        "helper": f.helper,
                        "tests": f.tests,
                    })
                })
                .collect();
            let text = serde_json::to_string_pretty(&json!({ "fences": fences }))
                .context("serialize the fence registry")?;
            outln!("{text}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn text() -> String {
    let mut out = String::new();
    for f in DANGER_FENCES {
        let _ = writeln!(out, "{}  {}", f.id, f.name);
        let _ = writeln!(out, "  race:       {}", f.race);
        let _ = writeln!(out, "  root cause: {}", f.root_cause);
        let _ = writeln!(out, "  do:         {}", f.correct_pattern);
        for wrong in f.forbidden {
            let _ = writeln!(out, "  never:      {wrong}");
        }
        let _ = writeln!(out, "  helper:     {}", f.helper);
        let _ = writeln!(out, "  proven by:  {}", f.tests.join(", "));
        out.push('\n');
    }
    out
}
