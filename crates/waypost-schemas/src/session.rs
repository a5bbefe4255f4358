//! `AutopilotSessionV1`: one autopilot session, what it ran and what stopped it.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Extra, FormatV1, Timestamp};
use crate::kind::{Artifact, ArtifactKind, FieldPath, RunFile};
use crate::layout::{IdKind, RunDir};

/// Log of one autopilot session: bounded execution attempts, approval gates
/// and errors.
///
/// `executed_action_ids` and `error_log` are in the order things happened;
/// `approval_requests` is a set (sorted in the canonical form).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Autopilot Session v1")]
pub struct AutopilotSessionV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// Project identifier.
    #[schemars(length(min = 1))]
    pub project_id: String,
    /// Run identifier.
    #[schemars(length(min = 1))]
    pub run_id: String,
    /// Unique session identifier.
    #[schemars(length(min = 1))]
    pub session_id: String,
    /// When the session started (RFC 3339).
    pub started_at: Timestamp,
    /// When the session ended (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    /// Session execution status.
    pub status: SessionStatus,
    /// The intention anchor in force.
    pub anchor_id: String,
    /// The gap report the plan addressed.
    pub gap_report_id: String,
    /// The plan the session executed.
    pub plan_proposal_id: String,
    /// Execution counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_summary: Option<ExecutionSummary>,
    /// Actions executed, in execution order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executed_action_ids: Vec<String>,
    /// waypost addition: each executed action with the approval it ran
    /// under, its job, what the executor said and what the rescan found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub executed_actions: Vec<ExecutedAction>,
    /// waypost addition: with the autopilot off, the actions it would have
    /// executed (auto-approved or approved, with an executor), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub would_execute_action_ids: Vec<String>,
    /// Why the session stopped for approval, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
    /// Actions that need a human.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approval_requests: Vec<ApprovalRequest>,
    /// Errors, in the order they happened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_log: Vec<SessionError>,
    /// Session metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<SessionMetadata>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Artifact for AutopilotSessionV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::AutopilotSessionV1;
    const NAME: &'static str = "autopilot_session_v1";
    const SHORT_NAME: &'static str = "session";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "session";
    const RUN_FILE: RunFile = RunFile::OnePerRun(RunDir::Autonomy);
    const SIGNATURE_KEYS: &'static [&'static str] = &[
        "session_id",
        "started_at",
        "status",
        "execution_summary",
        "executed_action_ids",
        "executed_actions",
        "approval_requests",
        "error_log",
        "blocked_reason",
    ];
    const VOLATILE_FIELDS: &'static [FieldPath] = &[
        &["started_at"],
        &["completed_at"],
        &["run_id"],
        &["error_log", "*", "timestamp"],
        &["metadata", "session_duration_ms"],
    ];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[&["approval_requests"]];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/autopilot_session_v1.schema.json");
}

/// The proof of one executed action (`proofs/<action_id>.json`): what it
/// was allowed by, what it touched (each file's SHA-256 before and after;
/// `absent` when there was no file) and what the rescan found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Action Proof v1")]
pub struct ActionProofV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// The run.
    #[schemars(length(min = 1))]
    pub run_id: String,
    /// The action.
    #[schemars(length(min = 1))]
    pub action_id: String,
    /// SHA-256 of the action's canonical content as executed.
    #[schemars(regex(pattern = r"^[a-f0-9]{64}$"))]
    pub content_sha256: String,
    /// What let it run.
    pub approval: ApprovalBasis,
    /// The executor.
    pub executor: String,
    /// What the executor said (a claim, not the verdict).
    pub executor_report: String,
    /// Each path the action touches, with its SHA-256 before it ran.
    pub files_before: BTreeMap<String, String>,
    /// The same paths afterwards.
    pub files_after: BTreeMap<String, String>,
    /// The gaps the action addressed.
    #[serde(default)]
    pub target_gap_ids: Vec<String>,
    /// Those the rescan still finds.
    #[serde(default)]
    pub remaining_gap_ids: Vec<String>,
    /// The verdict, on evidence.
    pub outcome: ActionOutcome,
    /// When the proof was written (RFC 3339).
    pub proved_at: Timestamp,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Artifact for ActionProofV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::ActionProofV1;
    const NAME: &'static str = "action_proof_v1";
    const SHORT_NAME: &'static str = "proof";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "proof";
    const RUN_FILE: RunFile = RunFile::OnePerId {
        dir: RunDir::Proofs,
        prefix: "",
        id: IdKind::Phase,
    };
    const SIGNATURE_KEYS: &'static [&'static str] = &[
        "files_before",
        "files_after",
        "executor_report",
        "remaining_gap_ids",
    ];
    const VOLATILE_FIELDS: &'static [FieldPath] = &[&["run_id"], &["proved_at"]];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[&["target_gap_ids"], &["remaining_gap_ids"]];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/action_proof_v1.schema.json");
}

