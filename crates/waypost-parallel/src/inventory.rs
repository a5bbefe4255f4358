//! What runs exist, who holds what, and cleanup that never loses work.
//!
//! Everything here reads without touching any worktree: statuses with
//! `GIT_OPTIONAL_LOCKS=0`, merge checks with `git merge-tree --write-tree`
//! (objects only). Only [`gc`] with `execute` changes anything, under the
//! repository's admin lock and the run's executor lock.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use waypost_fences::LockFile;
use waypost_fences::identity::{Liveness, liveness, this_process};
use waypost_schemas::{HolderIdentity, RunRecordV1};

use crate::error::{GitError, InventoryError, StartError};
use crate::git::{self, Access, gix_error};
use crate::repo::{Repository, read_record};
use crate::run::ADMIN_LOCK_TIMEOUT;

/// Whether a run is running, as its workspace lease says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// A live holder has the lease.
    Active,
    /// The lease has a holder that is gone or whose lease ran out.
    Stale,
    /// Nobody holds the lease (the run ended and released it).
    Ended,
}

impl RunState {
    /// `active`, `stale` or `ended`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Stale => "stale",
            Self::Ended => "ended",
        }
    }
}

/// Would the run's branch merge cleanly into its base?
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeCheck {
    /// Yes: `git merge-tree --write-tree` found no conflict.
    Clean,
    /// No: these paths conflict.
    Conflicts(Vec<String>),
    /// The branch is gone or the check failed (the reason).
    Unknown(String),
}

/// One run as it stands.
#[derive(Clone, Debug)]
pub struct RunStatus {
    /// Its record.
    pub record: RunRecordV1,
    /// Running or not.
    pub state: RunState,
    /// The lease holder, if any.
    pub holder: Option<HolderIdentity>,
    /// The lease's fencing token.
    pub fencing_token: u64,
    /// Whether the worktree folder exists.
    pub worktree_exists: bool,
    /// Paths with uncommitted changes in the worktree (tracked or
    /// untracked, copied files excepted); empty when clean.
    pub changed: Vec<String>,
    /// The branch's commit, if the branch exists.
    pub head: Option<String>,
    /// Commits on the branch that its base does not have.
    pub ahead: u64,
    /// The branch's commits are all in its base branch.
    pub merged: bool,
    /// The branch's commit is on a remote-tracking branch.
    pub pushed: bool,
    /// Would it merge cleanly into its base.
    pub merge: MergeCheck,
    /// Bytes the worktree uses on disk (file sizes, links not followed).
    pub disk_bytes: u64,
}

/// A registered worktree under waypost's folder that no run record names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unrecorded {
    /// The worktree.
    pub path: PathBuf,
    /// Its branch.
    pub branch: Option<String>,
}

/// Every run of `repo` with a record, by run id, and the worktrees in
/// waypost's folder that no record names.
pub fn list(repo: &Repository) -> Result<(Vec<RunStatus>, Vec<Unrecorded>), InventoryError> {
    let mut out = Vec::new();
    let dir = repo.records_dir();
    let mut names: Vec<String> = match fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(InventoryError::Io {
                action: "read",
                path: dir,
                source,
            });
        }
    };
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let Some(record) = read_record(&path).map_err(record_error(&path))? else {
            continue;
        };
        out.push(status(repo, record)?);
    }
    let recorded: Vec<&Path> = out.iter().map(|s| Path::new(&s.record.worktree)).collect();
    let ours = repo.coordination_dir();
    let unrecorded = git::worktrees(repo.root())?
        .into_iter()
        .filter(|w| w.path.starts_with(&ours) && !recorded.contains(&w.path.as_path()))
        .map(|w| Unrecorded {
            path: w.path,
            branch: w.branch,
        })
        .collect();
    Ok((out, unrecorded))
}

/// Run `run_id` as it stands.
pub fn show(repo: &Repository, run_id: &str) -> Result<RunStatus, InventoryError> {
    let record = repo
        .record(run_id)?
        .ok_or_else(|| InventoryError::UnknownRun {
            run_id: run_id.to_owned(),
            repo: repo.root().to_owned(),
        })?;
    status(repo, record)
}

