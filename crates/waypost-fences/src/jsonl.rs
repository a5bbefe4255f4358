//! An append-only JSON Lines log whose readers tolerate a torn final line.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use waypost_schemas::HolderIdentity;

use crate::identity::this_process;
use crate::lock::{LockError, LockFile};

// Invariant: FENCE-006 A log entry is either wholly in the log or not at all.
// Category: crash-safety
// Why: ledgers are project memory; a half-written entry read as a whole one is a lie,
//      and one that breaks every later read loses the whole log.
// Root cause: a writer can die in the middle of an append; two writers' appends can
//      interleave if they are not single writes to an O_APPEND file.
// Correct pattern: one write call per whole line (with its newline) under an exclusive
//      lock; readers ignore and report a final line without a newline; the next appender
//      cuts that torn tail off before it writes.
// Forbidden: writing an entry in pieces; rewriting the file to append; treating a bad
//      line in the middle as torn (that is corruption and is reported as such).
// Enforced by: JsonlLog::append and JsonlLog::read.

/// Largest log [`JsonlLog::read`] loads: 256 MiB.
pub const MAX_LOG_BYTES: u64 = 256 * 1024 * 1024;

/// An append-only JSON Lines file.
#[derive(Clone, Debug)]
pub struct JsonlLog {
    path: PathBuf,
    lock: LockFile,
    writer: HolderIdentity,
}

/// What a read found.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonlContents<T> {
    /// Every complete entry, in file order.
    pub entries: Vec<T>,
    /// A final line without its newline: an append that did not finish. It
    /// is not in `entries`.
    pub torn_tail: Option<TornTail>,
}

/// The unfinished final line of a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// Byte offset where it starts.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
}

/// The log could not be read or appended to.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonlError {
    /// A complete line (not the final torn one) is not a valid entry.
    #[error("{}:{line}: not a valid entry: {message}", path.display())]
    Corrupt {
        /// The log.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What the parser said.
        message: String,
    },
    /// An entry could not be turned into one line of JSON.
    #[error("{}: cannot serialize the entry: {message}", path.display())]
    Serialize {
        /// The log.
        path: PathBuf,
        /// What serde said.
        message: String,
    },
    /// The log's lock could not be taken.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The OS refused.
    #[error("{}: {source}", path.display())]
    Io {
        /// The log.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

/// What an append did besides appending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Appended {
    /// A torn tail left by a writer that died, cut off before this append.
    pub repaired: Option<TornTail>,
}

/// How long an appender waits for another appender.
const APPEND_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

impl JsonlLog {
    /// The log at `path`; `<path>.lock` serialises appenders.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let mut lock_name = path.as_os_str().to_owned();
        lock_name.push(".lock");
        Self {
            lock: LockFile::new(PathBuf::from(lock_name)),
            writer: this_process(Some("jsonl appender")),
            path,
        }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: io::Error) -> JsonlError {
        JsonlError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends `entry` as one line, in one write.
    pub fn append<T: Serialize>(&self, entry: &T) -> Result<Appended, JsonlError> {
        let line = self.line_of(entry)?;
        Ok(self.write_line(&line, |_| Ok(true))?.unwrap_or_default())
    }

    /// Appends `entry` only if `decide`, given every entry already in the
    /// log, says so; the check and the append happen under one lock, so no
    /// other appender can slip in between. `Ok(None)` when `decide` said no.
    pub fn append_if<E: Serialize, T: DeserializeOwned>(
        &self,
        entry: &E,
        decide: impl FnOnce(&[T]) -> bool,
    ) -> Result<Option<Appended>, JsonlError> {
        let line = self.line_of(entry)?;
        self.write_line(&line, |log| Ok(decide(&log.read::<T>()?.entries)))
    }

    fn line_of<T: Serialize>(&self, entry: &T) -> Result<Vec<u8>, JsonlError> {
        let mut line = serde_json::to_vec(entry).map_err(|e| JsonlError::Serialize {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        // serde_json escapes newlines inside strings, so compact output is
        // always one line; keep the check so a future change cannot break it.
        if line.contains(&b'\n') {
            return Err(JsonlError::Serialize {
                path: self.path.clone(),
                message: "the entry serialized to more than one line".into(),
            });
        }
        line.push(b'\n');
        Ok(line)
    }

    /// Under the append lock: cut a torn tail, ask `proceed`, write the line.
    fn write_line(
        &self,
        line: &[u8],
        proceed: impl FnOnce(&Self) -> Result<bool, JsonlError>,
    ) -> Result<Option<Appended>, JsonlError> {
        let _guard = self.lock.acquire(&self.writer, APPEND_LOCK_TIMEOUT)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        }
        let mut file =
            waypost_schemas::io::no_follow(OpenOptions::new().read(true).append(true).create(true))
                .open(&self.path)
                .map_err(|e| self.io(e))?;
        waypost_schemas::io::ensure_regular(&file, &self.path)
            .map_err(|e| self.io(io::Error::new(io::ErrorKind::InvalidInput, e.to_string())))?;
        let repaired = cut_torn_tail(&mut file).map_err(|e| self.io(e))?;
        if !proceed(self)? {
            return Ok(None);
        }
        file.write_all(line).map_err(|e| self.io(e))?;
        file.sync_data().map_err(|e| self.io(e))?;
        Ok(Some(Appended { repaired }))
    }

    /// Reads every complete entry. A missing file is an empty log.
    pub fn read<T: DeserializeOwned>(&self) -> Result<JsonlContents<T>, JsonlError> {
        // Never blocks on a FIFO, never reads through a link, never past
        // the cap.
        let bytes = match waypost_schemas::io::read_file(
            &self.path,
            MAX_LOG_BYTES,
            waypost_schemas::io::Links::Refuse,
        ) {
            Ok(bytes) => bytes,
            Err(waypost_schemas::io::ReadError::Io { source, .. })
                if source.kind() == io::ErrorKind::NotFound =>
            {
                Vec::new()
            }
            Err(e) => {
                return Err(self.io(io::Error::new(io::ErrorKind::InvalidInput, e.to_string())));
            }
        };
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let torn_tail = (complete < bytes.len()).then(|| TornTail {
            offset: complete as u64,
            len: (bytes.len() - complete) as u64,
        });
        let mut entries = Vec::new();
        for (index, line) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let entry = serde_json::from_slice(line).map_err(|e| JsonlError::Corrupt {
                path: self.path.clone(),
                line: index + 1,
                message: e.to_string(),
            })?;
            entries.push(entry);
        }
        Ok(JsonlContents { entries, torn_tail })
    }
}

/// Cuts a torn final line (one without its newline: an append that never
/// finished, so never acknowledged to anyone) off `file`, so the next append
/// starts a line; `Ok(None)` when the file ends with a newline or is empty.
///
/// Call it only while holding the log's append lock: another appender's
/// line in flight would look torn. `file` must be open for reading and
/// writing.
pub fn cut_torn_tail(file: &mut File) -> io::Result<Option<TornTail>> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(None);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(None);
    }
    // Find the start of the torn line: just after the last newline.
    let mut start = 0;
    let mut offset = 0u64;
    file.seek(SeekFrom::Start(0))?;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        if let Some(i) = buffer[..n].iter().rposition(|&b| b == b'\n') {
            start = offset + i as u64 + 1;
        }
        offset += n as u64;
    }
    file.set_len(start)?;
    Ok(Some(TornTail {
        offset: start,
        len: len - start,
    }))
}
