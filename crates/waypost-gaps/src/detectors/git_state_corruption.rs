//! git_state_corruption: the repository is mid-operation or damaged.

use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext};

/// A merge, rebase, cherry-pick, revert or bisect is in progress.
pub(crate) struct GitOperationInProgress;

impl Detector for GitOperationInProgress {
    fn id(&self) -> &'static str {
        "git_operation_in_progress"
    }
    fn gap_type(&self) -> GapType {
        GapType::GitStateCorruption
    }
    fn description(&self) -> &'static str {
        "a merge, rebase, cherry-pick, revert or bisect was started and not finished"
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(repo) = ctx.repo else { return };
        for (marker, operation) in [
            ("MERGE_HEAD", "merge"),
            ("rebase-merge", "rebase"),
            ("rebase-apply", "rebase"),
            ("CHERRY_PICK_HEAD", "cherry-pick"),
            ("REVERT_HEAD", "revert"),
            ("BISECT_LOG", "bisect"),
        ] {
            if repo.git_dir.join(marker).exists() {
                out.push(
                    Finding::of(self, RiskLevel::Critical, &format!(".git/{marker}"), format!("A {operation} is in progress"))
                        .describe(format!("`.git/{marker}` exists: an unfinished {operation} leaves the work tree and index in a mixed state that agents must not build on."))
                        .remedy(&format!("a human finishes or aborts the {operation} (`git {operation} --continue` or `--abort`)"), true),
                );
            }
        }
    }
}

/// `.git/index.lock` left behind by a git process that died.
pub(crate) struct IndexLockLeftBehind;

impl Detector for IndexLockLeftBehind {
    fn id(&self) -> &'static str {
        "index_lock_left_behind"
    }
    fn gap_type(&self) -> GapType {
        GapType::GitStateCorruption
    }
    fn description(&self) -> &'static str {
        "git's index.lock exists, so every git command that writes will fail"
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(repo) = ctx.repo else { return };
        if repo.git_dir.join("index.lock").exists() {
            out.push(
                Finding::of(self, RiskLevel::Critical, ".git/index.lock", "A stale .git/index.lock blocks every git write")
                    .describe("git creates index.lock while it writes the index and removes it when done; one that stays behind means a git process died or is still running.")
                    .remedy("check that no git process is running, then remove .git/index.lock", true),
            );
        }
    }
}

/// Index entries with conflict stages.
pub(crate) struct UnmergedIndexEntries;

impl Detector for UnmergedIndexEntries {
    fn id(&self) -> &'static str {
        "unmerged_index_entries"
    }
    fn gap_type(&self) -> GapType {
        GapType::GitStateCorruption
    }
    fn description(&self) -> &'static str {
        "the index holds unresolved merge conflicts"
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(repo) = ctx.repo else { return };
        let mut paths: Vec<&str> = repo
            .index
            .iter()
            .filter(|(_, _, stage)| *stage != 0)
            .map(|(p, _, _)| p.as_str())
            .collect();
        paths.dedup();
        for path in paths {
            out.push(
                Finding::of(
                    self,
                    RiskLevel::Critical,
                    path,
                    format!("Unresolved conflict in {path}"),
                )
                .describe("The index has conflict stages for this path: a merge was not resolved.")
                .remedy("a human resolves the conflict and stages the result", true),
            );
        }
    }
}

/// HEAD names an object that does not exist.
pub(crate) struct HeadMissingObject;

impl Detector for HeadMissingObject {
    fn id(&self) -> &'static str {
        "head_missing_object"
    }
    fn gap_type(&self) -> GapType {
        GapType::GitStateCorruption
    }
    fn description(&self) -> &'static str {
        "HEAD points at a commit the repository does not have"
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(repo) = ctx.repo else { return };
        if repo.head_missing {
            out.push(
                Finding::of(self, RiskLevel::Critical, ".git/HEAD", "HEAD points at a missing object")
                    .describe(format!("HEAD resolves to `{}`, which is not in the object database: the repository is damaged.", repo.head.as_deref().unwrap_or("?")))
                    .remedy("a human restores the missing objects (fetch, or re-clone)", true),
            );
        }
    }
}

/// HEAD is detached where a branch is expected.
pub(crate) struct DetachedHead;

impl Detector for DetachedHead {
    fn id(&self) -> &'static str {
        "detached_head"
    }
    fn gap_type(&self) -> GapType {
        GapType::GitStateCorruption
    }
    fn description(&self) -> &'static str {
        "HEAD is detached: commits made now belong to no branch"
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(repo) = ctx.repo else { return };
        if repo.branch.is_none() && repo.head.is_some() && !repo.head_missing {
            out.push(
                Finding::of(self, RiskLevel::Medium, ".git/HEAD", "HEAD is detached")
                    .describe("Commits made on a detached HEAD are easy to lose; agents expect to work on a branch.")
                    .remedy("check out a branch (or create one at HEAD)", true),
            );
        }
    }
}

/// Linked worktrees whose folder is gone (what `git worktree prune` would
/// remove), unless the worktree is locked (`git worktree lock`: its folder
/// may be on a disk that is not mounted).
pub(crate) struct WorktreeMissing;

impl Detector for WorktreeMissing {
    fn id(&self) -> &'static str {
        "worktree_missing"
    }
    fn gap_type(&self) -> GapType {
        GapType::GitStateCorruption
    }
    fn description(&self) -> &'static str {
        "git records a linked worktree whose folder no longer exists"
    }
    fn finish(&self, ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let Some(repo) = ctx.repo else { return };
        let Ok(entries) = std::fs::read_dir(repo.git_dir.join("worktrees")) else {
            return;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let admin = repo.git_dir.join("worktrees").join(&name);
            if admin.join("locked").exists() {
                continue;
            }
            // `gitdir` holds the path of the worktree's `.git` file.
            // A small regular file, never read through a link (a link
            // could put any file's text into the report).
            let Ok(pointer) = waypost_schemas::io::read_text(
                &admin.join("gitdir"),
                4096,
                waypost_schemas::io::Links::Refuse,
            ) else {
                continue;
            };
            let checkout = std::path::Path::new(pointer.trim());
            let checkout = if checkout.is_absolute() {
                checkout.to_owned()
            } else {
                admin.join(checkout)
            };
            if !checkout.exists() {
                let folder = checkout.parent().unwrap_or(&checkout).display().to_string();
                out.push(
                    Finding::of(self, RiskLevel::Medium, &format!(".git/worktrees/{name}"), format!("Worktree `{name}` points at a folder that is gone"))
                        // The folder is named in the description, not the
                        // identity: it is machine-specific.
                        .describe(format!("git still records the worktree at {folder}, which no longer exists; its branch stays checked out and cannot be used by another worktree."))
                        .remedy("`git worktree prune` (or `git worktree lock` it if the folder is only unmounted)", true),
                );
            }
        }
    }
}
