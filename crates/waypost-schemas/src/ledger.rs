//! `LedgerEntryV1`: one line of a source-of-truth ledger, the project's
//! permanent memory (build history, debug log, architecture decisions,
//! learned rules).
//!
//! A ledger is an append-only JSON Lines file of these entries. Each entry
//! names where it came from (project, run, artifact and the artifact's
//! SHA-256), carries a content-derived `entry_id`
//! ([`LedgerEntryV1::derive_entry_id`]) and is hash-chained to the entry
//! before it ([`LedgerEntryV1::compute_hash`]; the first chains to
//! [`GENESIS_HASH`](crate::GENESIS_HASH)). Decisions change by new entries:
//! an entry may name in `supersedes` the earlier entry it replaces. The
//! files, their lock and their verification belong to `waypost-ledger`.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canonical::{canonical_json, content_id, sha256_hex};
use crate::common::{Extra, FormatV1, Timestamp};
use crate::kind::{Artifact, ArtifactKind, FieldPath, RunFile};

/// The source-of-truth ledgers.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LedgerName {
    /// What runs built and ran: sessions and plans.
    BuildHistory,
    /// What went wrong and what was decided about it: pilot decisions,
    /// audit evidence.
    DebugLog,
    /// Decisions that hold until replaced: the anchor in force, approvals.
    ArchitectureDecisions,
    /// Rules the runs learnt (`logs/learnings.md`, one per line).
    LearnedRules,
}

impl LedgerName {
    /// Every ledger, in file-listing order.
    pub const ALL: [LedgerName; 4] = [
        Self::BuildHistory,
        Self::DebugLog,
        Self::ArchitectureDecisions,
        Self::LearnedRules,
    ];

    /// The snake-case name: the file stem and the value in `ledger`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BuildHistory => "build_history",
            Self::DebugLog => "debug_log",
            Self::ArchitectureDecisions => "architecture_decisions",
            Self::LearnedRules => "learned_rules",
        }
    }
}

impl fmt::Display for LedgerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a ledger.
#[derive(Debug, thiserror::Error)]
#[error(
    "unknown ledger `{given}` (expected one of: build_history, debug_log, architecture_decisions, learned_rules)"
)]
pub struct UnknownLedger {
    /// The name that was given.
    pub given: String,
}

impl FromStr for LedgerName {
    type Err = UnknownLedger;

    /// The snake-case name; `-` and `_` are interchangeable, case is ignored.
    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let normal = given.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == normal)
            .ok_or_else(|| UnknownLedger {
                given: given.to_owned(),
            })
    }
}

/// What an entry records about the thing it describes. Whether a later
/// entry replaced it is not written here (entries are never rewritten): a
/// reader finds it from the later entry's `supersedes`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// A fact: something that happened (a session, a failure analysis).
    Recorded,
    /// A decision put forward, not yet in force.
    Proposed,
    /// A decision in force until a later entry supersedes it.
    Accepted,
    /// A decision turned down.
    Rejected,
}

impl EntryStatus {
    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Proposed => "proposed",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }
}

/// Where an entry came from: a run-local file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EntrySource {
    /// The project the run belongs to.
    #[schemars(length(min = 1))]
    pub project_id: String,
    /// The run's family.
    #[schemars(length(min = 1))]
    pub family: String,
    /// The run id.
    #[schemars(length(min = 1))]
    pub run_id: String,
    /// The file, relative to the repository root, `/`-separated.
    #[schemars(length(min = 1))]
    pub artifact: String,
    /// SHA-256 of the file's bytes when it was read.
    #[schemars(regex(pattern = r"^[a-f0-9]{64}$"))]
    pub artifact_sha256: String,
}

