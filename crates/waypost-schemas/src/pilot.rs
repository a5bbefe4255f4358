//! `PilotDecisionV1`: what the gate pilot decided after a batch of agent
//! tasks ended with failures while tasks remained.
//!
//! One file per batch, `pilot/<batch_id>.json` in the run directory. It
//! records the decision that was applied: the advisor's when it passed
//! validation, otherwise the deterministic replan together with the reason
//! the advisor's answer was not used. waypost-planning builds, validates
//! and writes it; this crate only defines the wire form.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Extra, FormatV1, Timestamp};
use crate::kind::{Artifact, ArtifactKind, FieldPath, RunFile};
use crate::layout::{IdKind, RunDir};

/// The gate pilot's decision for one batch.
///
/// Orders: `failure_analysis`, `skips` and `held` are sorted by task key;
/// `new_learnings` is sorted; `new_batches` is in execution order (the first
/// batch runs first) and each batch is sorted by task key. Maps are sorted
/// by key. With a fixed `decided_at`, the same run state always gives the
/// same bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Pilot Decision v1")]
pub struct PilotDecisionV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// Project identifier.
    #[schemars(length(min = 1))]
    pub project_id: String,
    /// Run identifier.
    #[schemars(length(min = 1))]
    pub run_id: String,
    /// The batch whose end this decision follows; also the file name.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"))]
    pub batch_id: String,
    /// When the decision was made (RFC 3339); passed in by the caller.
    pub decided_at: Timestamp,
    /// Who made the decision that was applied.
    pub source: DecisionSource,
    /// The name of the advisor that was asked.
    #[schemars(length(min = 1))]
    pub advisor: String,
    /// Why the advisor's answer was not applied (set exactly when `source`
    /// is `fallback`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub fallback_reason: Option<String>,
    /// One analysis per task that failed in the batch, sorted by task key.
    pub failure_analysis: Vec<FailureAnalysis>,
    /// What happens to each failed task, by task key.
    pub retry_strategies: BTreeMap<String, RetryStrategy>,
    /// Context lines handed to a task when it runs next, by task key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routed_context: BTreeMap<String, Vec<String>>,
    /// Tasks that will not run, each with its reason, sorted by task key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skips: Vec<SkippedTask>,
    /// Tasks waiting for a human (escalated, or depending on an escalated
    /// task), sorted by task key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<SkippedTask>,
    /// What this batch taught, for the tasks that run later; sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_learnings: Vec<String>,
    /// The remaining tasks in batches, in execution order; each batch is
    /// sorted by task key.
    pub new_batches: Vec<Vec<String>>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Artifact for PilotDecisionV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::PilotDecisionV1;
    const NAME: &'static str = "pilot_decision_v1";
    const SHORT_NAME: &'static str = "pilot";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "pilot";
    const RUN_FILE: RunFile = RunFile::OnePerId {
        dir: RunDir::Pilot,
        prefix: "",
        id: IdKind::Batch,
    };
    const SIGNATURE_KEYS: &'static [&'static str] =
        &["retry_strategies", "new_batches", "failure_analysis"];
    const VOLATILE_FIELDS: &'static [FieldPath] = &[&["decided_at"], &["run_id"]];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[
        &["failure_analysis"],
        &["skips"],
        &["held"],
        &["new_learnings"],
        &["new_batches", "*"],
    ];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/pilot_decision_v1.schema.json");
}

impl PilotDecisionV1 {
    /// Sorts every array into its documented order (batches keep their
    /// order; the tasks inside each batch are sorted).
    pub fn sort(&mut self) {
        self.failure_analysis
            .sort_by(|a, b| a.task_key.cmp(&b.task_key));
        self.skips.sort_by(|a, b| a.task_key.cmp(&b.task_key));
        self.held.sort_by(|a, b| a.task_key.cmp(&b.task_key));
        self.new_learnings.sort();
        self.new_learnings.dedup();
        for batch in &mut self.new_batches {
            batch.sort();
        }
    }
}

/// Who made the decision that was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionSource {
    // The advisor's decision, validated.
    Advisor,
    // The deterministic replan, because the advisor failed or its decision
    // was refused.
    Fallback,
}

/// Why one task failed, as read from its verification evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailureAnalysis {
    /// The task.
    #[schemars(length(min = 1))]
    pub task_key: String,
    /// The kind of failure.
    pub failure_class: FailureClass,
    /// The log line that classified it, normalised and redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// How many times the task has run, this attempt included.
    #[schemars(range(min = 1))]
    pub attempts: u32,
    /// What the evidence says, in one sentence.
    #[schemars(length(min = 1))]
    pub evidence: String,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The kind of a task failure.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    // The task or its verification ran out of time.
    Timeout,
    // A merge or rebase stopped on conflicts.
    MergeConflict,
    // Tests ran and failed.
    TestFailure,
    // The code did not build.
    BuildError,
    // Credentials or secrets the task needs are missing.
    MissingCredentials,
    // A test failed and passed on a rerun.
    Flaky,
    // The same failure as on an earlier attempt of the task.
    IdenticalRepeat,
    // No known signature.
    Unknown,
}

/// What happens to a failed task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RetryStrategy {
    /// The action.
    pub action: RetryAction,
    /// What to tell the agent on its next attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub guidance: Option<String>,
    /// Why this action.
    #[schemars(length(min = 1))]
    pub reason: String,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The action taken for a failed task.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RetryAction {
    // Run it again as it was.
    Retry,
    // Run it again with guidance.
    RetryWithGuidance,
    // Run it again, alone in a batch, after the other tasks that are ready.
    RetryLaterSerially,
    // Do not run it again; its remaining dependents are skipped too.
    Skip,
    // Stop and ask a human; its remaining dependents wait too.
    Escalate,
}

impl RetryAction {
    /// Whether the task runs again (and so spends a retry).
    pub fn retries(self) -> bool {
        matches!(
            self,
            Self::Retry | Self::RetryWithGuidance | Self::RetryLaterSerially
        )
    }
}

/// A task that will not run now, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SkippedTask {
    /// The task.
    #[schemars(length(min = 1))]
    pub task_key: String,
    /// Why.
    #[schemars(length(min = 1))]
    pub reason: String,
    /// The skipped or held task this one depends on, when that is the
    /// reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub because_of: Option<String>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}
