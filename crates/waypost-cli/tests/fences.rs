//! `waypost fences`.

use serde_json::Value;

use crate::support::waypost;

#[test]
fn text_lists_every_fence_with_its_parts() {
    let run = waypost(&["fences"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn json_lists_the_registry() {
    let run = waypost(&["fences", "--format", "json"]);
    assert_eq!(run.code, 0);
    let value: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let fences = value["fences"].as_array().expect("list");
    assert_eq!(fences.len(), waypost::fences::DANGER_FENCES.len());
    assert_eq!(fences[0]["id"], "FENCE-001");
    assert!(
        fences
            .iter()
            .all(|f| !f["forbidden"].as_array().expect("forbidden").is_empty())
    );
}
