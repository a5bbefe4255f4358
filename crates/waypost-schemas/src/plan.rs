//! `PlanProposalV1`: bounded actions that address gaps, each classified by
//! governance.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canonical::{canonical_of, content_id, sha256_hex};
use crate::common::{Extra, FormatV1, Timestamp};
use crate::kind::{Artifact, ArtifactKind, FieldPath, RunFile};
use crate::layout::RunDir;

/// Bounded action plan with governance classification and cost estimates.
///
/// `actions` is ordered by priority and dependency: that order is meaningful
/// and kept as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Plan Proposal v1")]
pub struct PlanProposalV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// Project identifier.
    #[schemars(length(min = 1))]
    pub project_id: String,
    /// Run identifier.
    #[schemars(length(min = 1))]
    pub run_id: String,
    /// When the plan was generated (RFC 3339).
    pub generated_at: Timestamp,
    /// The intention anchor that guided this plan.
    pub anchor_id: String,
    /// The gap report this plan addresses.
    pub gap_report_id: String,
    /// Proposed actions, ordered by priority and dependency.
    pub actions: Vec<PlanAction>,
    /// Counts and totals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<PlanSummary>,
    /// Governance validation results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governance_checks: Option<GovernanceChecks>,
    /// Proposer metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<PlanMetadata>,
    /// waypost addition: gaps the plan does not address, each with the
    /// reason (a bound reached, no action for its type): nothing is
    /// dropped silently.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub deferred: Vec<DeferredGap>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A gap a plan does not address, and why.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct DeferredGap {
    /// The gap.
    #[schemars(length(min = 1))]
    pub gap_id: String,
    /// Why no action of the plan addresses it, in one sentence.
    pub reason: String,
}

/// The exact change of a text edit: on `line` of `path`, `old_text` becomes
/// `new_text` (once, the first occurrence on that line).
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct TextEdit {
    /// Repository-relative path of the file edited.
    #[schemars(length(min = 1))]
    pub path: String,
    /// 1-based line.
    #[schemars(range(min = 1))]
    pub line: u32,
    /// The text there now.
    #[schemars(length(min = 1))]
    pub old_text: String,
    /// The text it becomes.
    pub new_text: String,
}

/// One file moved: `from` becomes `to`.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct PathMove {
    /// Repository-relative path now.
    #[schemars(length(min = 1))]
    pub from: String,
    /// Repository-relative path after the move.
    #[schemars(length(min = 1))]
    pub to: String,
}

/// Where an action came from.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct ActionSource {
    /// The intention anchor that guided it.
    pub anchor_id: String,
    /// The gap report that holds its gaps.
    pub gap_report_id: String,
}

impl Artifact for PlanProposalV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::PlanProposalV1;
    const NAME: &'static str = "plan_proposal_v1";
    const SHORT_NAME: &'static str = "plan";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "plan";
    const RUN_FILE: RunFile = RunFile::OnePerRun(RunDir::Plans);
    const SIGNATURE_KEYS: &'static [&'static str] = &["actions", "governance_checks"];
    const VOLATILE_FIELDS: &'static [FieldPath] = &[
        &["generated_at"],
        &["run_id"],
        &["metadata", "generation_duration_ms"],
    ];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[
        &["actions", "*", "target_gap_ids"],
        &["actions", "*", "risk_factors"],
        &["actions", "*", "approval_reasons"],
        &["actions", "*", "target_paths"],
        &["actions", "*", "dependencies"],
        &["actions", "*", "evidence"],
        &["deferred"],
        &["governance_checks", "never_auto_approve_violations"],
        &["governance_checks", "protected_path_checks"],
    ];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/plan_proposal_v1.schema.json");
}

/// One bounded action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanAction {
    /// Identifier derived from the action's content (`PlanAction::derive_action_id`).
    pub action_id: String,
    /// Standardized action type.
    pub action_type: ActionType,
    /// Human-readable title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Detailed description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Gaps this action addresses.
    pub target_gap_ids: Vec<String>,
    /// Risk score, 0 (safe) to 1 (dangerous).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub risk_score: f64,
    /// Identified risk factors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risk_factors: Vec<String>,
    /// The governance verdict.
    pub approval_status: ApprovalStatus,
    /// The governance verdict in one sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_reason: Option<String>,
    /// waypost addition: every rule that contributed to the verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub approval_reasons: Vec<DecisionReason>,
    /// Repository-relative paths the action writes, moves or deletes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_paths: Vec<String>,
    /// waypost addition: conservative estimate of lines the action changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub estimated_changed_lines: Option<u64>,
    /// Command to execute, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Conservative cost estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_cost: Option<EstimatedCost>,
    /// Action ids that must complete first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// How to roll back if the action fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_strategy: Option<String>,
    /// waypost addition: the anchor and gap report the action came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub source: Option<ActionSource>,
    /// waypost addition: the exact text edits of a `doc_update` (file,
    /// line, old text, new text), so an approval bound to the action's
    /// content hash covers what will change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub edits: Vec<TextEdit>,
    /// waypost addition: the files a `file_move` moves, and where.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub moves: Vec<PathMove>,
    /// waypost addition: what shows the action is needed and safe (a lock
    /// file's age and holder, the line that breaks), one sentence each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub evidence: Vec<String>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Standardized action types.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ActionType {
    TidyApply,
    TestFix,
    DocUpdate,
    BaselineRefresh,
    ConfigUpdate,
    DependencyInstall,
    FileMove,
    FileDelete,
    GitOperation,
    Custom,
}

