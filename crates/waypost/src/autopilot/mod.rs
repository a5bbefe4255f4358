//! The autopilot: the whole loop, anchor → scan → propose → decide →
//! execute → verify → record.
//!
//! 1. Load the anchor (the built-in default when none is authored; the
//!    report says so).
//! 2. Scan with the built-in detectors.
//! 3. Propose a plan; store the anchor, the report and the plan in a new run
//!    directory, and start the session record (`autonomy/`), so a run that
//!    stops here is recorded too.
//! 4. With the autopilot enabled, for each action in plan order: ask the
//!    policy again (the stored plan's verdict is not trusted); run it only
//!    when auto-approved, or when a stored approval is bound to its content
//!    as it is now; find an executor; charge its estimated cost to the
//!    run's budget (a crossed cap follows `cost_escalation_policy`, it is
//!    never raised); then run it inside a governance contract and job.
//! 5. Rescan with the detectors that found the executed actions' gaps: an
//!    action whose gap is still there failed, whatever its executor said.
//!    Each executed action gets a proof (`proofs/<action>.json`), its job
//!    and contract snapshots and audit evidence (`governance/`).
//! 6. What was not run is recorded as an approval request with the reason;
//!    with the autopilot off, the session lists what it would have run.
//!
//! [`AutopilotConfig::resume`] reruns steps 4–6 on an earlier run's stored
//! plan: after `waypost approve`, exactly the approved actions run.

mod executors;
mod record;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use waypost_fences::{LockFile, identity};
use waypost_gaps::{ReportContext, ScanError, detectors};
use waypost_governance::{
    Action, Budget, Contract, Policy, Spend, Verdict, approval_is_valid, close_single_step,
    load_approval, start_single_step, store_contract, store_job, store_with_evidence,
};
use waypost_intention::{AnchorError, AnchorOrigin, resolve_anchor};
use waypost_planning::propose::{ProposeError, ProposeOptions, propose};
use waypost_schemas::canonical::sha256_hex;
use waypost_schemas::config::ConfigError;
use waypost_schemas::io::{
    Links, LoadError, WriteError, create_dirs_below, read_artifact, read_file, write_artifact,
};
use waypost_schemas::layout::{CreateDirError, IdError, IdKind, RunDir, check_id, new_run_id};
use waypost_schemas::paths::{RepoPath, resolve};
use waypost_schemas::{
    ActionOutcome, ActionProofV1, ApprovalBasis, ApprovalRecordV1, ApprovalRequest,
    AutopilotSessionV1, Clock, Excerpt, ExecutedAction, ExecutionSummary, FormatV1, GapReportV1,
    IntentionAnchorV2, PlanAction, PlanProposalV1, ProposedChange, RequestStatus, RunLayout,
    SessionError, SessionMetadata, SessionStatus, StepStatus, Timestamp,
};

pub use executors::{
    AppendLedgerEntries, ApplyTextEdits, ArchiveClutter, ExecuteError, Executor, RemoveStaleFile,
    builtin,
};
pub use record::RECORD_ACTION_PREFIX;

/// The largest file a proof fingerprints.
const MAX_PROOF_READ: u64 = 16 * 1024 * 1024;

/// The actor the autopilot records in contracts and jobs.
pub const ACTOR: &str = "waypost-autopilot";

/// The budget phase executed actions are charged to.
pub const PHASE: &str = "execute";

/// How the autopilot runs.
pub struct AutopilotConfig {
    /// The repository.
    pub root: PathBuf,
    /// Execute actions (off by default: the loop stops after proposing).
    pub enabled: bool,
    /// The anchor file, instead of finding it in the repository.
    pub anchor_file: Option<PathBuf>,
    /// Continue this earlier run: its stored plan, not a new scan.
    pub resume: Option<String>,
    /// The clock for timestamps and run ids.
    pub clock: Clock,
    /// The executors, tried in order ([`builtin`] by default).
    pub executors: Vec<Box<dyn Executor>>,
    /// Told each stage as it starts (a progress display).
    pub on_stage: Option<StageFn>,
    /// Where the record step appends ledger entries (the repository's
    /// files by default; a shared database when `[store]` names one).
    pub store: crate::store::Store,
}

