//! The plan proposer: a gap report and an anchor in, a
//! [`PlanProposalV1`] out.
//!
//! 1. Each certain gap becomes a bounded candidate action by its detector
//!    ([`candidates`]): a stale lock file is deleted, root clutter is moved
//!    into an archive folder, a broken link to a file that moved is
//!    rewritten (the action carries the exact edit), a byte-order mark is
//!    stripped, an operation git left half done is a `git_operation`, and
//!    anything without a safe mechanical fix is a `custom` action that
//!    describes the problem for a person or an agent. Likely gaps are
//!    deferred: the scanner is not sure of them.
//! 2. Each action gets a risk score from explicit factors ([`risk`]),
//!    recorded in `risk_factors`, and a conservative cost: when the cost is
//!    not known, the documented upper bound ([`UNKNOWN_COST`]), marked
//!    `upper_bound`, which governance never approves automatically.
//! 3. Dependencies between actions form a DAG ([`order`]); a cycle is an
//!    error; actions are ordered topologically, ties broken by the gaps'
//!    risk, then the action type, then the content.
//! 4. waypost-governance decides every action: its verdict, the sentence
//!    and every rule cited. An action governance refuses is never part of
//!    the plan: it is deferred with the refusal.
//! 5. Bounds: at most [`ProposeOptions::max_actions`] actions and
//!    [`ProposeOptions::max_paths_per_action`] paths per action; what does
//!    not fit is deferred with the reason, never dropped.
//!
//! The same anchor, report and options give a byte-identical proposal.

use std::collections::BTreeSet;

use thiserror::Error;
use waypost_governance::{Action, Decision, Policy};
use waypost_schemas::{
    ActionSource, Artifact, BudgetCompliance, DefaultPolicy, DeferredGap, EstimatedCost,
    GapReportV1, GovernanceChecks, IntentionAnchorV2, PlanAction, PlanMetadata, PlanProposalV1,
    PlanSummary, ProtectedPathCheck, Timestamp,
};

pub mod candidates;
pub mod order;
pub mod output;
pub mod risk;

use candidates::Candidate;

/// The cost an action is given when its cost is not known: a conservative
/// upper bound for one agent task (tokens, seconds, API calls). When the
/// anchor caps the tokens of one call (`token_cap_per_call`), that cap is
/// the bound for tokens instead: no single task may spend more.
pub const UNKNOWN_COST: (u64, u64, u64) = (200_000, 3_600, 100);

/// Default [`ProposeOptions::max_actions`].
pub const DEFAULT_MAX_ACTIONS: usize = 50;

/// Default [`ProposeOptions::max_paths_per_action`].
pub const DEFAULT_MAX_PATHS_PER_ACTION: usize = 20;

/// Default [`ProposeOptions::archive_dir`].
pub const DEFAULT_ARCHIVE_DIR: &str = "archive";

/// How a plan is proposed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProposeOptions {
    /// The run the plan belongs to.
    pub run_id: String,
    /// When the plan is generated (pass a fixed time for reproducible
    /// output).
    pub now: Timestamp,
    /// Most actions in one plan ([`DEFAULT_MAX_ACTIONS`]).
    pub max_actions: usize,
    /// Most target paths of one action ([`DEFAULT_MAX_PATHS_PER_ACTION`]).
    pub max_paths_per_action: usize,
    /// The folder root clutter is moved into ([`DEFAULT_ARCHIVE_DIR`]).
    pub archive_dir: String,
}

impl ProposeOptions {
    /// The defaults, for `run_id` at `now`.
    pub fn new(run_id: impl Into<String>, now: Timestamp) -> Self {
        Self {
            run_id: run_id.into(),
            now,
            max_actions: DEFAULT_MAX_ACTIONS,
            max_paths_per_action: DEFAULT_MAX_PATHS_PER_ACTION,
            archive_dir: DEFAULT_ARCHIVE_DIR.to_owned(),
        }
    }

    /// The same options with other bounds.
    #[must_use]
    pub fn with_bounds(mut self, max_actions: usize, max_paths_per_action: usize) -> Self {
        self.max_actions = max_actions;
        self.max_paths_per_action = max_paths_per_action;
        self
    }
}

/// Why no plan could be proposed.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProposeError {
    /// The actions' dependencies go round in a circle.
    #[error("the actions depend on each other in a cycle: {}", .actions.join(" -> "))]
    Cycle {
        /// The titles of the actions in the cycle.
        actions: Vec<String>,
    },
    /// A bound of zero leaves no room for any plan.
    #[error("{name} is 0: a plan needs room for at least one action and one path")]
    ZeroBound {
        /// The option.
        name: &'static str,
    },
    /// The report and the anchor are of different projects.
    #[error("the gap report is of project `{report}` and the anchor of project `{anchor}`")]
    ProjectMismatch {
        /// The report's project.
        report: String,
        /// The anchor's project.
        anchor: String,
    },
}