impl ActionType {
    /// The wire name, e.g. `doc_update`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TidyApply => "tidy_apply",
            Self::TestFix => "test_fix",
            Self::DocUpdate => "doc_update",
            Self::BaselineRefresh => "baseline_refresh",
            Self::ConfigUpdate => "config_update",
            Self::DependencyInstall => "dependency_install",
            Self::FileMove => "file_move",
            Self::FileDelete => "file_delete",
            Self::GitOperation => "git_operation",
            Self::Custom => "custom",
        }
    }
}

/// Approval classification: `auto_approved`, `requires_approval` or `blocked`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    AutoApproved,
    RequiresApproval,
    Blocked,
}

/// One rule that contributed to a governance verdict.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct DecisionReason {
    /// The rule's identifier (built-in rules are prefixed `builtin.`).
    #[schemars(length(min = 1))]
    pub rule_id: String,
    /// What the rule found, in one plain sentence.
    pub message: String,
}

/// Conservative cost estimate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EstimatedCost {
    /// Model tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<u64>,
    /// Wall-clock seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_seconds: Option<u64>,
    /// Calls to external APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_calls: Option<u64>,
    /// waypost addition: the cost is not known and the figures are the
    /// documented upper bound (such an action needs approval).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub upper_bound: bool,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Plan counts and totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanSummary {
    /// All actions.
    #[serde(default)]
    pub total_actions: u64,
    /// Actions governance auto-approved.
    #[serde(default)]
    pub auto_approved_actions: u64,
    /// Actions that need a human's approval.
    #[serde(default)]
    pub requires_approval_actions: u64,
    /// Actions governance blocked.
    #[serde(default)]
    pub blocked_actions: u64,
    /// Sum of estimated tokens.
    #[serde(default)]
    pub total_estimated_tokens: u64,
    /// Sum of estimated seconds.
    #[serde(default)]
    pub total_estimated_time_seconds: u64,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl PlanSummary {
    /// Counts and sums `actions`.
    pub fn of(actions: &[PlanAction]) -> Self {
        let count = |status: ApprovalStatus| {
            actions
                .iter()
                .filter(|a| a.approval_status == status)
                .count() as u64
        };
        let sum = |field: fn(&EstimatedCost) -> Option<u64>| {
            actions
                .iter()
                .filter_map(|a| a.estimated_cost.as_ref().and_then(field))
                .fold(0u64, u64::saturating_add)
        };
        Self {
            total_actions: actions.len() as u64,
            auto_approved_actions: count(ApprovalStatus::AutoApproved),
            requires_approval_actions: count(ApprovalStatus::RequiresApproval),
            blocked_actions: count(ApprovalStatus::Blocked),
            total_estimated_tokens: sum(|c| c.tokens),
            total_estimated_time_seconds: sum(|c| c.time_seconds),
            extra: Extra::new(),
        }
    }
}

/// Governance validation results for the whole plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GovernanceChecks {
    /// Whether the default-deny policy was in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_deny_applied: Option<bool>,
    /// Paths or actions that matched a never-auto-approve rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub never_auto_approve_violations: Vec<String>,
    /// Protected-path check per targeted path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protected_path_checks: Vec<ProtectedPathCheck>,
    /// Budget compliance of the whole plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_compliance: Option<BudgetCompliance>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Whether one targeted path is protected.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct ProtectedPathCheck {
    /// The targeted path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Whether it is protected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_protected: Option<bool>,
    /// The action that targets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<String>,
}

/// Budget compliance of the whole plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BudgetCompliance {
    /// Whether the plan stays within the global token cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_global_cap: Option<bool>,
    /// Whether every action stays within the per-call token cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_per_call_cap: Option<bool>,
    /// Estimated share of the global cap used, 0 to 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 100.0))]
    pub estimated_usage_pct: Option<f64>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Proposer metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanMetadata {
    /// Version of the proposer that wrote the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposer_version: Option<String>,
    /// How long generation took (volatile: excluded from ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_duration_ms: Option<u64>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl PlanAction {
    /// The canonical bytes of what the action does: everything except its id
    /// and the governance verdict fields (`approval_status`,
    /// `approval_reason`, `approval_reasons`), which describe a decision
    /// about the action rather than the action.
    pub fn content_bytes(&self) -> Vec<u8> {
        canonical_of(
            self,
            &[
                &["action_id"],
                &["approval_status"],
                &["approval_reason"],
                &["approval_reasons"],
            ],
            &[
                &["target_gap_ids"],
                &["risk_factors"],
                &["target_paths"],
                &["dependencies"],
                &["evidence"],
            ],
        )
    }

    /// Full SHA-256 of [`PlanAction::content_bytes`]: what an approval binds to.
    pub fn content_sha256(&self) -> String {
        sha256_hex(&self.content_bytes())
    }

    /// `action-<24 hex>`, the prefix of [`PlanAction::content_sha256`].
    pub fn derive_action_id(&self) -> String {
        content_id("action", &self.content_bytes())
    }
}

impl PlanProposalV1 {
    /// `plan-<24 hex>`: derived from the canonical content; run id, time and
    /// duration excluded.
    pub fn plan_proposal_id(&self) -> String {
        self.content_id()
    }
}
