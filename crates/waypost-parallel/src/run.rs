//! A run's lifecycle: gate slot → executor lock → workspace lease →
//! worktree → resources, released in reverse.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use waypost_fences::{ClaimOutcome, Heartbeat, LockFile, LockGuard, Owner, identity};
use waypost_schemas::config::RunsConfig;
use waypost_schemas::layout::{IdKind, RunLayout, check_id};
use waypost_schemas::{FormatV1, IntentionAnchorV2, RunRecordV1, Timestamp};

use crate::error::StartError;
use crate::gate::{ParallelismGate, SlotClaim};
use crate::git::gix_error;
use crate::repo::{Repository, SharedClaimStore};
use crate::resources::{copy_file, lease_port};
use crate::writer::ArtifactWriter;

/// How long to wait for the repository's admin lock: the operations under
/// it (create a branch and a worktree, remove one) take seconds at most.
pub const ADMIN_LOCK_TIMEOUT: Duration = Duration::from_secs(120);

/// The file in a worktree's private git directory that names the run
/// owning it.
pub const OWNER_MARKER: &str = "waypost-run";

/// Starts runs.
#[derive(Debug)]
pub struct Run;

/// What a started run holds. Dropping it releases everything in reverse
/// order of acquisition (ports, lease, executor lock, slot); the worktree
/// and its branch stay, holding the run's work, until `runs gc` judges them.
#[derive(Debug)]
pub struct RunGuard {
    held: Held,
    record: RunRecordV1,
    writer: ArtifactWriter,
    reattached: bool,
}

/// Everything acquired so far, released in reverse on drop: a failed
/// start drops it half-built and leaves nothing held.
#[derive(Debug)]
struct Held {
    owner: Owner,
    slot: Option<(SharedClaimStore, SlotClaim, Heartbeat)>,
    executor: Option<LockGuard>,
    lease: Option<(SharedClaimStore, String, u64, Heartbeat)>,
    ports: Vec<(SharedClaimStore, String, Heartbeat)>,
}

