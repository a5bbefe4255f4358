//! The Autopack compatibility profile: an artifact with only the fields
//! Autopack's published schemas name, and a sidecar with everything else.
//!
//! Autopack's runtime models forbid fields they do not know. For the four
//! Autopack-shaped kinds (intention anchor v2, gap report v1, plan proposal
//! v1, autopilot session v1), [`to_profile`] keeps only the fields the
//! published schema names: each field waypost adds is marked
//! `x-waypost-addition` in waypost's own generated schema (checked by hand
//! against the published one), and fields no schema names (kept from
//! foreign files) go too. What is dropped, and the original of what is
//! rewritten, goes into a [`Sidecar`], written beside the artifact as
//! `<name>.waypost.json`; [`merge`] puts it back, so the pair reads back to
//! exactly the original artifact, whose id the sidecar records.
//!
//! Where waypost enforces what Autopack cannot express, the compat anchor
//! says so in the closest published field: a rule's typed `criteria` are
//! described in its `description`, and `never_auto_approve` globs are added
//! to `safety_risk.requires_approval`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::kind::{Artifact, ArtifactKind};

/// The Autopack profile as a method of each Autopack-shaped artifact type.
pub trait AutopackCompat: Artifact<Kind = ArtifactKind> {
    /// The artifact in the Autopack profile, and its sidecar.
    fn to_autopack(&self) -> (Value, Sidecar) {
        to_profile(
            Self::KIND,
            &crate::canonical::to_value(self),
            &self.content_id(),
        )
    }

    /// The full artifact from its Autopack profile and sidecar (without a
    /// sidecar: the profile alone, every waypost field absent).
    ///
    /// # Errors
    /// [`CompatError`] when the sidecar does not fit, or the result is not
    /// a valid artifact.
    fn from_autopack(compat: &Value, sidecar: Option<&Sidecar>) -> Result<Self, CompatError> {
        let full = match sidecar {
            Some(sidecar) => merge(Self::KIND, compat, sidecar)?,
            None => compat.clone(),
        };
        let artifact: Self = crate::validate::validate(&full)?;
        if let Some(sidecar) = sidecar
            && artifact.content_id() != sidecar.artifact_id
        {
            return Err(CompatError::OtherArtifact {
                recorded: sidecar.artifact_id.clone(),
                found: artifact.content_id(),
            });
        }
        Ok(artifact)
    }
}

impl AutopackCompat for crate::IntentionAnchorV2 {}
impl AutopackCompat for crate::GapReportV1 {}
impl AutopackCompat for crate::PlanProposalV1 {}
impl AutopackCompat for crate::AutopilotSessionV1 {}

/// Why an artifact cannot be read back from its Autopack profile.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompatError {
    /// The sidecar does not fit the artifact.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// The merged artifact is not valid.
    #[error(transparent)]
    Invalid(#[from] crate::validate::ValidationError),
    /// The sidecar belongs to another artifact.
    #[error("the sidecar records artifact {recorded}, but the merged artifact is {found}")]
    OtherArtifact {
        /// The id the sidecar records.
        recorded: String,
        /// The merged artifact's id.
        found: String,
    },
}

/// Which fields an artifact is written with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Every field waypost knows (the default).
    #[default]
    Waypost,
    /// Only the fields Autopack's published schemas name, plus a sidecar.
    Autopack,
}

/// The kinds the Autopack profile applies to.
pub const AUTOPACK_KINDS: [ArtifactKind; 4] = [
    ArtifactKind::IntentionAnchorV2,
    ArtifactKind::GapReportV1,
    ArtifactKind::PlanProposalV1,
    ArtifactKind::AutopilotSessionV1,
];

/// The marker of a waypost addition in waypost's generated schemas.
pub const ADDITION_MARK: &str = "x-waypost-addition";

/// One step of a path into an artifact: an object key, an array index, or
/// the array element whose id field has a value (gaps by `gap_id`, actions
/// by `action_id`, rules by `rule_id`), so a reordered array still merges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Step {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
    /// The array element whose field `.0` is `.1`.
    Id(Map<String, Value>),
}

