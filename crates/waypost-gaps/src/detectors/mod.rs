//! The built-in detectors, one check each. One file per gap type, named by
//! `GapType::as_str()`; a new detector goes in the file of the gap type it
//! reports.

mod baseline_policy_drift;
mod db_lock_contention;
mod doc_drift;
mod git_state_corruption;
mod memory_budget_cap_issue;
mod protected_path_violation;
mod root_clutter;
mod sot_duplicate;
mod test_infra_drift;
mod windows_encoding_issue;

use crate::ScanConfig;
use crate::detector::Detector;

/// Every built-in detector, configured.
pub fn builtin(config: &ScanConfig) -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(git_state_corruption::GitOperationInProgress),
        Box::new(git_state_corruption::IndexLockLeftBehind),
        Box::new(git_state_corruption::UnmergedIndexEntries),
        Box::new(git_state_corruption::HeadMissingObject),
        Box::new(git_state_corruption::DetachedHead),
        Box::new(git_state_corruption::WorktreeMissing),
        Box::new(windows_encoding_issue::InvalidUtf8),
        Box::new(windows_encoding_issue::Utf8Bom),
        Box::new(windows_encoding_issue::MixedLineEndings),
        Box::new(windows_encoding_issue::WindowsInvalidName),
        Box::new(windows_encoding_issue::CaseCollision),
        Box::new(windows_encoding_issue::PathTooLong),
        Box::new(doc_drift::BrokenMarkdownLink::default()),
        Box::new(doc_drift::StaleGeneratedFile::new(&config.generated)),
        Box::new(root_clutter::RootClutter::new(
            &config.root_allowlist,
            &config.root_denylist,
        )),
        Box::new(memory_budget_cap_issue::FileOverBudget {
            budget: config.file_budget_bytes,
        }),
        Box::new(sot_duplicate::DuplicateSotFile::default()),
        Box::new(sot_duplicate::DuplicateLedgerEntry),
        Box::new(protected_path_violation::ProtectedPathChange::new(
            &config.protected_paths,
        )),
        Box::new(db_lock_contention::StaleClaim),
        Box::new(db_lock_contention::OrphanSqliteJournal::default()),
        Box::new(db_lock_contention::OldLockFile {
            max_age_seconds: config.lock_age_seconds,
        }),
        Box::new(test_infra_drift::TestFileNotInTarget::default()),
        Box::new(test_infra_drift::InvariantTestSkipped),
        Box::new(test_infra_drift::MissingTestFixture::default()),
        Box::new(test_infra_drift::MissingTestPath),
        Box::new(doc_drift::InvariantUndocumented::default()),
        Box::new(test_infra_drift::TestFixUnclassified),
        Box::new(memory_budget_cap_issue::RunDirOverBudget {
            budget: config.run_budget_bytes,
        }),
        Box::new(memory_budget_cap_issue::RunLogPastRetention {
            days: config.log_retention_days,
        }),
        Box::new(baseline_policy_drift::BaselineChangedWithoutApproval::default()),
        Box::new(baseline_policy_drift::SharedBaselineOutsideRun),
        Box::new(doc_drift::FeatureIntentMissing {
            dirs: config.critical_dirs.clone(),
            marker: config.intent_marker.clone(),
        }),
    ]
}
