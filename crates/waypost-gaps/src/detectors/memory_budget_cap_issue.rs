//! memory_budget_cap_issue: files and run directories over their size
//! budgets, and run logs kept past retention.

use std::path::Path;

use waypost_schemas::layout::RUNS_ROOT;
use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext, ScannedFile};

/// A single file over the size budget.
pub(crate) struct FileOverBudget {
    pub(crate) budget: u64,
}

impl Detector for FileOverBudget {
    fn id(&self) -> &'static str {
        "file_over_budget"
    }
    fn gap_type(&self) -> GapType {
        GapType::MemoryBudgetCapIssue
    }
    fn description(&self) -> &'static str {
        "a file is larger than the configured size budget"
    }
    fn wants(&self, _path: &str) -> bool {
        true
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let (path, size) = (file.path, file.size);
        if size > self.budget {
            out.push(
                Finding::of(
                    self,
                    RiskLevel::Medium,
                    path,
                    format!("{path} is over the size budget"),
                )
                .describe(format!(
                    "{size} bytes, budget {} bytes: large files slow every clone and scan.",
                    self.budget
                ))
                .remedy(
                    "move it to artifact storage or LFS, or raise [scan] file_budget_bytes",
                    true,
                ),
            );
        }
    }
}

/// `(run dir relative to the root, its absolute path)` for every run, read
/// from disk (run directories are usually git-ignored, so the walk skips them).
pub(super) fn run_dirs(root: &Path) -> Vec<(String, std::path::PathBuf)> {
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
pub(super) fn files_below(dir: &Path) -> Vec<(std::path::PathBuf, u64, i64)> {
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
