//! The artifact kinds: one list of the artifact types, and everything that
//! tells the kinds apart derived from the facts each type states about itself.
//!
//! Each artifact type implements [`Artifact`] beside its definition and
//! states its facts there once: its name, short name, `format_version`, id
//! prefix, where it lives in a run directory, the keys that identify it, its
//! volatile fields, its unordered arrays and its published schema.
//! [`ArtifactKind`] and every dispatch over kinds (detection, parsing,
//! validation, schema generation, canonical bytes, run paths) come from the
//! list at the bottom of this file, `artifact_kinds!`, and the facts.
//!
//! Adding a kind: write the type and its `impl Artifact`, add its name to the
//! list, then run `cargo xtask schemas && cargo xtask fixtures`.

use std::fmt;
use std::hash::Hash;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::canonical;
use crate::layout::{IdKind, RunDir};

/// A path into a JSON document; `*` stands for every element of an array.
pub type FieldPath = &'static [&'static str];

/// Where the artifacts of a kind live in a run directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunFile {
    /// One per run: `<dir>/<kind name>.json`.
    OnePerRun(RunDir),
    /// One per id: `<dir>/<prefix><id>.json`, the id checked as `id`.
    OnePerId {
        /// The run-local directory.
        dir: RunDir,
        /// What the file name starts with before the id (may be empty).
        prefix: &'static str,
        /// What the id names.
        id: IdKind,
    },
    /// Not kept in a run directory (claims live in the claim store).
    Elsewhere,
}

/// An artifact type: serializable, schema'd, and stating its own facts.
///
/// The facts are read through [`KindFacts`] (`Self::FACTS`) by every piece
/// of code that treats kinds alike; nothing else lists them.
pub trait Artifact: Serialize + DeserializeOwned + schemars::JsonSchema {
    /// The list of kinds this type belongs to ([`ArtifactKind`] for every
    /// artifact waypost reads and writes).
    type Kind: Kind;
    /// This type's kind in that list.
    const KIND: Self::Kind;
    /// The snake-case name, e.g. `gap_report_v1`; also the schema file stem
    /// and the file name of a one-per-run artifact.
    const NAME: &'static str;
    /// A short name accepted wherever a kind is named, e.g. `gaps`.
    const SHORT_NAME: &'static str;
    /// The `format_version` value this kind requires.
    const FORMAT_VERSION: &'static str;
    /// The prefix of ids derived from this kind's content.
    const ID_PREFIX: &'static str;
    /// Where artifacts of this kind live in a run directory.
    const RUN_FILE: RunFile;
    /// Top-level keys that only this kind has: required ones first, then
    /// optional ones that still point to it. Detection counts them.
    const SIGNATURE_KEYS: &'static [&'static str];
    /// Fields that record when, how long or in which run, not what:
    /// excluded from ids.
    const VOLATILE_FIELDS: &'static [FieldPath];
    /// Arrays whose order carries no meaning: sorted in the canonical form.
    /// Every other array keeps its documented order.
    const UNORDERED_ARRAYS: &'static [FieldPath];
    /// The committed schema file, `schemas/<NAME>.schema.json`, compiled in
    /// (`include_str!`); a test proves it is the schema generated from the
    /// type.
    const PUBLISHED_SCHEMA: &'static str;

    /// Every fact above as one value. Not meant to be overridden.
    const FACTS: KindFacts = KindFacts::of::<Self>();

    /// The canonical bytes of this artifact (see [`canonical::canonical_bytes`]).
    fn canonical_bytes(&self) -> Vec<u8> {
        canonical::canonical_of(self, Self::VOLATILE_FIELDS, Self::UNORDERED_ARRAYS)
    }

    /// The id derived from the canonical bytes: `<prefix>-<24 hex digits>`.
    fn content_id(&self) -> String {
        canonical::content_id(Self::ID_PREFIX, &self.canonical_bytes())
    }
}