impl Held {
    fn release(&mut self) -> Vec<String> {
        let mut problems = Vec::new();
        let token = self.owner.token().to_owned();
        for (store, key, heartbeat) in self.ports.drain(..).rev() {
            heartbeat.stop();
            if let Err(e) = store.release(&key, &token) {
                problems.push(e.to_string());
            }
        }
        if let Some((store, key, _, heartbeat)) = self.lease.take() {
            heartbeat.stop();
            if let Err(e) = store.release(&key, &token) {
                problems.push(e.to_string());
            }
        }
        drop(self.executor.take());
        if let Some((store, slot, heartbeat)) = self.slot.take() {
            heartbeat.stop();
            if let Err(e) = store.release(&slot.key, &token) {
                problems.push(e.to_string());
            }
        }
        problems
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

/// A released run's leftovers that could not be given back cleanly.
#[derive(Debug, thiserror::Error)]
#[error("run `{run_id}` released with problems: {}", problems.join("; "))]
pub struct ReleaseError {
    /// The run.
    pub run_id: String,
    /// What failed (each claim that could not be released is reclaimed
    /// once its lease runs out or its holder is seen gone).
    pub problems: Vec<String>,
}

/// The base a run starts from.
#[derive(Clone, Debug)]
struct Base {
    commit: gix::ObjectId,
    branch: Option<String>,
}

impl Run {
    /// Starts run `run_id` in `repo` from `base` (a branch, tag, commit or
    /// `HEAD`): takes a slot of the parallelism gate (as `anchor` allows),
    /// the run's executor lock, its workspace lease, its worktree (created
    /// on branch `<branch_prefix><run_id>`, or reattached when this run's
    /// record names it), then its ports and copied files.
    ///
    /// Everything is checked before anything is acquired or created: the
    /// run id, the base, the repository's state (no merge or rebase in
    /// progress) and the coordination folders (no symbolic links). A start
    /// that fails on the way releases what it took.
    pub fn start(
        repo: &Repository,
        anchor: &IntentionAnchorV2,
        run_id: &str,
        base: &str,
        config: &RunsConfig,
    ) -> Result<RunGuard, StartError> {
        check_id(IdKind::Run, run_id)?;
        let project_id = anchor.project_id.as_str();
        let layout = RunLayout::new(repo.root(), project_id, run_id)?;
        let gix = repo.gix()?;
        if let Some(state) = gix.state() {
            return Err(StartError::OperationInProgress {
                state: format!("{state:?}").to_lowercase(),
                repo: repo.root().to_owned(),
            });
        }
        let base = resolve_base(&gix, repo, base)?;
        let branch = format!("{}{run_id}", config.branch_prefix);
        let worktree = repo.worktree_path(run_id)?;
        tracing::info!(
            run = run_id,
            base = %base.commit,
            branch = %branch,
            worktree = %worktree.display(),
            "starting a run"
        );
        for dir in [
            repo.claims("slots"),
            repo.claims("leases"),
            repo.claims("ports"),
            repo.executor_lock(run_id)
                .parent()
                .expect("the lock has a folder")
                .to_owned(),
            repo.records_dir(),
            worktree
                .parent()
                .expect("worktrees have a folder")
                .to_owned(),
        ] {
            repo.ensure_dir(&dir)?;
        }
        if fs::symlink_metadata(&worktree).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(StartError::SymlinkedPath {
                target: fs::read_link(&worktree).ok(),
                path: worktree,
            });
        }
        let record = repo.record(run_id)?;
        match &record {
            Some(record) => check_reattach(record, run_id, &branch, &worktree, base.commit)?,
            None => check_free(&gix, run_id, &branch, &worktree)?,
        }

        let lease_for = Duration::from_secs(config.lease_seconds);
        let beat = (lease_for / 3).max(Duration::from_millis(100));
        let owner = Owner::new(Some(&format!("run {run_id}")));
        let mut held = Held {
            owner: owner.clone(),
            slot: None,
            executor: None,
            lease: None,
            ports: Vec::new(),
        };

        // 1. A slot of the gate.
        let gate = ParallelismGate::new(repo)?;
        let slot = gate.admit(anchor, run_id, &owner, lease_for)?;
        let slots = Arc::clone(gate.store());
        let heartbeat = Heartbeat::start(Arc::clone(&slots), &slot.key, owner.token(), beat);
        tracing::info!(run = run_id, slot = %slot.key, "gate slot held");
        held.slot = Some((slots, slot, heartbeat));

        // 2. The executor lock.
        let lock = LockFile::new(repo.executor_lock(run_id));
        match lock.try_acquire(owner.identity())? {
            Some(guard) => {
                tracing::info!(run = run_id, "executor lock held");
                held.executor = Some(guard);
            }
            None => {
                return Err(StartError::ExecutorBusy {
                    run_id: run_id.to_owned(),
                    holder: Box::new(
                        lock.holder()
                            .unwrap_or_else(|| identity::this_process(Some("unknown"))),
                    ),
                });
            }
        }

        // 3. The workspace lease.
        let leases = repo.claim_store("leases")?;
        let lease_token = match leases.claim(run_id, &owner, lease_for)? {
            ClaimOutcome::Claimed { fencing_token, .. } => fencing_token,
            ClaimOutcome::HeldBy {
                holder,
                fencing_token,
                ..
            } => {
                return Err(StartError::LeaseHeld {
                    run_id: run_id.to_owned(),
                    holder: Box::new(holder),
                    fencing_token,
                });
            }
        };
        tracing::info!(
            run = run_id,
            fencing_token = lease_token,
            "workspace lease held"
        );
        let heartbeat = Heartbeat::start(Arc::clone(&leases), run_id, owner.token(), beat);
        held.lease = Some((
            Arc::clone(&leases),
            run_id.to_owned(),
            lease_token,
            heartbeat,
        ));

        // 4. The worktree, under the admin lock. The record is written
        // first, so a start killed at any point leaves a record that the
        // next start of the same run completes (see `ensure_worktree`).
        let admin = repo
            .admin_lock()
            .acquire(owner.identity(), ADMIN_LOCK_TIMEOUT)?;
        let mut record = match repo.record(run_id)? {
            Some(record) => {
                check_reattach(&record, run_id, &branch, &worktree, base.commit)?;
                record
            }
            None => {
                check_free(&gix, run_id, &branch, &worktree)?;
                let record = RunRecordV1 {
                    format_version: FormatV1,
                    run_id: run_id.to_owned(),
                    project_id: project_id.to_owned(),
                    branch: branch.clone(),
                    base_branch: base.branch.clone(),
                    base_commit: base.commit.to_string(),
                    worktree: worktree.to_string_lossy().into_owned(),
                    repo_root: repo.root().to_string_lossy().into_owned(),
                    created_at: now(),
                    created_by: identity::this_process(Some(&format!("run {run_id}"))),
                    ports: BTreeMap::new(),
                    quarantined_at: None,
                    copied_files: Vec::new(),
                    landing: None,
                    extra: Default::default(),
                };
                repo.write_record(&record)?;
                record
            }
        };
        let reattached = ensure_worktree(&gix, &record, base.commit)?;
        drop(admin);
        tracing::info!(run = run_id, reattached, "worktree ready");

        // 5. Resources.
        let ports_store = repo.claim_store("ports")?;
        let mut ports = BTreeMap::new();
        for name in &config.ports {
            let seed = format!("{run_id}/{name}");
            let Some((port, _)) = lease_port(
                &*ports_store,
                &owner,
                lease_for,
                &seed,
                config.port_range,
                &ports.values().copied().collect::<Vec<_>>(),
            )?
            else {
                return Err(StartError::NoFreePort {
                    run_id: run_id.to_owned(),
                    name: name.clone(),
                    first: config.port_range.0,
                    last: config.port_range.1,
                });
            };
            let key = format!("port-{port}");
            let heartbeat = Heartbeat::start(Arc::clone(&ports_store), &key, owner.token(), beat);
            held.ports.push((Arc::clone(&ports_store), key, heartbeat));
            tracing::debug!(run = run_id, name = %name, port, "port leased");
            ports.insert(name.clone(), port);
        }
        let mut copied = Vec::new();
        if !reattached {
            let worktree = PathBuf::from(&record.worktree);
            for file in &config.copy_files {
                if copy_file(run_id, repo.root(), &worktree, file)? {
                    tracing::debug!(run = run_id, file = %file, "copied into the worktree");
                    copied.push(file.clone());
                }
            }
        }
        if record.ports != ports || !copied.is_empty() {
            record.ports = ports;
            if !reattached {
                record.copied_files = copied;
            }
            let _admin = repo
                .admin_lock()
                .acquire(owner.identity(), ADMIN_LOCK_TIMEOUT)?;
            repo.write_record(&record)?;
        }

        let writer = ArtifactWriter::new(layout, leases, run_id, lease_token);
        Ok(RunGuard {
            held,
            record,
            writer,
            reattached,
        })
    }
}

impl RunGuard {
    /// The run id.
    pub fn run_id(&self) -> &str {
        &self.record.run_id
    }

