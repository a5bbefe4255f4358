//! The repository runs start in, and where waypost keeps its coordination
//! state for it.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use waypost_fences::{ClaimStore, FileClaimStore};

use waypost_schemas::io::{
    DirError, Links, MAX_ARTIFACT_BYTES, create_dirs_below, read_file, write_atomic,
};
use waypost_schemas::layout::{IdKind, check_id};
use waypost_schemas::validate::validate;
use waypost_schemas::{RunRecordV1, io::to_pretty_json};

use crate::error::{GitError, StartError};
use crate::git;

/// The folder in the git common directory that holds waypost's
/// coordination state for parallel runs.
pub const COORDINATION_DIR: &str = "waypost";

/// A repository with a main working tree, opened for parallel runs.
///
/// Coordination state lives in the git common directory, shared by every
/// worktree of the repository and never part of any working tree:
///
/// ```text
/// <git common dir>/waypost/
///   admin.lock                 every write to the repository's shared state
///   claims/slots/              counted run slots (claims)
///   claims/leases/             one workspace lease per run (claims)
///   claims/ports/              one claim per leased TCP port
///   executors/<run_id>.lock    one executor lock per run
///   runs/<run_id>.json         what each run owns (RunRecordV1)
///   worktrees/<run_id>/        each run's git worktree
///   quarantine/<run_id>/       worktrees `runs gc` moved aside
/// ```
///
/// Worktrees sit there rather than inside the main working tree so that
/// scans, `git status`, editors and file watchers of the main checkout never
/// see them, and they go wherever the repository goes. Run artifacts do not:
/// they are written under the main working tree's run directory
/// (`RunLayout`), where every other waypost command reads them.
#[derive(Clone, Debug)]
pub struct Repository {
    root: PathBuf,
    common_dir: PathBuf,
    claim_stores: Arc<dyn ClaimStores>,
}

/// A claim store a run holds claims in, shared with its heartbeats.
pub type SharedClaimStore = Arc<dyn ClaimStore + Send + Sync>;

/// Where a repository's claims live: the run slots, the workspace leases,
/// the ports and the landings (`what` is `slots`, `leases`, `ports` or
/// `landings`). The default, [`FileClaimStores`], keeps them in files under
/// the git common directory (one machine); runs on several machines use a
/// shared store (the PostgreSQL store) through
/// [`Repository::with_claim_stores`].
pub trait ClaimStores: fmt::Debug + Send + Sync {
    /// The store of `what` for `repo`.
    fn store(&self, repo: &Repository, what: &str) -> Result<SharedClaimStore, StartError>;
}

/// Claims in `<git common dir>/waypost/claims/<what>/`, one file per key.
#[derive(Clone, Copy, Debug, Default)]
pub struct FileClaimStores;

impl ClaimStores for FileClaimStores {
    fn store(&self, repo: &Repository, what: &str) -> Result<SharedClaimStore, StartError> {
        let dir = repo.claims(what);
        repo.ensure_dir(&dir)?;
        Ok(Arc::new(FileClaimStore::new(dir)))
    }
}

impl Repository {
    /// Opens the repository whose main working tree (or one of whose linked
    /// worktrees) is at or above `path`.
    pub fn open(path: &Path) -> Result<Self, StartError> {
        let not_a_repo = |problem: String| StartError::NotARepository {
            path: path.to_owned(),
            problem,
        };
        let repo = git::open(path).map_err(|e| not_a_repo(e.to_string()))?;
        let main = if repo.git_dir() == repo.common_dir() {
            repo
        } else {
            repo.main_repo().map_err(|e| not_a_repo(e.to_string()))?
        };
        let workdir = main
            .workdir()
            .ok_or_else(|| not_a_repo("it is bare; runs need a main working tree".to_owned()))?;
        let root = fs::canonicalize(workdir).map_err(|e| not_a_repo(e.to_string()))?;
        let common_dir =
            fs::canonicalize(main.common_dir()).map_err(|e| not_a_repo(e.to_string()))?;
        Ok(Self {
            root,
            common_dir,
            claim_stores: Arc::new(FileClaimStores),
        })
    }

    /// This repository with its claims kept in `stores` instead of files.
    #[must_use]
    pub fn with_claim_stores(mut self, stores: Arc<dyn ClaimStores>) -> Self {
        self.claim_stores = stores;
        self
    }

