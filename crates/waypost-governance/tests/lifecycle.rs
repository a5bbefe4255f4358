//! CONTRACT-001..006 and JOB-001..005: state machines, history, services.

use proptest::prelude::*;
use serde_json::json;
use waypost_governance::{
    ActivationError, Contract, ContractError, HistoryError, Job, JobError,
    STEP_TIMEOUT_CAP_SECONDS, activate, collect_audit_evidence, load_contract, load_job,
    plan_steps, store_contract, store_job, verify_history,
};
use waypost_schemas::{
    AuditVerdict, Clock, ContractStatus, Excerpt, HealthSnapshot, JobStatus, ProposedChange,
    RunLayout, StepStatus, Timestamp,
};

fn at(minute: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_767_225_600 + 60 * minute).expect("in range")
}

fn changes() -> Vec<ProposedChange> {
    vec![
        ProposedChange {
            change_id: "c1".into(),
            description: "fix a link".into(),
            target_paths: vec!["README.md".into()],
            changed_lines: 1,
        },
        ProposedChange {
            change_id: "c2".into(),
            description: "restore CI".into(),
            target_paths: vec![".github/workflows/ci.yml".into()],
            changed_lines: 12,
        },
    ]
}

fn approved() -> Contract {
    let mut c = Contract::draft("contract-1", changes(), at(0), "planner");
    c.validate(at(1), "governance").expect("validate");
    c.make_eligible(at(2), "governance").expect("eligible");
    c.approve("alice", at(3)).expect("approve");
    c
}

fn evidence(text: &str) -> Vec<Excerpt> {
    vec![Excerpt::new("step.log", text)]
}

fn health(passing: u64) -> HealthSnapshot {
    serde_json::from_value(
        json!({"observed_at": "2026-01-01T00:00:00Z", "signals": {"tests_passing": passing}}),
    )
    .expect("health")
}

/// A job run to completion, and its contract.
fn finished() -> (Contract, Job) {
    let mut contract = approved();
    let mut job = activate(&mut contract, "job-1", at(4), "governance").expect("activate");
    job.start(at(5), "runner").expect("start");
    for i in 0..2 {
        job.start_step(i, at(6), "runner").expect("start step");
        job.finish_step(i, StepStatus::Completed, evidence("done"), at(7), "runner")
            .expect("finish step");
    }
    job.complete(at(8), "runner").expect("complete");
    (contract, job)
}

#[test]
fn a_contract_goes_from_draft_to_completed_with_a_passing_audit() {
    let (mut contract, job) = finished();
    assert_eq!(contract.status(), ContractStatus::Active);
    assert_eq!(contract.snapshot().job_id.as_deref(), Some("job-1"));
    contract
        .complete(Some(AuditVerdict::Pass), at(9), "auditor")
        .expect("complete");
    assert_eq!(contract.status(), ContractStatus::Completed);
    assert_eq!(job.status(), JobStatus::Completed);
    let states: Vec<&str> = contract
        .snapshot()
        .history
        .iter()
        .map(|e| e.to.as_str())
        .collect();
    assert_eq!(
        states,
        [
            "draft",
            "validated",
            "eligible",
            "approved",
            "active",
            "completed"
        ]
    );
    verify_history(&contract.snapshot().history).expect("chain verifies");
    verify_history(&job.snapshot().history).expect("chain verifies");
}

#[test]
fn contract_001_terminal_states_are_immutable() {
    let mut completed = finished().0;
    completed
        .complete(Some(AuditVerdict::Pass), at(9), "auditor")
        .expect("complete");
    let mut rejected = Contract::draft("c-r", changes(), at(0), "p");
    rejected
        .reject("not needed", at(1), "alice")
        .expect("reject");
    let mut expired = Contract::draft("c-e", changes(), at(0), "p");
    expired.expire(at(1), "clock").expect("expire");
    let mut failed = approved();
    failed.fail("job crashed", at(5), "runner").expect("fail");
    for mut c in [completed, rejected, expired, failed] {
        let before = c.clone();
        let attempts = [
            c.clone().validate(at(10), "x"),
            c.clone().make_eligible(at(10), "x"),
            c.clone().approve("", at(10)),
            c.clone().activate("", at(10), "x"),
            c.clone().complete(None, at(10), "x"),
            c.clone().reject("again", at(10), "x"),
            c.clone().expire(at(10), "x"),
            c.fail("again", at(10), "x"),
        ];
        for attempt in attempts {
            assert!(
                matches!(attempt, Err(ContractError::Terminal { .. })),
                "{:?}: {attempt:?}",
                before.status()
            );
        }
        assert_eq!(c, before, "nothing changed");
    }
}

