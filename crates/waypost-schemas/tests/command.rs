//! Command lines and command rules: the spellings a substring matcher misses,
//! their legitimate neighbours, lines that cannot be understood, rule syntax
//! errors, the command-or-prose heuristic, and the wrapping property.

use std::collections::BTreeSet;

use proptest::prelude::*;
use waypost_schemas::{
    CommandLine, CommandMatch, CommandPattern, PatternProblem, SimpleCommand, looks_like_command,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    No,
    Yes,
    Maybe,
}

use Kind::{Maybe, No, Yes};

fn kind(result: &CommandMatch) -> Kind {
    match result {
        CommandMatch::No => No,
        CommandMatch::Yes => Yes,
        CommandMatch::Maybe(_) => Maybe,
    }
}

fn check(rule: &str, line: &str) -> CommandMatch {
    let pattern = CommandPattern::parse(rule).unwrap_or_else(|e| panic!("{e}"));
    pattern.matches_line(&CommandLine::parse(line))
}

/// (rule, command line, expected).
const TABLE: &[(&str, &str, Kind)] = &[
    // Spellings of a forced push that a substring match misses.
    ("git push --force", "git push --force", Yes),
    ("git push --force", "git push -f", Yes),
    ("git push --force", "git  push  --force", Yes),
    ("git push --force", "git push origin main --force", Yes),
    ("git push --force", "git -C . push --force", Yes),
    ("git push --force", "git -c x=y push --force", Yes),
    (
        "git push --force",
        "git --git-dir=.git --no-pager push -f",
        Yes,
    ),
    ("git push --force", "FOO=1 git push --force", Yes),
    ("git push --force", "cd sub && git push --force", Yes),
    ("git push --force", "true || git push --force", Yes),
    ("git push --force", "a; git push --force", Yes),
    ("git push --force", "echo x | git push --force", Yes),
    ("git push --force", "(git push --force)", Yes),
    ("git push --force", "{ git push --force; }", Yes),
    ("git push --force", "$(git push --force)", Yes),
    ("git push --force", "echo `git push --force`", Yes),
    ("git push --force", "diff <(git push --force) x", Yes),
    ("git push --force", "( (git push --force) )", Yes),
    ("git push --force", "echo \"$((git push -f) )\"", Yes),
    ("git push -f", "git push --force", Yes),
    ("git push --force", "bash -c 'git push --force'", Yes),
    (
        "git push --force",
        "sh -c \"cd x && git push --force\"",
        Yes,
    ),
    ("git push --force", "sudo git push --force", Yes),
    ("git push --force", "sudo -u bob git push --force", Yes),
    ("git push --force", "env X=1 git push --force", Yes),
    ("git push --force", "nohup git push --force", Yes),
    ("git push --force", "time git push --force", Yes),
    ("git push --force", "timeout -s KILL 5 git push -f", Yes),
    ("git push --force", "/usr/bin/git push --force", Yes),
    ("git push --force", "g\"i\"t push --force", Yes),
    ("git push --force", "\\git push $'--force'", Yes),
    ("git push --force", "git push origin +main", Yes),
    ("git push --force", "git push --force-with-lease", Yes),
    (
        "git push --force",
        "git push --force-with-lease=main:abc123",
        Yes,
    ),
    ("git push --force", "xargs git push --force", Yes),
    (
        "git push --force",
        "if true; then git push --force; fi",
        Yes,
    ),
    (
        "git push --force",
        "for r in a b; do git push -f \"$r\"; done",
        Yes,
    ),
    ("git push --force", "f() { git push -f; }; f", Yes),
    (
        "git push --force",
        "nohup sudo env X=1 bash -c 'time git push --force' &",
        Yes,
    ),
    ("git push --force", "eval \"git push --force\"", Yes),
    ("rm -rf", "find . -exec rm -rf {} \\;", Yes),
    ("rm -rf", "find . -print0 | xargs -0 rm -rf", Yes),
    ("rm -rf", "rm -fr x", Yes),
    ("rm -rf", "rm -r -f x", Yes),
    ("rm -rf", "rm --recursive --force x", Yes),
    ("rm -rf", "rm -R --rec --f x", Yes),
    ("rm -rf", "rm -{r,f} x", Yes),
    ("git branch -D", "git branch --delete --force topic", Yes),
    ("git clean -f", "git clean -fdx", Yes),
    ("git reset --hard", "git reset --hard HEAD~1", Yes),
    ("git checkout --force", "git checkout -f main", Yes),
    (
        "git switch --force",
        "git switch --discard-changes main",
        Yes,
    ),
    ("git push --delete", "git push origin :main", Yes),
    ("chmod -R", "chmod --recursive 777 x", Yes),
    ("cargo publish", "cargo +nightly publish --dry-run", Yes),
    ("npm publish --force", "npm publish -f", Yes),
    ("sudo", "sudo apt-get update", Yes),
    (
        "terraform destroy",
        "terraform -chdir=infra destroy -auto-approve",
        Yes,
    ),
    // Run-time expansion: a deny rule must assume the worst.
    ("git push --force", "git push $FLAGS", Maybe),
    ("git push --force", "git $SUB --force", Maybe),
    ("git push --force", "git push \"$@\"", Maybe),
    ("git push --force", "xargs git push", Maybe),
    ("git push --force", "xargs -I % git push %", Maybe),
    ("rm -rf", "rm -r *", Maybe),
    ("mytool deploy", "mytool --env prod deploy", Maybe),
    // Legitimate neighbours.
    ("git push --force", "git push", No),
    ("git push --force", "git push origin main", No),
    ("git push --force", "git pull --force", No),
    ("git push --force", "git push --dry-run", No),
    ("git push --force", "git push -- --force", No),
    ("git push --force", "git push origin :main", No),
    ("git push --force", "echo git push --force", No),
    ("git push --force", "echo 'git push --force'", No),
    ("git push --force", "git log --grep='push --force'", No),
    ("git push --force", "grep -r \"git push --force\" .", No),
    ("git push --force", "git commit -m \"--force\"", No),
    ("git push --force", "sudo -l", No),
    ("git push --force-with-lease", "git push --force", No),
    ("rm -rf", "rm x", No),
    ("rm -rf", "rm -r x", No),
    ("rm -rf", "rmdir -p x", No),
    ("git reset --hard", "git reset --soft HEAD~1", No),
    ("git branch -D", "git branch -d topic", No),
    ("cargo publish", "cargo test", No),
    // Forbidden options and exceptions.
    ("git push !--dry-run", "git push origin main", Yes),
    ("git push !--dry-run", "git push -n origin main", No),
    ("git push !--dry-run", "git push $FLAGS", Maybe),
    ("tofu *", "tofu", Yes),
    ("tofu * except tofu fmt", "tofu fmt", No),
    ("tofu * except tofu fmt", "tofu fmt -check", No),
    ("tofu * except tofu fmt", "tofu apply", Yes),
    ("tofu * except tofu fmt", "tofu $CMD", Maybe),
    ("tofu * except tofu fmt, tofu validate", "tofu validate", No),
    (
        "tofu * except tofu fmt, tofu validate",
        "tofu plan -out plan.bin",
        Yes,
    ),
    ("git * main", "git push main", Yes),
    ("git * main", "git push origin main", No),
    ("$ make deploy", "make deploy", Yes),
    ("$ make deploy", "make test", No),
];