fn record_error(path: &Path) -> impl Fn(StartError) -> InventoryError + '_ {
    move |e| InventoryError::Record {
        path: path.to_owned(),
        problem: e.to_string(),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn status(repo: &Repository, record: RunRecordV1) -> Result<RunStatus, InventoryError> {
    let leases = repo.claim_store("leases")?;
    let lease = leases.inspect(&record.run_id)?;
    let state = match &lease.holder {
        None => RunState::Ended,
        Some(holder) => {
            let expired = lease.expires_at_unix_ms().is_some_and(|end| now_ms() > end);
            if expired || liveness(holder) == Liveness::Gone {
                RunState::Stale
            } else {
                RunState::Active
            }
        }
    };
    let worktree = PathBuf::from(&record.worktree);
    let worktree_exists = worktree.is_dir();
    let changed = if worktree_exists {
        changed_paths(&worktree, &record.copied_files)?
    } else {
        Vec::new()
    };
    let root = repo.root();
    let head = git::rev(root, &format!("refs/heads/{}", record.branch))?;
    let base = record
        .base_branch
        .as_ref()
        .map_or_else(|| record.base_commit.clone(), |b| format!("refs/heads/{b}"));
    let (merged, pushed, ahead, merge) = match &head {
        None => (
            false,
            false,
            0,
            MergeCheck::Unknown("the branch no longer exists".to_owned()),
        ),
        Some(head) => {
            let merged = git::run(
                root,
                Access::Read,
                &["merge-base", "--is-ancestor", head, &base],
                &[1],
            )?
            .status
            .success();
            let pushed = !git::run(
                root,
                Access::Read,
                &[
                    "for-each-ref",
                    "--contains",
                    head,
                    "--format=%(refname)",
                    "refs/remotes/",
                ],
                &[],
            )?
            .stdout
            .is_empty();
            let ahead = git::run(
                root,
                Access::Read,
                &["rev-list", "--count", &format!("{base}..{head}")],
                &[],
            )?;
            let ahead = String::from_utf8_lossy(&ahead.stdout)
                .trim()
                .parse()
                .unwrap_or(0);
            (merged, pushed, ahead, merge_check(root, &base, head))
        }
    };
    Ok(RunStatus {
        disk_bytes: if worktree_exists {
            disk_use(&worktree)
        } else {
            0
        },
        record,
        state,
        holder: lease.holder,
        fencing_token: lease.fencing_token,
        worktree_exists,
        changed,
        head,
        ahead,
        merged,
        pushed,
        merge,
    })
}

/// `git merge-tree --write-tree`: computes the merge from objects alone.
fn merge_check(root: &Path, base: &str, head: &str) -> MergeCheck {
    match git::merge_tree(root, base, head) {
        Ok(git::MergeTree::Clean(_)) => MergeCheck::Clean,
        Ok(git::MergeTree::Conflicts(paths)) => MergeCheck::Conflicts(paths),
        Err(e) => MergeCheck::Unknown(e.to_string()),
    }
}

/// Uncommitted paths of a worktree, tracked and untracked, except the
/// files waypost copied in.
fn changed_paths(worktree: &Path, copied: &[String]) -> Result<Vec<String>, GitError> {
    let output = git::run(
        worktree,
        Access::Read,
        &[
            "status",
            "--porcelain=v1",
            "-z",
            "--untracked-files=all",
            "--ignore-submodules=none",
        ],
        &[],
    )?;
    let mut out = Vec::new();
    let mut fields = output.stdout.split(|b| *b == 0);
    while let Some(field) = fields.next() {
        if field.len() < 4 {
            continue;
        }
        let code = &field[..2];
        let path = String::from_utf8_lossy(&field[3..]).into_owned();
        if code == b"R " || code == b"C " || code[0] == b'R' || code[0] == b'C' {
            // The next field is the rename's source.
            let _ = fields.next();
        }
        if code == b"??" && copied.contains(&path) {
            continue;
        }
        out.push(path);
    }
    out.sort();
    Ok(out)
}

/// Sum of file sizes under `dir`, links not followed.
fn disk_use(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(entries) = fs::read_dir(&at) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
            }
        }
    }
    total
}

/// What [`gc`] did, or would do, with one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GcAction {
    /// Left alone: the run is active.
    Running,
    /// The worktree is (would be) removed.
    Remove,
    /// The worktree is (would be) moved aside, its branch kept.
    Quarantine,
    /// Already quarantined: listed, kept.
    Quarantined,
    /// Removal was tried and refused (the reason).
    Kept(String),
}

impl GcAction {
    /// A short label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Remove => "remove",
            Self::Quarantine => "quarantine",
            Self::Quarantined => "quarantined",
            Self::Kept(_) => "kept",
        }
    }
}

/// One line of a gc report.
#[derive(Clone, Debug)]
pub struct GcEntry {
    /// The run.
    pub run_id: String,
    /// What happens to it.
    pub action: GcAction,
    /// Why, in a sentence.
    pub reason: String,
    /// Its worktree's disk use before gc.
    pub disk_bytes: u64,
    /// Where its worktree is (after a quarantine: where it went).
    pub worktree: String,
    /// Whether its branch was (would be) deleted.
    pub branch_deleted: bool,
}

