//! POLICY-004: approvals count only for the action as approved, through an
//! accepted channel; they are stored run-local.

use waypost_governance::{ApprovalError, approval_is_valid, load_approval, store_approval};
use waypost_schemas::{ActionType, ApprovalRecordV1, ApprovalStatus, Clock, PlanAction, RunLayout};

use crate::support::{base_anchor, policy_of};

fn plan_action() -> PlanAction {
    let mut action: PlanAction = serde_json::from_value(serde_json::json!({
        "action_id": "",
        "action_type": "config_update",
        "target_gap_ids": ["gap-1"],
        "risk_score": 0.4,
        "approval_status": "requires_approval",
        "target_paths": [".github/workflows/ci.yml"],
        "estimated_changed_lines": 3
    }))
    .expect("action");
    action.action_id = action.derive_action_id();
    action
}

fn record(action: &PlanAction, channel: &str) -> ApprovalRecordV1 {
    ApprovalRecordV1::approve(action, "alice", channel, Clock::Fixed(1_767_225_600).now())
}

#[test]
fn policy_004_a_matching_approval_through_an_accepted_channel_counts() {
    let policy = policy_of(&base_anchor());
    let action = plan_action();
    approval_is_valid(&record(&action, "pr"), &action, &policy).expect("valid");
}

#[test]
fn policy_004_a_changed_action_needs_a_new_approval() {
    let policy = policy_of(&base_anchor());
    let action = plan_action();
    let approval = record(&action, "cli");
    let mut widened = action.clone();
    widened
        .target_paths
        .push(".github/workflows/release.yml".into());
    let err = approval_is_valid(&approval, &widened, &policy).expect_err("changed");
    assert!(matches!(err, ApprovalError::ActionChanged { .. }), "{err}");
    // The verdict fields are not content: re-classifying keeps the approval.
    let mut reclassified = action.clone();
    reclassified.approval_status = ApprovalStatus::Blocked;
    approval_is_valid(&approval, &reclassified, &policy).expect("same content");
}

#[test]
fn policy_004_another_action_or_channel_does_not_count() {
    let policy = policy_of(&base_anchor());
    let action = plan_action();
    let mut other = action.clone();
    other.action_type = ActionType::DocUpdate;
    other.action_id = other.derive_action_id();
    let err = approval_is_valid(&record(&other, "cli"), &action, &policy).expect_err("other");
    assert!(
        matches!(err, ApprovalError::ForAnotherAction { .. }),
        "{err}"
    );
    let err =
        approval_is_valid(&record(&action, "telegram"), &action, &policy).expect_err("channel");
    assert!(
        matches!(err, ApprovalError::ChannelNotAllowed { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("accepts cli, pr"), "{err}");
}

#[test]
fn approvals_are_stored_in_the_run_and_read_back() {
    let dir = tempfile::tempdir().expect("temp");
    let layout = RunLayout::new(dir.path(), "demo", "plan-20260101T000000Z").expect("layout");
    let action = plan_action();
    assert!(
        load_approval(&layout, &action.action_id)
            .expect("none yet")
            .is_none()
    );
    let path = store_approval(&layout, &record(&action, "pr")).expect("stored");
    assert_eq!(path, layout.approval(&action.action_id).expect("path"));
    assert!(path.starts_with(layout.run_dir().join("approvals")));
    let back = load_approval(&layout, &action.action_id)
        .expect("read")
        .expect("present");
    approval_is_valid(&back, &action, &policy_of(&base_anchor())).expect("still valid");
    assert!(
        load_approval(&layout, "../escape").is_err(),
        "ids are checked"
    );
}
