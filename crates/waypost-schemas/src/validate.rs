//! Validation of artifacts against their embedded JSON Schemas.
//!
//! Order of checks: `format_version` first (a different version is a
//! different schema, so its own clear error), then the schema (every
//! violation with its JSON pointer), then deserialization into the Rust type
//! (which checks what a schema cannot, such as real calendar dates).

use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, Mutex, PoisonError};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::kind::{Artifact, ArtifactKind, Kind, json_type_name};
use crate::secrets::redact;

/// One schema violation: where (a JSON pointer, `""` for the document root)
/// and what, in plain words.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Violation {
    /// JSON pointer (RFC 6901) to the offending value; `""` is the root.
    pub pointer: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.message)
    }
}

/// An artifact that does not conform to its kind (of [`ArtifactKind`]
/// unless another list of kinds is named).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError<K: Kind = ArtifactKind> {
    /// `format_version` is absent.
    #[error("{kind}: missing format_version (expected {expected})")]
    MissingFormatVersion {
        /// The artifact kind.
        kind: K,
        /// The version the kind requires.
        expected: &'static str,
    },
    /// `format_version` names another version.
    #[error("{kind}: unsupported format_version: expected {expected}, found {found}")]
    WrongFormatVersion {
        /// The artifact kind.
        kind: K,
        /// The version the kind requires.
        expected: &'static str,
        /// The version found (as JSON text when it is not a string).
        found: String,
    },
    /// The document violates the schema.
    #[error("{kind}: {} schema violation{}:\n{}", .violations.len(), if .violations.len() == 1 { "" } else { "s" }, list(.violations))]
    Schema {
        /// The artifact kind.
        kind: K,
        /// Every violation, sorted by pointer.
        violations: Vec<Violation>,
    },
    /// The document satisfies the schema but not the Rust type.
    #[error("{kind}: {message}")]
    Type {
        /// The artifact kind.
        kind: K,
        /// What the type refused.
        message: String,
    },
    /// The embedded schema does not compile: a bug in waypost.
    #[error("{kind}: the embedded schema does not compile ({message}); this is a bug in waypost")]
    EmbeddedSchema {
        /// The artifact kind.
        kind: K,
        /// The compiler's message.
        message: String,
    },
}

impl<K: Kind> ValidationError<K> {
    /// The artifact kind that was being checked.
    pub fn kind(&self) -> K {
        match self {
            Self::MissingFormatVersion { kind, .. }
            | Self::WrongFormatVersion { kind, .. }
            | Self::Schema { kind, .. }
            | Self::Type { kind, .. }
            | Self::EmbeddedSchema { kind, .. } => *kind,
        }
    }

    /// Every problem as violations: the schema's, or one at the root for the
    /// other variants (`format_version` problems point at `/format_version`).
    pub fn violations(&self) -> Vec<Violation> {
        match self {
            Self::Schema { violations, .. } => violations.clone(),
            Self::MissingFormatVersion { expected, .. } => vec![Violation {
                pointer: "/format_version".into(),
                message: format!("missing format_version (expected {expected})"),
            }],
            Self::WrongFormatVersion {
                expected, found, ..
            } => vec![Violation {
                pointer: "/format_version".into(),
                message: format!("unsupported format_version: expected {expected}, found {found}"),
            }],
            Self::Type { message, .. } | Self::EmbeddedSchema { message, .. } => vec![Violation {
                pointer: String::new(),
                message: message.clone(),
            }],
        }
    }
}