#[test]
fn contract_002_only_documented_transitions_exist() {
    let mut c = Contract::draft("c", changes(), at(0), "p");
    let err = c
        .approve("alice", at(1))
        .expect_err("draft cannot be approved");
    assert!(
        matches!(
            err,
            ContractError::InvalidTransition {
                from: "draft",
                to: "approved",
                ..
            }
        ),
        "{err}"
    );
    let err = c
        .activate("job", at(1), "x")
        .expect_err("draft cannot be active");
    assert!(
        matches!(err, ContractError::InvalidTransition { .. }),
        "{err}"
    );
    let err = c.fail("x", at(1), "x").expect_err("draft cannot fail");
    assert!(
        matches!(err, ContractError::InvalidTransition { .. }),
        "{err}"
    );
    let mut active = finished().0;
    assert!(matches!(
        active.reject("late", at(9), "x"),
        Err(ContractError::InvalidTransition { .. })
    ));
}

#[test]
fn contract_003_approval_names_the_approver() {
    let mut c = Contract::draft("c", changes(), at(0), "p");
    c.validate(at(1), "g").expect("validate");
    c.make_eligible(at(2), "g").expect("eligible");
    assert!(matches!(
        c.approve("  ", at(3)),
        Err(ContractError::MissingApprover { .. })
    ));
    assert_eq!(c.status(), ContractStatus::Eligible);
}

#[test]
fn contract_004_activation_needs_a_job() {
    let mut c = approved();
    assert!(matches!(
        c.activate("", at(4), "g"),
        Err(ContractError::MissingJob { .. })
    ));
    assert_eq!(c.status(), ContractStatus::Approved);
}

#[test]
fn contract_005_completion_needs_a_passing_audit() {
    let mut c = finished().0;
    assert!(matches!(
        c.complete(None, at(9), "a"),
        Err(ContractError::AuditNotPassed { verdict: None, .. })
    ));
    let err = c
        .complete(Some(AuditVerdict::Fail), at(9), "a")
        .expect_err("fail verdict");
    assert!(
        err.to_string().contains("the audit verdict is fail"),
        "{err}"
    );
    assert_eq!(c.status(), ContractStatus::Active);
    c.fail("audit failed", at(9), "auditor")
        .expect("a failed audit fails the contract");
}

#[test]
fn a_draft_expires_after_its_time() {
    let ttl = waypost_governance::DEFAULT_DRAFT_TTL;
    let mut c = Contract::draft("c", changes(), at(0), "p");
    assert!(
        !c.expire_if_stale(at(71 * 60), ttl, "clock")
            .expect("not yet")
    );
    assert_eq!(c.status(), ContractStatus::Draft);
    assert!(
        c.expire_if_stale(at(72 * 60), ttl, "clock")
            .expect("expired")
    );
    assert_eq!(c.status(), ContractStatus::Expired);
    let mut short = Contract::draft("c2", changes(), at(0), "p");
    assert!(
        short
            .expire_if_stale(at(2), std::time::Duration::from_secs(60), "clock")
            .expect("configurable")
    );
    let mut validated = Contract::draft("c3", changes(), at(0), "p");
    validated.validate(at(1), "g").expect("validate");
    assert!(
        !validated
            .expire_if_stale(at(100 * 60), ttl, "clock")
            .expect("only drafts expire by age")
    );
}

#[test]
fn contract_006_history_tampering_is_detected() {
    let (contract, _) = finished();
    let history = contract.snapshot().history.clone();
    verify_history(&history).expect("untouched");
    let mut edited = history.clone();
    edited[2].actor = "mallory".into();
    assert_eq!(
        verify_history(&edited),
        Err(HistoryError::Hash { index: 2 })
    );
    let mut deleted = history.clone();
    deleted.remove(1);
    assert!(matches!(
        verify_history(&deleted),
        Err(HistoryError::Sequence { index: 1, .. })
    ));
    let mut reordered = history.clone();
    reordered.swap(1, 2);
    assert!(verify_history(&reordered).is_err());
    // A forged entry with a fresh hash but the wrong link.
    let mut forged = history.clone();
    let last = forged.len() - 1;
    forged[last] = waypost_schemas::HistoryEntry::chained(
        last as u64,
        Some("approved"),
        "active",
        at(4),
        "mallory",
        None,
        waypost_schemas::GENESIS_HASH,
    );
    assert_eq!(
        verify_history(&forged),
        Err(HistoryError::Link { index: last })
    );
    let mut snapshot = contract.snapshot().clone();
    snapshot.history = edited;
    assert!(matches!(
        Contract::from_snapshot(snapshot),
        Err(ContractError::History { .. })
    ));
}