/// Proposes a plan for `report` under `anchor` (see the module
/// documentation).
///
/// # Errors
/// [`ProposeError`]: a dependency cycle, a zero bound, or a report of
/// another project.
pub fn propose(
    anchor: &IntentionAnchorV2,
    report: &GapReportV1,
    options: &ProposeOptions,
) -> Result<PlanProposalV1, ProposeError> {
    if options.max_actions == 0 {
        return Err(ProposeError::ZeroBound {
            name: "max_actions",
        });
    }
    if options.max_paths_per_action == 0 {
        return Err(ProposeError::ZeroBound {
            name: "max_paths_per_action",
        });
    }
    if report.project_id != anchor.project_id {
        return Err(ProposeError::ProjectMismatch {
            report: report.project_id.clone(),
            anchor: anchor.project_id.clone(),
        });
    }
    tracing::info!(
        gaps = report.gaps.len(),
        max_actions = options.max_actions,
        "proposing a plan"
    );
    let policy = Policy::from_anchor(anchor, None);
    let per_call = anchor
        .pivot_intentions
        .budget_cost
        .as_ref()
        .and_then(|b| b.token_cap_per_call);
    let unknown = (
        per_call.unwrap_or(UNKNOWN_COST.0),
        UNKNOWN_COST.1,
        UNKNOWN_COST.2,
    );
    let source = ActionSource {
        anchor_id: anchor.content_id(),
        gap_report_id: report.content_id(),
    };
    let mut deferred: Vec<DeferredGap> = Vec::new();
    let (candidates, skipped) = candidates::from_report(report, options);
    deferred.extend(skipped);

    // Paths per action.
    let mut fitting: Vec<Candidate> = Vec::new();
    for candidate in candidates {
        if candidate.target_paths.len() > options.max_paths_per_action {
            defer(
                &mut deferred,
                &candidate,
                &format!(
                    "its action would touch {} paths, more than the {} one action may",
                    candidate.target_paths.len(),
                    options.max_paths_per_action
                ),
            );
        } else {
            fitting.push(candidate);
        }
    }

    // Governance decides each candidate: what it refuses never enters the
    // plan. (What it decides on, the kind, targets, size, command, risk
    // and cost, does not change when dependencies are added.)
    let mut allowed: Vec<(Candidate, (risk::Assessment, Decision))> = Vec::new();
    let mut paths = risk::PathRules::new(&policy);
    for candidate in fitting {
        let assessment = risk::assess(&candidate, &mut paths);
        let decision = policy.decide(&candidate.governed(&assessment, unknown));
        tracing::debug!(
            action = candidate.action_type.as_str(),
            // A report read from a file may hold anything: redacted, and
            // quoted so a line break cannot forge a log line.
            title = ?waypost_schemas::redact(&candidate.title),
            verdict = %decision.verdict,
            reason = %decision.summary(),
            "governance decided"
        );
        if decision.verdict == waypost_governance::Verdict::Deny {
            defer(
                &mut deferred,
                &candidate,
                &format!("governance refuses its action: {}", decision.summary()),
            );
        } else {
            allowed.push((candidate, (assessment, decision)));
        }
    }

    // The plan's bound: the most severe gaps first. Positions are sorted,
    // not the candidates with their verdicts (large values to move).
    let mut by_priority: Vec<usize> = (0..allowed.len()).collect();
    by_priority.sort_by(|&a, &b| {
        allowed[a]
            .0
            .priority_key()
            .cmp(&allowed[b].0.priority_key())
    });
    let mut slots: Vec<Option<_>> = allowed.into_iter().map(Some).collect();
    let mut allowed = Vec::with_capacity(options.max_actions.min(slots.len()));
    let full = format!("the plan holds at most {} actions", options.max_actions);
    for (rank, at) in by_priority.into_iter().enumerate() {
        let Some(entry) = slots[at].take() else {
            continue;
        };
        if rank < options.max_actions {
            allowed.push(entry);
        } else {
            defer(&mut deferred, &entry.0, &full);
        }
    }

    let ordered = order::order(allowed)?;
    let mut actions: Vec<PlanAction> = Vec::with_capacity(ordered.len());
    for (candidate, (assessment, decision), prerequisites) in ordered {
        let dependencies: Vec<String> = prerequisites
            .iter()
            .map(|&i| actions[i].action_id.clone())
            .collect();
        let mut action = candidate.to_action(&source, &assessment, dependencies, unknown);
        action.action_id = action.derive_action_id();
        debug_assert_eq!(
            Action::from_plan(&action),
            candidate.governed(&assessment, unknown),
            "governance sees the same action it decided, with its dependencies"
        );
        action.approval_status = decision.verdict.approval_status();
        action.approval_reason = Some(decision.summary());
        action.approval_reasons = decision.decision_reasons();
        actions.push(action);
    }

    deferred.sort();
    deferred.dedup();
    for gap in &deferred {
        tracing::debug!(gap = %gap.gap_id, reason = %gap.reason, "gap deferred");
    }
    tracing::info!(
        actions = actions.len(),
        deferred_gaps = deferred.len(),
        "plan proposed"
    );
    let governance_checks = checks(anchor, &policy, &mut paths, &actions);
    Ok(PlanProposalV1 {
        format_version: Default::default(),
        project_id: anchor.project_id.clone(),
        run_id: options.run_id.clone(),
        generated_at: options.now.clone(),
        anchor_id: source.anchor_id,
        gap_report_id: source.gap_report_id,
        summary: Some(PlanSummary::of(&actions)),
        actions,
        governance_checks: Some(governance_checks),
        metadata: Some(PlanMetadata {
            proposer_version: Some(format!("waypost {}", env!("CARGO_PKG_VERSION"))),
            generation_duration_ms: None,
            extra: Default::default(),
        }),
        deferred,
        extra: Default::default(),
    })
}

