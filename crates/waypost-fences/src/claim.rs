//! Claims: leases with fencing tokens, decided by compare-and-set under an
//! exclusive file lock, with stale-holder recovery.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use waypost_schemas::io::{MAX_ARTIFACT_BYTES, ReadError, read_bounded, write_atomic_sole_writer};
use waypost_schemas::layout::{IdError, IdKind, check_id};
use waypost_schemas::validate::{ValidationError, validate};
use waypost_schemas::{ClaimRecordV1, FormatV1, HolderIdentity, Timestamp};

use crate::identity::{Liveness, liveness, this_process};
use crate::lock::{LockError, LockFile};

/// Who is claiming: this process's identity with its own owner token.
#[derive(Clone, Debug)]
pub struct Owner {
    identity: HolderIdentity,
}

impl Owner {
    /// This process as an owner, with a fresh random token and an optional
    /// label (a run id, a worker name) for diagnostics.
    pub fn new(label: Option<&str>) -> Self {
        Self {
            identity: this_process(label),
        }
    }

    /// An owner with a given identity (for stores that act for another
    /// process, and for tests).
    pub fn from_identity(identity: HolderIdentity) -> Self {
        Self { identity }
    }

    /// The secret that proves ownership on renew and release.
    pub fn token(&self) -> &str {
        &self.identity.owner_token
    }

    /// The full identity recorded in claims.
    pub fn identity(&self) -> &HolderIdentity {
        &self.identity
    }
}

/// The answer to a claim.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum ClaimOutcome {
    /// The caller holds the claim. Pass `fencing_token` along with every
    /// write made under the claim.
    Claimed {
        /// Strictly greater than every token handed out for this key before.
        fencing_token: u64,
        /// The stale holder this claim took over from, if any.
        took_over: Option<HolderIdentity>,
    },
    /// Someone else holds it.
    HeldBy {
        /// The holder.
        holder: HolderIdentity,
        /// The holder's fencing token.
        fencing_token: u64,
        /// When the holder's lease ends unless renewed (ms since the epoch).
        expires_at_unix_ms: Option<i64>,
    },
}

