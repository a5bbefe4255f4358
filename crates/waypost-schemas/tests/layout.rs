//! Run paths are built in one place and no id escapes the run directory.

use std::path::Path;

use waypost_schemas::RunLayout;
use waypost_schemas::layout::{IdKind, TaskFile, check_id, family_of, new_run_id};

#[test]
fn the_layout_is_the_documented_one() {
    let layout = RunLayout::new("/repo", "demo", "scan-20261121T083800Z").expect("valid ids");
    assert_eq!(layout.family(), "scan");
    let run = Path::new("/repo/.autonomous_runs/demo/runs/scan/scan-20261121T083800Z");
    assert_eq!(layout.run_dir(), run);
    assert_eq!(
        layout.intention_anchor(),
        run.join("intention/intention_anchor_v2.json")
    );
    assert_eq!(layout.gap_report(), run.join("gaps/gap_report_v1.json"));
    assert_eq!(
        layout.plan_proposal(),
        run.join("plans/plan_proposal_v1.json")
    );
    assert_eq!(
        layout.autopilot_session(),
        run.join("autonomy/autopilot_session_v1.json")
    );
    assert_eq!(
        layout
            .approval("action-0123456789abcdef01234567")
            .expect("id"),
        run.join("approvals/action-0123456789abcdef01234567.json")
    );
    assert_eq!(
        layout.pilot_decision("batch-1").expect("id"),
        run.join("pilot/batch-1.json")
    );
    assert_eq!(
        layout.proof("phase.build").expect("id"),
        run.join("proofs/phase.build.json")
    );
    assert_eq!(
        layout
            .task_file("api-1", TaskFile::VerificationLog)
            .expect("key"),
        run.join("tasks/api-1/verification.log")
    );
    assert_eq!(
        layout.task_file("api-1", TaskFile::QaVerdict).expect("key"),
        run.join("tasks/api-1/qa_verdict.md")
    );
    assert_eq!(
        layout.task_file("api-1", TaskFile::Summary).expect("key"),
        run.join("tasks/api-1/summary.md")
    );
    assert_eq!(layout.learnings(), run.join("logs/learnings.md"));
}

#[test]
fn families_strip_only_a_timestamp_suffix() {
    for (run, family) in [
        ("scan-20261121T083800Z", "scan"),
        ("nightly-tidy-20261121-083800", "nightly-tidy"),
        ("build-20261121083800", "build"),
        ("build-20261121T083800Z-a1", "build"),
        ("adhoc", "adhoc"),
        ("release-2026", "release-2026"),
        ("20261121T083800Z", "20261121T083800Z"),
    ] {
        assert_eq!(family_of(run), family, "{run}");
    }
    let layout =
        RunLayout::with_family("/r", "demo", "custom", "scan-20261121T083800Z").expect("ids");
    assert!(
        layout
            .run_dir()
            .ends_with("runs/custom/scan-20261121T083800Z")
    );
}

#[test]
fn new_run_ids_carry_a_utc_stamp_and_map_back_to_their_family() {
    let at = waypost_schemas::Timestamp::parse("2026-11-21T09:38:00+01:00").expect("ts");
    let id = new_run_id("scan", &at).expect("id");
    assert_eq!(id, "scan-20261121T083800Z");
    assert_eq!(family_of(&id), "scan");
}

#[test]
fn schema_004_hostile_ids_are_refused_with_a_clear_reason() {
    let long = "x".repeat(129);
    for (bad, problem) in [
        ("", "is empty"),
        ("..", "contains `..`"),
        ("a..b", "contains `..`"),
        ("../etc", "contains a path separator"),
        ("a/b", "contains a path separator"),
        ("a\\b", "contains a path separator"),
        ("a\0b", "contains a NUL byte"),
        (".hidden", "starts with `.` or `-`"),
        ("-rf", "starts with `.` or `-`"),
        ("with space", "outside A-Z"),
        ("caf\u{e9}", "outside A-Z"),
        ("semi;colon", "outside A-Z"),
        (long.as_str(), "is too long"),
    ] {
        let err = check_id(IdKind::Run, bad).expect_err(bad);
        let text = err.to_string();
        assert!(
            text.contains("invalid run id") && text.contains(problem),
            "{bad:?}: {text}"
        );
        assert!(
            RunLayout::new("/r", bad, "run-1").is_err(),
            "project {bad:?}"
        );
        assert!(RunLayout::new("/r", "demo", bad).is_err(), "run {bad:?}");
    }
    let layout = RunLayout::new("/r", "demo", "run-1").expect("valid");
    assert!(layout.approval("../../../etc/passwd").is_err());
    assert!(layout.pilot_decision("..").is_err());
    assert!(
        layout
            .task_file("../../.github", TaskFile::Summary)
            .is_err()
    );
    assert!(layout.proof("/abs").is_err());
    check_id(IdKind::Project, &"x".repeat(128)).expect("128 characters is the limit");
}

#[test]
fn create_dirs_makes_every_run_directory() {
    let dir = tempfile::tempdir().expect("temp");
    let layout = RunLayout::new(dir.path(), "demo", "scan-20261121T083800Z").expect("ids");
    layout.create_dirs().expect("create");
    for name in [
        "intention",
        "gaps",
        "plans",
        "approvals",
        "autonomy",
        "pilot",
        "tasks",
        "governance",
        "proofs",
        "logs",
    ] {
        assert!(layout.run_dir().join(name).is_dir(), "{name}");
    }
}
