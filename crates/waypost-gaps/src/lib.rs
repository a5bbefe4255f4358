//! # waypost-gaps
//!
//! The gap scanner: what is wrong with a repository right now, without
//! changing it, and the same answer every time for the same state.
//!
//! [`scan`] walks the tree once (respecting `.gitignore`), hands each file to
//! the [`Detector`]s that want it, reads git state through gix, and builds a
//! [`GapReportV1`](waypost_schemas::GapReportV1) with content-derived gap
//! ids. [`output`] renders it as SARIF 2.1.0, Markdown or text.
//!
//! Embedders add their own checks beside the built-in ones:
//!
//! ```
//! use waypost_gaps::{Detector, Finding, ReportContext, ScanConfig, ScanContext, ScannedFile};
//! use waypost_schemas::{GapType, RiskLevel, Timestamp};
//!
//! /// Shell scripts must not pipe downloads into a shell.
//! struct CurlPipeSh;
//!
//! impl Detector for CurlPipeSh {
//!     fn id(&self) -> &'static str {
//!         "curl_pipe_sh"
//!     }
//!     fn gap_type(&self) -> GapType {
//!         GapType::ProtectedPathViolation
//!     }
//!     fn description(&self) -> &'static str {
//!         "a shell script pipes a download into a shell"
//!     }
//!     fn wants(&self, path: &str) -> bool {
//!         path.ends_with(".sh")
//!     }
//!     fn check_file(&self, file: &ScannedFile<'_>, _: &ScanContext<'_>, out: &mut Vec<Finding>) {
//!         let text = String::from_utf8_lossy(file.text.unwrap_or_default());
//!         for (i, line) in text.lines().enumerate() {
//!             if line.contains("curl") && line.contains("| sh") {
//!                 out.push(
//!                     Finding::of(self, RiskLevel::High, file.path, "Download piped into a shell")
//!                         .at_line(u32::try_from(i + 1).unwrap_or(u32::MAX), line),
//!                 );
//!             }
//!         }
//!     }
//! }
//!
//! let repo = tempfile::tempdir()?;
//! std::fs::write(repo.path().join("install.sh"), "curl https://example.org/x | sh\n")?;
//! let config = ScanConfig::default();
//! let mut detectors = waypost_gaps::detectors::builtin(&config);
//! detectors.push(Box::new(CurlPipeSh));
//! let context = ReportContext {
//!     project_id: "demo".into(),
//!     run_id: "scan-20260101T000000Z".into(),
//!     now: Timestamp::parse("2026-01-01T00:00:00Z")?,
//! };
//! let outcome = waypost_gaps::scan(repo.path(), &detectors, &config, &context)?;
//! let gap = outcome
//!     .report
//!     .gaps
//!     .iter()
//!     .find(|g| g.detector.as_deref() == Some("curl_pipe_sh"))
//!     .expect("found");
//! assert_eq!(gap.evidence.as_ref().map(|e| e.locations[0].start_line), Some(1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod baseline;
mod changes;
mod detector;
pub mod detectors;
mod engine;
pub mod generated;
pub mod output;
mod repo;
mod resolve;

pub use changes::{Change, ChangeKind, git_changes};
pub use detector::{Detector, Finding, ScanContext, ScannedFile};
pub use engine::{ReportContext, ScanError, ScanOutcome, Skipped, scan, scan_with_progress};
pub use repo::{CommitInfo, RepoState};
pub use waypost_schemas::config::{ConfigError, DEFAULT_ROOT_ALLOWLIST, MAX_READ_CAP, ScanConfig};
