//! The autopilot judges completion on evidence: an executor's word does
//! not make an action succeed, and an embedder's executor runs only what
//! the policy cleared.

use std::path::Path;
use std::sync::Mutex;

use waypost::autopilot::{Autopilot, AutopilotConfig, ExecuteError, Executor};
use waypost::schemas::{ActionOutcome, ActionType, Clock, PlanAction, SessionStatus};
use waypost_test_support::TestRepo;

/// Claims to have done every doc update, and does nothing.
struct Liar(Mutex<Vec<String>>);

impl Executor for Liar {
    fn name(&self) -> &str {
        "test:liar"
    }
    fn handles(&self, action: &PlanAction) -> bool {
        action.action_type == ActionType::DocUpdate
    }
    fn execute(&self, _root: &Path, action: &PlanAction) -> Result<String, ExecuteError> {
        self.0.lock().expect("lock").push(action.action_id.clone());
        Ok("rewrote the link, trust me".to_owned())
    }
}

fn repo() -> TestRepo {
    repo_with("", "")
}

/// A repository with a README link to a doc that moved, and an anchor that
/// auto-approves moved links; `memory` and `rules` are added to it.
fn repo_with(memory: &str, rules: &str) -> TestRepo {
    let repo = TestRepo::new();
    repo.write(
        "intention.toml",
        &format!(
            r#"project_id = "demo"
[scope_boundaries]
allowed_write_roots = ["README.md", "docs/"]
{memory}[governance_review]
approval_channels = ["cli"]
[[governance_review.auto_approve_rules]]
rule_id = "links"
description = "Moved links"
criteria = {{ action_types = ["doc_update"], path_globs = ["*.md", "docs/**"], max_changed_lines = 5, max_risk_score = 0.3 }}
{rules}"#
        ),
    )
    .write(".gitignore", ".autonomous_runs/\n")
    .write("docs/guide.md", "# Guide\n")
    .write("README.md", "# demo\n\nSee [the guide](guide.md).\n")
    .commit_all("init");
    repo
}

#[test]
fn an_executor_that_claims_success_without_fixing_the_gap_is_recorded_as_failed() {
    let repo = repo();
    let liar = Liar(Mutex::new(Vec::new()));
    let config = AutopilotConfig::new(repo.path())
        .enabled(true)
        .clock(Clock::Fixed(1_767_225_600))
        .with_executor(Box::new(liar));
    let report = Autopilot::new(config).run().expect("the loop runs");
    let session = &report.session;
    assert_eq!(session.status, SessionStatus::Failed);
    let [executed] = session.executed_actions.as_slice() else {
        panic!("one action: {:?}", session.executed_actions)
    };
    assert_eq!(executed.executor, "test:liar");
    assert_eq!(executed.executor_report, "rewrote the link, trust me");
    assert_eq!(executed.outcome, ActionOutcome::Failed);
    assert!(
        !executed.remaining_gap_ids.is_empty(),
        "the rescan still finds the broken link"
    );
    assert_eq!(
        session.execution_summary.as_ref().map(|s| s.failed_actions),
        Some(1)
    );
    let job: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            report
                .run_dir
                .join(format!("governance/job-{}.json", executed.job_id)),
        )
        .expect("job snapshot"),
    )
    .expect("json");
    assert_eq!(
        job["status"], "failed",
        "the job failed although its step completed"
    );
}

#[test]
fn the_built_in_executor_fixes_it_and_the_rescan_agrees() {
    let repo = repo();
    let config = AutopilotConfig::new(repo.path())
        .enabled(true)
        .clock(Clock::Fixed(1_767_225_600));
    let report = Autopilot::new(config).run().expect("the loop runs");
    assert_eq!(report.session.status, SessionStatus::Completed);
    assert_eq!(
        report.session.executed_actions[0].outcome,
        ActionOutcome::Succeeded
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("README.md")).expect("readme"),
        "# demo\n\nSee [the guide](docs/guide.md).\n"
    );
}

