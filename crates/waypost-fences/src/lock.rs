//! Exclusive file locks between processes, over `fd-lock`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use waypost_schemas::HolderIdentity;

// Invariant: FENCE-001 At most one process holds a lock file, and a dead holder holds nothing.
// Category: concurrency
// Why: an executor or workspace lock that two processes both believe they hold lets two
//      agents write the same tree; one that outlives its holder stops all work.
// Root cause: a lock file can be unlinked and recreated between another process's open()
//      and flock(): that process then locks an orphaned inode while a third locks the new
//      file, and both "hold" the lock. A lock taken by writing a pid into a file survives
//      the holder's death.
// Correct pattern: an OS advisory lock (flock/LockFileEx via fd-lock) on an open file,
//      re-checked after locking: the path must still name the locked inode, else retry.
//      The kernel releases the lock when the holder's descriptor closes, also on SIGKILL.
// Forbidden: deleting a lock file on release or "cleanup" (it creates the race above);
//      pid files or O_EXCL marker files as locks; judging a lock stale by its age and
//      removing it.
// Enforced by: LockFile::try_acquire / LockFile::acquire; lock files are never removed.

/// Where a lock file is, and who is asking for it.
#[derive(Clone, Debug)]
pub struct LockFile {
    path: PathBuf,
}

/// A held lock. Dropping it releases the lock (the file stays in place).
#[derive(Debug)]
pub struct LockGuard {
    // Open for as long as the guard lives: closing it releases the OS lock.
    _open_file: File,
    path: PathBuf,
    holder: HolderIdentity,
}

/// A lock could not be taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Someone else held the lock for the whole timeout.
    #[error("timed out after {waited:?} waiting for the lock {}{}", path.display(), describe_holder(.holder.as_deref()))]
    Timeout {
        /// The lock file.
        path: PathBuf,
        /// How long it waited.
        waited: Duration,
        /// Who holds it, as far as the lock file says.
        holder: Option<Box<HolderIdentity>>,
    },
    /// The lock file could not be opened, locked or written.
    #[error("cannot use the lock file {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

fn describe_holder(holder: Option<&HolderIdentity>) -> String {
    match holder {
        Some(h) => format!(
            " (held by pid {} on {}{})",
            h.pid,
            h.hostname.as_deref().unwrap_or("an unknown host"),
            h.label
                .as_deref()
                .map(|l| format!(", {l}"))
                .unwrap_or_default()
        ),
        None => String::new(),
    }
}

impl LockFile {
    /// A lock at `path` (created on first use, never removed).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the lock if it is free right now; `Ok(None)` when another
    /// process holds it.
    pub fn try_acquire(&self, holder: &HolderIdentity) -> Result<Option<LockGuard>, LockError> {
        // A replaced lock file is retried a bounded number of times: each
        // retry means another process recreated it, which is rare.
        for _ in 0..16 {
            match self.attempt(holder)? {
                Attempt::Locked(guard) => return Ok(Some(guard)),
                Attempt::Busy => return Ok(None),
                Attempt::Replaced => continue,
            }
        }
        Ok(None)
    }

    /// Takes the lock, waiting up to `timeout` for the holder to let go.
    pub fn acquire(
        &self,
        holder: &HolderIdentity,
        timeout: Duration,
    ) -> Result<LockGuard, LockError> {
        let start = Instant::now();
        let mut pause = Duration::from_micros(50);
        loop {
            if let Some(guard) = self.try_acquire(holder)? {
                return Ok(guard);
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(LockError::Timeout {
                    path: self.path.clone(),
                    waited,
                    holder: self.holder().map(Box::new),
                });
            }
            thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// Who holds (or last held) the lock, as the lock file says. For
    /// diagnostics only: ownership is the OS lock, not this record.
    pub fn holder(&self) -> Option<HolderIdentity> {
        let text = waypost_schemas::io::read_text(
            &self.path,
            64 * 1024,
            waypost_schemas::io::Links::Refuse,
        )
        .ok()?;
        serde_json::from_str(&text).ok()
    }

    fn attempt(&self, holder: &HolderIdentity) -> Result<Attempt, LockError> {
        let io_err = |source| LockError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_err)?;
        }
        // Never through a link (it would write the holder record into
        // whatever file it names), never a FIFO or device.
        let file = waypost_schemas::io::no_follow(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
        )
        .open(&self.path)
        .map_err(io_err)?;
        waypost_schemas::io::ensure_regular(&file, &self.path)
            .map_err(|e| io_err(io::Error::new(io::ErrorKind::InvalidInput, e.to_string())))?;
        let mut lock = fd_lock::RwLock::new(file);
        match lock.try_write() {
            // Keep the OS lock after the guard goes: it lives as long as the
            // file is open, and closing the file (drop, exit, SIGKILL)
            // releases it.
            Ok(guard) => std::mem::forget(guard),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Attempt::Busy),
            Err(e) => return Err(io_err(e)),
        }
        let mut file = lock.into_inner();
        if !still_on_disk(&file, &self.path).map_err(io_err)? {
            return Ok(Attempt::Replaced);
        }
        write_holder(&mut file, holder).map_err(io_err)?;
        Ok(Attempt::Locked(LockGuard {
            _open_file: file,
            path: self.path.clone(),
            holder: holder.clone(),
        }))
    }
}

enum Attempt {
    Locked(LockGuard),
    Busy,
    Replaced,
}

/// Whether `path` still names the file we locked (same device and inode).
#[cfg(unix)]
fn still_on_disk(file: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let ours = file.metadata()?;
    match fs::metadata(path) {
        Ok(theirs) => Ok(ours.dev() == theirs.dev() && ours.ino() == theirs.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn still_on_disk(_file: &File, path: &Path) -> io::Result<bool> {
    // Windows does not let a locked, open file be replaced.
    Ok(path.exists())
}

/// Records who holds the lock, for people reading the file. One write.
fn write_holder(file: &mut File, holder: &HolderIdentity) -> io::Result<()> {
    let mut text = serde_json::to_vec(holder).map_err(io::Error::other)?;
    text.push(b'\n');
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&text)
}

impl LockGuard {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Who holds it: this process.
    pub fn holder(&self) -> &HolderIdentity {
        &self.holder
    }

    /// Releases the lock (same as dropping the guard).
    pub fn release(self) {
        drop(self);
    }
}