    /// The store of `what` (`slots`, `leases`, `ports`, `landings`).
    pub fn claim_store(&self, what: &str) -> Result<SharedClaimStore, StartError> {
        self.claim_stores.store(self, what)
    }

    /// The main working tree's root (canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The git common directory (canonical).
    pub fn common_dir(&self) -> &Path {
        &self.common_dir
    }

    /// `<common dir>/waypost`.
    pub fn coordination_dir(&self) -> PathBuf {
        self.common_dir.join(COORDINATION_DIR)
    }

    pub(crate) fn gix(&self) -> Result<gix::Repository, GitError> {
        git::open(&self.root)
    }

    /// `<common>/waypost/admin.lock`.
    pub fn admin_lock(&self) -> waypost_fences::LockFile {
        waypost_fences::LockFile::new(self.coordination_dir().join("admin.lock"))
    }

    pub(crate) fn claims(&self, what: &str) -> PathBuf {
        self.coordination_dir().join("claims").join(what)
    }

    pub(crate) fn executor_lock(&self, run_id: &str) -> PathBuf {
        self.coordination_dir()
            .join("executors")
            .join(format!("{run_id}.lock"))
    }

    pub(crate) fn records_dir(&self) -> PathBuf {
        self.coordination_dir().join("runs")
    }

    pub(crate) fn record_path(&self, run_id: &str) -> PathBuf {
        self.records_dir().join(format!("{run_id}.json"))
    }

    /// Where run `run_id`'s worktree is created.
    pub fn worktree_path(&self, run_id: &str) -> Result<PathBuf, StartError> {
        check_id(IdKind::Run, run_id)?;
        Ok(self.coordination_dir().join("worktrees").join(run_id))
    }

    pub(crate) fn quarantine_path(&self, run_id: &str) -> PathBuf {
        self.coordination_dir().join("quarantine").join(run_id)
    }

    /// Creates `dir` and its parents below the common directory, refusing
    /// any that is a symbolic link (a link would put a worktree or lock
    /// outside the repository's storage).
    pub(crate) fn ensure_dir(&self, dir: &Path) -> Result<(), StartError> {
        let rel = dir
            .strip_prefix(&self.common_dir)
            .expect("coordination paths are built under the common directory");
        create_dirs_below(&self.common_dir, rel).map_err(|e| match e {
            DirError::Symlink { path, target } => StartError::SymlinkedPath { path, target },
            DirError::NotADirectory { path } => StartError::Io {
                path,
                source: std::io::Error::other("exists and is not a directory"),
            },
            DirError::Io { path, source } => StartError::Io { path, source },
            other => StartError::Io {
                path: dir.to_owned(),
                source: std::io::Error::other(other.to_string()),
            },
        })
    }

    /// Run `run_id`'s record, if it has one.
    pub fn record(&self, run_id: &str) -> Result<Option<RunRecordV1>, StartError> {
        check_id(IdKind::Run, run_id)?;
        read_record(&self.record_path(run_id))
    }

    /// Writes a run's record (atomically). Callers hold the admin lock.
    pub(crate) fn write_record(&self, record: &RunRecordV1) -> Result<(), StartError> {
        let path = self.record_path(&record.run_id);
        self.ensure_dir(&self.records_dir())?;
        write_atomic(&path, to_pretty_json(record).as_bytes()).map_err(|e| StartError::Record {
            path,
            problem: e.to_string(),
        })
    }
}

/// Reads a record file; a missing file is `None`.
pub(crate) fn read_record(path: &Path) -> Result<Option<RunRecordV1>, StartError> {
    let bytes = match read_file(path, MAX_ARTIFACT_BYTES, Links::Refuse) {
        Ok(bytes) => bytes,
        Err(waypost_schemas::io::ReadError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            return Ok(None);
        }
        Err(e) => {
            return Err(StartError::Record {
                path: path.to_owned(),
                problem: e.to_string(),
            });
        }
    };
    let problem = |problem: String| StartError::Record {
        path: path.to_owned(),
        problem,
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| problem(format!("not JSON: {e}")))?;
    let record: RunRecordV1 = validate(&value).map_err(|e| problem(e.to_string()))?;
    Ok(Some(record))
}
