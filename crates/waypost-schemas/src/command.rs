//! Shell command lines and the typed command rules matched against them.
//!
//! Anchors name commands in their policy rules (`never_allow = ["git push
//! --force"]`). Matching those as substrings misses `git push -f`,
//! `sudo git push --force`, `bash -c 'git push --force'` and many more
//! spellings of the same act. Here both sides are parsed instead:
//!
//! - [`CommandLine::parse`] parses a command line with a real shell parser
//!   (`brush-parser`) and lists every [`SimpleCommand`] that would run, looking
//!   through `&&`, pipes, subshells, substitutions, `bash -c` scripts and
//!   wrappers such as `sudo`, `env` and `xargs`; what it cannot see through is
//!   reported by [`CommandLine::not_understood`].
//! - [`CommandPattern::parse`] reads a rule (`git push --force`,
//!   `rm -rf`, `tofu * except tofu fmt`) and normalises it the same way, so
//!   [`CommandPattern::matches`] compares program, leading positional words and
//!   options, not text.
//! - Deny rules and allow rules read a line differently. A deny rule must
//!   assume the worst, so every spelling of a program counts (`GIT`,
//!   `git.exe`, `/usr/lib/git-core/git-push`). An allow rule vouches for a
//!   line only when it can see all of it: [`CommandLine::unvouched`] lists
//!   what an allow rule must not vouch for (assignments, arithmetic that
//!   evaluates variables, programs given by path, configuration-changing
//!   options), and [`CommandLine::written_paths`] lists the files its
//!   redirections write, for the caller to check like target paths.
//!
//! ```
//! use waypost_schemas::{CommandLine, CommandMatch, CommandPattern};
//!
//! let rule = CommandPattern::parse("git push --force")?;
//! let line = CommandLine::parse("cd sub && sudo -u bob git -C . push -f origin main");
//! assert!(line.not_understood().is_empty());
//! assert_eq!(rule.matches_line(&line), CommandMatch::Yes);
//!
//! let line = CommandLine::parse("git push $FLAGS");
//! assert!(matches!(rule.matches_line(&line), CommandMatch::Maybe(_)));
//! # Ok::<(), waypost_schemas::CommandPatternError>(())
//! ```
//!
//! Option names are normalised: short clusters are split (`-rf` becomes
//! `-r`, `-f`), `--opt=value` becomes `--opt`, and for a small table of tools
//! that rules usually name, aliases are folded to one canonical spelling,
//! always the long form where there is one:
//!
//! | tool | spellings | canonical |
//! |---|---|---|
//! | `git push` | `-f`, `--force`, `--force-with-lease[=…]`, `--force-if-includes`, `--mirror`, a `+refspec` | `--force` (the lease, includes and mirror spellings are kept too) |
//! | `git push` | `-d`, `--delete`, a `:refspec` | `--delete` |
//! | `git push` | `-u`, `--set-upstream` / `-n`, `--dry-run` | `--set-upstream` / `--dry-run` |
//! | `git clean` | `-f`, `--force` / `-n`, `--dry-run` / `-i`, `--interactive` | `--force` / `--dry-run` / `--interactive` (`-d`, `-x`, `-X` have no long form and stay) |
//! | `git reset` | `--hard`, `--soft`, `--mixed`, `--keep`, `--merge` | unchanged |
//! | `git branch` | `-d`, `--delete` / `-f`, `--force` / `-D` / `-m`, `--move` / `-M` / `-c`, `--copy` / `-C` | `--delete` / `--force` / `--delete` + `--force` / `--move` / `--move` + `--force` / `--copy` / `--copy` + `--force` |
//! | `git checkout`, `git switch` | `-f`, `--force` (and `--discard-changes` for switch) | `--force` |
//! | `rm` | `-r`, `-R`, `--recursive` / `-f`, `--force` | `--recursive` / `--force` |
//! | `chmod`, `chown`, `chgrp` | `-R`, `--recursive` | `--recursive` |
//! | `cargo` | `--force` (and `-f`) | `--force` |
//! | `npm`, `pnpm`, `yarn` | `-f`, `--force` | `--force` |
//!
//! GNU-style unique abbreviations of long options (`rm --rec`) are expanded
//! for `rm`, `chmod`, `chown`, `chgrp` and the git subcommands above.
//!
//! Program names are compared in lower case and without a `.exe` suffix
//! (`GIT push -f` and `git.exe push -f` run git on case-insensitive file
//! systems and in Git Bash), and git's dashed programs are git subcommands
//! (`git-push -f` is `git push -f`). Positional words that look like paths
//! (they contain `/` or start with `.`) are compared after lexical
//! normalisation on both sides, so the rule `rm -rf src` catches `rm -rf
//! ./src`, `rm -rf src/` and `rm -rf docs/../src`.

use std::collections::{BTreeSet, HashMap};

use brush_parser::ParserOptions;
use brush_parser::ast;
use brush_parser::word::{self, BraceExpressionMember, BraceExpressionOrText, WordPiece};

/// How deeply substitutions, `bash -c` scripts and wrappers may nest before
/// the rest is reported as not understood.
const MAX_DEPTH: usize = 16;

/// Most words one brace expansion may produce before it is treated as a
/// run-time expansion.
const MAX_BRACE_WORDS: usize = 256;

/// Most `{` a word may hold (not counting `${`) before its brace expansion
/// is refused: brush-parser's brace parser takes time exponential in
/// unbalanced `{` (18 take seconds).
const MAX_BRACE_OPENERS: usize = 8;

/// How deeply brackets, substitutions and compound commands may nest (as
/// [`nesting`] estimates it) before a text is refused without parsing:
/// brush-parser recurses and overflows the stack, which aborts the process,
/// at a depth of a few hundred.
const MAX_NESTING: usize = 64;

/// Most brackets, substitutions and compound commands a text may open in
/// all before it is refused without parsing. This bounds the real nesting
/// depth whatever quoting does to the estimate of [`nesting`].
const MAX_OPENERS: usize = 512;

/// Most openers (as [`nesting`] counts them) parsed on the caller's stack;
/// more are parsed on a thread with a [`LARGE_STACK_BYTES`] stack.
const SMALL_STACK_OPENERS: usize = 32;

/// Most openers parsed on one large-stack thread before a nested script gets
/// a thread of its own.
const LARGE_STACK_OPENERS: usize = 2 * MAX_OPENERS;

/// The stack of a thread that parses a text with many openers: far more
/// than [`LARGE_STACK_OPENERS`] levels of brush-parser and the walker need
/// even in an unoptimised build (the memory is reserved, not committed).
const LARGE_STACK_BYTES: usize = 64 << 20;

/// Longest excerpt of a command line quoted in a reason.
const EXCERPT_CHARS: usize = 80;

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// A shell command line, parsed once.
///
/// Parsing never fails: what cannot be understood is recorded in
/// [`not_understood`](Self::not_understood), and callers that enforce policy
/// should treat a non-empty list as "needs a human" rather than as "allowed".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine {
    text: String,
    commands: Vec<SimpleCommand>,
    not_understood: Vec<String>,
    unvouched: Vec<String>,
    written_paths: Vec<String>,
}

impl CommandLine {
    /// Parses `text` as a bash command line. Never fails: what cannot be
    /// understood is recorded in [`not_understood`](Self::not_understood).
    pub fn parse(text: &str) -> Self {
        let mut walker = Walker::new(0);
        if text.trim().is_empty() {
            walker.reasons.push("The command line is empty.".to_owned());
        } else {
            walker.walk_fresh(text);
        }
        if walker.commands.is_empty() {
            walker.unvouch(
                "The line runs no command (it is empty, a comment or only assignments), \
                 so there is nothing for an allow rule to vouch for."
                    .to_owned(),
            );
        }
        Self {
            text: text.to_owned(),
            commands: walker.commands,
            not_understood: walker.reasons,
            unvouched: walker.unvouched,
            written_paths: walker.written,
        }
    }

    /// The command line as given.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every simple command that would run, in source order (the commands of
    /// a substitution come before the command whose words contain it, since
    /// they run first), including ones inside `&&`, `||`, `;`, pipes,
    /// subshells `( )`, brace groups, `if`/`while`/`until`/`for`/`case`
    /// bodies, function bodies, `$( … )`, backticks, `<( … )` process
    /// substitution, and the scripts of `bash -c '…'` / `sh -c` / `dash -c` /
    /// `zsh -c` / `ksh -c` (parsed again, recursively).
    ///
    /// Environment assignments (`FOO=1 cmd`) are stripped. A wrapper is listed
    /// itself (`sudo`, with its own options and the wrapped words as
    /// positional words) and then the command it runs: `env` (its options and
    /// `NAME=VALUE` words), `sudo` (its options, including `-u -g -C -D -h -p
    /// -r -t -U -T -R` with a value, and `NAME=VALUE` words), `doas` (`-u`,
    /// `-C`), `nohup`, `time` (`-p`, `-f`, `-o`), `nice` (`-n N`, `-N`),
    /// `timeout` (options, then the duration), `command` (`-p`; `-v`/`-V` run
    /// nothing), `exec` (`-a NAME`, `-c`, `-l`), `builtin`, `stdbuf` (`-i`,
    /// `-o`, `-e`), `xargs` (options; the command gets more words from its
    /// input, so it is [`dynamic`](SimpleCommand::dynamic)), `ionice`,
    /// `chrt` (options, then the priority), `chroot` (options, then the new
    /// root), `setsid`, `unbuffer`, `fakeroot`, `flock` (lock file, then the
    /// command or `-c` script), `su -c`, `watch` (its words run by `sh -c`),
    /// `trap` (its action) and `find … -exec/-execdir/-ok/-okdir CMD … ;|+`
    /// (`find` is listed, then each `CMD`), `strace`/`ltrace` (options,
    /// including `-o -e -p -s -u` with a value), `taskset` (a mask or `-c
    /// LIST`), `runuser` (`-u USER`, or `-c` like `su`), `setpriv`,
    /// `unshare`, `nsenter`, `systemd-run`, `busybox` (the applet is the
    /// program), `script -c` (its command is parsed as a line), `npx`,
    /// `bunx`, `uvx`, `npm exec`/`npm x`, `pnpm dlx`/`pnpm exec` and `uv
    /// run` (the rest is a command; their `-c` scripts are parsed as lines),
    /// and the shell `fish -c`. The commands that git runs for `submodule
    /// foreach`, `rebase --exec`, `bisect run`, `filter-branch` and
    /// `difftool --extcmd` are listed after the git command.
    ///
    /// A program given by path (`/usr/bin/git`, `./git`) is named by its
    /// basename, in lower case and without a `.exe` suffix; a dashed git
    /// program (`git-push`) is `git` with the subcommand as its first
    /// positional word. `git send-pack` is listed and then listed again as
    /// `git push` with the same options, so force-push rules see it.
    pub fn simple_commands(&self) -> &[SimpleCommand] {
        &self.commands
    }

    /// Why parts of the line could not be understood, one sentence each
    /// naming the part; empty when all is understood.
    ///
    /// Non-empty for: a parse error (with the parser's message), `eval`,
    /// `source` / `.`, here-documents and here-strings, a program name that is
    /// computed at run time (`$X push`, `$(echo git) push`) or contains glob
    /// or brace characters, `alias`, `exec` with no command, an empty line, a
    /// shell reading its commands from standard input (`… | bash`), a
    /// `bash -c` whose script is computed at run time or is itself not
    /// understood, `env -S`, `git -c alias.…=…`, and nesting deeper than 16
    /// levels.
    ///
    /// Also non-empty for:
    ///
    /// - a line whose brackets, substitutions and compound commands (`(`,
    ///   `{`, `[`, `if`/`case`/`while`/`until`/`for`, a `!` word) nest more
    ///   than 64 levels deep or number more than 512 in all, counted without
    ///   regard to quoting; such a line is refused without calling the
    ///   parser, which would overflow the stack and abort the process;
    /// - a word with more than 8 `{` (not counting `${`), refused without
    ///   calling the brace parser, whose time is exponential in them, and a
    ///   brace expansion that would produce more than 256 words;
    /// - git subcommands that run other commands: `submodule foreach`,
    ///   `rebase --exec`/`-x`, `bisect run`, `filter-branch` filters,
    ///   `filter-repo` callbacks and `difftool --extcmd`/`-x`; the command
    ///   they are given is still parsed where it can be and its simple
    ///   commands listed, so a deny rule sees `git push -f` in `git submodule
    ///   foreach 'git push -f'`;
    /// - code in another language: `python -c`, `perl -e`/`-E`, `node
    ///   -e`/`-p`, `ruby -e`, `php -r`, `lua -e`, `osascript -e`, `pwsh
    ///   -c`/`-Command`, `bun -e`, `deno eval`, and an awk program that may
    ///   run commands (`system`, or a `|` pipe).
    pub fn not_understood(&self) -> &[String] {
        &self.not_understood
    }

    /// Why an allow rule cannot vouch for this line even when every simple
    /// command matches an allowed pattern, one sentence each naming the
    /// part; empty when an allow rule may vouch for it. Deny rules ignore
    /// this list: it names what hides behaviour from an allow rule, not what
    /// hides a denied command.
    ///
    /// Non-empty for:
    ///
    /// - an assignment, standalone (`x=1`, `PATH=/tmp/evil`, `a[$(cmd)]=1`,
    ///   whose subscript is parsed so the inner commands are listed) or as a
    ///   prefix (`GIT_PAGER=… git log`, `LD_PRELOAD=… git status`), through
    ///   `env`/`sudo` (`env PATH=… git status`) or a declaration builtin
    ///   (`export`, `declare`, `typeset`, `local`, `readonly`), and builtins
    ///   that set variables or the command table (`read`, `mapfile`,
    ///   `readarray`, `getopts`, `printf -v`, `hash -p`, `enable`): any of
    ///   these can change what a later command runs;
    /// - constructs in which bash evaluates variables recursively and so can
    ///   run a substitution hidden in a variable's value: `(( ))` and `$((
    ///   ))` that name a variable, `for (( ))`, `[[ ]]`, `let`, parameter
    ///   transformations (`${x@P}`),
    ///   indirect expansion (`${!x}`), substring offsets that are not
    ///   numbers (`${x:i}`), array subscripts that are not numbers
    ///   (`${a[i]}`), and `${x:=v}`, which assigns;
    /// - a program given by a path (`./git`, `docs/git`, `/tmp/evil/git`):
    ///   deny rules match it by its basename, but an allow rule vouches only
    ///   for a program found on `PATH`; and a program named in another case
    ///   or with `.exe` (`GIT`), which is the allowed program only on some
    ///   systems;
    /// - options that change configuration or what runs: git's global `-c`,
    ///   `--config-env`, `--exec-path`, `--git-dir`, `--work-tree` and
    ///   `--namespace`; a `git config` that sets or unsets a value (more than
    ///   a key, `--add`, `--unset`, `--replace-all`, `--edit`, `git config
    ///   set`/`unset`/`edit`/…); cargo's `--config` and `-Z`;
    /// - a redirection, or a file written by git's `--output`, whose target
    ///   is computed at run time;
    /// - a line that runs no command (empty, only a comment, or only
    ///   assignments).
    pub fn unvouched(&self) -> &[String] {
        &self.unvouched
    }

    /// The files this line's output redirections write, unquoted, in source
    /// order without repeats: the static targets of `>`, `>>`, `>|`, `<>`,
    /// `&>`, `&>>`, `>&FILE`, `N>` and `N>>` in every part of the line
    /// (inside substitutions and `bash -c` scripts too), and the file of
    /// git's `--output=FILE` / `--output FILE` / `-o FILE` for `git diff`,
    /// `log`, `show` and `format-patch` (and its `--output-directory`).
    ///
    /// `/dev/null`, `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and descriptor
    /// duplications (`>&2`, `2>&1`) are left out; other device paths such as
    /// `/dev/tcp/…` stay. A target computed at run time is not listed here
    /// but in [`unvouched`](Self::unvouched). The caller checks these like
    /// target paths.
    pub fn written_paths(&self) -> &[String] {
        &self.written_paths
    }
}

/// One command as it would be run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleCommand {
    /// The program's name (basename, unquoted, in lower case, without a
    /// `.exe` suffix): `git`.
    pub program: String,
    /// Positional (non-option) words in order, after tool-specific
    /// normalisation: for git, global options before the subcommand (`-C
    /// <path>`, `-c <k=v>`, `--git-dir[=]…`, `--work-tree`, `--namespace`,
    /// `--no-pager`, `-P`, `--bare`, `--exec-path`, `--literal-pathspecs`,
    /// `--no-replace-objects`, `-p`, `--paginate`, …) are removed, and a `git
    /// push` refspec loses its leading `+` or `:` (recorded as `--force` or
    /// `--delete`); for cargo a leading `+toolchain` is removed. Values of
    /// options known to take one (`git push -o <value>`) are not positional.
    /// A word that expands at run time appears as written (`$FLAGS`).
    pub positional: Vec<String>,
    /// Normalised options present: short clusters split (`-rf` → `-r`,
    /// `-f`), `--opt=value` → `--opt`, and aliases folded to the canonical
    /// spellings of the module table (`git push -f` → `--force`). After `--`
    /// words are positional.
    pub flags: BTreeSet<String>,
    /// Some word expands at run time (`$VAR`, `${…}`, `$(…)`, backticks,
    /// unquoted globs) or is appended at run time (`xargs`): it could be any
    /// option or word, so a deny rule must assume it matches.
    pub dynamic: bool,
    /// The command as written (its words joined by single spaces), for
    /// messages.
    pub text: String,
    /// What the matcher knows about each positional word, plus a trailing
    /// run-time slot for `xargs`.
    slots: Vec<Slot>,
    /// The first word that expands at run time, named for messages
    /// (`` `$FLAGS` ``).
    dynamic_word: Option<String>,
}

/// A typed command rule: program, leading positional words, required and
/// forbidden options, with exceptions.
///
/// Written as text in anchors:
///
/// - `git push --force`: program `git`, positional prefix `[push]`, requires
///   `--force`.
/// - `rm -rf`: program `rm`, requires `--recursive` and `--force` (options
///   are normalised like commands').
/// - `git push !--dry-run`: `!OPT` means the option must be absent.
/// - `tofu *`: any tofu command (`*` is any further arguments, and is also
///   implied at the end; in the middle it is any one word).
/// - `tofu * except tofu fmt`: `except` separates patterns that carve
///   exceptions out of the first.
/// - `tofu * except tofu fmt, tofu validate`: several exceptions, comma
///   separated.
/// - `$ make deploy`: a leading `$ ` marks the text as a command explicitly
///   (see [`looks_like_command`]); it is stripped.
///
/// Pattern positional words must equal the command's leading positional
/// words in order; extra arguments are allowed. Words that look like paths
/// (they contain `/` or start with `.`) are compared after lexical
/// normalisation on both sides (`./src`, `src/`, `docs/../src` are `src`;
/// `//`, `/.`, `/usr/..` are `/`). A pattern naming a wrapper
/// (`sudo rm`) matches the wrapper's own options and sees the wrapped
/// command's words as plain positional words; write `rm -rf` to catch `rm`
/// under any wrapper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandPattern {
    text: String,
    main: Shape,
    exceptions: Vec<Shape>,
}

