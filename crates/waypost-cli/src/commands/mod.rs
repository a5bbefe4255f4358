//! One module per subcommand.

pub(crate) mod anchor;
pub(crate) mod approve;
pub(crate) mod fences;
pub(crate) mod generated;
pub(crate) mod ledger;
pub(crate) mod policy;
pub(crate) mod propose;
pub(crate) mod run;
pub(crate) mod runs;
pub(crate) mod scan;
pub(crate) mod schema;
pub(crate) mod store;
pub(crate) mod tidy;
pub(crate) mod validate;

use std::path::Path;

use waypost::schemas::compat::{AUTOPACK_KINDS, Profile, to_profile};
use waypost::schemas::config::OutputConfig;
use waypost::schemas::io::to_pretty_json;
use waypost::schemas::{Artifact, ArtifactKind, UnknownKind};

use crate::error::CommandError;

/// The repository a command works on: `PATH`, or `--repo DIR` as every
/// other command takes it.
#[derive(Debug, clap::Args)]
pub(crate) struct RepoArg {
    /// The repository (default: the current folder).
    #[arg(value_name = "PATH")]
    path: Option<std::path::PathBuf>,
    /// The repository, as the other commands take it (the same as PATH).
    #[arg(long, value_name = "DIR", conflicts_with = "path")]
    repo: Option<std::path::PathBuf>,
}

impl RepoArg {
    /// The folder given, or `.`.
    pub(crate) fn root(&self) -> &Path {
        self.path
            .as_deref()
            .or(self.repo.as_deref())
            .unwrap_or_else(|| Path::new("."))
    }
}

/// `--compat`: the fields anchors, gap reports, plans and autopilot sessions
/// are written and printed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CompatArg {
    /// Every field waypost knows.
    Waypost,
    /// Only the fields Autopack's published schemas name; --write keeps
    /// the rest in a `<name>.waypost.json` sidecar.
    Autopack,
}

/// The profile to write in: `--compat` when given, else `[output] compat`
/// of `root/waypost.toml`, else every field.
pub(crate) fn profile(root: &Path, flag: Option<CompatArg>) -> Result<Profile, CommandError> {
    Ok(match flag {
        Some(CompatArg::Waypost) => Profile::Waypost,
        Some(CompatArg::Autopack) => Profile::Autopack,
        None => OutputConfig::load(root)?.compat,
    })
}

/// `artifact` as the JSON printed on standard output in `profile`; in the
/// Autopack profile a note on standard error says what is left out.
pub(crate) fn json_in<T: Artifact<Kind = ArtifactKind>>(artifact: &T, profile: Profile) -> String {
    if profile == Profile::Autopack && AUTOPACK_KINDS.contains(&T::KIND) {
        let value = serde_json::to_value(artifact).unwrap_or_default();
        let (compat, sidecar) = to_profile(T::KIND, &value, &artifact.content_id());
        if !sidecar.changes.is_empty() {
            note!(
                "note: the Autopack profile leaves out {} waypost field(s) of {}; --write keeps them in a sidecar",
                sidecar.changes.len(),
                sidecar.artifact_id
            );
        }
        let mut text = serde_json::to_string_pretty(&compat).unwrap_or_default();
        text.push('\n');
        text
    } else {
        to_pretty_json(artifact)
    }
}

/// Parses an artifact kind for clap, listing the known ones on error.
pub(crate) fn parse_kind(text: &str) -> Result<ArtifactKind, UnknownKind> {
    text.parse()
}
