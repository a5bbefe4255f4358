//! Test-only helpers for waypost crates.
//!
//! - [`hermetic_git`]: a `git` command that ignores the user's and the
//!   system's configuration, with a fixed author, committer and dates, so
//!   repositories built in tests are identical on every machine.
//! - [`TestRepo`]: a temporary git repository built through that command.
//! - [`workspace_root`] and [`fixtures_dir`]: where the repository's files are.
//! - [`secrets`]: credential formats and look-alikes for the redactor's tests.
//! - [`workers`]: test binaries re-run as worker processes, and their reports.
//!
//! Never a dependency of a library: only `[dev-dependencies]` use it.

mod jitter;
pub mod secrets;
pub mod workers;

pub use jitter::Jitter;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixed instant used for every commit made through [`hermetic_git`]:
/// 2026-01-01T00:00:00Z.
pub const FIXED_DATE: &str = "2026-01-01T00:00:00+00:00";

/// A `git` command for `dir` that reads no user or system configuration and
/// stamps commits with a fixed identity and date.
pub fn hermetic_git(dir: &Path) -> Command {
    let mut git = Command::new("git");
    git.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Waypost Test")
        .env("GIT_AUTHOR_EMAIL", "test@waypost.invalid")
        .env("GIT_COMMITTER_NAME", "Waypost Test")
        .env("GIT_COMMITTER_EMAIL", "test@waypost.invalid")
        .env("GIT_AUTHOR_DATE", FIXED_DATE)
        .env("GIT_COMMITTER_DATE", FIXED_DATE)
        .env("LC_ALL", "C")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ]);
    git
}

/// A git repository in a temporary directory, removed on drop.
#[derive(Debug)]
pub struct TestRepo {
    dir: tempfile::TempDir,
}

impl TestRepo {
    /// `git init` in a fresh temporary directory.
    ///
    /// # Panics
    /// When git is missing or fails: a test cannot go on without it.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let repo = Self { dir };
        repo.git(&["init", "--quiet"]);
        repo
    }

    /// The working tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs hermetic git with `args` and returns its standard output.
    ///
    /// # Panics
    /// When git fails; the message carries its standard error.
    pub fn git(&self, args: &[&str]) -> String {
        let output = hermetic_git(self.path())
            .args(args)
            .output()
            .expect("run git");
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Writes `contents` to `relative` (creating folders) in the working tree.
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn write(&self, relative: &str, contents: &str) -> &Self {
        let path = self.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent folders");
        }
        std::fs::write(&path, contents).expect("write file");
        self
    }

    /// Stages everything and commits with `message`.
    pub fn commit_all(&self, message: &str) -> &Self {
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "--allow-empty", "-m", message]);
        self
    }
}

impl Default for TestRepo {
    fn default() -> Self {
        Self::new()
    }
}

/// The workspace root (the folder holding `crates/`, `fixtures/`, `schemas/`).
///
/// # Panics
/// When this crate is not inside the waypost workspace.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("waypost-test-support lives in crates/ of the workspace")
}

/// The repository's `fixtures/` folder.
pub fn fixtures_dir() -> PathBuf {
    workspace_root().join("fixtures")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_identical_on_every_machine() {
        let a = TestRepo::new();
        a.write("README.md", "hello\n").commit_all("first");
        let b = TestRepo::new();
        b.write("README.md", "hello\n").commit_all("first");
        let head = |r: &TestRepo| r.git(&["rev-parse", "HEAD"]);
        assert_eq!(
            head(&a),
            head(&b),
            "same content, identity and date: same commit id"
        );
        assert_eq!(
            a.git(&["log", "-1", "--format=%an <%ae> %aI"]).trim(),
            "Waypost Test <test@waypost.invalid> 2026-01-01T00:00:00Z"
        );
    }
}

/// One row of the shared protected-path corpus (`data/protected_paths.tsv`).
#[derive(Clone, Debug)]
pub struct PathCase {
    /// The path as written.
    pub path: String,
    /// The protected pattern.
    pub pattern: String,
    /// The expected answer.
    pub expected: PathVerdict,
    /// What the row is about.
    pub about: String,
}

/// What every "is this path protected?" check must answer for a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathVerdict {
    /// The pattern covers the path.
    Protected,
    /// It does not.
    Free,
    /// The path is not inside the repository.
    Invalid,
}

/// The shared corpus of (path, pattern) cases every crate's protected-path
/// check is tested against.
pub fn protected_path_cases() -> Vec<PathCase> {
    include_str!("../data/protected_paths.tsv")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 4, "four tab-separated columns: {line:?}");
            PathCase {
                path: unescape(cols[0]),
                pattern: unescape(cols[1]),
                expected: match cols[2] {
                    "protected" => PathVerdict::Protected,
                    "free" => PathVerdict::Free,
                    "invalid" => PathVerdict::Invalid,
                    other => panic!("unknown verdict {other:?} in {line:?}"),
                },
                about: cols[3].to_owned(),
            }
        })
        .collect()
}

/// `\u{XXXX}` escapes to their code points.
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\\u{") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('}').expect("closing brace") + at;
        let code = u32::from_str_radix(&rest[at + 3..end], 16).expect("hex code point");
        out.push(char::from_u32(code).expect("a code point"));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}