    /// The run's worktree (absolute).
    pub fn worktree(&self) -> &Path {
        Path::new(&self.record.worktree)
    }

    /// The run's branch (without `refs/heads/`).
    pub fn branch(&self) -> &str {
        &self.record.branch
    }

    /// The run's record.
    pub fn record(&self) -> &RunRecordV1 {
        &self.record
    }

    /// Whether the run reattached to a worktree it created before.
    pub fn reattached(&self) -> bool {
        self.reattached
    }

    /// The ports leased to the run, by name.
    pub fn ports(&self) -> &BTreeMap<String, u16> {
        &self.record.ports
    }

    /// The workspace lease's fencing token.
    pub fn fencing_token(&self) -> u64 {
        self.writer.fencing_token()
    }

    /// The writer of the run's artifacts.
    pub fn writer(&self) -> &ArtifactWriter {
        &self.writer
    }

    /// Releases everything the run holds, in reverse order, and says what
    /// could not be released.
    pub fn finish(mut self) -> Result<(), ReleaseError> {
        let problems = self.held.release();
        tracing::info!(
            run = %self.record.run_id,
            problems = problems.len(),
            "run released what it held"
        );
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ReleaseError {
                run_id: self.record.run_id.clone(),
                problems,
            })
        }
    }
}

fn now() -> Timestamp {
    waypost_schemas::Clock::System.now_millis()
}

fn resolve_base(gix: &gix::Repository, repo: &Repository, base: &str) -> Result<Base, StartError> {
    let unknown = || StartError::UnknownBase {
        base: base.to_owned(),
        repo: repo.root().to_owned(),
    };
    if base.is_empty() || base.starts_with('-') {
        return Err(unknown());
    }
    let id = gix.rev_parse_single(base).map_err(|_| unknown())?;
    let commit = id
        .object()
        .map_err(|_| unknown())?
        .peel_to_commit()
        .map_err(|_| unknown())?
        .id;
    let local = format!("refs/heads/{base}");
    let branch = if gix
        .try_find_reference(local.as_str())
        .ok()
        .flatten()
        .is_some()
    {
        Some(base.to_owned())
    } else if base == "HEAD" {
        gix.head_name().ok().flatten().and_then(|name| {
            name.as_bstr()
                .to_string()
                .strip_prefix("refs/heads/")
                .map(str::to_owned)
        })
    } else {
        None
    };
    Ok(Base { commit, branch })
}