#[test]
fn disabled_it_changes_nothing_and_lists_what_it_would_run() {
    let repo = repo();
    let config = AutopilotConfig::new(repo.path()).clock(Clock::Fixed(1_767_225_600));
    let report = Autopilot::new(config).run().expect("the loop runs");
    assert_eq!(report.session.would_execute_action_ids.len(), 1);
    assert!(report.session.executed_actions.is_empty());
    assert!(
        std::fs::read_to_string(repo.path().join("README.md"))
            .expect("readme")
            .contains("(guide.md)")
    );
    assert!(
        report
            .run_dir
            .join("autonomy/autopilot_session_v1.json")
            .is_file()
    );
}

#[test]
fn stages_are_reported_in_order() {
    let repo = repo();
    let seen = std::sync::Arc::new(Mutex::new(Vec::new()));
    let record = std::sync::Arc::clone(&seen);
    let config = AutopilotConfig::new(repo.path())
        .enabled(true)
        .clock(Clock::Fixed(1_767_225_600))
        .on_stage(move |stage| record.lock().expect("lock").push(format!("{stage:?}")));
    Autopilot::new(config).run().expect("the loop runs");
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen[..3], ["Anchor", "Scan", "Propose"]);
    assert!(
        seen[3].starts_with("Execute(\"Point `README.md`"),
        "{seen:?}"
    );
    assert_eq!(seen[4], "Verify");
}

#[test]
fn a_second_autopilot_on_the_same_run_is_refused_naming_the_holder() {
    let repo = repo();
    let first =
        Autopilot::new(AutopilotConfig::new(repo.path()).clock(Clock::Fixed(1_767_225_600)))
            .run()
            .expect("the loop runs");
    let lock = waypost::fences::LockFile::new(first.run_dir.join("autonomy/autopilot.lock"));
    let held = lock
        .try_acquire(&waypost::fences::identity::this_process(Some("test")))
        .expect("lock")
        .expect("free");
    let again = AutopilotConfig::new(repo.path())
        .enabled(true)
        .resume(first.run_id.clone())
        .clock(Clock::Fixed(1_767_225_600));
    let err = Autopilot::new(again).run().expect_err("busy");
    assert!(err.to_string().contains("is being run by pid"), "{err}");
    assert!(
        std::fs::read_to_string(repo.path().join("README.md"))
            .expect("readme")
            .contains("(guide.md)"),
        "nothing ran"
    );
    drop(held);
    let again = AutopilotConfig::new(repo.path())
        .enabled(true)
        .resume(first.run_id)
        .clock(Clock::Fixed(1_767_225_600));
    let report = Autopilot::new(again).run().expect("free again");
    assert_eq!(report.session.executed_actions.len(), 1);
}

/// The repository of [`repo`] with an anchor that asks for memory, and
/// (when `auto` is set) lets the autopilot append to the ledgers.
fn remembering_repo(auto: bool) -> TestRepo {
    let rules = if auto {
        r#"[[governance_review.auto_approve_rules]]
rule_id = "ledgers"
description = "Record runs in the ledgers"
criteria = { action_types = ["tidy_apply"], path_globs = ["docs/ledgers/**"], max_changed_lines = 20, max_risk_score = 0.2 }
"#
    } else {
        ""
    };
    repo_with(
        "[memory_continuity]\npersist_to_sot = [\"build_history\"]\n",
        rules,
    )
}