/// One executed action: under which approval, in which job, and whether
/// the evidence says it worked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExecutedAction {
    /// The action.
    pub action_id: String,
    /// What let it run.
    pub approval: ApprovalBasis,
    /// The governance contract it ran under.
    pub contract_id: String,
    /// The job that ran it.
    pub job_id: String,
    /// The executor that ran it.
    pub executor: String,
    /// `succeeded` only when the rescan no longer finds the action's gaps.
    pub outcome: ActionOutcome,
    /// What the executor reported (a claim, not the verdict).
    pub executor_report: String,
    /// Gaps of the action the rescan still finds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remaining_gap_ids: Vec<String>,
    /// The proof file, relative to the run directory.
    pub proof: String,
}

/// What let an action run: the policy rule that auto-approved it, or a
/// person's approval record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApprovalBasis {
    /// Auto-approved by the policy.
    Rule {
        /// The rule (`rule:<name>` or the policy's auto-approval id).
        rule_id: String,
    },
    /// Approved by a person.
    Approval {
        /// Who.
        approver: String,
        /// Through which channel.
        channel: String,
        /// When (RFC 3339).
        approved_at: Timestamp,
        /// The approval file, relative to the run directory.
        record: String,
    },
}

/// How an executed action ended, judged on evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionOutcome {
    /// The executor finished and the rescan no longer finds its gaps.
    Succeeded,
    /// The executor failed, or the rescan still finds a gap.
    Failed,
}

/// Session status: `running`, `completed`, `blocked_approval_required`,
/// `failed` or `aborted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Running,
    Completed,
    BlockedApprovalRequired,
    Failed,
    Aborted,
}

/// Execution counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExecutionSummary {
    /// Actions in the plan.
    #[serde(default)]
    pub total_actions: u64,
    /// Actions governance auto-approved.
    #[serde(default)]
    pub auto_approved_actions: u64,
    /// Actions executed.
    #[serde(default)]
    pub executed_actions: u64,
    /// Executed actions that succeeded.
    #[serde(default)]
    pub successful_actions: u64,
    /// Executed actions that failed.
    #[serde(default)]
    pub failed_actions: u64,
    /// Actions not executed because they need approval or are blocked.
    #[serde(default)]
    pub blocked_actions: u64,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An action that needs a human before it may run.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalRequest {
    /// The action.
    pub action_id: String,
    /// `requires_approval` or `blocked`.
    pub approval_status: RequestStatus,
    /// Why, in plain words.
    pub reason: String,
}

/// Status of an approval request: `requires_approval` or `blocked`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    RequiresApproval,
    Blocked,
}

/// One error met during the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SessionError {
    /// When it happened (RFC 3339; volatile).
    pub timestamp: Timestamp,
    /// The action involved, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<String>,
    /// A short machine-readable kind.
    pub error_type: String,
    /// What went wrong (already redacted by the writer).
    pub error_message: String,
}

/// Session metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SessionMetadata {
    /// Version of the autopilot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autopilot_version: Option<String>,
    /// How long the session took (volatile: excluded from ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_duration_ms: Option<u64>,
    /// Whether a human enabled the autopilot explicitly (it is off by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled_explicitly: Option<bool>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}
