//! Where coordination state lives: files on this machine (the default) or
//! a shared PostgreSQL database for runs on several machines, as the
//! `[store]` section of `waypost.toml` says (or a URL the caller passes,
//! which takes precedence).
//!
//! ```
//! use waypost::schemas::config::StoreConfig;
//! use waypost::store::Store;
//!
//! let store = Store::open(&StoreConfig::default(), None)?;
//! assert!(matches!(store, Store::Files));
//! assert_eq!(store.describe(), "files in the repository");
//! # Ok::<(), waypost::store::StoreOpenError>(())
//! ```

use std::path::Path;
use std::sync::Arc;

use waypost_fences::LedgerStore;
use waypost_ledger::FileLedgerStore;
use waypost_ledger::tidy::{self, TidyError, TidyOptions, TidyReport};
use waypost_parallel::{ClaimStores, Repository, SharedClaimStore, StartError};
use waypost_schemas::config::{StoreConfig, is_postgres_url};
use waypost_store_postgres::{PgOptions, PgStore, StoreError};

pub use waypost_store_postgres as postgres;

/// The store coordination state is kept in.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Store {
    /// Files under the repository (one machine, OS locks).
    Files,
    /// A shared PostgreSQL database.
    Postgres {
        /// The connection.
        store: PgStore,
        /// This repository's part of the store.
        namespace: String,
    },
}

/// The store could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreOpenError {
    /// The URL does not name a PostgreSQL database.
    #[error("store URL `{url}` is not a PostgreSQL URL; write postgres://USER@HOST:PORT/DATABASE")]
    NotPostgres {
        /// The URL (without its password).
        url: String,
    },
    /// Connecting or migrating failed.
    #[error(transparent)]
    Postgres(#[from] StoreError),
}

impl Store {
    /// Opens the store `config` names, or the one at `url` when given
    /// (the command-line tool passes `WAYPOST_STORE_URL`). A PostgreSQL
    /// store is connected to and migrated here.
    pub fn open(config: &StoreConfig, url: Option<&str>) -> Result<Self, StoreOpenError> {
        let Some(url) = url.or(config.url.as_deref()) else {
            return Ok(Self::Files);
        };
        if !is_postgres_url(url) {
            return Err(StoreOpenError::NotPostgres {
                url: url.split('@').next_back().unwrap_or(url).to_owned(),
            });
        }
        let options = PgOptions::default()
            .with_schema(config.schema.clone())
            .with_retry_budget(std::time::Duration::from_secs(config.retry_seconds));
        let store = PgStore::connect(url, options)?;
        Ok(Self::Postgres {
            store,
            namespace: config.namespace.clone(),
        })
    }

    /// `files in the repository`, or `PostgreSQL user@host:port/db (schema …, namespace …)`.
    pub fn describe(&self) -> String {
        match self {
            Self::Files => "files in the repository".to_owned(),
            Self::Postgres { store, namespace } => format!(
                "PostgreSQL {} (schema `{}`, namespace `{namespace}`)",
                store.target(),
                store.schema()
            ),
        }
    }

    /// `repo` with its claims (run slots, workspace leases, ports,
    /// landings) kept in this store.
    pub fn repository(&self, repo: Repository) -> Repository {
        match self {
            Self::Files => repo,
            Self::Postgres { store, namespace } => {
                repo.with_claim_stores(Arc::new(PgClaimStores {
                    store: store.clone(),
                    namespace: namespace.clone(),
                }))
            }
        }
    }

    /// [`tidy::plan`] against this store's
    /// ledgers of the repository at `root`.
    pub fn tidy_plan(&self, root: &Path, options: &TidyOptions) -> Result<TidyReport, TidyError> {
        match self {
            Self::Files => tidy::plan(root, options),
            store => tidy::plan_in(&*store.ledgers(root), root, options),
        }
    }

    /// [`tidy::execute`] appending to this
    /// store's ledgers of the repository at `root`.
    pub fn tidy_execute(
        &self,
        root: &Path,
        options: &TidyOptions,
    ) -> Result<TidyReport, TidyError> {
        match self {
            Self::Files => tidy::execute(root, options),
            store => tidy::execute_in(&*store.ledgers(root), root, options),
        }
    }

    /// The ledgers of the repository at `root` in this store.
    pub fn ledgers(&self, root: &Path) -> Box<dyn LedgerStore> {
        match self {
            Self::Files => Box::new(FileLedgerStore::new(root)),
            Self::Postgres { store, namespace } => Box::new(store.ledgers(namespace.clone())),
        }
    }
}

/// A repository's claims in a PostgreSQL store: `<namespace>/<what>`.
#[derive(Clone, Debug)]
pub struct PgClaimStores {
    store: PgStore,
    namespace: String,
}

impl PgClaimStores {
    /// The claims of `namespace` in `store`.
    pub fn new(store: PgStore, namespace: impl Into<String>) -> Self {
        Self {
            store,
            namespace: namespace.into(),
        }
    }
}

impl ClaimStores for PgClaimStores {
    fn store(&self, _repo: &Repository, what: &str) -> Result<SharedClaimStore, StartError> {
        Ok(Arc::new(
            self.store.claims(format!("{}/{what}", self.namespace)),
        ))
    }
}
