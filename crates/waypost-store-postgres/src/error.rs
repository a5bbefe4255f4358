//! What the PostgreSQL store fails with.

use std::time::Duration;

/// Connecting to, migrating or querying the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store URL cannot be used.
    #[error("store URL `{url}` is not usable: {problem}")]
    BadUrl {
        /// The URL as given, its password (if any) replaced by `***`.
        url: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The schema name cannot be used.
    #[error(
        "store schema `{schema}` is not usable: use 1 to 63 lowercase letters, digits and `_`, starting with a letter or `_`"
    )]
    BadSchema {
        /// The name given.
        schema: String,
    },
    /// The database could not be reached within the retry budget.
    #[error(
        "the PostgreSQL store at {target} is unavailable after {attempts} attempts over {waited:.1?}: {source}; check that the server is running and reachable"
    )]
    Unavailable {
        /// `user@host:port/database` (never the password).
        target: String,
        /// Connection attempts made.
        attempts: u32,
        /// How long they took.
        waited: Duration,
        /// The last error.
        source: postgres::Error,
    },
    /// The database's schema was written by a newer waypost.
    #[error(
        "the PostgreSQL store at {target} (schema `{schema}`) is at schema version {found}, newer than the {supported} this waypost knows; upgrade waypost (it never downgrades a schema)"
    )]
    NewerSchema {
        /// `user@host:port/database`.
        target: String,
        /// The store's schema.
        schema: String,
        /// The version the database records.
        found: i32,
        /// The newest version this build knows.
        supported: i32,
    },
    /// A migration failed; the transaction that ran it was rolled back.
    #[error("migrating the PostgreSQL store at {target} (schema `{schema}`) failed: {source}")]
    Migration {
        /// `user@host:port/database`.
        target: String,
        /// The store's schema.
        schema: String,
        /// What PostgreSQL said.
        source: postgres::Error,
    },
    /// A query failed for a reason other than the connection.
    #[error(
        "the PostgreSQL store at {target} failed to {what}: {}",
        describe(source)
    )]
    Query {
        /// `user@host:port/database`.
        target: String,
        /// What was being done.
        what: String,
        /// What PostgreSQL said.
        source: postgres::Error,
    },
    /// A fenced write ran, but the connection was lost before the fence
    /// was confirmed held until it ended: a takeover may have happened
    /// while it ran.
    #[error(
        "claim `{key}`: the fenced write ran, but the connection to the PostgreSQL store at {target} was lost before its fence was confirmed held to the end; check what it wrote"
    )]
    FenceUncertain {
        /// `user@host:port/database`.
        target: String,
        /// The claim key.
        key: String,
    },
    /// A value read from the store is not what waypost wrote.
    #[error("the PostgreSQL store at {target} holds a bad {what}: {problem}")]
    Corrupt {
        /// `user@host:port/database`.
        target: String,
        /// What was read.
        what: String,
        /// What is wrong.
        problem: String,
    },
}

/// A PostgreSQL error with the server's message when there is one (the
/// client's own text for a database error is only "db error").
pub(crate) fn describe(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => error.to_string(),
    }
}
