//! ANCHOR-002: clarifying questions, at most 8, safety and scope first.

use waypost_intention::{
    MAX_QUESTIONS, PIVOT_SECTIONS, Suggestion, infer_from_repo, load_anchor,
    validate_pivot_completeness,
};

use crate::support::{CLOCK, complete_toml, sample_repo};

fn anchor_from(text: &str) -> waypost_schemas::IntentionAnchorV2 {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("intention.toml");
    std::fs::write(&path, text).expect("write");
    load_anchor(&path, &CLOCK).expect("load").anchor
}

#[test]
fn a_complete_anchor_gets_no_questions() {
    assert!(validate_pivot_completeness(&anchor_from(&complete_toml()), None).is_empty());
}

#[test]
fn anchor_002_an_empty_anchor_gets_eight_questions_safety_and_scope_first() {
    let questions = validate_pivot_completeness(&anchor_from("project_id = \"x\"\n"), None);
    assert_eq!(questions.len(), MAX_QUESTIONS);
    let fields: Vec<&str> = questions.iter().map(|q| q.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "/pivot_intentions/safety_risk/never_allow",
            "/pivot_intentions/safety_risk/risk_tolerance",
            "/pivot_intentions/scope_boundaries/allowed_write_roots",
            "/pivot_intentions/scope_boundaries/protected_paths",
            "/pivot_intentions/governance_review/default_policy",
            "/pivot_intentions/governance_review/approval_channels",
            "/pivot_intentions/budget_cost/token_cap_global",
            "/pivot_intentions/budget_cost/time_cap_seconds",
        ]
    );
    // Built-in defaults are offered where waypost has one.
    assert_eq!(
        questions[4].suggested,
        Some((serde_json::json!("deny"), Suggestion::BuiltIn))
    );
}

#[test]
fn each_missing_pivot_is_asked_about() {
    for pivot in PIVOT_SECTIONS.iter().filter(|p| **p != "deployment") {
        // Drop the pivot's table from the complete anchor.
        let text = complete_toml();
        let start = text.find(&format!("[{pivot}]")).expect("section");
        let end = text[start + 1..]
            .find("\n[")
            .map_or(text.len(), |i| start + 1 + i);
        let without = format!("{}{}", &text[..start], &text[end..]);
        let questions = validate_pivot_completeness(&anchor_from(&without), None);
        assert!(!questions.is_empty(), "{pivot}: no question");
        assert!(
            questions.iter().all(|q| q.pivot == *pivot),
            "{pivot}: {questions:?}"
        );
    }
}

#[test]
fn inferred_values_are_offered_as_defaults() {
    let dir = tempfile::tempdir().expect("temp");
    sample_repo(dir.path());
    let inferred = infer_from_repo(dir.path());
    let questions =
        validate_pivot_completeness(&anchor_from("project_id = \"x\"\n"), Some(&inferred));
    let protected = questions
        .iter()
        .find(|q| q.field.ends_with("/protected_paths"))
        .expect("asked");
    let (value, from) = protected.suggested.clone().expect("suggested");
    assert_eq!(from, Suggestion::Inferred);
    assert!(
        value
            .as_array()
            .expect("list")
            .contains(&serde_json::json!("CODEOWNERS"))
    );
}
