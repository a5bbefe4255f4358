//! # waypost-governance
//!
//! The one place every governance decision is made.
//!
//! - [`Policy`]: the default-deny policy engine. [`Policy::decide`] turns an
//!   [`Action`] into a [`Decision`]: a [`Verdict`], every rule that
//!   contributed ([`Reason`]s citing a [`RuleId`]), and the
//!   [`Counterfactual`] that would have made it automatic.
//! - [`approval_is_valid`], [`store_approval`], [`load_approval`]: approvals
//!   bound to the content of what was approved.
//! - [`Budget`]: run and per-phase caps, recorded spending, the escalation
//!   policy at a cap; caps are never raised by waypost.
//! - [`Contract`] and [`Job`]: state machines with typed errors and a
//!   hash-chained history ([`verify_history`]); [`activate`],
//!   [`plan_steps`] (the orchestrator), [`Job::completion`] (the tracker) and
//!   [`collect_audit_evidence`] (the audit trigger) derive, record and
//!   package, and never execute a step or decide an audit.
//! - [`store_contract`], [`load_contract`], [`store_job`], [`load_job`],
//!   [`store_audit_evidence`]: run-local storage; a load verifies the
//!   history.
//!
//! ```
//! use waypost_governance::{Action, ActionKind, Policy, Verdict};
//! use waypost_schemas::ActionType;
//!
//! let anchor: waypost_schemas::IntentionAnchorV2 = serde_json::from_value(serde_json::json!({
//!     "format_version": "v2", "project_id": "demo", "created_at": "2026-01-01T00:00:00Z",
//!     "raw_input_digest": "0123456789abcdef",
//!     "pivot_intentions": {"scope_boundaries": {"allowed_write_roots": ["docs/"]}}
//! }))?;
//! let policy = Policy::from_anchor(&anchor, None);
//! let decision = policy.decide(&Action {
//!     kind: ActionKind::Known(ActionType::DocUpdate),
//!     target_paths: vec!["../outside.md".into()],
//!     changed_lines: Some(3),
//!     command: None,
//!     risk_score: 0.1,
//!     estimated_tokens: None,
//!     cost_unknown: false,
//! });
//! assert_eq!(decision.verdict, Verdict::Deny);
//! assert_eq!(decision.reasons[0].rule_id, "builtin.path_escapes_repo");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod approvals;
mod audit;
mod budget;
mod contract;
mod history;
mod job;
mod orchestrator;
mod policy;
mod rules;
mod store;

pub use approvals::{ApprovalError, approval_is_valid, load_approval, store_approval};
pub use audit::collect_audit_evidence;
pub use budget::{Budget, BudgetError, Caps, Crossing, Limit, Recorded, Spend, SpendRecord};
pub use contract::{Contract, ContractError, DEFAULT_DRAFT_TTL};
pub use history::{HistoryError, verify_history};
pub use job::{Completion, Job, JobError};
pub use orchestrator::{
    ActivationError, STEP_TIMEOUT_BASE_SECONDS, STEP_TIMEOUT_CAP_SECONDS,
    STEP_TIMEOUT_PER_LINE_SECONDS, activate, close_single_step, plan_steps, start_single_step,
};
pub use policy::{Action, ActionKind, Counterfactual, Decision, Policy, Reason, Verdict};
pub use rules::{MAX_AUTO_CHANGED_LINES, NEVER_AUTO_APPROVE, RiskLimits, RuleId, risk_limits};
pub use store::{
    StoreError, load_contract, load_job, store_audit_evidence, store_contract, store_job,
    store_with_evidence,
};