fn check_reattach(
    record: &RunRecordV1,
    run_id: &str,
    branch: &str,
    worktree: &Path,
    base: gix::ObjectId,
) -> Result<(), StartError> {
    let not_owned = |problem: String| StartError::NotOwned {
        run_id: run_id.to_owned(),
        problem,
    };
    if record.run_id != run_id {
        return Err(not_owned(format!(
            "its record names run `{}`",
            record.run_id
        )));
    }
    if record.branch != branch {
        return Err(not_owned(format!(
            "its record names branch `{}`, not `{branch}`",
            record.branch
        )));
    }
    if base.to_hex().to_string().as_str() != record.base_commit.as_str() {
        return Err(not_owned(format!(
            "it started from {}, not from {base}",
            record.base_commit
        )));
    }
    if record.quarantined_at.is_some() {
        return Err(not_owned(format!(
            "its worktree was quarantined to {}; inspect it there",
            record.worktree
        )));
    }
    let canonical = fs::canonicalize(worktree).unwrap_or_else(|_| worktree.to_owned());
    if Path::new(&record.worktree) != canonical {
        return Err(not_owned(format!(
            "its record names worktree {}, not {}",
            record.worktree,
            worktree.display()
        )));
    }
    Ok(())
}

fn check_free(
    gix: &gix::Repository,
    run_id: &str,
    branch: &str,
    worktree: &Path,
) -> Result<(), StartError> {
    let occupied = |what: String| StartError::Occupied {
        run_id: run_id.to_owned(),
        what,
    };
    let full = format!("refs/heads/{branch}");
    let name: Result<gix::refs::FullName, _> = full.as_str().try_into();
    if name.is_err() {
        return Err(StartError::NotOwned {
            run_id: run_id.to_owned(),
            problem: format!("`{branch}` is not a valid branch name"),
        });
    }
    if gix
        .try_find_reference(full.as_str())
        .map_err(gix_error(format!("look up {full}")))?
        .is_some()
    {
        return Err(occupied(format!("branch `{branch}`")));
    }
    if fs::symlink_metadata(worktree).is_ok() {
        return Err(occupied(format!("worktree folder {}", worktree.display())));
    }
    Ok(())
}

/// Removes the registrations a killed worktree add left in
/// `<common>/worktrees/`: a folder with neither a `gitdir` file nor a
/// `locked` file (killed right after reserving the name), or one still
/// `locked` as "initializing" (or with that file empty) whose `gitdir` is
/// missing, empty or points into `ours` (waypost's worktree folder; waypost adds only under the admin lock its caller
/// holds, so no such add is running). Anything else is git's business.
pub(crate) fn sweep_killed_adds(common_dir: &Path, ours: &Path) -> Result<(), StartError> {
    let admin = common_dir.join("worktrees");
    let Ok(entries) = fs::read_dir(&admin) else {
        return Ok(());
    };
    for entry in entries.filter_map(Result::ok) {
        let dir = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let gitdir = fs::read_to_string(dir.join("gitdir")).ok();
        let locked = fs::read_to_string(dir.join("locked")).ok();
        // A killed writer may leave either file empty.
        let initializing = |reason: &String| matches!(reason.trim(), "initializing" | "");
        let killed = match (&gitdir, &locked) {
            (None, None) => true,
            (gitdir, Some(reason)) if initializing(reason) => gitdir
                .as_deref()
                .is_none_or(|g| g.trim().is_empty() || Path::new(g.trim()).starts_with(ours)),
            _ => false,
        };
        if killed {
            fs::remove_dir_all(&dir).map_err(|source| StartError::Io { path: dir, source })?;
        }
    }
    Ok(())
}

