//! # waypost
//!
//! A governance kernel for autonomous coding agents. Orchestrators that let
//! agents change repositories embed it to answer, deterministically and with
//! evidence: what the humans want (the intention anchor), what is wrong with
//! the repository (the gap report), what to do about it and who must approve
//! each step (the plan proposal and governance), how to run several agents at
//! once safely, and what becomes permanent project memory.
//!
//! This crate is the facade: it re-exports each layer under a short name:
//! [`schemas`] (artifacts, validation, ids, run layout, atomic IO),
//! [`fences`] (locks, claims, heartbeats, stale recovery, idempotent enqueue,
//! append-only logs), [`intention`] (the human-owned anchor: authoring,
//! inference, completeness questions, checks, approved revisions) and
//! [`governance`] (the default-deny policy engine and approvals), and [`gaps`]
//! (the read-only gap scanner with SARIF and Markdown output), and
//! [`planning`] (the plan proposer: gaps to bounded, governed actions), and
//! [`parallel`] (several runs at once: a worktree, a lease, an executor
//! lock and a run directory each), and [`ledger`] (the append-only,
//! hash-chained SOT ledgers and tidy, which fills them), and [`store`]
//! (files on one machine, or a shared PostgreSQL database, as `[store]`
//! says; the PostgreSQL store itself is [`store::postgres`]).
//!
//! ```
//! use waypost::schemas::{ArtifactKind, validate};
//!
//! let anchor = serde_json::json!({
//!     "format_version": "v2",
//!     "project_id": "demo",
//!     "created_at": "2026-01-01T00:00:00Z",
//!     "raw_input_digest": "0123456789abcdef",
//!     "pivot_intentions": {}
//! });
//! validate::validate_value(ArtifactKind::IntentionAnchorV2, &anchor)?;
//! # Ok::<(), waypost::schemas::ValidationError>(())
//! ```

pub mod autopilot;
pub mod store;

pub use waypost_fences as fences;
pub use waypost_gaps as gaps;
pub use waypost_governance as governance;
pub use waypost_intention as intention;
pub use waypost_ledger as ledger;
pub use waypost_parallel as parallel;
pub use waypost_planning as planning;
pub use waypost_schemas as schemas;

/// The version of waypost, recorded in the artifacts it writes.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

use std::path::Path;

use waypost_gaps::{ConfigError, ScanConfig};
use waypost_schemas::IntentionAnchorV2;

/// The scanner settings for the repository at `root` under `anchor`: the
/// `[scan]` section of `root/waypost.toml` (or the defaults), guarding the
/// anchor's protected paths (what `protected_path_modified` reports on).
///
/// ```
/// let dir = std::env::temp_dir().join(format!("waypost-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// std::fs::write(dir.join("waypost.toml"), "[scan]\nmax_file_bytes = 1000\n")?;
/// let anchor: waypost::schemas::IntentionAnchorV2 = serde_json::from_value(serde_json::json!({
///     "format_version": "v2", "project_id": "demo", "created_at": "2026-01-01T00:00:00Z",
///     "raw_input_digest": "0123456789abcdef",
///     "pivot_intentions": {"scope_boundaries": {"protected_paths": ["deploy/**"]}}
/// }))?;
/// let config = waypost::scan_config(&dir, &anchor)?;
/// assert_eq!(config.max_file_bytes, 1000);
/// assert_eq!(config.protected_paths, ["deploy/**"]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn scan_config(root: &Path, anchor: &IntentionAnchorV2) -> Result<ScanConfig, ConfigError> {
    let mut config = ScanConfig::load(root)?;
    config.protected_paths = anchor
        .pivot_intentions
        .scope_boundaries
        .as_ref()
        .map(|s| s.protected_paths.clone())
        .unwrap_or_default();
    Ok(config)
}