impl CommandPattern {
    /// Parses a rule. The error names the text and what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, CommandPatternError> {
        let fail = |problem| CommandPatternError {
            text: text.to_owned(),
            problem,
        };
        let body = strip_marker(text.trim());
        if body.is_empty() {
            return Err(fail(PatternProblem::Empty));
        }
        let (main_text, exception_texts) = split_exceptions(body).map_err(fail)?;
        let main = Shape::parse(&main_text).map_err(fail)?;
        let mut exceptions = Vec::with_capacity(exception_texts.len());
        for exception in exception_texts {
            let shape = Shape::parse(&exception).map_err(fail)?;
            if shape.program != main.program {
                return Err(fail(PatternProblem::ExceptionProgram {
                    exception,
                    program: main.program.clone(),
                }));
            }
            exceptions.push(shape);
        }
        Ok(Self {
            text: text.to_owned(),
            main,
            exceptions,
        })
    }

    /// The rule as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether `command` falls under this rule.
    ///
    /// [`CommandMatch::Maybe`] when only run-time expansion (or a word that
    /// may be an option's value, for tools whose options are not in the
    /// table) separates the command from a match, or when it may fall under
    /// an exception.
    pub fn matches(&self, command: &SimpleCommand) -> CommandMatch {
        let mut result = self.main.matches(command);
        if result == CommandMatch::No {
            return result;
        }
        for exception in &self.exceptions {
            match exception.matches(command) {
                CommandMatch::Yes => return CommandMatch::No,
                CommandMatch::Maybe(why) => {
                    result = result.and(CommandMatch::Maybe(format!(
                        "It may fall under the exception `{}`: {why}",
                        exception.text.trim()
                    )));
                }
                CommandMatch::No => {}
            }
        }
        result
    }

    /// The strongest match over every simple command of `line`: `Yes` if
    /// any command matches, else `Maybe` if any may, else `No`.
    ///
    /// [`CommandLine::not_understood`] is not folded in: a caller enforcing
    /// a deny rule must treat a line with reasons as needing a human.
    pub fn matches_line(&self, line: &CommandLine) -> CommandMatch {
        line.simple_commands()
            .iter()
            .map(|command| self.matches(command))
            .fold(CommandMatch::No, CommandMatch::or)
    }
}

/// The result of matching a [`CommandPattern`] against a [`SimpleCommand`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandMatch {
    /// The command does not fall under the rule.
    No,
    /// The command falls under the rule.
    Yes,
    /// Could match once run-time expansion is known (the command is
    /// `dynamic` and the program and known positional words fit), or once
    /// it is known whether a word is an option's value (for tools whose
    /// options are not in the table): deny and approval rules treat this as
    /// a match, allow rules as no match. The string says why, in one
    /// sentence.
    Maybe(String),
}

impl CommandMatch {
    fn rank(&self) -> u8 {
        match self {
            Self::No => 0,
            Self::Maybe(_) => 1,
            Self::Yes => 2,
        }
    }

    /// Both must hold: the weaker of the two (the first `Maybe` keeps its
    /// reason).
    fn and(self, other: Self) -> Self {
        if other.rank() < self.rank() {
            other
        } else {
            self
        }
    }

    /// Either may hold: the stronger of the two (the first `Maybe` keeps its
    /// reason).
    fn or(self, other: Self) -> Self {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// `Yes` becomes `Maybe(why)`; the rest is unchanged.
    fn at_most_maybe(self, why: impl FnOnce() -> String) -> Self {
        match self {
            Self::Yes => Self::Maybe(why()),
            other => other,
        }
    }
}

/// A command rule that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid command rule `{}`: {problem}", .text.escape_debug())]
#[non_exhaustive]
pub struct CommandPatternError {
    /// The rule as written.
    pub text: String,
    /// What is wrong with it.
    pub problem: PatternProblem,
}

/// What is wrong with a command rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternProblem {
    /// Nothing but white space (or the `$ ` marker).
    #[error("the rule is empty; write a command such as `git push --force`")]
    Empty,
    /// `except` with no command after it, or an empty item in the
    /// comma-separated exception list.
    #[error("`except` must be followed by one or more commands separated by commas")]
    EmptyException,
    /// `except` with nothing before it.
    #[error("the rule starts with `except`; write the command it carves out of first")]
    NothingBeforeExcept,
    /// A `!` not followed by an option.
    #[error("`{0}`: `!` must be directly followed by an option, as in `!--dry-run`")]
    BareBang(String),
    /// The program is computed at run time.
    #[error("the program `{0}` is computed at run time; name the program literally")]
    DynamicProgram(String),
    /// A word other than `*` expands at run time.
    #[error("`{0}` expands at run time; rules name words literally (`*` is any one word)")]
    DynamicWord(String),
    /// The text is not one simple command.
    #[error(
        "a rule names one simple command: no `&&`, `|`, `;`, redirections, assignments or substitutions"
    )]
    NotOneCommand,
    /// The shell parser rejected the text.
    #[error("the shell parser rejected it ({0})")]
    Unparsable(String),
    /// An exception names another program than the rule.
    #[error("the exception `{exception}` names another program than `{program}`")]
    ExceptionProgram {
        /// The exception as written.
        exception: String,
        /// The rule's program.
        program: String,
    },
    /// The same option is required and forbidden.
    #[error("`{0}` is both required and forbidden")]
    Contradiction(String),
}

/// Whether `text` (an entry of an anchor list such as `never_allow`) reads
/// as a command rule rather than free text such as "dependency changes" or
/// "deleting production data".
///
/// True when any of these holds:
///
/// - it starts with `$ ` (an explicit marker, stripped by
///   [`CommandPattern::parse`]);
/// - its first word contains a `/` and has no glob characters, and more
///   words follow (`./deploy.sh --prod`, `/usr/bin/git push`; a lone
///   `scripts/deploy.sh` or `secrets/**` reads as a path);
/// - a later word is an option (`-x`, `--long`) or exactly `*`;
/// - its first word is a well-known program (`git`, `rm`, `sudo`, `curl`,
///   `cargo`, `npm`, `docker`, `kubectl`, `terraform`, `tofu`, … about 95) —
///   but for programs that are also everyday English words (`make`, `go`,
///   `find`, `kill`, `time`, `watch`, …) only when the text has at most three
///   words or a later word contains `/`, `.`, `=` or `:`, so "make breaking
///   changes to the API" stays free text while "make deploy" is a command;
/// - it has an `except` whose left side looks like a command by these rules.
pub fn looks_like_command(text: &str) -> bool {
    let text = text.trim();
    if text.starts_with("$ ") {
        return true;
    }
    let words = rough_words(text);
    let Some(first) = words.first() else {
        return false;
    };
    if let Some(position) = words.iter().position(|w| w == "except")
        && position > 0
        && looks_like_command(&words[..position].join(" "))
    {
        return true;
    }
    if first.contains('/') && words.len() > 1 && !has_glob(first) {
        return true;
    }
    let rest = &words[1..];
    if rest.iter().any(|w| w == "*" || is_option_text(w)) {
        return true;
    }
    let listed = |table: &str| table.split_whitespace().any(|p| p == first);
    if listed(KNOWN_PROGRAMS) {
        return true;
    }
    if listed(ENGLISH_PROGRAMS) {
        return words.len() <= 3 || rest.iter().any(|w| w.contains(['/', '.', '=', ':']));
    }
    false
}

/// Programs that anchors commonly name and that are not everyday words
/// (white-space separated).
const KNOWN_PROGRAMS: &str = "
    git rm rmdir sudo doas su curl wget cargo rustup npm pnpm yarn npx pip pip3 pipx python
    python3 docker podman kubectl helm terraform tofu bash sh zsh dash chmod chown chgrp dd
    mkfs fdisk ssh scp sftp rsync gh glab aws gcloud az psql mysql redis-cli mongosh pkill
    killall reboot systemctl mv cp ln deno bun uv poetry brew apt-get dnf yum pacman apk eval
    xargs env nohup crontab iptables ufw umount chattr setfacl ansible ansible-playbook pulumi
    gsutil heroku flyctl vercel netlify wrangler sed awk tar unzip zip nc ncat socat openssl
    gpg sqlite3
";

/// Well-known programs whose names are also everyday English words
/// (white-space separated).
const ENGLISH_PROGRAMS: &str = "
    make go find kill time watch bundle test install patch touch exec source nice timeout
    command script screen less head tail apt node mount vault shred shutdown truncate gem
";

// ---------------------------------------------------------------------------
// Words
// ---------------------------------------------------------------------------

/// One shell word after quote removal, brace expansion and a record of what
/// in it expands at run time.
#[derive(Clone, Debug)]
struct Arg {
    /// The word's static text, quotes removed (run-time parts left out).
    value: String,
    /// The word as written.
    raw: String,
    /// Some part expands at run time (`$X`, `$(…)`, `` `…` ``, `$((…))`).
    dynamic: bool,
    /// An unquoted glob character (`*`, `?`, `[…]`, extglob).
    glob: bool,
    /// The word as written before brace expansion, when it came out of one
    /// (`{a,b}`).
    brace: Option<String>,
}

impl Arg {
    /// A word with no quoting or expansion in it.
    fn literal(text: &str) -> Self {
        Self {
            value: text.to_owned(),
            raw: text.to_owned(),
            dynamic: false,
            glob: false,
            brace: None,
        }
    }

    /// The word's final text is only known at run time.
    fn varies(&self) -> bool {
        self.dynamic || self.glob
    }

    /// The word as written, before brace expansion.
    fn written(&self) -> &str {
        self.brace.as_deref().unwrap_or(&self.raw)
    }

    /// A static word shaped like an option (`-x`, `--long`).
    fn is_option(&self) -> bool {
        !self.varies() && is_option_text(&self.value)
    }
}

fn is_option_text(text: &str) -> bool {
    text.len() > 1 && text.starts_with('-')
}

/// `NAME=VALUE` with a valid shell variable name.
fn is_assignment(arg: &Arg) -> bool {
    if arg.varies() && !arg.raw.contains('=') {
        return false;
    }
    let Some((name, _)) = arg.value.split_once('=') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// A variable a builtin is given: `NAME` or `NAME[SUBSCRIPT]`, optionally
/// followed by `=VALUE` or `+=VALUE`.
#[derive(Clone, Copy, Debug)]
struct Variable<'a> {
    name: &'a str,
    subscript: Option<&'a str>,
    assigns: bool,
}

fn variable(text: &str) -> Option<Variable<'_>> {
    let name_end = text
        .char_indices()
        .find(|&(_, c)| !(c == '_' || c.is_ascii_alphanumeric()))
        .map_or(text.len(), |(at, _)| at);
    let name = &text[..name_end];
    if !name
        .chars()
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
    {
        return None;
    }
    let mut rest = &text[name_end..];
    let mut subscript = None;
    if let Some(inside) = rest.strip_prefix('[') {
        let mut depth = 1usize;
        let close = inside.char_indices().find(|&(_, c)| {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
            depth == 0
        })?;
        subscript = Some(&inside[..close.0]);
        rest = &inside[close.0 + 1..];
    }
    let assigns = rest.starts_with('=') || rest.starts_with("+=");
    (rest.is_empty() || assigns).then_some(Variable {
        name,
        subscript,
        assigns,
    })
}

/// Unquoted text that a shell would glob: `*`, `?`, `[…]`, or an extglob
/// group such as `@(…)`.
fn has_glob(text: &str) -> bool {
    if text.contains(['*', '?']) {
        return true;
    }
    if let Some(open) = text.find('[')
        && text[open..].contains(']')
    {
        return true;
    }
    ["@(", "!(", "+("].iter().any(|g| text.contains(g))
}

/// The basename of a program path: `/usr/bin/git` → `git` (Git Bash also
/// accepts `\` as a separator).
fn program_name(value: &str) -> &str {
    match value.rsplit(['/', '\\']).next() {
        Some(base) if !base.is_empty() => base,
        _ => value,
    }
}

/// A program's basename as rules compare it: lower case, without a `.exe`
/// suffix (`GIT`, `git.exe` → `git`).
fn fold_program(value: &str) -> String {
    let lower = program_name(value).to_lowercase();
    match lower.strip_suffix(".exe") {
        Some(stem) if !stem.is_empty() => stem.to_owned(),
        _ => lower,
    }
}

/// A positional word as rules compare it: words that look like paths
/// (they contain `/` or start with `.`) are normalised lexically (`./src`,
/// `src/`, `docs/../src` → `src`; `//`, `/.`, `/usr/..` → `/`); other
/// words are unchanged.
fn normalise_word(word: &str) -> std::borrow::Cow<'_, str> {
    if !(word.contains('/') || word.starts_with('.')) {
        return std::borrow::Cow::Borrowed(word);
    }
    let absolute = word.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in word.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if absolute => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    std::borrow::Cow::Owned(match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    })
}

/// Output targets that write no file: the null device, the standard
/// streams and open descriptors.
fn writes_no_file(path: &str) -> bool {
    matches!(path, "/dev/null" | "/dev/stdout" | "/dev/stderr")
        || path
            .strip_prefix("/dev/fd/")
            .is_some_and(|fd| !fd.is_empty() && fd.bytes().all(|b| b.is_ascii_digit()))
}

