//! Idempotent enqueue: put an item in a store at most once per key, even when
//! several processes try at the same time.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::jsonl::{JsonlError, JsonlLog};

// Invariant: FENCE-007 Enqueueing the same key twice yields one item, and no caller
//      undoes work it did not do.
// Category: concurrency
// Why: duplicate jobs run twice; a "cleanup" after a conflict that deletes the other
//      caller's row loses its job.
// Root cause: the dual-unique-constraint race: two callers both see "absent", both
//      insert, one hits a unique constraint; or an insert conflicts on a second unique
//      field while the first lookup still sees nothing.
// Correct pattern: look up; if absent insert; on a conflict look up again and return
//      what is there; retry a bounded number of times; never delete on conflict.
// Forbidden: delete-then-insert; rolling back the conflicting row; unbounded retries.
// Enforced by: enqueue_once.

/// The result of an insert attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insert {
    /// The item was stored.
    Inserted,
    /// Another writer stored something that conflicts: look again.
    Conflict,
}

/// A store that can look items up by key and insert them if absent.
pub trait EnqueueStore {
    /// What is stored.
    type Item;
    /// What the store fails with.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The item stored under `key`, if any.
    fn find(&self, key: &str) -> Result<Option<Self::Item>, Self::Error>;

    /// Stores `item` under `key` unless something conflicts.
    fn insert(&self, key: &str, item: &Self::Item) -> Result<Insert, Self::Error>;
}

/// What enqueue did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enqueued<T> {
    /// This call stored the item.
    Inserted(T),
    /// The key was already there: the stored item is returned.
    Existing(T),
}

impl<T> Enqueued<T> {
    /// The item in the store, whoever put it there.
    pub fn into_item(self) -> T {
        match self {
            Self::Inserted(item) | Self::Existing(item) => item,
        }
    }
}

/// Enqueue failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnqueueError<E: std::error::Error + 'static> {
    /// Every attempt met a conflict and the key still could not be found.
    #[error(
        "enqueue `{key}`: {attempts} attempts met a conflict and found no item; the store keeps rejecting the key"
    )]
    Exhausted {
        /// The key.
        key: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The store failed.
    #[error("enqueue `{key}`: {source}")]
    Store {
        /// The key.
        key: String,
        /// The store's error.
        source: E,
    },
}

/// Default attempts before [`EnqueueError::Exhausted`].
pub const DEFAULT_ATTEMPTS: u32 = 5;

/// Puts `item` under `key` unless an item is already there; returns what the
/// store holds either way. Conflicts are retried up to `attempts` times.
pub fn enqueue_once<S: EnqueueStore>(
    store: &S,
    key: &str,
    item: S::Item,
    attempts: u32,
) -> Result<Enqueued<S::Item>, EnqueueError<S::Error>> {
    let store_err = |source| EnqueueError::Store {
        key: key.to_owned(),
        source,
    };
    for _ in 0..attempts.max(1) {
        if let Some(existing) = store.find(key).map_err(store_err)? {
            return Ok(Enqueued::Existing(existing));
        }
        match store.insert(key, &item).map_err(store_err)? {
            Insert::Inserted => return Ok(Enqueued::Inserted(item)),
            Insert::Conflict => continue,
        }
    }
    Err(EnqueueError::Exhausted {
        key: key.to_owned(),
        attempts: attempts.max(1),
    })
}

/// A local enqueue store: an append-only JSONL file of `{key, item}` lines.
/// Inserts check for the key under the log's append lock, so two processes
/// cannot both insert it.
pub struct JsonlQueue<T> {
    log: JsonlLog,
    _item: std::marker::PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for JsonlQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonlQueue")
            .field("path", &self.log.path())
            .finish()
    }
}

#[derive(serde::Deserialize)]
struct Line<T> {
    key: String,
    item: T,
}

#[derive(Serialize)]
struct LineRef<'a, T> {
    key: &'a str,
    item: &'a T,
}

impl<T: Serialize + DeserializeOwned> JsonlQueue<T> {
    /// The queue at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            log: JsonlLog::new(path),
            _item: std::marker::PhantomData,
        }
    }

    /// Every entry, in the order they were enqueued.
    pub fn entries(&self) -> Result<Vec<(String, T)>, JsonlError> {
        Ok(self
            .log
            .read::<Line<T>>()?
            .entries
            .into_iter()
            .map(|l| (l.key, l.item))
            .collect())
    }
}

impl<T: Serialize + DeserializeOwned> EnqueueStore for JsonlQueue<T> {
    type Item = T;
    type Error = JsonlError;

    fn find(&self, key: &str) -> Result<Option<T>, JsonlError> {
        Ok(self
            .log
            .read::<Line<T>>()?
            .entries
            .into_iter()
            .find(|l| l.key == key)
            .map(|l| l.item))
    }

    fn insert(&self, key: &str, item: &T) -> Result<Insert, JsonlError> {
        let mut conflict = false;
        self.log
            .append_if(&LineRef { key, item }, |existing: &[Line<T>]| {
                conflict = existing.iter().any(|l| l.key == key);
                !conflict
            })?;
        Ok(if conflict {
            Insert::Conflict
        } else {
            Insert::Inserted
        })
    }
}
