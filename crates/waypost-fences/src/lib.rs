//! # waypost-fences
//!
//! Danger fences: one named, tested helper for each known coordination race,
//! and a registry ([`DANGER_FENCES`]) so people find the helper before they
//! write the race again.
//!
//! | fence | helper |
//! |---|---|
//! | FENCE-001 exclusive file lock | [`LockFile`] |
//! | FENCE-002 claim compare-and-set | [`FileClaimStore::claim`] |
//! | FENCE-003 fencing token | [`ClaimOutcome::Claimed`] |
//! | FENCE-004 stale recovery, reclaim budget | [`FileClaimStore`] |
//! | FENCE-005 heartbeat | [`Heartbeat`] |
//! | FENCE-006 append-only log | [`JsonlLog`] |
//! | FENCE-007 idempotent enqueue | [`enqueue_once`] |
//! | FENCE-008 atomic state file | [`write_atomic`] |
//! | FENCE-009 fenced write | [`FileClaimStore::fenced`], [`fenced`] |
//! | FENCE-010 chained ledger append | [`LedgerStore::append_chained`], [`check_chain`] |
//!
//! Claims sit behind [`ClaimStore`], queues behind [`EnqueueStore`] and
//! ledger appends behind [`LedgerStore`]: the files of one machine (OS
//! locks) are the embedded default; `waypost-store-postgres` implements the
//! same traits on a shared PostgreSQL database for runs spread over several
//! machines.
//!
//! ```
//! use std::time::Duration;
//! use waypost_fences::{ClaimOutcome, ClaimStore, FileClaimStore, Owner};
//!
//! let dir = tempfile::tempdir()?;
//! let store = FileClaimStore::new(dir.path());
//! let me = Owner::new(Some("worker-1"));
//! let ClaimOutcome::Claimed { fencing_token, .. } =
//!     store.claim("workspace", &me, Duration::from_secs(30))?
//! else {
//!     unreachable!("nobody else claims in this example")
//! };
//! assert_eq!(fencing_token, 1);
//! store.release("workspace", me.token())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod claim;
mod enqueue;
mod heartbeat;
pub mod identity;
mod jsonl;
mod ledger_store;
mod lock;
mod registry;

pub use claim::{
    ClaimError, ClaimOutcome, ClaimStore, DEFAULT_LOCK_TIMEOUT, DEFAULT_RECLAIM_BUDGET,
    FileClaimStore, Owner, fenced, log_takeover,
};
pub use enqueue::{
    DEFAULT_ATTEMPTS, EnqueueError, EnqueueStore, Enqueued, Insert, JsonlQueue, enqueue_once,
};
pub use heartbeat::{Heartbeat, HeartbeatEnd, MAX_CONSECUTIVE_FAILURES};
pub use jsonl::{
    Appended, JsonlContents, JsonlError, JsonlLog, MAX_LOG_BYTES, TornTail, cut_torn_tail,
};
pub use ledger_store::{LedgerStore, LedgerStoreError, check_chain};
pub use lock::{LockError, LockFile, LockGuard};
pub use registry::{DANGER_FENCES, DangerFence, fence};
// Invariant: FENCE-008 A state file is never seen half-written, even when its writer is killed.
// Category: crash-safety
// Why: claim records, leases and snapshots are read by other processes at any moment.
// Root cause: writing in place leaves a prefix of the new content when the writer dies.
// Correct pattern: temporary file in the same directory, fsync, rename, fsync the
//      directory (waypost_schemas::io, SCHEMA-005); the claim store, as the sole writer
//      under the key lock, reuses one temporary name so a killed writer leaves no litter.
// Forbidden: truncate-and-write in place; a temporary file in another directory.
// Enforced by: write_atomic and write_atomic_sole_writer, re-exported here.
/// FENCE-008: the atomic state-file write (temporary file in the same
/// directory, fsync, rename, fsync the directory).
pub use waypost_schemas::io::{write_atomic, write_atomic_sole_writer};