/// One change the profile made: at `path`, the original value (`None`:
/// the profile added the field, and merging removes it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Where.
    pub path: Vec<Step>,
    /// What was there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<Value>,
}

/// What the Autopack profile left out of an artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sidecar {
    /// Always `waypost_sidecar_v1`.
    pub sidecar: String,
    /// The artifact's kind.
    pub kind: String,
    /// The id of the full artifact (the same in both profiles).
    pub artifact_id: String,
    /// The changes, in the order they were made.
    pub changes: Vec<Change>,
}

/// The sidecar's marker.
pub const SIDECAR_FORMAT: &str = "waypost_sidecar_v1";

/// Why a sidecar cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MergeError {
    /// It is not a sidecar, or of another kind.
    #[error("the sidecar is of kind `{found}`, the artifact of `{expected}`")]
    WrongKind {
        /// The artifact's kind.
        expected: String,
        /// The sidecar's.
        found: String,
    },
    /// A path of it leads nowhere in the artifact.
    #[error("the sidecar names {path}, which the artifact does not have")]
    Missing {
        /// The path, as JSON.
        path: String,
    },
}

/// Ids by which array elements are found.
const ID_FIELDS: [&str; 4] = ["gap_id", "action_id", "rule_id", "request_id"];

/// `<dir>/<stem>.waypost.json` for an artifact at `<dir>/<stem>.json`.
pub fn sidecar_path(artifact: &Path) -> PathBuf {
    let stem = artifact
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    artifact.with_file_name(format!("{stem}.waypost.json"))
}

/// Whether `path` names a sidecar file.
pub fn is_sidecar(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".waypost.json"))
}

/// `value` (a full artifact of `kind`, whose id is `artifact_id`) in the
/// Autopack profile, with its sidecar. For kinds the profile does not
/// apply to, the value unchanged and an empty sidecar.
pub fn to_profile(kind: ArtifactKind, value: &Value, artifact_id: &str) -> (Value, Sidecar) {
    let mut out = value.clone();
    let mut changes = Vec::new();
    if AUTOPACK_KINDS.contains(&kind) {
        if kind == ArtifactKind::IntentionAnchorV2 {
            describe_enforcement(&mut out, &mut changes);
        }
        let schema = crate::schema::generate(kind);
        let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
        strip(&mut out, &schema, &defs, &mut Vec::new(), &mut changes);
    }
    (
        out,
        Sidecar {
            sidecar: SIDECAR_FORMAT.to_owned(),
            kind: kind.to_string(),
            artifact_id: artifact_id.to_owned(),
            changes,
        },
    )
}

/// `schema` with `$ref`s to `$defs` followed and a single-branch
/// `anyOf`/`allOf` opened; of several branches, the first that describes
/// an object.
fn resolve<'a>(schema: &'a Value, defs: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..16 {
        if let Some(name) = current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit('/').next())
        {
            match defs.get(name) {
                Some(next) => {
                    current = next;
                    continue;
                }
                None => return current,
            }
        }
        let branches = ["anyOf", "oneOf", "allOf"]
            .iter()
            .find_map(|k| current.get(*k).and_then(Value::as_array));
        match branches {
            Some(options) if current.get("properties").is_none() => {
                let pick = options.iter().find(|o| {
                    let o = resolve(o, defs);
                    o.get("properties").is_some() || o.get("items").is_some()
                });
                match pick {
                    Some(next) => current = next,
                    None => return current,
                }
            }
            _ => return current,
        }
    }
    current
}

/// The step for element `i` of `items`: by its id field when it has one.
fn element_step(item: &Value, i: usize) -> Step {
    for key in ID_FIELDS {
        if let Some(id) = item.get(key).and_then(Value::as_str) {
            let mut m = Map::new();
            m.insert(key.to_owned(), Value::String(id.to_owned()));
            return Step::Id(m);
        }
    }
    Step::Index(i)
}