#[test]
fn job_001_a_job_requires_a_contract() {
    let err = Job::new("job-x", "", plan_steps(&changes()), at(0), "g").expect_err("orphan");
    assert!(matches!(err, JobError::Orphan { .. }), "{err}");
    let mut snapshot = finished().1.snapshot().clone();
    snapshot.contract_id = " ".into();
    assert!(matches!(
        Job::from_snapshot(snapshot),
        Err(JobError::Orphan { .. })
    ));
}

#[test]
fn job_002_steps_execute_in_index_order() {
    let mut contract = approved();
    let mut job = activate(&mut contract, "job-1", at(4), "g").expect("activate");
    assert!(
        job.start_step(0, at(5), "r").is_err(),
        "not before the job runs"
    );
    job.start(at(5), "r").expect("start");
    let err = job
        .start_step(1, at(6), "r")
        .expect_err("step 1 before step 0");
    assert!(
        matches!(
            err,
            JobError::OutOfOrder {
                index: 1,
                expected: 0,
                ..
            }
        ),
        "{err}"
    );
    job.start_step(0, at(6), "r").expect("step 0");
    assert!(
        job.start_step(1, at(6), "r").is_err(),
        "not while step 0 runs"
    );
    job.finish_step(0, StepStatus::Failed, evidence("exit 1"), at(7), "r")
        .expect("finish");
    job.skip_step(1, evidence("skipped: step 0 failed"), at(7), "r")
        .expect("skip the next one");
    assert_eq!(job.completion().failed, 1);
    assert!(
        matches!(job.complete(at(8), "r"), Err(JobError::Incomplete { .. })),
        "a failed step blocks completion"
    );
    job.fail("step 0 failed", at(8), "r").expect("fail");
}

#[test]
fn job_003_terminal_states_are_immutable() {
    let (_, completed) = finished();
    let mut cancelled = Job::new("j2", "c", plan_steps(&changes()), at(0), "g").expect("job");
    cancelled
        .cancel("not needed", at(1), "alice")
        .expect("cancel");
    let mut failed = Job::new("j3", "c", plan_steps(&changes()), at(0), "g").expect("job");
    failed.start(at(1), "r").expect("start");
    failed.fail("crash", at(2), "r").expect("fail");
    for job in [completed, cancelled, failed] {
        let before = job.clone();
        let attempts = [
            job.clone().start(at(10), "x"),
            job.clone().start_step(0, at(10), "x"),
            job.clone()
                .finish_step(0, StepStatus::Completed, evidence("x"), at(10), "x"),
            job.clone().skip_step(0, evidence("x"), at(10), "x"),
            job.clone().complete(at(10), "x"),
            job.clone().fail("x", at(10), "x"),
            job.clone().cancel("x", at(10), "x"),
        ];
        for attempt in attempts {
            assert!(
                matches!(attempt, Err(JobError::Terminal { .. })),
                "{:?}: {attempt:?}",
                before.status()
            );
        }
    }
}

#[test]
fn job_004_evidence_is_recorded_per_step() {
    let mut contract = approved();
    let mut job = activate(&mut contract, "job-1", at(4), "g").expect("activate");
    job.start(at(5), "r").expect("start");
    job.start_step(0, at(6), "r").expect("start step");
    let err = job
        .finish_step(0, StepStatus::Completed, Vec::new(), at(7), "r")
        .expect_err("no evidence");
    assert!(
        matches!(err, JobError::MissingEvidence { index: 0, .. }),
        "{err}"
    );
    job.finish_step(
        0,
        StepStatus::Completed,
        evidence("1 line changed"),
        at(7),
        "r",
    )
    .expect("with evidence");
    let result = job.snapshot().steps[0].result.as_ref().expect("result");
    assert_eq!(result.evidence[0].preview(), "1 line changed");
    assert!(matches!(
        job.skip_step(1, Vec::new(), at(8), "r"),
        Err(JobError::MissingEvidence { .. })
    ));
}