/// Cleans up ended runs without losing work: a worktree is removed only
/// when its run is gone, its tree is clean and its branch is merged into
/// its base or pushed; anything else is quarantined (moved aside under
/// `quarantine/`, branch kept, listed). A branch is deleted only when it is
/// merged. Without `execute` nothing changes: the report says what would.
pub fn gc(repo: &Repository, execute: bool) -> Result<Vec<GcEntry>, InventoryError> {
    let me = this_process(Some("runs gc"));
    if execute {
        // Registrations a killed start left half-written make git itself
        // fail; clear them first.
        let _admin = repo.admin_lock().acquire(&me, ADMIN_LOCK_TIMEOUT)?;
        crate::run::sweep_killed_adds(
            repo.common_dir(),
            &repo.coordination_dir().join("worktrees"),
        )?;
    }
    let (runs, _) = list(repo)?;
    let mut out = Vec::new();
    for run in runs {
        let run_id = run.record.run_id.clone();
        let mut entry = GcEntry {
            run_id: run_id.clone(),
            action: GcAction::Running,
            reason: String::new(),
            disk_bytes: run.disk_bytes,
            worktree: run.record.worktree.clone(),
            branch_deleted: false,
        };
        if run.state == RunState::Active {
            entry.reason = "its lease is held by a live run".to_owned();
            out.push(entry);
            continue;
        }
        if run.record.quarantined_at.is_some() && !(run.merged && run.changed.is_empty()) {
            entry.action = GcAction::Quarantined;
            entry.reason =
                "quarantined earlier; inspect it, merge or delete its branch by hand".to_owned();
            out.push(entry);
            continue;
        }
        let clean = run.changed.is_empty();
        let safe = clean && (run.merged || run.pushed);
        entry.action = if safe {
            GcAction::Remove
        } else {
            GcAction::Quarantine
        };
        entry.branch_deleted = safe && run.merged;
        entry.reason = match (clean, run.merged, run.pushed) {
            (true, true, _) => "ended, clean, merged into its base".to_owned(),
            (true, false, true) => "ended, clean, pushed".to_owned(),
            (true, false, false) => format!(
                "ended with {} commit(s) neither merged nor pushed",
                run.ahead
            ),
            (false, _, _) => format!(
                "ended with {} uncommitted path(s): {}",
                run.changed.len(),
                run.changed
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        if execute {
            apply(repo, &me, &run, &mut entry)?;
        }
        out.push(entry);
    }
    Ok(out)
}

/// Carries out one gc decision under the admin lock and the run's executor
/// lock, re-checking that nobody took the run up in between.
fn apply(
    repo: &Repository,
    me: &HolderIdentity,
    run: &RunStatus,
    entry: &mut GcEntry,
) -> Result<(), InventoryError> {
    let _admin = repo.admin_lock().acquire(me, ADMIN_LOCK_TIMEOUT)?;
    let Some(_executor) = LockFile::new(repo.executor_lock(&run.record.run_id)).try_acquire(me)?
    else {
        entry.action = GcAction::Running;
        entry.reason = "an executor took the run up".to_owned();
        return Ok(());
    };
    let fresh = status(repo, run.record.clone())?;
    if fresh.state == RunState::Active || fresh.changed != run.changed || fresh.head != run.head {
        entry.action = GcAction::Kept("the run changed while gc looked at it".to_owned());
        return Ok(());
    }
    let gix = repo.gix()?;
    let worktree = Path::new(&run.record.worktree);
    match entry.action {
        GcAction::Remove => {
            for file in &run.record.copied_files {
                let path = worktree.join(file);
                if fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                    fs::remove_file(&path).map_err(|source| InventoryError::Io {
                        action: "remove",
                        path,
                        source,
                    })?;
                }
            }
            if run.worktree_exists {
                let removed = gix.prepare_remove_worktree(worktree).and_then(|t| {
                    t.remove(gix::worktree::remove::Force::Never, gix::progress::Discard)
                });
                if let Err(e) = removed {
                    entry.action = GcAction::Kept(format!("removal refused: {e}"));
                    entry.branch_deleted = false;
                    return Ok(());
                }
            } else {
                git::run(repo.root(), Access::Write, &["worktree", "prune"], &[])?;
            }
            if entry.branch_deleted
                && let Some(reference) = gix
                    .try_find_reference(format!("refs/heads/{}", run.record.branch).as_str())
                    .map_err(gix_error("look up the run's branch"))?
            {
                reference
                    .delete()
                    .map_err(gix_error("delete the run's branch"))?;
            }
            let record = repo.record_path(&run.record.run_id);
            fs::remove_file(&record).map_err(|source| InventoryError::Io {
                action: "remove",
                path: record,
                source,
            })?;
        }
        GcAction::Quarantine => {
            let target = repo.quarantine_path(&run.record.run_id);
            repo.ensure_dir(target.parent().expect("quarantine has a folder"))?;
            if run.worktree_exists {
                git::run(
                    repo.root(),
                    Access::Write,
                    &[
                        "worktree".as_ref(),
                        "move".as_ref(),
                        worktree.as_os_str(),
                        target.as_os_str(),
                    ],
                    &[],
                )?;
                entry.worktree = target.to_string_lossy().into_owned();
            } else {
                git::run(repo.root(), Access::Write, &["worktree", "prune"], &[])?;
            }
            let mut record = run.record.clone();
            record.worktree = entry.worktree.clone();
            record.quarantined_at = Some(waypost_schemas::Clock::System.now_millis());
            repo.write_record(&record)?;
        }
        _ => {}
    }
    Ok(())
}