/// The step of each element of `items`: by its id field when no other
/// element has the same id, else by its index.
fn element_steps(items: &[Value]) -> Vec<Step> {
    let steps: Vec<Step> = items
        .iter()
        .enumerate()
        .map(|(i, item)| element_step(item, i))
        .collect();
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for step in &steps {
        if let Step::Id(id) = step {
            *seen
                .entry(Value::Object(id.clone()).to_string())
                .or_default() += 1;
        }
    }
    steps
        .into_iter()
        .enumerate()
        .map(|(i, step)| match step {
            Step::Id(id) if seen.get(&Value::Object(id.clone()).to_string()).copied() > Some(1) => {
                Step::Index(i)
            }
            step => step,
        })
        .collect()
}

/// Removes from `value` what `schema` does not name or marks as a waypost
/// addition, recording each removal.
fn strip(
    value: &mut Value,
    schema: &Value,
    defs: &Value,
    at: &mut Vec<Step>,
    changes: &mut Vec<Change>,
) {
    let schema = resolve(schema, defs);
    match value {
        Value::Object(map) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                if let Some(extra) = schema.get("additionalProperties").filter(|s| s.is_object()) {
                    for (k, v) in map.iter_mut() {
                        at.push(Step::Key(k.clone()));
                        strip(v, extra, defs, at, changes);
                        at.pop();
                    }
                }
                return;
            };
            let keys: Vec<String> = map.keys().cloned().collect();
            for key in keys {
                let published = properties.get(&key).filter(|p| {
                    p.get(ADDITION_MARK) != Some(&Value::Bool(true))
                        && resolve(p, defs).get(ADDITION_MARK) != Some(&Value::Bool(true))
                });
                at.push(Step::Key(key.clone()));
                match published {
                    Some(sub) => {
                        if let Some(v) = map.get_mut(&key) {
                            strip(v, sub, defs, at, changes);
                        }
                    }
                    None => {
                        let original = map.remove(&key);
                        changes.push(Change {
                            path: at.clone(),
                            original,
                        });
                    }
                }
                at.pop();
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                let steps = element_steps(items);
                for (i, item) in items.iter_mut().enumerate() {
                    at.push(steps[i].clone());
                    strip(item, item_schema, defs, at, changes);
                    at.pop();
                }
            }
        }
        _ => {}
    }
}

/// Sets `path` in `value` to `original`, or removes it when `None`.
fn set(value: &mut Value, path: &[Step], original: Option<&Value>) -> Result<(), MergeError> {
    let missing = || MergeError::Missing {
        path: serde_json::to_string(path).unwrap_or_default(),
    };
    let Some((last, parents)) = path.split_last() else {
        return Err(missing());
    };
    let mut current = value;
    for step in parents {
        current = child(current, step).ok_or_else(missing)?;
    }
    match (last, current) {
        (Step::Key(key), Value::Object(map)) => {
            match original {
                Some(v) => {
                    map.insert(key.clone(), v.clone());
                }
                None => {
                    map.remove(key);
                }
            }
            Ok(())
        }
        (step, parent) => {
            let slot = child(parent, step).ok_or_else(missing)?;
            match original {
                Some(v) => {
                    *slot = v.clone();
                    Ok(())
                }
                None => Err(missing()),
            }
        }
    }
}

fn child<'a>(value: &'a mut Value, step: &Step) -> Option<&'a mut Value> {
    match (step, value) {
        (Step::Key(k), Value::Object(map)) => map.get_mut(k),
        (Step::Index(i), Value::Array(items)) => items.get_mut(*i),
        (Step::Id(id), Value::Array(items)) => {
            let (key, wanted) = id.iter().next()?;
            items.iter_mut().find(|item| item.get(key) == Some(wanted))
        }
        _ => None,
    }
}

