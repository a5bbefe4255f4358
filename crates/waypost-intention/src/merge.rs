//! Merging what humans wrote with what waypost inferred and its defaults.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use waypost_schemas::{
    Clock, FieldProvenance, FormatV2, IntentionAnchorV2, PivotIntentions, ProvenanceOrigin,
    canonical::sha256_hex,
};

use crate::default::default_pivots;
use crate::infer::Inferred;

// Invariant: ANCHOR-001 Human input always wins, field by field, and every other value says where it came from.
// Category: governance
// Why: the anchor is human-owned; a guess that overrides a human, or one that looks like a
//      human's decision, makes governance act on intent nobody stated.
// Enforced by: create_from_inputs layers explicit over inferred over default per leaf field
//      and records a provenance entry for every field not taken from the explicit layer.

/// The project id used when no input names the project.
pub const UNNAMED_PROJECT: &str = "unnamed-project";

/// Merges an explicit (human) anchor with inferred values: explicit fields
/// win, field by field; fields the human left out are filled from inference,
/// and — only when there is no human anchor at all — from the built-in
/// defaults. Every field that did not come from the human gets a provenance
/// entry. Same inputs, byte-identical anchor.
pub fn create_from_inputs(
    explicit: Option<&IntentionAnchorV2>,
    inferred: &Inferred,
    clock: &Clock,
) -> IntentionAnchorV2 {
    let human = explicit.map_or_else(Map::new, |a| pivots_json(&a.pivot_intentions));
    // Every value of the human anchor is the human's, whatever provenance
    // it carries (a saved artifact keeps the provenance of values the human
    // may since have edited): only the fields filled in here are marked.
    let mut provenance: BTreeMap<String, FieldProvenance> = BTreeMap::new();
    let mut merged = human.clone();
    let inferred_origin = |pointer: &str| FieldProvenance {
        origin: ProvenanceOrigin::Inferred,
        sources: inferred.sources.get(pointer).cloned().unwrap_or_default(),
    };
    fill(
        &mut merged,
        &inferred.pivots,
        "/pivot_intentions",
        &mut provenance,
        &inferred_origin,
    );
    if explicit.is_none() {
        let defaults = pivots_json(&default_pivots());
        fill(
            &mut merged,
            &defaults,
            "/pivot_intentions",
            &mut provenance,
            &|_| FieldProvenance {
                origin: ProvenanceOrigin::Default,
                sources: Vec::new(),
            },
        );
    }
    let pivot_intentions: PivotIntentions = serde_json::from_value(Value::Object(merged))
        .expect("merging valid pivot sections gives valid pivot sections");
    match explicit {
        Some(anchor) => IntentionAnchorV2 {
            pivot_intentions,
            provenance,
            ..anchor.clone()
        },
        None => {
            let (project_id, project_origin) = match &inferred.project_id {
                Some((name, file)) => (
                    name.clone(),
                    FieldProvenance {
                        origin: ProvenanceOrigin::Inferred,
                        sources: vec![file.clone()],
                    },
                ),
                None => (
                    UNNAMED_PROJECT.to_owned(),
                    FieldProvenance {
                        origin: ProvenanceOrigin::Default,
                        sources: Vec::new(),
                    },
                ),
            };
            provenance.insert("/project_id".into(), project_origin);
            IntentionAnchorV2 {
                format_version: FormatV2,
                project_id,
                created_at: clock.now(),
                updated_at: None,
                // No human input: the digest of the empty input.
                raw_input_digest: sha256_hex(b""),
                pivot_intentions,
                metadata: None,
                provenance,
                extra: Default::default(),
            }
        }
    }
}

fn pivots_json(pivots: &PivotIntentions) -> Map<String, Value> {
    match serde_json::to_value(pivots).expect("pivot sections serialize") {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Copies every leaf of `layer` that `target` lacks, recording where it came from.
fn fill(
    target: &mut Map<String, Value>,
    layer: &Map<String, Value>,
    pointer: &str,
    provenance: &mut BTreeMap<String, FieldProvenance>,
    origin: &dyn Fn(&str) -> FieldProvenance,
) {
    for (key, value) in layer {
        let child = format!("{pointer}/{key}");
        match (target.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(incoming)) => {
                fill(existing, incoming, &child, provenance, origin);
            }
            (Some(existing), _) if !is_empty(existing) => {}
            _ => {
                if let Value::Object(incoming) = value {
                    // A whole section the human left out: take it field by field.
                    let mut fresh = Map::new();
                    fill(&mut fresh, incoming, &child, provenance, origin);
                    target.insert(key.clone(), Value::Object(fresh));
                } else if !is_empty(value) {
                    target.insert(key.clone(), value.clone());
                    provenance.insert(child.clone(), origin(&child));
                }
            }
        }
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}
