//! baseline_policy_drift: test and lint baselines that changed with no
//! approval on record, or were written into the shared tree instead of a run
//! directory.

use std::path::Path;

use waypost_schemas::io::{Links, MAX_ARTIFACT_BYTES, read_text};
use waypost_schemas::layout::RUNS_ROOT;
use waypost_schemas::paths::on_disk;
use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext, ScannedFile};
use crate::detectors::memory_budget_cap_issue::{files_below, run_dirs};

/// Whether `path` is a test or lint baseline.
fn is_baseline(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.ends_with(".snap") || name.starts_with("baseline") || name.contains(".baseline")
}

/// Approval records anywhere under the runs root (1 MiB at most each): the
/// files to look paths up in, one at a time.
fn approval_files(root: &Path) -> Vec<std::path::PathBuf> {
    run_dirs(root)
        .into_iter()
        .flat_map(|(_, dir)| files_below(&dir.join("approvals")))
        .filter(|(_, size, _)| *size < 1 << 20)
        .map(|(path, _, _)| path)
        .collect()
}

/// Baselines changed in the work tree, the index or the range, with no
/// approval record and no ledger entry naming them. Remembers the ledgers
/// the walk passes (a few files), to read only if a baseline changed.
#[derive(Default)]
pub(crate) struct BaselineChangedWithoutApproval {
    ledgers: std::sync::Mutex<Vec<String>>,
}

impl Detector for BaselineChangedWithoutApproval {
    fn id(&self) -> &'static str {
        "baseline_changed_without_approval"
    }
    fn gap_type(&self) -> GapType {
        GapType::BaselinePolicyDrift
    }
    fn description(&self) -> &'static str {
        "a test or lint baseline changed and no approval record or ledger entry names it"
    }
    fn wants(&self, path: &str) -> bool {
        crate::detectors::sot_duplicate::is_ledger(path)
    }
    fn keeps_index_entry(&self, path: &str) -> bool {
        is_baseline(path)
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, _out: &mut Vec<Finding>) {
        self.ledgers
            .lock()
            .expect("no panics while locked")
            .push(file.path.to_owned());
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let mut changed: Vec<(String, String)> = Vec::new();
        if let Some(repo) = ctx.repo {
            // As `git status` sees them; one entry per baseline.
            let mut paths: Vec<&str> = repo
                .changes
                .iter()
                .filter(|c| is_baseline(&c.path))
                .map(|c| c.path.as_str())
                .collect();
            paths.dedup();
            changed.extend(paths.into_iter().map(|p| {
                (
                    p.to_owned(),
                    "changed in the work tree or the index".to_owned(),
                )
            }));
        }
        for commit in ctx.commits {
            for path in commit.changed.iter().filter(|p| is_baseline(p)) {
                changed.push((
                    path.clone(),
                    format!(
                        "changed by commit {}",
                        &commit.id[..commit.id.len().min(12)]
                    ),
                ));
            }
        }
        // Take the state, so a detector value reused for another scan starts empty.
        let ledgers = std::mem::take(&mut *self.ledgers.lock().expect("no panics while locked"));
        if changed.is_empty() {
            return;
        }
        // Each record is read, searched and dropped in turn: memory holds one
        // record, however many there are.
        let mut unnamed = changed;
        let records = approval_files(ctx.root)
            .into_iter()
            .chain(ledgers.iter().map(|l| on_disk(ctx.root, l)));
        for record in records {
            if unnamed.is_empty() {
                break;
            }
            if let Ok(text) = read_text(&record, MAX_ARTIFACT_BYTES, Links::Refuse) {
                unnamed.retain(|(path, _)| !text.contains(path.as_str()));
            }
        }
        for (path, how) in unnamed {
            out.push(
                Finding::of(self, RiskLevel::High, &path, format!("Baseline {path} {how} without approval"))
                    .describe("Updating a baseline makes failing tests pass by definition; it needs a human's approval on record.")
                    .blocking(true)
                    .remedy("record an approval or a ledger entry that names the baseline, or revert it", true),
            );
        }
    }
}

/// Untracked baselines written into the shared tree instead of a run directory.
pub(crate) struct SharedBaselineOutsideRun;

impl Detector for SharedBaselineOutsideRun {
    fn id(&self) -> &'static str {
        "shared_baseline_outside_run"
    }
    fn gap_type(&self) -> GapType {
        GapType::BaselinePolicyDrift
    }
    fn description(&self) -> &'static str {
        "a new, untracked baseline sits in the shared tree instead of a run-scoped directory"
    }
    fn wants(&self, path: &str) -> bool {
        is_baseline(path) && !path.starts_with(RUNS_ROOT)
    }
    fn keeps_index_entry(&self, path: &str) -> bool {
        self.wants(path)
    }
    fn check_file(&self, file: &ScannedFile<'_>, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(repo) = ctx.repo else { return };
        let path = file.path;
        if !repo.tracks(path) {
            out.push(
                Finding::of(self, RiskLevel::Medium, path, format!("{path} is a new baseline outside any run"))
                    .describe("Runs write baselines into their own directory; one in the shared tree changes what every other run compares against.")
                    .remedy("move it into the run directory, or review and commit it deliberately", true),
            );
        }
    }
}