#[test]
fn what_ran_is_recorded_in_the_ledgers_through_tidy_as_a_governed_action() {
    let repo = remembering_repo(true);
    let config = AutopilotConfig::new(repo.path())
        .enabled(true)
        .clock(Clock::Fixed(1_767_225_600));
    let report = Autopilot::new(config).run().expect("the loop runs");
    let session = &report.session;
    assert_eq!(session.status, SessionStatus::Completed, "{session:#?}");
    let [fix, record] = session.executed_actions.as_slice() else {
        panic!("the fix and the record: {:?}", session.executed_actions)
    };
    assert_eq!(fix.outcome, ActionOutcome::Succeeded);
    assert_eq!(record.executor, "builtin:append_ledger_entries");
    assert_eq!(record.outcome, ActionOutcome::Succeeded, "{record:?}");
    assert!(
        matches!(&record.approval, waypost::schemas::ApprovalBasis::Rule { rule_id } if rule_id == "rule:ledgers"),
        "{:?}",
        record.approval
    );
    assert!(report.run_dir.join(&record.proof).is_file());

    let ledger =
        waypost::ledger::Ledger::new(repo.path(), waypost::ledger::LedgerName::BuildHistory);
    assert!(ledger.verify().expect("verify").is_ok());
    let history = ledger.read().expect("read");
    let runs: Vec<&str> = history
        .entries()
        .iter()
        .map(|e| e.source.run_id.as_str())
        .collect();
    assert!(!runs.is_empty());
    assert!(
        runs.iter().all(|r| *r == report.run_id),
        "only this run: {runs:?}"
    );
    let kinds: Vec<&str> = history.entries().iter().map(|e| e.kind.as_str()).collect();
    assert!(
        kinds.contains(&"autopilot_session_v1") && kinds.contains(&"plan_proposal_v1"),
        "{kinds:?}"
    );

    // Nothing left to fix: nothing ran, so nothing is recorded twice.
    let again = AutopilotConfig::new(repo.path())
        .enabled(true)
        .clock(Clock::Fixed(1_767_225_601));
    let second = Autopilot::new(again).run().expect("the loop runs");
    assert!(second.session.executed_actions.is_empty());
    assert_eq!(ledger.read().expect("read").entries().len(), runs.len());
}

#[test]
fn recording_that_needs_a_person_is_an_approval_request_and_the_ledgers_stay_untouched() {
    let repo = remembering_repo(false);
    let config = AutopilotConfig::new(repo.path())
        .enabled(true)
        .clock(Clock::Fixed(1_767_225_600));
    let report = Autopilot::new(config).run().expect("the loop runs");
    let session = &report.session;
    assert_eq!(session.executed_actions.len(), 1, "only the fix ran");
    assert_eq!(session.status, SessionStatus::BlockedApprovalRequired);
    let [request] = session.approval_requests.as_slice() else {
        panic!("{:?}", session.approval_requests)
    };
    assert!(request.action_id.starts_with("action-ledgers-"));
    assert!(
        request
            .reason
            .contains(&format!("waypost tidy --execute --run {}", report.run_id)),
        "{}",
        request.reason
    );
    assert!(!repo.path().join("docs/ledgers").exists());
}

#[test]
fn the_ledger_executor_refuses_entries_the_action_does_not_name() {
    let repo = remembering_repo(true);
    let run = waypost::schemas::RunLayout::new(repo.path(), "demo", "build-20260101T000000Z")
        .expect("layout");
    repo.write(
        &format!(
            "{}/logs/learnings.md",
            run.run_dir()
                .strip_prefix(repo.path())
                .expect("inside")
                .display()
        ),
        "- a rule nobody approved\n",
    );
    let options = waypost::ledger::TidyOptions {
        allowlist: waypost::ledger::Allowlist::defaults(),
        project: None,
        run: None,
        retention: waypost::ledger::Retention::KeepAll,
        now: waypost::schemas::Timestamp::parse("2026-01-01T00:00:00Z").expect("time"),
    };
    let executor = waypost::autopilot::AppendLedgerEntries::new(options);
    let action: PlanAction = serde_json::from_value(serde_json::json!({
        "action_id": "action-ledgers-0",
        "action_type": "tidy_apply",
        "target_gap_ids": [],
        "risk_score": 0.1,
        "approval_status": "auto_approved",
        "target_paths": ["docs/ledgers/learned_rules.jsonl", "docs/ledgers/learned_rules.md"],
        "evidence": []
    }))
    .expect("action");
    assert!(executor.handles(&action));
    let err = executor
        .execute(repo.path(), &action)
        .expect_err("one entry nobody decided on");
    assert!(err.message.contains("not the 0 the action names"), "{err}");
    assert!(!repo.path().join("docs/ledgers").exists());

    let outside: PlanAction = serde_json::from_value(serde_json::json!({
        "action_id": "action-ledgers-1",
        "action_type": "tidy_apply",
        "target_gap_ids": [],
        "risk_score": 0.1,
        "approval_status": "auto_approved",
        "target_paths": ["src/lib.rs"]
    }))
    .expect("action");
    assert!(!executor.handles(&outside));
}
