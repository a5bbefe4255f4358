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
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
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
    ];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[&["copied_files"]];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/run_record_v1.schema.json");
}