/// Defers every gap of `candidate` with `reason`.
fn defer(deferred: &mut Vec<DeferredGap>, candidate: &Candidate, reason: &str) {
    for gap_id in &candidate.gap_ids {
        deferred.push(DeferredGap {
            gap_id: gap_id.clone(),
            reason: reason.to_owned(),
        });
    }
}

/// The plan's governance checks: whether default deny was in force, every
/// never-auto-approve hit, each targeted path's protection, and the plan's
/// budget compliance (0 to 100% of the global token cap).
fn checks(
    anchor: &IntentionAnchorV2,
    policy: &Policy,
    paths: &mut risk::PathRules<'_>,
    actions: &[PlanAction],
) -> GovernanceChecks {
    let never_auto: BTreeSet<String> = actions
        .iter()
        .flat_map(|a| {
            a.approval_reasons
                .iter()
                .filter(|r| {
                    matches!(
                        r.rule_id.as_str(),
                        "builtin.never_auto_approve" | "anchor.never_auto_approve"
                    )
                })
                .map(move |r| format!("{}: {}", a.action_id, r.message))
        })
        .collect();
    let mut protected: Vec<ProtectedPathCheck> = Vec::new();
    for a in actions {
        for path in &a.target_paths {
            protected.push(ProtectedPathCheck {
                path: Some(path.clone()),
                is_protected: Some(paths.is_protected(path)),
                action_id: Some(a.action_id.clone()),
            });
        }
    }
    protected.sort();
    let budget = anchor.pivot_intentions.budget_cost.as_ref();
    let tokens: u64 = actions
        .iter()
        .filter_map(|a| a.estimated_cost.as_ref().and_then(|c| c.tokens))
        .fold(0, u64::saturating_add);
    let global = budget.and_then(|b| b.token_cap_global);
    let per_call = budget.and_then(|b| b.token_cap_per_call);
    #[expect(
        clippy::cast_precision_loss,
        reason = "token counts are far below 2^52"
    )]
    let usage = global.map(|cap| {
        if cap == 0 {
            100.0
        } else {
            ((tokens as f64 / cap as f64) * 100.0).clamp(0.0, 100.0)
        }
    });
    GovernanceChecks {
        default_deny_applied: Some(policy.default_policy() == DefaultPolicy::Deny),
        never_auto_approve_violations: never_auto.into_iter().collect(),
        protected_path_checks: protected,
        budget_compliance: Some(BudgetCompliance {
            within_global_cap: Some(global.is_none_or(|cap| tokens <= cap)),
            within_per_call_cap: Some(per_call.is_none_or(|cap| {
                actions.iter().all(|a| {
                    a.estimated_cost
                        .as_ref()
                        .and_then(|c| c.tokens)
                        .is_none_or(|t| t <= cap)
                })
            })),
            estimated_usage_pct: usage.map(|u| (u * 100.0).round() / 100.0),
            extra: Default::default(),
        }),
        extra: Default::default(),
    }
}

/// An estimated cost: known figures, or the upper bound `unknown`.
pub(crate) fn cost(known: Option<(u64, u64, u64)>, unknown: (u64, u64, u64)) -> EstimatedCost {
    let ((tokens, seconds, calls), upper_bound) = match known {
        Some(figures) => (figures, false),
        None => (unknown, true),
    };
    EstimatedCost {
        tokens: Some(tokens),
        time_seconds: Some(seconds),
        api_calls: Some(calls),
        upper_bound,
        extra: Default::default(),
    }
}