/// The target of `>&WORD` / `<&WORD` names a descriptor (`2`, `-`, `3-`)
/// rather than a file.
fn is_descriptor(word: &str) -> bool {
    let digits = word.strip_suffix('-').unwrap_or(word);
    word == "-" || (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

fn excerpt(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= EXCERPT_CHARS {
        one_line
    } else {
        let cut: String = one_line.chars().take(EXCERPT_CHARS).collect();
        format!("{cut}…")
    }
}

fn join_raw(args: &[Arg]) -> String {
    args.iter()
        .map(|a| a.raw.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether an arithmetic expression may name a variable (or hold an
/// expansion or quoting); `1 + 2 * 3` names none, so evaluates nothing
/// hidden.
fn names_variables(expression: &str) -> bool {
    expression.contains(|c: char| {
        c.is_alphabetic() || matches!(c, '_' | '$' | '`' | '[' | '\\' | '\'' | '"')
    })
}

/// What makes a parameter expansion evaluate a variable's value as more
/// than text, if anything: a transformation (`${x@P}`), indirection
/// (`${!x}`), an arithmetic substring offset or length (`${x:i}`), an
/// arithmetic array subscript (`${a[i]}`), or an assignment (`${x:=v}`).
fn recursive_expansion(expr: &word::ParameterExpr) -> Option<&'static str> {
    use word::ParameterExpr as E;
    let literal_number = |text: &str| {
        let text = text.trim();
        let digits = text.strip_prefix('-').unwrap_or(text).trim_start();
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    };
    let (parameter, indirect) = match expr {
        E::Transform { .. } => return Some("a parameter transformation"),
        E::AssignDefaultValues { .. } => return Some("an assignment"),
        E::Substring { offset, length, .. }
            if !literal_number(&offset.value)
                || length.as_ref().is_some_and(|l| !literal_number(&l.value)) =>
        {
            return Some("a substring with an arithmetic offset or length");
        }
        E::Parameter {
            parameter,
            indirect,
        }
        | E::UseDefaultValues {
            parameter,
            indirect,
            ..
        }
        | E::IndicateErrorIfNullOrUnset {
            parameter,
            indirect,
            ..
        }
        | E::UseAlternativeValue {
            parameter,
            indirect,
            ..
        }
        | E::ParameterLength {
            parameter,
            indirect,
        }
        | E::RemoveSmallestSuffixPattern {
            parameter,
            indirect,
            ..
        }
        | E::RemoveLargestSuffixPattern {
            parameter,
            indirect,
            ..
        }
        | E::RemoveSmallestPrefixPattern {
            parameter,
            indirect,
            ..
        }
        | E::RemoveLargestPrefixPattern {
            parameter,
            indirect,
            ..
        }
        | E::Substring {
            parameter,
            indirect,
            ..
        }
        | E::UppercaseFirstChar {
            parameter,
            indirect,
            ..
        }
        | E::UppercasePattern {
            parameter,
            indirect,
            ..
        }
        | E::LowercaseFirstChar {
            parameter,
            indirect,
            ..
        }
        | E::LowercasePattern {
            parameter,
            indirect,
            ..
        }
        | E::ReplaceSubstring {
            parameter,
            indirect,
            ..
        } => (parameter, *indirect),
        E::VariableNames { .. } | E::MemberKeys { .. } => return None,
    };
    if indirect {
        return Some("an indirect expansion");
    }
    match parameter {
        word::Parameter::NamedWithIndex { index, .. } if !literal_number(index) => {
            Some("an array element with an arithmetic subscript")
        }
        _ => None,
    }
}

/// Decodes the body of a `$'…'` word. `None` for escapes this does not
/// know (`\c…`), which the caller treats as a run-time value.
fn decode_ansi_c(body: &str) -> Option<String> {
    fn digits(
        chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
        radix: u32,
        max: usize,
    ) -> Option<u32> {
        let mut value = None;
        for _ in 0..max {
            let Some(d) = chars.peek().and_then(|c| c.to_digit(radix)) else {
                break;
            };
            chars.next();
            value = Some(value.unwrap_or(0) * radix + d);
        }
        value
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(escape) = chars.next() else {
            out.push('\\');
            break;
        };
        match escape {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'e' | 'E' => out.push('\u{1b}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' | '\'' | '"' | '?' => out.push(escape),
            '0'..='7' => {
                let first = escape.to_digit(8)?;
                let rest = digits(&mut chars, 8, 2);
                let value = match rest {
                    Some(r) if r >= 8 => first * 64 + r,
                    Some(r) => first * 8 + r,
                    None => first,
                };
                out.push(char::from_u32(value)?);
            }
            'x' => out.push(char::from_u32(digits(&mut chars, 16, 2)?)?),
            'u' => out.push(char::from_u32(digits(&mut chars, 16, 4)?)?),
            'U' => out.push(char::from_u32(digits(&mut chars, 16, 8)?)?),
            'c' => return None,
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// Calling the parser
// ---------------------------------------------------------------------------

// Invariant: SCHEMA-011 Parsing a command line never panics.
// Category: security
// Why: command lines come from agents; a line that crashes the policy engine
//      stops every check after it.
// Enforced by: every brush-parser call goes through `shielded`, which refuses the
//      overlong numbers brush-parser 0.4 unwraps (io numbers, brace sequences, tilde
//      prefixes) and texts nested too deeply for its recursion (`nesting_problem`)
//      before calling it and catches any other panic; both become a reason in
//      CommandLine::not_understood or a PatternProblem::Unparsable. A stack overflow
//      cannot be caught, so Walker::walk_fresh parses a text with more than
//      SMALL_STACK_OPENERS openers on a thread with a LARGE_STACK_BYTES stack, and
//      `words` refuses brace expressions the brace parser takes exponential time on.
// Root cause: brush-parser recurses once or more per nesting level and aborts the
//      process (SIGABRT) at a few hundred levels on a 2 MiB thread stack.
// Correct pattern: bound the nesting before parsing (MAX_NESTING, MAX_OPENERS) and
//      give the parser a stack that fits that bound.
// Forbidden: relying on catch_unwind for deep input (an overflow is not a panic),
//      and trusting the depth estimate alone: quoted or case-pattern `)` lower it,
//      so only the opener count bounds the real depth.
/// Runs a brush-parser call on `text`, turning the inputs it is known to
/// panic or overflow on, and any other panic, into an error message.
fn shielded<T>(text: &str, call: impl FnOnce() -> T) -> Result<T, String> {
    if let Some(problem) = nesting_problem(text) {
        return Err(problem);
    }
    if let Some(number) = overlong_number(text) {
        return Err(format!(
            "the number `{number}` is too long for the shell parser"
        ));
    }
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call))
        .map_err(|_| "the shell parser failed on it".to_owned())
}

/// An estimate of how deeply a text nests.
#[derive(Clone, Copy, Debug, Default)]
struct Nesting {
    /// The deepest nesting seen.
    deepest: usize,
    /// Openers in all.
    openers: usize,
}

/// Estimates the nesting of `text` without parsing it, ignoring quoting:
/// `(`, `{`, `[` and the keywords `if`, `case`, `while`, `until`, `for` and
/// `select` open a level, `)`, `}`, `]`, `fi`, `esac` and `done` close one,
/// and a `!` word (which `[[ ! ! … ]]` nests) opens one that never closes.
/// Inside `[[ ]]`, each `&&` and `||` counts as an opener too (the parser
/// builds a tree as deep as they are many), without adding to the depth.
///
/// Ignoring quotes overestimates the depth of most lines, but a quoted or
/// case-pattern `)` closes a level the parser keeps open, so only
/// [`Nesting::openers`] bounds the parser's real depth.
fn nesting(text: &str) -> Nesting {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    // Inside `[[ ]]`, where `&&` and `||` build a tree as deep as they are
    // many.
    let mut in_test = 0usize;
    let mut out = Nesting::default();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let mut opens = false;
        if byte.is_ascii_alphabetic() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            match &text[start..i] {
                "if" | "case" | "while" | "until" | "for" | "select" => opens = true,
                "fi" | "esac" | "done" => depth = depth.saturating_sub(1),
                _ => {}
            }
        } else {
            let word_edge = |at: Option<&u8>| {
                at.is_none_or(|b| b.is_ascii_whitespace() || matches!(b, b'(' | b'[' | b';'))
            };
            let next = bytes.get(i + 1).copied();
            match byte {
                b'[' if next == Some(b'[') => {
                    in_test += 1;
                    opens = true;
                }
                b']' if next == Some(b']') => {
                    in_test = in_test.saturating_sub(1);
                    depth = depth.saturating_sub(1);
                }
                b'(' | b'{' | b'[' => opens = true,
                b')' | b'}' | b']' => depth = depth.saturating_sub(1),
                b'!' if word_edge(i.checked_sub(1).and_then(|j| bytes.get(j)))
                    && word_edge(bytes.get(i + 1)) =>
                {
                    opens = true;
                }
                b'&' | b'|' if in_test > 0 && next == Some(byte) => {
                    out.openers += 1;
                    i += 1;
                }
                _ => {}
            }
            i += 1;
        }
        if opens {
            depth += 1;
            out.openers += 1;
            out.deepest = out.deepest.max(depth);
        }
    }
    out
}

/// Why `text` is too deeply nested to give to brush-parser, if it is.
fn nesting_problem(text: &str) -> Option<String> {
    let found = nesting(text);
    if found.deepest > MAX_NESTING {
        Some(format!(
            "it nests brackets, substitutions or compound commands more than \
             {MAX_NESTING} levels deep, which the shell parser cannot take"
        ))
    } else if found.openers > MAX_OPENERS {
        Some(format!(
            "it opens more than {MAX_OPENERS} brackets, substitutions or compound \
             commands, which the shell parser cannot take"
        ))
    } else {
        None
    }
}

/// A run of digits that brush-parser 0.4 would parse with `unwrap` and
/// overflow: an io number (`99999999999>x`, `i32`), or a brace sequence
/// bound or step and a tilde prefix (`{1..99…}`, `~+99…`, `i64`/`usize`).
fn overlong_number(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let (before, digits, after) = (&text[..start], &text[start..i], &text[i..]);
        let unsigned = before.strip_suffix(['+', '-']).unwrap_or(before);
        let io_number = digits.len() >= 10 && after.starts_with(['<', '>']);
        let sequence_or_tilde = digits.len() >= 19
            && (unsigned.ends_with(['~', '{'])
                || unsigned.ends_with("..")
                || after.starts_with(".."));
        if io_number || sequence_or_tilde {
            return Some(digits);
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Brace expansion
// ---------------------------------------------------------------------------

/// What brace expansion makes of a raw word.
enum Braces {
    /// No brace expression: the word stays one word.
    Absent,
    /// The words it expands to.
    Words(Vec<String>),
    /// More than [`MAX_BRACE_WORDS`] words (or a sequence out of range).
    TooMany,
    /// More than [`MAX_BRACE_OPENERS`] `{`: not given to the brace parser.
    TooNested,
}

/// Expands `{a,b}` and `{1..3}` in a raw word (quotes protect braces, as in
/// bash).
fn brace_expand(raw: &str, options: &ParserOptions) -> Braces {
    if unquoted_brace_openers(raw) > MAX_BRACE_OPENERS {
        return Braces::TooNested;
    }
    let parsed = shielded(raw, || word::parse_brace_expansions(raw, options));
    let Some(pieces) = parsed.ok().and_then(Result::ok).flatten() else {
        return Braces::Absent;
    };
    if !pieces
        .iter()
        .any(|p| matches!(p, BraceExpressionOrText::Expr(_)))
    {
        return Braces::Absent;
    }
    match expand_pieces(&pieces) {
        Some(words) => Braces::Words(words),
        None => Braces::TooMany,
    }
}

/// The `{` of a raw word that brace expansion reads: not quoted, not
/// escaped and not the start of a `${…}` expansion.
fn unquoted_brace_openers(raw: &str) -> usize {
    let (mut single, mut double, mut escaped) = (false, false, false);
    let mut previous = None;
    let mut count = 0;
    for c in raw.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if !single => escaped = true,
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '{' if !single && !double && previous != Some('$') => count += 1,
            _ => {}
        }
        previous = Some(c);
    }
    count
}

fn expand_pieces(pieces: &[BraceExpressionOrText]) -> Option<Vec<String>> {
    let mut words = vec![String::new()];
    for piece in pieces {
        let alternatives = match piece {
            BraceExpressionOrText::Text(text) => vec![text.clone()],
            BraceExpressionOrText::Expr(members) => {
                let mut all = Vec::new();
                for member in members {
                    all.extend(expand_member(member)?);
                    if all.len() > MAX_BRACE_WORDS {
                        return None;
                    }
                }
                all
            }
        };
        let mut next = Vec::with_capacity(words.len() * alternatives.len());
        for prefix in &words {
            for alternative in &alternatives {
                next.push(format!("{prefix}{alternative}"));
                if next.len() > MAX_BRACE_WORDS {
                    return None;
                }
            }
        }
        words = next;
    }
    Some(words)
}

fn expand_member(member: &BraceExpressionMember) -> Option<Vec<String>> {
    match member {
        BraceExpressionMember::NumberSequence {
            start,
            end,
            increment,
        } => {
            let step = increment.checked_abs()?.max(1);
            let count = start.abs_diff(*end) / step.unsigned_abs();
            if count >= MAX_BRACE_WORDS as u64 {
                return None;
            }
            let mut out = Vec::new();
            let mut n = *start;
            loop {
                out.push(n.to_string());
                if n == *end || out.len() > MAX_BRACE_WORDS {
                    break;
                }
                let next = if start <= end {
                    n.checked_add(step)?
                } else {
                    n.checked_sub(step)?
                };
                if (start <= end && next > *end) || (start > end && next < *end) {
                    break;
                }
                n = next;
            }
            Some(out)
        }
        BraceExpressionMember::CharSequence {
            start,
            end,
            increment,
        } => {
            let step = u32::try_from(increment.checked_abs()?.max(1)).ok()?;
            let (low, high) = (u32::from(*start), u32::from(*end));
            let mut out = Vec::new();
            let mut n = low;
            loop {
                out.push(char::from_u32(n)?.to_string());
                if out.len() > MAX_BRACE_WORDS {
                    return None;
                }
                if low <= high {
                    n += step;
                    if n > high {
                        break;
                    }
                } else {
                    match n.checked_sub(step) {
                        Some(next) if next >= high => n = next,
                        _ => break,
                    }
                }
            }
            Some(out)
        }
        BraceExpressionMember::Child(pieces) => expand_pieces(pieces),
    }
}

// ---------------------------------------------------------------------------
// Walking the syntax tree
// ---------------------------------------------------------------------------

// Invariant: SCHEMA-010 Wrapping a command never hides it from a rule.
// Category: security
// Why: an agent refused `git push --force` can run it as `sudo …`, `env X=1 …`,
//      `bash -c '…'`, `$( … )` or after `&&`; a matcher that reads only the first
//      word, or the text, lets every such spelling through.
// Enforced by: Walker lists the commands inside every list, pipeline, compound
//      command, substitution, wrapper and `-c` script (CommandLine::simple_commands);
//      what it cannot follow becomes a reason in CommandLine::not_understood, and a
//      word known only at run time makes CommandPattern::matches answer Maybe, never No.
/// Collects the simple commands of a parsed program and the reasons for what
/// it cannot see through.
struct Walker {
    commands: Vec<SimpleCommand>,
    /// For [`CommandLine::not_understood`].
    reasons: Vec<String>,
    /// For [`CommandLine::unvouched`].
    unvouched: Vec<String>,
    /// For [`CommandLine::written_paths`].
    written: Vec<String>,
    depth: usize,
    options: ParserOptions,
    /// The text being walked, as characters (the parser's positions count
    /// characters).
    source: Vec<char>,
    /// Openers (see [`nesting`]) of the texts being parsed on this thread's
    /// stack.
    stack_openers: usize,
    /// This thread has a [`LARGE_STACK_BYTES`] stack.
    large_stack: bool,
}

impl Walker {
    fn new(depth: usize) -> Self {
        Self {
            commands: Vec::new(),
            reasons: Vec::new(),
            unvouched: Vec::new(),
            written: Vec::new(),
            depth,
            options: ParserOptions::default(),
            source: Vec::new(),
            stack_openers: 0,
            large_stack: false,
        }
    }

    fn reason(&mut self, reason: String) {
        if !self.reasons.contains(&reason) {
            self.reasons.push(reason);
        }
    }

    // Invariant: SCHEMA-020 An allow rule never vouches for what it cannot see.
    // Category: security
    // Why: an allowed `git status` after `PATH=/tmp/evil`, as `./git status`, or
    //      with `-c core.pager=…` runs something no one allowed; matching every
    //      simple command against allowed patterns does not see it.
    // Enforced by: Walker::unvouch records each such construct (assignments,
    //      recursive arithmetic and expansions, programs given by path or in
    //      another case, configuration-changing git and cargo options, run-time
    //      redirection targets, a line with no command) in CommandLine::unvouched,
    //      which allow matching must find empty; deny matching ignores it.
    fn unvouch(&mut self, reason: String) {
        if !self.unvouched.contains(&reason) {
            self.unvouched.push(reason);
        }
    }

    fn write(&mut self, path: String) {
        if !writes_no_file(&path) && !self.written.contains(&path) {
            self.written.push(path);
        }
    }

    /// Runs `f` one nesting level deeper, or records that nesting is too deep.
    fn deeper(&mut self, f: impl FnOnce(&mut Self)) {
        if self.depth >= MAX_DEPTH {
            self.reason(format!(
                "Commands are nested more than {MAX_DEPTH} levels deep."
            ));
            return;
        }
        self.depth += 1;
        f(self);
        self.depth -= 1;
    }

    /// Walks a text that is not part of one already walked (the line, or a
    /// script decoded from a word): refuses it when it nests too deeply for
    /// the parser, and moves to a thread with a large stack when this
    /// thread's stack may not hold the parser's recursion.
    fn walk_fresh(&mut self, text: &str) {
        if let Some(problem) = nesting_problem(text) {
            self.reason(format!("`{}` is not analysed: {problem}.", excerpt(text)));
            return;
        }
        let openers = nesting(text).openers;
        let budget = if self.large_stack {
            LARGE_STACK_OPENERS
        } else {
            SMALL_STACK_OPENERS
        };
        if self.stack_openers + openers <= budget {
            self.stack_openers += openers;
            self.walk_text(text);
            self.stack_openers -= openers;
            return;
        }
        let outer = (
            self.stack_openers,
            self.large_stack,
            self.depth,
            std::mem::take(&mut self.source),
        );
        let outcome = std::thread::scope(|scope| {
            let walker = &mut *self;
            let spawned = std::thread::Builder::new()
                .name("waypost-command-parse".to_owned())
                .stack_size(LARGE_STACK_BYTES)
                .spawn_scoped(scope, move || {
                    walker.stack_openers = openers;
                    walker.large_stack = true;
                    walker.walk_text(text);
                });
            match spawned {
                Ok(handle) => handle
                    .join()
                    .map_err(|_| "the analysis failed on it".to_owned()),
                Err(error) => Err(format!("no thread could be started to parse it ({error})")),
            }
        });
        (
            self.stack_openers,
            self.large_stack,
            self.depth,
            self.source,
        ) = outer;
        if let Err(problem) = outcome {
            self.reason(format!("`{}` is not analysed: {problem}.", excerpt(text)));
        }
    }

    fn walk_text(&mut self, text: &str) {
        let outer = std::mem::replace(&mut self.source, text.chars().collect());
        match parse_program(text) {
            Ok(program) => self.program(&program),
            Err(error) => self.reason(format!(
                "The shell parser rejected `{}`: {error}.",
                excerpt(text)
            )),
        }
        self.source = outer;
    }

    /// The inside of `( ( … ) )` that the parser took for an arithmetic
    /// command `(( … ))`: bash runs nested subshells unless both `((` and
    /// `))` are written without a space, and brush-parser 0.4 does not check.
    fn subshells_taken_for_arithmetic(&self, loc: &brush_parser::SourceSpan) -> Option<String> {
        let (start, end) = (loc.start.index, loc.end.index);
        let at = |i: usize| self.source.get(i).copied();
        if end < start + 4 || at(start) != Some('(') || at(end - 1) != Some(')') {
            return None;
        }
        if at(start + 1) == Some('(') && at(end - 2) == Some(')') {
            return None;
        }
        Some(self.source[start + 1..end - 1].iter().collect())
    }

    /// An excerpt of the text at `loc` (the parser's positions count
    /// characters).
    fn written_at(&self, loc: &brush_parser::SourceSpan) -> String {
        let (start, end) = (loc.start.index, loc.end.index.min(self.source.len()));
        let text: String = self
            .source
            .get(start..end)
            .unwrap_or_default()
            .iter()
            .take(EXCERPT_CHARS + 1)
            .collect();
        excerpt(&text)
    }

    fn program(&mut self, program: &ast::Program) {
        for list in &program.complete_commands {
            self.compound_list(list);
        }
    }

    fn compound_list(&mut self, list: &ast::CompoundList) {
        for item in &list.0 {
            self.pipeline(&item.0.first);
            for next in &item.0.additional {
                match next {
                    ast::AndOr::And(pipeline) | ast::AndOr::Or(pipeline) => self.pipeline(pipeline),
                }
            }
        }
    }

    fn pipeline(&mut self, pipeline: &ast::Pipeline) {
        for command in &pipeline.seq {
            self.command(command);
        }
    }

    fn command(&mut self, command: &ast::Command) {
        match command {
            ast::Command::Simple(simple) => self.simple(simple),
            ast::Command::Compound(compound, redirects) => {
                self.compound(compound);
                if let Some(redirects) = redirects {
                    self.redirects(redirects.0.iter(), "a compound command");
                }
            }
            ast::Command::Function(function) => {
                self.compound(&function.body.0);
                if let Some(redirects) = &function.body.1 {
                    self.redirects(redirects.0.iter(), "a function");
                }
            }
            ast::Command::ExtendedTest(test, redirects) => {
                let written = self.written_at(&test.loc);
                self.unvouch(format!(
                    "The test `{written}` evaluates variables in arithmetic comparisons \
                     recursively and can run substitutions hidden in a variable's value."
                ));
                self.extended_test(&test.expr);
                if let Some(redirects) = redirects {
                    self.redirects(redirects.0.iter(), "a `[[ ]]` test");
                }
            }
        }
    }

    fn compound(&mut self, compound: &ast::CompoundCommand) {
        match compound {
            ast::CompoundCommand::Arithmetic(arithmetic) => {
                match self.subshells_taken_for_arithmetic(&arithmetic.loc) {
                    Some(inner) => self.deeper(|walker| walker.walk_text(&inner)),
                    None => {
                        if names_variables(&arithmetic.expr.value) {
                            self.unvouch_arithmetic(&format!("(( {} ))", arithmetic.expr.value));
                        }
                        self.arithmetic(&arithmetic.expr.value);
                    }
                }
            }
            ast::CompoundCommand::ArithmeticForClause(clause) => {
                self.unvouch_arithmetic("for (( … ))");
                for expr in [&clause.initializer, &clause.condition, &clause.updater]
                    .into_iter()
                    .flatten()
                {
                    self.arithmetic(&expr.value);
                }
                self.compound_list(&clause.body.list);
            }
            ast::CompoundCommand::BraceGroup(group) => self.compound_list(&group.list),
            ast::CompoundCommand::Subshell(subshell) => self.compound_list(&subshell.list),
            ast::CompoundCommand::ForClause(clause) => {
                for value in clause.values.iter().flatten() {
                    self.words(&value.value);
                }
                self.compound_list(&clause.body.list);
            }
            ast::CompoundCommand::CaseClause(clause) => {
                self.words(&clause.value.value);
                for item in &clause.cases {
                    for pattern in &item.patterns {
                        self.words(&pattern.value);
                    }
                    if let Some(list) = &item.cmd {
                        self.compound_list(list);
                    }
                }
            }
            ast::CompoundCommand::IfClause(clause) => {
                self.compound_list(&clause.condition);
                self.compound_list(&clause.then);
                for branch in clause.elses.iter().flatten() {
                    if let Some(condition) = &branch.condition {
                        self.compound_list(condition);
                    }
                    self.compound_list(&branch.body);
                }
            }
            ast::CompoundCommand::WhileClause(clause)
            | ast::CompoundCommand::UntilClause(clause) => {
                self.compound_list(&clause.0);
                self.compound_list(&clause.1.list);
            }
            ast::CompoundCommand::Coprocess(coprocess) => {
                if let Some(name) = &coprocess.name {
                    self.words(&name.value);
                }
                self.command(&coprocess.body);
            }
        }
    }

    /// Walks the words of a `[[ ]]` test. Iterative: a long `&&` chain is a
    /// deep tree.
    fn extended_test(&mut self, expr: &ast::ExtendedTestExpr) {
        let mut pending = vec![expr];
        while let Some(expr) = pending.pop() {
            match expr {
                ast::ExtendedTestExpr::And(left, right)
                | ast::ExtendedTestExpr::Or(left, right) => {
                    pending.push(right);
                    pending.push(left);
                }
                ast::ExtendedTestExpr::Not(inner) | ast::ExtendedTestExpr::Parenthesized(inner) => {
                    pending.push(inner)
                }
                ast::ExtendedTestExpr::UnaryTest(predicate, operand) => {
                    let names_variable = matches!(
                        predicate,
                        ast::UnaryPredicate::ShellVariableIsSetAndAssigned
                            | ast::UnaryPredicate::ShellVariableIsSetAndNameRef
                    );
                    for arg in self.words(&operand.value) {
                        if names_variable {
                            self.subscript_of(&arg);
                        }
                    }
                }
                ast::ExtendedTestExpr::BinaryTest(_, left, right) => {
                    self.words(&left.value);
                    self.words(&right.value);
                }
            }
        }
    }

    /// Records that `construct` evaluates variables recursively.
    fn unvouch_arithmetic(&mut self, construct: &str) {
        self.unvouch(format!(
            "The arithmetic `{}` evaluates variables recursively and can run \
             substitutions hidden in a variable's value.",
            excerpt(construct)
        ));
    }

    /// Walks the substitutions in the array subscript of a variable name
    /// that a builtin evaluates (`unset 'a[$(cmd)]'` runs `cmd` even though
    /// the shell saw a quoted word).
    fn subscript_of(&mut self, arg: &Arg) {
        if arg.varies() {
            return;
        }
        if let Some(subscript) = variable(&arg.value).and_then(|v| v.subscript) {
            let subscript = subscript.to_owned();
            self.nested_word(&subscript);
        }
    }

    fn redirects<'a>(
        &mut self,
        redirects: impl Iterator<Item = &'a ast::IoRedirect>,
        target: &str,
    ) {
        for redirect in redirects {
            match redirect {
                ast::IoRedirect::File(_, kind, file) => match file {
                    ast::IoFileRedirectTarget::Filename(w) => {
                        let writes = !matches!(kind, ast::IoFileRedirectKind::Read);
                        self.redirect_target(&w.value, &format!("{kind}"), writes);
                    }
                    ast::IoFileRedirectTarget::Duplicate(w) => {
                        let writes = matches!(kind, ast::IoFileRedirectKind::DuplicateOutput);
                        self.redirect_target(&w.value, &format!("{kind}"), writes);
                    }
                    ast::IoFileRedirectTarget::ProcessSubstitution(_, subshell) => {
                        self.compound_list(&subshell.list);
                    }
                    ast::IoFileRedirectTarget::Fd(_) => {}
                },
                ast::IoRedirect::HereDocument(_, doc) => {
                    self.reason(format!(
                        "A here-document feeds {target}; its text is not analysed as commands."
                    ));
                    if doc.requires_expansion {
                        let body = &doc.doc.value;
                        let parsed = shielded(body, || word::parse_heredoc(body, &self.options))
                            .and_then(|r| r.map_err(|e| e.to_string()));
                        match parsed {
                            Ok(pieces) => {
                                let mut sink = Arg::literal("");
                                self.fold(&pieces, &doc.doc.value, true, &mut sink);
                            }
                            Err(error) => self.reason(format!(
                                "A here-document given to {target} could not be parsed ({error})."
                            )),
                        }
                    }
                }
                ast::IoRedirect::HereString(_, w) => {
                    self.reason(format!(
                        "A here-string (`<<< {}`) feeds {target}; its text is not analysed as commands.",
                        excerpt(&w.value)
                    ));
                    self.words(&w.value);
                }
                ast::IoRedirect::OutputAndError(w, append) => {
                    let operator = if *append { "&>>" } else { "&>" };
                    self.redirect_target(&w.value, operator, true);
                }
            }
        }
    }

    /// The target of a redirection: its substitutions are walked, a file it
    /// writes is recorded, and one named at run time unvouches the line. A
    /// `>&WORD` / `<&WORD` target that names a descriptor is no file.
    fn redirect_target(&mut self, raw: &str, operator: &str, writes: bool) {
        let target = self.word(raw);
        let duplicates = operator.ends_with('&');
        if target.varies() {
            self.unvouch(format!(
                "The redirection `{operator} {}` names its file at run time.",
                excerpt(raw)
            ));
        } else if duplicates && is_descriptor(&target.value) {
            // `2>&1`, `>&-`: no file.
        } else if writes {
            self.write(target.value);
        }
    }

    /// A prefix or standalone assignment: its subscript and value are
    /// walked, and it unvouches the line.
    fn assignment(&mut self, assignment: &ast::Assignment) {
        let name = match &assignment.name {
            ast::AssignmentName::VariableName(name) => name,
            ast::AssignmentName::ArrayElementName(name, subscript) => {
                self.nested_word(subscript);
                name
            }
        };
        self.unvouch_assignment(&assignment.to_string(), name);
        match &assignment.value {
            ast::AssignmentValue::Scalar(value) => {
                self.words(&value.value);
            }
            ast::AssignmentValue::Array(items) => {
                for (key, value) in items {
                    if let Some(key) = key {
                        self.words(&key.value);
                    }
                    self.words(&value.value);
                }
            }
        }
    }

    fn unvouch_assignment(&mut self, written: &str, name: &str) {
        self.unvouch(format!(
            "The assignment `{}` sets {name}, which can change what the command runs.",
            excerpt(written)
        ));
    }

    fn simple(&mut self, simple: &ast::SimpleCommand) {
        let mut args = Vec::new();
        let mut redirects = Vec::new();
        if let Some(prefix) = &simple.prefix {
            for item in &prefix.0 {
                self.item(item, true, &mut args, &mut redirects);
            }
        }
        if let Some(name) = &simple.word_or_name {
            args.extend(self.words(&name.value));
        }
        if let Some(suffix) = &simple.suffix {
            for item in &suffix.0 {
                self.item(item, false, &mut args, &mut redirects);
            }
        }
        let target = match args.first() {
            Some(first) => format!("`{}`", excerpt(&first.raw)),
            None => "an assignment".to_owned(),
        };
        self.redirects(redirects.into_iter(), &target);
        self.run(&args, false);
    }

    fn item<'a>(
        &mut self,
        item: &'a ast::CommandPrefixOrSuffixItem,
        in_prefix: bool,
        args: &mut Vec<Arg>,
        redirects: &mut Vec<&'a ast::IoRedirect>,
    ) {
        match item {
            ast::CommandPrefixOrSuffixItem::IoRedirect(redirect) => redirects.push(redirect),
            ast::CommandPrefixOrSuffixItem::Word(w) => args.extend(self.words(&w.value)),
            ast::CommandPrefixOrSuffixItem::AssignmentWord(assignment, w) => {
                if in_prefix {
                    self.assignment(assignment);
                } else {
                    args.extend(self.words(&w.value));
                }
            }
            ast::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, subshell) => {
                self.compound_list(&subshell.list);
                let arrow = match kind {
                    ast::ProcessSubstitutionKind::Read => "<",
                    ast::ProcessSubstitutionKind::Write => ">",
                };
                let mut arg = Arg::literal("/dev/fd/63");
                arg.raw = format!("{arrow}{}", self.written_at(&subshell.loc));
                args.push(arg);
            }
        }
    }

    /// Evaluates one raw word: brace expansion, then quote removal, walking
    /// every substitution in it.
    fn words(&mut self, raw: &str) -> Vec<Arg> {
        match brace_expand(raw, &self.options) {
            Braces::Absent => vec![self.word(raw)],
            Braces::Words(expanded) => expanded
                .iter()
                .map(|text| {
                    let mut arg = self.word(text);
                    arg.brace = Some(raw.to_owned());
                    arg
                })
                .collect(),
            Braces::TooMany => {
                self.reason(format!(
                    "The word `{}` expands to more than {MAX_BRACE_WORDS} words.",
                    excerpt(raw)
                ));
                vec![self.unexpanded(raw)]
            }
            Braces::TooNested => {
                self.reason(format!(
                    "The word `{}` has more than {MAX_BRACE_OPENERS} `{{`, so its brace \
                     expansion is not analysed.",
                    excerpt(raw)
                ));
                vec![self.unexpanded(raw)]
            }
        }
    }

    /// A word whose brace expansion is not known: its substitutions are
    /// still walked, and its value is a run-time one.
    fn unexpanded(&mut self, raw: &str) -> Arg {
        let mut arg = self.word(raw);
        arg.brace = Some(raw.to_owned());
        arg.dynamic = true;
        arg
    }

    fn word(&mut self, text: &str) -> Arg {
        let mut arg = Arg {
            value: String::new(),
            raw: text.to_owned(),
            dynamic: false,
            glob: false,
            brace: None,
        };
        match parse_word(text, &self.options) {
            Ok(pieces) => self.fold(&pieces, text, false, &mut arg),
            Err(error) => {
                self.reason(format!(
                    "The word `{}` could not be parsed ({error}).",
                    excerpt(text)
                ));
                arg.value = text.to_owned();
                arg.dynamic = true;
            }
        }
        arg
    }

    fn fold(
        &mut self,
        pieces: &[word::WordPieceWithSource],
        source: &str,
        quoted: bool,
        arg: &mut Arg,
    ) {
        for piece in pieces {
            match &piece.piece {
                WordPiece::Text(text) => {
                    if !quoted && has_glob(text) {
                        arg.glob = true;
                    }
                    arg.value.push_str(text);
                }
                WordPiece::SingleQuotedText(text) => arg.value.push_str(text),
                WordPiece::AnsiCQuotedText(text) => match decode_ansi_c(text) {
                    Some(decoded) => arg.value.push_str(&decoded),
                    None => arg.dynamic = true,
                },
                WordPiece::DoubleQuotedSequence(inner)
                | WordPiece::GettextDoubleQuotedSequence(inner) => {
                    self.fold(inner, source, true, arg);
                }
                WordPiece::TildeExpansion(_) => {
                    arg.value.push_str(
                        source
                            .get(piece.start_index..piece.end_index)
                            .unwrap_or("~"),
                    );
                }
                WordPiece::ParameterExpansion(expr) => {
                    arg.dynamic = true;
                    let written = source.get(piece.start_index..piece.end_index).unwrap_or("");
                    if let Some(inner) =
                        written.strip_prefix("${").and_then(|w| w.strip_suffix('}'))
                    {
                        if let Some(what) = recursive_expansion(expr) {
                            self.unvouch(format!(
                                "The expansion `{}` is {what}, which evaluates a variable's \
                                 value and can run substitutions hidden in it.",
                                excerpt(written)
                            ));
                        }
                        self.nested_word(inner);
                    }
                }
                WordPiece::CommandSubstitution(script)
                | WordPiece::BackquotedCommandSubstitution(script) => {
                    arg.dynamic = true;
                    self.deeper(|walker| walker.walk_text(script));
                }
                WordPiece::EscapeSequence(escape) => {
                    let escaped = escape.strip_prefix('\\').unwrap_or(escape);
                    if escaped != "\n" {
                        arg.value.push_str(escaped);
                    }
                }
                WordPiece::ArithmeticExpression(expr) => {
                    arg.dynamic = true;
                    if names_variables(&expr.value) {
                        self.unvouch_arithmetic(&format!("$(( {} ))", expr.value));
                    }
                    self.arithmetic(&expr.value);
                }
            }
        }
    }

    /// Looks for substitutions in text that is not a command word (the inside
    /// of `${…}` or of an arithmetic expression).
    fn nested_word(&mut self, text: &str) {
        if !text.contains(['$', '`', '<', '>']) {
            return;
        }
        match parse_word(text, &self.options) {
            Ok(pieces) => {
                let mut sink = Arg::literal("");
                self.fold(&pieces, text, true, &mut sink);
            }
            Err(error) => {
                if text.contains("$(") || text.contains('`') {
                    self.reason(format!(
                        "The expansion `{}` could not be parsed ({error}).",
                        excerpt(text)
                    ));
                }
            }
        }
    }

    fn arithmetic(&mut self, text: &str) {
        self.nested_word(text);
    }

    // -- Commands -----------------------------------------------------------

    /// Records the command `args` (program first) and, for wrappers, the
    /// command it runs. `appended`: more words are appended at run time
    /// (`xargs`).
    fn run(&mut self, args: &[Arg], appended: bool) {
        let Some(first) = args.first() else {
            return;
        };
        if first.brace.is_some() || (first.glob && !first.dynamic) {
            self.reason(format!(
                "The program name `{}` contains glob or brace characters.",
                excerpt(first.written())
            ));
            return;
        }
        if first.dynamic {
            self.reason(format!(
                "The program name `{}` is computed at run time.",
                excerpt(&first.raw)
            ));
            return;
        }
        let base = program_name(&first.value);
        if base.is_empty() {
            return;
        }
        let mut name = fold_program(&first.value);
        if base.len() != first.value.len() {
            self.unvouch(format!(
                "The program `{}` is given by a path; an allow rule vouches only for a \
                 program found on PATH.",
                excerpt(&first.raw)
            ));
        } else if name != base {
            self.unvouch(format!(
                "The program `{}` is `{name}` only where names ignore case or `.exe`; an \
                 allow rule vouches only for the name as written in it.",
                excerpt(&first.raw)
            ));
        }
        let dashed_git: Vec<Arg>;
        let mut rest = &args[1..];
        if let Some(subcommand) = name.strip_prefix("git-").filter(|s| !s.is_empty()) {
            dashed_git = std::iter::once(Arg::literal(subcommand))
                .chain(rest.iter().cloned())
                .collect();
            rest = &dashed_git;
            name = "git".to_owned();
        }
        let built = build(&name, rest);
        for reason in &built.reasons {
            self.reason(reason.clone());
        }
        for reason in &built.unvouched {
            self.unvouch(reason.clone());
        }
        for path in &built.written {
            self.write(path.clone());
        }
        let mut command = built.into_command(name.clone(), join_raw(args));
        if appended {
            command.dynamic = true;
            command
                .dynamic_word
                .get_or_insert_with(|| APPENDED.to_owned());
            command.slots.push(Slot::Appended);
        }
        let send_pack =
            name == "git" && command.positional.first().is_some_and(|w| w == "send-pack");
        if send_pack {
            let mut push = command.clone();
            push.positional[0] = "push".to_owned();
            push.slots[0] = Slot::Word("push".to_owned());
            self.commands.push(command);
            self.commands.push(push);
        } else {
            self.commands.push(command);
        }
        self.effects(&name, rest);
        if name == "git" {
            self.git_runs(rest);
        }
        match inner(&name, rest) {
            Inner::None => {}
            Inner::Command {
                args: inner_args,
                appended: more,
            } => {
                if !inner_args.is_empty() {
                    self.deeper(|walker| walker.run(inner_args, appended || more));
                }
            }
            Inner::Owned {
                args: inner_args,
                appended: more,
            } => {
                if !inner_args.is_empty() {
                    self.deeper(|walker| walker.run(&inner_args, appended || more));
                }
            }
            Inner::Commands(list) => {
                for inner_args in list {
                    self.deeper(|walker| walker.run(inner_args, false));
                }
            }
            Inner::Script { word, via } => self.script_word(word, &via),
            Inner::Scripts { words, via } => {
                for word in words {
                    self.script_word(word, &via);
                }
            }
            Inner::Text { text, via } => self.script_text(&text, &via),
            Inner::NotUnderstood(reason) => self.reason(reason),
        }
        if name == "eval" {
            self.reason(format!(
                "`eval` runs its words as a new command line: `{}`.",
                excerpt(&join_raw(args))
            ));
        }
    }

    /// What a builtin does to the shell beyond running: setting variables
    /// or the command table unvouches the line, and the array subscripts in
    /// the variable names it is given are evaluated (so walked).
    fn effects(&mut self, name: &str, args: &[Arg]) {
        let sets =
            |what: &str| format!("`{name}` {what}, which can change what later commands run.");
        match name {
            "export" | "declare" | "typeset" | "local" | "readonly" => {
                for arg in args {
                    if arg.varies() {
                        if !arg.is_option() && arg.raw.contains(['=', '$', '`']) {
                            self.unvouch(sets(&format!(
                                "may set a variable chosen at run time (`{}`)",
                                excerpt(&arg.raw)
                            )));
                        }
                        continue;
                    }
                    self.subscript_of(arg);
                    if let Some(variable) = variable(&arg.value).filter(|v| v.assigns) {
                        self.unvouch_assignment(&arg.raw, variable.name);
                    }
                }
            }
            "env" | "sudo" => {
                let end = scan(args, syntax_of(name)).end;
                for arg in &args[end..skip_assignments(args, end)] {
                    if let Some((variable, _)) = arg.value.split_once('=') {
                        self.unvouch_assignment(&arg.raw, variable);
                    }
                }
            }
            "read" | "mapfile" | "readarray" | "getopts" => {
                self.unvouch(sets("sets variables"));
                for arg in args {
                    self.subscript_of(arg);
                }
            }
            "printf" => {
                if let Some(at) = args.iter().position(|a| !a.varies() && a.value == "-v") {
                    self.unvouch(
                        "`printf -v` sets a variable, which can change what later commands run."
                            .to_owned(),
                    );
                    if let Some(target) = args.get(at + 1) {
                        self.subscript_of(target);
                    }
                }
            }
            "unset" => {
                for arg in args {
                    self.subscript_of(arg);
                }
            }
            "test" | "[" => {
                for pair in args.windows(2) {
                    if !pair[0].varies() && pair[0].value == "-v" {
                        self.subscript_of(&pair[1]);
                    }
                }
            }
            "let" => {
                self.unvouch_arithmetic(&format!("let {}", join_raw(args)));
                for arg in args.iter().filter(|a| !a.varies()) {
                    let expression = arg.value.clone();
                    self.nested_word(&expression);
                }
            }
            "hash" => {
                let sets_path = args.iter().any(|a| {
                    !a.varies()
                        && a.value.starts_with('-')
                        && !a.value.starts_with("--")
                        && a.value.contains('p')
                });
                if sets_path {
                    self.unvouch(
                        "`hash -p` sets the program a command name runs, which can change \
                         what later commands run."
                            .to_owned(),
                    );
                }
            }
            "enable" if !args.is_empty() => {
                self.unvouch(sets("turns builtins on or off or loads new ones"));
            }
            _ => {}
        }
    }

    /// The commands git itself runs for `submodule foreach`, `rebase
    /// --exec`, `bisect run`, `filter-branch`, `filter-repo` and `difftool
    /// --extcmd`: each is not understood (git decides where and how often it
    /// runs), and what can be parsed is listed.
    fn git_runs(&mut self, args: &[Arg]) {
        let end = scan(args, &GIT_GLOBAL).end;
        let Some(subcommand) = args.get(end).filter(|a| !a.varies()) else {
            return;
        };
        let rest = &args[end + 1..];
        let options_end = |from: usize| {
            let mut i = from;
            while i < rest.len() && rest[i].is_option() && rest[i].value != "--" {
                i += 1;
            }
            if rest.get(i).is_some_and(|a| !a.varies() && a.value == "--") {
                i += 1;
            }
            i
        };
        match subcommand.value.as_str() {
            "submodule" => {
                let at = options_end(0);
                if rest
                    .get(at)
                    .is_some_and(|a| !a.varies() && a.value == "foreach")
                {
                    let start = options_end(at + 1);
                    self.git_hidden_words(&rest[start..], "git submodule foreach");
                }
            }
            "bisect"
                if rest
                    .first()
                    .is_some_and(|a| !a.varies() && a.value == "run") =>
            {
                self.git_hidden_words(&rest[1..], "git bisect run");
            }
            "rebase" => {
                for hidden in option_values(rest, "exec", 'x', "sXC") {
                    self.git_hidden(hidden, "git rebase --exec");
                }
            }
            "difftool" => {
                for hidden in option_values(rest, "extcmd", 'x', "t") {
                    self.git_hidden(hidden, "git difftool --extcmd");
                }
            }
            "filter-branch" => {
                const FILTERS: &[&str] = &[
                    "--setup",
                    "--env-filter",
                    "--tree-filter",
                    "--index-filter",
                    "--parent-filter",
                    "--msg-filter",
                    "--commit-filter",
                    "--tag-name-filter",
                ];
                let mut i = 0;
                while i < rest.len() {
                    let arg = &rest[i];
                    i += 1;
                    if arg.varies() {
                        continue;
                    }
                    if FILTERS.contains(&arg.value.as_str()) {
                        if let Some(word) = rest.get(i) {
                            self.git_hidden(
                                Hidden::Word(word),
                                &format!("git filter-branch {}", arg.value),
                            );
                        }
                        i += 1;
                    } else if let Some((option, text)) = arg.value.split_once('=')
                        && FILTERS.contains(&option)
                    {
                        self.git_hidden(
                            Hidden::Text(text.to_owned()),
                            &format!("git filter-branch {option}"),
                        );
                    }
                }
            }
            "filter-repo" => self.reason(
                "`git filter-repo` can run Python code given in its options, which is not \
                 analysed."
                    .to_owned(),
            ),
            _ => {}
        }
    }

    /// A command `via` (a git subcommand) runs through a shell.
    fn git_hidden(&mut self, hidden: Hidden<'_>, via: &str) {
        let written = match &hidden {
            Hidden::Word(word) => word.raw.clone(),
            Hidden::Text(text) => text.clone(),
        };
        self.reason(format!(
            "`{via}` runs `{}` through a shell; its commands are listed, but git decides \
             where and how often they run.",
            excerpt(&written)
        ));
        match hidden {
            Hidden::Word(word) => self.script_word(word, via),
            Hidden::Text(text) => self.script_text(&text, via),
        }
    }

    /// The words of `git submodule foreach` / `git bisect run`, which git
    /// joins with spaces and runs through a shell.
    fn git_hidden_words(&mut self, words: &[Arg], via: &str) {
        match words {
            [] => {}
            [word] => self.git_hidden(Hidden::Word(word), via),
            _ => match static_script(words) {
                Some(text) => self.git_hidden(Hidden::Text(text), via),
                None => {
                    self.reason(format!(
                        "The command given to `{via}` is computed at run time: `{}`.",
                        excerpt(&join_raw(words))
                    ));
                    self.deeper(|walker| walker.run(words, false));
                }
            },
        }
    }

    fn script_word(&mut self, word: &Arg, via: &str) {
        if word.varies() {
            self.reason(format!(
                "The script given to `{via}` is computed at run time: `{}`.",
                excerpt(&word.raw)
            ));
        } else {
            self.script_text(&word.value, via);
        }
    }

    fn script_text(&mut self, text: &str, via: &str) {
        if self.depth >= MAX_DEPTH {
            self.reason(format!(
                "Commands are nested more than {MAX_DEPTH} levels deep."
            ));
            return;
        }
        let mut nested = Self::new(self.depth + 1);
        if text.trim().is_empty() {
            return;
        }
        nested.stack_openers = self.stack_openers;
        nested.large_stack = self.large_stack;
        nested.walk_fresh(text);
        self.commands.append(&mut nested.commands);
        for reason in nested.unvouched {
            self.unvouch(reason);
        }
        for path in nested.written {
            self.write(path);
        }
        for reason in nested.reasons {
            if reason.starts_with("Commands are nested") {
                self.reason(reason);
            } else {
                self.reason(format!(
                    "The script given to `{via}` is not understood: {reason}"
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Option syntax of the tools rules usually name
// ---------------------------------------------------------------------------

/// How messages name the words `xargs` appends to its command.
const APPENDED: &str = "the words xargs appends";

/// What the matcher knows about one positional word.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Slot {
    /// A word known at parse time.
    Word(String),
    /// A word that expands at run time, as written: it may become any
    /// number of words.
    Dynamic(String),
    /// A word after an option of a tool whose options are not in the table:
    /// it may be that option's value rather than a positional word.
    MaybeValue {
        /// The word.
        text: String,
        /// The option before it.
        option: String,
    },
    /// Words appended at run time (`xargs`); always last, and not in
    /// [`SimpleCommand::positional`].
    Appended,
}

impl Slot {
    fn text(&self) -> &str {
        match self {
            Self::Word(text) | Self::Dynamic(text) | Self::MaybeValue { text, .. } => text,
            Self::Appended => "",
        }
    }
}

/// How a tool's options are spelled.
#[derive(Clone, Copy, Debug)]
struct Syntax {
    /// Short options that take a value (the rest of the cluster or the next
    /// word).
    short_values: &'static str,
    /// Long options that take a value (`--opt=value` or `--opt value`).
    long_values: &'static [&'static str],
    /// Every long option, for GNU-style unique abbreviations; empty: the tool
    /// does not accept abbreviations.
    long_options: &'static [&'static str],
    /// Spellings folded to canonical ones.
    aliases: &'static [(&'static str, &'static [&'static str])],
    /// `-name` words are whole options (`find`, `terraform`), not clusters.
    single_dash_long: bool,
    /// The options are known: a word after an option not listed in
    /// `short_values`/`long_values` is positional. Otherwise it may be the
    /// option's value.
    strict: bool,
    /// Options end at the first positional word (wrappers, git's global
    /// options).
    stop_at_positional: bool,
}

const GENERIC: Syntax = Syntax {
    short_values: "",
    long_values: &[],
    long_options: &[],
    aliases: &[],
    single_dash_long: false,
    strict: false,
    stop_at_positional: false,
};

/// A wrapper's own options: known, and they end at the wrapped command.
const fn wrapper(short_values: &'static str, long_values: &'static [&'static str]) -> Syntax {
    Syntax {
        short_values,
        long_values,
        long_options: &[],
        aliases: &[],
        single_dash_long: false,
        strict: true,
        stop_at_positional: true,
    }
}

const GIT_GLOBAL: Syntax = wrapper(
    "Cc",
    &[
        "--git-dir",
        "--work-tree",
        "--namespace",
        "--config-env",
        "--super-prefix",
        "--list-cmds",
        "--attr-source",
    ],
);

const GIT_PUSH: Syntax = Syntax {
    short_values: "o",
    long_values: &[
        "--repo",
        "--receive-pack",
        "--exec",
        "--push-option",
        "--recurse-submodules",
    ],
    long_options: &[
        "--all",
        "--branches",
        "--mirror",
        "--tags",
        "--follow-tags",
        "--no-follow-tags",
        "--atomic",
        "--no-atomic",
        "--dry-run",
        "--porcelain",
        "--delete",
        "--prune",
        "--force",
        "--no-force",
        "--force-with-lease",
        "--no-force-with-lease",
        "--force-if-includes",
        "--no-force-if-includes",
        "--repo",
        "--set-upstream",
        "--thin",
        "--no-thin",
        "--quiet",
        "--verbose",
        "--progress",
        "--no-progress",
        "--recurse-submodules",
        "--no-recurse-submodules",
        "--verify",
        "--no-verify",
        "--ipv4",
        "--ipv6",
        "--signed",
        "--no-signed",
        "--push-option",
        "--no-push-option",
        "--receive-pack",
        "--exec",
    ],
    aliases: &[
        ("-f", &["--force"]),
        ("--force-with-lease", &["--force-with-lease", "--force"]),
        ("--force-if-includes", &["--force-if-includes", "--force"]),
        ("--mirror", &["--mirror", "--force"]),
        ("-d", &["--delete"]),
        ("-u", &["--set-upstream"]),
        ("-n", &["--dry-run"]),
        ("-q", &["--quiet"]),
        ("-v", &["--verbose"]),
        ("-4", &["--ipv4"]),
        ("-6", &["--ipv6"]),
    ],
    single_dash_long: false,
    strict: true,
    stop_at_positional: false,
};

const GIT_CLEAN: Syntax = Syntax {
    short_values: "e",
    long_values: &["--exclude"],
    long_options: &[
        "--force",
        "--dry-run",
        "--interactive",
        "--quiet",
        "--exclude",
    ],
    aliases: &[
        ("-f", &["--force"]),
        ("-n", &["--dry-run"]),
        ("-i", &["--interactive"]),
        ("-q", &["--quiet"]),
    ],
    single_dash_long: false,
    strict: true,
    stop_at_positional: false,
};

const GIT_RESET: Syntax = Syntax {
    short_values: "",
    long_values: &["--pathspec-from-file"],
    long_options: &[
        "--hard",
        "--soft",
        "--mixed",
        "--keep",
        "--merge",
        "--quiet",
        "--no-quiet",
        "--patch",
        "--intent-to-add",
        "--recurse-submodules",
        "--no-recurse-submodules",
        "--pathspec-from-file",
        "--pathspec-file-nul",
        "--refresh",
        "--no-refresh",
    ],
    aliases: &[
        ("-q", &["--quiet"]),
        ("-p", &["--patch"]),
        ("-N", &["--intent-to-add"]),
    ],
    single_dash_long: false,
    strict: true,
    stop_at_positional: false,
};

const GIT_BRANCH: Syntax = Syntax {
    short_values: "u",
    long_values: &[
        "--set-upstream-to",
        "--contains",
        "--no-contains",
        "--merged",
        "--no-merged",
        "--points-at",
        "--format",
        "--sort",
    ],
    long_options: &[
        "--delete",
        "--force",
        "--move",
        "--copy",
        "--remotes",
        "--all",
        "--list",
        "--verbose",
        "--quiet",
        "--track",
        "--no-track",
        "--set-upstream-to",
        "--unset-upstream",
        "--edit-description",
        "--contains",
        "--no-contains",
        "--merged",
        "--no-merged",
        "--points-at",
        "--format",
        "--sort",
        "--show-current",
        "--create-reflog",
        "--color",
        "--no-color",
        "--column",
        "--no-column",
        "--ignore-case",
        "--omit-empty",
        "--abbrev",
        "--no-abbrev",
        "--recurse-submodules",
    ],
    aliases: &[
        ("-d", &["--delete"]),
        ("-D", &["--delete", "--force"]),
        ("-f", &["--force"]),
        ("-m", &["--move"]),
        ("-M", &["--move", "--force"]),
        ("-c", &["--copy"]),
        ("-C", &["--copy", "--force"]),
        ("-r", &["--remotes"]),
        ("-a", &["--all"]),
        ("-l", &["--list"]),
        ("-v", &["--verbose"]),
        ("-q", &["--quiet"]),
        ("-t", &["--track"]),
    ],
    single_dash_long: false,
    strict: true,
    stop_at_positional: false,
};

const GIT_CHECKOUT: Syntax = Syntax {
    short_values: "bB",
    long_values: &["--orphan", "--pathspec-from-file"],
    long_options: &[
        "--force",
        "--quiet",
        "--merge",
        "--patch",
        "--track",
        "--no-track",
        "--detach",
        "--orphan",
        "--ours",
        "--theirs",
        "--conflict",
        "--ignore-skip-worktree-bits",
        "--ignore-other-worktrees",
        "--overwrite-ignore",
        "--no-overwrite-ignore",
        "--recurse-submodules",
        "--no-recurse-submodules",
        "--progress",
        "--no-progress",
        "--overlay",
        "--no-overlay",
        "--pathspec-from-file",
        "--pathspec-file-nul",
        "--guess",
        "--no-guess",
    ],
    aliases: &[
        ("-f", &["--force"]),
        ("-q", &["--quiet"]),
        ("-m", &["--merge"]),
        ("-p", &["--patch"]),
        ("-t", &["--track"]),
        ("-2", &["--ours"]),
        ("-3", &["--theirs"]),
    ],
    single_dash_long: false,
    strict: true,
    stop_at_positional: false,
};

const GIT_SWITCH: Syntax = Syntax {
    short_values: "cC",
    long_values: &["--create", "--force-create", "--orphan"],
    long_options: &[
        "--create",
        "--force-create",
        "--detach",
        "--guess",
        "--no-guess",
        "--force",
        "--discard-changes",
        "--merge",
        "--conflict",
        "--quiet",
        "--progress",
        "--no-progress",
        "--track",
        "--no-track",
        "--orphan",
        "--ignore-other-worktrees",
        "--recurse-submodules",
        "--no-recurse-submodules",
    ],
    aliases: &[
        ("-f", &["--force"]),
        ("--discard-changes", &["--force"]),
        ("-c", &["--create"]),
        ("-C", &["--force-create"]),
        ("-d", &["--detach"]),
        ("-m", &["--merge"]),
        ("-q", &["--quiet"]),
        ("-t", &["--track"]),
    ],
    single_dash_long: false,
    strict: true,
    stop_at_positional: false,
};

/// Only the options that take a value, so a message such as `-m "--force"`
/// is not read as an option.
const GIT_COMMIT: Syntax = Syntax {
    short_values: "mFcCt",
    long_values: &[
        "--message",
        "--file",
        "--reuse-message",
        "--reedit-message",
        "--template",
        "--author",
        "--date",
        "--cleanup",
        "--fixup",
        "--squash",
        "--trailer",
        "--pathspec-from-file",
    ],
    strict: true,
    ..GENERIC
};

/// Only the options that take a value, so that counting the words after
/// `git config` tells a read from a write.
const GIT_CONFIG: Syntax = Syntax {
    short_values: "f",
    long_values: &[
        "--file",
        "--blob",
        "--type",
        "--default",
        "--comment",
        "--value",
        "--url",
    ],
    ..GENERIC
};

const RM: Syntax = Syntax {
    short_values: "",
    long_values: &[],
    long_options: &[
        "--force",
        "--interactive",
        "--one-file-system",
        "--no-preserve-root",
        "--preserve-root",
        "--recursive",
        "--dir",
        "--verbose",
        "--help",
        "--version",
    ],
    aliases: &[
        ("-r", &["--recursive"]),
        ("-R", &["--recursive"]),
        ("-f", &["--force"]),
        ("-i", &["--interactive"]),
        ("-d", &["--dir"]),
        ("-v", &["--verbose"]),
    ],
    single_dash_long: false,
    strict: true,
    stop_at_positional: false,
};

const CHMOD: Syntax = Syntax {
    short_values: "",
    long_values: &[],
    long_options: &[
        "--changes",
        "--silent",
        "--quiet",
        "--verbose",
        "--dereference",
        "--no-dereference",
        "--no-preserve-root",
        "--preserve-root",
        "--reference",
        "--recursive",
        "--help",
        "--version",
    ],
    aliases: &[("-R", &["--recursive"])],
    single_dash_long: false,
    strict: true,
    stop_at_positional: false,
};

const CHOWN: Syntax = Syntax {
    short_values: "",
    long_values: &[],
    long_options: &[
        "--changes",
        "--silent",
        "--quiet",
        "--verbose",
        "--dereference",
        "--no-dereference",
        "--from",
        "--no-preserve-root",
        "--preserve-root",
        "--reference",
        "--recursive",
        "--help",
        "--version",
    ],
    aliases: &[("-R", &["--recursive"]), ("-h", &["--no-dereference"])],
    single_dash_long: false,
    strict: true,
    stop_at_positional: false,
};

const CARGO: Syntax = Syntax {
    short_values: "CZpjFe",
    long_values: &[
        "--config",
        "--color",
        "--manifest-path",
        "--target-dir",
        "--package",
        "--jobs",
        "--features",
        "--target",
        "--bin",
        "--example",
        "--test",
        "--bench",
        "--profile",
        "--message-format",
        "--lockfile-path",
        "--exclude",
        "--registry",
        "--index",
        "--git",
        "--branch",
        "--tag",
        "--rev",
        "--path",
        "--root",
        "--token",
        "--vers",
    ],
    long_options: &[],
    aliases: &[("-f", &["--force"])],
    single_dash_long: false,
    strict: true,
    stop_at_positional: false,
};

const NPM: Syntax = Syntax {
    short_values: "wC",
    long_values: &[
        "--prefix",
        "--workspace",
        "--registry",
        "--tag",
        "--otp",
        "--access",
        "--userconfig",
        "--cache",
    ],
    long_options: &[],
    aliases: &[("-f", &["--force"])],
    single_dash_long: false,
    strict: false,
    stop_at_positional: false,
};

const PNPM: Syntax = Syntax {
    short_values: "CF",
    long_values: &["--dir", "--filter", "--reporter", "--registry"],
    long_options: &[],
    aliases: &[("-f", &["--force"])],
    single_dash_long: false,
    strict: false,
    stop_at_positional: false,
};

const YARN: Syntax = Syntax {
    short_values: "",
    long_values: &["--cwd", "--registry"],
    long_options: &[],
    aliases: &[("-f", &["--force"])],
    single_dash_long: false,
    strict: false,
    stop_at_positional: false,
};

const KUBECTL: Syntax = Syntax {
    short_values: "nlocfsL",
    long_values: &[
        "--namespace",
        "--context",
        "--kubeconfig",
        "--cluster",
        "--user",
        "--server",
        "--token",
        "--as",
        "--as-group",
        "--selector",
        "--output",
        "--filename",
        "--container",
        "--field-selector",
        "--grace-period",
        "--timeout",
        "--request-timeout",
    ],
    ..GENERIC
};

const DOCKER: Syntax = Syntax {
    short_values: "Hcl",
    long_values: &[
        "--host",
        "--context",
        "--config",
        "--log-level",
        "--tlscacert",
        "--tlscert",
        "--tlskey",
    ],
    ..GENERIC
};

const HELM: Syntax = Syntax {
    short_values: "nf",
    long_values: &[
        "--namespace",
        "--kube-context",
        "--kubeconfig",
        "--values",
        "--version",
        "--repo",
    ],
    ..GENERIC
};

const GH: Syntax = Syntax {
    short_values: "R",
    long_values: &["--repo", "--hostname"],
    ..GENERIC
};

const AWS: Syntax = Syntax {
    long_values: &[
        "--profile",
        "--region",
        "--output",
        "--endpoint-url",
        "--query",
        "--color",
        "--cli-read-timeout",
        "--cli-connect-timeout",
        "--ca-bundle",
    ],
    ..GENERIC
};

const TERRAFORM: Syntax = Syntax {
    long_values: &[
        "-chdir",
        "-var",
        "-var-file",
        "-target",
        "-replace",
        "-out",
        "-state",
        "-state-out",
        "-backup",
        "-lock-timeout",
        "-parallelism",
        "-backend-config",
        "-plugin-dir",
        "-from-module",
    ],
    single_dash_long: true,
    ..GENERIC
};

const GO: Syntax = Syntax {
    long_values: &[
        "-run",
        "-o",
        "-C",
        "-tags",
        "-ldflags",
        "-gcflags",
        "-bench",
        "-count",
        "-timeout",
        "-p",
        "-mod",
        "-modfile",
        "-coverprofile",
        "-cpuprofile",
        "-exec",
    ],
    single_dash_long: true,
    ..GENERIC
};

const FIND: Syntax = Syntax {
    single_dash_long: true,
    ..GENERIC
};

const ENV: Syntax = wrapper("uCSa", &["--unset", "--chdir", "--split-string", "--argv0"]);
const SUDO: Syntax = wrapper(
    "ugCDhprtUTR",
    &[
        "--user",
        "--group",
        "--chdir",
        "--close-from",
        "--host",
        "--prompt",
        "--role",
        "--type",
        "--other-user",
        "--command-timeout",
        "--chroot",
    ],
);
const DOAS: Syntax = wrapper("uC", &[]);
const TIME: Syntax = wrapper("fo", &["--format", "--output"]);
const NICE: Syntax = wrapper("n", &["--adjustment"]);
const TIMEOUT: Syntax = wrapper("sk", &["--signal", "--kill-after"]);
const EXEC: Syntax = wrapper("a", &[]);
const STDBUF: Syntax = wrapper("ioe", &["--input", "--output", "--error"]);
const XARGS: Syntax = wrapper(
    "adEIsnPL",
    &[
        "--arg-file",
        "--delimiter",
        "--max-args",
        "--max-procs",
        "--max-chars",
        "--process-slot-var",
    ],
);
const IONICE: Syntax = wrapper(
    "cnpPut",
    &["--class", "--classdata", "--pid", "--pgid", "--uid"],
);
const CHRT: Syntax = wrapper(
    "TPD",
    &["--sched-runtime", "--sched-period", "--sched-deadline"],
);
const CHROOT: Syntax = wrapper("", &["--userspec", "--groups"]);
const FAKEROOT: Syntax = wrapper("lsi", &["--lib", "--faked"]);
const FLOCK: Syntax = wrapper("wEc", &["--timeout", "--conflict-exit-code", "--command"]);
const SU: Syntax = wrapper(
    "cgGsw",
    &[
        "--command",
        "--session-command",
        "--group",
        "--supp-group",
        "--shell",
        "--whitelist-environment",
    ],
);
const WATCH: Syntax = wrapper("nq", &["--interval", "--equexit"]);
const SHELL: Syntax = wrapper("oO", &["--rcfile", "--init-file"]);
const STRACE: Syntax = wrapper(
    "abeEIoOpPsSUuX",
    &[
        "--output",
        "--expr",
        "--attach",
        "--user",
        "--string-limit",
        "--env",
        "--columns",
        "--trace",
        "--signal",
        "--status",
        "--trace-path",
        "--summary-sort-by",
        "--summary-columns",
        "--const-print-style",
    ],
);
const LTRACE: Syntax = wrapper(
    "aADeFlnopsuwx",
    &["--output", "--library", "--indent", "--align", "--config"],
);
const RUNUSER: Syntax = wrapper(
    "ugGscw",
    &[
        "--user",
        "--group",
        "--supp-group",
        "--shell",
        "--command",
        "--session-command",
        "--whitelist-environment",
    ],
);
const SETPRIV: Syntax = wrapper(
    "",
    &[
        "--ruid",
        "--euid",
        "--rgid",
        "--egid",
        "--reuid",
        "--regid",
        "--groups",
        "--inh-caps",
        "--ambient-caps",
        "--bounding-set",
        "--securebits",
        "--pdeathsig",
        "--selinux-label",
        "--apparmor-profile",
        "--landlock-access",
        "--landlock-rule",
        "--seccomp-filter",
    ],
);
const UNSHARE: Syntax = wrapper(
    "RwSG",
    &[
        "--map-user",
        "--map-group",
        "--map-users",
        "--map-groups",
        "--propagation",
        "--setgroups",
        "--root",
        "--wd",
        "--setuid",
        "--setgid",
        "--monotonic",
        "--boottime",
    ],
);
const NSENTER: Syntax = wrapper("tSG", &["--target", "--setuid", "--setgid"]);
const SYSTEMD_RUN: Syntax = wrapper(
    "upEMH",
    &[
        "--unit",
        "--property",
        "--description",
        "--slice",
        "--setenv",
        "--uid",
        "--gid",
        "--nice",
        "--working-directory",
        "--service-type",
        "--machine",
        "--host",
        "--on-active",
        "--on-boot",
        "--on-startup",
        "--on-unit-active",
        "--on-unit-inactive",
        "--on-calendar",
        "--timer-property",
        "--path-property",
        "--socket-property",
        "--capsule",
        "--json",
    ],
);
/// `npx`, `bunx`, `npm exec`, `pnpm dlx`/`exec`, `yarn dlx`/`exec`: options
/// before the command (`-c`/`--call` scripts are handled apart).
const NODE_RUNNER: Syntax = wrapper(
    "pw",
    &[
        "--package",
        "--workspace",
        "--prefix",
        "--registry",
        "--userconfig",
        "--cache",
        "--loglevel",
        "--filter",
        "--dir",
    ],
);
/// `uv run` and `uvx` (`uv tool run`): options before the command.
const UV_RUN: Syntax = wrapper(
    "pCPf",
    &[
        "--with",
        "--with-editable",
        "--with-requirements",
        "--from",
        "--python",
        "--package",
        "--env-file",
        "--directory",
        "--project",
        "--extra",
        "--no-extra",
        "--group",
        "--no-group",
        "--only-group",
        "--index",
        "--default-index",
        "--index-url",
        "--extra-index-url",
        "--find-links",
        "--config-file",
        "--cache-dir",
        "--color",
        "--index-strategy",
        "--keyring-provider",
        "--resolution",
        "--prerelease",
        "--exclude-newer",
        "--link-mode",
        "--refresh-package",
        "--reinstall-package",
        "--upgrade-package",
        "--python-platform",
        "--config-setting",
        "--no-binary-package",
        "--no-build-package",
        "--allow-insecure-host",
        "--fork-strategy",
    ],
);
/// A wrapper without options that take a value.
const PLAIN_WRAPPER: Syntax = wrapper("", &[]);

/// The option syntax of `program` (for git, of its global options).
fn syntax_of(program: &str) -> &'static Syntax {
    match program {
        "rm" => &RM,
        "chmod" => &CHMOD,
        "chown" | "chgrp" => &CHOWN,
        "cargo" => &CARGO,
        "npm" => &NPM,
        "pnpm" => &PNPM,
        "yarn" => &YARN,
        "kubectl" => &KUBECTL,
        "docker" | "podman" => &DOCKER,
        "helm" => &HELM,
        "gh" => &GH,
        "aws" => &AWS,
        "terraform" | "tofu" => &TERRAFORM,
        "go" => &GO,
        "find" => &FIND,
        "env" => &ENV,
        "sudo" => &SUDO,
        "doas" => &DOAS,
        "time" => &TIME,
        "nice" => &NICE,
        "timeout" => &TIMEOUT,
        "exec" => &EXEC,
        "stdbuf" => &STDBUF,
        "xargs" => &XARGS,
        "ionice" => &IONICE,
        "chrt" => &CHRT,
        "chroot" => &CHROOT,
        "fakeroot" => &FAKEROOT,
        "flock" => &FLOCK,
        "su" => &SU,
        "watch" => &WATCH,
        "bash" | "sh" | "dash" | "zsh" | "ksh" | "mksh" | "ash" | "fish" => &SHELL,
        "strace" => &STRACE,
        "ltrace" => &LTRACE,
        "runuser" => &RUNUSER,
        "setpriv" => &SETPRIV,
        "unshare" => &UNSHARE,
        "nsenter" => &NSENTER,
        "systemd-run" => &SYSTEMD_RUN,
        "npx" | "bunx" => &NODE_RUNNER,
        "uvx" => &UV_RUN,
        "nohup" | "command" | "builtin" | "setsid" | "unbuffer" | "taskset" | "busybox" => {
            &PLAIN_WRAPPER
        }
        _ => &GENERIC,
    }
}

fn git_subcommand_syntax(subcommand: &str) -> &'static Syntax {
    match subcommand {
        "push" => &GIT_PUSH,
        "clean" => &GIT_CLEAN,
        "reset" => &GIT_RESET,
        "branch" => &GIT_BRANCH,
        "checkout" => &GIT_CHECKOUT,
        "switch" => &GIT_SWITCH,
        "commit" => &GIT_COMMIT,
        "send-pack" => &GIT_PUSH,
        "config" => &GIT_CONFIG,
        _ => &GENERIC,
    }
}

