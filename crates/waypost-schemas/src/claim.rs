//! `ClaimRecordV1`: the on-disk state of one claim (a lease with a fencing
//! token), and the identity of a lock or claim holder.
//!
//! The record keeps everything needed to judge it, in the style of a
//! Kubernetes Lease: who holds it, since when, when it was last renewed, and
//! for how long a renewal counts. Expiry is judged with the duration stored
//! here, never with a caller's idea of it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Extra, FormatV1, Timestamp};
use crate::kind::{Artifact, ArtifactKind, FieldPath, RunFile};

/// The state of one claim key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Claim Record v1")]
pub struct ClaimRecordV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// The claimed key.
    #[schemars(length(min = 1))]
    pub key: String,
    /// The fencing counter: incremented on every acquisition, never
    /// decreased, kept across releases. A holder passes it to whatever it
    /// writes so that a stale holder's late writes can be refused.
    pub fencing_token: u64,
    /// The current holder; absent when the claim is free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderIdentity>,
    /// When the current holder acquired the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquired_at: Option<Timestamp>,
    /// When the current holder last renewed it (equal to `acquired_at` at first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewed_at: Option<Timestamp>,
    /// How long after `renewed_at` the claim stays valid, in milliseconds.
    pub lease_duration_ms: u64,
    /// When the claim was last released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<Timestamp>,
    /// How many times a stale holder was taken over, ever.
    #[serde(default)]
    pub transitions: u64,
    /// Takeovers since the last clean release; bounded by the store's reclaim
    /// budget.
    #[serde(default)]
    pub consecutive_takeovers: u32,
    /// Fields waypost does not know, kept on round-trip.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Artifact for ClaimRecordV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::ClaimRecordV1;
    const NAME: &'static str = "claim_record_v1";
    const SHORT_NAME: &'static str = "claim";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "claim";
    const RUN_FILE: RunFile = RunFile::Elsewhere;
    const SIGNATURE_KEYS: &'static [&'static str] = &[
        "fencing_token",
        "lease_duration_ms",
        "consecutive_takeovers",
    ];
    const VOLATILE_FIELDS: &'static [FieldPath] =
        &[&["acquired_at"], &["renewed_at"], &["released_at"]];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/claim_record_v1.schema.json");
}

impl ClaimRecordV1 {
    /// A key nobody has claimed yet.
    pub fn unclaimed(key: impl Into<String>) -> Self {
        Self {
            format_version: FormatV1,
            key: key.into(),
            fencing_token: 0,
            holder: None,
            acquired_at: None,
            renewed_at: None,
            lease_duration_ms: 0,
            released_at: None,
            transitions: 0,
            consecutive_takeovers: 0,
            extra: Extra::new(),
        }
    }

    /// Milliseconds since the Unix epoch at which the current lease ends, if
    /// the claim is held.
    pub fn expires_at_unix_ms(&self) -> Option<i64> {
        self.holder.as_ref()?;
        let renewed = self.renewed_at.as_ref().or(self.acquired_at.as_ref())?;
        let duration = i64::try_from(self.lease_duration_ms).unwrap_or(i64::MAX);
        Some(renewed.unix_millis().saturating_add(duration))
    }
}

/// Who holds a lock or a claim: for diagnostics and for deciding whether a
/// holder on this host is still alive. The owner token is what proves
/// ownership; everything else only describes the holder.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct HolderIdentity {
    /// Random token (lowercase hex) that only the holder knows.
    #[schemars(length(min = 1))]
    pub owner_token: String,
    /// What the holder calls itself (a run id, a worker name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Process id of the holder.
    pub pid: u32,
    /// Start time of the holder's process in clock ticks since boot (Linux),
    /// to tell a reused pid from the holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_start: Option<u64>,
    /// Host name of the holder's machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Boot id of the holder's machine (Linux), to tell a reboot from a
    /// live holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
}
