//! Crash-safe writes and bounded reads, and artifact files built on them.
//!
//! A state file is written as a temporary file in the same directory, synced,
//! renamed over the target, and the directory synced: a crash leaves either
//! the old file or the new one, never a torn mix. Reads refuse files over a
//! size cap instead of loading them whole.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::kind::{Artifact, ArtifactKind, DetectError};
use crate::validate::{self, ValidationError};

/// Largest artifact file a reader accepts: 32 MiB. Artifacts are summaries
/// with redacted excerpts; a larger file is not one waypost wrote.
pub const MAX_ARTIFACT_BYTES: u64 = 32 * 1024 * 1024;

/// A file could not be written atomically. Nothing at `path` was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The target has no parent directory to hold the temporary file.
    #[error("cannot write {}: the path has no parent directory", path.display())]
    NoParent {
        /// The target.
        path: PathBuf,
    },
    /// An IO step failed.
    #[error("cannot write {}: {step} failed: {source}", path.display())]
    Io {
        /// The target.
        path: PathBuf,
        /// Which step: creating the temporary file, writing, syncing, renaming.
        step: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// The artifact does not conform to its schema; nothing was written.
    #[error("refusing to write {}: {source}", path.display())]
    Invalid {
        /// The target.
        path: PathBuf,
        /// What is wrong with the artifact.
        source: ValidationError,
    },
}

/// A file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The OS refused.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The file is larger than the cap.
    #[error("refusing to read {}: it is larger than the {limit}-byte limit", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap in bytes.
        limit: u64,
    },
}

/// An artifact file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The file is not JSON.
    #[error("{}:{line}:{column}: not valid JSON: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// The JSON is not recognisably an artifact.
    #[error("{}: {source}", path.display())]
    Detect {
        /// The file.
        path: PathBuf,
        /// Why the kind could not be told.
        source: DetectError,
    },
    /// The artifact does not conform.
    #[error("{}: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: ValidationError,
    },
}

const TEMP_SUFFIX: &str = ".tmp";

/// `.<file name>.`: the start of every temporary file made for `path`, so a
/// person can tell which file a leftover belongs to.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map_or_else(|| "waypost".into(), |n| n.to_string_lossy());
    format!(".{name}.")
}

// Invariant: SCHEMA-005 A state file is either the old version or the new one, and valid.
// Category: crash-safety
// Why: a reader after a crash must never see a torn file, and waypost must never write
//      a file it would refuse to read.
// Root cause: writing in place leaves a prefix of the new content when the process dies.
// Correct pattern: temporary file in the same directory, fsync, rename, fsync the
//      directory; validate before the first byte is written.
// Forbidden: truncate-and-write in place; a temporary file in another directory (the
//      rename is not atomic across file systems); skipping validation "for speed".
// Enforced by: write_atomic, write_atomic_sole_writer and write_artifact.
/// The directory a temporary file for `path` goes in (`.` for a bare name).
fn parent_dir(path: &Path) -> Result<&Path, WriteError> {
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Ok(Path::new(".")),
        Some(p) => Ok(p),
        None => Err(WriteError::NoParent {
            path: path.to_owned(),
        }),
    }
}

/// Maps an IO error of one write step to a [`WriteError`] naming `path`.
fn step_error<'a>(path: &'a Path, step: &'static str) -> impl Fn(io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        path: path.to_owned(),
        step,
        source,
    }
}

/// Writes `bytes` to `path` atomically: temporary file in the same directory,
/// write, fsync, rename over `path`, fsync the directory. On error the
/// temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = parent_dir(path)?;
    let io_err = |step| step_error(path, step);
    let mut temp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(io_err("creating the temporary file"))?;
    temp.write_all(bytes).map_err(io_err("writing"))?;
    temp.as_file()
        .sync_all()
        .map_err(io_err("syncing the file"))?;
    temp.persist(path)
        .map_err(|e| io_err("renaming into place")(e.error))?;
    sync_dir(dir).map_err(io_err("syncing the directory"))?;
    Ok(())
}

