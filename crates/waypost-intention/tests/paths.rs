//! The shared protected-path corpus through the anchor checker.

use serde_json::json;
use waypost_intention::check_anchor;
use waypost_test_support::{PathVerdict, protected_path_cases};

/// Each row as a write root beside the row's protected pattern: the checker
/// reports the root as protected (or as leaving the repository) exactly when
/// the corpus says so.
#[test]
fn the_anchor_checker_agrees_with_the_shared_corpus() {
    let mut failures = Vec::new();
    let cases = protected_path_cases();
    for case in &cases {
        let anchor: waypost_schemas::IntentionAnchorV2 = serde_json::from_value(json!({
            "format_version": "v2", "project_id": "demo", "created_at": "2026-01-01T00:00:00Z",
            "raw_input_digest": "0123456789abcdef",
            "pivot_intentions": {"scope_boundaries": {
                "allowed_write_roots": [case.path],
                "protected_paths": [case.pattern],
            }}
        }))
        .expect("anchor");
        let findings = check_anchor(&anchor);
        let at_root = |code: &str| {
            findings.iter().any(|f| {
                f.code == code
                    && f.field == "/pivot_intentions/scope_boundaries/allowed_write_roots/0"
            })
        };
        let answer = if at_root("path_escapes_repo") {
            PathVerdict::Invalid
        } else if at_root("write_root_protected") {
            PathVerdict::Protected
        } else {
            PathVerdict::Free
        };
        if answer != case.expected {
            failures.push(format!(
                "{:?} under {:?} ({}): checker says {answer:?}, expected {:?}: {findings:?}",
                case.path, case.pattern, case.about, case.expected
            ));
        }
    }
    assert!(cases.len() >= 40, "{} rows", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
