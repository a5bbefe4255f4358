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

use crate::compat::{self, Profile};
use crate::kind::{Artifact, ArtifactKind, DetectError, Kind};
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
    /// The path is not a regular file (a FIFO, socket, device or folder):
    /// reading it could block forever or never end.
    #[error("refusing to read {}: it is {kind}, not a regular file", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is: `a FIFO`, `a socket`, `a character device`, ...
        kind: &'static str,
    },
    /// The path is a symbolic link, and the read does not follow links.
    #[error("refusing to read {}: it is a symbolic link", path.display())]
    Symlink {
        /// The path.
        path: PathBuf,
    },
}

/// Whether a read follows a symbolic link at the last segment of its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// Follow it (the target must still be a regular file within the cap):
    /// for paths a person named.
    Follow,
    /// Refuse it: for files found in a repository, where a link can point
    /// anywhere (`/dev/zero`, another user's files).
    Refuse,
}

/// What a file's type is, in words, for [`ReadError::NotAFile`].
fn kind_of(file_type: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "not a regular file"
    }
}

// Invariant: SCHEMA-012 Reading a file never blocks, never follows a link it was told not to, and never allocates past its cap.
// Category: safety
// Why: repositories are untrusted input; a FIFO, a link to /dev/zero or a huge file
//      must not hang or exhaust a process that only wanted to read a small file.
// Enforced by: open_regular and open_regular_with (non-blocking open, O_NOFOLLOW for
//      Links::Refuse, fstat of the opened file) and read_file (the cap is checked before
//      and while reading).
/// Opens `path` for reading without blocking and refuses anything that is not
/// a regular file once opened (so a file swapped after a check is caught
/// too). Returns the file and its size.
pub fn open_regular(path: &Path, links: Links) -> Result<(File, u64), ReadError> {
    open_regular_with(path, links, |file| {
        let meta = file.metadata()?;
        Ok((meta.len(), meta.is_file()))
    })
}

/// [`open_regular`] for a caller that needs more of the opened file's
/// status than its size (git's stat data, say): `stat` reads it from the
/// open file (one `fstat` per file, not two) and says whether it is a
/// regular file; what it read is returned with the file.
pub fn open_regular_with<S>(
    path: &Path,
    links: Links,
    stat: impl FnOnce(&File) -> io::Result<(S, bool)>,
) -> Result<(File, S), ReadError> {
    let io_err = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = open_nonblocking(path, links).map_err(|e| {
        // Name what is there when the open itself was refused.
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() && links == Links::Refuse => {
                ReadError::Symlink {
                    path: path.to_owned(),
                }
            }
            Ok(meta) if !meta.is_file() && !meta.file_type().is_symlink() => ReadError::NotAFile {
                path: path.to_owned(),
                kind: kind_of(meta.file_type()),
            },
            _ => io_err(e),
        }
    })?;
    let (status, regular) = stat(&file).map_err(io_err)?;
    if !regular {
        let meta = file.metadata().map_err(io_err)?;
        return Err(ReadError::NotAFile {
            path: path.to_owned(),
            kind: kind_of(meta.file_type()),
        });
    }
    Ok((file, status))
}

#[cfg(unix)]
fn open_nonblocking(path: &Path, links: Links) -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    if links == Links::Refuse {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = rustix::fs::open(path, flags, Mode::empty())?;
    Ok(File::from(fd))
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path, links: Links) -> io::Result<File> {
    // No FIFOs or device files to fear here; links are refused by looking
    // first.
    if links == Links::Refuse && fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a symbolic link",
        ));
    }
    File::open(path)
}

/// Sets `options` so that opening never follows a symbolic link at the last
/// segment and never waits on a FIFO (Unix; elsewhere nothing changes).
/// Check the opened file with [`ensure_regular`] before trusting it.
pub fn no_follow(options: &mut fs::OpenOptions) -> &mut fs::OpenOptions {
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        let flags = (OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY).bits();
        options.custom_flags(i32::try_from(flags).expect("open flags fit in an int"));
    }
    options
}

