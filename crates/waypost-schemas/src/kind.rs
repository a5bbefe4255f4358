//! The artifact kinds, how to tell them apart, and the one place that says
//! which of their fields are volatile and which arrays are unordered.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::canonical::{self, FieldPath};

/// Every artifact waypost reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ArtifactKind {
    /// [`crate::IntentionAnchorV2`].
    IntentionAnchorV2,
    /// [`crate::GapReportV1`].
    GapReportV1,
    /// [`crate::PlanProposalV1`].
    PlanProposalV1,
    /// [`crate::AutopilotSessionV1`].
    AutopilotSessionV1,
    /// [`crate::ApprovalRecordV1`].
    ApprovalRecordV1,
    /// [`crate::ClaimRecordV1`].
    ClaimRecordV1,
    /// [`crate::ContractSnapshotV1`].
    ContractSnapshotV1,
    /// [`crate::JobSnapshotV1`].
    JobSnapshotV1,
    /// [`crate::AuditEvidenceV1`].
    AuditEvidenceV1,
}

/// A JSON document that is not recognisably any artifact.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectError {
    /// The document is not a JSON object.
    #[error("an artifact is a JSON object, found {found}")]
    NotAnObject {
        /// What the document is instead.
        found: &'static str,
    },
    /// Neither the shape nor `format_version` identify the artifact.
    #[error(
        "cannot tell which artifact this is: {reason}; name it with --kind (one of: {})",
        ArtifactKind::names().join(", ")
    )]
    Unrecognised {
        /// What was looked at.
        reason: String,
    },
}

/// An artifact kind name that is not known.
#[derive(Debug, thiserror::Error)]
#[error("unknown artifact kind `{given}` (expected one of: {})", ArtifactKind::names().join(", "))]
pub struct UnknownKind {
    /// The name that was given.
    pub given: String,
}

impl ArtifactKind {
    /// Every kind, in the order schemas and listings use.
    pub const ALL: [ArtifactKind; 9] = [
        Self::IntentionAnchorV2,
        Self::GapReportV1,
        Self::PlanProposalV1,
        Self::AutopilotSessionV1,
        Self::ApprovalRecordV1,
        Self::ClaimRecordV1,
        Self::ContractSnapshotV1,
        Self::JobSnapshotV1,
        Self::AuditEvidenceV1,
    ];

