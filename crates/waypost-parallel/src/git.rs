//! The repository as waypost-parallel sees it: gix for what gix does,
//! the `git` command line for the rest, both hermetic.
//!
//! | operation | through | why |
//! |---|---|---|
//! | open, resolve a base, read refs, merge/rebase state | gix | read-only, no process |
//! | create and delete a run branch | gix reference edits | compare-and-swap on the old value |
//! | add a worktree, remove one | gix (`worktree-mutation`) | supported since gix 0.90 |
//! | move a worktree (quarantine), prune registrations | `git worktree` | gix has no move or prune |
//! | status of a worktree (tracked and untracked) | `git status` | gix needs its `dirwalk` feature for untracked files |
//! | would a branch merge cleanly | `git merge-tree --write-tree` | gix needs its `merge` feature; git computes it without touching any worktree |
//! | is a branch merged or pushed | `git merge-base`, `git for-each-ref --contains` | one call each |
//!
//! Every `git` call runs without user or system configuration
//! (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL=/dev/null`), without the
//! repository-selecting variables a caller's environment may carry
//! (`GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE`, ...), never prompts, and
//! reads with `GIT_OPTIONAL_LOCKS=0` so a status never writes an index.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::error::GitError;

/// Variables that would make `git` act on another repository or index.
const REPOSITORY_VARIABLES: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_CONFIG",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_PARAMETERS",
    "GIT_QUARANTINE_PATH",
];

/// Whether a `git` call only reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reads: `GIT_OPTIONAL_LOCKS=0`.
    Read,
    /// Writes the repository's administrative state: callers hold the
    /// admin lock.
    Write,
}

/// A hermetic `git` command run in `dir`.
pub(crate) fn command(dir: &Path, access: Access) -> Command {
    let mut command = Command::new("git");
    command.arg("-C").arg(dir);
    for name in REPOSITORY_VARIABLES {
        command.env_remove(name);
    }
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    if access == Access::Read {
        command.env("GIT_OPTIONAL_LOCKS", "0");
    }
    command
}

/// Runs `git <args>` in `dir` and returns its output; `ok` lists the exit
/// codes that are answers rather than failures (0 is always one).
pub(crate) fn run<S: AsRef<OsStr>>(
    dir: &Path,
    access: Access,
    args: &[S],
    ok: &[i32],
) -> Result<Output, GitError> {
    let shown = || {
        args.iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let output = command(dir, access)
        .args(args)
        .output()
        .map_err(|source| GitError::Spawn {
            args: shown(),
            source,
        })?;
    let code = output.status.code().unwrap_or(-1);
    if code == 0 || ok.contains(&code) {
        Ok(output)
    } else {
        Err(GitError::Failed {
            args: shown(),
            dir: dir.to_owned(),
            code,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// Opens the repository at `path` with gix, ignoring the environment and
/// the user's and system's configuration. Reflog entries of the branches
/// waypost creates name `waypost <waypost@localhost>` unless the
/// repository's own configuration names someone.
pub(crate) fn open(path: &Path) -> Result<gix::Repository, GitError> {
    let options = gix::open::Options::isolated().config_overrides([
        "gitoxide.committer.nameFallback=waypost",
        "gitoxide.committer.emailFallback=waypost@localhost",
    ]);
    gix::open_opts(path, options).map_err(|e| GitError::Gix {
        what: format!("open the repository at {}", path.display()),
        message: e.to_string(),
    })
}

/// A gix error as a [`GitError`].
pub(crate) fn gix_error(what: impl Into<String>) -> impl FnOnce(gix::Error) -> GitError {
    let what = what.into();
    move |e| GitError::Gix {
        what,
        message: e.to_string(),
    }
}

/// One registered worktree, as `git worktree list --porcelain` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Registered {
    pub(crate) path: PathBuf,
    pub(crate) branch: Option<String>,
    pub(crate) prunable: bool,
}

/// Every worktree registered in the repository at `root`.
pub(crate) fn worktrees(root: &Path) -> Result<Vec<Registered>, GitError> {
    let output = run(
        root,
        Access::Read,
        &["worktree", "list", "--porcelain", "-z"],
        &[],
    )?;
    let mut out = Vec::new();
    let mut current: Option<Registered> = None;
    for field in output.stdout.split(|b| *b == 0) {
        let field = String::from_utf8_lossy(field);
        if field.is_empty() {
            out.extend(current.take());
        } else if let Some(path) = field.strip_prefix("worktree ") {
            out.extend(current.replace(Registered {
                path: PathBuf::from(path),
                branch: None,
                prunable: false,
            }));
        } else if let Some(branch) = field.strip_prefix("branch refs/heads/") {
            if let Some(entry) = current.as_mut() {
                entry.branch = Some(branch.to_owned());
            }
        } else if field.starts_with("prunable")
            && let Some(entry) = current.as_mut()
        {
            entry.prunable = true;
        }
    }
    out.extend(current);
    Ok(out)
}

/// The full id `rev` resolves to in the repository at `dir`, if it does.
pub(crate) fn rev(dir: &Path, rev: &str) -> Result<Option<String>, GitError> {
    let output = run(
        dir,
        Access::Read,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
        &[1],
    )?;
    Ok(output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()))
}

/// A merge computed from objects alone (`git merge-tree --write-tree`):
/// the merged tree, or the conflicting paths.
pub(crate) enum MergeTree {
    /// No conflicts: the merged tree's id.
    Clean(String),
    /// The conflicting paths.
    Conflicts(Vec<String>),
}

/// Merges `theirs` into `ours` without touching any index or checkout.
pub(crate) fn merge_tree(dir: &Path, ours: &str, theirs: &str) -> Result<MergeTree, GitError> {
    let output = run(
        dir,
        Access::Read,
        &[
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            ours,
            theirs,
        ],
        &[1],
    )?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let tree = lines.next().unwrap_or_default().trim().to_owned();
    Ok(if output.status.success() {
        MergeTree::Clean(tree)
    } else {
        MergeTree::Conflicts(lines.filter(|l| !l.is_empty()).map(str::to_owned).collect())
    })
}