#[test]
fn job_005_health_snapshots_are_read_only_observations() {
    let (_, mut job) = finished();
    let status = job.status();
    let steps = job.snapshot().steps.clone();
    let history = job.snapshot().history.len();
    job.record_health_before(health(120)).expect("before");
    job.record_health_after(health(121))
        .expect("after, on a finished job");
    assert_eq!(
        (
            job.status(),
            &job.snapshot().steps,
            job.snapshot().history.len()
        ),
        (status, &steps, history),
        "an observation changes nothing else"
    );
    assert!(matches!(
        job.record_health_after(health(99)),
        Err(JobError::HealthAlreadyRecorded { which: "after", .. })
    ));
    assert_eq!(job.snapshot().health_after, Some(health(121)));
}

#[test]
fn activation_derives_steps_only_from_the_contract() {
    let mut contract = Contract::draft("c", changes(), at(0), "p");
    assert!(
        matches!(
            activate(&mut contract, "job", at(1), "g"),
            Err(ActivationError::Contract(_))
        ),
        "only approved contracts"
    );
    let mut contract = approved();
    let job = activate(&mut contract, "job-1", at(4), "g").expect("activate");
    let steps = &job.snapshot().steps;
    assert_eq!(
        steps
            .iter()
            .map(|s| s.change_id.as_str())
            .collect::<Vec<_>>(),
        ["c1", "c2"]
    );
    assert_eq!(
        steps.iter().map(|s| s.timeout_seconds).collect::<Vec<_>>(),
        [62, 84]
    );
    assert!(
        steps
            .iter()
            .all(|s| s.status == StepStatus::Pending && s.result.is_none()),
        "nothing ran"
    );
    assert_eq!(job.snapshot().contract_id, "contract-1");
    assert_eq!(contract.status(), ContractStatus::Active);
    let huge = plan_steps(&[ProposedChange {
        change_id: "big".into(),
        description: "rewrite".into(),
        target_paths: vec![],
        changed_lines: 100_000,
    }]);
    assert_eq!(huge[0].timeout_seconds, STEP_TIMEOUT_CAP_SECONDS);
}

#[test]
fn audit_evidence_packages_the_job_without_a_verdict() {
    let (_, mut job) = finished();
    job.record_health_before(health(120)).expect("before");
    job.record_health_after(health(121)).expect("after");
    let evidence = collect_audit_evidence(&job, at(10));
    assert_eq!(
        (
            evidence.job_id.as_str(),
            evidence.contract_id.as_str(),
            evidence.status
        ),
        ("job-1", "contract-1", JobStatus::Completed)
    );
    assert_eq!(evidence.steps, job.snapshot().steps);
    assert_eq!(
        evidence.duration_seconds, 60,
        "first step start to last step end"
    );
    assert_eq!(evidence.health_after, Some(health(121)));
    let json = serde_json::to_value(&evidence).expect("serialize");
    assert!(
        json.get("verdict").is_none() && json.get("audit_verdict").is_none(),
        "evidence only"
    );
    waypost_schemas::validate::validate_artifact(&evidence).expect("valid artifact");
}

#[test]
fn snapshots_are_stored_in_the_run_and_verified_on_load() {
    let dir = tempfile::tempdir().expect("temp");
    let layout = RunLayout::new(dir.path(), "demo", "run-20260101T000000Z").expect("layout");
    let (contract, job) = finished();
    store_contract(&layout, &contract).expect("store contract");
    store_job(&layout, &job).expect("store job");
    assert_eq!(
        load_contract(&layout, "contract-1").expect("load"),
        contract
    );
    assert_eq!(load_job(&layout, "job-1").expect("load"), job);
    // Fields outside the chain cannot be edited either: a forged approver
    // or status is refused on load.
    let path = layout.contract_snapshot("contract-1").expect("path");
    let original = std::fs::read_to_string(&path).expect("read");
    let forged = original.replacen(
        "\"approved_by\": \"alice\"",
        "\"approved_by\": \"mallory\"",
        1,
    );
    assert_ne!(forged, original);
    std::fs::write(&path, &forged).expect("tamper");
    let err = load_contract(&layout, "contract-1").expect_err("forged approver");
    assert!(
        err.to_string().contains("disagrees with its history"),
        "{err}"
    );
    let forged = original.replacen("\"status\": \"active\"", "\"status\": \"completed\"", 1);
    assert_ne!(forged, original);
    std::fs::write(&path, &forged).expect("tamper");
    assert!(
        load_contract(&layout, "contract-1").is_err(),
        "forged status"
    );
    let job_path = layout.job_snapshot("job-1").expect("path");
    let job_text = std::fs::read_to_string(&job_path).expect("read");
    let forged = job_text.replacen("\"status\": \"completed\"", "\"status\": \"failed\"", 1);
    assert_ne!(forged, job_text);
    std::fs::write(&job_path, &forged).expect("tamper");
    assert!(load_job(&layout, "job-1").is_err(), "forged job status");
    let _ = Clock::System;
}

