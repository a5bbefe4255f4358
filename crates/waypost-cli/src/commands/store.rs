//! `waypost store`: where coordination state lives, and its migrations.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;
use waypost::schemas::config::StoreConfig;
use waypost::store::{Store, StoreOpenError};

use crate::Format;
use crate::error::CommandError;

/// The environment variable that names the store, over `[store] url`.
pub(crate) const STORE_URL_VAR: &str = "WAYPOST_STORE_URL";

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Say which store coordination state is kept in (files, or a
    /// PostgreSQL database) and, for a database, its schema version.
    ///
    /// The store is `[store] url` of waypost.toml, or WAYPOST_STORE_URL
    /// when set; without either, files in the repository. Exit: 0, 2 bad
    /// input (a bad URL, a server that is down, a newer schema).
    ///
    /// Example: waypost store status --format json
    Status(Args),
    /// Create the PostgreSQL store's tables, or bring them to this
    /// version (connecting does the same; this does it on purpose).
    ///
    /// Refuses a database whose schema is newer than this waypost.
    /// Exit: 0, 2 bad input (no PostgreSQL store configured, a bad URL,
    /// a server that is down, a newer schema).
    ///
    /// Example: WAYPOST_STORE_URL=postgres://waypost@db:5432/waypost waypost store migrate
    Migrate(Args),
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The repository whose waypost.toml names the store.
    #[arg(long, default_value = ".")]
    repo: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// The store for the repository at `root`: WAYPOST_STORE_URL when set,
/// else `[store]` of its waypost.toml, else files.
pub(crate) fn selected(root: &Path) -> Result<Store, CommandError> {
    let config = StoreConfig::load(root)?;
    let env = std::env::var(STORE_URL_VAR).ok().filter(|v| !v.is_empty());
    Store::open(&config, env.as_deref()).map_err(|e| {
        let source = if env.is_some() {
            STORE_URL_VAR.to_owned()
        } else {
            "[store] url of waypost.toml".to_owned()
        };
        let hint = match &e {
            StoreOpenError::NotPostgres { .. } => "write postgres://USER@HOST:PORT/DATABASE",
            _ => "check that the database is running and reachable, or unset the URL to use files",
        };
        CommandError::bad_input(format!("the store named by {source}: {e}")).with_hint(hint)
    })
}

pub(crate) fn run(command: &Command) -> Result<ExitCode, CommandError> {
    match command {
        Command::Status(args) => status(args, false),
        Command::Migrate(args) => status(args, true),
    }
}

fn status(args: &Args, migrate: bool) -> Result<ExitCode, CommandError> {
    let store = selected(&args.repo)?;
    let version = match &store {
        Store::Postgres { store: pg, .. } => {
            let version = if migrate {
                pg.migrate().map(|m| m.to)
            } else {
                pg.schema_version()
            };
            Some(version.map_err(|e| CommandError::bad_input(e.to_string()))?)
        }
        _ if migrate => {
            return Err(CommandError::bad_input(
                "no PostgreSQL store is configured: files need no migration",
            )
            .with_hint(format!(
                "set [store] url in waypost.toml or {STORE_URL_VAR} to postgres://USER@HOST:PORT/DATABASE"
            )));
        }
        _ => None,
    };
    match args.format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&json!({
                "store": match store { Store::Files => "files", _ => "postgres" },
                "description": store.describe(),
                "schema_version": version,
            }))
            .context("serialize the store status")?;
            println!("{text}");
        }
        Format::Text => match version {
            Some(version) => println!(
                "store: {}\nschema version: {version}{}",
                store.describe(),
                if migrate { " (up to date)" } else { "" }
            ),
            None => println!("store: {}", store.describe()),
        },
    }
    Ok(ExitCode::SUCCESS)
}
