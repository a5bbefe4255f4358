//! One module per subcommand.

pub(crate) mod anchor;
pub(crate) mod fences;
pub(crate) mod generated;
pub(crate) mod policy;
pub(crate) mod propose;
pub(crate) mod scan;
pub(crate) mod schema;
pub(crate) mod validate;

use waypost::schemas::{ArtifactKind, UnknownKind};

/// Parses an artifact kind for clap, listing the known ones on error.
pub(crate) fn parse_kind(text: &str) -> Result<ArtifactKind, UnknownKind> {
    text.parse()
}
