//! # waypost-intention
//!
//! The intention anchor: the canonical, human-owned statement of what the
//! humans want. This crate reads it (TOML or JSON), checks it, asks about what
//! is missing, merges it with what the repository implies, and never changes
//! it by itself.
//!
//! - [`load_anchor`]: read an authored anchor; errors name the file, the line
//!   and column, and the field.
//! - [`infer_from_repo`] and [`create_from_inputs`]: explicit human input wins
//!   field by field; inferred and default values carry their provenance.
//! - [`validate_pivot_completeness`]: at most 8 clarifying questions, safety
//!   and scope first.
//! - [`check_anchor`]: contradictions and risks, each with a stable code.
//! - [`AnchorRevisionProposal`] and [`apply_revision`]: the only way waypost
//!   writes an anchor file, and only with a human's approval.
//! - [`resolve_anchor`]: find the project's anchor (or use the built-in
//!   default) and merge it with inference, as the CLI does.

mod checks;
mod completeness;
mod convert;
mod default;
mod infer;
mod merge;
mod revision;
mod source;
mod template;

use std::path::{Path, PathBuf};

pub use checks::{
    AUTOPACK_NOT_ENFORCED, CODES, Finding, Severity, check_anchor, check_autopack_profile,
};
pub use completeness::{
    ClarifyingQuestion, MAX_QUESTIONS, Suggestion, validate_pivot_completeness,
};
pub use default::{RUN_ROOT, default_pivots};
pub use infer::{Inferred, infer_from_repo};
pub use merge::{UNNAMED_PROJECT, create_from_inputs};
pub use revision::{AnchorRevisionProposal, FieldChange, RevisionError, apply_revision};
pub use source::{
    AnchorError, LoadedAnchor, PIVOT_SECTIONS, Problem, SourceFormat, load_anchor,
    load_found_anchor, to_authored_toml,
};
pub use template::TEMPLATE;

use waypost_schemas::{Clock, IntentionAnchorV2};

/// Where the anchor in force came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnchorOrigin {
    /// A file humans wrote.
    File {
        /// The file.
        path: PathBuf,
        /// How it is written.
        format: SourceFormat,
    },
    /// No anchor file: waypost's built-in conservative default.
    BuiltInDefault,
}

/// The anchor in force for a repository, and what it was made from.
#[derive(Clone, Debug)]
pub struct ResolvedAnchor {
    /// The merged anchor.
    pub anchor: IntentionAnchorV2,
    /// Where the human part came from.
    pub origin: AnchorOrigin,
    /// What inference found.
    pub inferred: Inferred,
}

/// Finds the anchor for the repository at `root` — `file` if given, else
/// `intention.toml`, else the `[intention]` table of `waypost.toml`, else the
/// built-in default — and merges it with inference from the repository.
pub fn resolve_anchor(
    root: &Path,
    file: Option<&Path>,
    clock: &Clock,
) -> Result<ResolvedAnchor, AnchorError> {
    let inferred = infer_from_repo(root);
    // (path, found in the repository rather than named by a person)
    let candidate = match file {
        Some(path) => Some((path.to_owned(), false)),
        None => {
            let standalone = root.join("intention.toml");
            let waypost = root.join("waypost.toml");
            // Anything there counts (not only a regular file): a FIFO or a
            // link to a device is then refused by name when it is read,
            // instead of silently falling back to the default.
            let present = |p: &Path| std::fs::symlink_metadata(p).is_ok();
            if present(&standalone) {
                Some((standalone, true))
            } else if present(&waypost) && waypost_toml_has_intention(&waypost) {
                Some((waypost, true))
            } else {
                None
            }
        }
    };
    let (explicit, origin) = match candidate {
        Some((path, found)) => {
            let loaded = if found {
                load_found_anchor(&path, clock)?
            } else {
                load_anchor(&path, clock)?
            };
            let origin = AnchorOrigin::File {
                path: loaded.path.clone(),
                format: loaded.format,
            };
            (Some(loaded.anchor), origin)
        }
        None => (None, AnchorOrigin::BuiltInDefault),
    };
    let anchor = create_from_inputs(explicit.as_ref(), &inferred, clock);
    match &origin {
        AnchorOrigin::File { path, .. } => {
            tracing::info!(path = %path.display(), project = %anchor.project_id, "anchor read");
        }
        AnchorOrigin::BuiltInDefault => {
            tracing::info!(project = %anchor.project_id, "no anchor file: the built-in default");
        }
    }
    for (field, sources) in &inferred.sources {
        tracing::debug!(
            field = %field,
            from = ?sources,
            "found by inference (an anchor file's own value wins)"
        );
    }
    Ok(ResolvedAnchor {
        anchor,
        origin,
        inferred,
    })
}

/// Whether `waypost.toml` has an `[intention]` table (a file that does not
/// parse counts as having one, so loading it reports the syntax error).
/// A file that cannot be read safely counts too, so loading it reports why.
fn waypost_toml_has_intention(path: &Path) -> bool {
    use waypost_schemas::io::{Links, MAX_CONFIG_BYTES, read_text};
    read_text(path, MAX_CONFIG_BYTES, Links::Refuse)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .is_none_or(|table| table.contains_key("intention"))
}
