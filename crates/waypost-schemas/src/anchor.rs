//! `IntentionAnchorV2`: the canonical, human-owned statement of what the
//! project wants. Field names and enum values are those of the published
//! Autopack schema; waypost's additions are marked as such.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Extra, FormatV2, Timestamp};
use crate::kind::{Artifact, ArtifactKind, FieldPath, RunFile};
use crate::layout::RunDir;
use crate::plan::ActionType;

/// Universal pivot intentions for safe autonomous progress: the high-level
/// intent types that govern what autonomous agents may do in a project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Intention Anchor v2")]
pub struct IntentionAnchorV2 {
    /// Always `v2`.
    pub format_version: FormatV2,
    /// Project identifier.
    #[schemars(length(min = 1))]
    pub project_id: String,
    /// When the anchor was first written (RFC 3339).
    pub created_at: Timestamp,
    /// When the anchor was last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    /// SHA-256 (lowercase hex, 16 to 64 characters) of the raw human input the
    /// anchor was authored from, so any edit of the source is detected.
    #[schemars(regex(pattern = r"^[a-f0-9]{16,64}$"))]
    pub raw_input_digest: String,
    /// The pivot intention types; every section is optional.
    pub pivot_intentions: PivotIntentions,
    /// Optional metadata for tracking and auditing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<AnchorMetadata>,
    /// waypost addition: where each field that a human did not write came
    /// from, by JSON pointer (e.g. `/pivot_intentions/scope_boundaries/protected_paths`).
    /// A field without an entry was written by a human.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub provenance: BTreeMap<String, FieldProvenance>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Artifact for IntentionAnchorV2 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::IntentionAnchorV2;
    const NAME: &'static str = "intention_anchor_v2";
    const SHORT_NAME: &'static str = "anchor";
    const FORMAT_VERSION: &'static str = "v2";
    const ID_PREFIX: &'static str = "anchor";
    const RUN_FILE: RunFile = RunFile::OnePerRun(RunDir::Intention);
    const SIGNATURE_KEYS: &'static [&'static str] =
        &["pivot_intentions", "raw_input_digest", "created_at"];
    const VOLATILE_FIELDS: &'static [FieldPath] = &[&["created_at"], &["updated_at"]];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[
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
    ];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/intention_anchor_v2.schema.json");
}

/// Where a field that no human wrote came from.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct FieldProvenance {
    /// `inferred` from the repository, or waypost's built-in `default`.
    pub origin: ProvenanceOrigin,
    /// What it was inferred from (repository-relative files), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// How a field got its value without a human: `inferred` or `default`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ProvenanceOrigin {
    // Deduced from the repository's files.
    Inferred,
    // waypost's conservative built-in value.
    Default,
}

/// The pivot intention types (high-level, universal).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PivotIntentions {
    /// Desired outcomes, success signals, non-goals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub north_star: Option<NorthStar>,
    /// What must never happen; what requires approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_risk: Option<SafetyRisk>,
    /// Hard blocks, required checks, proof artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_verification: Option<EvidenceVerification>,
    /// Allowed write roots, protected paths, network allowlist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_boundaries: Option<ScopeBoundaries>,
    /// Token and time caps, cost escalation policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_cost: Option<BudgetCost>,
    /// What persists to SOT ledgers, derived indexes, retention rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_continuity: Option<MemoryContinuity>,
    /// Default-deny, auto-approval rules, approval channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub governance_review: Option<GovernanceReview>,
    /// Whether and how parallel runs are isolated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallelism_isolation: Option<ParallelismIsolation>,
    /// Deployment requirements (kept for compatibility with published anchors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<Deployment>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Desired outcomes, success signals, non-goals. Lists keep their authored
/// order (it may express priority).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NorthStar {
    /// What success looks like.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub desired_outcomes: Vec<String>,
    /// Observable indicators of success.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub success_signals: Vec<String>,
    /// Explicit non-goals (scope boundaries).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub non_goals: Vec<String>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What must never happen and what requires approval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SafetyRisk {
    /// Hard blocks: operations or path globs that must never execute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub never_allow: Vec<String>,
    /// Operations or path globs that require explicit approval.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_approval: Vec<String>,
    /// Overall risk tolerance level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_tolerance: Option<RiskTolerance>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Overall risk tolerance: `minimal`, `low`, `moderate` or `high`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskTolerance {
    // Only what is provably safe proceeds.
    Minimal,
    // Low-risk actions only.
    Low,
    // Moderate-risk actions may proceed under the rules.
    Moderate,
    // High-risk actions may proceed under the rules.
    High,
}

/// Hard blocks, required checks, proof artifacts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceVerification {
    /// Checks that must pass (no bypass).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hard_blocks: Vec<String>,
    /// Artifacts that must be generated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_proofs: Vec<String>,
    /// Gates that must be satisfied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verification_gates: Vec<String>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Where writes are permitted, what must not be modified, what network
