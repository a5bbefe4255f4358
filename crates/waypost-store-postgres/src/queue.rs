//! The idempotent queue on PostgreSQL: one row per key.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use waypost_fences::{EnqueueStore, Insert};

use crate::connection::PgStore;
use crate::error::StoreError;

/// Items of one namespace, stored once per key: an [`EnqueueStore`] for
/// [`waypost_fences::enqueue_once`]. The primary key on (namespace, key)
/// decides a race; an insert that meets it is a [`Insert::Conflict`] and
/// nothing is ever deleted.
pub struct PgQueue<T> {
    store: PgStore,
    namespace: String,
    _item: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for PgQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgQueue")
            .field("store", &self.store)
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl<T> Clone for PgQueue<T> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            namespace: self.namespace.clone(),
            _item: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> PgQueue<T> {
    /// The queue `namespace` of `store`.
    pub fn new(store: PgStore, namespace: impl Into<String>) -> Self {
        Self {
            store,
            namespace: namespace.into(),
            _item: PhantomData,
        }
    }

    /// Every entry, in the order they were enqueued.
    pub fn entries(&self) -> Result<Vec<(String, T)>, StoreError> {
        let rows = self.store.run("list the queue", |conn| {
            let statement = conn.prepared(
                "SELECT key, item::text FROM queue WHERE namespace = $1 ORDER BY enqueued_at, key",
            )?;
            conn.client.query(&statement, &[&self.namespace])
        })?;
        rows.iter()
            .map(|row| Ok((row.get(0), self.item(row.get(1))?)))
            .collect()
    }

    fn item(&self, text: &str) -> Result<T, StoreError> {
        serde_json::from_str(text).map_err(|e| self.store.corrupt("queue item", e.to_string()))
    }
}

impl<T: Serialize + DeserializeOwned> EnqueueStore for PgQueue<T> {
    type Item = T;
    type Error = StoreError;

    fn find(&self, key: &str) -> Result<Option<T>, StoreError> {
        let row = self.store.run("look up a queue item", |conn| {
            let statement =
                conn.prepared("SELECT item::text FROM queue WHERE namespace = $1 AND key = $2")?;
            conn.client.query_opt(&statement, &[&self.namespace, &key])
        })?;
        row.map(|row| self.item(row.get(0))).transpose()
    }

    fn insert(&self, key: &str, item: &T) -> Result<Insert, StoreError> {
        let text = serde_json::to_string(item)
            .map_err(|e| self.store.corrupt("queue item to store", e.to_string()))?;
        // Run again after a lost answer, an insert that did land reads as a
        // conflict, and enqueue_once then finds and returns the stored item.
        let inserted = self.store.run("enqueue", |conn| {
            let statement = conn.prepared(
                "INSERT INTO queue (namespace, key, item) VALUES ($1, $2, $3::text::jsonb)
                 ON CONFLICT DO NOTHING",
            )?;
            conn.client
                .execute(&statement, &[&self.namespace, &key, &text])
        })?;
        Ok(if inserted == 1 {
            Insert::Inserted
        } else {
            Insert::Conflict
        })
    }
}
