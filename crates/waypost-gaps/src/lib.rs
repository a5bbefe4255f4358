//! # waypost-gaps
//!
//! The gap scanner: what is wrong with a repository right now, without
//! changing it, and the same answer every time for the same state.
//!
//! [`scan`] walks the tree once (respecting `.gitignore`), hands each file to
//! the [`Detector`]s that want it, reads git state through gix, and builds a
//! [`GapReportV1`](waypost_schemas::GapReportV1) with content-derived gap
//! ids. [`output`] renders it as SARIF 2.1.0, Markdown or text.

mod config;
mod detector;
pub mod detectors;
mod engine;
pub mod generated;
pub mod output;
mod repo;

pub use config::{ConfigError, DEFAULT_ROOT_ALLOWLIST, ScanConfig};
pub use detector::{Detector, Finding, ScanContext, ScannedFile};
pub use engine::{ReportContext, ScanError, ScanOutcome, Skipped, scan, scan_with_progress};
pub use repo::{CommitInfo, RepoState};