impl Syntax {
    /// A unique GNU-style abbreviation of a long option, expanded.
    fn expand<'a>(&self, name: &'a str) -> &'a str
    where
        'static: 'a,
    {
        if self.long_options.is_empty()
            || name.len() < 3
            || self.long_options.contains(&name)
            || self.aliases.iter().any(|(alias, _)| *alias == name)
        {
            return name;
        }
        let mut candidates = self.long_options.iter().filter(|o| o.starts_with(name));
        match (candidates.next(), candidates.next()) {
            (Some(only), None) => only,
            _ => name,
        }
    }

    fn add_flag(&self, flags: &mut BTreeSet<String>, option: &str) {
        match self.aliases.iter().find(|(alias, _)| *alias == option) {
            Some((_, canonical)) => flags.extend(canonical.iter().map(|c| (*c).to_owned())),
            None => {
                flags.insert(option.to_owned());
            }
        }
    }
}

/// Options and positional words of a tool's argument list.
#[derive(Debug, Default)]
struct Scanned {
    flags: BTreeSet<String>,
    slots: Vec<Slot>,
    dynamic_word: Option<String>,
    /// The first argument not scanned (with `stop_at_positional`: the first
    /// positional word).
    end: usize,
}

impl Scanned {
    fn note_dynamic(&mut self, arg: &Arg) {
        if arg.varies() && self.dynamic_word.is_none() {
            self.dynamic_word = Some(format!("`{}`", arg.raw));
        }
    }

