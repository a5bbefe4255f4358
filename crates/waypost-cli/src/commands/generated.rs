//! `waypost generated`

use std::path::PathBuf;
use std::process::ExitCode;

use waypost::gaps::ScanConfig;
use waypost::gaps::generated::{inputs_digest, marker};

use crate::Format;
use crate::error::CommandError;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The generated file, as declared in `[[scan.generated]]` `output`.
    output: String,
    /// The repository whose waypost.toml declares it.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format: json prints `{"output", "inputs_digest", "marker"}`.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, CommandError> {
    let config = ScanConfig::load(&args.repo)?;
    let declared: Vec<&str> = config.generated.iter().map(|g| g.output.as_str()).collect();
    let Some(generated) = config.generated.iter().find(|g| g.output == args.output) else {
        return Err(CommandError::usage(format!(
            "{}: not declared in {} [[scan.generated]] (declared: {})",
            args.output,
            args.repo.join("waypost.toml").display(),
            if declared.is_empty() {
                "none".to_owned()
            } else {
                declared.join(", ")
            }
        )));
    };
    let digest = inputs_digest(&args.repo, generated)
        .map_err(|e| CommandError::bad_input(format!("{}: {e}", args.output)))?;
    match args.format {
        Format::Text => outln!("{}", marker(&digest)),
        Format::Json => outln!(
            "{}",
            serde_json::json!({
                "output": args.output,
                "inputs_digest": digest,
                "marker": marker(&digest),
            })
        ),
    }
    Ok(ExitCode::SUCCESS)
}
