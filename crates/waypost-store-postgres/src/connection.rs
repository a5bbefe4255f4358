//! The connection to the store: the URL, the schema, reconnecting with a
//! bounded backoff, and the embedded migrations applied on connect.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use postgres::config::Host;
use postgres::{Client, Config, NoTls, Statement};

use crate::error::StoreError;

/// Opens one connection for a parsed configuration. The default is
/// `config.connect(NoTls)`; pass another to use TLS (for example
/// `postgres-native-tls` or `postgres-openssl`), which waypost does not
/// build in.
pub type ConnectFn = dyn Fn(&Config) -> Result<Client, postgres::Error> + Send + Sync;

/// The schema every table lives in unless told otherwise.
pub const DEFAULT_SCHEMA: &str = "waypost";

/// How long an operation keeps reconnecting before it fails with
/// [`StoreError::Unavailable`], unless told otherwise.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(30);

/// The first pause between reconnection attempts; it doubles up to
/// [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(50);

/// The longest pause between reconnection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How the store connects.
#[derive(Clone)]
pub struct PgOptions {
    /// The schema that holds waypost's tables ([`DEFAULT_SCHEMA`]): one
    /// database can hold several independent stores.
    pub schema: String,
    /// How long one operation keeps reconnecting ([`DEFAULT_RETRY_BUDGET`]).
    pub retry_budget: Duration,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
    /// How connections are opened (`None`: without TLS).
    pub connect: Option<Arc<ConnectFn>>,
}

impl fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgOptions")
            .field("schema", &self.schema)
            .field("retry_budget", &self.retry_budget)
            .field("connect_timeout", &self.connect_timeout)
            .field("connect", &self.connect.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            schema: DEFAULT_SCHEMA.to_owned(),
            retry_budget: DEFAULT_RETRY_BUDGET,
            connect_timeout: Duration::from_secs(5),
            connect: None,
        }
    }
}

impl PgOptions {
    /// These options with `schema`.
    #[must_use]
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// These options with a retry budget.
    #[must_use]
    pub fn with_retry_budget(mut self, budget: Duration) -> Self {
        self.retry_budget = budget;
        self
    }
}

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i32 = 1;

/// The migrations, oldest first: version, description, SQL.
const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "coordination state: claims, fenced values, queue, ledgers",
    include_str!("../migrations/0001_coordination.sql"),
)];

/// A handle on one PostgreSQL store (one database and schema). Cheap to
/// clone: clones share one connection, which every operation takes in
/// turn. Each operation is one transaction; when the connection is lost
/// the operation reconnects with a doubling pause (from [`FIRST_BACKOFF`]
/// to [`MAX_BACKOFF`]) for at most the retry budget, and runs again.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    target: String,
    schema: String,
    retry_budget: Duration,
    connect: Arc<ConnectFn>,
    conn: Mutex<Option<Conn>>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("target", &self.inner.target)
            .field("schema", &self.inner.schema)
            .finish_non_exhaustive()
    }
}

/// One open connection and the statements prepared on it.
pub(crate) struct Conn {
    pub(crate) client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// `sql` prepared on this connection (once).
    pub(crate) fn prepared(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }
}

/// What [`PgStore::migrate`] found and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migrated {
    /// The schema version before.
    pub from: i32,
    /// The schema version now.
    pub to: i32,
}

