//! Artifact files: validated before writing, atomic, bounded on reading,
//! byte-identical under a fixed clock.

use std::fs;

use waypost_schemas::io::{
    LoadError, MAX_ARTIFACT_BYTES, ReadError, WriteError, read_artifact, read_bounded,
    write_artifact,
};
use waypost_schemas::validate::validate;
use waypost_schemas::{Clock, FormatV1, GapReportV1, Timestamp, TimestampError};

use crate::support::valid_values;

fn report(generated_at: Timestamp) -> GapReportV1 {
    GapReportV1 {
        format_version: FormatV1,
        project_id: "demo".into(),
        run_id: "scan-20260101T000000Z".into(),
        generated_at,
        workspace_state_digest: None,
        gaps: Vec::new(),
        summary: None,
        metadata: None,
        extra: Default::default(),
    }
}

#[test]
fn a_fixed_source_date_epoch_gives_byte_identical_files() {
    let clock = Clock::from_source_date_epoch(Some("1767225600")).expect("valid epoch");
    let a = tempfile::tempdir().expect("temp");
    let b = tempfile::tempdir().expect("temp");
    let (pa, pb) = (a.path().join("r.json"), b.path().join("nested/r.json"));
    write_artifact(&pa, &report(clock.now())).expect("write a");
    write_artifact(&pb, &report(clock.now())).expect("write b");
    assert_eq!(fs::read(&pa).expect("a"), fs::read(&pb).expect("b"));
    assert!(
        fs::read_to_string(&pa)
            .expect("a")
            .contains("\"2026-01-01T00:00:00Z\"")
    );
    let back: GapReportV1 = read_artifact(&pa).expect("reads back");
    assert_eq!(back, report(clock.now()));
}

#[test]
fn source_date_epoch_that_is_not_a_number_is_refused_by_name() {
    let err = Clock::from_source_date_epoch(Some("tomorrow")).expect_err("not a number");
    assert!(matches!(err, TimestampError::SourceDateEpoch { .. }));
    assert!(err.to_string().contains("SOURCE_DATE_EPOCH"), "{err}");
    assert_eq!(
        Clock::from_source_date_epoch(None).expect("none"),
        Clock::System
    );
}

#[test]
fn schema_005_an_invalid_artifact_is_refused_and_the_existing_file_is_untouched() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("gap_report_v1.json");
    write_artifact(&path, &report(Clock::Fixed(0).now())).expect("first write");
    let before = fs::read(&path).expect("read");

    let mut bad = report(Clock::Fixed(10).now());
    bad.project_id = String::new();
    let err = write_artifact(&path, &bad).expect_err("empty project id");
    assert!(matches!(err, WriteError::Invalid { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("gap_report_v1.json") && text.contains("/project_id"),
        "{text}"
    );
    assert_eq!(
        fs::read(&path).expect("read"),
        before,
        "nothing was written"
    );
    assert_eq!(
        fs::read_dir(dir.path()).expect("ls").count(),
        1,
        "no temporary file left"
    );
}

#[test]
fn schema_012_readers_refuse_files_over_the_cap_with_the_path_and_limit() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("huge.json");
    let file = fs::File::create(&path).expect("create");
    file.set_len(MAX_ARTIFACT_BYTES + 1).expect("sparse file");
    let err = read_artifact::<GapReportV1>(&path).expect_err("too large");
    assert!(
        matches!(err, LoadError::Read(ReadError::TooLarge { .. })),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("huge.json") && text.contains(&MAX_ARTIFACT_BYTES.to_string()),
        "{text}"
    );
    assert!(matches!(
        read_bounded(&dir.path().join("absent.json"), 10),
        Err(ReadError::Io { .. })
    ));
}

#[test]
fn parse_errors_carry_file_line_and_column() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("broken.json");
    fs::write(&path, "{\n  \"format_version\": \"v1\",\n  oops\n}").expect("write");
    let err = read_artifact::<GapReportV1>(&path).expect_err("not JSON");
    match &err {
        LoadError::Parse { line, column, .. } => assert_eq!((*line, *column), (3, 3)),
        other => panic!("expected a parse error, got {other}"),
    }
    assert!(
        err.to_string().contains("broken.json:3:3: not valid JSON"),
        "{err}"
    );
}

#[test]
fn format_version_errors_say_what_was_expected_and_found() {
    let (_, mut value) = valid_values()
        .into_iter()
        .find(|(f, _)| f.ends_with("intention_anchor_v2/complete.json"))
        .expect("fixture");
    value["format_version"] = "v3".into();
    let err = validate::<waypost_schemas::IntentionAnchorV2>(&value).expect_err("v3");
    assert_eq!(
        err.to_string(),
        "intention_anchor_v2: unsupported format_version: expected v2, found v3"
    );
    value
        .as_object_mut()
        .expect("object")
        .remove("format_version");
    let err = validate::<waypost_schemas::IntentionAnchorV2>(&value).expect_err("missing");
    assert_eq!(
        err.to_string(),
        "intention_anchor_v2: missing format_version (expected v2)"
    );
}

#[test]
fn validation_reports_every_violation_not_just_the_first() {
    let (_, mut value) = valid_values()
        .into_iter()
        .find(|(f, _)| f.ends_with("plan_proposal_v1/mixed_verdicts.json"))
        .expect("fixture");
    value["actions"][0]["risk_score"] = 2.into();
    value["actions"][1]["action_type"] = "explode".into();
    value["project_id"] = "".into();
    let err = validate::<waypost_schemas::PlanProposalV1>(&value).expect_err("three faults");
    let pointers: Vec<String> = err.violations().into_iter().map(|v| v.pointer).collect();
    assert_eq!(
        pointers,
        [
            "/actions/0/risk_score",
            "/actions/1/action_type",
            "/project_id"
        ],
        "{err}"
    );
}

#[test]
fn secrets_in_invalid_values_are_redacted_from_messages() {
    let (_, mut value) = valid_values()
        .into_iter()
        .find(|(f, _)| f.ends_with("approval_record_v1/minimal.json"))
        .expect("fixture");
    // Not a run of the alphabet: the rule set lets such placeholders through.
    let token = format!("ghp_{}", "q7Rw2KzX9m".repeat(4));
    value["action_sha256"] = token.clone().into();
    let err = validate::<waypost_schemas::ApprovalRecordV1>(&value).expect_err("not a digest");
    let text = err.to_string();
    assert!(text.contains("/action_sha256"), "{text}");
    assert!(
        !text.contains(&token),
        "the token leaked into the message: {text}"
    );
}

#[test]
fn millisecond_timestamps_round_trip_through_text() {
    for millis in [0, 1, 250, 1_767_225_600_123, -1] {
        let stamp = Timestamp::from_unix_millis(millis).expect("in range");
        assert_eq!(stamp.unix_millis(), millis, "{stamp}");
        assert_eq!(Timestamp::parse(stamp.as_str()).expect("parses"), stamp);
    }
    assert_eq!(
        Timestamp::from_unix_millis(1_767_225_600_250)
            .expect("in range")
            .as_str(),
        "2026-01-01T00:00:00.25Z"
    );
}