fn list(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| format!("  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks `value` as an artifact of `kind`: format version, schema, type.
pub fn validate_value<K: Kind>(kind: K, value: &Value) -> Result<(), ValidationError<K>> {
    check_version_and_schema(kind, value)?;
    // The schema passed; the type may still refuse what a schema cannot say.
    (kind.facts().check_type)(value).map_err(|message| ValidationError::Type {
        kind,
        message: redact(&message).into_owned(),
    })
}

/// Checks `value` as a `T` and deserializes it.
pub fn validate<T: Artifact>(value: &Value) -> Result<T, ValidationError<T::Kind>> {
    check_version_and_schema(T::KIND, value)?;
    typed::<T>(value)
}

/// Checks an artifact before it is written: the same checks a reader makes,
/// so waypost never writes a file it would refuse to read.
pub fn validate_artifact<T: Artifact>(artifact: &T) -> Result<(), ValidationError<T::Kind>> {
    check_version_and_schema(T::KIND, &crate::canonical::to_value(artifact))
}

/// `format_version` first, then every schema violation.
fn check_version_and_schema<K: Kind>(kind: K, value: &Value) -> Result<(), ValidationError<K>> {
    check_format_version(kind, value)?;
    let violations = schema_violations(kind, value)?;
    if violations.is_empty() {
        Ok(())
    } else {
        Err(ValidationError::Schema { kind, violations })
    }
}

fn typed<T: Artifact>(value: &Value) -> Result<T, ValidationError<T::Kind>> {
    T::deserialize(value).map_err(|e| ValidationError::Type {
        kind: T::KIND,
        message: redact(&e.to_string()).into_owned(),
    })
}

fn check_format_version<K: Kind>(kind: K, value: &Value) -> Result<(), ValidationError<K>> {
    let expected = kind.facts().format_version;
    match value.get("format_version") {
        // Not an object at all: let the schema say so.
        _ if !value.is_object() => Ok(()),
        None => Err(ValidationError::MissingFormatVersion { kind, expected }),
        Some(Value::String(found)) if found == expected => Ok(()),
        Some(Value::String(found)) => Err(ValidationError::WrongFormatVersion {
            kind,
            expected,
            found: redact(found).into_owned(),
        }),
        Some(other) => Err(ValidationError::WrongFormatVersion {
            kind,
            expected,
            found: other.to_string(),
        }),
    }
}

/// The compiled validator of `kind`'s published schema, compiled once per
/// schema and kept for the life of the process.
fn validator<K: Kind>(kind: K) -> Result<&'static jsonschema::Validator, ValidationError<K>> {
    type Compiled = &'static Result<jsonschema::Validator, String>;
    // Keyed by the schema text's address as well as the name: two lists may
    // hold kinds of the same name with different schemas.
    static CACHE: LazyLock<Mutex<HashMap<(&'static str, usize), Compiled>>> =
        LazyLock::new(Mutex::default);
    let facts = kind.facts();
    let key = (facts.name, facts.published_schema.as_ptr() as usize);
    let compiled: Compiled = {
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        cache.entry(key).or_insert_with(|| {
            let compiled = serde_json::from_str::<Value>(facts.published_schema)
                .map_err(|e| e.to_string())
                .and_then(|schema| {
                    jsonschema::draft202012::options()
                        .should_validate_formats(true)
                        .build(&schema)
                        .map_err(|e| e.to_string())
                });
            // One per published schema: a handful for the life of the process.
            Box::leak(Box::new(compiled))
        })
    };
    compiled
        .as_ref()
        .map_err(|message| ValidationError::EmbeddedSchema {
            kind,
            message: message.clone(),
        })
}

/// Every schema violation of `value` as an artifact of `kind`, sorted by
/// pointer; empty when it conforms. Does not check `format_version` first.
pub fn schema_violations<K: Kind>(
    kind: K,
    value: &Value,
) -> Result<Vec<Violation>, ValidationError<K>> {
    let validator = validator(kind)?;
    let mut violations: Vec<Violation> = validator
        .iter_errors(value)
        .map(|error| Violation {
            pointer: error.instance_path().to_string(),
            message: redact(&describe(&error)).into_owned(),
        })
        .collect();
    violations.sort();
    violations.dedup();
    Ok(violations)
}

/// A plain sentence for one jsonschema error.
fn describe(error: &jsonschema::ValidationError<'_>) -> String {
    let instance = error.instance();
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            format!("missing required field {property}")
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => with_article(&t.to_string()),
                TypeKind::Multiple(set) => set
                    .iter()
                    .map(|t| with_article(&t.to_string()))
                    .collect::<Vec<_>>()
                    .join(" or "),
            };
            format!("expected {expected}, found {}", json_type_name(instance))
        }
        ValidationErrorKind::Enum { options } => {
            format!("{} is not one of {}", short(instance), options)
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!("expected {}, found {}", expected_value, short(instance))
        }
        ValidationErrorKind::MinLength { limit } => {
            format!("must be at least {limit} character{} long", plural(*limit))
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!(
                "must be at most {limit} character{} long, found {}",
                plural(*limit),
                instance.as_str().map_or(0, |s| s.chars().count())
            )
        }
        ValidationErrorKind::MinItems { limit } => {
            format!(
                "must have at least {limit} item{}, found {}",
                plural(*limit),
                instance.as_array().map_or(0, Vec::len)
            )
        }
        ValidationErrorKind::MaxItems { limit } => {
            format!(
                "must have at most {limit} item{}, found {}",
                plural(*limit),
                instance.as_array().map_or(0, Vec::len)
            )
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!("{} does not match the pattern {pattern}", short(instance))
        }
        ValidationErrorKind::Minimum { limit } => {
            format!("must be at least {limit}, found {}", short(instance))
        }
        ValidationErrorKind::Maximum { limit } => {
            format!("must be at most {limit}, found {}", short(instance))
        }
        ValidationErrorKind::Format { format } => {
            format!("{} is not a valid {format}", short(instance))
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            // The reason lives in the branches: say why each one failed.
            let branches: Vec<String> = context
                .iter()
                .enumerate()
                .map(|(i, errors)| {
                    let reasons: Vec<String> = errors.iter().map(describe).collect();
                    format!("option {}: {}", i + 1, reasons.join("; "))
                })
                .collect();
            format!(
                "{} matches none of the allowed forms ({})",
                short(instance),
                branches.join(" | ")
            )
        }
        _ => error.to_string(),
    }
}

