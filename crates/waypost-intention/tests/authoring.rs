//! Authoring: TOML and JSON load into the same anchor; errors name the file,
//! line, column and field.

use serde_json::json;
use waypost_intention::{AnchorError, SourceFormat, load_anchor, to_authored_toml};
use waypost_schemas::canonical::sha256_hex;

use crate::support::{CLOCK, complete_toml, write_files};

#[test]
fn toml_and_json_load_the_same_intentions() {
    let dir = tempfile::tempdir().expect("temp");
    let toml_text = complete_toml();
    let table: toml::Table = toml::from_str(&toml_text).expect("template parses");
    let json_text = serde_json::to_string_pretty(&table).expect("as JSON");
    write_files(
        dir.path(),
        &[
            ("intention.toml", &toml_text),
            ("intention.json", &json_text),
        ],
    );
    let from_toml = load_anchor(&dir.path().join("intention.toml"), &CLOCK).expect("TOML");
    let from_json = load_anchor(&dir.path().join("intention.json"), &CLOCK).expect("JSON");
    assert_eq!(from_toml.format, SourceFormat::Toml);
    assert_eq!(from_json.format, SourceFormat::Json);
    assert_eq!(
        from_toml.anchor.pivot_intentions,
        from_json.anchor.pivot_intentions
    );
    assert_eq!(from_toml.anchor.project_id, from_json.anchor.project_id);
    // The digest is of the raw bytes, so the two sources differ there.
    assert_eq!(
        from_toml.anchor.raw_input_digest,
        sha256_hex(toml_text.as_bytes())
    );
    assert_ne!(
        from_toml.anchor.raw_input_digest,
        from_json.anchor.raw_input_digest
    );
}

#[test]
fn any_edit_of_the_source_changes_the_digest_and_the_id() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("intention.toml");
    std::fs::write(&path, complete_toml()).expect("write");
    let before = load_anchor(&path, &CLOCK).expect("load").anchor;
    std::fs::write(&path, format!("{}\n# a comment\n", complete_toml())).expect("write");
    let after = load_anchor(&path, &CLOCK).expect("load").anchor;
    assert_ne!(before.raw_input_digest, after.raw_input_digest);
    assert_ne!(before.anchor_id(), after.anchor_id());
}

#[test]
fn the_intention_table_of_waypost_toml_is_an_anchor() {
    let dir = tempfile::tempdir().expect("temp");
    let body = complete_toml()
        .replace("[north_star]", "[intention.north_star]")
        .replace("\n[", "\n[intention.")
        .replace("[intention.intention.", "[intention.")
        .replace("project_id", "[intention]\nproject_id");
    let path = dir.path().join("waypost.toml");
    std::fs::write(&path, format!("[scan]\nmax_file_bytes = 1000\n\n{body}")).expect("write");
    let loaded = load_anchor(&path, &CLOCK).expect("waypost.toml loads");
    assert_eq!(loaded.format, SourceFormat::WaypostToml);
    assert_eq!(loaded.anchor.project_id, "my-project");

    std::fs::write(&path, "[scan]\nmax_file_bytes = 1000\n").expect("write");
    let err = load_anchor(&path, &CLOCK).expect_err("no [intention]");
    assert!(matches!(err, AnchorError::NoIntentionTable { .. }), "{err}");
}

#[test]
fn syntax_errors_name_the_file_line_and_column() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("intention.toml");
    std::fs::write(
        &path,
        "project_id = \"x\"\n[safety_risk]\nrisk_tolerance = low\n",
    )
    .expect("write");
    let err = load_anchor(&path, &CLOCK).expect_err("bare word");
    match &err {
        AnchorError::Syntax { line, column, .. } => assert_eq!((*line, *column), (3, 18)),
        other => panic!("expected a syntax error, got {other}"),
    }
    assert!(
        err.to_string()
            .starts_with(&format!("{}:3:18:", path.display())),
        "{err}"
    );
}

#[test]
fn schema_problems_name_the_field_and_where_it_is() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("intention.toml");
    let text = complete_toml().replace("risk_tolerance = \"low\"", "risk_tolerance = \"reckless\"");
    std::fs::write(&path, &text).expect("write");
    let err = load_anchor(&path, &CLOCK).expect_err("bad enum");
    let AnchorError::Invalid { problems, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(problems.len(), 1, "{err}");
    assert_eq!(problems[0].field, "safety_risk.risk_tolerance");
    let line = text
        .lines()
        .position(|l| l.starts_with("risk_tolerance"))
        .expect("line")
        + 1;
    assert_eq!(problems[0].line, Some(line));
    assert!(
        problems[0].message.contains("\"reckless\" is not one of"),
        "{err}"
    );
}

#[test]
fn typos_are_unknown_fields_not_silently_kept() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("intention.toml");
    let text = complete_toml()
        .replace("[safety_risk]", "[saftey_risk]")
        .replace("max_concurrent_runs = 1", "max_concurent_runs = 1");
    std::fs::write(&path, &text).expect("write");
    let err = load_anchor(&path, &CLOCK).expect_err("typos");
    let AnchorError::Invalid { problems, .. } = &err else {
        panic!("{err}")
    };
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        // In file order: the misspelt section comes first.
        ["saftey_risk", "parallelism_isolation.max_concurent_runs"],
        "{err}"
    );
    assert!(
        problems
            .iter()
            .all(|p| p.message.starts_with("unknown field") && p.line.is_some()),
        "{err}"
    );
}

#[test]
fn a_published_anchor_artifact_loads_and_keeps_unknown_fields() {
    let dir = tempfile::tempdir().expect("temp");
    let artifact = json!({
        "format_version": "v2",
        "project_id": "legacy",
        "created_at": "2025-06-01T10:20:30.123456+02:00",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {"north_star": {"desired_outcomes": ["x"]}, "x_future": {"a": 1}},
        "x_origin": "autopack"
    });
    write_files(dir.path(), &[("anchor.json", &artifact.to_string())]);
    let loaded = load_anchor(&dir.path().join("anchor.json"), &CLOCK).expect("artifact loads");
    assert_eq!(loaded.format, SourceFormat::Artifact);
    assert_eq!(
        loaded.anchor.raw_input_digest, "0123456789abcdef",
        "its own digest is kept"
    );
    let back = serde_json::to_value(&loaded.anchor).expect("serialize");
    assert_eq!(back, artifact, "round trip keeps everything");
}

#[test]
fn shown_toml_loads_again_to_the_same_intentions() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("intention.toml");
    std::fs::write(&path, complete_toml()).expect("write");
    let anchor = load_anchor(&path, &CLOCK).expect("load").anchor;
    let shown = to_authored_toml(&anchor);
    let again = dir.path().join("again.toml");
    std::fs::write(&again, &shown).expect("write");
    let reloaded = load_anchor(&again, &CLOCK)
        .expect("shown TOML loads")
        .anchor;
    assert_eq!(reloaded.pivot_intentions, anchor.pivot_intentions);
    assert_eq!(reloaded.created_at, anchor.created_at);
}
