//! serialize -> validate -> deserialize gives back the same artifact, and
//! fields waypost does not know survive.

use serde_json::Value;
use waypost_schemas::validate::{validate, validate_value};
use waypost_schemas::{
    ApprovalRecordV1, Artifact, ArtifactKind, AutopilotSessionV1, ClaimRecordV1, GapReportV1,
    IntentionAnchorV2, PlanProposalV1,
};

use crate::support::valid_values;

fn round_trip<T: Artifact + PartialEq + std::fmt::Debug>(file: &str, value: &Value) {
    let typed: T = validate(value).unwrap_or_else(|e| panic!("{file}: {e}"));
    let written = serde_json::to_value(&typed).expect("serialize");
    validate_value(T::KIND, &written).unwrap_or_else(|e| panic!("{file} as written: {e}"));
    let again: T = validate(&written).expect("written form reads back");
    assert_eq!(typed, again, "{file}: typed round trip");
    // Nothing is lost or invented at the JSON level either: unknown fields
    // are kept, and no empty list or null appears.
    assert_eq!(&written, value, "{file}: JSON round trip");
}

#[test]
fn every_valid_fixture_round_trips_exactly() {
    for (file, value) in valid_values() {
        match ArtifactKind::detect(&value).expect("detect") {
            ArtifactKind::IntentionAnchorV2 => round_trip::<IntentionAnchorV2>(&file, &value),
            ArtifactKind::GapReportV1 => round_trip::<GapReportV1>(&file, &value),
            ArtifactKind::PlanProposalV1 => round_trip::<PlanProposalV1>(&file, &value),
            ArtifactKind::AutopilotSessionV1 => round_trip::<AutopilotSessionV1>(&file, &value),
            ArtifactKind::ApprovalRecordV1 => round_trip::<ApprovalRecordV1>(&file, &value),
            ArtifactKind::ClaimRecordV1 => round_trip::<ClaimRecordV1>(&file, &value),
            ArtifactKind::ContractSnapshotV1 => {
                round_trip::<waypost_schemas::ContractSnapshotV1>(&file, &value)
            }
            ArtifactKind::JobSnapshotV1 => {
                round_trip::<waypost_schemas::JobSnapshotV1>(&file, &value)
            }
            ArtifactKind::AuditEvidenceV1 => {
                round_trip::<waypost_schemas::AuditEvidenceV1>(&file, &value)
            }
            ArtifactKind::GapBaselineV1 => {
                round_trip::<waypost_schemas::GapBaselineV1>(&file, &value)
            }
            ArtifactKind::PilotDecisionV1 => {
                round_trip::<waypost_schemas::PilotDecisionV1>(&file, &value)
            }
            ArtifactKind::RunRecordV1 => round_trip::<waypost_schemas::RunRecordV1>(&file, &value),
            ArtifactKind::ActionProofV1 => {
                round_trip::<waypost_schemas::ActionProofV1>(&file, &value)
            }
            ArtifactKind::LedgerEntryV1 => {
                round_trip::<waypost_schemas::LedgerEntryV1>(&file, &value)
            }
            other => panic!("no round trip for {other}"),
        }
    }
}

#[test]
fn unknown_fields_are_kept_at_every_level() {
    let (_, value) = valid_values()
        .into_iter()
        .find(|(f, _)| f.ends_with("published_with_extras.json"))
        .expect("fixture");
    let anchor: IntentionAnchorV2 = validate(&value).expect("valid");
    assert_eq!(anchor.extra["x_origin"]["revision"], 7);
    assert_eq!(
        anchor.pivot_intentions.extra["x_review_notes"],
        "unknown sections are kept on round-trip"
    );
    // Offsets and fractions are kept as written.
    assert_eq!(
        anchor.created_at.as_str(),
        "2025-06-01T10:20:30.123456+02:00"
    );
}

#[test]
fn integers_beyond_the_rust_width_are_refused_by_the_schema() {
    // schemars records the width only as `format: uint32`, which validators
    // ignore; the published schema states the maximum so the file is refused
    // with a pointer instead of failing later in deserialization.
    let value = serde_json::json!({
        "format_version": "v2",
        "project_id": "demo",
        "created_at": "2026-01-01T00:00:00Z",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {"parallelism_isolation": {"max_concurrent_runs": 5_000_000_000u64}}
    });
    let err = validate::<IntentionAnchorV2>(&value).expect_err("over u32");
    let violations = err.violations();
    assert_eq!(violations.len(), 1, "{err}");
    assert_eq!(
        violations[0].pointer,
        "/pivot_intentions/parallelism_isolation/max_concurrent_runs"
    );
    assert_eq!(
        violations[0].message,
        "must be at most 4294967295, found 5000000000"
    );
}