    fn positional(&mut self, arg: &Arg, after_option: Option<String>) {
        if arg.varies() {
            self.note_dynamic(arg);
            self.slots.push(Slot::Dynamic(arg.raw.clone()));
        } else {
            self.slots.push(match after_option {
                Some(option) => Slot::MaybeValue {
                    text: arg.value.clone(),
                    option,
                },
                None => Slot::Word(arg.value.clone()),
            });
        }
    }
}

fn scan(args: &[Arg], syntax: &Syntax) -> Scanned {
    let mut out = Scanned::default();
    let mut pending: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let after_option = pending.take();
        if arg.varies() {
            if syntax.stop_at_positional {
                break;
            }
            out.positional(arg, None);
            i += 1;
            continue;
        }
        let value = arg.value.as_str();
        if value == "--" {
            i += 1;
            if !syntax.stop_at_positional {
                for rest in &args[i..] {
                    out.positional(rest, None);
                }
                i = args.len();
            }
            break;
        }
        if !is_option_text(value) {
            if syntax.stop_at_positional {
                break;
            }
            out.positional(arg, after_option);
            i += 1;
            continue;
        }
        let long = value.starts_with("--") || syntax.single_dash_long;
        if long {
            let (name, has_value) = match value.split_once('=') {
                Some((name, _)) => (name, true),
                None => (value, false),
            };
            let name = syntax.expand(name);
            syntax.add_flag(&mut out.flags, name);
            if !has_value {
                if syntax.long_values.contains(&name) {
                    if let Some(next) = args.get(i + 1) {
                        out.note_dynamic(next);
                    }
                    i += 1;
                } else if !syntax.strict {
                    pending = Some(name.to_owned());
                }
            }
        } else {
            let body = &value[1..];
            let mut took_value = false;
            let mut last = None;
            for (at, c) in body.char_indices() {
                let option = format!("-{c}");
                syntax.add_flag(&mut out.flags, &option);
                last = Some(option);
                if syntax.short_values.contains(c) {
                    if at + c.len_utf8() == body.len() {
                        if let Some(next) = args.get(i + 1) {
                            out.note_dynamic(next);
                        }
                        i += 1;
                    }
                    took_value = true;
                    break;
                }
            }
            if !took_value && !syntax.strict {
                pending = last;
            }
        }
        i += 1;
    }
    out.end = i.min(args.len());
    out
}

