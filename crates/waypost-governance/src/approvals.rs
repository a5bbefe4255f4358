//! Approvals: a human's yes, bound to the exact content of what was approved.

use std::path::PathBuf;

use waypost_schemas::io::{LoadError, ReadError, WriteError, read_artifact, write_artifact};
use waypost_schemas::layout::IdError;
use waypost_schemas::{ApprovalRecordV1, PlanAction, RunLayout};

use crate::policy::Policy;

/// An approval that does not count, or could not be stored or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApprovalError {
    /// The record approves a different action.
    #[error("the approval is for action {approved}, not {action}")]
    ForAnotherAction {
        /// What the record approves.
        approved: String,
        /// The action being checked.
        action: String,
    },
    /// The action changed after it was approved.
    #[error(
        "action {action} changed after it was approved (approved content {approved}, now {current}); it needs a new approval"
    )]
    ActionChanged {
        /// The action.
        action: String,
        /// Digest in the record.
        approved: String,
        /// Digest of the action now.
        current: String,
    },
    /// The approval came through a channel the anchor does not accept.
    #[error("approval through `{channel}` does not count: {}", if allowed.is_empty() { "the anchor lists no approval channels".to_owned() } else { format!("the anchor accepts {}", allowed.join(", ")) })]
    ChannelNotAllowed {
        /// The record's channel.
        channel: String,
        /// The anchor's approval channels.
        allowed: Vec<String>,
    },
    /// The action id cannot name an approval file.
    #[error(transparent)]
    InvalidId(#[from] IdError),
    /// Writing the record failed; nothing was written.
    #[error(transparent)]
    Store(#[from] WriteError),
    /// Reading a stored record failed.
    #[error(transparent)]
    Load(#[from] LoadError),
}

// Invariant: POLICY-004 An approval counts only for the action exactly as approved, through an accepted channel.
// Category: governance
// Why: an action widened after approval must not inherit the human's yes, and a yes from a
//      channel the humans did not designate is not theirs.
// Enforced by: approval_is_valid compares the action id, the content digest
//      (PlanAction::content_sha256) and the channel against the anchor's approval_channels.

/// Whether `record` approves `action` as it is now, through a channel the
/// policy accepts.
pub fn approval_is_valid(
    record: &ApprovalRecordV1,
    action: &PlanAction,
    policy: &Policy,
) -> Result<(), ApprovalError> {
    if record.action_id != action.action_id {
        return Err(ApprovalError::ForAnotherAction {
            approved: record.action_id.clone(),
            action: action.action_id.clone(),
        });
    }
    let current = action.content_sha256();
    if record.action_sha256 != current {
        return Err(ApprovalError::ActionChanged {
            action: action.action_id.clone(),
            approved: record.action_sha256.clone(),
            current,
        });
    }
    if !policy.approval_channels().contains(&record.channel) {
        return Err(ApprovalError::ChannelNotAllowed {
            channel: record.channel.clone(),
            allowed: policy.approval_channels().to_vec(),
        });
    }
    Ok(())
}

/// Stores `record` as `approvals/<action_id>.json` of the run, atomically.
pub fn store_approval(
    layout: &RunLayout,
    record: &ApprovalRecordV1,
) -> Result<PathBuf, ApprovalError> {
    let path = layout.approval(&record.action_id)?;
    write_artifact(&path, record)?;
    Ok(path)
}

/// The stored approval of `action_id` in the run, if there is one.
pub fn load_approval(
    layout: &RunLayout,
    action_id: &str,
) -> Result<Option<ApprovalRecordV1>, ApprovalError> {
    let path = layout.approval(action_id)?;
    match read_artifact::<ApprovalRecordV1>(&path) {
        Ok(record) => Ok(Some(record)),
        Err(LoadError::Read(ReadError::Io { source, .. }))
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}
