//! What an anchor's `never_allow` and `requires_approval` entries mean.

use crate::command::{CommandPattern, CommandPatternError, looks_like_command};
use crate::paths::{PathPattern, PatternError};

/// One `safety_risk.never_allow` or `safety_risk.requires_approval` entry,
/// classified once for every crate that reads it:
///
/// - an entry without white space is a path pattern (`secrets/**`, `.env`);
///   if it is also a program's name (`terraform`, `docker`), it is a
///   command rule as well, and both are enforced;
/// - an entry with white space that [looks like a command](looks_like_command)
///   is a command rule (`git push --force`, `rm -rf`, `$ mytool deploy`);
/// - anything else is free text (`dependency changes`) that no check can
///   enforce: `waypost anchor check` reports it, and the policy does not
///   pretend to match it.
#[derive(Debug)]
pub struct SafetyEntry {
    /// The entry as a path pattern, or why it does not parse as one.
    pub path: Option<Result<PathPattern, PatternError>>,
    /// The entry as a command rule, or why it does not parse as one.
    pub command: Option<Result<CommandPattern, CommandPatternError>>,
}

impl SafetyEntry {
    /// Classifies `text`.
    pub fn classify(text: &str) -> Self {
        let trimmed = text.trim();
        let looks = looks_like_command(trimmed);
        if trimmed.contains(char::is_whitespace) {
            Self {
                path: None,
                command: looks.then(|| CommandPattern::parse(trimmed)),
            }
        } else {
            Self {
                path: Some(PathPattern::new(trimmed)),
                // A bare program name is also a rule about running it; a
                // pattern that is only a path (`secrets/**`) is not.
                command: looks
                    .then(|| CommandPattern::parse(trimmed).ok().map(Ok))
                    .flatten(),
            }
        }
    }

    /// Neither a path nor a command: prose no check can enforce.
    pub fn is_free_text(&self) -> bool {
        self.path.is_none() && self.command.is_none()
    }
}