/// endpoints may be reached. Paths are repository-relative, `/`-separated.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScopeBoundaries {
    /// Paths (or globs) under which writes are permitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_write_roots: Vec<String>,
    /// Paths (or globs) that must not be modified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protected_paths: Vec<String>,
    /// Allowed network endpoints or domains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_allowlist: Vec<String>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Token and time caps and what happens when one would be crossed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BudgetCost {
    /// Global token budget cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_cap_global: Option<u64>,
    /// Per-call token budget cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_cap_per_call: Option<u64>,
    /// Time budget cap in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_cap_seconds: Option<u64>,
    /// What to do when a cap would be crossed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_escalation_policy: Option<CostEscalationPolicy>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// What to do when a budget cap would be crossed: `block`, `warn` or
/// `request_approval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CostEscalationPolicy {
    // Stop before the cap is crossed.
    Block,
    // Record a warning and continue.
    Warn,
    // Stop and ask a human.
    RequestApproval,
}

/// What persists to SOT ledgers, derived indexes, retention rules.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MemoryContinuity {
    /// Artifact types to persist to SOT ledgers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub persist_to_sot: Vec<String>,
    /// Derived indexes to maintain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived_indexes: Vec<String>,
    /// Retention policies by artifact type.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub retention_rules: BTreeMap<String, String>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Default policy, narrow auto-approval rules, approval channels.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GovernanceReview {
    /// Default approval policy when no rule applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_policy: Option<DefaultPolicy>,
    /// Narrow auto-approval rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub auto_approve_rules: Vec<AutoApproveRule>,
    /// Channels through which a human may approve (PR, CLI, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approval_channels: Vec<String>,
    /// waypost addition: globs of repository paths that are never
    /// auto-approved, whatever a rule says (on top of waypost's built-in list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub never_auto_approve: Vec<String>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Default approval policy: `deny` or `allow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DefaultPolicy {
    // Anything no rule approves requires approval.
    Deny,
    // Anything no rule stops is allowed (legal, but high risk).
    Allow,
}

/// One narrow auto-approval rule.
///
/// `conditions` is the published prose form; waypost never evaluates prose.
/// The typed `criteria` (a waypost addition) is what a governance engine
/// evaluates: a rule without criteria approves nothing automatically.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AutoApproveRule {
    /// Stable identifier, quoted in decision reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// What the rule is for, in plain words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Human-readable conditions (documentation only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// waypost addition: machine-evaluable conditions, all of which must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-waypost-addition" = true))]
    pub criteria: Option<AutoApproveCriteria>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Typed auto-approval conditions. An action matches only when every given
/// condition holds; an empty `action_types` or `path_globs` matches nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AutoApproveCriteria {
    /// Action types the rule covers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub action_types: Vec<ActionType>,
    /// Globs over repository-relative paths; every target path of the action
    /// must match at least one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path_globs: Vec<String>,
    /// Largest estimated number of changed lines the rule approves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_changed_lines: Option<u64>,
    /// Largest risk score (0 safe .. 1 dangerous) the rule approves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub max_risk_score: Option<f64>,
    /// Command patterns the rule allows (`cargo fmt`, `cargo test *`, `git
    /// push !--force`). An action that runs a command is approved only when
    /// every simple command in it matches one of these; a rule without any
    /// approves no action that runs a command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Whether parallel runs are allowed and how they are isolated.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParallelismIsolation {
    /// Whether parallel runs are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<bool>,
    /// Required isolation model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation_model: Option<IsolationModel>,
    /// Maximum concurrent runs allowed (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_concurrent_runs: Option<u32>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Isolation model: `four_layer` (worktree + workspace lease + executor lock +
/// run-scoped artifacts) or `none`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IsolationModel {
    // Worktree + workspace lease + executor lock + run-scoped artifacts.
    FourLayer,
    // No isolation.
    None,
}

/// Deployment requirements, as in the published anchor schema.
///
/// `env_vars` maps a variable name to a description of what it must hold;
/// waypost never records environment values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Deployment {
    /// Hosting platform requirements (e.g. containers, serverless).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosting_requirements: Vec<String>,
    /// Environment variables required for deployment, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env_vars: BTreeMap<String, String>,
    /// Secrets configuration and management requirements.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets_config: BTreeMap<String, serde_json::Value>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Optional metadata for tracking and auditing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AnchorMetadata {
    /// Who wrote the anchor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Where the anchor came from (file, tool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Free-form tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl IntentionAnchorV2 {
    /// `anchor-<24 hex>`: derived from the canonical content, timestamps
    /// excluded, so re-stamping an unchanged anchor keeps its id.
    pub fn anchor_id(&self) -> String {
        self.content_id()
    }
}