/// A command's normalised form before it gets its name and text.
#[derive(Debug, Default)]
struct Built {
    flags: BTreeSet<String>,
    slots: Vec<Slot>,
    dynamic_word: Option<String>,
    /// For [`CommandLine::not_understood`].
    reasons: Vec<String>,
    /// For [`CommandLine::unvouched`].
    unvouched: Vec<String>,
    /// For [`CommandLine::written_paths`].
    written: Vec<String>,
}

impl Built {
    fn from_scan(scanned: Scanned) -> Self {
        Self {
            flags: scanned.flags,
            slots: scanned.slots,
            dynamic_word: scanned.dynamic_word,
            ..Self::default()
        }
    }

    fn into_command(self, program: String, text: String) -> SimpleCommand {
        SimpleCommand {
            program,
            positional: self.slots.iter().map(|s| s.text().to_owned()).collect(),
            flags: self.flags,
            dynamic: self.dynamic_word.is_some(),
            text,
            slots: self.slots,
            dynamic_word: self.dynamic_word,
        }
    }
}

/// Normalises the arguments of `program` (its own options only, for a
/// wrapper: the wrapped command's words are positional).
fn build(program: &str, args: &[Arg]) -> Built {
    match program {
        "git" => build_git(args),
        "cargo" => {
            let skip = usize::from(
                args.first()
                    .is_some_and(|a| !a.varies() && a.value.starts_with('+')),
            );
            let mut built = Built::from_scan(scan(&args[skip..], &CARGO));
            for option in ["--config", "-Z"] {
                if built.flags.contains(option) {
                    built.unvouched.push(format!(
                        "`cargo {option}` changes cargo's configuration, which can change \
                         what the command runs."
                    ));
                }
            }
            built
        }
        "find" => {
            let own: Vec<Arg> = find_own_args(args);
            Built::from_scan(scan(&own, &FIND))
        }
        _ => {
            let syntax = syntax_of(program);
            let mut scanned = scan(args, syntax);
            if syntax.stop_at_positional {
                for rest in &args[scanned.end..] {
                    scanned.positional(rest, None);
                }
            }
            Built::from_scan(scanned)
        }
    }
}

/// git's global options that change its configuration or what it runs.
const GIT_CONFIGURING_OPTIONS: &[&str] = &[
    "-c",
    "--config-env",
    "--exec-path",
    "--git-dir",
    "--work-tree",
    "--namespace",
];

fn build_git(args: &[Arg]) -> Built {
    let global = scan(args, &GIT_GLOBAL);
    let mut built = Built::default();
    for option in GIT_CONFIGURING_OPTIONS {
        if global.flags.contains(*option) {
            built.unvouched.push(format!(
                "`git {option}` changes git's configuration or what it runs."
            ));
        }
    }
    for pair in args[..global.end].windows(2) {
        let defines_alias =
            pair[0].value == "-c" && pair[1].value.to_ascii_lowercase().starts_with("alias.");
        if defines_alias {
            built.reasons.push(format!(
                "`git -c {}` defines a git alias on the command line.",
                excerpt(&pair[1].raw)
            ));
        }
    }
    let Some(subcommand) = args.get(global.end) else {
        return built;
    };
    let rest = &args[global.end + 1..];
    let mut scanned = if subcommand.varies() {
        let mut scanned = scan(rest, &GENERIC);
        scanned.note_dynamic(subcommand);
        scanned
            .slots
            .insert(0, Slot::Dynamic(subcommand.raw.clone()));
        scanned
    } else {
        let mut scanned = scan(rest, git_subcommand_syntax(&subcommand.value));
        scanned
            .slots
            .insert(0, Slot::Word(subcommand.value.clone()));
        scanned
    };
    let pushes = matches!(subcommand.value.as_str(), "push" | "send-pack");
    if pushes && !subcommand.varies() {
        for slot in scanned.slots.iter_mut().skip(1) {
            if let Slot::Word(text) = slot {
                if let Some(refspec) = text.strip_prefix('+').filter(|r| !r.is_empty()) {
                    scanned.flags.insert("--force".to_owned());
                    *text = refspec.to_owned();
                } else if let Some(refspec) = text.strip_prefix(':').filter(|r| !r.is_empty()) {
                    scanned.flags.insert("--delete".to_owned());
                    *text = refspec.to_owned();
                }
            }
        }
    }
    if !subcommand.varies() {
        match subcommand.value.as_str() {
            "config" if git_config_writes(&scanned) => built.unvouched.push(format!(
                "`{}` sets or unsets git configuration, which can change what later \
                 commands run.",
                excerpt(&format!("git {}", join_raw(&args[global.end..])))
            )),
            sub @ ("diff" | "log" | "show" | "format-patch") => {
                git_output_files(sub, rest, &mut built);
            }
            _ => {}
        }
    }
    built.flags = scanned.flags;
    built.slots = scanned.slots;
    built.dynamic_word = scanned.dynamic_word;
    built
}

