//! `waypost schema KIND`.

use crate::support::{waypost, workspace_root};

#[test]
fn json_format_prints_the_published_schema_exactly() {
    for kind in waypost::schemas::ArtifactKind::ALL {
        let run = waypost(&["schema", kind.name()]);
        assert_eq!(run.code, 0);
        let published = std::fs::read_to_string(
            workspace_root()
                .join("schemas")
                .join(kind.schema_file_name()),
        )
        .expect("published schema");
        assert_eq!(run.stdout, published, "{kind}");
    }
}

#[test]
fn text_format_outlines_the_fields() {
    let run = waypost(&["schema", "approval", "--format", "text"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn nested_fields_and_enums_appear_in_the_outline() {
    let run = waypost(&["schema", "intention_anchor_v2", "--format", "text"]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .contains("/pivot_intentions/safety_risk/risk_tolerance")
    );
    assert!(run.stdout.contains("minimal | low | moderate | high"));
    assert!(run.stdout.contains(
        "/pivot_intentions/governance_review/auto_approve_rules/*/criteria/max_risk_score"
    ));
}

#[test]
fn an_unknown_kind_is_a_usage_error_listing_the_kinds() {
    let run = waypost(&["schema", "gapreport-v9"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("expected one of: intention_anchor_v2, gap_report_v1"),
        "{}",
        run.stderr
    );
}
