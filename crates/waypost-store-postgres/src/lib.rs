//! # waypost-store-postgres
//!
//! waypost's coordination primitives on a shared PostgreSQL database, for
//! runs spread over several machines: the same traits as the file store of
//! one machine, so callers do not change.
//!
//! | trait | here | table |
//! |---|---|---|
//! | [`ClaimStore`](waypost_fences::ClaimStore) (claims, leases, slots, ports) | [`PgClaimStore`] | `claims` |
//! | fenced writes (FENCE-009) | [`PgClaimStore::run_fenced`](waypost_fences::ClaimStore::run_fenced), [`PgClaimStore::put_fenced`] | `fenced_values` |
//! | [`EnqueueStore`](waypost_fences::EnqueueStore) | [`PgQueue`] | `queue` |
//! | [`LedgerStore`](waypost_fences::LedgerStore) | [`PgLedgerStore`] | `ledger_entries` |
//!
//! ## Rules
//!
//! - **One transaction per operation.** A claim is one call of the
//!   `claim_key()` function, which locks the key's row, reads the
//!   database's clock and decides; a connection lost in the middle leaves
//!   the claim wholly granted or not at all.
//! - **The database's clock.** Every time in a record is the database's
//!   `clock_timestamp()`, and expiry is judged there; clients never send a
//!   time, so skew between hosts cannot make two holders. A holder on
//!   another host cannot be seen to have died, so a claim is taken over
//!   only when its lease ran out.
//! - **Fencing tokens** come from the row's counter: strictly increasing
//!   per key, kept on release; a trigger refuses a counter that goes back
//!   and the deletion of a claim row. A write with a stale token is refused
//!   by the database itself (`fence_check()`, and the trigger on
//!   `fenced_values`), SQLSTATE `WPF01`.
//! - **Reconnecting.** A lost connection (the server restarted, the
//!   session was terminated, the network dropped) is reopened with a
//!   doubling pause from 50 ms to 2 s, for at most the retry budget
//!   (30 s by default), and the operation runs again. Every operation is
//!   safe to run again: claiming a key one holds returns the same token,
//!   so no claim is granted twice.
//! - **Migrations** are embedded ([`SCHEMA_VERSION`]) and applied on
//!   connect, in one transaction under an advisory lock, recorded in
//!   `schema_version`. A database at a newer version is refused with
//!   [`StoreError::NewerSchema`]; nothing is ever downgraded.
//! - **TLS** is not built in. Connections are opened with `NoTls` unless
//!   [`PgOptions::connect`] supplies another connector (for example one
//!   built with `postgres-native-tls`).
//!
//! ```no_run
//! use std::time::Duration;
//! use waypost_fences::{ClaimOutcome, ClaimStore, Owner};
//! use waypost_store_postgres::{PgClaimStore, PgOptions, PgStore};
//!
//! let store = PgStore::connect("postgres://waypost@db.internal/waypost", PgOptions::default())?;
//! let leases = PgClaimStore::new(store, "demo/leases");
//! let me = Owner::new(Some("worker-1"));
//! if let ClaimOutcome::Claimed { fencing_token, .. } =
//!     leases.claim("workspace", &me, Duration::from_secs(30))?
//! {
//!     leases.put_fenced("workspace", fencing_token, "state", b"mine")?;
//!     leases.release("workspace", me.token())?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod claims;
mod connection;
mod error;
mod ledger;
mod queue;

pub use claims::{MAX_LEASE, PgClaimStore};
pub use connection::{
    ConnectFn, DEFAULT_RETRY_BUDGET, DEFAULT_SCHEMA, FIRST_BACKOFF, MAX_BACKOFF, Migrated,
    PgOptions, PgStore, SCHEMA_VERSION,
};
pub use error::StoreError;
pub use ledger::PgLedgerStore;
pub use queue::PgQueue;

impl PgStore {
    /// The claims of `namespace`.
    pub fn claims(&self, namespace: impl Into<String>) -> PgClaimStore {
        PgClaimStore::new(self.clone(), namespace)
    }

    /// The queue `namespace`.
    pub fn queue<T: serde::Serialize + serde::de::DeserializeOwned>(
        &self,
        namespace: impl Into<String>,
    ) -> PgQueue<T> {
        PgQueue::new(self.clone(), namespace)
    }

    /// The ledgers of `namespace`.
    pub fn ledgers(&self, namespace: impl Into<String>) -> PgLedgerStore {
        PgLedgerStore::new(self.clone(), namespace)
    }
}