/// Like [`write_atomic`], for a caller that is the only writer of `path`
/// (it holds a lock that every writer of `path` takes): the temporary file has
/// a fixed name, `.<file name>.tmp`, so no random name is needed and a
/// temporary left by a writer that died is simply overwritten by the next one.
pub fn write_atomic_sole_writer(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = parent_dir(path)?;
    let io_err = |step| step_error(path, step);
    let temp = dir.join(format!("{}tmp", temp_prefix(path)));
    let mut file = File::create(&temp).map_err(io_err("creating the temporary file"))?;
    file.write_all(bytes).map_err(io_err("writing"))?;
    file.sync_all().map_err(io_err("syncing the file"))?;
    drop(file);
    fs::rename(&temp, path).map_err(io_err("renaming into place"))?;
    sync_dir(dir).map_err(io_err("syncing the directory"))?;
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Directories cannot be opened for syncing on this platform; the rename
    // is durable once the file system commits its metadata.
    Ok(())
}

/// Reads all of `path`, refusing files larger than `limit` bytes (checked
/// while reading, so a file that grows meanwhile is refused too).
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let io_err = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let too_large = || ReadError::TooLarge {
        path: path.to_owned(),
        limit,
    };
    let size_hint = file.metadata().map_err(io_err)?.len();
    if size_hint > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size_hint).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The pretty JSON text waypost writes for an artifact: struct field order,
/// sorted maps, two-space indent, trailing newline.
pub fn to_pretty_json<T: Artifact>(artifact: &T) -> String {
    let mut text = serde_json::to_string_pretty(artifact)
        .expect("artifact types serialize to JSON: string keys, no fallible Serialize impls");
    text.push('\n');
    text
}

/// Validates `artifact` and writes it to `path` atomically, creating missing
/// parent directories. An invalid artifact is refused before anything is
/// written.
pub fn write_artifact<T: Artifact>(path: &Path, artifact: &T) -> Result<(), WriteError> {
    validate::validate_artifact(artifact).map_err(|source| WriteError::Invalid {
        path: path.to_owned(),
        source,
    })?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|source| WriteError::Io {
            path: path.to_owned(),
            step: "creating the parent directory",
            source,
        })?;
    }
    write_atomic(path, to_pretty_json(artifact).as_bytes())
}

/// Reads `path` as JSON, within [`MAX_ARTIFACT_BYTES`].
pub fn read_json(path: &Path) -> Result<Value, LoadError> {
    let bytes = read_bounded(path, MAX_ARTIFACT_BYTES)?;
    serde_json::from_slice(&bytes).map_err(|e| LoadError::Parse {
        path: path.to_owned(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })
}

/// serde_json appends " at line L column C"; the error reports those itself.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Reads and validates an artifact of type `T`.
pub fn read_artifact<T: Artifact>(path: &Path) -> Result<T, LoadError> {
    let value = read_json(path)?;
    validate::validate::<T>(&value).map_err(|source| LoadError::Invalid {
        path: path.to_owned(),
        source,
    })
}

/// Reads `path`, tells its kind (or takes `kind`), and validates it.
/// Returns the kind and the JSON.
pub fn read_any(
    path: &Path,
    kind: Option<ArtifactKind>,
) -> Result<(ArtifactKind, Value), LoadError> {
    let value = read_json(path)?;
    let kind = match kind {
        Some(kind) => kind,
        None => ArtifactKind::detect(&value).map_err(|source| LoadError::Detect {
            path: path.to_owned(),
            source,
        })?,
    };
    validate::validate_value(kind, &value).map_err(|source| LoadError::Invalid {
        path: path.to_owned(),
        source,
    })?;
    Ok((kind, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("state.json");
        write_atomic(&path, b"one").expect("first write");
        write_atomic(&path, b"two").expect("second write");
        assert_eq!(fs::read(&path).expect("read back"), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec!["state.json"]);
    }

    #[test]
    fn atomic_write_into_a_missing_directory_names_the_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("missing").join("state.json");
        let err = write_atomic(&path, b"x").expect_err("no such directory");
        assert!(err.to_string().contains("missing/state.json"), "{err}");
    }

    #[test]
    fn bounded_read_refuses_one_byte_over_the_limit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("big.json");
        fs::write(&path, vec![b' '; 11]).expect("write");
        assert_eq!(read_bounded(&path, 11).expect("at the limit").len(), 11);
        let err = read_bounded(&path, 10).expect_err("over the limit");
        assert!(
            matches!(err, ReadError::TooLarge { limit: 10, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("big.json"), "{err}");
    }
}
