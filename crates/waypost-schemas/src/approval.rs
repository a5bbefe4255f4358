//! `ApprovalRecordV1`: a human's approval of one action, bound to the content
//! of the action as it was approved.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Extra, FormatV1, Timestamp};
use crate::kind::{Artifact, ArtifactKind, FieldPath, RunFile};
use crate::layout::{IdKind, RunDir};
use crate::plan::PlanAction;

/// Who approved which action, when, through which channel, and the SHA-256
/// of the action's canonical content at that moment. An action that changes
/// after approval no longer matches its record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Approval Record v1")]
pub struct ApprovalRecordV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// The approved action.
    #[schemars(length(min = 1))]
    pub action_id: String,
    /// SHA-256 (lowercase hex) of the canonical content of the action as
    /// approved (`PlanAction::content_sha256`).
    #[schemars(regex(pattern = r"^[a-f0-9]{64}$"))]
    pub action_sha256: String,
    /// Who approved it.
    #[schemars(length(min = 1))]
    pub approver: String,
    /// The channel the approval came through (must be one of the anchor's
    /// `approval_channels` to count).
    #[schemars(length(min = 1))]
    pub channel: String,
    /// When it was approved (RFC 3339).
    pub approved_at: Timestamp,
    /// The project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// The run the action belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The plan the action was proposed in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_proposal_id: Option<String>,
    /// What the approver said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Artifact for ApprovalRecordV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::ApprovalRecordV1;
    const NAME: &'static str = "approval_record_v1";
    const SHORT_NAME: &'static str = "approval";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "approval";
    const RUN_FILE: RunFile = RunFile::OnePerId {
        dir: RunDir::Approvals,
        prefix: "",
        id: IdKind::Action,
    };
    const SIGNATURE_KEYS: &'static [&'static str] =
        &["action_sha256", "approver", "channel", "approved_at"];
    const VOLATILE_FIELDS: &'static [FieldPath] = &[&["approved_at"], &["run_id"]];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/approval_record_v1.schema.json");
}

impl ApprovalRecordV1 {
    /// A record approving `action` as it is now.
    pub fn approve(
        action: &PlanAction,
        approver: impl Into<String>,
        channel: impl Into<String>,
        approved_at: Timestamp,
    ) -> Self {
        Self {
            format_version: FormatV1,
            action_id: action.action_id.clone(),
            action_sha256: action.content_sha256(),
            approver: approver.into(),
            channel: channel.into(),
            approved_at,
            project_id: None,
            run_id: None,
            plan_proposal_id: None,
            comment: None,
            extra: Extra::new(),
        }
    }

    // Invariant: SCHEMA-006 An approval covers the action as approved, not as it is later.
    // Category: governance
    // Why: an action widened after approval (more paths, another command) must not
    //      inherit a human's yes.
    // Enforced by: the record stores PlanAction::content_sha256; matches compares it
    //      with the action's current digest.
    /// Whether this record is for `action` exactly as it is now: same id and
    /// same content digest. Channel policy is the governance engine's check.
    pub fn matches(&self, action: &PlanAction) -> bool {
        self.action_id == action.action_id && self.action_sha256 == action.content_sha256()
    }
}