/// The facts of one artifact kind, as its type states them.
#[derive(Debug)]
#[non_exhaustive]
pub struct KindFacts {
    /// [`Artifact::NAME`].
    pub name: &'static str,
    /// [`Artifact::SHORT_NAME`].
    pub short_name: &'static str,
    /// [`Artifact::FORMAT_VERSION`].
    pub format_version: &'static str,
    /// [`Artifact::ID_PREFIX`].
    pub id_prefix: &'static str,
    /// [`Artifact::RUN_FILE`].
    pub run_file: RunFile,
    /// [`Artifact::SIGNATURE_KEYS`].
    pub signature_keys: &'static [&'static str],
    /// [`Artifact::VOLATILE_FIELDS`].
    pub volatile_fields: &'static [FieldPath],
    /// [`Artifact::UNORDERED_ARRAYS`].
    pub unordered_arrays: &'static [FieldPath],
    /// [`Artifact::PUBLISHED_SCHEMA`].
    pub published_schema: &'static str,
    /// The schema schemars generates from the type, before waypost's tidying.
    pub(crate) schema_for: fn() -> schemars::Schema,
    /// Deserializes a document into the type; the message says why not.
    pub(crate) check_type: fn(&Value) -> Result<(), String>,
}

impl KindFacts {
    /// The facts `T` states.
    pub const fn of<T: Artifact>() -> Self {
        Self {
            name: T::NAME,
            short_name: T::SHORT_NAME,
            format_version: T::FORMAT_VERSION,
            id_prefix: T::ID_PREFIX,
            run_file: T::RUN_FILE,
            signature_keys: T::SIGNATURE_KEYS,
            volatile_fields: T::VOLATILE_FIELDS,
            unordered_arrays: T::UNORDERED_ARRAYS,
            published_schema: T::PUBLISHED_SCHEMA,
            schema_for: crate::schema::schemars_schema::<T>,
            check_type: check_type::<T>,
        }
    }
}

fn check_type<T: Artifact>(value: &Value) -> Result<(), String> {
    T::deserialize(value).map(drop).map_err(|e| e.to_string())
}

/// A list of artifact kinds, made by `artifact_kinds!`: [`ArtifactKind`]
/// for waypost's artifacts.
pub trait Kind: Copy + Eq + Ord + Hash + fmt::Debug + fmt::Display + Send + Sync + 'static {
    /// Every kind of the list, in the order schemas and listings use.
    fn list() -> &'static [Self];

    /// The facts of this kind.
    fn facts(self) -> &'static KindFacts;
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
    #[error("cannot tell which artifact this is: {reason}; name it with --kind (one of: {known})")]
    Unrecognised {
        /// What was looked at.
        reason: String,
        /// The kind names that could be given instead, comma-separated.
        known: String,
    },
}

/// An artifact kind name that is not known.
#[derive(Debug, thiserror::Error)]
#[error("unknown artifact kind `{given}` (expected one of: {known})")]
pub struct UnknownKind {
    /// The name that was given.
    pub given: String,
    /// The kind names that are known, comma-separated.
    pub known: String,
}

