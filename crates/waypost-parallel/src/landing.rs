//! Landing a run: its branch merged into its base branch exactly once,
//! whatever crashes.
//!
//! 1. The landing is a governed `git_operation`: [`landing_action`] builds
//!    the plan action, bound to the run's head and the base commit, and
//!    the policy decides; an approval counts only for those exact commits.
//! 2. One lander per base branch: a claim (fencing token, heartbeat for as
//!    long as the landing runs).
//! 3. Recovery first: a landing record left `in_progress` by a lander that
//!    is gone is settled by looking at the repository (the base already
//!    holds the result or the run's head: landed, never merged twice);
//!    attempts are bounded.
//! 4. Read-only preflight (`git merge-tree --write-tree`, `git replay` for
//!    rebase): a conflict ends as `merge_blocked` with the paths, and a
//!    `tasks/land/verification.log` the gate pilot reads as a merge
//!    conflict.
//! 5. The record (result, expected old base, attempt, owner) is written,
//!    fenced, before the base ref moves; the ref moves by compare-and-swap
//!    from the expected old commit, fenced by the claim's token, so a
//!    paused-then-resumed old lander cannot move it.
//! 6. A worktree with the base checked out is brought to the new commit
//!    only when it is clean; a dirty one blocks the landing, named.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use waypost_fences::{ClaimOutcome, ClaimStore, Heartbeat, Owner, fenced, identity};
use waypost_governance::{
    Action, Policy, Verdict, approval_is_valid, close_single_step, start_single_step,
    store_with_evidence,
};
use waypost_schemas::io::{create_dirs_below, to_pretty_json, write_atomic};
use waypost_schemas::layout::{RunDir, RunLayout, TaskFile};
use waypost_schemas::{
    ActionType, ApprovalRecordV1, ApprovalStatus, Clock, Excerpt, HolderIdentity,
    IntentionAnchorV2, LandingState, PlanAction, ProposedChange, RunLanding, RunRecordV1,
    StepStatus,
};

use crate::error::{GitError, StartError};
use crate::git::{self, Access};
use crate::repo::Repository;
use crate::run::ADMIN_LOCK_TIMEOUT;

/// Attempts a landing may start before it ends as `merge_blocked`.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// The task key under which a blocked landing leaves its evidence for the
/// gate pilot (`tasks/land/verification.log`).
pub const LANDING_TASK_KEY: &str = "land";

/// How the run's branch lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// A merge commit on the base, parents: the base, then the run's head.
    Merge,
    /// The base moves to the run's head; only when it is a fast-forward.
    FastForward,
    /// The run's commits are replayed on the base (`git replay`), which
    /// then moves to the last of them. The run's branch is left as it is.
    Rebase,
}

impl Strategy {
    /// `merge`, `ff` or `rebase`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Merge => "merge",
            Self::FastForward => "ff",
            Self::Rebase => "rebase",
        }
    }
}

/// A step of a landing, reported to [`LandOptions::on_step`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// The base-branch claim is held.
    Claimed,
    /// The result is computed, without conflicts.
    Computed,
    /// The record with the result is written; the ref moves next.
    Recorded,
    /// The base ref moved.
    Moved,
}

/// How to land.
pub struct LandOptions<'a> {
    /// The strategy.
    pub strategy: Strategy,
    /// The base-branch claim's lease (renewed by a heartbeat every third).
    pub lease: Duration,
    /// Attempts before the landing ends as `merge_blocked`.
    pub max_attempts: u32,
    /// A human's approval of the landing action, when the policy asks.
    pub approval: Option<&'a ApprovalRecordV1>,
    /// Called at each step (progress display; tests pause here).
    pub on_step: Option<&'a (dyn Fn(Step) + Sync)>,
}

impl std::fmt::Debug for LandOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LandOptions")
            .field("strategy", &self.strategy)
            .field("lease", &self.lease)
            .field("max_attempts", &self.max_attempts)
            .field("approval", &self.approval.map(|a| &a.action_id))
            .finish_non_exhaustive()
    }
}

impl Default for LandOptions<'_> {
    fn default() -> Self {
        Self {
            strategy: Strategy::Merge,
            lease: Duration::from_secs(60),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            approval: None,
            on_step: None,
        }
    }
}

