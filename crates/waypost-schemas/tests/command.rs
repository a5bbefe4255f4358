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
    // Program names fold case and `.exe`; dashed git programs are git.
    ("git push --force", "GIT push -f", Yes),
    ("git push --force", "git.exe push -f", Yes),
    ("git push --force", "Git.EXE push --force", Yes),
    (
        "git push --force",
        "'C:\\Program Files\\Git\\bin\\git.exe' push -f",
        Yes,
    ),
    ("GIT push --force", "git push -f", Yes),
    ("git push --force", "/usr/lib/git-core/git-push -f", Yes),
    ("git push --force", "git-push --force origin main", Yes),
    ("git-push --force", "git push -f", Yes),
    ("git push --force", "git-pull --force", No),
    ("git push --force", "gitk --all", No),
    // `git send-pack` is a push.
    ("git push --force", "git send-pack --force origin main", Yes),
    ("git push --force", "git send-pack origin +main", Yes),
    ("git push --force", "git send-pack origin main", No),
    // More wrappers.
    (
        "git push --force",
        "strace -f -o trace.log git push -f",
        Yes,
    ),
    (
        "git push --force",
        "strace -e trace=network git push -f",
        Yes,
    ),
    ("git push --force", "ltrace -s 100 git push -f", Yes),
    ("git push --force", "taskset 0x3 git push -f", Yes),
    ("git push --force", "taskset -c 0,1 git push -f", Yes),
    ("git push --force", "runuser -u bob -- git push -f", Yes),
    ("git push --force", "runuser bob -c 'git push -f'", Yes),
    ("git push --force", "setpriv --reuid=1000 git push -f", Yes),
    ("git push --force", "setpriv --reuid 1000 git push -f", Yes),
    ("git push --force", "unshare -n git push -f", Yes),
    (
        "git push --force",
        "unshare --map-user 1000 git push -f",
        Yes,
    ),
    ("git push --force", "nsenter -t 1 -m git push -f", Yes),
    (
        "git push --force",
        "systemd-run --user -p X=1 git push -f",
        Yes,
    ),
    ("rm -rf", "busybox rm -rf x", Yes),
    ("git push --force", "busybox sh -c 'git push -f'", Yes),
    ("git push --force", "fish -c 'git push -f'", Yes),
    (
        "git push --force",
        "script -q -c 'git push -f' /dev/null",
        Yes,
    ),
    ("git push --force", "script --command='git push -f'", Yes),
    ("git push --force", "npx -y git push -f", Yes),
    ("git push --force", "npx -c 'git push -f'", Yes),
    ("git push --force", "bunx git push -f", Yes),
    ("git push --force", "npm exec -- git push -f", Yes),
    ("git push --force", "npm --prefix x exec git push -f", Yes),
    ("git push --force", "pnpm dlx git push -f", Yes),
    ("git push --force", "uv run git push -f", Yes),
    (
        "git push --force",
        "uv run --with requests -- git push -f",
        Yes,
    ),
    ("git push --force", "uvx --from x git push -f", Yes),
    ("git push --force", "npm run build", No),
    ("git push --force", "uv sync", No),
    // Commands git runs itself.
    (
        "git push --force",
        "git submodule foreach 'git push -f'",
        Yes,
    ),
    (
        "git push --force",
        "git submodule --quiet foreach --recursive git push -f",
        Yes,
    ),
    (
        "git push --force",
        "git rebase --exec 'git push -f' HEAD~3",
        Yes,
    ),
    (
        "git push --force",
        "git rebase -x 'git push -f' HEAD~3",
        Yes,
    ),
    (
        "git push --force",
        "git rebase --exec='git push -f' HEAD~3",
        Yes,
    ),
    (
        "git push --force",
        "git rebase -ix 'git push -f' HEAD~3",
        Yes,
    ),
    ("git push --force", "git bisect run git push -f", Yes),
    // git joins `bisect run`'s words with spaces before its shell reads them.
    ("git push --force", "git bisect run 'git push' -f", Yes),
    (
        "git push --force",
        "git filter-branch --tree-filter 'git push -f' HEAD",
        Yes,
    ),
    (
        "git push --force",
        "git difftool --extcmd='git push -f'",
        Yes,
    ),
    (
        "git push --force",
        "git difftool -x 'git push -f' HEAD",
        Yes,
    ),
    ("git push --force", "git rebase -i HEAD~3", No),
    // Path-like words are normalised on both sides.
    ("rm -rf src", "rm -rf ./src", Yes),
    ("rm -rf src", "rm -rf src/", Yes),
    ("rm -rf src", "rm -rf docs/../src", Yes),
    ("rm -rf src", "rm -rf ./docs/.././src/.", Yes),
    ("rm -rf ./src", "rm -rf src", Yes),
    ("rm -rf src/", "rm -rf ./src", Yes),
    ("rm -rf /", "rm -rf //", Yes),
    ("rm -rf /", "rm -rf /.", Yes),
    ("rm -rf /", "rm -rf /usr/..", Yes),
    ("rm -rf /", "rm -rf /..", Yes),
    ("rm -rf src", "rm -rf src/lib", No),
    ("rm -rf src", "rm -rf srcx", No),
    ("rm -rf src", "rm -rf ../src", No),
    ("rm -rf /", "rm -rf /usr", No),
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
        11 => prefix("strace -f -o /dev/null"),
        12 => prefix("taskset -c 0"),
        13 => (format!("busybox sh -c {}", quote(line)), true),
        14 => (format!("script -qc {} /dev/null", quote(line)), true),
        15 => (format!("git submodule foreach {}", quote(line)), true),
        // Only a shell reads an assignment prefix: wrappers that exec their
        // words directly need `bash -c` around it.
        16 if simple => (format!("GIT_TRACE=1 {line}"), false),
        16 => (format!("GIT_TRACE=1 bash -c {}", quote(line)), false),
        17 => (format!("fish -c {}", quote(line)), true),
        _ => prefix("time"),
    }
}