fn names_of<K: Kind>() -> String {
    K::list()
        .iter()
        .map(|k| k.facts().name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Tells the kind of `value` among the kinds of `K`: the kind with the most
/// of its signature keys present and, failing that, the only kind whose
/// `format_version` the document carries.
///
/// The shape wins so that a gap report with a wrong `format_version` is
/// still reported as a gap report with a wrong version, and one missing a
/// required field is still recognised by its other fields.
pub fn detect_in<K: Kind>(value: &Value) -> Result<K, DetectError> {
    let Some(object) = value.as_object() else {
        return Err(DetectError::NotAnObject {
            found: json_type_name(value),
        });
    };
    let scores: Vec<(K, usize)> = K::list()
        .iter()
        .map(|&k| {
            let present = k
                .facts()
                .signature_keys
                .iter()
                .filter(|key| object.contains_key(**key))
                .count();
            (k, present)
        })
        .filter(|(_, present)| *present > 0)
        .collect();
    let best = scores.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let leaders: Vec<K> = scores
        .iter()
        .filter(|(_, n)| *n == best)
        .map(|(k, _)| *k)
        .collect();
    if let [kind] = leaders.as_slice() {
        return Ok(*kind);
    }
    let version = object.get("format_version").and_then(|v| v.as_str());
    if leaders.is_empty() {
        let by_version: Vec<K> = K::list()
            .iter()
            .copied()
            .filter(|k| Some(k.facts().format_version) == version)
            .collect();
        if let [kind] = by_version.as_slice() {
            return Ok(*kind);
        }
    }
    let reason = if leaders.len() > 1 {
        format!(
            "its keys fit several artifacts equally well ({})",
            leaders
                .iter()
                .map(|k| k.facts().name)
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        format!(
            "format_version is {} and none of the identifying keys ({}) is present",
            version.map_or_else(|| "missing".to_owned(), |v| format!("`{v}`")),
            K::list()
                .iter()
                .map(|k| k.facts().signature_keys[0])
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(DetectError::Unrecognised {
        reason,
        known: names_of::<K>(),
    })
}

/// Reads a kind name among the kinds of `K`: the full name
/// (`gap_report_v1`), the name without its version (`gap_report`) or the
/// short name (`gaps`); `-` and `_` are interchangeable, case is ignored.
pub fn parse_in<K: Kind>(given: &str) -> Result<K, UnknownKind> {
    let normal = given.trim().to_ascii_lowercase().replace('-', "_");
    K::list()
        .iter()
        .copied()
        .find(|k| {
            let facts = k.facts();
            let unversioned = facts
                .name
                .strip_suffix(facts.format_version)
                .and_then(|n| n.strip_suffix('_'));
            normal == facts.name
                || normal == facts.short_name
                || Some(normal.as_str()) == unversioned
        })
        .ok_or_else(|| UnknownKind {
            given: given.to_owned(),
            known: names_of::<K>(),
        })
}

/// Makes a list of artifact kinds: an enum with one variant per type (named
/// like the type), its `ALL` array, [`Kind`], `Display`, `FromStr` and the
/// per-kind accessors. The types must implement [`Artifact`] with this enum
/// as their `Kind` and their own variant as their `KIND` (checked at compile
/// time).
///
/// `own` in front of `enum` also checks, at compile time, that each type
/// names this list and its own variant; a list that borrows types from
/// another list (as the tests do) leaves it out.
macro_rules! artifact_kinds {
    ($(#[$attr:meta])* $vis:vis own enum $list:ident { $($ty:ident),+ $(,)? }) => {
        artifact_kinds! { $(#[$attr])* $vis enum $list { $($ty),+ } }
        $(
            const _: () = assert!(
                matches!(<$ty as $crate::kind::Artifact>::KIND, $list::$ty),
                concat!(stringify!($ty), "::KIND must be ", stringify!($list), "::", stringify!($ty)),
            );
        )+
    };
    ($(#[$attr:meta])* $vis:vis enum $list:ident { $($ty:ident),+ $(,)? }) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $list {
            $(
                #[doc = concat!("[`", stringify!($ty), "`].")]
                $ty,
            )+
        }

        #[allow(dead_code, unreachable_pub)]
        impl $list {
            /// Every kind, in the order schemas and listings use.
            pub const ALL: [$list; [$(stringify!($ty)),+].len()] = [$(Self::$ty),+];

            /// The snake-case name, e.g. `gap_report_v1`; also the schema file stem.
            pub fn name(self) -> &'static str {
                $crate::kind::Kind::facts(self).name
            }

            /// Every kind's name.
            pub fn names() -> Vec<&'static str> {
                Self::ALL.iter().map(|k| k.name()).collect()
            }

            /// The `format_version` value this kind requires.
            pub fn format_version(self) -> &'static str {
                $crate::kind::Kind::facts(self).format_version
            }

            /// `<name>.schema.json`.
            pub fn schema_file_name(self) -> String {
                format!("{}.schema.json", self.name())
            }

            /// The prefix of ids derived from this kind's content.
            pub fn id_prefix(self) -> &'static str {
                $crate::kind::Kind::facts(self).id_prefix
            }

            /// Where artifacts of this kind live in a run directory.
            pub fn run_file(self) -> $crate::kind::RunFile {
                $crate::kind::Kind::facts(self).run_file
            }

            /// Tells the kind of `value` from its shape and, failing that,
            /// from `format_version` (see [`detect_in`](crate::kind::detect_in)).
            pub fn detect(value: &serde_json::Value) -> Result<Self, $crate::kind::DetectError> {
                $crate::kind::detect_in::<Self>(value)
            }
        }

        impl $crate::kind::Kind for $list {
            fn list() -> &'static [Self] {
                &Self::ALL
            }

            fn facts(self) -> &'static $crate::kind::KindFacts {
                match self {
                    $(Self::$ty => const { &<$ty as $crate::kind::Artifact>::FACTS },)+
                }
            }
        }

        impl std::fmt::Display for $list {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $list {
            type Err = $crate::kind::UnknownKind;

            /// Accepts the full name (`gap_report_v1`), the name without
            /// version (`gap_report`) and the short name (`gaps`); `-` and
            /// `_` are interchangeable.
            fn from_str(given: &str) -> Result<Self, Self::Err> {
                $crate::kind::parse_in::<Self>(given)
            }
        }
    };
}

use crate::{
    ActionProofV1, ApprovalRecordV1, AuditEvidenceV1, AutopilotSessionV1, ClaimRecordV1,
    ContractSnapshotV1, GapBaselineV1, GapReportV1, IntentionAnchorV2, JobSnapshotV1,
    LedgerEntryV1, PilotDecisionV1, PlanProposalV1, RunRecordV1,
};

artifact_kinds! {
    /// Every artifact waypost reads and writes: the one list of artifact
    /// types.
    #[non_exhaustive]
    pub own enum ArtifactKind {
        IntentionAnchorV2,
        GapReportV1,
        PlanProposalV1,
        AutopilotSessionV1,
        ApprovalRecordV1,
        ClaimRecordV1,
        ContractSnapshotV1,
        JobSnapshotV1,
        AuditEvidenceV1,
        GapBaselineV1,
        PilotDecisionV1,
        RunRecordV1,
        ActionProofV1,
        LedgerEntryV1,
    }
}

/// `object`, `array`, ... for messages.
pub(crate) fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    //! A throwaway kind added through the one list, with no other edit:
    //! detection, parsing, validation, ids, schema generation and run paths
    //! all work for it.

    use serde::{Deserialize, Serialize};
    use serde_json::json;

    use super::*;
    use crate::common::{Extra, FormatV1, Timestamp};
    use crate::layout::RunLayout;
    use crate::{canonical, schema, validate};

    /// A kind that exists only in this test.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
    #[schemars(title = "Throwaway v1")]
    struct ThrowawayV1 {
        format_version: FormatV1,
        widget: String,
        made_at: Timestamp,
        #[serde(default)]
        parts: Vec<String>,
        #[serde(flatten)]
        extra: Extra,
    }

    impl Artifact for ThrowawayV1 {
        type Kind = TestKind;
        const KIND: TestKind = TestKind::ThrowawayV1;
        const NAME: &'static str = "throwaway_v1";
        const SHORT_NAME: &'static str = "throwaway";
        const FORMAT_VERSION: &'static str = "v1";
        const ID_PREFIX: &'static str = "throwaway";
        const RUN_FILE: RunFile = RunFile::OnePerRun(RunDir::Logs);
        const SIGNATURE_KEYS: &'static [&'static str] = &["widget"];
        const VOLATILE_FIELDS: &'static [FieldPath] = &[&["made_at"]];
        const UNORDERED_ARRAYS: &'static [FieldPath] = &[&["parts"]];
        // A throwaway kind has no committed file; its "published" schema is
        // the one generated below, pinned by the test that compares them.
        const PUBLISHED_SCHEMA: &'static str = THROWAWAY_SCHEMA;
    }

    const THROWAWAY_SCHEMA: &str = r##"{
  "$comment": "Generated by `cargo xtask schemas` from the waypost-schemas Rust types. Do not edit.",
  "$id": "urn:waypost:schema:throwaway_v1",
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "additionalProperties": true,
  "description": "A kind that exists only in this test.",
  "properties": {
    "format_version": {
      "const": "v1",
      "description": "Schema version identifier",
      "type": "string"
    },
    "made_at": {
      "description": "RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z",
      "format": "date-time",
      "type": "string"
    },
    "parts": {
      "default": [],
      "items": {
        "type": "string"
      },
      "type": "array"
    },
    "widget": {
      "type": "string"
    }
  },
  "required": [
    "format_version",
    "widget",
    "made_at"
  ],
  "title": "Throwaway v1",
  "type": "object"
}
"##;

    // The production list, unchanged, plus one line.
    artifact_kinds! {
        enum TestKind {
            IntentionAnchorV2,
            GapReportV1,
            PlanProposalV1,
            AutopilotSessionV1,
            ApprovalRecordV1,
            ClaimRecordV1,
            ContractSnapshotV1,
            JobSnapshotV1,
            AuditEvidenceV1,
            GapBaselineV1,
            PilotDecisionV1,
            RunRecordV1,
            ActionProofV1,
            LedgerEntryV1,
            ThrowawayV1,
        }
    }

    fn sample() -> serde_json::Value {
        json!({
            "format_version": "v1",
            "widget": "gear",
            "made_at": "2026-01-01T00:00:00Z",
            "parts": ["b", "a"]
        })
    }

    #[test]
    fn a_kind_added_to_the_list_is_detected_and_parsed() {
        assert_eq!(
            detect_in::<TestKind>(&sample()).expect("detected"),
            TestKind::ThrowawayV1
        );
        assert_eq!(
            "throwaway".parse::<TestKind>().expect("short name"),
            TestKind::ThrowawayV1
        );
        assert_eq!(
            "Throwaway-V1".parse::<TestKind>().expect("full name"),
            TestKind::ThrowawayV1
        );
        let err = "widgets".parse::<TestKind>().expect_err("unknown");
        assert!(err.to_string().contains("throwaway_v1"), "{err}");
        // The other kinds are still told apart as before.
        let gaps = json!({"format_version": "v1", "gaps": []});
        assert_eq!(
            detect_in::<TestKind>(&gaps).expect("detected"),
            TestKind::GapReportV1
        );
    }

    #[test]
    fn a_kind_added_to_the_list_generates_its_schema_and_validates() {
        assert_eq!(schema::render(TestKind::ThrowawayV1), THROWAWAY_SCHEMA);
        validate::validate_value(TestKind::ThrowawayV1, &sample()).expect("valid");
        let typed: ThrowawayV1 = validate::validate(&sample()).expect("typed");
        assert_eq!(typed.widget, "gear");

        let mut bad = sample();
        bad["widget"] = json!(7);
        let err = validate::validate_value(TestKind::ThrowawayV1, &bad).expect_err("invalid");
        assert_eq!(err.kind(), TestKind::ThrowawayV1);
        assert!(
            err.to_string()
                .starts_with("throwaway_v1: 1 schema violation"),
            "{err}"
        );
        assert_eq!(err.violations()[0].pointer, "/widget");

        let mut wrong_version = sample();
        wrong_version["format_version"] = json!("v9");
        let err = validate::validate_value(TestKind::ThrowawayV1, &wrong_version)
            .expect_err("wrong version");
        assert!(
            matches!(err, validate::ValidationError::WrongFormatVersion { .. }),
            "{err}"
        );
    }

    #[test]
    fn a_kind_added_to_the_list_derives_ids_from_its_own_facts() {
        let typed: ThrowawayV1 = serde_json::from_value(sample()).expect("typed");
        let id = typed.content_id();
        assert!(id.starts_with("throwaway-"), "{id}");
        // Volatile fields and unordered arrays, as the type states them.
        let mut later = sample();
        later["made_at"] = json!("2027-06-01T12:00:00Z");
        later["parts"] = json!(["a", "b"]);
        let later: ThrowawayV1 = serde_json::from_value(later).expect("typed");
        assert_eq!(later.content_id(), id);
        assert_eq!(
            canonical::canonical_bytes(TestKind::ThrowawayV1, &sample()),
            typed.canonical_bytes()
        );
        let mut other = sample();
        other["widget"] = json!("spring");
        let other: ThrowawayV1 = serde_json::from_value(other).expect("typed");
        assert_ne!(other.content_id(), id);
    }

    #[test]
    fn a_kind_added_to_the_list_has_a_run_path() {
        let layout = RunLayout::new("/repo", "demo", "scan-20260101T000000Z").expect("layout");
        assert_eq!(
            layout.run_file(TestKind::ThrowawayV1),
            Some(layout.run_dir().join("logs").join("throwaway_v1.json"))
        );
    }

    #[test]
    fn the_test_list_and_the_real_list_agree_on_the_real_kinds() {
        for kind in ArtifactKind::ALL {
            let test: TestKind = kind.name().parse().expect("same name");
            assert_eq!(test.facts().name, kind.name());
            assert_eq!(test.facts().id_prefix, kind.id_prefix());
        }
    }

    #[test]
    fn every_name_a_kind_answers_to_is_its_own() {
        let mut seen = std::collections::BTreeMap::new();
        for kind in ArtifactKind::ALL {
            let facts = kind.facts();
            let unversioned = facts
                .name
                .strip_suffix(facts.format_version)
                .and_then(|n| n.strip_suffix('_'))
                .expect("names end in _<format_version>");
            for name in [facts.name, unversioned, facts.short_name] {
                if let Some(other) = seen.insert(name, kind) {
                    assert_eq!(other, kind, "`{name}` names both {other} and {kind}");
                }
                assert_eq!(name.parse::<ArtifactKind>().expect(name), kind);
            }
        }
    }

    #[test]
    fn every_kind_states_the_format_version_its_schema_requires() {
        for kind in ArtifactKind::ALL {
            let schema = schema::generate(kind);
            assert_eq!(
                schema["properties"]["format_version"]["const"],
                kind.format_version(),
                "{kind}"
            );
        }
    }
}