// Invariant: PARALLEL-004 A start killed at any point leaves state the next start completes.
// Category: crash-safety
// Why: an executor killed between creating a branch and registering its worktree would
//      otherwise leave a branch and a folder that no record names: the run id is stuck and
//      the leftovers are orphans nobody cleans.
// Correct pattern: under the admin lock, write the run's record first; then create the
//      branch (compare-and-swap from absent), add the worktree, and mark it with the run
//      last. A start that finds the record completes whatever is missing: a registered
//      worktree without the marker never ran anything and is replaced.
// Forbidden: creating the branch or worktree before the record; treating a marked
//      worktree of another run as this run's.
// Enforced by: Run::start and ensure_worktree.
/// Brings the run's worktree to complete: branch, registered worktree on
/// it, owner marker. Returns whether it was complete already (a reattach).
fn ensure_worktree(
    gix: &gix::Repository,
    record: &RunRecordV1,
    base: gix::ObjectId,
) -> Result<bool, StartError> {
    use gix::refs::transaction::PreviousValue;
    let run_id = record.run_id.as_str();
    let not_owned = |problem: String| StartError::NotOwned {
        run_id: run_id.to_owned(),
        problem,
    };
    let path = Path::new(&record.worktree);
    let full = format!("refs/heads/{}", record.branch);
    sweep_killed_adds(gix.common_dir(), path.parent().unwrap_or(path))?;
    let proxies = gix.worktrees().map_err(gix_error("list worktrees"))?;
    let registered = proxies.into_iter().find(|p| {
        p.base()
            .ok()
            .is_some_and(|b| b == path || fs::canonicalize(&b).ok().as_deref() == Some(path))
    });
    if let Some(proxy) = registered {
        let marker = fs::read_to_string(proxy.git_dir().join(OWNER_MARKER)).unwrap_or_default();
        let marker = marker.trim();
        if !marker.is_empty() && marker != run_id {
            return Err(not_owned(format!(
                "the worktree at {} is marked as run `{marker}`",
                path.display()
            )));
        }
        if marker == run_id && path.is_dir() {
            let head = proxy
                .into_repo_with_possibly_inaccessible_worktree()
                .map_err(gix_error("open the run's worktree"))?
                .head_name()
                .map_err(gix_error("read the run's worktree HEAD"))?
                .map(|n| n.as_bstr().to_string());
            if head.as_deref() != Some(full.as_str()) {
                return Err(not_owned(format!(
                    "the worktree at {} is on {}, not on {full}",
                    path.display(),
                    head.as_deref().unwrap_or("a detached HEAD")
                )));
            }
            return Ok(true);
        }
        // Registered but never handed to a run (no marker: a start was
        // killed while adding it), or its folder is gone: replace the
        // registration. The branch, and any commits on it, are kept.
        gix.prepare_remove_worktree(path)
            .and_then(|t| {
                t.remove(
                    gix::worktree::remove::Force::OverrideLock,
                    gix::progress::Discard,
                )
            })
            .map_err(gix_error(format!(
                "remove the incomplete worktree {}",
                path.display()
            )))?;
    }
    if fs::symlink_metadata(path).is_ok() {
        // Not registered: what a killed checkout left behind.
        fs::remove_dir_all(path).map_err(|source| StartError::Io {
            path: path.to_owned(),
            source,
        })?;
    }
    if gix
        .try_find_reference(full.as_str())
        .map_err(gix_error(format!("look up {full}")))?
        .is_none()
    {
        // A lock file on a branch that does not exist, left by a start
        // killed while creating it: only waypost creates run branches, and
        // only under the admin lock this start holds, so nobody else is
        // creating it now.
        let leftover = gix.common_dir().join(format!("{full}.lock"));
        if fs::symlink_metadata(&leftover).is_ok_and(|m| m.is_file()) {
            fs::remove_file(&leftover).map_err(|source| StartError::Io {
                path: leftover.clone(),
                source,
            })?;
        }
        gix.reference(
            full.as_str(),
            base,
            PreviousValue::MustNotExist,
            format!("waypost: branch of run {run_id}"),
        )
        .map_err(gix_error(format!("create branch {}", record.branch)))?;
    }
    let name: gix::refs::FullName = full
        .as_str()
        .try_into()
        .map_err(|_| not_owned(format!("`{}` is not a valid branch name", record.branch)))?;
    let (linked, _) = gix
        .add_worktree(
            path,
            gix::worktree::add::Head::Attached(name),
            gix::progress::Discard,
            &AtomicBool::new(false),
        )
        .map_err(gix_error(format!("add the worktree {}", path.display())))?;
    fs::write(linked.git_dir().join(OWNER_MARKER), format!("{run_id}\n")).map_err(|source| {
        StartError::Io {
            path: linked.git_dir().join(OWNER_MARKER),
            source,
        }
    })?;
    Ok(false)
}
