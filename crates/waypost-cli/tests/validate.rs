//! `waypost validate`: exit 0 valid, 1 invalid, 2 unreadable.

use serde_json::Value;

use crate::support::{waypost, workspace_root};

#[test]
fn every_valid_fixture_validates_and_exits_zero() {
    let run = waypost(&["validate", "fixtures/artifacts/valid"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let files: usize = std::fs::read_dir(workspace_root().join("fixtures/artifacts/valid"))
        .expect("valid fixtures")
        .map(|kind| {
            std::fs::read_dir(kind.expect("entry").path())
                .expect("kind dir")
                .count()
        })
        .sum();
    assert!(
        run.stdout
            .ends_with(&format!("{files} valid, 0 invalid, 0 unreadable\n")),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn invalid_files_print_each_error_with_its_pointer_and_exit_one() {
    let run = waypost(&[
        "validate",
        "fixtures/artifacts/invalid/intention_anchor_v2/format_version_v3.json",
        "fixtures/artifacts/invalid/plan_proposal_v1/risk_above_one.json",
        "fixtures/artifacts/invalid/gap_report_v1/truncated_write.json",
        "fixtures/artifacts/valid/gap_report_v1/empty.json",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn every_invalid_fixture_is_reported_invalid() {
    let run = waypost(&["validate", "fixtures/artifacts/invalid"]);
    assert_eq!(run.code, 1);
    let last = run.stdout.lines().last().expect("summary line");
    assert!(
        last.starts_with("0 valid, ") && last.ends_with(" invalid, 0 unreadable"),
        "{last}"
    );
}

#[test]
fn json_output_is_one_document_with_pointers() {
    let run = waypost(&[
        "validate",
        "--format",
        "json",
        "fixtures/artifacts/invalid/approval_record_v1/digest_too_short.json",
        "fixtures/artifacts/valid/approval_record_v1/minimal.json",
    ]);
    assert_eq!(run.code, 1);
    let report: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(
        report["summary"],
        serde_json::json!({"valid": 1, "invalid": 1, "unreadable": 0})
    );
    let files = report["files"].as_array().expect("files");
    assert_eq!(files[0]["status"], "invalid");
    assert_eq!(files[0]["kind"], "approval_record_v1");
    assert_eq!(files[0]["errors"][0]["pointer"], "/action_sha256");
    assert_eq!(files[1]["status"], "valid");
}

#[test]
fn kind_can_be_forced() {
    // A valid gap report read as a plan is invalid as a plan.
    let run = waypost(&[
        "validate",
        "--kind",
        "plan",
        "fixtures/artifacts/valid/gap_report_v1/empty.json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("(plan_proposal_v1)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("missing required field \"actions\""),
        "{}",
        run.stdout
    );
}

#[test]
fn missing_paths_and_unknown_kinds_are_usage_errors() {
    let run = waypost(&["validate", "no/such/file.json"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: no/such/file.json: no such file or folder\n"
    );
    let run = waypost(&["validate", "--kind", "bogus", "fixtures"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown artifact kind `bogus`"),
        "{}",
        run.stderr
    );
    let run = waypost(&["validate"]);
    assert_eq!(run.code, 2, "no paths is a usage error");
}

#[test]
fn an_unreadable_file_exits_two_and_says_why() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("big.json");
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(waypost::schemas::io::MAX_ARTIFACT_BYTES + 1)
        .expect("sparse");
    let run = waypost(&["validate", path.to_str().expect("UTF-8 path")]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("unreadable") && run.stdout.contains("larger than"),
        "{}",
        run.stdout
    );
}
