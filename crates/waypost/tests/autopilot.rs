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
    let repo = TestRepo::new();
    repo.write(
        "intention.toml",
        r#"project_id = "demo"
[scope_boundaries]
allowed_write_roots = ["README.md", "docs/"]
[governance_review]
approval_channels = ["cli"]
[[governance_review.auto_approve_rules]]
rule_id = "links"
description = "Moved links"
criteria = { action_types = ["doc_update"], path_globs = ["*.md", "docs/**"], max_changed_lines = 5, max_risk_score = 0.3 }
"#,
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
