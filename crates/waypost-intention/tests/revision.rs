//! ANCHOR-003: revisions apply only with a human's approval of that exact change.

use waypost_intention::{AnchorRevisionProposal, RevisionError, apply_revision, load_anchor};
use waypost_schemas::{ApprovalRecordV1, Clock, RiskTolerance};

use crate::support::{CLOCK, complete_toml};

/// A proposal to lower the risk tolerance, against the file at `path`.
fn propose(path: &std::path::Path) -> AnchorRevisionProposal {
    let base = load_anchor(path, &CLOCK).expect("load").anchor;
    let mut revised = base.clone();
    revised
        .pivot_intentions
        .safety_risk
        .as_mut()
        .expect("safety")
        .risk_tolerance = Some(RiskTolerance::Minimal);
    AnchorRevisionProposal::between(
        &base,
        &revised,
        "three risky changes failed last week",
        vec!["run scan-20260101T000000Z".into()],
    )
}

fn approval(proposal: &AnchorRevisionProposal, channel: &str) -> ApprovalRecordV1 {
    let mut record: ApprovalRecordV1 = serde_json::from_value(serde_json::json!({
        "format_version": "v1",
        "action_id": proposal.proposal_id(),
        "action_sha256": proposal.content_sha256(),
        "approver": "alice",
        "channel": channel,
        "approved_at": "2026-01-02T00:00:00Z"
    }))
    .expect("record");
    record.comment = Some("ok".into());
    record
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("intention.toml");
    std::fs::write(&path, complete_toml()).expect("write");
    (dir, path)
}

#[test]
fn anchor_003_a_revision_without_approval_is_refused_and_the_file_untouched() {
    let (_dir, path) = setup();
    let before = std::fs::read(&path).expect("read");
    let proposal = propose(&path);
    assert_eq!(proposal.changes.len(), 1);
    assert_eq!(
        proposal.changes[0].field,
        "/pivot_intentions/safety_risk/risk_tolerance"
    );
    let err = apply_revision(&path, &proposal, None, &CLOCK).expect_err("no approval");
    assert!(matches!(err, RevisionError::NotApproved { .. }), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), before);
}

#[test]
fn anchor_003_an_approval_of_something_else_or_through_another_channel_does_not_count() {
    let (_dir, path) = setup();
    let before = std::fs::read(&path).expect("read");
    let proposal = propose(&path);
    let mut widened = proposal.clone();
    widened.reason.push_str(" (edited after approval)");
    let err = apply_revision(&path, &widened, Some(&approval(&proposal, "cli")), &CLOCK)
        .expect_err("stale");
    assert!(
        matches!(err, RevisionError::ApprovalMismatch { .. }),
        "{err}"
    );
    let err = apply_revision(
        &path,
        &proposal,
        Some(&approval(&proposal, "telegram")),
        &CLOCK,
    )
    .expect_err("channel");
    assert!(
        matches!(err, RevisionError::ChannelNotAllowed { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("accepts cli"), "{err}");
    assert_eq!(std::fs::read(&path).expect("read"), before);
}

#[test]
fn a_revision_of_an_anchor_that_changed_since_is_refused() {
    let (_dir, path) = setup();
    let proposal = propose(&path);
    std::fs::write(
        &path,
        complete_toml().replace("token_cap_global = 200000", "token_cap_global = 100000"),
    )
    .expect("human edits");
    let err = apply_revision(&path, &proposal, Some(&approval(&proposal, "cli")), &CLOCK)
        .expect_err("base changed");
    assert!(matches!(err, RevisionError::BaseChanged { .. }), "{err}");
}

#[test]
fn an_approved_revision_edits_the_toml_in_place_keeping_comments() {
    let (_dir, path) = setup();
    let proposal = propose(&path);
    let later = Clock::Fixed(1_767_312_000);
    let revised = apply_revision(&path, &proposal, Some(&approval(&proposal, "cli")), &later)
        .expect("applied");
    assert_eq!(
        revised
            .pivot_intentions
            .safety_risk
            .as_ref()
            .and_then(|s| s.risk_tolerance),
        Some(RiskTolerance::Minimal)
    );
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("risk_tolerance = \"minimal\""), "{text}");
    assert!(
        text.contains("# Commands or path globs an agent must never touch."),
        "comments kept"
    );
    assert!(
        text.contains("updated_at = \"2026-01-02T00:00:00Z\""),
        "{text}"
    );
    assert_ne!(revised.anchor_id(), proposal.base_anchor_id);
}

#[test]
fn a_revision_that_would_make_the_anchor_invalid_is_refused() {
    let (_dir, path) = setup();
    let before = std::fs::read(&path).expect("read");
    let base = load_anchor(&path, &CLOCK).expect("load").anchor;
    let mut proposal = propose(&path);
    proposal.changes[0].after = Some(serde_json::json!("reckless"));
    proposal.base_anchor_id = base.anchor_id();
    let err = apply_revision(&path, &proposal, Some(&approval(&proposal, "cli")), &CLOCK)
        .expect_err("invalid");
    assert!(matches!(err, RevisionError::Anchor(_)), "{err}");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "nothing written"
    );
}
