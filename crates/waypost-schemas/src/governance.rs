//! Governance state artifacts: contract and job snapshots with their
//! hash-chained transition history, and the audit evidence of a job.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Extra, FormatV1, Timestamp};
use crate::excerpt::Excerpt;
use crate::kind::{Artifact, ArtifactKind, FieldPath, RunFile};
use crate::layout::{IdKind, RunDir};

/// Contract states. `completed`, `rejected`, `expired` and `failed` are terminal.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    Draft,
    Validated,
    Eligible,
    Approved,
    Active,
    Completed,
    Rejected,
    Expired,
    Failed,
}

impl ContractStatus {
    /// Whether no transition may leave this state.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Rejected | Self::Expired | Self::Failed
        )
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Validated => "validated",
            Self::Eligible => "eligible",
            Self::Approved => "approved",
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Failed => "failed",
        }
    }
}

/// Job states. `completed`, `failed` and `cancelled` are terminal.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl JobStatus {
    /// Whether no transition may leave this state.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Step states.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Skipped,
}

/// An audit's verdict on a contract's job: `pass` or `fail`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditVerdict {
    Pass,
    Fail,
}

/// One change a contract proposes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProposedChange {
    /// Identifier within the contract.
    #[schemars(length(min = 1))]
    pub change_id: String,
    /// What the change does.
    pub description: String,
    /// Repository-relative paths it touches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_paths: Vec<String>,
    /// Conservative estimate of changed lines.
    #[serde(default)]
    pub changed_lines: u64,
}

/// One transition in a hash-chained history. `hash` is the SHA-256 of the
/// entry's canonical JSON without `hash`; `prev_hash` is the previous
/// entry's `hash` (64 zeros for the first), so any edit, deletion or
/// reordering breaks the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryEntry {
    /// Position in the history, from 0.
    pub sequence: u64,
    /// The state before (absent for creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The state after.
    pub to: String,
    /// When.
    pub at: Timestamp,
    /// Who or what made the transition.
    #[schemars(length(min = 1))]
    pub actor: String,
    /// Why, or what was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The previous entry's hash.
    #[schemars(regex(pattern = r"^[a-f0-9]{64}$"))]
    pub prev_hash: String,
    /// This entry's hash.
    #[schemars(regex(pattern = r"^[a-f0-9]{64}$"))]
    pub hash: String,
}

/// `prev_hash` of the first entry of every history.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl HistoryEntry {
    /// An entry whose `hash` is computed from its content and `prev_hash`.
    pub fn chained(
        sequence: u64,
        from: Option<&str>,
        to: &str,
        at: Timestamp,
        actor: &str,
        note: Option<String>,
        prev_hash: &str,
    ) -> Self {
        let mut entry = Self {
            sequence,
            from: from.map(str::to_owned),
            to: to.to_owned(),
            at,
            actor: actor.to_owned(),
            note,
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// SHA-256 of the entry's canonical JSON without `hash`.
    pub fn compute_hash(&self) -> String {
        let mut value = serde_json::to_value(self).expect("history entries serialize");
        if let serde_json::Value::Object(map) = &mut value {
            map.remove("hash");
        }
        crate::canonical::sha256_hex(&crate::canonical::canonical_json(&value))
    }
}

/// A contract: the changes a human approves, and what became of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Contract Snapshot v1")]
pub struct ContractSnapshotV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// The contract.
    #[schemars(length(min = 1))]
    pub contract_id: String,
    /// Its state.
    pub status: ContractStatus,
    /// The changes it proposes, in order; the job's steps derive only from these.
    pub proposed_changes: Vec<ProposedChange>,
    /// When it was drafted.
    pub created_at: Timestamp,
    /// Who approved it (set on approval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// The job that carries it out (set on activation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The audit's verdict (set before completion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_verdict: Option<AuditVerdict>,
    /// Every transition, hash-chained.
    pub history: Vec<HistoryEntry>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Artifact for ContractSnapshotV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::ContractSnapshotV1;
    const NAME: &'static str = "contract_snapshot_v1";
    const SHORT_NAME: &'static str = "contract";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "contract";
    const RUN_FILE: RunFile = RunFile::OnePerId {
        dir: RunDir::Governance,
        prefix: "contract-",
        id: IdKind::Contract,
    };
    // Jobs and audit evidence share steps and health; contracts and jobs
    // share history: each kind outscores the others on its own shape.
    const SIGNATURE_KEYS: &'static [&'static str] = &[
        "proposed_changes",
        "approved_by",
        "audit_verdict",
        "history",
    ];
    const VOLATILE_FIELDS: &'static [FieldPath] = &[&["created_at"]];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/contract_snapshot_v1.schema.json");
}