    /// The snake-case name, e.g. `gap_report_v1`; also the schema file stem.
    pub fn name(self) -> &'static str {
        match self {
            Self::IntentionAnchorV2 => "intention_anchor_v2",
            Self::GapReportV1 => "gap_report_v1",
            Self::PlanProposalV1 => "plan_proposal_v1",
            Self::AutopilotSessionV1 => "autopilot_session_v1",
            Self::ApprovalRecordV1 => "approval_record_v1",
            Self::ClaimRecordV1 => "claim_record_v1",
            Self::ContractSnapshotV1 => "contract_snapshot_v1",
            Self::JobSnapshotV1 => "job_snapshot_v1",
            Self::AuditEvidenceV1 => "audit_evidence_v1",
        }
    }

    /// Every kind's name.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|k| k.name()).collect()
    }

    /// The `format_version` value this kind requires.
    pub fn format_version(self) -> &'static str {
        match self {
            Self::IntentionAnchorV2 => "v2",
            _ => "v1",
        }
    }

    /// `<name>.schema.json`.
    pub fn schema_file_name(self) -> String {
        format!("{}.schema.json", self.name())
    }

    /// The prefix of ids derived from this kind's content.
    pub fn id_prefix(self) -> &'static str {
        match self {
            Self::IntentionAnchorV2 => "anchor",
            Self::GapReportV1 => "gapreport",
            Self::PlanProposalV1 => "plan",
            Self::AutopilotSessionV1 => "session",
            Self::ApprovalRecordV1 => "approval",
            Self::ClaimRecordV1 => "claim",
            Self::ContractSnapshotV1 => "contract",
            Self::JobSnapshotV1 => "job",
            Self::AuditEvidenceV1 => "audit",
        }
    }

    /// Top-level keys that only this kind has: required ones first, then
    /// optional ones that still point to it.
    fn signature_keys(self) -> &'static [&'static str] {
        match self {
            Self::IntentionAnchorV2 => &["pivot_intentions", "raw_input_digest", "created_at"],
            Self::GapReportV1 => &["gaps", "workspace_state_digest"],
            Self::PlanProposalV1 => &["actions", "governance_checks"],
            Self::AutopilotSessionV1 => &[
                "session_id",
                "started_at",
                "status",
                "execution_summary",
                "executed_action_ids",
                "approval_requests",
                "error_log",
                "blocked_reason",
            ],
            Self::ApprovalRecordV1 => &["action_sha256", "approver", "channel", "approved_at"],
            Self::ClaimRecordV1 => &[
                "fencing_token",
                "lease_duration_ms",
                "consecutive_takeovers",
            ],
            // Jobs and audit evidence share steps and health; contracts and
            // jobs share history: each kind outscores the others on its own shape.
            Self::ContractSnapshotV1 => &[
                "proposed_changes",
                "approved_by",
                "audit_verdict",
                "history",
            ],
            Self::JobSnapshotV1 => &["steps", "health_before", "health_after", "history"],
            Self::AuditEvidenceV1 => &[
                "collected_at",
                "duration_seconds",
                "steps",
                "health_before",
                "health_after",
            ],
        }
    }

    /// Tells the kind of `value` from its shape (the kind with the most of
    /// its signature keys present) and, failing that, from `format_version`.
    ///
    /// The shape wins so that a gap report with a wrong `format_version` is
    /// still reported as a gap report with a wrong version, and one missing
    /// a required field is still recognised by its other fields.
    pub fn detect(value: &serde_json::Value) -> Result<Self, DetectError> {
        let Some(object) = value.as_object() else {
            return Err(DetectError::NotAnObject {
                found: json_type_name(value),
            });
        };
        let scores: Vec<(Self, usize)> = Self::ALL
            .into_iter()
            .map(|k| {
                let present = k
                    .signature_keys()
                    .iter()
                    .filter(|key| object.contains_key(**key))
                    .count();
                (k, present)
            })
            .filter(|(_, present)| *present > 0)
            .collect();
        let best = scores.iter().map(|(_, n)| *n).max().unwrap_or(0);
        let leaders: Vec<Self> = scores
            .iter()
            .filter(|(_, n)| *n == best)
            .map(|(k, _)| *k)
            .collect();
        if let [kind] = leaders.as_slice() {
            return Ok(*kind);
        }
        let version = object.get("format_version").and_then(|v| v.as_str());
        if leaders.is_empty() && version == Some("v2") {
            return Ok(Self::IntentionAnchorV2);
        }
        let reason = if leaders.len() > 1 {
            format!(
                "its keys fit several artifacts equally well ({})",
                leaders
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!(
                "format_version is {} and none of the identifying keys ({}) is present",
                version.map_or_else(|| "missing".to_owned(), |v| format!("`{v}`")),
                Self::ALL
                    .iter()
                    .map(|k| k.signature_keys()[0])
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Err(DetectError::Unrecognised { reason })
    }

    /// Fields that record when, how long or in which run, not what: excluded
    /// from ids.
    /// Fields that record when or how long, not what: excluded from ids.
    pub(crate) fn volatile_fields(self) -> &'static [FieldPath] {
        match self {
            Self::IntentionAnchorV2 => &[&["created_at"], &["updated_at"]],
            Self::GapReportV1 => &[
                &["generated_at"],
                &["run_id"],
                &["metadata", "scan_duration_ms"],
            ],
            Self::PlanProposalV1 => &[
                &["generated_at"],
                &["run_id"],
                &["metadata", "generation_duration_ms"],
            ],
            Self::AutopilotSessionV1 => &[
                &["started_at"],
                &["completed_at"],
                &["run_id"],
                &["error_log", "*", "timestamp"],
                &["metadata", "session_duration_ms"],
            ],
            Self::ApprovalRecordV1 => &[&["approved_at"], &["run_id"]],
            Self::ClaimRecordV1 => &[&["acquired_at"], &["renewed_at"], &["released_at"]],
            Self::ContractSnapshotV1 => &[&["created_at"]],
            Self::JobSnapshotV1 => &[&["created_at"]],
            Self::AuditEvidenceV1 => &[&["collected_at"], &["duration_seconds"]],
        }
    }

    /// Arrays whose order carries no meaning: sorted in the canonical form.
    /// Every other array keeps its documented order.
    pub(crate) fn unordered_arrays(self) -> &'static [FieldPath] {
        match self {
            Self::IntentionAnchorV2 => &[
                &["pivot_intentions", "safety_risk", "never_allow"],
                &["pivot_intentions", "safety_risk", "requires_approval"],
                &["pivot_intentions", "evidence_verification", "hard_blocks"],
                &[
                    "pivot_intentions",
                    "evidence_verification",
                    "required_proofs",
                ],
                &[
                    "pivot_intentions",
                    "evidence_verification",
                    "verification_gates",
                ],
                &[
                    "pivot_intentions",
                    "scope_boundaries",
                    "allowed_write_roots",
                ],
                &["pivot_intentions", "scope_boundaries", "protected_paths"],
                &["pivot_intentions", "scope_boundaries", "network_allowlist"],
                &["pivot_intentions", "memory_continuity", "persist_to_sot"],
                &["pivot_intentions", "memory_continuity", "derived_indexes"],
                &["pivot_intentions", "governance_review", "approval_channels"],
                &[
                    "pivot_intentions",
                    "governance_review",
                    "never_auto_approve",
                ],
                &[
                    "pivot_intentions",
                    "governance_review",
                    "auto_approve_rules",
                    "*",
                    "criteria",
                    "action_types",
                ],
                &[
                    "pivot_intentions",
                    "governance_review",
                    "auto_approve_rules",
                    "*",
                    "criteria",
                    "path_globs",
                ],
                &[
                    "pivot_intentions",
                    "governance_review",
                    "auto_approve_rules",
                ],
                &["pivot_intentions", "deployment", "hosting_requirements"],
                &["metadata", "tags"],
            ],
            Self::GapReportV1 => &[
                &["gaps", "*", "detection_signals"],
                &["gaps", "*", "evidence", "file_paths"],
                &["gaps", "*", "evidence", "test_names"],
                &["gaps", "*", "evidence", "excerpts"],
                &["gaps", "*", "evidence", "locations"],
                &["gaps"],
            ],
            Self::PlanProposalV1 => &[
                &["actions", "*", "target_gap_ids"],
                &["actions", "*", "risk_factors"],
                &["actions", "*", "approval_reasons"],
                &["actions", "*", "target_paths"],
                &["actions", "*", "dependencies"],
                &["governance_checks", "never_auto_approve_violations"],
                &["governance_checks", "protected_path_checks"],
            ],
            Self::AutopilotSessionV1 => &[&["approval_requests"]],
            Self::ApprovalRecordV1
            | Self::ClaimRecordV1
            | Self::ContractSnapshotV1
            | Self::JobSnapshotV1
            | Self::AuditEvidenceV1 => &[],
        }
    }
}