// SCHEMA-010, SCHEMA-011 and SCHEMA-020 are enforced in src/command.rs.
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
        wraps in prop::collection::vec(0..18usize, 1..4),
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

fn unvouched(line: &str) -> Vec<String> {
    CommandLine::parse(line).unvouched().to_vec()
}

#[test]
fn schema_020_allow_rules_cannot_vouch_for_hidden_behaviour() {
    // (line, a word the reason must contain).
    let cases: &[(&str, &str)] = &[
        ("x=1", "sets x,"),
        ("PATH=/tmp/evil", "sets PATH,"),
        ("a[$(cmd)]=1", "sets a,"),
        ("GIT_PAGER='sh -c id' git log", "sets GIT_PAGER,"),
        ("LD_PRELOAD=/tmp/x.so git status", "sets LD_PRELOAD,"),
        ("RUSTC_WRAPPER=/tmp/w cargo test", "sets RUSTC_WRAPPER,"),
        ("env PATH=/tmp/evil git status", "sets PATH,"),
        ("sudo PATH=/tmp/evil git status", "sets PATH,"),
        ("export PATH=/tmp/evil", "sets PATH,"),
        ("declare -x GIT_DIR=/tmp/x", "sets GIT_DIR,"),
        ("read PATH", "`read` sets variables"),
        ("printf -v PATH %s /tmp/evil", "`printf -v`"),
        ("hash -p /tmp/evil/git git", "`hash -p`"),
        ("(( x + 1 ))", "`(( x + 1 ))`"),
        ("for (( i = 0; i < n; i++ )); do :; done", "for (( … ))"),
        ("echo $(( x + 1 ))", "`$(( x + 1 ))`"),
        ("[[ $x -eq 1 ]]", "`[[ $x -eq 1 ]]`"),
        ("let x=y+1", "`let x=y+1`"),
        ("echo ${x@P}", "parameter transformation"),
        ("echo ${!x}", "indirect expansion"),
        ("echo ${x:i:2}", "arithmetic offset"),
        ("echo ${a[i]}", "arithmetic subscript"),
        ("echo ${x:=v}", "an assignment"),
        ("docs/git status", "`docs/git` is given by a path"),
        ("./git status", "`./git` is given by a path"),
        ("/tmp/evil/git status", "given by a path"),
        ("GIT status", "`GIT` is `git` only"),
        ("git.exe status", "`git.exe` is `git` only"),
        ("git -c core.pager=id log", "`git -c`"),
        ("git --config-env=core.pager=P log", "`git --config-env`"),
        ("git --exec-path=/tmp/x status", "`git --exec-path`"),
        ("git --git-dir=/tmp/x/.git status", "`git --git-dir`"),
        ("git --work-tree=/ status", "`git --work-tree`"),
        ("git --namespace=x log", "`git --namespace`"),
        (
            "git config core.pager id",
            "sets or unsets git configuration",
        ),
        ("git config --unset user.name", "sets or unsets"),
        ("git config --add a.b c", "sets or unsets"),
        ("git config --replace-all a.b c", "sets or unsets"),
        ("git config --edit", "sets or unsets"),
        ("git config set core.pager id", "sets or unsets"),
        (
            "git config --global core.hooksPath /tmp/h",
            "sets or unsets",
        ),
        (
            "cargo --config build.rustc-wrapper='x' test",
            "`cargo --config`",
        ),
        ("cargo +nightly test -Zbuild-std", "`cargo -Z`"),
        ("echo x > \"$f\"", "names its file at run time"),
        ("echo x >> $HOME/x", "names its file at run time"),
        ("git diff --output=\"$f\"", "named at run time"),
        ("# only a comment", "runs no command"),
        ("x=1; y=2", "runs no command"),
        ("bash -c 'PATH=/tmp/evil git status'", "sets PATH,"),
        ("echo \"$(PATH=/tmp/evil git status)\"", "sets PATH,"),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(line, needle)| {
            let found = unvouched(line);
            (!found.iter().any(|r| r.contains(needle)))
                .then(|| format!("`{line}`: expected a reason with {needle:?}, got {found:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    for line in [
        "cargo test -p x",
        "cargo test --workspace 2>&1 | tee log",
        "git status",
        "git log --oneline -n 5",
        "git -C sub status",
        "git config user.name",
        "git config --get user.name",
        "git config get user.name",
        "git config --file .gitmodules submodule.x.url",
        "git config --list",
        "ls > /dev/null 2>&1",
        "echo \"${HOME:-/root}\" ${a[1]} ${x:1:2} $x $(( 1 + 2 * 3 ))",
        "true",
    ] {
        assert_eq!(unvouched(line), Vec::<String>::new(), "{line}");
    }
}

#[test]
fn unvouched_lines_still_show_deny_rules_everything() {
    // The subscript of an assignment runs; deny rules see inside it.
    let line = CommandLine::parse("a[$(git push -f)]=1");
    assert!(programs(&line).contains(&"git"), "{:?}", programs(&line));
    assert_eq!(
        check("git push --force", "a[$(git push -f)]=1"),
        CommandMatch::Yes
    );
    // Builtins evaluate subscripts in names even when the shell saw quotes.
    assert_eq!(
        check("git push --force", "unset 'a[$(git push -f)]'"),
        CommandMatch::Yes
    );
    assert_eq!(
        check("git push --force", "let 'x=a[$(git push -f)]'"),
        CommandMatch::Yes
    );
    // Deny matching ignores what an allow rule cannot vouch for.
    assert_eq!(
        check("git push --force", "PATH=/x ./git push -f"),
        CommandMatch::Yes
    );
}

fn written(line: &str) -> Vec<String> {
    CommandLine::parse(line).written_paths().to_vec()
}

#[test]
fn output_redirections_name_the_files_they_write() {
    let cases: &[(&str, &[&str])] = &[
        ("echo x > intention.toml", &["intention.toml"]),
        ("cat a >> deploy/x", &["deploy/x"]),
        ("ls 1<> f", &["f"]),
        ("cat > f", &["f"]),
        ("cmd >| f", &["f"]),
        ("cmd &> out.log", &["out.log"]),
        ("cmd &>> out.log", &["out.log"]),
        ("cmd 2>> err.log", &["err.log"]),
        ("cmd >& all.log", &["all.log"]),
        ("echo x > \"quoted name.txt\"", &["quoted name.txt"]),
        ("echo x > a > b > a", &["a", "b"]),
        ("{ echo a; } > group.txt", &["group.txt"]),
        (
            "echo x > /dev/tcp/example.com/80",
            &["/dev/tcp/example.com/80"],
        ),
        ("cmd 2>/dev/null", &[]),
        ("cmd > /dev/null 2>&1", &[]),
        ("cmd >&2", &[]),
        ("cmd 3>&-", &[]),
        ("cmd > /dev/stdout 2> /dev/stderr", &[]),
        ("cmd > /dev/fd/3", &[]),
        ("cat < input.txt", &[]),
        ("git status", &[]),
        ("git diff --output=f", &["f"]),
        ("git log --output out.txt", &["out.txt"]),
        ("git show -o shown.txt HEAD", &["shown.txt"]),
        ("git format-patch -o patches HEAD~2", &["patches"]),
        (
            "git format-patch --output-directory=patches HEAD~2",
            &["patches"],
        ),
        ("git commit -o x", &[]),
        ("bash -c 'echo x > inner.txt'", &["inner.txt"]),
        ("echo \"$(echo x > sub.txt)\"", &["sub.txt"]),
        ("sudo sh -c 'git diff --output=d.patch'", &["d.patch"]),
    ];
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(line, expected)| {
            let found = written(line);
            (found != *expected).then(|| format!("`{line}`: expected {expected:?}, got {found:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Runs `f` on a thread with the 2 MiB stack of a default test thread, so a
/// stack overflow shows here rather than depending on the runner.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic");
}

/// `open` repeated `n` times, then `middle`, then `close` repeated `n`
/// times.
fn nested(open: &str, middle: &str, close: &str, n: usize) -> String {
    format!("{}{middle}{}", open.repeat(n), close.repeat(n))
}

#[test]
fn schema_011_deep_nesting_is_refused_without_parsing() {
    on_small_stack(|| {
        let n = 5_000;
        for line in [
            nested("{ ", "true", "; }", n),
            nested("echo $(", "true", ")", n),
            nested("echo ${x:-", "y", "}", n),
            nested("echo $((", "1", "))", n),
            nested("echo \"$(", "true", ")\"", n),
            nested("if true; then ", "true", "; fi", n),
            nested("( ", "true", " )", n),
            nested("while true; do ", "true", "; done", n),
            nested("case x in a) ", "true", " ;; esac", n),
            nested("[[ ", "x", " ]]", 1).replace("[[ x", &format!("[[ {}x", "! ".repeat(n))),
            nested("f() { ", "true", "; }", n),
        ] {
            let parsed = CommandLine::parse(&line);
            assert!(
                parsed
                    .not_understood()
                    .iter()
                    .any(|r| r.contains("is not analysed")),
                "{}…: {:?}",
                &line[..40],
                parsed.not_understood()
            );
            assert!(CommandPattern::parse(&line).is_err());
            let _ = looks_like_command(&line);
        }
    });
}

#[test]
fn schema_011_nesting_hidden_by_quoted_closers_is_parsed_safely() {
    on_small_stack(|| {
        // Quoted or case-pattern `)` lower the depth estimate, so these reach
        // the parser with hundreds of real levels; it must not overflow, and
        // the command after them is still seen.
        for nest in [
            nested("echo $( echo ')' ", "true", ")", 500),
            nested("case x in a) ", "true", " ;; esac", 500),
            nested("echo \"$( echo ')' ", "true", ")\"", 250),
            format!(
                "bash -c {}",
                quote(&nested("$( echo ')' ", "true", ")", 250))
            ),
            format!(
                "bash -c $'{}'",
                nested("\\x24\\x28 echo \\x27\\x29\\x27 ", "true", "\\x29", 500)
            ),
        ] {
            let line = format!("{nest}; git push -f");
            let parsed = CommandLine::parse(&line);
            let rule = CommandPattern::parse("git push --force").expect("valid");
            assert_eq!(
                rule.matches_line(&parsed),
                CommandMatch::Yes,
                "{}…: {:?}",
                &line[..40],
                parsed.not_understood()
            );
        }
        // `&&` and `||` in `[[ ]]` build a tree as deep as they are many.
        let chain = format!("[[ x{} ]] && git push -f", " && x".repeat(500));
        assert_eq!(check("git push --force", &chain), CommandMatch::Yes);
        for n in [5_000, 200_000] {
            for chain in [
                format!("[[ x{} ]] && git push -f", " && x".repeat(n)),
                format!("diff <([[ x{} ]]) y; git push -f", " || x".repeat(n)),
            ] {
                assert_reason(&chain, "is not analysed");
            }
        }
        // Outside `[[ ]]` they make a flat list.
        let list = format!("true{}; git push -f", " && true".repeat(5_000));
        assert_eq!(check("git push --force", &list), CommandMatch::Yes);
    });
}

#[test]
fn schema_011_brace_expansion_is_bounded() {
    let start = std::time::Instant::now();
    for line in [
        format!("echo {}a,b", "{".repeat(18)),
        format!("echo {}a,b", "x{".repeat(30)),
        format!("{}a,b", "{".repeat(40)),
    ] {
        assert_reason(&line, "more than 8 `{`");
    }
    assert!(
        start.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_reason("echo {1..99999999}", "more than 256 words");
    assert_reason(
        "echo {a,b,c}{d,e,f}{g,h,i}{j,k,l}{m,n,o}{p,q,r}",
        "more than 256 words",
    );
    // Quoted braces are no brace expression.
    let start = std::time::Instant::now();
    for line in [
        "echo {a,b}{c,d} ${x}${y}${z}${a}${b}${c}${d}${e}${f}",
        "curl -d '{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":1}}}}}}}}}' x",
        "echo \"{{{{{{{{{{{{{{{{{{{{a,b\" \\{\\{\\{\\{\\{\\{\\{\\{\\{\\{a,b",
    ] {
        assert_eq!(reasons(line), Vec::<String>::new(), "{line}");
    }
    assert!(
        start.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn commands_git_runs_are_listed_and_not_understood() {
    for line in [
        "git submodule foreach 'git push -f'",
        "git rebase --exec 'git push -f' HEAD~3",
        "git rebase -x 'git push -f' HEAD~3",
        "git bisect run git push -f",
        "git filter-branch --env-filter 'git push -f' HEAD",
        "git difftool --extcmd 'git push -f'",
        "git difftool -x 'git push -f'",
    ] {
        assert_reason(line, "through a shell");
        assert_eq!(check("git push --force", line), CommandMatch::Yes, "{line}");
        let parsed = CommandLine::parse(line);
        assert_eq!(programs(&parsed), ["git", "git"], "{line}");
    }
    assert_reason("git filter-repo --commit-callback 'x'", "filter-repo");
    assert_reason("git rebase --exec \"$CMD\" HEAD~3", "computed at run time");
    assert_reason("git -c alias.p='!git push -f' p", "alias");
    for line in [
        "git mergetool --tool vimdiff",
        "git difftool --tool=meld HEAD",
        "git rebase -i HEAD~3",
        "git submodule update --init",
        "git bisect start",
    ] {
        assert_eq!(reasons(line), Vec::<String>::new(), "{line}");
    }
}

#[test]
fn code_in_another_language_is_not_understood() {
    for (line, needle) in [
        (
            "python3 -c 'import os; os.system(\"git push -f\")'",
            "`python3 -c`",
        ),
        ("python3 -Bc 'print(1)'", "`python3 -c`"),
        ("python3.12 -c 'print(1)'", "`python3 -c`"),
        ("perl -e 'system q(git push -f)'", "`perl -e`"),
        ("perl -lne 'print' f", "`perl -e`"),
        ("node -e 'x'", "`node -e`"),
        ("node --eval='x'", "`node --eval`"),
        ("node -pe 'x'", "`node -p`"),
        ("ruby -e 'x'", "`ruby -e`"),
        ("php -r 'x'", "`php -r`"),
        ("pwsh -Command 'x'", "-Command"),
        ("deno eval 'x'", "`deno eval`"),
        ("awk 'BEGIN { system(\"git push -f\") }'", "`awk` program"),
    ] {
        assert_reason(line, needle);
    }
    for line in [
        "python3 script.py",
        "python3 -m pytest -q",
        "node build.js",
        "perl script.pl",
        "awk '{ print $1 }' f",
        "ruby -w x.rb",
    ] {
        assert_eq!(reasons(line), Vec::<String>::new(), "{line}");
    }
}

#[test]
fn path_words_and_program_names_are_normalised_for_matching_only() {
    let line = CommandLine::parse("GIT.exe push ./origin/ -f");
    let git = last(&line);
    assert_eq!(git.program, "git");
    assert_eq!(git.positional, ["push", "./origin/"]);
    let line = CommandLine::parse("/usr/lib/git-core/git-push -f origin");
    assert_eq!(last(&line).positional, ["push", "origin"]);
    let line = CommandLine::parse("git send-pack --force remote main");
    assert_eq!(programs(&line), ["git", "git"]);
    assert_eq!(line.simple_commands()[0].positional[0], "send-pack");
    assert_eq!(line.simple_commands()[1].positional[0], "push");
}
