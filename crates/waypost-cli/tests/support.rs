//! Running the binary from the workspace root, so paths in output are the
//! short relative ones a user would type.

use std::process::Command;

pub(crate) use waypost_test_support::workspace_root;

/// Output of `waypost ARGS` run in the workspace root.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) fn waypost(args: &[&str]) -> Run {
    waypost_in(&workspace_root(), args)
}

/// Output of `waypost ARGS` run in `dir`, with a fixed `SOURCE_DATE_EPOCH`
/// (2026-01-01T00:00:00Z) so timestamps in output are reproducible.
pub(crate) fn waypost_in(dir: &std::path::Path, args: &[&str]) -> Run {
    waypost_with(dir, args, &[])
}

/// [`waypost_in`] with `env` set (and `WAYPOST_STORE_URL` only when `env`
/// names it: the caller's own never reaches a test).
pub(crate) fn waypost_with(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_waypost"));
    command
        .args(args)
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .env_remove("WAYPOST_STORE_URL");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run waypost");
    Run {
        code: output.status.code().expect("exited normally"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// A repository with a link to a file that moved (`docs/setup.md` is now
/// `docs/guide/setup.md`) and a log at the root.
pub(crate) fn repo_with_a_moved_link() -> waypost_test_support::TestRepo {
    let repo = waypost_test_support::TestRepo::new();
    repo.write("README.md", "# demo\n\nSee [setup](docs/setup.md).\n")
        .write(&["docs", "guide", "setup.md"].join("/"), "# Setup\n")
        .write("debug.log", "boom\n")
        .commit_all("init");
    repo
}
