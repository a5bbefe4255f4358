//! Proposed revisions of an anchor, applied only with a human's approval.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use waypost_schemas::canonical::{canonical_bytes, content_id, sha256_hex};
use waypost_schemas::io::{WriteError, write_atomic};
use waypost_schemas::{ApprovalRecordV1, ArtifactKind, Clock, IntentionAnchorV2};

use crate::source::{AnchorError, SourceFormat, load_anchor, parse_anchor};

// Invariant: ANCHOR-003 waypost never changes the anchor without a human's approval of that exact change.
// Category: governance
// Why: the anchor is what the humans want; an agent that edits it can approve itself.
// Enforced by: apply_revision refuses without an ApprovalRecordV1 whose digest matches the
//      proposal and whose channel is one of the anchor's approval channels; it checks the
//      file still holds the anchor the proposal was made from, validates the result, and
//      writes it atomically. No other code in waypost writes an anchor file.

/// One field's change.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// JSON pointer into the anchor (`/pivot_intentions/safety_risk/risk_tolerance`).
    pub field: String,
    /// The value before (absent if the field was not set).
    pub before: Option<Value>,
    /// The value after (absent to remove the field).
    pub after: Option<Value>,
}

/// A revision waypost proposes; a human approves or ignores it.
#[derive(Clone, Debug, PartialEq)]
pub struct AnchorRevisionProposal {
    /// The anchor the changes apply to.
    pub base_anchor_id: String,
    /// The changes, sorted by field.
    pub changes: Vec<FieldChange>,
    /// Why waypost proposes it.
    pub reason: String,
    /// What it saw that supports the change.
    pub evidence: Vec<String>,
}

/// A revision could not be applied. The anchor file is unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RevisionError {
    /// No approval record was given.
    #[error(
        "revision {proposal_id} is not approved: applying it needs an approval record from a human channel"
    )]
    NotApproved {
        /// The proposal.
        proposal_id: String,
    },
    /// The record approves something else, or this proposal before it changed.
    #[error("the approval record is for {approved}, not for revision {proposal_id} as it is now")]
    ApprovalMismatch {
        /// The proposal.
        proposal_id: String,
        /// What the record approves.
        approved: String,
    },
    /// The approval came through a channel the anchor does not accept.
    #[error("approval through `{channel}` does not count: the anchor accepts {}", allowed.join(", "))]
    ChannelNotAllowed {
        /// The record's channel.
        channel: String,
        /// The anchor's approval channels.
        allowed: Vec<String>,
    },
    /// The file no longer holds the anchor the proposal was made from.
    #[error("{} changed since the revision was proposed (anchor {found}, proposal made for {expected}); propose again", path.display())]
    BaseChanged {
        /// The anchor file.
        path: PathBuf,
        /// The proposal's base.
        expected: String,
        /// What the file holds now.
        found: String,
    },
    /// The anchor file could not be read, or the revised anchor is invalid.
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    /// The revised file could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl AnchorRevisionProposal {
    /// The changes that turn `base` into `revised`, field by field over the
    /// pivot sections (lists are compared whole).
    pub fn between(
        base: &IntentionAnchorV2,
        revised: &IntentionAnchorV2,
        reason: impl Into<String>,
        evidence: Vec<String>,
    ) -> Self {
        let before = serde_json::to_value(&base.pivot_intentions).expect("pivots serialize");
        let after = serde_json::to_value(&revised.pivot_intentions).expect("pivots serialize");
        let mut changes = Vec::new();
        diff(&before, &after, "/pivot_intentions", &mut changes);
        changes.sort_by(|a, b| a.field.cmp(&b.field));
        Self {
            base_anchor_id: base.anchor_id(),
            changes,
            reason: reason.into(),
            evidence,
        }
    }

    fn canonical(&self) -> Vec<u8> {
        let value = json!({
            "base_anchor_id": self.base_anchor_id,
            "changes": self.changes.iter().map(|c| json!({"field": c.field, "before": c.before, "after": c.after})).collect::<Vec<_>>(),
            "reason": self.reason,
            "evidence": self.evidence,
        });
        // Same canonical form as every artifact (sorted keys, no whitespace).
        canonical_bytes(ArtifactKind::ApprovalRecordV1, &value)
    }

    /// SHA-256 of the proposal's canonical content: what an approval binds to.
    pub fn content_sha256(&self) -> String {
        sha256_hex(&self.canonical())
    }

    /// `revision-<24 hex>`.
    pub fn proposal_id(&self) -> String {
        content_id("revision", &self.canonical())
    }
}

fn diff(before: &Value, after: &Value, pointer: &str, out: &mut Vec<FieldChange>) {
    let empty = Map::new();
    let (b, a) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let field = format!("{pointer}/{key}");
        match (b.get(key), a.get(key)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(x @ Value::Object(_)), Some(y @ Value::Object(_))) => diff(x, y, &field, out),
            (Some(Value::Object(_)), None) | (None, Some(Value::Object(_))) => {
                let (x, y) = (
                    b.get(key).cloned().unwrap_or(json!({})),
                    a.get(key).cloned().unwrap_or(json!({})),
                );
                diff(&x, &y, &field, out);
            }
            (x, y) => out.push(FieldChange {
                field,
                before: x.cloned(),
                after: y.cloned(),
            }),
        }
    }
}

