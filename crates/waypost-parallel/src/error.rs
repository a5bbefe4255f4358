//! What can go wrong, per operation.

use std::io;
use std::path::PathBuf;

use waypost_fences::{ClaimError, LockError};
use waypost_schemas::HolderIdentity;
use waypost_schemas::io::WriteError;
use waypost_schemas::layout::IdError;

/// A `git` or gix operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// `git` could not be started.
    #[error("cannot run `git {args}`: {source} (is git installed and on PATH?)")]
    Spawn {
        /// The arguments.
        args: String,
        /// The OS error.
        source: io::Error,
    },
    /// `git` ran and failed.
    #[error("`git {args}` failed in {} with exit code {code}: {stderr}", dir.display())]
    Failed {
        /// The arguments.
        args: String,
        /// Where it ran.
        dir: PathBuf,
        /// Its exit code.
        code: i32,
        /// What it said.
        stderr: String,
    },
    /// A gix operation failed.
    #[error("cannot {what}: {message}")]
    Gix {
        /// What was being done.
        what: String,
        /// gix's message.
        message: String,
    },
}

/// A run could not start. Nothing a failed start acquired is still held.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The run id cannot be used.
    #[error(transparent)]
    InvalidRunId(#[from] IdError),
    /// The path is not a git repository with a working tree.
    #[error("{} is not a git repository with a working tree: {problem}", path.display())]
    NotARepository {
        /// The path.
        path: PathBuf,
        /// Why.
        problem: String,
    },
    /// The base does not name a commit.
    #[error("base `{base}` does not name a commit in {}", repo.display())]
    UnknownBase {
        /// The base as given.
        base: String,
        /// The repository.
        repo: PathBuf,
    },
    /// A merge, rebase, cherry-pick, revert or bisect is in progress.
    #[error("a {state} is in progress in {}; finish or abort it before starting a run", repo.display())]
    OperationInProgress {
        /// The operation.
        state: String,
        /// The repository.
        repo: PathBuf,
    },
    /// A path the run would create lies through a symbolic link.
    #[error("{} is a symbolic link{}; a run's worktree and files stay inside the repository's own storage", path.display(), target.as_ref().map(|t| format!(" to {}", t.display())).unwrap_or_default())]
    SymlinkedPath {
        /// The path.
        path: PathBuf,
        /// Where it points, when readable.
        target: Option<PathBuf>,
    },
    /// The parallelism gate refused the run.
    #[error("run `{run_id}` refused: {reason}")]
    Refused {
        /// The run.
        run_id: String,
        /// Why, naming the runs that hold the slots.
        reason: String,
    },
    /// Another executor runs this run.
    #[error("run `{run_id}` already has an executor: pid {} on {}{}", holder.pid, holder.hostname.as_deref().unwrap_or("an unknown host"), holder.label.as_deref().map(|l| format!(" ({l})")).unwrap_or_default())]
    ExecutorBusy {
        /// The run.
        run_id: String,
        /// The executor holding it.
        holder: Box<HolderIdentity>,
    },
    /// The run's workspace lease is held by a live holder.
    #[error("run `{run_id}`: its workspace lease is held by pid {} (fencing token {fencing_token})", holder.pid)]
    LeaseHeld {
        /// The run.
        run_id: String,
        /// The holder.
        holder: Box<HolderIdentity>,
        /// The holder's token.
        fencing_token: u64,
    },
    /// The run's record says something else owns the worktree or branch.
    #[error("run `{run_id}` cannot reattach: {problem}")]
    NotOwned {
        /// The run.
        run_id: String,
        /// What does not match.
        problem: String,
    },
    /// A branch or worktree the run would create already exists without a
    /// record of this run.
    #[error(
        "run `{run_id}`: {what} already exists and no record says this run owns it; pick another run id or remove it"
    )]
    Occupied {
        /// The run.
        run_id: String,
        /// The branch or path.
        what: String,
    },
    /// No port in the configured range was free.
    #[error("run `{run_id}`: no free port for `{name}` in {first}-{last}")]
    NoFreePort {
        /// The run.
        run_id: String,
        /// The port's name.
        name: String,
        /// First port of the range.
        first: u16,
        /// Last port of the range.
        last: u16,
    },
    /// A file to copy into the worktree cannot be copied.
    #[error("run `{run_id}`: cannot copy {file} into the worktree: {problem}")]
    CopyFile {
        /// The run.
        run_id: String,
        /// The file (repository-relative).
        file: String,
        /// Why.
        problem: String,
    },
    /// A claim (slot, lease, port) failed.
    #[error(transparent)]
    Claim(#[from] ClaimError),
    /// A lock failed.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// git or gix failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The run record could not be read or written.
    #[error("run record {}: {problem}", path.display())]
    Record {
        /// The record file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A directory could not be created.
    #[error("cannot create {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// An artifact write was refused or failed. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactWriteError {
    /// The path leaves the run directory.
    #[error("{} is outside run `{run_id}`'s directory {}; a run writes only under its own run directory", path.display(), run_dir.display())]
    OutsideRun {
        /// The path asked for.
        path: PathBuf,
        /// The run.
        run_id: String,
        /// Its directory.
        run_dir: PathBuf,
    },
    /// The path names state shared by every run of the project.
    #[error("{} is shared by every run of the project; a run never writes shared state (it changes through tidy, under the ledger's lock)", path.display())]
    SharedFile {
        /// The path asked for.
        path: PathBuf,
    },
    /// A component of the path is a symbolic link.
    #[error("{} is a symbolic link; run artifacts are never written through links", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// The relative path is not a plain path inside the run directory.
    #[error("`{given}` is not a path inside the run directory: {problem}")]
    BadPath {
        /// The path as given.
        given: String,
        /// Why.
        problem: String,
    },
    /// The writer's lease is no longer current (see FENCE-009).
    #[error(transparent)]
    Fenced(#[from] ClaimError),
    /// Creating a directory failed.
    #[error("cannot create {}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The atomic write failed.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Listing or cleaning runs failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InventoryError {
    /// The path is not a repository.
    #[error(transparent)]
    Open(#[from] StartError),
    /// git or gix failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// A claim could not be inspected.
    #[error(transparent)]
    Claim(#[from] ClaimError),
    /// The admin lock could not be taken.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A run record is unreadable.
    #[error("run record {}: {problem}", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// No record for this run id.
    #[error("no run `{run_id}` in {}", repo.display())]
    UnknownRun {
        /// The run id.
        run_id: String,
        /// The repository.
        repo: PathBuf,
    },
    /// A file operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}