impl PgStore {
    /// Connects to the store at `url` (`postgres://user@host:port/db`),
    /// creates its schema and applies the migrations it lacks. Fails with a
    /// clear error for a URL that cannot be used, a server that stays
    /// unreachable for the retry budget, or a schema newer than this build.
    pub fn connect(url: &str, options: PgOptions) -> Result<Self, StoreError> {
        let config = Config::from_str(url).map_err(|e| StoreError::BadUrl {
            url: redact(url),
            problem: e.to_string(),
        })?;
        if config.get_hosts().is_empty() {
            return Err(StoreError::BadUrl {
                url: redact(url),
                problem: "it names no host (write postgres://USER@HOST:PORT/DATABASE)".to_owned(),
            });
        }
        if !valid_schema(&options.schema) {
            return Err(StoreError::BadSchema {
                schema: options.schema,
            });
        }
        let mut config = config;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("waypost");
        }
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(10));
        let target = target_of(&config);
        let store = Self {
            inner: Arc::new(Inner {
                config,
                target,
                schema: options.schema,
                retry_budget: options.retry_budget,
                connect: options
                    .connect
                    .unwrap_or_else(|| Arc::new(|config: &Config| config.connect(NoTls))),
                conn: Mutex::new(None),
            }),
        };
        store.run("connect", |_| Ok(()))?;
        Ok(store)
    }

    /// `user@host:port/database` (never the password).
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// The schema that holds the tables.
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    /// Applies the migrations the schema lacks (connecting does this too)
    /// and says which versions it went between.
    pub fn migrate(&self) -> Result<Migrated, StoreError> {
        let mut conn = self.lock();
        *conn = None;
        let (client, migrated) = self.open(self.inner.retry_budget)?;
        *conn = Some(client);
        Ok(migrated)
    }

    /// The schema version the database records.
    pub fn schema_version(&self) -> Result<i32, StoreError> {
        self.run("read the schema version", |conn| {
            let row = conn
                .client
                .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])?;
            Ok(row.get(0))
        })
    }

    /// The server process id of this store's current session (for
    /// diagnostics, and for tests that end the session from the server).
    pub fn backend_pid(&self) -> Result<i32, StoreError> {
        self.run("read the session's process id", |conn| {
            Ok(conn
                .client
                .query_one("SELECT pg_backend_pid()", &[])?
                .get(0))
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Conn>> {
        self.inner.conn.lock().unwrap_or_else(|poisoned| {
            // An operation panicked while it held the connection: its state
            // is unknown, so start over with a new one.
            let mut guard = PoisonError::into_inner(poisoned);
            *guard = None;
            guard
        })
    }

    /// One connection attempt: connect, set the schema, migrate.
    fn open(&self, budget: Duration) -> Result<(Conn, Migrated), StoreError> {
        let started = Instant::now();
        let mut attempts = 0;
        let mut pause = FIRST_BACKOFF;
        loop {
            attempts += 1;
            match (self.inner.connect)(&self.inner.config) {
                Ok(client) => {
                    let mut conn = Conn {
                        client,
                        statements: HashMap::new(),
                    };
                    match migrate(&mut conn.client, &self.inner.schema, &self.inner.target) {
                        Ok(migrated) => return Ok((conn, migrated)),
                        Err(StoreError::Migration { source, .. })
                            if is_connection_error(&source)
                                && started.elapsed() + pause < budget =>
                        {
                            tracing::debug!(target = %self.inner.target, error = %source, "connection lost while migrating; retrying");
                        }
                        Err(other) => return Err(other),
                    }
                }
                Err(source) if started.elapsed() + pause >= budget => {
                    return Err(StoreError::Unavailable {
                        target: self.inner.target.clone(),
                        attempts,
                        waited: started.elapsed(),
                        source,
                    });
                }
                Err(error) => {
                    tracing::debug!(target = %self.inner.target, %error, attempts, "cannot connect; retrying");
                }
            }
            thread::sleep(pause);
            pause = (pause * 2).min(MAX_BACKOFF);
        }
    }

    /// Runs `op` on the connection; when the connection is lost (the
    /// server went away, restarted or ended this session), reconnects with
    /// backoff and runs `op` again, for at most the retry budget. `op` must
    /// be safe to run again after a failure whose effect is unknown: every
    /// operation of this crate is one transaction that is idempotent for
    /// its caller.
    pub(crate) fn run<T>(
        &self,
        what: &str,
        mut op: impl FnMut(&mut Conn) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let mut pause = FIRST_BACKOFF;
        let mut attempts = 0u32;
        let mut guard = self.lock();
        loop {
            if guard.is_none() {
                let budget_left = self.inner.retry_budget.saturating_sub(started.elapsed());
                let (conn, _) = self.open(budget_left)?;
                *guard = Some(conn);
            }
            let conn = guard.as_mut().expect("connected just above");
            attempts += 1;
            match op(conn) {
                Ok(value) => return Ok(value),
                Err(error) if is_connection_error(&error) => {
                    *guard = None;
                    if started.elapsed() + pause >= self.inner.retry_budget {
                        return Err(StoreError::Unavailable {
                            target: self.inner.target.clone(),
                            attempts,
                            waited: started.elapsed(),
                            source: error,
                        });
                    }
                    tracing::debug!(target = %self.inner.target, %error, what, "connection lost; reconnecting");
                    thread::sleep(pause);
                    pause = (pause * 2).min(MAX_BACKOFF);
                }
                Err(source) => {
                    return Err(StoreError::Query {
                        target: self.inner.target.clone(),
                        what: what.to_owned(),
                        source,
                    });
                }
            }
        }
    }

    /// A [`StoreError::Corrupt`] about this store.
    pub(crate) fn corrupt(&self, what: &str, problem: String) -> StoreError {
        StoreError::Corrupt {
            target: self.inner.target.clone(),
            what: what.to_owned(),
            problem,
        }
    }
}

/// Whether `error` means the connection is gone (as opposed to a query
/// the server refused): closed, a connection-class SQLSTATE (08…), the
/// server shutting down or ending the session (57P01–57P03), or an I/O
/// error underneath.
pub(crate) fn is_connection_error(error: &postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    if let Some(code) = error.code() {
        let code = code.code();
        return code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03");
    }
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        if inner.is::<std::io::Error>() {
            return true;
        }
        source = inner.source();
    }
    false
}

/// Creates the schema and applies missing migrations in one transaction,
/// under an advisory lock so concurrent first connections take turns.
fn migrate(client: &mut Client, schema: &str, target: &str) -> Result<Migrated, StoreError> {
    let failed = |source: postgres::Error| StoreError::Migration {
        target: target.to_owned(),
        schema: schema.to_owned(),
        source,
    };
    client
        .batch_execute(&format!("SET search_path TO \"{schema}\""))
        .map_err(failed)?;
    let mut tx = client.transaction().map_err(failed)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        &[&format!("waypost-migrate:{schema}")],
    )
    .map_err(failed)?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
         CREATE TABLE IF NOT EXISTS schema_version (
             version integer PRIMARY KEY,
             description text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
         );"
    ))
    .map_err(failed)?;
    let from: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .map_err(failed)?
        .get(0);
    if from > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            target: target.to_owned(),
            schema: schema.to_owned(),
            found: from,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, description, sql) in MIGRATIONS {
        if *version <= from {
            continue;
        }
        tx.batch_execute(sql).map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_version (version, description) VALUES ($1, $2)",
            &[version, description],
        )
        .map_err(failed)?;
        tracing::info!(target, schema, version, "applied store migration");
    }
    tx.commit().map_err(failed)?;
    Ok(Migrated {
        from,
        to: SCHEMA_VERSION,
    })
}