/// What a step produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepResult {
    /// `completed`, `failed` or `skipped`.
    pub outcome: StepStatus,
    /// Evidence of what happened (redacted excerpts); at least one.
    #[schemars(length(min = 1))]
    pub evidence: Vec<Excerpt>,
    /// When the step finished.
    pub finished_at: Timestamp,
}

/// One step of a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JobStep {
    /// Position; steps run in index order.
    pub index: u32,
    /// The proposed change it carries out.
    #[schemars(length(min = 1))]
    pub change_id: String,
    /// What it does.
    pub description: String,
    /// How long it may run.
    pub timeout_seconds: u64,
    /// Its state.
    pub status: StepStatus,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    /// Its result, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<StepResult>,
}

/// A read-only observation of the repository's health.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HealthSnapshot {
    /// When it was observed.
    pub observed_at: Timestamp,
    /// Named signals (test counts, lint status, ...).
    #[serde(default)]
    pub signals: BTreeMap<String, serde_json::Value>,
}

/// A job: the ordered steps that carry out an active contract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Job Snapshot v1")]
pub struct JobSnapshotV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// The job.
    #[schemars(length(min = 1))]
    pub job_id: String,
    /// The contract it carries out (a job never exists without one).
    #[schemars(length(min = 1))]
    pub contract_id: String,
    /// Its state.
    pub status: JobStatus,
    /// The steps, in index order.
    pub steps: Vec<JobStep>,
    /// When it was created.
    pub created_at: Timestamp,
    /// Health before the job ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_before: Option<HealthSnapshot>,
    /// Health after the job ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_after: Option<HealthSnapshot>,
    /// Every transition, hash-chained.
    pub history: Vec<HistoryEntry>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Artifact for JobSnapshotV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::JobSnapshotV1;
    const NAME: &'static str = "job_snapshot_v1";
    const SHORT_NAME: &'static str = "job";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "job";
    const RUN_FILE: RunFile = RunFile::OnePerId {
        dir: RunDir::Governance,
        prefix: "job-",
        id: IdKind::Job,
    };
    const SIGNATURE_KEYS: &'static [&'static str] =
        &["steps", "health_before", "health_after", "history"];
    const VOLATILE_FIELDS: &'static [FieldPath] = &[&["created_at"]];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/job_snapshot_v1.schema.json");
}

/// Evidence of a job for an auditor: what ran and what came of it. It
/// carries no verdict; deciding one is the auditor's job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Audit Evidence v1")]
pub struct AuditEvidenceV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// The job.
    #[schemars(length(min = 1))]
    pub job_id: String,
    /// Its contract.
    #[schemars(length(min = 1))]
    pub contract_id: String,
    /// The job's state when the evidence was collected.
    pub status: JobStatus,
    /// The steps with their results.
    pub steps: Vec<JobStep>,
    /// Health before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_before: Option<HealthSnapshot>,
    /// Health after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_after: Option<HealthSnapshot>,
    /// From the first step's start to the last step's end.
    pub duration_seconds: u64,
    /// When the evidence was collected.
    pub collected_at: Timestamp,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Artifact for AuditEvidenceV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::AuditEvidenceV1;
    const NAME: &'static str = "audit_evidence_v1";
    const SHORT_NAME: &'static str = "audit";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "audit";
    const RUN_FILE: RunFile = RunFile::OnePerId {
        dir: RunDir::Governance,
        prefix: "audit-",
        id: IdKind::Job,
    };
    const SIGNATURE_KEYS: &'static [&'static str] = &[
        "collected_at",
        "duration_seconds",
        "steps",
        "health_before",
        "health_after",
    ];
    const VOLATILE_FIELDS: &'static [FieldPath] = &[&["collected_at"], &["duration_seconds"]];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/audit_evidence_v1.schema.json");
}
