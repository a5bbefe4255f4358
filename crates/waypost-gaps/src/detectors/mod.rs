//! The built-in detectors, one check each.

mod docs;
mod encoding;
mod git_state;
mod guidance;
mod layout;
mod locks;
mod protected;
mod runs;
mod tests_infra;

use crate::ScanConfig;
use crate::detector::Detector;

/// Every built-in detector, configured.
pub fn builtin(config: &ScanConfig) -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(git_state::GitOperationInProgress),
        Box::new(git_state::IndexLockLeftBehind),
        Box::new(git_state::UnmergedIndexEntries),
        Box::new(git_state::HeadMissingObject),
        Box::new(git_state::DetachedHead),
        Box::new(git_state::WorktreeMissing),
        Box::new(encoding::InvalidUtf8),
        Box::new(encoding::Utf8Bom),
        Box::new(encoding::MixedLineEndings),
        Box::new(encoding::WindowsInvalidName),
        Box::new(encoding::CaseCollision),
        Box::new(encoding::PathTooLong),
        Box::new(docs::BrokenMarkdownLink),
        Box::new(docs::StaleGeneratedFile::new(&config.generated)),
        Box::new(layout::RootClutter::new(&config.root_allowlist)),
        Box::new(layout::FileOverBudget {
            budget: config.file_budget_bytes,
        }),
        Box::new(layout::DuplicateSotFile::default()),
        Box::new(layout::DuplicateLedgerEntry),
        Box::new(protected::ProtectedPathChange::new(&config.protected_paths)),
        Box::new(locks::StaleClaim),
        Box::new(locks::OrphanSqliteJournal::default()),
        Box::new(locks::OldLockFile {
            max_age_seconds: config.lock_age_seconds,
        }),
        Box::new(tests_infra::TestFileNotInTarget::default()),
        Box::new(tests_infra::InvariantTestSkipped),
        Box::new(tests_infra::MissingTestFixture),
        Box::new(tests_infra::MissingTestPath),
        Box::new(guidance::InvariantUndocumented::default()),
        Box::new(tests_infra::TestFixUnclassified),
        Box::new(runs::RunDirOverBudget {
            budget: config.run_budget_bytes,
        }),
        Box::new(runs::RunLogPastRetention {
            days: config.log_retention_days,
        }),
        Box::new(runs::BaselineChangedWithoutApproval::default()),
        Box::new(runs::SharedBaselineOutsideRun),
        Box::new(runs::FeatureIntentMissing {
            dirs: config.critical_dirs.clone(),
            marker: config.intent_marker.clone(),
        }),
    ]
}