fn valid_schema(schema: &str) -> bool {
    let mut chars = schema.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && schema.len() <= 63
}

/// `user@host:port/database` of a configuration.
fn target_of(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "?".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("?"),
        config.get_dbname().or(config.get_user()).unwrap_or("?")
    )
}

/// `url` with the password of `scheme://user:password@…` replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return if url.contains("password") {
            "(a key=value configuration with a password; not shown)".to_owned()
        } else {
            url.to_owned()
        };
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = if tail.contains("password=") {
        "?(query with a password; not shown)"
    } else {
        tail
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_appears_in_an_error() {
        assert_eq!(
            redact("postgres://ann:s3cret@db.example:5432/wp"),
            "postgres://ann:***@db.example:5432/wp"
        );
        assert_eq!(redact("postgres://ann@db/wp"), "postgres://ann@db/wp");
        assert!(!redact("postgres://ann@db/wp?password=s3cret").contains("s3cret"));
        assert!(!redact("host=db password=s3cret").contains("s3cret"));
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        for good in ["waypost", "_t1", "a_b_2"] {
            assert!(valid_schema(good), "{good}");
        }
        for bad in ["", "1a", "Waypost", "a-b", "a\"b", &"a".repeat(64)] {
            assert!(!valid_schema(bad), "{bad}");
        }
    }
}