/// What [`AutopilotConfig::on_stage`] calls.
pub type StageFn = Box<dyn Fn(Stage<'_>) + Send + Sync>;

/// A stage of the loop, as it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage<'a> {
    /// Loading the anchor.
    Anchor,
    /// Scanning.
    Scan,
    /// Proposing a plan.
    Propose,
    /// Executing an action (its title).
    Execute(&'a str),
    /// Rescanning to verify.
    Verify,
    /// Recording the run in the ledgers.
    Record,
}

impl std::fmt::Debug for AutopilotConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutopilotConfig")
            .field("root", &self.root)
            .field("enabled", &self.enabled)
            .field("resume", &self.resume)
            .field("on_stage", &self.on_stage.is_some())
            .field(
                "executors",
                &self.executors.iter().map(|e| e.name()).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl AutopilotConfig {
    /// The defaults for the repository at `root`: disabled, the system
    /// clock, the built-in executors.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            enabled: false,
            anchor_file: None,
            resume: None,
            clock: Clock::System,
            executors: builtin(),
            on_stage: None,
            store: crate::store::Store::Files,
        }
    }

    /// Calls `f` as each stage starts.
    #[must_use]
    pub fn on_stage(mut self, f: impl Fn(Stage<'_>) + Send + Sync + 'static) -> Self {
        self.on_stage = Some(Box::new(f));
        self
    }

    /// Keeps the ledgers in `store`.
    #[must_use]
    pub fn store(mut self, store: crate::store::Store) -> Self {
        self.store = store;
        self
    }

    /// Enables (or not) execution.
    #[must_use]
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Continues run `run_id` on its stored plan.
    #[must_use]
    pub fn resume(mut self, run_id: impl Into<String>) -> Self {
        self.resume = Some(run_id.into());
        self
    }

    /// Uses `clock`.
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Adds an executor, tried before the ones already there.
    #[must_use]
    pub fn with_executor(mut self, executor: Box<dyn Executor>) -> Self {
        self.executors.insert(0, executor);
        self
    }
}

/// The loop could not run; what was written before stays as it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AutopilotError {
    /// The anchor is missing or invalid.
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    /// `waypost.toml` is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The scan failed.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// No plan could be proposed.
    #[error(transparent)]
    Propose(#[from] ProposeError),
    /// A run id is not usable.
    #[error(transparent)]
    Id(#[from] IdError),
    /// The run directory could not be created.
    #[error(transparent)]
    RunDir(#[from] CreateDirError),
    /// An artifact could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The run to resume has no usable plan.
    #[error("cannot resume run `{run_id}`: {problem}")]
    Resume {
        /// The run.
        run_id: String,
        /// Why.
        problem: String,
    },
    /// Another autopilot is running this run.
    #[error("run `{run_id}` is being run by {holder}; wait for it to end")]
    Busy {
        /// The run.
        run_id: String,
        /// Who holds it.
        holder: String,
    },
    /// The run could not be consolidated into the ledgers.
    #[error(transparent)]
    Tidy(#[from] waypost_ledger::TidyError),
    /// A governance record could not be kept.
    #[error("governance record of action {action_id}: {problem}")]
    Governance {
        /// The action.
        action_id: String,
        /// What failed.
        problem: String,
    },
}

/// What a run of the loop did.
#[derive(Debug)]
pub struct AutopilotReport {
    /// The run.
    pub run_id: String,
    /// Its directory.
    pub run_dir: PathBuf,
    /// No anchor was authored: the built-in default was used.
    pub anchor_is_default: bool,
    /// Whether actions could be executed.
    pub enabled: bool,
    /// The gap report the plan was made from.
    pub report: GapReportV1,
    /// The plan.
    pub plan: PlanProposalV1,
    /// The session record, as written.
    pub session: AutopilotSessionV1,
}

/// The loop.
#[derive(Debug)]
pub struct Autopilot {
    config: AutopilotConfig,
}

/// An action that may run, and why.
struct Cleared<'a> {
    action: &'a PlanAction,
    basis: ApprovalBasis,
    executor: &'a dyn Executor,
}

/// An action that ran, waiting for the rescan.
struct Ran<'a> {
    cleared: Cleared<'a>,
    contract: Contract,
    job: waypost_governance::Job,
    report: Result<String, ExecuteError>,
    before: BTreeMap<String, String>,
}

impl Autopilot {
    /// The loop with `config`.
    pub fn new(config: AutopilotConfig) -> Self {
        Self { config }
    }

    /// Runs the loop once. See the module documentation.
    pub fn run(&self) -> Result<AutopilotReport, AutopilotError> {
        let cfg = &self.config;
        let stage = |s: Stage<'_>| {
            tracing::info!(stage = ?s, "autopilot");
            if let Some(f) = &cfg.on_stage {
                f(s);
            }
        };
        stage(Stage::Anchor);
        // Absolute, so every path the report gives is usable from anywhere.
        let root = &cfg.root.canonicalize().map_err(|source| ScanError::Root {
            path: cfg.root.clone(),
            reason: source.to_string(),
        })?;
        let resolved = resolve_anchor(root, cfg.anchor_file.as_deref(), &cfg.clock)?;
        let anchor_is_default = matches!(resolved.origin, AnchorOrigin::BuiltInDefault);
        let anchor = resolved.anchor;
        let started = cfg.clock.now();
        let (layout, report, plan) = match &cfg.resume {
            Some(run_id) => resume(root, &anchor, run_id)?,
            None => fresh(root, &anchor, &cfg.clock, &started, &stage)?,
        };
        // One autopilot per run at a time.
        let lock = LockFile::new(layout.dir(RunDir::Autonomy).join("autopilot.lock"));
        let _held = match lock
            .try_acquire(&identity::this_process(Some("autopilot")))
            .map_err(|e| AutopilotError::Busy {
                run_id: layout.run_id().to_owned(),
                holder: e.to_string(),
            })? {
            Some(guard) => guard,
            None => {
                return Err(AutopilotError::Busy {
                    run_id: layout.run_id().to_owned(),
                    holder: lock.holder().map_or_else(
                        || "another process".to_owned(),
                        |h| format!("pid {}", h.pid),
                    ),
                });
            }
        };
        // What an earlier session of this run already did, and the actions
        // as waypost proposes them for the stored report (a plan edited on
        // disk does not match).
        let earlier: Vec<ExecutedAction> =
            read_artifact::<AutopilotSessionV1>(&layout.autopilot_session())
                .map(|s| s.executed_actions)
                .unwrap_or_default();
        let proposed: BTreeSet<String> = if cfg.resume.is_some() {
            let options = ProposeOptions::new(layout.run_id(), plan.generated_at.clone());
            propose(&anchor, &report, &options)
                .map(|p| p.actions.iter().map(PlanAction::content_sha256).collect())
                .unwrap_or_default()
        } else {
            plan.actions
                .iter()
                .map(PlanAction::content_sha256)
                .collect()
        };
        let mut session = AutopilotSessionV1 {
            format_version: FormatV1,
            project_id: anchor.project_id.clone(),
            run_id: layout.run_id().to_owned(),
            session_id: format!(
                "session-{}",
                &sha256_hex(format!("{}\n{}", layout.run_id(), started.as_str()).as_bytes())[..24]
            ),
            started_at: started.clone(),
            completed_at: None,
            status: SessionStatus::Running,
            anchor_id: anchor.anchor_id(),
            gap_report_id: report.gap_report_id(),
            plan_proposal_id: plan.plan_proposal_id(),
            execution_summary: None,
            executed_action_ids: Vec::new(),
            executed_actions: Vec::new(),
            would_execute_action_ids: Vec::new(),
            blocked_reason: None,
            approval_requests: Vec::new(),
            error_log: Vec::new(),
            metadata: Some(SessionMetadata {
                autopilot_version: Some(crate::VERSION.to_owned()),
                session_duration_ms: None,
                enabled_explicitly: Some(cfg.enabled),
                extra: Default::default(),
            }),
            extra: Default::default(),
        };
        let session_path = layout.autopilot_session();
        write_artifact(&session_path, &session)?;

        let policy = Policy::from_anchor(&anchor, Some(root.to_owned()));
        let mut budget = Budget::from_anchor(&anchor, BTreeMap::new());
        let mut summary = ExecutionSummary {
            total_actions: plan.actions.len() as u64,
            ..ExecutionSummary::default()
        };
        let mut cleared: Vec<Cleared<'_>> = Vec::new();
        let mut not_run: BTreeSet<&str> = BTreeSet::new();
        let mut budget_stop: Option<String> = None;
        for action in &plan.actions {
            let request = |status, reason: String| ApprovalRequest {
                action_id: action.action_id.clone(),
                approval_status: status,
                reason,
            };
            if let Some(done) = earlier
                .iter()
                .find(|e| e.action_id == action.action_id && e.outcome == ActionOutcome::Succeeded)
            {
                // Done by an earlier session of this run: never twice.
                session.executed_action_ids.push(done.action_id.clone());
                session.executed_actions.push(done.clone());
                summary.executed_actions += 1;
                summary.successful_actions += 1;
                continue;
            }
            let refusal = if let Err(e) = check_id(IdKind::Action, &action.action_id) {
                Some(e.to_string())
            } else if !proposed.contains(&action.content_sha256()) {
                Some("the stored plan's action is not what waypost proposes for the stored report and the anchor in force (edited on disk, or the anchor changed): run again".to_owned())
            } else if action.target_gap_ids.is_empty() {
                Some("the action names no gap, so no rescan could show it worked".to_owned())
            } else {
                None
            };
            if let Some(reason) = refusal {
                not_run.insert(&action.action_id);
                session
                    .approval_requests
                    .push(request(RequestStatus::Blocked, reason));
                continue;
            }
            // An action no executor carries out is for a person or an agent:
            // approving it here would run nothing.
            let Some(executor) = cfg.executors.iter().find(|e| e.handles(action)) else {
                not_run.insert(&action.action_id);
                session.approval_requests.push(request(
                    RequestStatus::Blocked,
                    format!(
                        "no executor carries out a {} action like this one; it is for a person or an agent",
                        action.action_type.as_str()
                    ),
                ));
                continue;
            };
            if let Some(dep) = action
                .dependencies
                .iter()
                .find(|d| not_run.contains(d.as_str()))
            {
                not_run.insert(&action.action_id);
                session.approval_requests.push(request(
                    RequestStatus::RequiresApproval,
                    format!("waits for {dep}, which does not run"),
                ));
                continue;
            }
            let decision = policy.decide(&Action::from_plan(action));
            tracing::debug!(
                action = %action.action_id,
                verdict = %decision.verdict,
                reason = %decision.summary(),
                "decided"
            );
            let basis = match decision.verdict {
                Verdict::Deny => {
                    not_run.insert(&action.action_id);
                    session
                        .approval_requests
                        .push(request(RequestStatus::Blocked, decision.summary()));
                    continue;
                }
                Verdict::AutoApprove => {
                    summary.auto_approved_actions += 1;
                    ApprovalBasis::Rule {
                        rule_id: decision
                            .reasons
                            .iter()
                            .find(|r| r.verdict == Verdict::AutoApprove)
                            .map(|r| r.rule_id.clone())
                            .unwrap_or_else(|| "policy:auto_approve".to_owned()),
                    }
                }
                Verdict::RequireApproval => {
                    let stored = load_approval(&layout, &action.action_id).ok().flatten();
                    let for_run = |a: &ApprovalRecordV1| match &a.run_id {
                        Some(run) if run != layout.run_id() => Err(format!(
                            "the approval was given in run `{run}`, not this one"
                        )),
                        _ => approval_is_valid(a, action, &policy).map_err(|e| e.to_string()),
                    };
                    match stored.map(|a| (for_run(&a), a)) {
                        Some((Ok(()), approval)) => ApprovalBasis::Approval {
                            approver: approval.approver,
                            channel: approval.channel,
                            approved_at: approval.approved_at,
                            record: relative(&layout, &layout.approval(&action.action_id)?),
                        },
                        Some((Err(why), _)) => {
                            not_run.insert(&action.action_id);
                            session.approval_requests.push(request(
                                RequestStatus::RequiresApproval,
                                format!(
                                    "{}; the stored approval does not count: {why}",
                                    decision.summary()
                                ),
                            ));
                            continue;
                        }
                        None => {
                            not_run.insert(&action.action_id);
                            session
                                .approval_requests
                                .push(request(RequestStatus::RequiresApproval, decision.summary()));
                            continue;
                        }
                    }
                }
            };
            if !cfg.enabled {
                session
                    .would_execute_action_ids
                    .push(action.action_id.clone());
                continue;
            }
            if budget_stop.is_none() {
                let cost = action.estimated_cost.as_ref();
                let spend = Spend {
                    tokens: cost.and_then(|c| c.tokens).unwrap_or(0),
                    seconds: cost.and_then(|c| c.time_seconds).unwrap_or(0),
                };
                if let Err(e) = budget.record(PHASE, spend) {
                    budget_stop = Some(e.to_string());
                }
            }
            if let Some(why) = &budget_stop {
                not_run.insert(&action.action_id);
                session.approval_requests.push(request(
                    RequestStatus::RequiresApproval,
                    format!("the budget stops here: {why}"),
                ));
                continue;
            }
            cleared.push(Cleared {
                action,
                basis,
                executor: executor.as_ref(),
            });
        }

        // Execute.
        let mut ran: Vec<Ran<'_>> = Vec::new();
        for c in cleared {
            let action = c.action;
            if action
                .dependencies
                .iter()
                .any(|d| not_run.contains(d.as_str()))
            {
                not_run.insert(&action.action_id);
                session.approval_requests.push(ApprovalRequest {
                    action_id: action.action_id.clone(),
                    approval_status: RequestStatus::RequiresApproval,
                    reason: "an action it depends on failed".to_owned(),
                });
                continue;
            }
            stage(Stage::Execute(
                action.title.as_deref().unwrap_or(action.action_id.as_str()),
            ));
            match execute(root, &layout, &cfg.clock, c) {
                Ok(outcome) => {
                    if outcome.report.is_err() {
                        not_run.insert(&outcome.cleared.action.action_id);
                    }
                    ran.push(outcome);
                }
                Err(e) => {
                    not_run.insert(&action.action_id);
                    summary.failed_actions += 1;
                    session.error_log.push(SessionError {
                        timestamp: cfg.clock.now(),
                        action_id: Some(action.action_id.clone()),
                        error_type: "governance_record".to_owned(),
                        error_message: e.to_string(),
                    });
                }
            }
        }

        // Verify on evidence: rescan with the detectors that found the gaps.
        let remaining = if ran.is_empty() {
            BTreeSet::new()
        } else {
            stage(Stage::Verify);
            rescan(root, &anchor, &report, &ran, &layout, &cfg.clock)?
        };
        let executed_now = ran.len();
        for r in ran {
            let action_id = r.cleared.action.action_id.clone();
            let still: Vec<String> = r
                .cleared
                .action
                .target_gap_ids
                .iter()
                .filter(|g| remaining.contains(*g))
                .cloned()
                .collect();
            let entry = match finish(&layout, &cfg.clock, r, still, None) {
                Ok(entry) => entry,
                Err(e) => {
                    summary.failed_actions += 1;
                    session.error_log.push(SessionError {
                        timestamp: cfg.clock.now(),
                        action_id: Some(action_id),
                        error_type: "governance_record".to_owned(),
                        error_message: e.to_string(),
                    });
                    continue;
                }
            };
            summary.executed_actions += 1;
            match entry.outcome {
                ActionOutcome::Succeeded => summary.successful_actions += 1,
                ActionOutcome::Failed => {
                    summary.failed_actions += 1;
                    session.error_log.push(SessionError {
                        timestamp: cfg.clock.now(),
                        action_id: Some(entry.action_id.clone()),
                        error_type: "action_failed".to_owned(),
                        error_message: if entry.remaining_gap_ids.is_empty() {
                            entry.executor_report.clone()
                        } else {
                            format!(
                                "the rescan still finds {}",
                                entry.remaining_gap_ids.join(", ")
                            )
                        },
                    });
                }
            }
            session.executed_action_ids.push(entry.action_id.clone());
            session.executed_actions.push(entry);
        }

        settle(
            &mut session,
            summary.clone(),
            cfg.enabled,
            plan.actions.len(),
        );
        let ended = cfg.clock.now_millis();
        session.completed_at = Some(cfg.clock.now());
        if let Some(meta) = session.metadata.as_mut() {
            meta.session_duration_ms =
                u64::try_from(ended.unix_millis() - started.unix_millis()).ok();
        }
        write_artifact(&session_path, &session)?;

        // Record what ran in the ledgers: the session just written is one
        // of the artifacts tidy takes.
        if cfg.enabled && executed_now > 0 && record::asks_for_memory(&anchor) {
            stage(Stage::Record);
            let recorded = record::consolidate(
                root,
                &anchor,
                &session.gap_report_id,
                &layout,
                &cfg.clock,
                &policy,
                &cfg.store,
            )?;
            if let Some(recorded) = recorded {
                match recorded {
                    record::Recorded::Ran(entry, unverified) => {
                        summary.total_actions += 1;
                        summary.auto_approved_actions += 1;
                        summary.executed_actions += 1;
                        if entry.outcome == ActionOutcome::Succeeded {
                            summary.successful_actions += 1;
                        } else {
                            summary.failed_actions += 1;
                            session.error_log.push(SessionError {
                                timestamp: cfg.clock.now(),
                                action_id: Some(entry.action_id.clone()),
                                error_type: "action_failed".to_owned(),
                                error_message: unverified
                                    .unwrap_or_else(|| entry.executor_report.clone()),
                            });
                        }
                        session.executed_action_ids.push(entry.action_id.clone());
                        session.executed_actions.push(*entry);
                    }
                    record::Recorded::Request(request) => {
                        summary.total_actions += 1;
                        session.approval_requests.push(request);
                    }
                }
                settle(&mut session, summary, cfg.enabled, plan.actions.len());
                session.completed_at = Some(cfg.clock.now());
                write_artifact(&session_path, &session)?;
            }
        }
        tracing::info!(
            run = %layout.run_id(),
            status = ?session.status,
            executed = session.executed_actions.len(),
            requests = session.approval_requests.len(),
            "session recorded"
        );
        Ok(AutopilotReport {
            run_id: layout.run_id().to_owned(),
            run_dir: layout.run_dir(),
            anchor_is_default,
            enabled: cfg.enabled,
            report,
            plan,
            session,
        })
    }
}

/// The session's status, blocked reason and summary from what happened.
fn settle(
    session: &mut AutopilotSessionV1,
    mut summary: ExecutionSummary,
    enabled: bool,
    planned: usize,
) {
    summary.blocked_actions = session.approval_requests.len() as u64;
    session.status = if summary.failed_actions > 0 {
        SessionStatus::Failed
    } else if !session.approval_requests.is_empty()
        || (!enabled && !session.would_execute_action_ids.is_empty())
    {
        SessionStatus::BlockedApprovalRequired
    } else {
        SessionStatus::Completed
    };
    session.blocked_reason = if !enabled && planned > 0 {
        Some(format!(
            "the autopilot is off (`[autopilot] enabled = true` in waypost.toml, or --enable): nothing was executed; {} action(s) would run, {} need a person",
            session.would_execute_action_ids.len(),
            session.approval_requests.len()
        ))
    } else if !session.approval_requests.is_empty() {
        Some(format!(
            "{} action(s) need a person: see approval_requests",
            session.approval_requests.len()
        ))
    } else {
        None
    };
    session.execution_summary = Some(summary);
}

/// A new run: scan, propose, store the three inputs.
fn fresh(
    root: &Path,
    anchor: &IntentionAnchorV2,
    clock: &Clock,
    now: &Timestamp,
    stage: &dyn Fn(Stage<'_>),
) -> Result<(RunLayout, GapReportV1, PlanProposalV1), AutopilotError> {
    // Two runs in one second get distinct directories.
    let base = new_run_id("autopilot", now)?;
    let mut run_id = base.clone();
    let mut n = 1;
    // The run directory is created exclusively: two runs started in the
    // same second get distinct ones.
    let layout = loop {
        let layout = RunLayout::new(root, &anchor.project_id, &run_id)?;
        let dir = layout.run_dir();
        if let Some(parent) = dir.parent().and_then(|p| p.strip_prefix(root).ok()) {
            create_dirs_below(root, parent).map_err(|e| CreateDirError {
                path: dir.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
        }
        match std::fs::create_dir(&dir) {
            Ok(()) => break layout,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                n += 1;
                run_id = format!("{base}-{n}");
            }
            Err(source) => return Err(CreateDirError { path: dir, source }.into()),
        }
    };
    stage(Stage::Scan);
    let report = scan(root, anchor, &run_id, clock, None)?;
    stage(Stage::Propose);
    let options = ProposeOptions::new(run_id.clone(), now.clone());
    let plan = propose(anchor, &report, &options)?;
    layout.create_dirs()?;
    write_artifact(&layout.intention_anchor(), anchor)?;
    write_artifact(&layout.gap_report(), &report)?;
    write_artifact(&layout.plan_proposal(), &plan)?;
    Ok((layout, report, plan))
}

/// An earlier run's stored report and plan.
fn resume(
    root: &Path,
    anchor: &IntentionAnchorV2,
    run_id: &str,
) -> Result<(RunLayout, GapReportV1, PlanProposalV1), AutopilotError> {
    let layout = RunLayout::new(root, &anchor.project_id, run_id)?;
    let failed = |e: LoadError| AutopilotError::Resume {
        run_id: run_id.to_owned(),
        problem: e.to_string(),
    };
    let report: GapReportV1 = read_artifact(&layout.gap_report()).map_err(failed)?;
    let plan: PlanProposalV1 = read_artifact(&layout.plan_proposal()).map_err(failed)?;
    layout.create_dirs()?;
    Ok((layout, report, plan))
}

/// A scan with the built-in detectors (only `only` when given).
fn scan(
    root: &Path,
    anchor: &IntentionAnchorV2,
    run_id: &str,
    clock: &Clock,
    only: Option<&BTreeSet<String>>,
) -> Result<GapReportV1, AutopilotError> {
    let config = crate::scan_config(root, anchor)?;
    let mut detectors = detectors::builtin(&config);
    if let Some(only) = only {
        detectors.retain(|d| only.contains(d.id()));
    }
    let context = ReportContext {
        project_id: anchor.project_id.clone(),
        run_id: run_id.to_owned(),
        now: clock.now(),
    };
    Ok(waypost_gaps::scan(root, &detectors, &config, &context)?.report)
}

/// `path` relative to the run directory.
fn relative(layout: &RunLayout, path: &Path) -> String {
    path.strip_prefix(layout.run_dir())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// SHA-256 of each path the action touches, as it stands (`absent` when
/// there is no regular file).
fn fingerprint(root: &Path, action: &PlanAction) -> BTreeMap<String, String> {
    let mut paths: BTreeSet<&str> = action.target_paths.iter().map(String::as_str).collect();
    for m in &action.moves {
        paths.insert(&m.from);
        paths.insert(&m.to);
    }
    for e in &action.edits {
        paths.insert(&e.path);
    }
    paths
        .into_iter()
        .map(|p| {
            // Only a plain path inside the repository, never through a
            // link, and at most the edit cap: anything else is recorded as
            // not read.
            let inside = RepoPath::new(p).is_ok()
                && resolve(root, p).is_ok_and(|r| !r.through_symlink() && r.outside.is_none());
            let digest = if !inside {
                "not read: outside the repository or through a link".to_owned()
            } else {
                match read_file(&root.join(p), MAX_PROOF_READ, Links::Refuse) {
                    Ok(bytes) => sha256_hex(&bytes),
                    Err(_) if std::fs::symlink_metadata(root.join(p)).is_err() => {
                        "absent".to_owned()
                    }
                    Err(e) => format!("not read: {e}"),
                }
            };
            (p.to_owned(), digest)
        })
        .collect()
}

fn governance(action: &PlanAction) -> impl Fn(String) -> AutopilotError + '_ {
    move |problem| AutopilotError::Governance {
        action_id: action.action_id.clone(),
        problem,
    }
}

/// Runs one cleared action inside a contract and a one-step job.
fn execute<'a>(
    root: &Path,
    layout: &RunLayout,
    clock: &Clock,
    cleared: Cleared<'a>,
) -> Result<Ran<'a>, AutopilotError> {
    let action = cleared.action;
    let fail = governance(action);
    let suffix = action
        .action_id
        .strip_prefix("action-")
        .unwrap_or(&action.action_id);
    let approver = match &cleared.basis {
        ApprovalBasis::Rule { rule_id } => rule_id.clone(),
        ApprovalBasis::Approval {
            approver, channel, ..
        } => format!("{approver} ({channel})"),
    };
    let change = ProposedChange {
        change_id: action.action_id.clone(),
        description: action
            .title
            .clone()
            .unwrap_or_else(|| action.action_type.as_str().to_owned()),
        target_paths: action.target_paths.clone(),
        changed_lines: action.estimated_changed_lines.unwrap_or(1),
    };
    let (contract, mut job) = start_single_step(
        &format!("contract-{suffix}"),
        &format!("job-{suffix}"),
        change,
        &approver,
        clock,
        ACTOR,
    )
    .map_err(|e| fail(e.to_string()))?;
    store_contract(layout, &contract).map_err(|e| fail(e.to_string()))?;
    store_job(layout, &job).map_err(|e| fail(e.to_string()))?;
    let before = fingerprint(root, action);
    let report = cleared.executor.execute(root, action);
    let (status, said) = match &report {
        Ok(said) => (StepStatus::Completed, said.clone()),
        Err(e) => (StepStatus::Failed, e.to_string()),
    };
    job.finish_step(
        0,
        status,
        vec![Excerpt::new(cleared.executor.name(), &said)],
        clock.now(),
        ACTOR,
    )
    .map_err(|e| fail(e.to_string()))?;
    store_job(layout, &job).map_err(|e| fail(e.to_string()))?;
    Ok(Ran {
        cleared,
        contract,
        job,
        report,
        before,
    })
}

/// The gap ids the detectors behind `ran` still find.
fn rescan(
    root: &Path,
    anchor: &IntentionAnchorV2,
    report: &GapReportV1,
    ran: &[Ran<'_>],
    layout: &RunLayout,
    clock: &Clock,
) -> Result<BTreeSet<String>, AutopilotError> {
    let targeted: BTreeSet<&str> = ran
        .iter()
        .flat_map(|r| r.cleared.action.target_gap_ids.iter().map(String::as_str))
        .collect();
    let detectors: BTreeSet<String> = report
        .gaps
        .iter()
        .filter(|g| targeted.contains(g.gap_id.as_str()))
        .filter_map(|g| g.detector.clone())
        .collect();
    let after = scan(root, anchor, layout.run_id(), clock, Some(&detectors))?;
    Ok(after.gaps.into_iter().map(|g| g.gap_id).collect())
}

/// Judges one executed action on the evidence (`still`: its gaps the
/// rescan still finds; `unverified`: what another check found wrong),
/// closes its job and contract, and writes its proof and audit evidence.
fn finish(
    layout: &RunLayout,
    clock: &Clock,
    ran: Ran<'_>,
    still: Vec<String>,
    unverified: Option<String>,
) -> Result<ExecutedAction, AutopilotError> {
    let Ran {
        cleared,
        mut contract,
        mut job,
        report,
        before,
    } = ran;
    let action = cleared.action;
    let fail = governance(action);
    let succeeded = report.is_ok() && still.is_empty() && unverified.is_none();
    let root = layout.root();
    let why = match (&report, &unverified) {
        (Err(e), _) => format!("the executor failed: {e}"),
        (Ok(_), Some(problem)) => problem.clone(),
        (Ok(_), None) => format!("the rescan still finds {}", still.join(", ")),
    };
    let verdict = if succeeded { Ok(()) } else { Err(why.as_str()) };
    close_single_step(&mut contract, &mut job, verdict, clock, ACTOR)
        .map_err(|e| fail(e.to_string()))?;
    store_with_evidence(layout, &contract, &job, clock.now()).map_err(|e| fail(e.to_string()))?;
    let executor_report = match &report {
        Ok(said) => said.clone(),
        Err(e) => e.to_string(),
    };
    let proof_path = layout.proof(&action.action_id)?;
    let proof = ActionProofV1 {
        format_version: FormatV1,
        run_id: layout.run_id().to_owned(),
        action_id: action.action_id.clone(),
        content_sha256: action.content_sha256(),
        approval: cleared.basis.clone(),
        executor: cleared.executor.name().to_owned(),
        executor_report: executor_report.clone(),
        files_before: before,
        files_after: fingerprint(root, action),
        target_gap_ids: action.target_gap_ids.clone(),
        remaining_gap_ids: still.clone(),
        outcome: if succeeded {
            ActionOutcome::Succeeded
        } else {
            ActionOutcome::Failed
        },
        proved_at: clock.now(),
        extra: Default::default(),
    };
    write_artifact(&proof_path, &proof)?;
    Ok(ExecutedAction {
        action_id: action.action_id.clone(),
        approval: cleared.basis,
        contract_id: contract.id().to_owned(),
        job_id: job.id().to_owned(),
        executor: cleared.executor.name().to_owned(),
        outcome: if succeeded {
            ActionOutcome::Succeeded
        } else {
            ActionOutcome::Failed
        },
        executor_report,
        remaining_gap_ids: still,
        proof: relative(layout, &proof_path),
    })
}
