//! `RunRecordV1`: what a parallel run owns in a repository: its branch,
//! base commit, git worktree and leased resources.
//!
//! The record is written when a run creates its worktree and is the proof
//! of ownership a run shows to reattach: a run reattaches only to the
//! worktree its own record names, on the branch its own record names.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::claim::HolderIdentity;
use crate::common::{Extra, FormatV1, Timestamp};
use crate::kind::{Artifact, ArtifactKind, FieldPath, RunFile};

/// One run's ownership record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Run Record v1")]
pub struct RunRecordV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// The run id (one path component).
    #[schemars(length(min = 1, max = 128))]
    pub run_id: String,
    /// The project the run belongs to.
    #[schemars(length(min = 1))]
    pub project_id: String,
    /// The run's branch, without `refs/heads/` (`waypost/<run_id>`).
    #[schemars(length(min = 1))]
    pub branch: String,
    /// The branch the run started from and lands into, without
    /// `refs/heads/`; absent when the run started from a detached commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_branch: Option<String>,
    /// The commit the run's branch was created at (full hex id).
    #[schemars(length(min = 40, max = 64))]
    pub base_commit: String,
    /// The run's git worktree (absolute path).
    #[schemars(length(min = 1))]
    pub worktree: String,
    /// The repository root whose run directory holds the run's artifacts
    /// (absolute path).
    #[schemars(length(min = 1))]
    pub repo_root: String,
    /// When the worktree was created.
    pub created_at: Timestamp,
    /// The process that created it.
    pub created_by: HolderIdentity,
    /// TCP ports leased to the run, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ports: BTreeMap<String, u16>,
    /// When `runs gc` moved the worktree aside because it held work that
    /// was neither merged nor pushed; the branch is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantined_at: Option<Timestamp>,
    /// Untracked files copied into the fresh worktree (repository-relative).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copied_files: Vec<String>,
    /// The landing of the run's branch into its base, once one started:
    /// written before the base ref moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing: Option<RunLanding>,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Where a landing stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LandingState {
    /// The result is computed and recorded; the base ref may not have moved
    /// yet.
    InProgress,
    /// The base contains the run's work.
    Landed,
    /// The landing stopped: a conflict, a dirty checkout of the base, the
    /// attempts spent, or a refusal; `reason` says which.
    MergeBlocked,
}

/// The durable record of one landing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunLanding {
    /// Where it stands.
    pub state: LandingState,
    /// `merge`, `ff` or `rebase`.
    #[schemars(length(min = 1))]
    pub strategy: String,
    /// The branch it lands into (without `refs/heads/`).
    #[schemars(length(min = 1))]
    pub base_branch: String,
    /// The base commit the ref moves from (compare-and-swap).
    #[schemars(length(min = 40, max = 64))]
    pub expected_old: String,
    /// The run's head it lands.
    #[schemars(length(min = 40, max = 64))]
    pub run_head: String,
    /// The commit the base moves to, once computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Attempts started, bounded by the lander.
    pub attempts: u32,
    /// The fencing token of the base-branch claim it was written under.
    pub fencing_token: u64,
    /// Who wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<HolderIdentity>,
    /// Why it is blocked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Conflicting paths, when a merge conflicts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// When it was last written.
    pub updated_at: Timestamp,
}

impl Artifact for RunRecordV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::RunRecordV1;
    const NAME: &'static str = "run_record_v1";
    const SHORT_NAME: &'static str = "run";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "run";
    const RUN_FILE: RunFile = RunFile::Elsewhere;
    const SIGNATURE_KEYS: &'static [&'static str] = &["base_commit", "worktree", "branch"];
    // Which run, when and by whom, as in every kind; what the run owns is
    // its branch, worktree and resources (the branch and worktree name the
    // run again).
    const VOLATILE_FIELDS: &'static [FieldPath] = &[
        &["run_id"],
        &["created_at"],
        &["created_by"],
        &["quarantined_at"],
        &["landing", "updated_at"],
        &["landing", "owner"],
    ];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[&["copied_files"]];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/run_record_v1.schema.json");
}