/// Refuses an opened `file` at `path` that is not a regular file.
pub fn ensure_regular(file: &File, path: &Path) -> Result<(), ReadError> {
    let meta = file.metadata().map_err(|source| ReadError::Io {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_file() {
        Ok(())
    } else {
        Err(ReadError::NotAFile {
            path: path.to_owned(),
            kind: kind_of(meta.file_type()),
        })
    }
}

/// Reads all of the regular file at `path`, refusing it when it is larger
/// than `limit` bytes (checked before and while reading, so a file that
/// grows meanwhile is refused too), when it is not a regular file, or, with
/// [`Links::Refuse`], when it is a symbolic link.
pub fn read_file(path: &Path, limit: u64, links: Links) -> Result<Vec<u8>, ReadError> {
    let (file, size_hint) = open_regular(path, links)?;
    let too_large = || ReadError::TooLarge {
        path: path.to_owned(),
        limit,
    };
    if size_hint > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size_hint).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read_file`] as UTF-8 text; invalid UTF-8 is an [`ReadError::Io`] of
/// kind `InvalidData` naming the path.
pub fn read_text(path: &Path, limit: u64, links: Links) -> Result<String, ReadError> {
    String::from_utf8(read_file(path, limit, links)?).map_err(|_| ReadError::Io {
        path: path.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidData, "not valid UTF-8"),
    })
}

/// Largest configuration or manifest file waypost reads from a repository
/// (`waypost.toml`, `Cargo.toml`, `CODEOWNERS`, ignore files): 4 MiB.
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

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
    /// A sidecar beside the artifact does not belong to it.
    #[error("{}: {reason}", path.display())]
    Sidecar {
        /// The sidecar file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

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

// Invariant: SCHEMA-013 No temporary file outlives its writer for long.
// Category: crash-safety
// Why: a writer killed mid-write must not leave its temporary file behind: hundreds of
//      kills during large writes would pile up hundreds of megabytes nobody removes.
// Correct pattern: on Linux, write into an unnamed file (O_TMPFILE), give it a name
//      only when it is complete and synced, and rename that name over the target at
//      once; elsewhere (and where the file system refuses O_TMPFILE) a fixed,
//      recognisable name `.<name>.<pid>-<n>.waypost.tmp`. Every writer first removes
//      the temporary files of the same target whose process is gone.
// Forbidden: random temporary names nobody can tell apart from user files; removing a
//      temporary file of a process that is still alive.
// Enforced by: write_atomic (unnamed_temp, remove_stale_temps).
/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, write, fsync, rename over `path`, fsync the directory. On
/// error the temporary file is removed and `path` is untouched.
///
/// On Linux the data is written into an unnamed file (`O_TMPFILE`) that gets
/// a name only once it is complete, just before the rename, so a writer
/// killed while writing leaves nothing behind. Elsewhere, and on file systems
/// without `O_TMPFILE`, the temporary file is named
/// `.<file name>.<pid>-<n>.waypost.tmp`. Either way, each writer first
/// removes the temporary files of the same target left by processes that
/// are gone, so at most one per dead writer exists until the next write.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = parent_dir(path)?;
    let io_err = |step| step_error(path, step);
    remove_stale_temps(dir, path);
    let temp = temp_name(dir, path);
    #[cfg(target_os = "linux")]
    let written = match unnamed_temp(dir, bytes, &temp) {
        Ok(done) => done,
        Err(e) => return Err(io_err("writing the unnamed temporary file")(e)),
    };
    #[cfg(not(target_os = "linux"))]
    let written = false;
    if !written && let Err(e) = write_new(path, &temp, bytes) {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    if let Err(e) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(io_err("renaming into place")(e));
    }
    sync_dir(dir).map_err(io_err("syncing the directory"))?;
    Ok(())
}

/// Creates `temp` (which must not exist: nothing is written through a link
/// left there), writes `bytes` and syncs it; errors name `path`, the target.
fn write_new(path: &Path, temp: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let io_err = |step| step_error(path, step);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(io_err("creating the temporary file"))?;
    file.write_all(bytes).map_err(io_err("writing"))?;
    file.sync_all().map_err(io_err("syncing the file"))
}

/// A folder could not be created without going through a link.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirError {
    /// A component is a symbolic link.
    #[error("{} is a symbolic link{}; waypost never creates or writes through links", path.display(), target.as_ref().map(|t| format!(" to {}", t.display())).unwrap_or_default())]
    Symlink {
        /// The link.
        path: PathBuf,
        /// Where it points, when readable.
        target: Option<PathBuf>,
    },
    /// A component exists and is not a folder.
    #[error("{} exists and is not a folder", path.display())]
    NotADirectory {
        /// The component.
        path: PathBuf,
    },
    /// Creating or inspecting a component failed.
    #[error("cannot create {}: {source}", path.display())]
    Io {
        /// The component.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

/// Creates `base/below` one component at a time, refusing any component
/// of `below` that is a symbolic link or not a folder (`base` itself is
/// trusted). A component another process creates at the same moment is
/// fine.
pub fn create_dirs_below(base: &Path, below: &Path) -> Result<(), DirError> {
    let mut at = base.to_path_buf();
    for part in below.components() {
        at.push(part);
        match fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(DirError::Symlink {
                    target: fs::read_link(&at).ok(),
                    path: at,
                });
            }
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => return Err(DirError::NotADirectory { path: at }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&at) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(DirError::Io { path: at, source }),
            },
            Err(source) => return Err(DirError::Io { path: at, source }),
        }
    }
    Ok(())
}

/// The marker every named temporary file of [`write_atomic`] ends with.
const WAYPOST_TEMP_SUFFIX: &str = ".waypost.tmp";

/// `.<name>.<pid>-<n>.waypost.tmp` in `dir`: unique within this process.
fn temp_name(dir: &Path, path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(
        "{}{}-{n}{WAYPOST_TEMP_SUFFIX}",
        temp_prefix(path),
        std::process::id()
    ))
}

/// Writes `bytes` into an unnamed file in `dir`, syncs it and links it as
/// `temp`. `Ok(false)` when the file system has no unnamed files (the caller
/// then writes `temp` directly).
#[cfg(target_os = "linux")]
fn unnamed_temp(dir: &Path, bytes: &[u8], temp: &Path) -> io::Result<bool> {
    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use std::os::fd::AsRawFd;
    let fd = match rustix::fs::open(
        dir,
        OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    ) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::ISDIR | rustix::io::Errno::INVAL) => {
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    };
    let mut file = File::from(fd);
    file.write_all(bytes)?;
    file.sync_all()?;
    // Naming an unnamed file through /proc needs no privilege (AT_EMPTY_PATH does).
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    match rustix::fs::linkat(CWD, proc_path.as_str(), CWD, temp, AtFlags::SYMLINK_FOLLOW) {
        Ok(()) => Ok(true),
        // No /proc: write the named file instead.
        Err(rustix::io::Errno::NOENT) if !Path::new("/proc/self/fd").exists() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Removes the named temporary files of `path` in `dir` whose writer
/// process is gone. Errors are ignored: cleaning up is best effort.
fn remove_stale_temps(dir: &Path, path: &Path) {
    let prefix = temp_prefix(path);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(middle) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(WAYPOST_TEMP_SUFFIX))
        else {
            continue;
        };
        let Some(pid) = middle.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != me && writer_gone(pid, &entry) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether the writer of a temporary file is gone: on Linux, no process has
/// its id (an id can be reused: then the file waits for a later writer);
/// elsewhere, the file has not changed for an hour.
fn writer_gone(pid: u32, entry: &fs::DirEntry) -> bool {
    #[cfg(target_os = "linux")]
    {
        let _ = entry;
        !Path::new("/proc").join(pid.to_string()).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(3600))
    }
}

/// Like [`write_atomic`], for a caller that is the only writer of `path`
/// (it holds a lock that every writer of `path` takes): the temporary file has
/// a fixed name, `.<file name>.tmp`, so no random name is needed and a
/// temporary left by a writer that died is simply overwritten by the next one.
pub fn write_atomic_sole_writer(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = parent_dir(path)?;
    let io_err = |step| step_error(path, step);
    let temp = dir.join(format!("{}tmp", temp_prefix(path)));
    // Whatever a dead writer (or anyone) left under the fixed name goes
    // first, link or FIFO included (removing a link never follows it); then
    // the name is created afresh, so nothing is written through a link.
    match fs::remove_file(&temp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("removing a stale temporary file")(e)),
    }
    let result = write_new(path, &temp, bytes)
        .and_then(|()| fs::rename(&temp, path).map_err(io_err("renaming into place")));
    if let Err(e) = result {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
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

/// Reads all of `path` (a symlink is followed), refusing files larger than
/// `limit` bytes and anything that is not a regular file: [`read_file`] with
/// [`Links::Follow`].
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    read_file(path, limit, Links::Follow)
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
pub fn write_artifact<T: Artifact<Kind = ArtifactKind>>(
    path: &Path,
    artifact: &T,
) -> Result<(), WriteError> {
    validate::validate_artifact(artifact).map_err(|source| WriteError::Invalid {
        path: path.to_owned(),
        source,
    })?;
    create_parent(path)?;
    write_atomic(path, to_pretty_json(artifact).as_bytes())?;
    // A sidecar left by an earlier write in the Autopack profile would no
    // longer belong to this file.
    let stale = compat::sidecar_path(path);
    if !compat::is_sidecar(path) && fs::symlink_metadata(&stale).is_ok() {
        fs::remove_file(&stale).map_err(|source| WriteError::Io {
            path: stale.clone(),
            step: "removing the sidecar of an earlier write",
            source,
        })?;
    }
    Ok(())
}

/// Reads `path` as JSON, within [`MAX_ARTIFACT_BYTES`]. When a sidecar
/// of the Autopack profile lies beside it (`<name>.waypost.json`), the
/// sidecar is merged back, so the full artifact is returned; a sidecar of
/// another artifact (its recorded id is not the merged artifact's) is
/// refused.
pub fn read_json(path: &Path) -> Result<Value, LoadError> {
    let value = read_plain_json(path)?;
    let sidecar_path = compat::sidecar_path(path);
    if compat::is_sidecar(path) || !sidecar_path.exists() {
        return Ok(value);
    }
    // Only the Autopack-shaped kinds have sidecars; beside any other
    // artifact such a file is not read.
    let kind = match ArtifactKind::detect(&value) {
        Ok(kind) if compat::AUTOPACK_KINDS.contains(&kind) => kind,
        _ => return Ok(value),
    };
    let refused = |reason: String| LoadError::Sidecar {
        path: sidecar_path.clone(),
        reason,
    };
    let bytes = read_file(&sidecar_path, MAX_ARTIFACT_BYTES, Links::Refuse)?;
    let sidecar: compat::Sidecar = serde_json::from_slice(&bytes).map_err(|e| {
        refused(format!(
            "not a waypost sidecar: {}",
            crate::secrets::redact(&e.to_string())
        ))
    })?;
    let merged = compat::merge(kind, &value, &sidecar).map_err(|e| refused(e.to_string()))?;
    let id = crate::canonical::content_id(
        kind.facts().id_prefix,
        &crate::canonical::canonical_bytes(kind, &merged),
    );
    if id != sidecar.artifact_id {
        return Err(refused(format!(
            "it records artifact {}, but {} merged with it is {id}",
            sidecar.artifact_id,
            path.display()
        )));
    }
    // The sidecar may only hold what the profile takes out: profiling the
    // merged artifact again must give back this very file and sidecar, so
    // a sidecar cannot change a published field.
    let (again, expected) = compat::to_profile(kind, &merged, &id);
    if again != value || expected.changes != sidecar.changes {
        return Err(refused(format!(
            "it changes more than the Autopack profile left out of {}",
            path.display()
        )));
    }
    Ok(merged)
}

/// Reads `path` as JSON, within [`MAX_ARTIFACT_BYTES`], as it is.
fn read_plain_json(path: &Path) -> Result<Value, LoadError> {
    let bytes = read_bounded(path, MAX_ARTIFACT_BYTES)?;
    serde_json::from_slice(&bytes).map_err(|e| LoadError::Parse {
        path: path.to_owned(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })
}

/// Like [`write_artifact`], in `profile`: with [`Profile::Autopack`] the
/// artifact at `path` holds only the fields Autopack's published schema
/// names, and the rest goes to its sidecar (`<name>.waypost.json`, written
/// first), from which [`read_json`] restores it. Returns the sidecar's path
/// when one was written.
pub fn write_artifact_as<T: Artifact<Kind = ArtifactKind>>(
    path: &Path,
    artifact: &T,
    profile: Profile,
) -> Result<Option<PathBuf>, WriteError> {
    if profile == Profile::Waypost || !compat::AUTOPACK_KINDS.contains(&T::KIND) {
        write_artifact(path, artifact)?;
        return Ok(None);
    }
    validate::validate_artifact(artifact).map_err(|source| WriteError::Invalid {
        path: path.to_owned(),
        source,
    })?;
    if compat::is_sidecar(path) {
        return Err(WriteError::Io {
            path: path.to_owned(),
            step: "choosing the file name",
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                "names ending in .waypost.json are for sidecars",
            ),
        });
    }
    let (value, sidecar) = compat::to_profile(
        T::KIND,
        &crate::canonical::to_value(artifact),
        &artifact.content_id(),
    );
    create_parent(path)?;
    let sidecar_path = compat::sidecar_path(path);
    write_atomic(&sidecar_path, pretty(&sidecar).as_bytes())?;
    write_atomic(path, pretty(&value).as_bytes())?;
    Ok(Some(sidecar_path))
}

/// serde_json appends " at line L column C"; the error reports those itself.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Creates the missing parent folders of `path`.
fn create_parent(path: &Path) -> Result<(), WriteError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|source| WriteError::Io {
            path: path.to_owned(),
            step: "creating the parent directory",
            source,
        })?;
    }
    Ok(())
}

/// Pretty JSON of anything serializable, with a trailing newline.
fn pretty<T: serde::Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value)
        .expect("JSON values and sidecars serialize without fail");
    text.push('\n');
    text
}

/// Reads and validates an artifact of type `T`.
pub fn read_artifact<T: Artifact<Kind = ArtifactKind>>(path: &Path) -> Result<T, LoadError> {
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