/// Applies an approved revision to the anchor file at `path`, in that file's
/// own format (TOML files are edited in place, keeping comments), and
/// returns the revised anchor.
pub fn apply_revision(
    path: &Path,
    proposal: &AnchorRevisionProposal,
    approval: Option<&ApprovalRecordV1>,
    clock: &Clock,
) -> Result<IntentionAnchorV2, RevisionError> {
    let proposal_id = proposal.proposal_id();
    let Some(approval) = approval else {
        return Err(RevisionError::NotApproved { proposal_id });
    };
    if approval.action_id != proposal_id || approval.action_sha256 != proposal.content_sha256() {
        return Err(RevisionError::ApprovalMismatch {
            proposal_id,
            approved: approval.action_id.clone(),
        });
    }
    let current = load_anchor(path, clock)?;
    let allowed: Vec<String> = current
        .anchor
        .pivot_intentions
        .governance_review
        .as_ref()
        .map(|g| g.approval_channels.clone())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| vec!["cli".to_owned()]);
    if !allowed.contains(&approval.channel) {
        return Err(RevisionError::ChannelNotAllowed {
            channel: approval.channel.clone(),
            allowed,
        });
    }
    let found = current.anchor.anchor_id();
    if found != proposal.base_anchor_id {
        return Err(RevisionError::BaseChanged {
            path: path.to_owned(),
            expected: proposal.base_anchor_id.clone(),
            found,
        });
    }
    let text = waypost_schemas::io::read_text(
        path,
        waypost_schemas::io::MAX_ARTIFACT_BYTES,
        waypost_schemas::io::Links::Follow,
    )
    .map_err(AnchorError::Read)?;
    let stamp = clock.now().to_string();
    let revised = match current.format {
        SourceFormat::Toml | SourceFormat::WaypostToml => edit_toml(
            &text,
            proposal,
            current.format == SourceFormat::WaypostToml,
            &stamp,
        ),
        SourceFormat::Json | SourceFormat::Artifact => edit_json(
            &text,
            proposal,
            current.format == SourceFormat::Artifact,
            &stamp,
        ),
    }
    .map_err(|message| AnchorError::Syntax {
        path: path.to_owned(),
        line: 1,
        column: 1,
        message,
    })?;
    // Validate the result exactly as a reader would, before anything is written.
    parse_anchor(path, revised.as_bytes(), clock)?;
    write_atomic(path, revised.as_bytes())?;
    Ok(load_anchor(path, clock)?.anchor)
}

fn edit_toml(
    text: &str,
    proposal: &AnchorRevisionProposal,
    in_table: bool,
    stamp: &str,
) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let mut root = doc.as_table_mut();
    if in_table {
        root = root
            .entry("intention")
            .or_insert(toml_edit::table())
            .as_table_mut()
            .ok_or("[intention] is not a table")?;
    }
    for change in &proposal.changes {
        let segments: Vec<&str> = change
            .field
            .trim_start_matches("/pivot_intentions/")
            .split('/')
            .collect();
        let (last, parents) = segments.split_last().ok_or("empty field")?;
        let mut table: &mut dyn toml_edit::TableLike = root;
        for segment in parents {
            table = table
                .entry(segment)
                .or_insert(toml_edit::table())
                .as_table_like_mut()
                .ok_or_else(|| format!("`{segment}` is not a table"))?;
        }
        match change.after.as_ref().and_then(crate::convert::json_to_edit) {
            Some(value) => {
                table.insert(last, toml_edit::Item::Value(value));
            }
            None => {
                table.remove(last);
            }
        }
    }
    root.insert("updated_at", toml_edit::value(stamp));
    Ok(doc.to_string())
}

fn edit_json(
    text: &str,
    proposal: &AnchorRevisionProposal,
    artifact: bool,
    stamp: &str,
) -> Result<String, String> {
    let mut value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    for change in &proposal.changes {
        let field = if artifact {
            change.field.clone()
        } else {
            change
                .field
                .trim_start_matches("/pivot_intentions")
                .to_owned()
        };
        let (parent, last) = field.rsplit_once('/').ok_or("empty field")?;
        let mut target = &mut value;
        for segment in parent.split('/').skip(1) {
            target = target
                .as_object_mut()
                .ok_or_else(|| format!("{parent} is not an object"))?
                .entry(segment)
                .or_insert_with(|| json!({}));
        }
        let object = target
            .as_object_mut()
            .ok_or_else(|| format!("{parent} is not an object"))?;
        match &change.after {
            Some(after) => {
                object.insert(last.to_owned(), after.clone());
            }
            None => {
                object.remove(last);
            }
        }
    }
    if let Some(object) = value.as_object_mut() {
        object.insert("updated_at".into(), stamp.into());
    }
    let mut out = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    out.push('\n');
    Ok(out)
}