/// The full artifact: `compat` with `sidecar`'s changes undone (last
/// first).
///
/// # Errors
/// [`MergeError`] when the sidecar is of another kind or names a place the
/// artifact does not have.
pub fn merge(kind: ArtifactKind, compat: &Value, sidecar: &Sidecar) -> Result<Value, MergeError> {
    if sidecar.kind != kind.to_string() || sidecar.sidecar != SIDECAR_FORMAT {
        return Err(MergeError::WrongKind {
            expected: kind.to_string(),
            found: sidecar.kind.clone(),
        });
    }
    let mut out = compat.clone();
    for change in sidecar.changes.iter().rev() {
        set(&mut out, &change.path, change.original.as_ref())?;
    }
    Ok(out)
}

/// Says in the published fields what waypost enforces and Autopack cannot
/// express: each rule's typed criteria in its description, and the
/// never-auto-approve globs as approval requirements.
fn describe_enforcement(anchor: &mut Value, changes: &mut Vec<Change>) {
    let key = |k: &str| Step::Key(k.to_owned());
    if let Some(rules) = anchor
        .pointer_mut("/pivot_intentions/governance_review/auto_approve_rules")
        .and_then(Value::as_array_mut)
    {
        let steps = element_steps(rules);
        for (i, rule) in rules.iter_mut().enumerate() {
            let Some(criteria) = rule.get("criteria").filter(|c| c.is_object()) else {
                continue;
            };
            let text = criteria_text(criteria);
            let step = steps[i].clone();
            let original = rule.get("description").cloned();
            let described = match original.as_ref().and_then(Value::as_str) {
                Some(d) if !d.is_empty() => {
                    format!("{d} (waypost enforces: {text}; Autopack does not)")
                }
                _ => format!("waypost enforces: {text}; Autopack does not"),
            };
            if let Value::Object(map) = rule {
                map.insert("description".into(), Value::String(described));
            }
            changes.push(Change {
                path: vec![
                    key("pivot_intentions"),
                    key("governance_review"),
                    key("auto_approve_rules"),
                    step,
                    key("description"),
                ],
                original,
            });
        }
    }
    let globs: Vec<Value> = anchor
        .pointer("/pivot_intentions/governance_review/never_auto_approve")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if globs.is_empty() {
        return;
    }
    let Some(pivot) = anchor
        .get_mut("pivot_intentions")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let safety_original = pivot.get("safety_risk").cloned();
    let safety = pivot.entry("safety_risk").or_insert_with(|| json!({}));
    let Some(safety) = safety.as_object_mut() else {
        return;
    };
    let requires_original = safety.get("requires_approval").cloned();
    let mut list: Vec<Value> = requires_original
        .as_ref()
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for glob in globs {
        if !list.contains(&glob) {
            list.push(glob);
        }
    }
    safety.insert("requires_approval".into(), Value::Array(list));
    // Undo: the list as it was, or no section when there was none.
    changes.push(match safety_original {
        Some(_) => Change {
            path: vec![
                key("pivot_intentions"),
                key("safety_risk"),
                key("requires_approval"),
            ],
            original: requires_original,
        },
        None => Change {
            path: vec![key("pivot_intentions"), key("safety_risk")],
            original: None,
        },
    });
}

/// A rule's typed criteria in words.
fn criteria_text(criteria: &Value) -> String {
    let list = |k: &str| {
        criteria
            .get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|s| !s.is_empty())
    };
    let mut parts = Vec::new();
    if let Some(t) = list("action_types") {
        parts.push(format!("action types {t}"));
    }
    if let Some(p) = list("path_globs") {
        parts.push(format!("paths {p}"));
    }
    if let Some(c) = list("commands") {
        parts.push(format!("commands {c}"));
    }
    if let Some(n) = criteria.get("max_changed_lines").and_then(Value::as_u64) {
        parts.push(format!("at most {n} changed lines"));
    }
    if let Some(r) = criteria.get("max_risk_score").and_then(Value::as_f64) {
        parts.push(format!("risk at most {r}"));
    }
    if parts.is_empty() {
        "its typed criteria".to_owned()
    } else {
        crate::secrets::redact(&parts.join("; ")).into_owned()
    }
}
