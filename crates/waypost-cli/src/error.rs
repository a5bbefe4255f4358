//! The one error type of the commands: what went wrong, which exit code it
//! ends with, and what the user can do about it.
//!
//! Each library error a command meets is converted here, once, so that a
//! command writes `?` and the choice of exit code lives in one place.

use std::process::ExitCode;

use waypost::gaps::baseline::BaselineError;
use waypost::gaps::{ConfigError, ScanError};
use waypost::intention::AnchorError;
use waypost::schemas::TimestampError;
use waypost::schemas::config::nearest_name;
use waypost::schemas::io::ReadError;
use waypost::schemas::layout::IdError;

/// Why a command failed, and so its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CommandErrorKind {
    /// The arguments do not make sense, or name nothing usable: exit 2.
    Usage,
    /// Input that cannot be read or is not valid (a file, `waypost.toml`,
    /// the anchor, the environment): exit 2.
    BadInput,
    /// A bug, or a failure of the machine rather than of the input: exit 3.
    Internal,
}

impl CommandErrorKind {
    /// The exit code documented for this kind in the crate docs.
    fn exit_code(self) -> u8 {
        match self {
            Self::Usage | Self::BadInput => 2,
            Self::Internal => 3,
        }
    }
}

/// A command that could not finish. Findings are not errors: a command
/// reports them and exits 1 itself.
#[derive(Debug)]
pub(crate) struct CommandError {
    kind: CommandErrorKind,
    /// What is printed after `error: ` (or `internal error: `); it may run
    /// over several lines, as an anchor's list of problems does.
    message: String,
    /// What the user can do, one `hint: ` line each, after the message.
    hints: Vec<String>,
}

impl CommandError {
    fn new(kind: CommandErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    /// Bad arguments: exit 2.
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::new(CommandErrorKind::Usage, message)
    }

    /// Input that cannot be read or is not valid: exit 2.
    pub(crate) fn bad_input(message: impl Into<String>) -> Self {
        Self::new(CommandErrorKind::BadInput, message)
    }

    /// Adds a line saying what the user can do.
    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// What is printed on standard error: the message, then the hints.
    fn render(&self) -> String {
        let label = match self.kind {
            CommandErrorKind::Usage | CommandErrorKind::BadInput => "error",
            CommandErrorKind::Internal => "internal error",
        };
        let mut out = format!("{label}: {}\n", self.message);
        for hint in &self.hints {
            out.push_str(&format!("hint: {hint}\n"));
        }
        out
    }
}

/// The exit code of a command's outcome; an error is printed first.
pub(crate) fn finish(outcome: Result<ExitCode, CommandError>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprint!("{}", err.render());
            ExitCode::from(err.kind.exit_code())
        }
    }
}

impl From<anyhow::Error> for CommandError {
    fn from(err: anyhow::Error) -> Self {
        Self::new(CommandErrorKind::Internal, format!("{err:#}"))
    }
}

/// The library errors the commands meet: each is input that cannot be
/// read or is not valid (exit 2), shown with its own message.
macro_rules! bad_input_from {
    ($($(#[$doc:meta])* $error:ty),+ $(,)?) => {$(
        $(#[$doc])*
        impl From<$error> for CommandError {
            fn from(err: $error) -> Self {
                Self::bad_input(err.to_string())
            }
        }
    )+};
}

bad_input_from!(
    /// `waypost.toml` is not usable.
    ConfigError,
    /// The scan cannot start: the root, the range, a protected path pattern,
    /// the repository.
    ScanError,
    /// The anchor does not load.
    AnchorError,
    /// A file that was named or found cannot be read.
    ReadError,
    /// An id from the input (the anchor's project_id) is not usable as a
    /// path component.
    IdError,
    /// `SOURCE_DATE_EPOCH` is not a usable time.
    TimestampError,
);

/// A baseline that cannot be read or written is bad input (exit 2); one
/// that is missing gets a hint on how to make it.
impl From<BaselineError> for CommandError {
    fn from(err: BaselineError) -> Self {
        let missing = matches!(&err, BaselineError::Read(ReadError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound);
        let error = Self::bad_input(err.to_string());
        if missing {
            error.with_hint(
                "`waypost scan --write-baseline FILE` records the current gaps as a baseline",
            )
        } else {
            error
        }
    }
}

/// A hint naming the candidate nearest to `given`, if one is near enough to
/// be what was meant (see [`nearest_name`]).
pub(crate) fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    nearest_name(given, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_exits_with_its_documented_code() {
        let code = |err: CommandError| err.kind.exit_code();
        assert_eq!(code(CommandError::usage("x")), 2);
        assert_eq!(code(CommandError::bad_input("x")), 2);
        assert_eq!(code(anyhow::anyhow!("x").into()), 3);
        assert_eq!(
            code(TimestampError::SourceDateEpoch { value: "x".into() }.into()),
            2
        );
    }

    #[test]
    fn hints_print_after_the_message() {
        let err = CommandError::usage("the message")
            .with_hint("first")
            .with_hint("second");
        assert_eq!(
            err.render(),
            "error: the message\nhint: first\nhint: second\n"
        );
        assert_eq!(CommandError::bad_input("plain").render(), "error: plain\n");
    }

    #[test]
    fn internal_errors_print_their_whole_chain() {
        let err: CommandError = anyhow::anyhow!("the cause").context("the step").into();
        assert_eq!(err.render(), "internal error: the step: the cause\n");
    }

    #[test]
    fn a_near_miss_suggests_the_name_meant() {
        let ids = ["utf8_bom", "worktree_missing", "broken_markdown_link"];
        assert_eq!(
            did_you_mean("utf8_bmo", ids).as_deref(),
            Some("did you mean `utf8_bom`?")
        );
        assert_eq!(
            did_you_mean("broken_markdown_links", ids).as_deref(),
            Some("did you mean `broken_markdown_link`?")
        );
        assert_eq!(did_you_mean("nothing_like_it", ids), None);
        assert_eq!(did_you_mean("", ids), None);
    }
}