/// Whether a scanned `git config` (its first slot is `config`) sets or
/// unsets a value rather than reading one.
fn git_config_writes(scanned: &Scanned) -> bool {
    const WRITING_OPTIONS: &[&str] = &[
        "--add",
        "--unset",
        "--unset-all",
        "--replace-all",
        "--edit",
        "-e",
        "--rename-section",
        "--remove-section",
    ];
    if WRITING_OPTIONS.iter().any(|o| scanned.flags.contains(*o)) {
        return true;
    }
    let words = &scanned.slots[1..];
    match words.first().map(Slot::text) {
        Some("get" | "list") => words.iter().any(|w| matches!(w, Slot::Dynamic(_))),
        Some("set" | "unset" | "rename-section" | "remove-section" | "edit") => true,
        _ => words.len() > 1 || words.iter().any(|w| matches!(w, Slot::Dynamic(_))),
    }
}

/// The files `git diff`/`log`/`show`/`format-patch` write for `--output`
/// (`-o`, and `format-patch`'s `--output-directory`).
fn git_output_files(subcommand: &str, args: &[Arg], built: &mut Built) {
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg.varies() {
            if arg.raw.starts_with("--output") || arg.raw.starts_with("-o") {
                built.unvouched.push(format!(
                    "`git {subcommand} {}` writes to a file named at run time.",
                    excerpt(&arg.raw)
                ));
            }
            continue;
        }
        let value = arg.value.as_str();
        if value == "--" {
            break;
        }
        let attached = value
            .strip_prefix("--output=")
            .or_else(|| value.strip_prefix("--output-directory="))
            .or_else(|| value.strip_prefix("-o").filter(|rest| !rest.is_empty()));
        let file = match attached {
            Some(file) => file.to_owned(),
            None if matches!(value, "--output" | "--output-directory" | "-o") => {
                let Some(next) = args.get(i) else { break };
                i += 1;
                if next.varies() {
                    built.unvouched.push(format!(
                        "`git {subcommand} {value} {}` writes to a file named at run time.",
                        excerpt(&next.raw)
                    ));
                    continue;
                }
                next.value.clone()
            }
            None => continue,
        };
        if !writes_no_file(&file) && !built.written.contains(&file) {
            built.written.push(file);
        }
    }
}

/// A command a git subcommand runs through a shell: one word, or the text
/// of an `--option=TEXT` / `-xTEXT` word.
enum Hidden<'a> {
    Word(&'a Arg),
    Text(String),
}

/// The values of a git option given as `--LONG VALUE`, `--LONG=VALUE` (or
/// a unique abbreviation of at least two letters), `-S VALUE` or `-SVALUE`
/// (also at the end of a cluster) where `S` is `short`. `takes_value` are
/// the other short options that take a value, which ends a cluster.
fn option_values<'a>(
    args: &'a [Arg],
    long: &str,
    short: char,
    takes_value: &str,
) -> Vec<Hidden<'a>> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg.varies() {
            let raw = arg.raw.trim_start_matches(['"', '\'']);
            let long_prefix = format!("--{}", long.get(..2).unwrap_or(long));
            if raw.starts_with(&long_prefix) || raw.starts_with(&format!("-{short}")) {
                found.push(Hidden::Word(arg));
            }
            continue;
        }
        let value = arg.value.as_str();
        if value == "--" {
            break;
        }
        if let Some(option) = value.strip_prefix("--") {
            let (name, attached) = match option.split_once('=') {
                Some((name, text)) => (name, Some(text)),
                None => (option, None),
            };
            if name.len() >= 2 && long.starts_with(name) {
                match attached {
                    Some(text) => found.push(Hidden::Text(text.to_owned())),
                    None => {
                        found.extend(args.get(i).map(Hidden::Word));
                        i += 1;
                    }
                }
            }
            continue;
        }
        let Some(cluster) = value.strip_prefix('-') else {
            continue;
        };
        for (at, c) in cluster.char_indices() {
            let attached = &cluster[at + c.len_utf8()..];
            if c == short {
                if attached.is_empty() {
                    found.extend(args.get(i).map(Hidden::Word));
                    i += 1;
                } else {
                    found.push(Hidden::Text(attached.to_owned()));
                }
                break;
            }
            if takes_value.contains(c) {
                i += usize::from(attached.is_empty());
                break;
            }
        }
    }
    found
}

/// `find`'s own arguments: everything but the commands of `-exec` and
/// friends.
fn find_own_args(args: &[Arg]) -> Vec<Arg> {
    let mut own = Vec::new();
    let mut i = 0;
    while i < args.len() {
        own.push(args[i].clone());
        if is_find_exec(&args[i]) {
            i = find_exec_end(args, i + 1);
        }
        i += 1;
    }
    own
}

fn is_find_exec(arg: &Arg) -> bool {
    !arg.varies() && matches!(arg.value.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir")
}

/// The index of the `;` or `{} +` that ends a `-exec` command starting at
/// `start` (or `args.len()`).
fn find_exec_end(args: &[Arg], start: usize) -> usize {
    (start..args.len())
        .find(|&j| {
            let arg = &args[j];
            !arg.varies()
                && (arg.value == ";"
                    || (arg.value == "+" && j > start && args[j - 1].value == "{}"))
        })
        .unwrap_or(args.len())
}

/// What a wrapper runs.
enum Inner<'a> {
    /// Nothing more.
    None,
    /// The command in `args`; `appended`: it gets more words at run time.
    Command { args: &'a [Arg], appended: bool },
    /// Like `Command`, with words rewritten (`xargs -I`).
    Owned { args: Vec<Arg>, appended: bool },
    /// Several commands (`find -exec`).
    Commands(Vec<&'a [Arg]>),
    /// A script word run by a shell (`bash -c WORD`).
    Script { word: &'a Arg, via: String },
    /// Several script words run by a shell (`fish -C INIT -c SCRIPT`).
    Scripts { words: Vec<&'a Arg>, via: String },
    /// A script assembled from several words (`eval`, `watch`).
    Text { text: String, via: String },
    /// Something that cannot be followed.
    NotUnderstood(String),
}

impl<'a> Inner<'a> {
    fn command(args: &'a [Arg]) -> Self {
        Self::Command {
            args,
            appended: false,
        }
    }
}

/// Skips `NAME=VALUE` words (and a lone `-` for `env`).
fn skip_assignments(args: &[Arg], mut i: usize) -> usize {
    while i < args.len() && (is_assignment(&args[i]) || (!args[i].varies() && args[i].value == "-"))
    {
        i += 1;
    }
    i
}

fn static_script(args: &[Arg]) -> Option<String> {
    if args.iter().any(Arg::varies) {
        return None;
    }
    Some(
        args.iter()
            .map(|a| a.value.as_str())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The command a wrapper runs, given the wrapper's arguments.
fn inner<'a>(program: &str, args: &'a [Arg]) -> Inner<'a> {
    let scanned = || scan(args, syntax_of(program));
    match program {
        "env" => {
            let s = scanned();
            if s.flags.contains("-S") || s.flags.contains("--split-string") {
                return Inner::NotUnderstood(
                    "`env -S` splits its argument into a command line itself, which is not analysed."
                        .to_owned(),
                );
            }
            Inner::command(&args[skip_assignments(args, s.end)..])
        }
        "sudo" => {
            let s = scanned();
            if s.flags.contains("-e") || s.flags.contains("--edit") {
                return Inner::None;
            }
            Inner::command(&args[skip_assignments(args, s.end)..])
        }
        "doas" | "nohup" | "time" | "nice" | "stdbuf" | "builtin" | "setsid" | "unbuffer"
        | "fakeroot" => Inner::command(&args[scanned().end..]),
        "command" => {
            let s = scanned();
            if s.flags.contains("-v") || s.flags.contains("-V") {
                return Inner::None;
            }
            Inner::command(&args[s.end..])
        }
        "exec" => {
            let s = scanned();
            if s.end >= args.len() {
                return Inner::NotUnderstood(
                    "`exec` without a command changes the shell itself.".to_owned(),
                );
            }
            Inner::command(&args[s.end..])
        }
        "timeout" => Inner::command(&args[(scanned().end + 1).min(args.len())..]),
        "xargs" => {
            let end = scanned().end;
            let command = &args[end..];
            match xargs_replace_string(&args[..end]) {
                Some(placeholder) => Inner::Owned {
                    args: command
                        .iter()
                        .map(|a| {
                            let mut a = a.clone();
                            if a.value.contains(&placeholder) {
                                a.dynamic = true;
                            }
                            a
                        })
                        .collect(),
                    appended: false,
                },
                None => Inner::Command {
                    args: command,
                    appended: true,
                },
            }
        }
        "ionice" => {
            let s = scanned();
            let by_id = ["-p", "-P", "-u", "--pid", "--pgid", "--uid"];
            if by_id.iter().any(|o| s.flags.contains(*o)) {
                return Inner::None;
            }
            Inner::command(&args[s.end..])
        }
        "chrt" => {
            let s = scanned();
            if s.flags.contains("-p") || s.flags.contains("--pid") {
                return Inner::None;
            }
            let mut i = s.end;
            if args
                .get(i)
                .is_some_and(|a| !a.varies() && a.value.chars().all(|c| c.is_ascii_digit()))
            {
                i += 1;
            }
            Inner::command(&args[i.min(args.len())..])
        }
        "chroot" => Inner::command(&args[(scanned().end + 1).min(args.len())..]),
        "flock" => {
            let s = scanned();
            let after_file = (s.end + 1).min(args.len());
            match args.get(after_file) {
                Some(a) if !a.varies() && (a.value == "-c" || a.value == "--command") => {
                    match args.get(after_file + 1) {
                        Some(word) => Inner::Script {
                            word,
                            via: "flock -c".to_owned(),
                        },
                        None => Inner::None,
                    }
                }
                _ => Inner::command(&args[after_file..]),
            }
        }
        "su" => su_script(args),
        "watch" => {
            let s = scanned();
            let operands = &args[s.end..];
            if operands.is_empty() {
                return Inner::None;
            }
            if s.flags.contains("-x") || s.flags.contains("--exec") {
                return Inner::command(operands);
            }
            match static_script(operands) {
                Some(text) => Inner::Text {
                    text,
                    via: "watch".to_owned(),
                },
                None => Inner::NotUnderstood(format!(
                    "The command given to `watch` is computed at run time: `{}`.",
                    excerpt(&join_raw(operands))
                )),
            }
        }
        "trap" => {
            let start = usize::from(args.first().is_some_and(|a| a.value == "--"));
            let operands = &args[start..];
            match operands {
                [action, _, ..]
                    if !(action.value.is_empty() || action.value == "-" || action.is_option()) =>
                {
                    Inner::Script {
                        word: action,
                        via: "trap".to_owned(),
                    }
                }
                _ => Inner::None,
            }
        }
        "find" => {
            let mut list = Vec::new();
            let mut i = 0;
            while i < args.len() {
                if is_find_exec(&args[i]) {
                    let end = find_exec_end(args, i + 1);
                    list.push(&args[i + 1..end]);
                    i = end;
                }
                i += 1;
            }
            Inner::Commands(list)
        }
        "bash" | "sh" | "dash" | "zsh" | "ksh" | "mksh" | "ash" | "fish" => {
            shell_script(program, args)
        }
        "strace" | "ltrace" => {
            let s = scanned();
            if s.end >= args.len() {
                return Inner::None;
            }
            Inner::command(&args[s.end..])
        }
        "taskset" => {
            let s = scanned();
            if s.flags.contains("-p") || s.flags.contains("--pid") {
                return Inner::None;
            }
            Inner::command(&args[(s.end + 1).min(args.len())..])
        }
        "runuser" => {
            let s = scanned();
            if s.flags.contains("-u") || s.flags.contains("--user") {
                Inner::command(&args[s.end..])
            } else {
                su_script(args)
            }
        }
        "setpriv" | "unshare" | "nsenter" | "systemd-run" => Inner::command(&args[scanned().end..]),
        "busybox" => match args.first() {
            Some(applet) if !applet.is_option() => Inner::command(args),
            _ => Inner::None,
        },
        "script" => script_command(args),
        "npx" | "bunx" | "uvx" => package_runner(program, args, syntax_of(program)),
        "npm" | "pnpm" | "yarn" | "uv" => {
            let mut own = *syntax_of(program);
            own.stop_at_positional = true;
            own.strict = true;
            let at = scan(args, &own).end;
            let Some(subcommand) = args.get(at).filter(|a| !a.varies()) else {
                return Inner::None;
            };
            let runs = match (program, subcommand.value.as_str()) {
                ("npm", "exec" | "x") | ("pnpm" | "yarn", "dlx" | "exec") => Some(&NODE_RUNNER),
                ("uv", "run") => Some(&UV_RUN),
                ("uv", "tool") if args.get(at + 1).is_some_and(|a| a.value == "run") => {
                    return package_runner("uv tool run", &args[at + 2..], &UV_RUN);
                }
                _ => None,
            };
            match runs {
                Some(syntax) => package_runner(
                    &format!("{program} {}", subcommand.value),
                    &args[at + 1..],
                    syntax,
                ),
                None => Inner::None,
            }
        }
        "python" | "python2" | "python3" | "pypy" | "pypy3" | "perl" | "node" | "nodejs"
        | "ruby" | "php" | "lua" | "osascript" | "pwsh" | "powershell" | "bun" | "deno" | "awk"
        | "gawk" | "mawk" | "nawk" => foreign_code(program, args),
        _ if program.starts_with("python3.") => foreign_code("python3", args),
        "eval" => match static_script(args) {
            Some(text) => Inner::Text {
                text,
                via: "eval".to_owned(),
            },
            None => Inner::None,
        },
        "source" | "." => Inner::NotUnderstood(format!(
            "`{program}` runs the commands in `{}`, which are not visible here.",
            args.first()
                .map_or_else(|| "a file".to_owned(), |a| excerpt(&a.raw))
        )),
        "alias" => Inner::NotUnderstood(format!(
            "`alias {}` defines a command name whose meaning is not analysed.",
            excerpt(&join_raw(args))
        )),
        _ => Inner::None,
    }
}

/// The placeholder of `xargs -I R` / `-i[R]` / `--replace[=R]`, whose
/// occurrences xargs replaces with input.
fn xargs_replace_string(options: &[Arg]) -> Option<String> {
    for (i, arg) in options.iter().enumerate() {
        let value = arg.value.as_str();
        if value == "--replace" {
            return Some("{}".to_owned());
        }
        if let Some(r) = value.strip_prefix("--replace=") {
            return Some(r.to_owned());
        }
        if value.starts_with("--") || !value.starts_with('-') {
            continue;
        }
        let body = &value[1..];
        for (at, c) in body.char_indices() {
            let rest = &body[at + c.len_utf8()..];
            match c {
                'I' if rest.is_empty() => return options.get(i + 1).map(|a| a.value.clone()),
                'I' => return Some(rest.to_owned()),
                'i' if rest.is_empty() => return Some("{}".to_owned()),
                'i' => return Some(rest.to_owned()),
                c if XARGS.short_values.contains(c) => break,
                _ => {}
            }
        }
    }
    None
}

/// `script … -c CMD` (or `--command CMD`, `--command=CMD`): `CMD` is run by
/// a shell; without it `script` runs an interactive shell.
fn script_command(args: &[Arg]) -> Inner<'_> {
    const TAKES_VALUE: &str = "BEIOTmo";
    const LONG_VALUES: &[&str] = &[
        "--log-io",
        "--echo",
        "--log-in",
        "--log-out",
        "--log-timing",
        "--logging-format",
        "--output-limit",
    ];
    let via = || "script -c".to_owned();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg.varies() {
            continue;
        }
        let value = arg.value.as_str();
        if value == "--" {
            break;
        }
        if value == "--command" {
            return args
                .get(i)
                .map_or(Inner::None, |word| Inner::Script { word, via: via() });
        }
        if let Some(text) = value.strip_prefix("--command=") {
            return Inner::Text {
                text: text.to_owned(),
                via: via(),
            };
        }
        if value.starts_with("--") {
            i += usize::from(LONG_VALUES.contains(&value));
            continue;
        }
        let Some(cluster) = value.strip_prefix('-') else {
            continue;
        };
        for (at, c) in cluster.char_indices() {
            let attached = &cluster[at + c.len_utf8()..];
            if c == 'c' {
                if !attached.is_empty() {
                    return Inner::Text {
                        text: attached.to_owned(),
                        via: via(),
                    };
                }
                return args
                    .get(i)
                    .map_or(Inner::None, |word| Inner::Script { word, via: via() });
            }
            if TAKES_VALUE.contains(c) {
                i += usize::from(attached.is_empty());
                break;
            }
        }
    }
    Inner::None
}

/// `npx`, `bunx`, `uvx`, `npm exec`, `pnpm dlx`, `uv run` and the like: the
/// runner's options (a `-c`/`--call`/`--shell-mode` script is parsed as a
/// line), then the command.
fn package_runner<'a>(via: &str, args: &'a [Arg], syntax: &Syntax) -> Inner<'a> {
    let mut shell_mode = false;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg.varies() {
            break;
        }
        let value = arg.value.as_str();
        if value == "--" {
            i += 1;
            break;
        }
        if !is_option_text(value) {
            break;
        }
        i += 1;
        if matches!(value, "-c" | "--call") {
            return args.get(i).map_or(Inner::None, |word| Inner::Script {
                word,
                via: format!("{via} {value}"),
            });
        }
        if let Some(text) = value.strip_prefix("--call=") {
            return Inner::Text {
                text: text.to_owned(),
                via: format!("{via} --call"),
            };
        }
        if value == "--shell-mode" {
            shell_mode = true;
            continue;
        }
        let takes_value = if value.starts_with("--") {
            !value.contains('=') && syntax.long_values.contains(&value)
        } else {
            value.len() == 2 && value[1..].chars().all(|c| syntax.short_values.contains(c))
        };
        i += usize::from(takes_value);
    }
    let command = &args[i.min(args.len())..];
    match command.first() {
        Some(word) if shell_mode => Inner::Script {
            word,
            via: format!("{via} --shell-mode"),
        },
        Some(_) => Inner::command(command),
        None => Inner::None,
    }
}

