//! What an anchor's `never_allow` and `requires_approval` entries mean.

use crate::command::{CommandPattern, CommandPatternError, looks_like_command};
use crate::paths::{PathPattern, PatternError};

/// One `safety_risk.never_allow` or `safety_risk.requires_approval` entry,
/// classified once for every crate that reads it:
///
/// - an entry without white space is a path pattern (`secrets/**`, `.env`);
/// - an entry that [looks like a command](looks_like_command) is a command
///   rule (`git push --force`, `rm -rf`, `$ mytool deploy`);
/// - anything else is free text (`dependency changes`) that no check can
///   enforce: `waypost anchor check` reports it, and the policy does not
///   pretend to match it.
#[derive(Debug)]
pub enum SafetyEntry {
    /// A path pattern, or why it does not parse.
    Path(Result<PathPattern, PatternError>),
    /// A command rule, or why it does not parse.
    Command(Result<CommandPattern, CommandPatternError>),
    /// Prose: neither a path nor a command.
    FreeText(String),
}

impl SafetyEntry {
    /// Classifies `text`.
    pub fn classify(text: &str) -> Self {
        let trimmed = text.trim();
        if looks_like_command(trimmed) {
            Self::Command(CommandPattern::parse(trimmed))
        } else if trimmed.contains(char::is_whitespace) {
            Self::FreeText(trimmed.to_owned())
        } else {
            Self::Path(PathPattern::new(trimmed))
        }
    }
}
