//! A schema of its own per test on the server `WAYPOST_TEST_PG` names.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use postgres::{Client, NoTls};
use waypost_store_postgres::{PgOptions, PgStore};

/// The test server's URL, or `None` after saying why the test is skipped.
pub(crate) fn pg_url(test: &str) -> Option<String> {
    match std::env::var("WAYPOST_TEST_PG") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "skipped {test}: WAYPOST_TEST_PG is not set (run `cargo xtask with-postgres -- cargo test -p waypost-store-postgres`)"
            );
            None
        }
    }
}

/// A fresh schema name, unique across the processes of a test run.
pub(crate) fn fresh_schema(test: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let mut random = [0u8; 4];
    getrandom::fill(&mut random).expect("random bytes");
    let short: String = test
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(20)
        .collect::<String>()
        .to_ascii_lowercase();
    format!(
        "t_{short}_{}_{}_{:08x}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        u32::from_le_bytes(random)
    )
}

/// Tests share the server; the one that restarts it waits for the others
/// and keeps them waiting (raw clients in tests do not reconnect).
static SERVER: RwLock<()> = RwLock::new(());

/// Exclusive use of the test server (for restarting it).
pub(crate) fn exclusive() -> RwLockWriteGuard<'static, ()> {
    SERVER.write().unwrap_or_else(PoisonError::into_inner)
}

/// A store in a schema of its own, dropped with it.
#[derive(Debug)]
pub(crate) struct TestDb {
    pub(crate) url: String,
    pub(crate) schema: String,
    pub(crate) store: PgStore,
    _shared: Option<RwLockReadGuard<'static, ()>>,
}

impl TestDb {
    /// A fresh schema on the test server, or `None` (skipped) without one.
    pub(crate) fn new(test: &str) -> Option<Self> {
        let url = pg_url(test)?;
        let shared = SERVER.read().unwrap_or_else(PoisonError::into_inner);
        let mut db = Self::unguarded(&url, test);
        db._shared = Some(shared);
        Some(db)
    }

    /// A fresh schema without taking a share of the server (the caller
    /// holds [`exclusive`]).
    pub(crate) fn unguarded(url: &str, test: &str) -> Self {
        let schema = fresh_schema(test);
        let store = PgStore::connect(url, options(&schema)).expect("connect to the test server");
        Self {
            url: url.to_owned(),
            schema,
            store,
            _shared: None,
        }
    }

    /// A plain client on the same server with the schema on its path.
    pub(crate) fn client(&self) -> Client {
        let mut client = Client::connect(&self.url, NoTls).expect("connect");
        client
            .batch_execute(&format!("SET search_path TO \"{}\"", self.schema))
            .expect("search path");
        client
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut client) = Client::connect(&self.url, NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                self.schema
            ));
        }
    }
}

/// The options tests connect with: their schema, a retry budget that
/// outlasts a server restart.
pub(crate) fn options(schema: &str) -> PgOptions {
    PgOptions::default()
        .with_schema(schema)
        .with_retry_budget(Duration::from_secs(60))
}

/// Whether the full-size stress tests run (`WAYPOST_STRESS=full`).
pub(crate) fn full() -> bool {
    std::env::var("WAYPOST_STRESS").is_ok_and(|v| v == "full")
}