/// How a landing ended.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum LandOutcome {
    /// The base holds the run's work: `result` is the commit it moved to
    /// (or already held); `already` when an earlier landing did it.
    Landed {
        /// The base's commit holding the run's work.
        result: String,
        /// Nothing was merged by this call.
        already: bool,
    },
    /// The landing stopped; the record says `merge_blocked`.
    Blocked {
        /// Why.
        reason: String,
        /// Conflicting paths, for a conflict.
        conflicts: Vec<String>,
    },
    /// The policy wants a human's approval of `action` first.
    NeedsApproval {
        /// The action to approve (its content covers the run head and the
        /// base commit).
        action: Box<PlanAction>,
        /// Why, and why a given approval did not count.
        reason: String,
    },
    /// The policy refuses the landing.
    Denied {
        /// Why.
        reason: String,
    },
    /// Another lander holds the base branch.
    HeldBy {
        /// Who.
        holder: Box<HolderIdentity>,
    },
}

/// A landing could not be attempted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LandError {
    /// The repository or run is not usable.
    #[error(transparent)]
    Start(#[from] StartError),
    /// No record for the run.
    #[error("no run `{0}` to land")]
    UnknownRun(String),
    /// The run started from a detached commit.
    #[error("run `{0}` started from a detached commit: there is no base branch to land into")]
    NoBaseBranch(String),
    /// A branch is gone.
    #[error("branch `{0}` does not exist")]
    MissingBranch(String),
    /// A claim failed.
    #[error(transparent)]
    Claim(#[from] waypost_fences::ClaimError),
    /// A lock failed.
    #[error(transparent)]
    Lock(#[from] waypost_fences::LockError),
    /// git failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The record could not be written.
    #[error("cannot write the landing record {}: {problem}", path.display())]
    Record {
        /// The file.
        path: PathBuf,
        /// Why.
        problem: String,
    },
}

fn head_of(root: &Path, branch: &str) -> Result<String, LandError> {
    git::rev(root, &format!("refs/heads/{branch}"))?
        .ok_or_else(|| LandError::MissingBranch(branch.to_owned()))
}

fn is_ancestor(root: &Path, ancestor: &str, of: &str) -> Result<bool, GitError> {
    Ok(git::run(
        root,
        Access::Read,
        &["merge-base", "--is-ancestor", ancestor, of],
        &[1],
    )?
    .status
    .success())
}

/// What a landing of a run joins: its record, its base branch, and both
/// heads as they are now.
struct Target {
    record: RunRecordV1,
    base_branch: String,
    run_head: String,
    base_now: String,
}

impl Target {
    fn of(repo: &Repository, run_id: &str) -> Result<Self, LandError> {
        let record = repo
            .record(run_id)?
            .ok_or_else(|| LandError::UnknownRun(run_id.to_owned()))?;
        let base_branch = record
            .base_branch
            .clone()
            .ok_or_else(|| LandError::NoBaseBranch(run_id.to_owned()))?;
        let run_head = head_of(repo.root(), &record.branch)?;
        let base_now = head_of(repo.root(), &base_branch)?;
        Ok(Self {
            record,
            base_branch,
            run_head,
            base_now,
        })
    }
}

/// The governed action that lands `record`'s branch at `run_head` into its
/// base at `base_commit` with `strategy`.
pub fn landing_action(
    record: &RunRecordV1,
    base_branch: &str,
    run_head: &str,
    base_commit: &str,
    strategy: Strategy,
) -> PlanAction {
    let command = match strategy {
        Strategy::Merge => format!("git merge --no-ff {}", record.branch),
        Strategy::FastForward => format!("git merge --ff-only {}", record.branch),
        Strategy::Rebase => format!("git rebase {base_branch} {}", record.branch),
    };
    let mut action: PlanAction = serde_json::from_value(serde_json::json!({
        "action_id": "pending",
        "action_type": "git_operation",
        "title": format!("land run {} into {base_branch}", record.run_id),
        "description": format!(
            "{} {} at {run_head} into {base_branch} at {base_commit}",
            strategy.as_str(), record.branch
        ),
        "target_gap_ids": [],
        "risk_score": 0.5,
        "risk_factors": ["git_operation: moves a shared branch"],
        "approval_status": "requires_approval",
        "command": command,
        "evidence": [
            format!("run:{}", record.run_id),
            format!("run_head:{run_head}"),
            format!("base:{base_branch}@{base_commit}"),
            format!("strategy:{}", strategy.as_str()),
        ],
    }))
    .expect("a landing action is a valid plan action");
    debug_assert_eq!(action.action_type, ActionType::GitOperation);
    action.action_id = action.derive_action_id();
    action
}

/// The landing action of run `run_id` as the repository stands now: what
/// a human approves (the approval is bound to the run's head and the base
/// commit it names).
pub fn pending_action(
    repo: &Repository,
    run_id: &str,
    strategy: Strategy,
) -> Result<PlanAction, LandError> {
    let Target {
        record,
        base_branch,
        run_head,
        base_now,
    } = Target::of(repo, run_id)?;
    Ok(landing_action(
        &record,
        &base_branch,
        &run_head,
        &base_now,
        strategy,
    ))
}

// Invariant: PARALLEL-005 A run's branch lands in its base branch at most once, and a
//      landing always ends landed or merge_blocked, whoever crashes.
// Category: crash-safety
// Why: a landing retried after a crash could merge the same branch twice; a recovery that
//      refuses to look at the repository deadlocks; a lander paused past its lease and
//      resumed could move the base over its successor's result.
// Root cause: the base ref, the landing record and the lander's liveness are three
//      separate facts that no single write changes together.
// Correct pattern: one claim per base branch with a heartbeat for as long as the landing
//      runs; the result and the expected old base recorded (fenced) before the ref moves;
//      the ref moved by compare-and-swap from the expected old commit, fenced by the
//      claim's token; recovery first asks git whether the base already holds the run's
//      head or the recorded result; attempts bounded.
// Forbidden: clearing an in-progress flag before the merge; a heartbeat written once;
//      `update-ref` without the old value; retrying a landing as ordinary work.
// Enforced by: land, land_held and Fence.
/// Lands run `run_id`'s branch into its base branch. See the module docs
/// for the protocol.
pub fn land(
    repo: &Repository,
    anchor: &IntentionAnchorV2,
    run_id: &str,
    options: &LandOptions<'_>,
) -> Result<LandOutcome, LandError> {
    let step = |s| {
        tracing::info!(run = run_id, step = ?s, "landing");
        if let Some(f) = options.on_step {
            f(s);
        }
    };
    let root = repo.root();
    let Target {
        record,
        base_branch,
        run_head,
        base_now,
    } = Target::of(repo, run_id)?;

    // Already in the base: nothing to merge. A record a dead lander left
    // in progress is still settled, under the claim, without a decision
    // (nothing moves).
    let already = is_ancestor(root, &run_head, &base_now)?;
    let unsettled = record
        .landing
        .as_ref()
        .is_some_and(|l| l.state == LandingState::InProgress);
    if already && !unsettled {
        return Ok(LandOutcome::Landed {
            result: base_now,
            already: true,
        });
    }
    if !already
        && let Some(refused) = decide(anchor, &record, &base_branch, &run_head, &base_now, options)
    {
        return Ok(refused);
    }
    let outcome = with_claim(
        repo,
        run_id,
        &base_branch,
        options,
        &step,
        |fence, owner| {
            if already {
                settle_held(fence, &base_branch, &base_now)
            } else {
                land_held(
                    fence,
                    owner,
                    &base_branch,
                    (&run_head, &base_now),
                    options,
                    &step,
                )
            }
        },
    )?;
    // What this call did is audit evidence in the run's directory.
    if !already {
        let action = landing_action(
            &record,
            &base_branch,
            &run_head,
            &base_now,
            options.strategy,
        );
        let approver = options.approval.map_or_else(
            || "policy:auto".to_owned(),
            |a| format!("{} ({})", a.approver, a.channel),
        );
        record_governance(repo, &record, &action, &approver, &outcome)?;
    }
    Ok(outcome)
}

/// The landing as a governance contract and one-step job, with its audit
/// evidence, under the run's `governance/` (landed: completed; blocked:
/// failed with the reason). Nothing is written for a landing that waited
/// (busy, needs approval, denied).
fn record_governance(
    repo: &Repository,
    record: &RunRecordV1,
    action: &PlanAction,
    approver: &str,
    outcome: &LandOutcome,
) -> Result<(), LandError> {
    let (ok, said) = match outcome {
        LandOutcome::Landed { result, .. } => (true, format!("landed: {result}")),
        LandOutcome::Blocked { reason, .. } => (false, format!("merge_blocked: {reason}")),
        _ => return Ok(()),
    };
    let layout = RunLayout::new(repo.root(), &record.project_id, &record.run_id)
        .map_err(StartError::from)?;
    let failed = |problem: String| LandError::Record {
        path: layout.dir(RunDir::Governance),
        problem,
    };
    let actor = "waypost-landing";
    // One contract per attempt: a retry never overwrites an earlier one's
    // evidence.
    let attempt = repo
        .record(&record.run_id)?
        .and_then(|r| r.landing)
        .map_or(1, |l| l.attempts);
    let suffix = format!(
        "{}-{attempt}",
        action.action_id.trim_start_matches("action-")
    );
    let change = ProposedChange {
        change_id: action.action_id.clone(),
        description: action.title.clone().unwrap_or_default(),
        target_paths: vec![format!(
            "refs/heads/{}",
            record.base_branch.as_deref().unwrap_or("")
        )],
        changed_lines: 1,
    };
    let clock = Clock::System;
    let (mut contract, mut job) = start_single_step(
        &format!("contract-land-{suffix}"),
        &format!("job-land-{suffix}"),
        change,
        approver,
        &clock,
        actor,
    )
    .map_err(|e| failed(e.to_string()))?;
    let status = if ok {
        StepStatus::Completed
    } else {
        StepStatus::Failed
    };
    job.finish_step(
        0,
        status,
        vec![Excerpt::new("waypost runs land", &said)],
        clock.now(),
        actor,
    )
    .map_err(|e| failed(e.to_string()))?;
    let verdict = if ok { Ok(()) } else { Err(said.as_str()) };
    close_single_step(&mut contract, &mut job, verdict, &clock, actor)
        .map_err(|e| failed(e.to_string()))?;
    let below = layout
        .dir(RunDir::Governance)
        .strip_prefix(repo.root())
        .map(Path::to_path_buf)
        .map_err(|e| failed(e.to_string()))?;
    create_dirs_below(repo.root(), &below).map_err(|e| failed(e.to_string()))?;
    store_with_evidence(&layout, &contract, &job, clock.now()).map_err(|e| failed(e.to_string()))
}

/// The base holds the run's head already: a record left in progress is
/// marked landed (and a clean checkout the crash left behind is brought
/// along); nothing else changes.
fn settle_held(
    fence: &Fence<'_>,
    base_branch: &str,
    base_now: &str,
) -> Result<LandOutcome, LandError> {
    let repo = fence.repo;
    let record = repo
        .record(fence.run_id)?
        .ok_or_else(|| LandError::UnknownRun(fence.run_id.to_owned()))?;
    if let Some(earlier) = record
        .landing
        .filter(|l| l.state == LandingState::InProgress)
    {
        let mut landed = earlier.clone();
        landed.state = LandingState::Landed;
        landed.updated_at = Clock::System.now_millis();
        fence.write(&landed)?;
        if let Some(result) = &earlier.result {
            let _ = sync_checked_out(repo.root(), base_branch, &earlier.expected_old, result);
        }
    }
    Ok(LandOutcome::Landed {
        result: base_now.to_owned(),
        already: true,
    })
}

/// The policy's word on landing `run_head` onto `base_now`: `None` when it
/// may go ahead.
fn decide(
    anchor: &IntentionAnchorV2,
    record: &RunRecordV1,
    base_branch: &str,
    run_head: &str,
    base_now: &str,
    options: &LandOptions<'_>,
) -> Option<LandOutcome> {
    // Governance, bound to these commits.
    let action = landing_action(record, base_branch, run_head, base_now, options.strategy);
    let policy = Policy::from_anchor(anchor, None);
    let decision = policy.decide(&Action::from_plan(&action));
    match decision.verdict {
        Verdict::Deny => {
            return Some(LandOutcome::Denied {
                reason: decision.summary(),
            });
        }
        Verdict::RequireApproval => {
            let refusal = match options.approval {
                None => Some(format!("{}; no approval was given", decision.summary())),
                Some(approval) => approval_is_valid(approval, &action, &policy)
                    .err()
                    .map(|e| e.to_string()),
            };
            if let Some(reason) = refusal {
                let mut action = action;
                action.approval_status = ApprovalStatus::RequiresApproval;
                action.approval_reasons = decision.decision_reasons();
                return Some(LandOutcome::NeedsApproval {
                    action: Box::new(action),
                    reason,
                });
            }
        }
        Verdict::AutoApprove => {}
    }
    None
}

/// Runs `held` under the base branch's claim, with its heartbeat.
fn with_claim(
    repo: &Repository,
    run_id: &str,
    base_branch: &str,
    options: &LandOptions<'_>,
    step: &dyn Fn(Step),
    held: impl FnOnce(&Fence<'_>, &Owner) -> Result<LandOutcome, LandError>,
) -> Result<LandOutcome, LandError> {
    // One lander per base branch.
    let claims = repo.claim_store("landings")?;
    let key = format!(
        "base-{}",
        &waypost_schemas::canonical::sha256_hex(base_branch.as_bytes())[..32]
    );
    let owner = Owner::new(Some(&format!("landing {run_id} into {base_branch}")));
    let token = match claims.claim(&key, &owner, options.lease)? {
        ClaimOutcome::Claimed { fencing_token, .. } => fencing_token,
        ClaimOutcome::HeldBy { holder, .. } => {
            return Ok(LandOutcome::HeldBy {
                holder: Box::new(holder),
            });
        }
    };
    let beat = (options.lease / 3).max(Duration::from_millis(50));
    let heartbeat = Heartbeat::start(Arc::clone(&claims), &key, owner.token(), beat);
    step(Step::Claimed);
    let fence = Fence {
        repo,
        claims: &*claims,
        key: &key,
        token,
        run_id,
    };
    let outcome = held(&fence, &owner);
    heartbeat.stop();
    let _ = claims.release(&key, owner.token());
    outcome
}

/// The claim a landing holds, and the fenced writes made under it.
struct Fence<'a> {
    repo: &'a Repository,
    claims: &'a (dyn ClaimStore + Send + Sync),
    key: &'a str,
    token: u64,
    run_id: &'a str,
}

impl Fence<'_> {
    /// Writes the run's landing state (under the admin lock, fenced by the
    /// claim), and a copy of the run record in the run directory.
    fn write(&self, landing: &RunLanding) -> Result<(), LandError> {
        let repo = self.repo;
        let me = identity::this_process(Some("landing"));
        fenced(self.claims, self.key, self.token, || {
            let _admin = repo.admin_lock().acquire(&me, ADMIN_LOCK_TIMEOUT)?;
            let mut record = repo
                .record(self.run_id)?
                .ok_or_else(|| LandError::UnknownRun(self.run_id.to_owned()))?;
            record.landing = Some(landing.clone());
            repo.write_record(&record)?;
            write_run_local(repo, &record)
        })?
    }

    /// Moves the base ref from `old` to `new`, fenced: only while this
    /// claim is current, and only from `old`.
    fn move_ref(&self, base_branch: &str, old: &str, new: &str) -> Result<bool, LandError> {
        let root = self.repo.root().to_owned();
        let moved = fenced(self.claims, self.key, self.token, || {
            git::run(
                &root,
                Access::Write,
                &[
                    "update-ref",
                    "-m",
                    &format!("waypost: land run {}", self.run_id),
                    &format!("refs/heads/{base_branch}"),
                    new,
                    old,
                ],
                &[1, 128],
            )
            .map(|o| o.status.success())
        })??;
        Ok(moved)
    }
}

/// The run record, copied to `<run dir>/logs/run_record_v1.json`.
fn write_run_local(repo: &Repository, record: &RunRecordV1) -> Result<(), LandError> {
    let layout = RunLayout::new(repo.root(), &record.project_id, &record.run_id)
        .map_err(StartError::from)?;
    let path = layout.dir(RunDir::Logs).join("run_record_v1.json");
    let failed = |problem: String| LandError::Record {
        path: path.clone(),
        problem,
    };
    let below = path
        .parent()
        .and_then(|p| p.strip_prefix(repo.root()).ok())
        .expect("the run directory is under the root")
        .to_owned();
    create_dirs_below(repo.root(), &below).map_err(|e| failed(e.to_string()))?;
    write_atomic(&path, to_pretty_json(record).as_bytes()).map_err(|e| failed(e.to_string()))
}

/// The gate pilot's evidence of a blocked landing.
fn write_pilot_evidence(repo: &Repository, record: &RunRecordV1, text: &str) {
    let Ok(layout) = RunLayout::new(repo.root(), &record.project_id, &record.run_id) else {
        return;
    };
    let Ok(path) = layout.task_file(LANDING_TASK_KEY, TaskFile::VerificationLog) else {
        return;
    };
    if let Some(below) = path.parent().and_then(|p| p.strip_prefix(repo.root()).ok())
        && create_dirs_below(repo.root(), below).is_ok()
    {
        let _ = write_atomic(&path, format!("{text}\nexit status: 1\n").as_bytes());
    }
}

fn land_held(
    fence: &Fence<'_>,
    owner: &Owner,
    base_branch: &str,
    (decided_head, decided_base): (&str, &str),
    options: &LandOptions<'_>,
    step: &dyn Fn(Step),
) -> Result<LandOutcome, LandError> {
    let repo = fence.repo;
    let root = repo.root();
    let record = repo
        .record(fence.run_id)?
        .ok_or_else(|| LandError::UnknownRun(fence.run_id.to_owned()))?;
    // The commits the decision was about, never whatever the refs hold now:
    // a run branch moved after its approval is not landed.
    let run_head = decided_head.to_owned();
    let old = decided_base.to_owned();
    if head_of(root, &record.branch)? != run_head {
        return Ok(LandOutcome::Blocked {
            reason: format!(
                "{} moved after the landing was decided (it was at {run_head}); approve and land again",
                record.branch
            ),
            conflicts: Vec::new(),
        });
    }
    let base_current = head_of(root, base_branch)?;
    let now = || Clock::System.now_millis();

    // Recovery: settle what an earlier lander left.
    let mut attempts = 0;
    if let Some(earlier) = &record.landing
        && earlier.run_head == run_head
    {
        let holds = |commit: &str| is_ancestor(root, commit, &base_current);
        let done = holds(&run_head)?
            || earlier
                .result
                .as_deref()
                .map(holds)
                .transpose()?
                .unwrap_or(false);
        if done {
            {
                if earlier.state != LandingState::Landed {
                    let mut landed = earlier.clone();
                    landed.state = LandingState::Landed;
                    landed.updated_at = now();
                    fence.write(&landed)?;
                    // A checkout of the base left behind by the crash.
                    if let Some(result) = &earlier.result {
                        let _ = sync_checked_out(root, base_branch, &earlier.expected_old, result);
                    }
                }
                return Ok(LandOutcome::Landed {
                    result: base_current,
                    already: true,
                });
            }
        }
        // A conflict of the same commits is the same conflict; any other
        // block (a checkout, a moved base) is looked at again.
        if earlier.state == LandingState::MergeBlocked
            && earlier.expected_old == old
            && earlier.strategy == options.strategy.as_str()
            && !earlier.conflicts.is_empty()
        {
            return Ok(LandOutcome::Blocked {
                reason: earlier.reason.clone().unwrap_or_default(),
                conflicts: earlier.conflicts.clone(),
            });
        }
        if earlier.state == LandingState::InProgress {
            attempts = earlier.attempts;
        }
    }
    attempts += 1;
    let mut landing = RunLanding {
        state: LandingState::InProgress,
        strategy: options.strategy.as_str().to_owned(),
        base_branch: base_branch.to_owned(),
        expected_old: old.clone(),
        run_head: run_head.clone(),
        result: None,
        attempts,
        fencing_token: fence.token,
        owner: Some(owner.identity().clone()),
        reason: None,
        conflicts: Vec::new(),
        updated_at: now(),
    };
    let block = |mut landing: RunLanding, reason: String, conflicts: Vec<String>| {
        landing.state = LandingState::MergeBlocked;
        landing.reason = Some(reason.clone());
        landing.conflicts = conflicts.clone();
        landing.updated_at = now();
        fence.write(&landing)?;
        let evidence = if conflicts.is_empty() {
            format!("landing blocked: {reason}")
        } else {
            format!(
                "merge conflict (content): {}\n{reason}",
                conflicts.join(", ")
            )
        };
        write_pilot_evidence(repo, &record, &evidence);
        Ok(LandOutcome::Blocked { reason, conflicts })
    };
    if attempts > options.max_attempts {
        return block(
            landing,
            format!(
                "{} landing attempts were started without finishing (at most {}); find out why landers die, then land again",
                attempts - 1,
                options.max_attempts
            ),
            Vec::new(),
        );
    }

    // A checkout of the base elsewhere must be clean to be brought along.
    let checkouts: Vec<PathBuf> = git::worktrees(root)?
        .into_iter()
        .filter(|w| w.branch.as_deref() == Some(base_branch) && !w.prunable)
        .map(|w| w.path)
        .collect();
    for checkout in &checkouts {
        let dirty = git::run(
            checkout,
            Access::Read,
            &["status", "--porcelain", "--untracked-files=no"],
            &[],
        )?;
        if !dirty.stdout.is_empty() {
            return block(
                landing,
                format!(
                    "{base_branch} is checked out in {} with uncommitted changes; commit or stash them there, then land again",
                    checkout.display()
                ),
                Vec::new(),
            );
        }
    }

    // Read-only preflight and the result commit.
    let result = match compute(
        root,
        &record,
        base_branch,
        &old,
        &run_head,
        options.strategy,
    )? {
        Computed::Result(result) => result,
        Computed::Conflicts(paths) => {
            return block(
                landing,
                format!("merging {} into {base_branch} conflicts", record.branch),
                paths,
            );
        }
        Computed::Refused(reason) => return block(landing, reason, Vec::new()),
    };
    // A checkout of the base must take the new commit without losing an
    // untracked file: the same update, as a dry run, before anything moves.
    for checkout in &checkouts {
        let dry = git::run(
            checkout,
            Access::Read,
            &["read-tree", "-m", "-u", "-n", &old, &result],
            &[128],
        )?;
        if !dry.status.success() {
            return block(
                landing,
                format!(
                    "{base_branch} is checked out in {}, which cannot take the result: {}",
                    checkout.display(),
                    String::from_utf8_lossy(&dry.stderr).trim()
                ),
                Vec::new(),
            );
        }
    }
    step(Step::Computed);
    landing.result = Some(result.clone());
    fence.write(&landing)?;
    step(Step::Recorded);

    if !fence.move_ref(base_branch, &old, &result)? {
        // The base moved since the preflight: nothing was changed. The
        // landing ends blocked (an approval named the old base); landing
        // again starts a fresh attempt from the new base.
        let reason =
            format!("{base_branch} moved while landing (expected {old}); approve and land again");
        landing.state = LandingState::MergeBlocked;
        landing.reason = Some(reason.clone());
        landing.updated_at = now();
        fence.write(&landing)?;
        return Ok(LandOutcome::Blocked {
            reason,
            conflicts: Vec::new(),
        });
    }
    step(Step::Moved);
    for checkout in &checkouts {
        sync_checked_out_path(checkout, &old, &result)?;
    }
    landing.state = LandingState::Landed;
    landing.updated_at = now();
    fence.write(&landing)?;
    Ok(LandOutcome::Landed {
        result,
        already: false,
    })
}

enum Computed {
    Result(String),
    Conflicts(Vec<String>),
    Refused(String),
}

/// The commit the base moves to, computed from objects alone.
fn compute(
    root: &Path,
    record: &RunRecordV1,
    base_branch: &str,
    old: &str,
    head: &str,
    strategy: Strategy,
) -> Result<Computed, GitError> {
    match strategy {
        Strategy::FastForward => Ok(if is_ancestor(root, old, head)? {
            Computed::Result(head.to_owned())
        } else {
            Computed::Refused(format!(
                "{} is not a fast-forward of {base_branch}; land with merge or rebase",
                record.branch
            ))
        }),
        Strategy::Merge => {
            let tree = match git::merge_tree(root, old, head)? {
                git::MergeTree::Clean(tree) => tree,
                git::MergeTree::Conflicts(paths) => return Ok(Computed::Conflicts(paths)),
            };
            let message = format!(
                "Merge run {} ({}) into {base_branch}",
                record.run_id, record.branch
            );
            let commit = identity_env(git::command(root, Access::Write))
                .args(["commit-tree", &tree, "-p", old, "-p", head, "-m", &message])
                .output()
                .map_err(|source| GitError::Spawn {
                    args: "commit-tree".to_owned(),
                    source,
                })?;
            if !commit.status.success() {
                return Err(GitError::Failed {
                    args: "commit-tree".to_owned(),
                    dir: root.to_owned(),
                    code: commit.status.code().unwrap_or(-1),
                    stderr: String::from_utf8_lossy(&commit.stderr).trim().to_owned(),
                });
            }
            Ok(Computed::Result(
                String::from_utf8_lossy(&commit.stdout).trim().to_owned(),
            ))
        }
        Strategy::Rebase => {
            let replayed = identity_env(git::command(root, Access::Write))
                .args([
                    "replay",
                    "--onto",
                    old,
                    &format!("{old}..refs/heads/{}", record.branch),
                ])
                .output()
                .map_err(|source| GitError::Spawn {
                    args: "replay".to_owned(),
                    source,
                })?;
            if !replayed.status.success() {
                // A replay stops at the first conflicting commit; the
                // paths are the ones a merge of the whole branch names.
                return Ok(match git::merge_tree(root, old, head)? {
                    git::MergeTree::Conflicts(paths) => Computed::Conflicts(paths),
                    git::MergeTree::Clean(_) => Computed::Refused(format!(
                        "git replay could not rebase {}: {}",
                        record.branch,
                        String::from_utf8_lossy(&replayed.stderr).trim()
                    )),
                });
            }
            // `update refs/heads/<branch> <new> <old>`: <old> must be the
            // head the preflight saw.
            let text = String::from_utf8_lossy(&replayed.stdout).into_owned();
            let fields: Vec<&str> = text.split_whitespace().collect();
            let new = match fields.as_slice() {
                ["update", _, new, was] if *was == head => Some((*new).to_owned()),
                _ => None,
            };
            Ok(match new {
                Some(new) => Computed::Result(new),
                None => Computed::Refused(format!("git replay gave no result: {}", text.trim())),
            })
        }
    }
}

/// Commits waypost makes name it, unless the repository names someone.
fn identity_env(mut command: std::process::Command) -> std::process::Command {
    command
        .env("GIT_AUTHOR_NAME", "waypost")
        .env("GIT_AUTHOR_EMAIL", "waypost@localhost")
        .env("GIT_COMMITTER_NAME", "waypost")
        .env("GIT_COMMITTER_EMAIL", "waypost@localhost");
    command
}

// Invariant: PARALLEL-006 A landing changes a checkout of the base branch only when it is
//      clean, and never commits, stashes or discards anything in it.
// Category: filesystem
// Why: the base branch may be checked out in a worktree a person is working in; moving
//      the ref under it without its files makes their next commit revert the landing, and
//      resetting it loses their work.
// Correct pattern: refuse (merge_blocked, naming the worktree) before the ref moves when a
//      checkout has uncommitted changes; after the move, bring a checkout whose index and
//      files are exactly the old commit to the new one with `read-tree -m -u`.
// Forbidden: `reset --hard`, `stash`, `checkout -f` or a commit in a worktree waypost
//      does not own.
// Enforced by: land_held and sync_checked_out_path.
/// Brings every clean checkout of `base_branch` from `old` to `new`.
fn sync_checked_out(root: &Path, base_branch: &str, old: &str, new: &str) -> Result<(), GitError> {
    for w in git::worktrees(root)? {
        if w.branch.as_deref() == Some(base_branch) && !w.prunable {
            sync_checked_out_path(&w.path, old, new)?;
        }
    }
    Ok(())
}

/// Updates the index and files of `checkout` from `old`'s tree to `new`'s,
/// only when they are exactly `old`'s (a clean checkout the ref moved
/// under): `git read-tree -m -u`, which refuses to overwrite anything else.
fn sync_checked_out_path(checkout: &Path, old: &str, new: &str) -> Result<(), GitError> {
    // Stat data first, so an unchanged file touched since is not "changed".
    git::run(
        checkout,
        Access::Write,
        &["update-index", "-q", "--refresh"],
        &[1],
    )?;
    let clean_files = git::run(checkout, Access::Read, &["diff-files", "--quiet"], &[1])?
        .status
        .success();
    let index_at_old = git::run(
        checkout,
        Access::Read,
        &["diff-index", "--cached", "--quiet", old],
        &[1],
    )?
    .status
    .success();
    if clean_files && index_at_old {
        git::run(
            checkout,
            Access::Write,
            &["read-tree", "-m", "-u", old, new],
            &[],
        )?;
    }
    Ok(())
}
