//! Run-scoped artifact writes: only under the run directory, never through
//! a link, never shared state, and only while the run's lease is current.

use std::fs;
use std::path::{Component, Path, PathBuf};

use waypost_fences::fenced;
use waypost_schemas::io::{DirError, create_dirs_below, to_pretty_json, write_atomic};
use waypost_schemas::layout::{RUNS_ROOT, RunLayout};
use waypost_schemas::paths::RepoPath;
use waypost_schemas::{Artifact, ArtifactKind};

use crate::error::ArtifactWriteError;
use crate::repo::SharedClaimStore;

/// Files kept at project level and shared by every run: a run writing one
/// would change what every other run reads.
pub const SHARED_FILE_NAMES: &[&str] = &[
    "baseline.json",
    "waypost-baseline.json",
    "retry.json",
    "retries.json",
    "retry_state.json",
];

// Invariant: PARALLEL-002 A run writes only under its own run directory, and only while its lease is current.
// Category: filesystem
// Why: parallel runs that share a baseline, a retry file or each other's folders overwrite
//      each other's evidence; a resumed stale run clobbers its successor's.
// Correct pattern: every write goes through ArtifactWriter: the path is resolved against
//      the run directory (RunLayout), each existing component is checked not to be a link,
//      shared file names are refused, and the atomic write runs as a fenced write under the
//      workspace lease (FENCE-009).
// Forbidden: joining run paths by hand; following links inside a run directory; writing
//      shared project files from a run.
// Enforced by: ArtifactWriter::write and ArtifactWriter::write_at.
/// Writes a run's artifacts, fenced by its workspace lease.
#[derive(Debug, Clone)]
pub struct ArtifactWriter {
    layout: RunLayout,
    run_dir: PathBuf,
    leases: SharedClaimStore,
    lease_key: String,
    fencing_token: u64,
}

impl ArtifactWriter {
    /// A writer for `layout`'s run, fenced by `fencing_token` on the lease
    /// `lease_key` in `leases`.
    pub fn new(
        layout: RunLayout,
        leases: SharedClaimStore,
        lease_key: &str,
        fencing_token: u64,
    ) -> Self {
        let run_dir = layout.run_dir();
        Self {
            layout,
            run_dir,
            leases,
            lease_key: lease_key.to_owned(),
            fencing_token,
        }
    }

    /// The run's layout.
    pub fn layout(&self) -> &RunLayout {
        &self.layout
    }

    /// The fencing token every write presents.
    pub fn fencing_token(&self) -> u64 {
        self.fencing_token
    }

    /// Writes `bytes` to `relative` (a plain path inside the run directory,
    /// e.g. `logs/build.txt`) and returns the full path.
    pub fn write(&self, relative: &str, bytes: &[u8]) -> Result<PathBuf, ArtifactWriteError> {
        let bad = |problem: String| ArtifactWriteError::BadPath {
            given: relative.to_owned(),
            problem,
        };
        let path = RepoPath::new(relative).map_err(|e| bad(e.to_string()))?;
        if path.as_str() != relative {
            return Err(bad(format!(
                "write it as the plain path `{}`",
                path.as_str()
            )));
        }
        let full = path.under(&self.run_dir);
        self.write_at(&full, bytes)?;
        Ok(full)
    }

    /// Writes `artifact` to its place in the run directory (one-per-run
    /// kinds; `id` for one-per-id kinds) and returns the path.
    pub fn write_artifact<T: Artifact<Kind = ArtifactKind>>(
        &self,
        artifact: &T,
        id: Option<&str>,
    ) -> Result<PathBuf, ArtifactWriteError> {
        let path = match id {
            None => self.layout.run_file(T::KIND),
            Some(id) => self.layout.id_file(T::KIND, id).transpose().map_err(|e| {
                ArtifactWriteError::BadPath {
                    given: id.to_owned(),
                    problem: e.to_string(),
                }
            })?,
        };
        let path = path.ok_or_else(|| ArtifactWriteError::BadPath {
            given: T::NAME.to_owned(),
            problem: "this kind is not kept in a run directory".to_owned(),
        })?;
        self.write_at(&path, to_pretty_json(artifact).as_bytes())?;
        Ok(path)
    }

    /// Writes `bytes` at `path`, which must lie inside the run directory.
    pub fn write_at(&self, path: &Path, bytes: &[u8]) -> Result<(), ArtifactWriteError> {
        let inside = lexical_inside(path, &self.run_dir);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some(relative) = inside else {
            let project_dir = self.layout.project_dir();
            let shared = lexical_inside(path, &project_dir).is_some()
                || lexical_inside(path, &self.layout.root().join(RUNS_ROOT)).is_some()
                || SHARED_FILE_NAMES.contains(&name);
            return Err(if shared {
                ArtifactWriteError::SharedFile {
                    path: path.to_owned(),
                }
            } else {
                ArtifactWriteError::OutsideRun {
                    path: path.to_owned(),
                    run_id: self.layout.run_id().to_owned(),
                    run_dir: self.run_dir.clone(),
                }
            });
        };
        if SHARED_FILE_NAMES.contains(&name) && relative.components().count() == 1 {
            // `<run dir>/baseline.json` is where tools look for the shared
            // one when handed a run directory by mistake.
            return Err(ArtifactWriteError::SharedFile {
                path: path.to_owned(),
            });
        }
        self.prepare_dirs(&relative)?;
        let full = self.run_dir.join(&relative);
        if fs::symlink_metadata(&full).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(ArtifactWriteError::Symlink { path: full });
        }
        fenced(&*self.leases, &self.lease_key, self.fencing_token, || {
            write_atomic(&full, bytes)
        })??;
        Ok(())
    }

    /// Checks every existing ancestor from the repository root down to the
    /// file's folder is a real directory, creating the missing ones.
    fn prepare_dirs(&self, relative: &Path) -> Result<(), ArtifactWriteError> {
        let root = self.layout.root();
        let below = self
            .run_dir
            .strip_prefix(root)
            .expect("the run directory is under the layout root")
            .join(relative.parent().unwrap_or(Path::new("")));
        create_dirs_below(root, &below).map_err(|e| match e {
            DirError::Symlink { path, .. } => ArtifactWriteError::Symlink { path },
            DirError::Io { path, source } => ArtifactWriteError::Io { path, source },
            other => ArtifactWriteError::Io {
                path: root.join(&below),
                source: std::io::Error::other(other.to_string()),
            },
        })
    }
}

/// `path` relative to `dir` when it lies inside it, judged on the
/// components alone (`..` resolved lexically; a path that climbs out is
/// outside); `None` otherwise or when it is `dir` itself.
fn lexical_inside(path: &Path, dir: &Path) -> Option<PathBuf> {
    let mut normal = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                if !normal.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => normal.push(other),
        }
    }
    let relative = normal.strip_prefix(dir).ok()?;
    (relative.components().next().is_some()).then(|| relative.to_path_buf())
}