/// One entry of a source-of-truth ledger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Ledger Entry v1")]
pub struct LedgerEntryV1 {
    /// Always `v1`.
    pub format_version: FormatV1,
    /// `entry-<24 hex digits>`: see [`LedgerEntryV1::derive_entry_id`].
    #[schemars(regex(pattern = r"^entry-[a-f0-9]{24}$"))]
    pub entry_id: String,
    /// The ledger this entry belongs to.
    pub ledger: LedgerName,
    /// Position in the ledger, from 1.
    #[schemars(range(min = 1))]
    pub sequence: u64,
    /// What the entry was made from: an artifact kind name
    /// (`pilot_decision_v1`) or `learning`.
    #[schemars(length(min = 1))]
    pub kind: String,
    /// What the entry is about, when later entries may replace it (the
    /// anchor, an action's approval); entries about one subject supersede
    /// each other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// What the entry records about its subject.
    pub status: EntryStatus,
    /// The `entry_id` of the earlier entry this one replaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^entry-[a-f0-9]{24}$"))]
    pub supersedes: Option<String>,
    /// The run-local file it came from.
    pub source: EntrySource,
    /// One line for people, redacted.
    pub summary: String,
    /// What is kept, redacted: the artifact itself, or `{"text": …}` for a
    /// line of text.
    pub payload: serde_json::Value,
    /// When it was appended.
    pub recorded_at: Timestamp,
    /// The previous entry's `hash` (64 zeros for the first entry).
    #[schemars(regex(pattern = r"^[a-f0-9]{64}$"))]
    pub prev_hash: String,
    /// SHA-256 of this entry's canonical JSON without `hash`.
    #[schemars(regex(pattern = r"^[a-f0-9]{64}$"))]
    pub hash: String,
    /// Fields waypost does not know, kept on round-trip (and covered by
    /// `hash`).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The fields an entry id is derived from, in one place.
#[derive(Serialize)]
struct Identity<'a> {
    ledger: LedgerName,
    kind: &'a str,
    subject: Option<&'a str>,
    status: EntryStatus,
    source: &'a EntrySource,
    payload: &'a serde_json::Value,
}

impl LedgerEntryV1 {
    /// `entry-<24 hex digits>` of the SHA-256 of the canonical JSON of what
    /// the entry says and where it came from: ledger, kind, subject, status,
    /// source (run and artifact) and payload. Position, time, chain and
    /// `supersedes` (which depend on what the ledger held when it was
    /// appended) are left out, so the same source always gives the same id
    /// and appending it again can be recognised.
    pub fn derive_entry_id(&self) -> String {
        let identity = Identity {
            ledger: self.ledger,
            kind: &self.kind,
            subject: self.subject.as_deref(),
            status: self.status,
            source: &self.source,
            payload: &self.payload,
        };
        let value = serde_json::to_value(identity).expect("an entry's identity serializes");
        content_id(Self::ID_PREFIX, &canonical_json(&value))
    }

    /// SHA-256 of the entry's canonical JSON without `hash`: covers every
    /// other field, `prev_hash` included, so an edit anywhere breaks it.
    pub fn compute_hash(&self) -> String {
        let mut value = serde_json::to_value(self).expect("ledger entries serialize");
        if let serde_json::Value::Object(map) = &mut value {
            map.remove("hash");
        }
        sha256_hex(&canonical_json(&value))
    }
}

impl Artifact for LedgerEntryV1 {
    type Kind = ArtifactKind;
    const KIND: ArtifactKind = ArtifactKind::LedgerEntryV1;
    const NAME: &'static str = "ledger_entry_v1";
    const SHORT_NAME: &'static str = "ledger";
    const FORMAT_VERSION: &'static str = "v1";
    const ID_PREFIX: &'static str = "entry";
    // One line of a ledger file under the repository's ledger folder
    // (waypost-ledger owns the path), not a run-local file.
    const RUN_FILE: RunFile = RunFile::Elsewhere;
    const SIGNATURE_KEYS: &'static [&'static str] = &["entry_id", "prev_hash", "ledger"];
    const VOLATILE_FIELDS: &'static [FieldPath] = &[&["recorded_at"]];
    const UNORDERED_ARRAYS: &'static [FieldPath] = &[];
    const PUBLISHED_SCHEMA: &'static str =
        include_str!("../../../schemas/ledger_entry_v1.schema.json");
}
