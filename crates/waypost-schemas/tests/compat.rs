//! The Autopack profile: only published fields, a sidecar with the rest,
//! and the pair reads back to exactly the original.

use std::path::Path;

use serde_json::{Value, json};
use waypost_schemas::compat::{
    ADDITION_MARK, AUTOPACK_KINDS, AutopackCompat, Profile, merge, sidecar_path, to_profile,
};
use waypost_schemas::io::{LoadError, read_json, write_artifact_as};
use waypost_schemas::{
    Artifact, ArtifactKind, GapReportV1, IntentionAnchorV2, Kind, canonical, schema,
};
use waypost_test_support::fixtures_dir;

/// `schema` restricted to the published fields, with no field beyond them
/// allowed anywhere: every property marked as a waypost addition removed,
/// and `additionalProperties: false` on every object.
fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                let added: Vec<String> = properties
                    .iter()
                    .filter(|(_, p)| p.get(ADDITION_MARK) == Some(&Value::Bool(true)))
                    .map(|(k, _)| k.clone())
                    .collect();
                for key in &added {
                    properties.remove(key);
                }
                if let Some(Value::Array(required)) = map.get_mut("required") {
                    required.retain(|r| !added.iter().any(|a| r == a));
                }
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for child in map.values_mut() {
                strict(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

fn valid_fixtures(kind: ArtifactKind) -> Vec<(String, Value)> {
    let dir = fixtures_dir()
        .join("artifacts/valid")
        .join(kind.to_string());
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("fixture folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read");
            (
                p.display().to_string(),
                serde_json::from_str(&text).expect("JSON"),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn id_of(kind: ArtifactKind, value: &Value) -> String {
    canonical::content_id(
        kind.facts().id_prefix,
        &canonical::canonical_bytes(kind, value),
    )
}

#[test]
fn every_fixture_in_the_profile_passes_a_strict_published_schema_and_reads_back_exactly() {
    for kind in AUTOPACK_KINDS {
        let mut strict_schema = schema::generate(kind);
        strict(&mut strict_schema);
        let validator = jsonschema::draft202012::new(&strict_schema).expect("a schema");
        let fixtures = valid_fixtures(kind);
        assert!(fixtures.len() >= 3, "{kind}: {} fixtures", fixtures.len());
        for (name, value) in fixtures {
            let id = id_of(kind, &value);
            let (compat, sidecar) = to_profile(kind, &value, &id);
            let errors: Vec<String> = validator
                .iter_errors(&compat)
                .map(|e| format!("{}: {e}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
            assert_eq!(sidecar.artifact_id, id);
            let back = merge(kind, &compat, &sidecar).expect("merges");
            assert_eq!(back, value, "{name}: the pair reads back to the original");
            assert_eq!(id_of(kind, &back), id);
        }
    }
}

#[test]
fn the_strict_schema_would_catch_a_waypost_field() {
    // The test's strict schema is strict: the full artifact fails it.
    let kind = ArtifactKind::GapReportV1;
    let mut strict_schema = schema::generate(kind);
    strict(&mut strict_schema);
    let validator = jsonschema::draft202012::new(&strict_schema).expect("a schema");
    let (_, full) = valid_fixtures(kind)
        .into_iter()
        .find(|(_, v)| v.to_string().contains("\"detector\""))
        .expect("a fixture with a detector");
    assert!(!validator.is_valid(&full));
}

fn anchor() -> IntentionAnchorV2 {
    serde_json::from_value(json!({
        "format_version": "v2",
        "project_id": "demo",
        "created_at": "2026-01-01T00:00:00Z",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {
            "governance_review": {
                "never_auto_approve": ["src/main.rs"],
                "auto_approve_rules": [
                    {"rule_id": "docs", "description": "Small doc fixes", "criteria": {"action_types": ["doc_update"], "path_globs": ["docs/**"], "max_changed_lines": 40}}
                ]
            }
        }
    }))
    .expect("anchor")
}

#[test]
fn the_compat_anchor_says_what_autopack_will_not_enforce() {
    let anchor = anchor();
    let (compat, sidecar) = anchor.to_autopack();
    let rule = &compat["pivot_intentions"]["governance_review"]["auto_approve_rules"][0];
    assert!(rule.get("criteria").is_none());
    let description = rule["description"].as_str().expect("description");
    assert!(description.starts_with("Small doc fixes (waypost enforces: action types doc_update; paths docs/**; at most 40 changed lines"), "{description}");
    assert!(
        compat["pivot_intentions"]["governance_review"]
            .get("never_auto_approve")
            .is_none()
    );
    assert_eq!(
        compat["pivot_intentions"]["safety_risk"]["requires_approval"],
        json!(["src/main.rs"])
    );
    let back = IntentionAnchorV2::from_autopack(&compat, Some(&sidecar)).expect("reads back");
    assert_eq!(back, anchor);
    assert_eq!(back.content_id(), sidecar.artifact_id);
    // Without the sidecar, the profile alone reads as an anchor too.
    IntentionAnchorV2::from_autopack(&compat, None).expect("the profile is an anchor");
}

fn report_fixture() -> GapReportV1 {
    let (_, value) = valid_fixtures(ArtifactKind::GapReportV1)
        .into_iter()
        .find(|(_, v)| v.to_string().contains("\"locations\""))
        .expect("a report with locations");
    serde_json::from_value(value).expect("report")
}

#[test]
fn written_in_the_profile_the_file_reads_back_whole_through_its_sidecar() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("gap_report_v1.json");
    let report = report_fixture();
    let written = write_artifact_as(&path, &report, Profile::Autopack).expect("write");
    assert_eq!(written.as_deref(), Some(sidecar_path(&path).as_path()));
    let on_disk: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
    assert!(!on_disk.to_string().contains("\"locations\""));
    assert!(!on_disk.to_string().contains("\"detector\""));
    let read: GapReportV1 =
        serde_json::from_value(read_json(&path).expect("merged")).expect("report");
    assert_eq!(read, report);

    // A sidecar of another artifact is refused, naming the sidecar.
    let mut other = report.clone();
    other.project_id = "another".into();
    let other_path = dir.path().join("other.json");
    write_artifact_as(&other_path, &other, Profile::Autopack).expect("write");
    std::fs::copy(sidecar_path(&other_path), sidecar_path(&path)).expect("swap sidecars");
    let err = read_json(&path).expect_err("not its sidecar");
    assert!(matches!(err, LoadError::Sidecar { .. }), "{err}");
    assert!(
        err.to_string().contains("gap_report_v1.waypost.json"),
        "{err}"
    );

    // The waypost profile writes no sidecar.
    let plain = dir.path().join("plain.json");
    assert_eq!(
        write_artifact_as(&plain, &report, Profile::Waypost).expect("write"),
        None
    );
    assert!(!Path::new(&sidecar_path(&plain)).exists());
}

#[test]
fn a_sidecar_may_restore_only_what_the_profile_took_out() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("gap_report_v1.json");
    let report = report_fixture();
    write_artifact_as(&path, &report, Profile::Autopack).expect("write");
    // A sidecar that also rewrites a published field, with an id that fits
    // its own merge, is refused.
    let sidecar_file = sidecar_path(&path);
    let mut sidecar: waypost_schemas::compat::Sidecar =
        serde_json::from_str(&std::fs::read_to_string(&sidecar_file).expect("read"))
            .expect("sidecar");
    let compat: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let gap_id = compat["gaps"][0]["gap_id"].clone();
    sidecar.changes.push(waypost_schemas::compat::Change {
        path: serde_json::from_value(json!(["gaps", {"gap_id": gap_id}, "risk_classification"]))
            .expect("path"),
        original: Some(json!("info")),
    });
    let merged = merge(ArtifactKind::GapReportV1, &compat, &sidecar).expect("merges");
    sidecar.artifact_id = id_of(ArtifactKind::GapReportV1, &merged);
    std::fs::write(
        &sidecar_file,
        serde_json::to_string(&sidecar).expect("json"),
    )
    .expect("write");
    let err = read_json(&path).expect_err("a published field rewritten");
    assert!(
        err.to_string()
            .contains("changes more than the Autopack profile left out"),
        "{err}"
    );

    // Writing the same path in the waypost profile removes the stale sidecar.
    write_artifact_as(&path, &report, Profile::Waypost).expect("write");
    assert!(!sidecar_file.exists());
    assert_eq!(
        read_json(&path).expect("plain"),
        serde_json::to_value(&report).expect("json")
    );
}

#[test]
fn duplicate_ids_still_read_back_exactly() {
    let mut report = report_fixture();
    let mut twin = report.gaps[0].clone();
    twin.detector = Some("another_detector".into());
    report.gaps.push(twin);
    let value = serde_json::to_value(&report).expect("json");
    let id = id_of(ArtifactKind::GapReportV1, &value);
    let (compat, sidecar) = to_profile(ArtifactKind::GapReportV1, &value, &id);
    assert_eq!(
        merge(ArtifactKind::GapReportV1, &compat, &sidecar).expect("merges"),
        value
    );
}

#[test]
fn a_sidecar_beside_an_artifact_of_another_kind_is_not_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, approval) = valid_fixtures(ArtifactKind::ApprovalRecordV1)
        .into_iter()
        .next()
        .expect("an approval fixture");
    let path = dir.path().join("approval.json");
    std::fs::write(&path, approval.to_string()).expect("write");
    std::fs::write(sidecar_path(&path), "{\"sidecar\": \"waypost_sidecar_v1\", \"kind\": \"approval_record_v1\", \"artifact_id\": \"x\", \"changes\": [{\"path\": [\"approved_by\"], \"original\": \"mallory\"}]}").expect("write");
    assert_eq!(read_json(&path).expect("read"), approval);
}