/// A claim operation failed. Nothing on disk was changed by the failed call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// The key cannot be used as a file name.
    #[error(transparent)]
    InvalidKey(#[from] IdError),
    /// The key's lock could not be taken.
    #[error("claim `{key}`: {source}")]
    Lock {
        /// The key.
        key: String,
        /// Why.
        source: LockError,
    },
    /// The claim file exists but is not a claim record: empty, truncated,
    /// not JSON, or invalid. It is left untouched for a person to inspect;
    /// waypost never deletes it, because the fencing counter inside must
    /// not go backwards.
    #[error("claim `{key}`: {} is not a valid claim record ({problem}); it was left in place: inspect it, then repair or remove it by hand", path.display())]
    Corrupt {
        /// The key.
        key: String,
        /// The claim file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The claim file was written by a newer format this version cannot read.
    #[error("claim `{key}`: {} has format_version {found}, this waypost reads v1; upgrade waypost", path.display())]
    UnsupportedVersion {
        /// The key.
        key: String,
        /// The claim file.
        path: PathBuf,
        /// The version found.
        found: String,
    },
    /// The caller's token does not hold the claim (released, expired and
    /// taken over, or never held).
    #[error("claim `{key}` is not held by this owner{}", match holder { Some(h) => format!(" (held by pid {} with another token)", h.pid), None => " (it is free)".to_owned() })]
    NotOwner {
        /// The key.
        key: String,
        /// Who holds it instead, if anyone.
        holder: Option<Box<HolderIdentity>>,
    },
    /// The key was taken over from stale holders too many times in a row
    /// without a clean release: something keeps dying while holding it.
    #[error(
        "claim `{key}`: reclaim budget exhausted after {takeovers} consecutive takeovers (budget {budget}); find out why its holders die, then release it by hand"
    )]
    ReclaimExhausted {
        /// The key.
        key: String,
        /// Consecutive takeovers so far.
        takeovers: u32,
        /// The store's budget.
        budget: u32,
    },
    /// A write was fenced with a token that is not the claim's current one:
    /// the writer's lease ended (released, expired, or taken over by a
    /// newer holder), so its write is refused.
    #[error("claim `{key}`: a write with fencing token {presented} was refused: {}", match current { Some(t) => format!("the lease is now held with token {t}"), None => "the lease is not held".to_owned() })]
    StaleToken {
        /// The key.
        key: String,
        /// The token the writer presented.
        presented: u64,
        /// The current holder's token, when someone holds the claim.
        current: Option<u64>,
    },
    /// The store behind the claims failed: a database that is down or
    /// refused the connection, a query that failed. Nothing was granted by
    /// the failed call (a store runs each operation as one transaction).
    #[error("claim `{key}`: {source}")]
    Store {
        /// The key.
        key: String,
        /// What the store said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Reading or writing the claim file failed.
    #[error("claim `{key}`: cannot {action} {}: {source}", path.display())]
    Io {
        /// The key.
        key: String,
        /// The file.
        path: PathBuf,
        /// `read` or `write`.
        action: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

/// Claims and leases behind one boundary, so a networked coordination
/// service (PostgreSQL row locks, etcd leases) can stand in for the local
/// file store without changing callers. Stores are `Debug` so that callers
/// holding one as `dyn ClaimStore` can still describe themselves.
pub trait ClaimStore: std::fmt::Debug {
    /// Claims `key` for `owner` with a lease of `lease`. Claiming a key the
    /// owner already holds renews it and returns the same token.
    fn claim(&self, key: &str, owner: &Owner, lease: Duration) -> Result<ClaimOutcome, ClaimError>;

    /// Extends the lease of a claim the token holds.
    fn renew(&self, key: &str, owner_token: &str) -> Result<ClaimRecordV1, ClaimError>;

    /// Gives up a claim the token holds. The fencing counter is kept.
    fn release(&self, key: &str, owner_token: &str) -> Result<ClaimRecordV1, ClaimError>;

    /// The current record of `key` (an unclaimed record if it was never claimed).
    fn inspect(&self, key: &str) -> Result<ClaimRecordV1, ClaimError>;

    /// Runs `write` only if `fencing_token` is the token of `key`'s live
    /// holder, and keeps claims, renewals and takeovers of `key` waiting
    /// until it returns; otherwise refuses with [`ClaimError::StaleToken`]
    /// without running it (FENCE-009). Use [`fenced`] for a closure that
    /// returns a value.
    fn run_fenced(
        &self,
        key: &str,
        fencing_token: u64,
        write: &mut dyn FnMut(),
    ) -> Result<(), ClaimError>;
}

/// [`ClaimStore::run_fenced`] for a closure that returns a value: runs
/// `write` under `key`'s fence if `fencing_token` is current and returns
/// what it returned.
pub fn fenced<S, T>(
    store: &S,
    key: &str,
    fencing_token: u64,
    write: impl FnOnce() -> T,
) -> Result<T, ClaimError>
where
    S: ClaimStore + ?Sized,
{
    let mut write = Some(write);
    let mut answer = None;
    store.run_fenced(key, fencing_token, &mut || {
        if let Some(write) = write.take() {
            answer = Some(write());
        }
    })?;
    Ok(answer.expect("a store that accepts the token runs the write once"))
}

/// The embedded default store: one JSON record and one lock file per key in
/// a directory, for processes on one machine.
///
/// `<dir>/<key>.claim.json` holds the [`ClaimRecordV1`] (written atomically);
/// `<dir>/<key>.claim.lock` serialises every read-decide-write on that key.
#[derive(Clone, Debug)]
pub struct FileClaimStore {
    dir: PathBuf,
    /// Who takes the per-key locks: this process (computed once).
    lock_holder: HolderIdentity,
    lock_timeout: Duration,
    reclaim_budget: u32,
}

/// Default time to wait for a key's lock: the critical section is a read
/// and an atomic write, so waiting longer means something is wrong.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Default number of consecutive takeovers allowed per key.
pub const DEFAULT_RECLAIM_BUDGET: u32 = 5;

impl FileClaimStore {
    /// A store in `dir` (created on first use).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            lock_holder: this_process(Some("claim store")),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            reclaim_budget: DEFAULT_RECLAIM_BUDGET,
        }
    }

    /// How long to wait for a key's lock.
    #[must_use]
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// How many consecutive takeovers of stale holders a key allows before
    /// claims fail with [`ClaimError::ReclaimExhausted`].
    #[must_use]
    pub fn with_reclaim_budget(mut self, budget: u32) -> Self {
        self.reclaim_budget = budget;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<dir>/<key>.claim.json`.
    pub fn record_path(&self, key: &str) -> Result<PathBuf, IdError> {
        check_id(IdKind::Claim, key)?;
        Ok(self.dir.join(format!("{key}.claim.json")))
    }

    /// Runs `decide` on the key's record under the key's lock and writes
    /// what it returns, if anything.
    fn locked<T>(
        &self,
        key: &str,
        decide: impl FnOnce(ClaimRecordV1, i64) -> Result<(Option<ClaimRecordV1>, T), ClaimError>,
    ) -> Result<T, ClaimError> {
        let path = self.record_path(key)?;
        let lock = LockFile::new(self.dir.join(format!("{key}.claim.lock")));
        let _guard = lock
            .acquire(&self.lock_holder, self.lock_timeout)
            .map_err(|source| ClaimError::Lock {
                key: key.to_owned(),
                source,
            })?;
        let record = read_record(key, &path)?;
        let (write, answer) = decide(record, now_ms())?;
        if let Some(record) = write {
            let text = serde_json::to_vec_pretty(&record).expect("claim records serialize");
            // Every writer of this record holds the key's lock, so the fixed
            // temporary name is safe, and one a killed writer left behind is
            // overwritten here.
            write_atomic_sole_writer(&path, &text).map_err(|e| ClaimError::Io {
                key: key.to_owned(),
                path: path.clone(),
                action: "write",
                source: io::Error::other(e.to_string()),
            })?;
        }
        Ok(answer)
    }
}

// Invariant: FENCE-009 A write fenced with an old token never lands after its successor's.
// Category: concurrency
// Why: a holder paused past its lease (SIGSTOP, swap, a long GC) wakes up still believing
//      it owns the workspace; its late writes would clobber what the new holder wrote.
// Root cause: checking the token and writing as two steps lets a takeover happen between
//      them; checking only in the writer's memory never sees the takeover at all.
// Correct pattern: the write runs under the key's lock after the record on disk says the
//      presented token is the current one and its lease is live; a takeover needs the same
//      lock, so it happens wholly before the check or wholly after the write.
// Forbidden: comparing against a token cached by the writer; writing first and checking
//      after; fencing by timestamps.
// Enforced by: FileClaimStore::fenced.
impl FileClaimStore {
    /// Runs `write` under `key`'s lock if `fencing_token` is the token of
    /// the claim's live holder; otherwise refuses with
    /// [`ClaimError::StaleToken`] and does not run it. Claims, renewals and
    /// takeovers of the key wait while `write` runs, so keep it short (one
    /// atomic file write).
    pub fn fenced<T>(
        &self,
        key: &str,
        fencing_token: u64,
        write: impl FnOnce() -> T,
    ) -> Result<T, ClaimError> {
        self.locked(key, |record, now| {
            let live = record.holder.is_some() && !is_stale(&record, now);
            if !live || record.fencing_token != fencing_token {
                return Err(ClaimError::StaleToken {
                    key: key.to_owned(),
                    presented: fencing_token,
                    current: live.then_some(record.fencing_token),
                });
            }
            Ok((None, write()))
        })
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn stamp(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms).expect("the system clock is within the supported date range")
}

/// Reads a key's record; a missing file is a never-claimed key.
fn read_record(key: &str, path: &Path) -> Result<ClaimRecordV1, ClaimError> {
    let bytes = match read_bounded(path, MAX_ARTIFACT_BYTES) {
        Ok(bytes) => bytes,
        Err(ReadError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            return Ok(ClaimRecordV1::unclaimed(key));
        }
        Err(ReadError::TooLarge { limit, .. }) => {
            return Err(corrupt(key, path, format!("larger than {limit} bytes")));
        }
        Err(ReadError::Io { source, .. }) => {
            return Err(ClaimError::Io {
                key: key.to_owned(),
                path: path.to_owned(),
                action: "read",
                source,
            });
        }
        Err(other) => return Err(corrupt(key, path, other.to_string())),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(corrupt(key, path, "the file is empty".into()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(key, path, format!("not JSON: {e}")))?;
    match value.get("format_version").and_then(|v| v.as_str()) {
        Some(FormatV1::VALUE) => {}
        Some(found) => {
            return Err(ClaimError::UnsupportedVersion {
                key: key.to_owned(),
                path: path.to_owned(),
                found: found.to_owned(),
            });
        }
        None => {}
    }
    let record: ClaimRecordV1 = validate(&value)
        .map_err(|e: ValidationError| corrupt(key, path, e.to_string().replace('\n', " ")))?;
    if record.key != key {
        return Err(corrupt(
            key,
            path,
            format!("it is the record of key `{}`", record.key),
        ));
    }
    Ok(record)
}

fn corrupt(key: &str, path: &Path, problem: String) -> ClaimError {
    ClaimError::Corrupt {
        key: key.to_owned(),
        path: path.to_owned(),
        problem,
    }
}

// Invariant: FENCE-002 At most one owner holds a claim at any instant.
// Category: concurrency
// Why: two agents that both believe they own a workspace or a task corrupt it.
// Root cause: check-then-act: reading "free" and writing "mine" as two steps lets a
//      second process read "free" in between.
// Correct pattern: read, decide and write under one exclusive OS lock per key; the write
//      is atomic, so a reader never sees a half-written record.
// Forbidden: optimistic "write then re-read to see who won"; O_EXCL marker files; a lock
//      held by one process while another writes the record.
// Enforced by: FileClaimStore::locked around every claim, renew and release.

// Invariant: FENCE-003 Fencing tokens strictly increase per key and never go backwards.
// Category: concurrency
// Why: a holder that stalled (GC pause, SIGSTOP, slow disk) may still write after its
//      claim was taken over; the token lets the receiver refuse the older writer.
// Root cause: leases end by the clock of the observer, not of the holder: a holder cannot
//      know it lost the lease.
// Correct pattern: increment the counter on every acquisition and takeover, keep it on
//      release, store it durably in the record, and pass it with every fenced write.
// Forbidden: deleting the record on release (the counter restarts at 1); resetting the
//      counter when repairing a file; using timestamps as tokens.
// Enforced by: claim() sets fencing_token = previous + 1; release() keeps it.

// Invariant: FENCE-004 A stale claim is taken over at once, and only within a budget.
// Category: concurrency
// Why: a holder that died must not block its key until a long lease runs out, and a key
//      whose holders keep dying must stop being handed out instead of looping forever.
// Root cause: a claim outlives its holder's process; blind retries turn a crash loop into
//      an endless takeover loop.
// Correct pattern: stale = lease expired by the duration stored in the record, or holder
//      on this host whose process is gone (no pid, zombie, reused pid by start time, or
//      another boot); each takeover counts; a clean release resets the count; past the
//      budget the claim fails with a structured error.
// Forbidden: judging expiry with the caller's lease duration; deleting the record of a
//      dead holder; unbounded takeover retries.
// Enforced by: is_stale and the reclaim budget in FileClaimStore::claim.

/// Whether the holder of `record` no longer counts.
fn is_stale(record: &ClaimRecordV1, now_ms: i64) -> bool {
    let Some(holder) = &record.holder else {
        return true;
    };
    if record.expires_at_unix_ms().is_some_and(|end| now_ms > end) {
        return true;
    }
    liveness(holder) == Liveness::Gone
}

/// Logs (info) a claim granted by taking over a stale holder, once the
/// store has recorded it: for [`ClaimStore`] implementations, so every
/// store says it the same way.
pub fn log_takeover(key: &str, outcome: &ClaimOutcome) {
    if let ClaimOutcome::Claimed {
        fencing_token,
        took_over: Some(stale),
    } = outcome
    {
        tracing::info!(
            key,
            stale_pid = stale.pid,
            stale_host = stale.hostname.as_deref().unwrap_or("?"),
            fencing_token,
            "took over a stale claim"
        );
    }
}

impl ClaimStore for FileClaimStore {
    fn claim(&self, key: &str, owner: &Owner, lease: Duration) -> Result<ClaimOutcome, ClaimError> {
        let budget = self.reclaim_budget;
        let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX);
        let outcome = self.locked(key, |mut record, now| {
            let took_over = match &record.holder {
                Some(holder) if holder.owner_token == owner.token() => {
                    // Already ours: renew, same token.
                    record.renewed_at = Some(stamp(now));
                    record.lease_duration_ms = lease_ms;
                    let token = record.fencing_token;
                    return Ok((
                        Some(record),
                        ClaimOutcome::Claimed {
                            fencing_token: token,
                            took_over: None,
                        },
                    ));
                }
                Some(holder) if !is_stale(&record, now) => {
                    let outcome = ClaimOutcome::HeldBy {
                        holder: holder.clone(),
                        fencing_token: record.fencing_token,
                        expires_at_unix_ms: record.expires_at_unix_ms(),
                    };
                    return Ok((None, outcome));
                }
                Some(stale) => {
                    if record.consecutive_takeovers >= budget {
                        return Err(ClaimError::ReclaimExhausted {
                            key: key.to_owned(),
                            takeovers: record.consecutive_takeovers,
                            budget,
                        });
                    }
                    Some(stale.clone())
                }
                None => None,
            };
            if took_over.is_some() {
                record.transitions += 1;
                record.consecutive_takeovers += 1;
            } else {
                record.consecutive_takeovers = 0;
            }
            record.fencing_token += 1;
            record.holder = Some(owner.identity.clone());
            record.acquired_at = Some(stamp(now));
            record.renewed_at = Some(stamp(now));
            record.lease_duration_ms = lease_ms;
            let token = record.fencing_token;
            Ok((
                Some(record),
                ClaimOutcome::Claimed {
                    fencing_token: token,
                    took_over,
                },
            ))
        })?;
        log_takeover(key, &outcome);
        Ok(outcome)
    }

    fn renew(&self, key: &str, owner_token: &str) -> Result<ClaimRecordV1, ClaimError> {
        self.locked(key, |mut record, now| {
            check_owner(key, &record, owner_token)?;
            record.renewed_at = Some(stamp(now));
            Ok((Some(record.clone()), record))
        })
    }

    fn release(&self, key: &str, owner_token: &str) -> Result<ClaimRecordV1, ClaimError> {
        self.locked(key, |mut record, now| {
            check_owner(key, &record, owner_token)?;
            record.holder = None;
            record.acquired_at = None;
            record.renewed_at = None;
            record.released_at = Some(stamp(now));
            record.consecutive_takeovers = 0;
            Ok((Some(record.clone()), record))
        })
    }

    fn inspect(&self, key: &str) -> Result<ClaimRecordV1, ClaimError> {
        read_record(key, &self.record_path(key)?)
    }

    fn run_fenced(
        &self,
        key: &str,
        fencing_token: u64,
        write: &mut dyn FnMut(),
    ) -> Result<(), ClaimError> {
        self.fenced(key, fencing_token, write)
    }
}

fn check_owner(key: &str, record: &ClaimRecordV1, owner_token: &str) -> Result<(), ClaimError> {
    match &record.holder {
        Some(holder) if holder.owner_token == owner_token => Ok(()),
        other => Err(ClaimError::NotOwner {
            key: key.to_owned(),
            holder: other.clone().map(Box::new),
        }),
    }
}