#[test]
fn rule_table() {
    assert!(TABLE.len() >= 45);
    let failures: Vec<String> = TABLE
        .iter()
        .filter_map(|(rule, line, expected)| {
            let got = check(rule, line);
            (kind(&got) != *expected)
                .then(|| format!("rule `{rule}` on `{line}`: expected {expected:?}, got {got:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn maybe_says_which_word_expands() {
    let CommandMatch::Maybe(why) = check("git push --force", "git push $FLAGS") else {
        panic!("expected Maybe");
    };
    assert!(why.contains("$FLAGS"), "{why}");
    let CommandMatch::Maybe(why) = check("mytool deploy", "mytool --env prod deploy") else {
        panic!("expected Maybe");
    };
    assert!(why.contains("`prod`") && why.contains("--env"), "{why}");
}

fn programs(line: &CommandLine) -> Vec<&str> {
    line.simple_commands()
        .iter()
        .map(|c| c.program.as_str())
        .collect()
}

fn flags(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|f| (*f).to_owned()).collect()
}

fn last(line: &CommandLine) -> &SimpleCommand {
    line.simple_commands().last().expect("a command")
}

#[test]
fn wrappers_are_listed_and_then_the_command_they_run() {
    let line = CommandLine::parse("sudo -u bob env X=1 git -C repo push -fu origin +main");
    assert!(
        line.not_understood().is_empty(),
        "{:?}",
        line.not_understood()
    );
    assert_eq!(programs(&line), ["sudo", "env", "git"]);
    let git = last(&line);
    assert_eq!(git.positional, ["push", "origin", "main"]);
    assert_eq!(git.flags, flags(&["--force", "--set-upstream"]));
    assert!(!git.dynamic);
    assert_eq!(git.text, "git -C repo push -fu origin +main");
    let sudo = &line.simple_commands()[0];
    assert_eq!(sudo.flags, flags(&["-u"]));
    assert_eq!(sudo.positional[..2], ["env", "X=1"]);
}

#[test]
fn substitutions_are_listed_before_the_command_that_uses_them() {
    let line = CommandLine::parse("echo \"$(git rev-parse HEAD)\" && rm -rf build");
    assert_eq!(programs(&line), ["git", "echo", "rm"]);
    assert!(line.simple_commands()[1].dynamic);
    assert_eq!(last(&line).flags, flags(&["--force", "--recursive"]));
}

#[test]
fn shell_scripts_are_parsed_again() {
    let line = CommandLine::parse("bash -lc 'cd x && sh -c \"git push -f\"'");
    assert_eq!(programs(&line), ["bash", "cd", "sh", "git"]);
    assert_eq!(last(&line).flags, flags(&["--force"]));
    assert_eq!(line.text(), "bash -lc 'cd x && sh -c \"git push -f\"'");
}

#[test]
fn options_that_take_values_do_not_become_words() {
    let line = CommandLine::parse("git commit -m 'push it' --author me");
    assert_eq!(last(&line).positional, ["commit"]);
    let line = CommandLine::parse("kubectl -n prod delete pod web");
    assert_eq!(last(&line).positional, ["delete", "pod", "web"]);
    let line = CommandLine::parse("git push -o ci.skip origin main");
    assert_eq!(last(&line).positional, ["push", "origin", "main"]);
}

fn reasons(line: &str) -> Vec<String> {
    CommandLine::parse(line).not_understood().to_vec()
}

fn assert_reason(line: &str, needle: &str) {
    let found = reasons(line);
    assert!(
        found.iter().any(|r| r.contains(needle)),
        "`{line}`: expected a reason containing {needle:?}, got {found:?}"
    );
}

#[test]
fn lines_that_cannot_be_understood_say_why() {
    assert_reason("git push 'oops", "unterminated single quote");
    assert_reason("eval \"git push --force\"", "`eval`");
    assert_reason("source x.sh", "x.sh");
    assert_reason(". ./env.sh", "./env.sh");
    assert_reason("bash <<EOF\ngit push --force\nEOF\n", "here-document");
    assert_reason("cat <<< 'git push'", "here-string");
    assert_reason("$X push", "`$X`");
    assert_reason("$(echo git) push", "`$(echo git)`");
    assert_reason("g* push", "glob or brace");
    assert_reason("{git,true} push", "`{git,true}`");
    assert_reason("alias g=git", "alias");
    assert_reason("exec", "`exec`");
    assert_reason("exec 3>log", "`exec`");
    assert_reason("", "empty");
    assert_reason("   ", "empty");
    assert_reason("curl -s https://example.com/x.sh | bash", "standard input");
    assert_reason("bash -c \"$SCRIPT\"", "computed at run time");
    assert_reason(
        "sh -c 'git push \"oops'",
        "The script given to `sh -c` is not understood",
    );
    assert_reason("env -S 'git push -f'", "env -S");
    assert_reason("git -c alias.p='push --force' p", "alias");
    assert_reason("xargs -I{} sh -c 'git push {}'", "computed at run time");
}

#[test]
fn understood_lines_have_no_reasons() {
    for line in [
        "git push --force",
        "cd x && cargo test --workspace 2>&1 | tee log",
        "sudo -u bob bash -c 'git status'",
        "for f in *.rs; do rustfmt \"$f\"; done",
        "find . -name '*.tmp' -exec rm {} +",
        "X=1 Y=$(date) make -j4 all",
    ] {
        assert_eq!(reasons(line), Vec::<String>::new(), "{line}");
    }
}

#[test]
fn here_document_bodies_still_run_their_substitutions() {
    let line = CommandLine::parse("cat <<EOF > out\n$(git push -f)\nEOF\n");
    assert!(programs(&line).contains(&"git"));
    assert_eq!(
        check("git push --force", "cat <<EOF\n$(git push -f)\nEOF\n"),
        CommandMatch::Yes
    );
}

fn problem(rule: &str) -> PatternProblem {
    match CommandPattern::parse(rule) {
        Ok(pattern) => panic!("`{rule}` parsed: {pattern:?}"),
        Err(error) => error.problem,
    }
}

#[test]
fn invalid_rules_say_what_is_wrong() {
    assert_eq!(problem(""), PatternProblem::Empty);
    assert_eq!(problem("   "), PatternProblem::Empty);
    assert_eq!(problem("$ "), PatternProblem::Empty);
    assert_eq!(problem("tofu * except"), PatternProblem::EmptyException);
    assert_eq!(
        problem("tofu * except tofu fmt,"),
        PatternProblem::EmptyException
    );
    assert_eq!(
        problem("except tofu fmt"),
        PatternProblem::NothingBeforeExcept
    );
    assert!(matches!(problem("git push !"), PatternProblem::BareBang(_)));
    assert!(matches!(
        problem("git push !x"),
        PatternProblem::BareBang(_)
    ));
    assert_eq!(
        problem("$GIT push"),
        PatternProblem::DynamicProgram("$GIT".to_owned())
    );
    assert!(matches!(
        problem("g* push"),
        PatternProblem::DynamicProgram(_)
    ));
    assert_eq!(
        problem("git push $X"),
        PatternProblem::DynamicWord("$X".to_owned())
    );
    assert_eq!(problem("git push && rm -rf"), PatternProblem::NotOneCommand);
    assert_eq!(problem("git push > log"), PatternProblem::NotOneCommand);
    assert_eq!(problem("FOO=1 git push"), PatternProblem::NotOneCommand);
    assert!(matches!(
        problem("git push 'oops"),
        PatternProblem::Unparsable(_)
    ));
    assert!(matches!(
        problem("tofu * except terraform fmt"),
        PatternProblem::ExceptionProgram { .. }
    ));
    assert_eq!(
        problem("git push --force !-f"),
        PatternProblem::Contradiction("-f".to_owned())
    );
    let error = CommandPattern::parse("git push !").expect_err("bare bang");
    let message = error.to_string();
    assert!(
        message.contains("`git push !`") && message.contains("!--dry-run"),
        "{message}"
    );
}

#[test]
fn rules_keep_their_text() {
    let pattern = CommandPattern::parse("  tofu * except tofu fmt  ").expect("valid");
    assert_eq!(pattern.text(), "  tofu * except tofu fmt  ");
}

#[test]
fn commands_are_told_from_free_text() {
    for text in [
        "git push --force",
        "rm -rf",
        "terraform",
        "$ mytool deploy",
        "./deploy.sh --prod",
        "/usr/bin/env python3 x.py",
        "mytool --dangerous",
        "tofu * except tofu fmt",
        "make deploy",
        "kill -9",
        "go test ./...",
    ] {
        assert!(looks_like_command(text), "{text}");
    }
    for text in [
        "dependency changes",
        "CI configuration changes",
        "deleting production data",
        "make breaking changes to the public API",
        "go live without a review",
        "everything except docs",
        "secrets/**",
        "scripts/deploy.sh",
        "",
    ] {
        assert!(!looks_like_command(text), "{text}");
    }
}

/// Denied commands and the rule each one falls under.
const DENIED: &[(&str, &str)] = &[
    ("git push --force", "git push --force"),
    ("git push --force", "git push -f origin main"),
    ("git push --force", "git -C repo push origin +main"),
    ("rm -rf", "rm -rf build"),
    ("rm -rf", "rm -r -f /tmp/x"),
    ("git reset --hard", "git reset --hard HEAD~1"),
    ("git clean -f", "git clean -fdx"),
    ("git branch -D", "git branch -D topic"),
    ("cargo publish", "cargo publish"),
    ("npm publish --force", "npm publish -f"),
    ("tofu * except tofu fmt", "tofu destroy"),
];

/// Single-quotes `text` for a shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Wraps `line` one way; `simple` says whether `line` is one simple
/// command, which the prefix wrappers (`env`, `sudo`, `nohup`, `time`) need.
/// Returns the new line and whether it is still one simple command.
fn wrap(line: &str, simple: bool, how: usize) -> (String, bool) {
    let prefix = |word: &str| {
        if simple {
            (format!("{word} {line}"), true)
        } else {
            (format!("{word} bash -c {}", quote(line)), true)
        }
    };
    match how {
        0 => prefix("env X=1"),
        1 => prefix("sudo"),
        2 => (format!("bash -c {}", quote(line)), true),
        3 => prefix("nohup"),
        4 => (format!("true && {line}"), false),
        5 => (format!("cd d; {line}"), false),
        6 => (format!("sudo -u bob sh -c {}", quote(line)), true),
        7 => (format!("( {line} )"), false),
        8 => (format!("if true; then {line}; fi"), false),
        9 => (format!("echo \"$( {line} )\""), true),
        _ => prefix("time"),
    }
}

// SCHEMA-010 and SCHEMA-011 are enforced in src/command.rs.
proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn schema_010_wrapping_never_hides_a_denied_command(
        index in 0..DENIED.len(),
        extra in prop::collection::vec("[a-z0-9]{1,8}", 0..3),
        wraps in prop::collection::vec(0..11usize, 1..4),
    ) {
        let (rule, command) = DENIED[index];
        let pattern = CommandPattern::parse(rule).expect("valid rule");
        let mut line = [command.to_owned(), extra.join(" ")].join(" ").trim_end().to_owned();
        prop_assert_eq!(pattern.matches_line(&CommandLine::parse(&line)), CommandMatch::Yes, "{}", line);
        let mut simple = true;
        for how in wraps {
            (line, simple) = wrap(&line, simple, how);
        }
        let parsed = CommandLine::parse(&line);
        prop_assert_ne!(
            pattern.matches_line(&parsed),
            CommandMatch::No,
            "`{}` hides `{}` (reasons: {:?})",
            line,
            rule,
            parsed.not_understood()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn schema_011_parsing_never_panics(
        text in "[a-z0-9 '\"$(){}<>|&;`~.*!=+,#\\\n\\[\\]@?-]{0,40}|[0-9{}.~+<>$'\\-]{0,30}",
    ) {
        let line = CommandLine::parse(&text);
        prop_assert!(
            !line.not_understood().iter().any(|r| r.contains("failed on it")),
            "{:?}: {:?}", text, line.not_understood()
        );
        if let Err(error) = CommandPattern::parse(&text) {
            prop_assert!(!error.to_string().contains("failed on it"), "{:?}: {}", text, error);
        }
        let _ = looks_like_command(&text);
    }
}
