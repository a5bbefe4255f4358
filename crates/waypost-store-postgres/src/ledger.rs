//! Ledger appends on PostgreSQL: the chain checked inside the transaction,
//! by the client before it writes and by the database as it writes.

use waypost_fences::{LedgerStore, LedgerStoreError, check_chain};
use waypost_schemas::{LedgerEntryV1, LedgerName};

use crate::connection::PgStore;
use crate::error::StoreError;

/// The ledgers of one namespace (a project) in a [`PgStore`].
///
/// [`LedgerStore::append_chained`] runs in one transaction that first takes
/// a transaction-scoped advisory lock on the ledger, so appenders on every
/// host take turns; the new entries are checked with
/// [`check_chain`] against the head read in that transaction, and the
/// database's trigger checks each row again (sequence and `prev_hash`)
/// and refuses any update or delete.
#[derive(Clone, Debug)]
pub struct PgLedgerStore {
    store: PgStore,
    namespace: String,
}

impl PgLedgerStore {
    /// The ledgers of `namespace` in `store`.
    pub fn new(store: PgStore, namespace: impl Into<String>) -> Self {
        Self {
            store,
            namespace: namespace.into(),
        }
    }

    fn parse(
        &self,
        ledger: LedgerName,
        rows: &[postgres::Row],
    ) -> Result<Vec<LedgerEntryV1>, LedgerStoreError> {
        let entries = rows
            .iter()
            .map(|row| {
                serde_json::from_str::<LedgerEntryV1>(row.get(0)).map_err(|e| {
                    LedgerStoreError::Invalid {
                        ledger,
                        problem: format!(
                            "entry {} is not a ledger entry: {e}",
                            row.get::<_, i64>(1)
                        ),
                    }
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        check_chain(ledger, None, &entries).map_err(|e| LedgerStoreError::Invalid {
            ledger,
            problem: e.to_string(),
        })?;
        Ok(entries)
    }
}

const SELECT_ENTRIES: &str = "SELECT entry, sequence FROM ledger_entries WHERE namespace = $1 AND ledger = $2 ORDER BY sequence";

impl LedgerStore for PgLedgerStore {
    fn entries(&self, ledger: LedgerName) -> Result<Vec<LedgerEntryV1>, LedgerStoreError> {
        let rows = self
            .store
            .run("read a ledger", |conn| {
                let statement = conn.prepared(SELECT_ENTRIES)?;
                conn.client
                    .query(&statement, &[&self.namespace, &ledger.as_str()])
            })
            .map_err(|e| store_error(ledger, e))?;
        self.parse(ledger, &rows)
    }

    fn append_chained(
        &self,
        ledger: LedgerName,
        chain: &mut dyn FnMut(&[LedgerEntryV1]) -> Vec<LedgerEntryV1>,
    ) -> Result<Vec<LedgerEntryV1>, LedgerStoreError> {
        let mut refused = None;
        // Run again after a lost answer, the transaction re-reads the
        // ledger: entries that did land are there, and `chain` (which skips
        // entries already present) adds nothing twice.
        let appended = self
            .store
            .run("append to a ledger", |conn| {
                refused = None;
                let select = conn.prepared(SELECT_ENTRIES)?;
                let mut tx = conn.client.transaction()?;
                tx.execute(
                    "SELECT pg_advisory_xact_lock(hashtext($1))",
                    &[&format!("waypost-ledger:{}:{ledger}", self.namespace)],
                )?;
                let rows = tx.query(&select, &[&self.namespace, &ledger.as_str()])?;
                let existing = match self.parse(ledger, &rows) {
                    Ok(existing) => existing,
                    Err(e) => {
                        refused = Some(e);
                        return Ok(Vec::new());
                    }
                };
                let new = chain(&existing);
                if let Err(e) = check_chain(ledger, existing.last(), &new) {
                    refused = Some(e);
                    return Ok(Vec::new());
                }
                for entry in &new {
                    let text = serde_json::to_string(entry).expect("ledger entries serialize");
                    tx.execute(
                        "INSERT INTO ledger_entries (namespace, ledger, sequence, entry_id, prev_hash, hash, entry)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        &[
                            &self.namespace,
                            &ledger.as_str(),
                            &i64::try_from(entry.sequence).unwrap_or(i64::MAX),
                            &entry.entry_id,
                            &entry.prev_hash,
                            &entry.hash,
                            &text,
                        ],
                    )?;
                }
                tx.commit()?;
                Ok(new)
            })
            .map_err(|e| store_error(ledger, e))?;
        match refused {
            Some(e) => Err(e),
            None => Ok(appended),
        }
    }
}

fn store_error(ledger: LedgerName, error: StoreError) -> LedgerStoreError {
    LedgerStoreError::Store {
        ledger,
        source: Box::new(error),
    }
}