/// `an array`, `a string`, `null`: JSON type names as a sentence uses them.
fn with_article(type_name: &str) -> String {
    match type_name {
        "null" => "null".to_owned(),
        name if name.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {name}"),
        name => format!("a {name}"),
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A short rendering of a value for messages: scalars as JSON (long strings
/// cut), containers by type.
fn short(value: &Value) -> String {
    const MAX: usize = 60;
    match value {
        Value::String(s) if s.chars().count() > MAX => {
            let cut: String = s.chars().take(MAX).collect();
            format!("\"{cut}…\"")
        }
        Value::Array(_) | Value::Object(_) => json_type_name(value).to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn first_message(schema: &Value, instance: &Value) -> String {
        let validator = jsonschema::draft202012::new(schema).expect("schema compiles");
        let error = validator.iter_errors(instance).next().expect("an error");
        describe(&error)
    }

    #[test]
    fn any_of_and_one_of_failures_say_why_each_option_failed() {
        let options = json!([{"type": "string"}, {"type": "integer", "minimum": 5}]);
        for keyword in ["anyOf", "oneOf"] {
            let message = first_message(&json!({ keyword: options }), &json!(3));
            assert_eq!(
                message,
                "3 matches none of the allowed forms (option 1: expected a string, found a number | option 2: must be at least 5, found 3)",
                "{keyword}"
            );
        }
    }

    #[test]
    fn long_values_are_shortened_and_containers_named_by_type() {
        let long = "x".repeat(100);
        let message = first_message(&json!({"enum": ["a"]}), &json!(long));
        assert!(
            message.starts_with(&format!("\"{}…\"", "x".repeat(60))),
            "{message}"
        );
        let message = first_message(&json!({"const": 1}), &json!({"a": 1}));
        assert_eq!(message, "expected 1, found an object");
    }
}