impl fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ArtifactKind {
    type Err = UnknownKind;

    /// Accepts the full name (`gap_report_v1`), the name without version
    /// (`gap_report`) and short forms (`anchor`, `gaps`, `plan`, `session`,
    /// `approval`); `-` and `_` are interchangeable.
    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let normal = given.trim().to_ascii_lowercase().replace('-', "_");
        let kind = match normal.as_str() {
            "intention_anchor_v2" | "intention_anchor" | "anchor" => Self::IntentionAnchorV2,
            "gap_report_v1" | "gap_report" | "gaps" => Self::GapReportV1,
            "plan_proposal_v1" | "plan_proposal" | "plan" => Self::PlanProposalV1,
            "autopilot_session_v1" | "autopilot_session" | "session" => Self::AutopilotSessionV1,
            "approval_record_v1" | "approval_record" | "approval" => Self::ApprovalRecordV1,
            "claim_record_v1" | "claim_record" | "claim" => Self::ClaimRecordV1,
            "contract_snapshot_v1" | "contract_snapshot" | "contract" => Self::ContractSnapshotV1,
            "job_snapshot_v1" | "job_snapshot" | "job" => Self::JobSnapshotV1,
            "audit_evidence_v1" | "audit_evidence" | "audit" => Self::AuditEvidenceV1,
            _ => {
                return Err(UnknownKind {
                    given: given.to_owned(),
                });
            }
        };
        Ok(kind)
    }
}

/// An artifact type: serializable, schema'd, and tied to one [`ArtifactKind`].
pub trait Artifact: Serialize + DeserializeOwned + schemars::JsonSchema {
    /// The kind this type is.
    const KIND: ArtifactKind;

    /// The canonical bytes of this artifact (see [`canonical::canonical_bytes`]).
    fn canonical_bytes(&self) -> Vec<u8> {
        canonical::canonical_bytes(Self::KIND, &canonical::to_value(self))
    }

    /// The id derived from the canonical bytes: `<prefix>-<24 hex digits>`.
    fn content_id(&self) -> String {
        canonical::content_id(Self::KIND.id_prefix(), &self.canonical_bytes())
    }
}

macro_rules! artifact {
    ($ty:ty => $kind:ident) => {
        impl Artifact for $ty {
            const KIND: ArtifactKind = ArtifactKind::$kind;
        }
    };
}

artifact!(crate::IntentionAnchorV2 => IntentionAnchorV2);
artifact!(crate::GapReportV1 => GapReportV1);
artifact!(crate::PlanProposalV1 => PlanProposalV1);
artifact!(crate::AutopilotSessionV1 => AutopilotSessionV1);
artifact!(crate::ApprovalRecordV1 => ApprovalRecordV1);
artifact!(crate::ClaimRecordV1 => ClaimRecordV1);
artifact!(crate::ContractSnapshotV1 => ContractSnapshotV1);
artifact!(crate::JobSnapshotV1 => JobSnapshotV1);
artifact!(crate::AuditEvidenceV1 => AuditEvidenceV1);

/// `object`, `array`, ... for messages.
pub(crate) fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
