//! Run directories and baselines: budgets, retention, and baselines that
//! changed or were written where they should not be.

use std::path::Path;

use waypost_schemas::layout::RUNS_ROOT;
use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext, ScannedFile};
use waypost_schemas::io::{Links, MAX_ARTIFACT_BYTES, read_text};
use waypost_schemas::paths::on_disk;

use crate::repo::{WorkTree, head_blobs, work_tree_blob};

/// `(run dir relative to the root, its absolute path)` for every run, read
/// from disk (run directories are usually git-ignored, so the walk skips them).
fn run_dirs(root: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut out = Vec::new();
    let read = |p: &Path| {
        std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            // Folders only, links not followed: a link to `/` is not a run.
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect::<Vec<_>>()
    };
    // Every joined name must be a real folder, never a link to one: a link
    // would take the scan (and its report) outside the repository.
    let real_dir = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
    if !real_dir(&root.join(RUNS_ROOT)) {
        return out;
    }
    for project in read(&root.join(RUNS_ROOT)) {
        if !real_dir(&project.join("runs")) {
            continue;
        }
        for family in read(&project.join("runs")) {
            for run in read(&family) {
                if let Ok(relative) = run.strip_prefix(root) {
                    out.push((
                        waypost_schemas::paths::escape_os(relative.as_os_str()).into_owned(),
                        run.clone(),
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

/// Every file below `dir` with size and modification time (seconds since the
/// epoch); nothing when `dir` is a link (links are never followed).
fn files_below(dir: &Path) -> Vec<(std::path::PathBuf, u64, i64)> {
    let mut out = Vec::new();
    if !std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        return out;
    }
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
                out.push((entry.path(), meta.len(), modified));
            }
        }
    }
    out
}

/// A run directory over its size budget.
pub(crate) struct RunDirOverBudget {
    pub(crate) budget: u64,
}

impl Detector for RunDirOverBudget {
    fn id(&self) -> &'static str {
        "run_dir_over_budget"
    }
    fn gap_type(&self) -> GapType {
        GapType::MemoryBudgetCapIssue
    }
    fn description(&self) -> &'static str {
        "a run directory is larger than the configured run budget"
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        for (relative, dir) in run_dirs(ctx.root) {
            let total: u64 = files_below(&dir).iter().map(|f| f.1).sum();
            if total > self.budget {
                out.push(
                    Finding::of(
                        self,
                        RiskLevel::Medium,
                        &relative,
                        format!("Run {relative} is over its size budget"),
                    )
                    .describe(format!("More than {} bytes of run artifacts.", self.budget))
                    .remedy(
                        "let tidy archive the run, or raise [scan] run_budget_bytes",
                        true,
                    ),
                );
            }
        }
    }
}

/// Run logs kept past retention.
pub(crate) struct RunLogPastRetention {
    pub(crate) days: u64,
}

impl Detector for RunLogPastRetention {
    fn id(&self) -> &'static str {
        "run_log_past_retention"
    }
    fn gap_type(&self) -> GapType {
        GapType::MemoryBudgetCapIssue
    }
    fn description(&self) -> &'static str {
        "a run's logs are older than the configured retention"
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let limit = ctx.now.unix_millis() / 1000
            - i64::try_from(self.days.saturating_mul(86_400)).unwrap_or(i64::MAX);
        for (relative, dir) in run_dirs(ctx.root) {
            let old = files_below(&dir.join("logs"))
                .iter()
                .filter(|f| f.2 < limit)
                .count();
            if old > 0 {
                out.push(
                    Finding::of(
                        self,
                        RiskLevel::Low,
                        &format!("{relative}/logs"),
                        format!("Run {relative} keeps logs past retention"),
                    )
                    .describe(format!(
                        "Logs older than {} days are past the retention rule.",
                        self.days
                    ))
                    .remedy("let tidy prune them", false),
                );
            }
        }
    }
}

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
        crate::detectors::layout::is_ledger(path)
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
            let tracked: Vec<&(String, String, u32)> = repo
                .index
                .iter()
                .filter(|(p, _, s)| *s == 0 && is_baseline(p))
                .collect();
            let head = head_blobs(
                ctx.root,
                &tracked
                    .iter()
                    .map(|(p, _, _)| p.as_str())
                    .collect::<Vec<_>>(),
            );
            for (path, index_id, _) in tracked {
                let work = match work_tree_blob(ctx.root, path) {
                    WorkTree::Blob(id, _) => Some(id),
                    WorkTree::Missing | WorkTree::Other => None,
                };
                if work.as_deref() != Some(index_id.as_str())
                    || head.get(path.as_str()).cloned().flatten().as_deref()
                        != Some(index_id.as_str())
                {
                    changed.push((path.clone(), "changed in the work tree or the index".into()));
                }
            }
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

/// Source files in critical folders without a feature-intent declaration.
pub(crate) struct FeatureIntentMissing {
    pub(crate) dirs: Vec<String>,
    pub(crate) marker: String,
}

const SOURCE_EXTENSIONS: [&str; 10] = [
    "rs", "py", "ts", "tsx", "js", "go", "java", "kt", "rb", "cs",
];

impl Detector for FeatureIntentMissing {
    fn id(&self) -> &'static str {
        "feature_intent_missing"
    }
    fn gap_type(&self) -> GapType {
        GapType::DocDrift
    }
    fn description(&self) -> &'static str {
        "a source file in a configured critical folder does not declare its feature intent"
    }
    fn wants(&self, path: &str) -> bool {
        let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
        SOURCE_EXTENSIONS.contains(&extension)
            && self.dirs.iter().any(|d| {
                let d = d.trim_end_matches('/');
                path.starts_with(&format!("{d}/"))
            })
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(text) = file.text else { return };
        if memchr::memmem::find(text, self.marker.as_bytes()).is_none() {
            out.push(
                Finding::of(self, RiskLevel::Low, file.path, format!("{} does not declare its feature intent", file.path))
                    .describe(format!("Files in critical folders state what they are for with a `{}` declaration, so changes can be checked against it.", self.marker))
                    .remedy(&format!("add a `{}` comment saying what the module is for", self.marker), false),
            );
        }
    }
}
