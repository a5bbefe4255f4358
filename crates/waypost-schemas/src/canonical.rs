//! Canonical JSON and the ids derived from it.
//!
//! The canonical form of an artifact is its JSON with:
//! - volatile fields removed (timestamps, durations and the run id: when and
//!   where, not what; stated by each artifact type once, `Artifact::VOLATILE_FIELDS`),
//! - arrays documented as unordered sorted by the canonical bytes of their
//!   elements (`Artifact::UNORDERED_ARRAYS`); every other array keeps its
//!   documented order,
//! - object keys sorted, no insignificant whitespace.
//!
//! Ids are `<prefix>-<first 24 hex digits of the SHA-256 of the canonical
//! bytes>`: 96 bits, short enough to read and to use as a file name.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::kind::{FieldPath, Kind};

mod stream;

/// Hex digits of the SHA-256 kept in an id.
pub const ID_HEX_DIGITS: usize = 24;

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// `<prefix>-<24 hex digits>` of the SHA-256 of `canonical`.
pub fn content_id(prefix: &str, canonical: &[u8]) -> String {
    let digest = sha256_hex(canonical);
    format!("{prefix}-{}", &digest[..ID_HEX_DIGITS])
}

// Invariant: SCHEMA-002 Ids depend on content only.
// Category: determinism
// Why: the same inputs must give the same anchor_id, gap_report_id, plan_proposal_id,
//      gap_id and action_id on any machine, in any run, from any key order.
// Enforced by: canonical_with (and canonical_of, which writes the same bytes without a JSON
//      tree) removes the volatile fields of Artifact::VOLATILE_FIELDS, sorts the arrays of
//      Artifact::UNORDERED_ARRAYS and sorts every object's keys.
/// The canonical bytes of an artifact of `kind` given as JSON.
///
/// Works on any JSON, valid or not, so ids can be computed for documents a
/// reader does not fully understand; unknown fields are kept.
pub fn canonical_bytes<K: Kind>(kind: K, value: &Value) -> Vec<u8> {
    let facts = kind.facts();
    canonical_with(value, facts.volatile_fields, facts.unordered_arrays)
}

/// Canonical bytes of any JSON: keys sorted, no whitespace, arrays as given.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    canonical_with(value, &[], &[])
}

/// The canonical form after removing `drop` and sorting `unordered`.
pub(crate) fn canonical_with(
    value: &Value,
    drop: &[FieldPath],
    unordered: &[FieldPath],
) -> Vec<u8> {
    canonical_owned(value.clone(), drop, unordered)
}

/// [`canonical_with`] of a value the caller no longer needs: its keys are
/// sorted where it lies, without a copy.
pub(crate) fn canonical_owned(
    value: Value,
    drop: &[FieldPath],
    unordered: &[FieldPath],
) -> Vec<u8> {
    let value = canonical_value(value, drop, unordered);
    serde_json::to_vec(&value).expect("serializing a serde_json::Value cannot fail")
}

/// [`canonical_owned`] of `value`'s JSON, written straight from `value`
/// with no JSON tree in between: the same bytes, far fewer allocations.
pub(crate) fn canonical_of<T: Serialize + ?Sized>(
    value: &T,
    drop: &[FieldPath],
    unordered: &[FieldPath],
) -> Vec<u8> {
    stream::canonical(value, drop, unordered)
        .expect("artifact types serialize to JSON: string keys, no fallible Serialize impls")
}

/// The canonical form of `value` as a tree (what [`canonical_owned`]
/// serializes): keys sorted, `drop` removed, `unordered` sorted.
pub(crate) fn canonical_value(
    mut value: Value,
    drop: &[FieldPath],
    unordered: &[FieldPath],
) -> Value {
    sort_keys_in_place(&mut value);
    for path in drop {
        remove_at(&mut value, path);
    }
    // Deepest first, so an unordered array of objects is sorted after the
    // unordered arrays inside its elements.
    let mut unordered: Vec<FieldPath> = unordered.to_vec();
    unordered.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for path in unordered {
        sort_at(&mut value, path);
    }
    value
}

/// Sorts every object's keys of `value` where it lies (a no-op for maps
/// that keep keys sorted, as `serde_json`'s default map does).
fn sort_keys_in_place(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_keys_in_place);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys_in_place),
        _ => {}
    }
}

fn remove_at(value: &mut Value, path: &[&str]) {
    match path {
        [] => {}
        [last] => {
            if let Value::Object(map) = value {
                map.remove(*last);
            }
        }
        [head, rest @ ..] => {
            for child in children(value, head) {
                remove_at(child, rest);
            }
        }
    }
}

fn sort_at(value: &mut Value, path: &[&str]) {
    match path {
        [] => {
            if let Value::Array(items) = value {
                items.sort_by_cached_key(|item| {
                    serde_json::to_vec(item).expect("serializing a serde_json::Value cannot fail")
                });
            }
        }
        [head, rest @ ..] => {
            for child in children(value, head) {
                sort_at(child, rest);
            }
        }
    }
}

/// The children a path segment selects: an object's field, or every element
/// of an array for `*`.
fn children<'a>(value: &'a mut Value, segment: &str) -> Vec<&'a mut Value> {
    match (value, segment) {
        (Value::Array(items), "*") => items.iter_mut().collect(),
        (Value::Object(map), key) => map.get_mut(key).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Any serializable value as JSON.
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value)
        .expect("artifact types serialize to JSON: string keys, no fallible Serialize impls")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sha256_of_empty_input_is_the_published_constant() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn wildcard_paths_reach_every_array_element() {
        let mut value = json!({"a": [{"t": 1, "k": 2}, {"t": 3}]});
        remove_at(&mut value, &["a", "*", "t"]);
        assert_eq!(value, json!({"a": [{"k": 2}, {}]}));
    }

    #[test]
    fn ordered_arrays_keep_their_order() {
        let a = canonical_with(&json!({"x": [2, 1]}), &[], &[]);
        let b = canonical_with(&json!({"x": [1, 2]}), &[], &[]);
        assert_ne!(a, b);
        let a = canonical_with(&json!({"x": [2, 1]}), &[], &[&["x"]]);
        assert_eq!(a, b);
    }
}