#[derive(Clone, Debug)]
enum Op {
    Validate,
    Eligible,
    Approve,
    Activate,
    Complete(bool),
    Reject,
    Expire,
    Fail,
    Start,
    StartStep(u32),
    FinishStep(u32, bool),
    SkipStep(u32),
    JobComplete,
    JobFail,
    Cancel,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Validate),
        Just(Op::Eligible),
        Just(Op::Approve),
        Just(Op::Activate),
        any::<bool>().prop_map(Op::Complete),
        Just(Op::Reject),
        Just(Op::Expire),
        Just(Op::Fail),
        Just(Op::Start),
        (0u32..3).prop_map(Op::StartStep),
        (0u32..3, any::<bool>()).prop_map(|(i, ok)| Op::FinishStep(i, ok)),
        (0u32..3).prop_map(Op::SkipStep),
        Just(Op::JobComplete),
        Just(Op::JobFail),
        Just(Op::Cancel),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// No sequence of operations leaves a terminal state, skips a step, or
    /// breaks a history.
    #[test]
    fn no_sequence_leaves_a_terminal_state_or_skips_a_step(ops in prop::collection::vec(op(), 0..40)) {
        let mut contract = Contract::draft("c", changes(), at(0), "p");
        let mut job = Job::new("j", "c", plan_steps(&changes()), at(0), "g").expect("job");
        let mut contract_terminal: Option<ContractStatus> = None;
        let mut job_terminal: Option<JobStatus> = None;
        let mut started: Vec<u32> = Vec::new();
        for (i, op) in ops.into_iter().enumerate() {
            let t = at(i as i64 + 1);
            match op {
                Op::Validate => { let _ = contract.validate(t, "x"); }
                Op::Eligible => { let _ = contract.make_eligible(t, "x"); }
                Op::Approve => { let _ = contract.approve("alice", t); }
                Op::Activate => { let _ = contract.activate("j", t, "x"); }
                Op::Complete(pass) => { let _ = contract.complete(pass.then_some(AuditVerdict::Pass), t, "x"); }
                Op::Reject => { let _ = contract.reject("r", t, "x"); }
                Op::Expire => { let _ = contract.expire(t, "x"); }
                Op::Fail => { let _ = contract.fail("f", t, "x"); }
                Op::Start => { let _ = job.start(t, "x"); }
                Op::StartStep(s) => { if job.start_step(s, t, "x").is_ok() { started.push(s); } }
                Op::FinishStep(s, ok) => { let _ = job.finish_step(s, if ok { StepStatus::Completed } else { StepStatus::Failed }, evidence("e"), t, "x"); }
                Op::SkipStep(s) => { if job.skip_step(s, evidence("e"), t, "x").is_ok() { started.push(s); } }
                Op::JobComplete => { let _ = job.complete(t, "x"); }
                Op::JobFail => { let _ = job.fail("f", t, "x"); }
                Op::Cancel => { let _ = job.cancel("c", t, "x"); }
            }
            if let Some(terminal) = contract_terminal { prop_assert_eq!(contract.status(), terminal); }
            if contract.status().is_terminal() { contract_terminal = Some(contract.status()); }
            if let Some(terminal) = job_terminal { prop_assert_eq!(job.status(), terminal); }
            if job.status().is_terminal() { job_terminal = Some(job.status()); }
        }
        // Steps were entered in index order, each once.
        let expected: Vec<u32> = (0..started.len() as u32).collect();
        prop_assert_eq!(started, expected);
        prop_assert!(verify_history(&contract.snapshot().history).is_ok());
        prop_assert!(verify_history(&job.snapshot().history).is_ok());
    }
}