/// Interpreters given code in another language on the command line
/// (`python -c`, `perl -e`, `node -e`, …): not understood, since the code
/// can run any command.
fn foreign_code<'a>(program: &str, args: &'a [Arg]) -> Inner<'a> {
    // For each interpreter: the short options that take code, and the short
    // options whose value is attached or next (which end a cluster).
    let (code, takes_value): (&str, &str) = match program {
        "perl" => ("eE", "MmIxCdDVF"),
        "ruby" => ("e", "IrxCEFi0KTW"),
        "php" => ("rRBEF", "cdzft"),
        "lua" => ("e", "l"),
        "osascript" => ("e", "ls"),
        "python" | "python2" | "python3" | "pypy" | "pypy3" => ("c", "WXm"),
        "node" | "nodejs" | "bun" => ("ep", "rC"),
        _ => ("", ""),
    };
    let found = |what: &str| {
        Inner::NotUnderstood(format!(
            "`{program} {what}` runs code in another language, which is not analysed: \
             `{}`.",
            excerpt(&format!("{program} {}", join_raw(args)))
        ))
    };
    match program {
        "deno" => {
            return match args.iter().find(|a| !a.is_option()) {
                Some(first) if first.varies() || first.value == "eval" => found("eval"),
                _ => Inner::None,
            };
        }
        "pwsh" | "powershell" => {
            let runs_code = args.iter().any(|a| {
                let option = a.value.to_ascii_lowercase();
                a.varies()
                    || [
                        "-c",
                        "-command",
                        "-e",
                        "-ec",
                        "-enc",
                        "-encodedcommand",
                        "/c",
                        "/command",
                    ]
                    .contains(&option.as_str())
            });
            return if runs_code {
                found("-Command")
            } else {
                Inner::None
            };
        }
        "awk" | "gawk" | "mawk" | "nawk" => return awk_program(program, args),
        _ => {}
    }
    for arg in args {
        let value = arg.value.as_str();
        if arg.varies() || value == "--" || !is_option_text(value) {
            break;
        }
        if let Some(long) = value.strip_prefix("--") {
            let name = long.split_once('=').map_or(long, |(name, _)| name);
            if matches!(name, "eval" | "print") {
                return found(&format!("--{name}"));
            }
            continue;
        }
        for c in value[1..].chars() {
            if code.contains(c) {
                return found(&format!("-{c}"));
            }
            if takes_value.contains(c) {
                break;
            }
        }
    }
    Inner::None
}

/// An awk program that runs commands (`system(…)`, or a pipe to or from a
/// command) is not understood.
fn awk_program<'a>(program: &str, args: &'a [Arg]) -> Inner<'a> {
    let mut i = 0;
    let mut texts: Vec<&Arg> = Vec::new();
    let mut from_file = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let value = arg.value.as_str();
        if arg.varies() || !is_option_text(value) || value == "--" {
            if value == "--" {
                texts.extend(args.get(i));
            } else if !from_file && texts.is_empty() {
                texts.push(arg);
            }
            break;
        }
        match value {
            "-f" | "--file" => {
                from_file = true;
                i += 1;
            }
            "-e" | "--source" => {
                texts.extend(args.get(i));
                i += 1;
            }
            "-v" | "-F" | "-i" | "--assign" | "--field-separator" | "--include" => i += 1,
            _ => {}
        }
    }
    let runs = texts
        .iter()
        .any(|t| t.varies() || t.value.contains("system") || t.value.contains('|'));
    if runs {
        Inner::NotUnderstood(format!(
            "The `{program}` program may run commands (`system` or a pipe), which is not \
             analysed: `{}`.",
            excerpt(&join_raw(args))
        ))
    } else {
        Inner::None
    }
}

/// `su … -c SCRIPT` (or `--command=SCRIPT`); other uses run a login shell.
fn su_script(args: &[Arg]) -> Inner<'_> {
    for (i, arg) in args.iter().enumerate() {
        if arg.varies() {
            continue;
        }
        let value = arg.value.as_str();
        if value == "-c" || value == "--command" || value == "--session-command" {
            return match args.get(i + 1) {
                Some(word) => Inner::Script {
                    word,
                    via: "su -c".to_owned(),
                },
                None => Inner::None,
            };
        }
        if let Some(script) = value
            .strip_prefix("--command=")
            .or_else(|| value.strip_prefix("--session-command="))
        {
            return Inner::Text {
                text: script.to_owned(),
                via: "su -c".to_owned(),
            };
        }
    }
    Inner::None
}

/// `bash [options] -c SCRIPT [$0 args…]`; without `-c` and without a
/// script file, the shell reads its commands from standard input. `fish`
/// also takes `--command SCRIPT` and `-C`/`--init-command SCRIPT`.
fn shell_script<'a>(program: &str, args: &'a [Arg]) -> Inner<'a> {
    let fish = program == "fish";
    let mut run_script = false;
    let mut from_stdin = false;
    let mut informational = false;
    let mut init: Vec<&Arg> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg.varies() {
            break;
        }
        let value = arg.value.as_str();
        if value == "--" || value == "-" {
            i += 1;
            break;
        }
        if let Some(long) = value.strip_prefix("--") {
            if fish && let Some((name, text)) = long.split_once('=') {
                if matches!(name, "command" | "init-command") {
                    return Inner::Text {
                        text: text.to_owned(),
                        via: format!("{program} --{name}"),
                    };
                }
                i += 1;
                continue;
            }
            match long {
                "rcfile" | "init-file" => i += 1,
                "version" | "help" => informational = true,
                "command" if fish => run_script = true,
                "init-command" if fish => {
                    init.extend(args.get(i + 1));
                    i += 1;
                }
                "debug" | "debug-output" | "profile" | "profile-startup" | "features" if fish => {
                    i += 1;
                }
                _ => {}
            }
            i += 1;
            continue;
        }
        if value.len() > 1 && (value.starts_with('-') || value.starts_with('+')) {
            let mut takes = 0;
            for c in value[1..].chars() {
                match c {
                    'c' => run_script = true,
                    's' if !fish => from_stdin = true,
                    'C' if fish => {
                        takes += 1;
                        init.extend(args.get(i + takes));
                    }
                    'd' | 'o' | 'p' if fish => takes += 1,
                    'o' | 'O' if !fish => takes += 1,
                    _ => {}
                }
            }
            i += 1 + takes;
            continue;
        }
        break;
    }
    let operands = args.get(i..).unwrap_or(&[]);
    if run_script {
        init.extend(operands.first());
    }
    if !init.is_empty() {
        return match init.as_slice() {
            [word] => Inner::Script {
                word,
                via: format!("{program} -c"),
            },
            _ => Inner::Scripts {
                words: init,
                via: format!("{program} -c"),
            },
        };
    }
    if run_script || informational {
        return Inner::None;
    }
    if from_stdin || operands.is_empty() {
        return Inner::NotUnderstood(format!(
            "`{program}` reads its commands from standard input, which is not analysed."
        ));
    }
    Inner::None
}

// ---------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------

/// One word of a pattern's positional prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
enum PatternWord {
    Exact(String),
    /// `*`: any one word.
    Any,
}

impl PatternWord {
    /// A literal word, normalised like the command words it is compared
    /// with.
    fn exact(word: &str) -> Self {
        Self::Exact(normalise_word(word).into_owned())
    }

    fn accepts(&self, word: &str) -> bool {
        match self {
            Self::Exact(expected) => *expected == normalise_word(word),
            Self::Any => true,
        }
    }
}

/// One side of a rule (the rule itself or one exception).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Shape {
    text: String,
    program: String,
    positional: Vec<PatternWord>,
    required: BTreeSet<String>,
    forbidden: BTreeSet<String>,
}

/// Strips the explicit `$ ` command marker (a lone `$` is an empty rule).
fn strip_marker(text: &str) -> &str {
    if text == "$" {
        return "";
    }
    text.strip_prefix("$ ").map_or(text, str::trim_start)
}

/// Splits `A except B, C` into `A` and `[B, C]`, working on the shell's
/// tokens so quoted text is never split.
fn split_exceptions(text: &str) -> Result<(String, Vec<String>), PatternProblem> {
    let tokens = shielded(text, || brush_parser::tokenize_str(text))
        .and_then(|r| r.map_err(|e| e.to_string()))
        .map_err(PatternProblem::Unparsable)?;
    let mut segments: Vec<Vec<String>> = vec![Vec::new()];
    let mut in_exceptions = false;
    for token in &tokens {
        let raw = token.to_str();
        let is_word = matches!(token, brush_parser::Token::Word(..));
        if is_word && raw == "except" {
            if !in_exceptions && segments[0].is_empty() {
                return Err(PatternProblem::NothingBeforeExcept);
            }
            in_exceptions = true;
            segments.push(Vec::new());
            continue;
        }
        if in_exceptions && is_word && raw.ends_with(',') {
            let word = &raw[..raw.len() - 1];
            if let Some(last) = segments.last_mut()
                && !word.is_empty()
            {
                last.push(word.to_owned());
            }
            segments.push(Vec::new());
            continue;
        }
        if let Some(last) = segments.last_mut() {
            last.push(raw.to_owned());
        }
    }
    let mut segments = segments.into_iter().map(|words| words.join(" "));
    let main = segments.next().unwrap_or_default();
    let exceptions: Vec<String> = segments.collect();
    if exceptions.iter().any(|e| e.trim().is_empty()) {
        return Err(PatternProblem::EmptyException);
    }
    Ok((main, exceptions))
}

impl Shape {
    fn parse(text: &str) -> Result<Self, PatternProblem> {
        if nesting(text).openers > SMALL_STACK_OPENERS {
            return Err(PatternProblem::Unparsable(format!(
                "it opens more than {SMALL_STACK_OPENERS} brackets, substitutions or \
                 compound commands, which no one simple command needs"
            )));
        }
        let program = parse_program(text).map_err(PatternProblem::Unparsable)?;
        let simple = only_simple_command(&program).ok_or(PatternProblem::NotOneCommand)?;
        let mut walker = Walker::new(0);
        let mut words = Vec::new();
        if let Some(name) = &simple.word_or_name {
            words.extend(walker.words(&name.value));
        }
        for item in simple.suffix.iter().flat_map(|s| s.0.iter()) {
            match item {
                ast::CommandPrefixOrSuffixItem::Word(w)
                | ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                    words.extend(walker.words(&w.value))
                }
                _ => return Err(PatternProblem::NotOneCommand),
            }
        }
        if !walker.commands.is_empty() {
            return Err(PatternProblem::NotOneCommand);
        }
        if let Some(reason) = walker.reasons.first() {
            return Err(PatternProblem::Unparsable(reason.clone()));
        }
        let Some(first) = words.first() else {
            return Err(PatternProblem::Empty);
        };
        if first.varies() || first.brace.is_some() {
            return Err(PatternProblem::DynamicProgram(first.written().to_owned()));
        }
        let mut program = fold_program(&first.value);
        let mut plain = Vec::new();
        if let Some(subcommand) = program.strip_prefix("git-").filter(|s| !s.is_empty()) {
            plain.push(Arg::literal(subcommand));
            program = "git".to_owned();
        }
        let mut negated = Vec::new();
        for word in &words[1..] {
            if !word.varies() && word.value.starts_with('!') {
                let option = &word.value[1..];
                if !is_option_text(option) {
                    return Err(PatternProblem::BareBang(word.raw.clone()));
                }
                negated.push(Arg::literal(option));
            } else {
                plain.push(word.clone());
            }
        }
        let with = build(&program, &plain);
        let mut positional = Vec::new();
        for slot in &with.slots {
            match slot {
                Slot::Dynamic(raw) if raw == "*" => positional.push(PatternWord::Any),
                Slot::Dynamic(raw) => return Err(PatternProblem::DynamicWord(raw.clone())),
                Slot::Word(text) | Slot::MaybeValue { text, .. } => {
                    positional.push(PatternWord::exact(text));
                }
                Slot::Appended => {}
            }
        }
        if let Some(named) = &with.dynamic_word
            && named != "`*`"
        {
            return Err(PatternProblem::DynamicWord(
                named.trim_matches('`').to_owned(),
            ));
        }
        while positional.last() == Some(&PatternWord::Any) {
            positional.pop();
        }
        let mut forbidden = BTreeSet::new();
        if !negated.is_empty() {
            let mut all = plain.clone();
            all.extend(negated.iter().cloned());
            let with_negated = build(&program, &all);
            forbidden = with_negated
                .flags
                .difference(&with.flags)
                .cloned()
                .collect();
            if forbidden.is_empty() {
                let option = negated
                    .first()
                    .map_or_else(String::new, |a| a.value.clone());
                return Err(PatternProblem::Contradiction(option));
            }
        }
        Ok(Self {
            text: text.to_owned(),
            program,
            positional,
            required: with.flags,
            forbidden,
        })
    }

    fn matches(&self, command: &SimpleCommand) -> CommandMatch {
        if command.program != self.program {
            return CommandMatch::No;
        }
        let mut result = match_positional(&self.positional, &command.slots);
        if result == CommandMatch::No {
            return result;
        }
        if let Some(missing) = self.required.iter().find(|f| !command.flags.contains(*f)) {
            match &command.dynamic_word {
                Some(word) => {
                    result = result.and(CommandMatch::Maybe(format!(
                        "{word} expands at run time and could supply `{missing}`."
                    )));
                }
                None => return CommandMatch::No,
            }
        }
        if self.forbidden.iter().any(|f| command.flags.contains(f)) {
            return CommandMatch::No;
        }
        if let (Some(excluded), Some(word)) = (self.forbidden.first(), &command.dynamic_word) {
            result = result.and(CommandMatch::Maybe(format!(
                "The rule applies unless {word} supplies `{excluded}` at run time."
            )));
        }
        result
    }
}

/// The one simple command of a program, if that is all it is.
fn only_simple_command(program: &ast::Program) -> Option<&ast::SimpleCommand> {
    let [list] = program.complete_commands.as_slice() else {
        return None;
    };
    let [item] = list.0.as_slice() else {
        return None;
    };
    if !item.0.additional.is_empty() || !matches!(item.1, ast::SeparatorOperator::Sequence) {
        return None;
    }
    let pipeline = &item.0.first;
    if pipeline.bang || pipeline.timed.is_some() {
        return None;
    }
    let [ast::Command::Simple(simple)] = pipeline.seq.as_slice() else {
        return None;
    };
    if simple.prefix.is_some() {
        return None;
    }
    Some(simple)
}

/// Matches a pattern's positional prefix against a command's positional
/// words: `Yes` when the words fit as parsed, `Maybe` when they fit only if a
/// run-time word expands suitably or a word is an option's value.
fn match_positional(pattern: &[PatternWord], slots: &[Slot]) -> CommandMatch {
    let mut memo = HashMap::new();
    match_from(pattern, slots, 0, 0, &mut memo)
}

fn match_from(
    pattern: &[PatternWord],
    slots: &[Slot],
    p: usize,
    s: usize,
    memo: &mut HashMap<(usize, usize), CommandMatch>,
) -> CommandMatch {
    if p == pattern.len() {
        return CommandMatch::Yes;
    }
    if s == slots.len() {
        return CommandMatch::No;
    }
    if let Some(known) = memo.get(&(p, s)) {
        return known.clone();
    }
    let result = match &slots[s] {
        Slot::Word(text) => {
            if pattern[p].accepts(text) {
                match_from(pattern, slots, p + 1, s + 1, memo)
            } else {
                CommandMatch::No
            }
        }
        Slot::Dynamic(_) | Slot::Appended => {
            let named = match &slots[s] {
                Slot::Dynamic(raw) => format!("`{raw}`"),
                _ => APPENDED.to_owned(),
            };
            // The run-time words stand for any number of the rule's words.
            let mut best = CommandMatch::No;
            for taken in 0..=pattern.len() - p {
                let rest = if p + taken == pattern.len() {
                    CommandMatch::Yes
                } else {
                    match_from(pattern, slots, p + taken, s + 1, memo)
                };
                best = best.or(rest.at_most_maybe(|| {
                    format!("The rule's words match only if {named} expands to fit at run time.")
                }));
                if best != CommandMatch::No {
                    break;
                }
            }
            best
        }
        Slot::MaybeValue { text, option } => {
            let as_word = if pattern[p].accepts(text) {
                match_from(pattern, slots, p + 1, s + 1, memo)
            } else {
                CommandMatch::No
            };
            let as_value = match_from(pattern, slots, p, s + 1, memo).at_most_maybe(|| {
                format!(
                    "The rule's words match only if `{text}` is the value of `{option}`, \
                     which waypost does not know for this tool."
                )
            });
            as_word.or(as_value)
        }
    };
    memo.insert((p, s), result.clone());
    result
}

/// The words of `text` for the [`looks_like_command`] heuristics, unquoted
/// (white space split when the shell tokenizer rejects the text).
fn rough_words(text: &str) -> Vec<String> {
    if nesting(text).openers > SMALL_STACK_OPENERS {
        return text.split_whitespace().map(str::to_owned).collect();
    }
    match shielded(text, || brush_parser::tokenize_str(text)) {
        Ok(Ok(tokens)) => tokens
            .iter()
            .filter(|t| matches!(t, brush_parser::Token::Word(..)))
            .map(|t| brush_parser::unquote_str(t.to_str()))
            .collect(),
        _ => text.split_whitespace().map(str::to_owned).collect(),
    }
}

/// Parses a bash program; the error is the parser's message.
fn parse_program(text: &str) -> Result<ast::Program, String> {
    shielded(text, || {
        brush_parser::Parser::new(text.as_bytes(), &ParserOptions::default()).parse_program()
    })?
    .map_err(|e| e.to_string())
}

/// Parses one shell word into its pieces; the error is the parser's message.
fn parse_word(
    text: &str,
    options: &ParserOptions,
) -> Result<Vec<word::WordPieceWithSource>, String> {
    shielded(text, || word::parse(text, options))?.map_err(|e| e.to_string())
}
