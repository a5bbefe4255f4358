//! The gate pilot: task graph batching, context assembly from the run
//! directory, the heuristic advisor, validation of decisions, fallback and
//! run-local records.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use tempfile::TempDir;
use waypost_governance::{Budget, Spend};
use waypost_planning::pilot::{
    Advisor, AdvisorError, Applied, DecisionError, FailedTask, HeuristicAdvisor, LogText,
    NotCalled, Pilot, PilotConfig, PilotContext, PilotOutcome, RetryBudget, RetryLimits, TaskGraph,
    TaskSpec, analyse, classify_log, cut_middle, heuristic_decision, read_log, validate,
};
use waypost_schemas::layout::TaskFile;
use waypost_schemas::paths::RepoPath;
use waypost_schemas::{
    DecisionSource, FailureClass, IntentionAnchorV2, PilotDecisionV1, RetryAction, RunLayout,
    SkippedTask, Timestamp,
};

fn at() -> Timestamp {
    Timestamp::parse("2026-01-01T00:00:00Z").expect("literal")
}

fn keys(list: &[&str]) -> Vec<String> {
    list.iter().map(|k| (*k).to_owned()).collect()
}

fn set(list: &[&str]) -> BTreeSet<String> {
    keys(list).into_iter().collect()
}

fn file(path: &str) -> RepoPath {
    RepoPath::new(path).expect("literal path")
}

/// a; b and c depend on a; d depends on b and c; e stands alone.
/// b and e both touch `shared.rs`.
fn diamond() -> TaskGraph {
    TaskGraph::new([
        TaskSpec::new("a").touches([file("a.rs")]),
        TaskSpec::new("b")
            .depends_on(["a"])
            .touches([file("shared.rs")]),
        TaskSpec::new("c").depends_on(["a"]).touches([file("c.rs")]),
        TaskSpec::new("d")
            .depends_on(["b", "c"])
            .touches([file("d.rs")]),
        TaskSpec::new("e").touches([file("shared.rs")]),
    ])
    .expect("a valid graph")
}

struct Run {
    _dir: TempDir,
    layout: RunLayout,
}

fn run() -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let layout = RunLayout::new(dir.path(), "demo", "build-20260101T000000Z").expect("ids");
    Run { _dir: dir, layout }
}

impl Run {
    fn write(&self, key: &str, what: TaskFile, text: &str) {
        let path = self.layout.task_file(key, what).expect("key");
        fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        fs::write(path, text).expect("write evidence");
    }

    fn passed(&self, key: &str) {
        self.write(key, TaskFile::VerificationLog, "ok\nexit status: 0\n");
    }

    fn failed(&self, key: &str, log: &str) {
        self.write(key, TaskFile::VerificationLog, log);
    }
}

fn budget(per_task: u32, run_remaining: u32) -> RetryBudget {
    RetryBudget {
        per_task,
        run_remaining,
        used: BTreeMap::new(),
    }
}

fn failure(key: &str, log: &str) -> FailedTask {
    FailedTask {
        key: key.to_owned(),
        verification_log: Some(LogText {
            text: log.to_owned(),
            cut_bytes: 0,
        }),
        exit_status: waypost_planning::pilot::exit_status(log),
        attempts: 1,
        ..FailedTask::default()
    }
}

/// The diamond after batch-1 ran `a` (done) and `e`, and batch-2 ran `b`
/// (failed) and `c` (done): `b` and `d` are pending.
fn ctx_b_failed(graph: &TaskGraph) -> PilotContext<'_> {
    let mut ctx = PilotContext::new(
        graph,
        "demo",
        "build-20260101T000000Z",
        "batch-2",
        at(),
        2,
        budget(2, 10),
    );
    ctx.done = set(&["a", "c", "e"]);
    ctx.pending = set(&["b", "d"]);
    ctx.failed = vec![failure(
        "b",
        "running 3 tests\ntest result: FAILED. 2 passed; 1 failed\nexit status: 101\n",
    )];
    ctx
}

fn apply(outcome: PilotOutcome) -> Applied {
    match outcome {
        PilotOutcome::Applied(applied) => *applied,
        other => panic!("expected a decision, got {other:?}"),
    }
}

mod graph {
    use super::*;

    #[test]
    fn batches_put_dependencies_first_and_conflicting_tasks_apart() {
        let graph = diamond();
        let all: BTreeSet<String> = graph.keys().map(str::to_owned).collect();
        let batches = graph.batches(&all, &BTreeSet::new(), 4);
        // e and b share shared.rs: never together.
        assert_eq!(
            batches,
            vec![keys(&["a", "e"]), keys(&["b", "c"]), keys(&["d"])]
        );
    }

    #[test]
    fn batches_respect_the_concurrency_limit() {
        let graph = TaskGraph::new((0..7).map(|i| TaskSpec::new(format!("t{i}")))).expect("graph");
        let all: BTreeSet<String> = graph.keys().map(str::to_owned).collect();
        let batches = graph.batches(&all, &BTreeSet::new(), 3);
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![3, 3, 1]
        );
    }

    #[test]
    fn a_serial_task_runs_alone_after_the_ready_ones() {
        let graph = TaskGraph::new([TaskSpec::new("a"), TaskSpec::new("b"), TaskSpec::new("c")])
            .expect("graph");
        let batches = graph.batches(&set(&["a", "b", "c"]), &set(&["a"]), 4);
        assert_eq!(batches, vec![keys(&["b", "c"]), keys(&["a"])]);
    }

    #[test]
    fn files_conflict_as_the_shared_path_key_folds_them() {
        let graph = TaskGraph::new([
            TaskSpec::new("x").touches([file("src/Lib.rs")]),
            TaskSpec::new("y").touches([file("src/lib.rs")]),
        ])
        .expect("graph");
        let batches = graph.batches(&set(&["x", "y"]), &BTreeSet::new(), 4);
        assert_eq!(batches, vec![keys(&["x"]), keys(&["y"])]);
    }

    #[test]
    fn a_graph_with_a_cycle_an_unknown_dependency_or_a_duplicate_is_refused() {
        let cycle = TaskGraph::new([
            TaskSpec::new("a").depends_on(["b"]),
            TaskSpec::new("b").depends_on(["a"]),
        ])
        .expect_err("cycle");
        assert!(cycle.to_string().contains("cycle"), "{cycle}");
        let unknown = TaskGraph::new([TaskSpec::new("a").depends_on(["zz"])]).expect_err("unknown");
        assert!(unknown.to_string().contains("`zz`"), "{unknown}");
        let twice = TaskGraph::new([TaskSpec::new("a"), TaskSpec::new("a")]).expect_err("dup");
        assert!(twice.to_string().contains("listed twice"), "{twice}");
        let bad = TaskGraph::new([TaskSpec::new("../x")]).expect_err("bad key");
        assert!(bad.to_string().contains("task key"), "{bad}");
    }
}

mod context {
    use super::*;

    #[test]
    fn an_oversized_text_is_cut_from_the_middle_with_a_marker() {
        let text = format!("HEAD-LINE\n{}\nTAIL-LINE", "x".repeat(10_000));
        let cut = cut_middle(&text, 100);
        assert!(cut.text.starts_with("HEAD-LINE"), "{}", cut.text);
        assert!(cut.text.ends_with("TAIL-LINE"), "{}", cut.text);
        assert!(
            cut.text.contains("bytes cut from the middle"),
            "{}",
            cut.text
        );
        assert_eq!(cut.cut_bytes as usize, text.len() - 100);
        assert!(cut.text.len() < 200);
        let small = cut_middle("short", 100);
        assert_eq!((small.text.as_str(), small.cut_bytes), ("short", 0));
        // Multi-byte characters are never split.
        let wide = "é".repeat(1000);
        let cut = cut_middle(&wide, 101);
        assert!(cut.text.starts_with("éé") && cut.text.ends_with("éé"));
    }

    #[test]
    fn an_oversized_log_file_is_read_at_its_ends_only() {
        let run = run();
        let log = format!(
            "$ cargo test\n{}\nerror[E0425]: cannot find value\nexit status: 101\n",
            "noise line\n".repeat(100_000)
        );
        run.failed("a", &log);
        let path = run
            .layout
            .task_file("a", TaskFile::VerificationLog)
            .expect("key");
        let read = read_log(&path, 4096).expect("read").expect("exists");
        assert!(read.text.starts_with("$ cargo test"));
        assert!(read.text.ends_with("exit status: 101\n"));
        assert!(read.text.contains("bytes cut from the middle"));
        assert_eq!(read.cut_bytes, log.len() as u64 - 4096);
        assert!(read.text.len() < 4200);
        assert!(
            read_log(&path.with_file_name("none.log"), 10)
                .expect("ok")
                .is_none()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_log_is_refused_not_followed() {
        let run = run();
        let graph = diamond();
        let path = run
            .layout
            .task_file("a", TaskFile::VerificationLog)
            .expect("key");
        fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
        let elsewhere = run.layout.root().join("elsewhere.log");
        fs::write(&elsewhere, "exit status: 0\n").expect("write");
        std::os::unix::fs::symlink(&elsewhere, &path).expect("link");
        let err = read_log(&path, 1024).expect_err("a link");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        let pilot = Pilot::new(PilotConfig::default(), &HeuristicAdvisor);
        let err = pilot
            .after_batch(&run.layout, &graph, "batch-1", &keys(&["a"]), &at())
            .expect_err("the evidence cannot be read");
        assert!(err.to_string().contains("verification.log"), "{err}");
    }

    #[test]
    fn the_context_is_rebuilt_from_disk_on_every_call() {
        let run = run();
        let graph = diamond();
        run.passed("a");
        run.failed("b", "test result: FAILED\nexit status: 101\n");
        run.write("b", TaskFile::Summary, "All done, everything works.");
        fs::create_dir_all(run.layout.learnings().parent().expect("logs")).expect("mkdir");
        fs::write(run.layout.learnings(), "b: shared.rs needs the new API\n").expect("write");
        let pilot = Pilot::new(PilotConfig::default(), &HeuristicAdvisor);
        let ran = keys(&["b", "c"]);
        let first = pilot
            .context(&run.layout, &graph, "batch-2", &ran, &at())
            .expect("context");
        assert_eq!(first.done, set(&["a"]));
        assert_eq!(
            first
                .failed
                .iter()
                .map(|f| f.key.as_str())
                .collect::<Vec<_>>(),
            vec!["b", "c"]
        );
        assert_eq!(first.pending, set(&["b", "c", "d", "e"]));
        assert_eq!(first.learnings, keys(&["b: shared.rs needs the new API"]));
        assert_eq!(
            first
                .failure("b")
                .and_then(|f| f.summary.clone())
                .as_deref(),
            Some("All done, everything works.")
        );
        // Same directory, same context; a change on disk shows in the next call.
        let again = pilot
            .context(&run.layout, &graph, "batch-2", &ran, &at())
            .expect("context");
        assert_eq!(format!("{first:?}"), format!("{again:?}"));
        run.passed("c");
        let later = pilot
            .context(&run.layout, &graph, "batch-2", &ran, &at())
            .expect("context");
        assert_eq!(later.done, set(&["a", "c"]));
        assert_eq!(later.failed.len(), 1);
    }

    #[test]
    fn pilot_004_done_only_when_the_verification_evidence_says_so() {
        let run = run();
        let graph = diamond();
        // The agent says it is done; its verification says otherwise.
        run.write(
            "a",
            TaskFile::Summary,
            "DONE: task complete, all tests pass",
        );
        run.failed("a", "test result: FAILED\nexit status: 1\n");
        // Verified, but the reviewer failed it.
        run.passed("e");
        run.write(
            "e",
            TaskFile::QaVerdict,
            "fail\nthe change ignores the spec",
        );
        // A log without an exit status is no evidence of success.
        run.write("c", TaskFile::VerificationLog, "all good, trust me\n");
        let pilot = Pilot::new(PilotConfig::default(), &HeuristicAdvisor);
        let ctx = pilot
            .context(
                &run.layout,
                &graph,
                "batch-1",
                &keys(&["a", "c", "e"]),
                &at(),
            )
            .expect("context");
        assert!(ctx.done.is_empty(), "{:?}", ctx.done);
        assert_eq!(ctx.failed.len(), 3);
        // With a pass verdict and exit status 0, e is done.
        run.write("e", TaskFile::QaVerdict, "PASS\nfine");
        let ctx = pilot
            .context(
                &run.layout,
                &graph,
                "batch-1",
                &keys(&["a", "c", "e"]),
                &at(),
            )
            .expect("context");
        assert_eq!(ctx.done, set(&["e"]));
    }
}

mod heuristic {
    use super::*;

    fn class_of(log: &str) -> FailureClass {
        analyse(&failure("t", log)).failure_class
    }

    #[test]
    fn each_log_signature_is_classified() {
        let cases = [
            (
                "test foo has been running for over 60 seconds\nerror: test timed out after 60s\nexit status: 1",
                FailureClass::Timeout,
            ),
            ("sleeping\nexit status: 124", FailureClass::Timeout),
            (
                "Auto-merging src/lib.rs\nCONFLICT (content): Merge conflict in src/lib.rs\nexit status: 1",
                FailureClass::MergeConflict,
            ),
            (
                "running 3 tests\ntest result: FAILED. 2 passed; 1 failed\nexit status: 101",
                FailureClass::TestFailure,
            ),
            (
                "AssertionError: expected 2, got 3\nexit status: 1",
                FailureClass::TestFailure,
            ),
            (
                "error[E0425]: cannot find value `x` in this scope\nerror: could not compile `demo`\nexit status: 101",
                FailureClass::BuildError,
            ),
            (
                "fatal: Authentication failed for 'https://example.invalid/r.git/'\ntest result: FAILED\nexit status: 128",
                FailureClass::MissingCredentials,
            ),
            (
                "FLAKY 2/3 [ 0.5s] demo::tests::races\ntest result: FAILED\nexit status: 100",
                FailureClass::Flaky,
            ),
            (
                "something odd happened\nexit status: 3",
                FailureClass::Unknown,
            ),
        ];
        for (log, class) in cases {
            assert_eq!(class_of(log), class, "{log}");
        }
        assert_eq!(classify_log("all fine", Some(0)), None);
    }

    #[test]
    fn the_same_failure_again_is_an_identical_repeat_and_is_skipped() {
        let log = "test result: FAILED. 2 passed; 1 failed; finished in 3.21s\nexit status: 101";
        let first = analyse(&failure("t", log));
        let mut again = failure(
            "t",
            "test result: FAILED. 2 passed; 1 failed; finished in 9.87s\nexit status: 101",
        );
        again.previous_signatures = first.signature.clone().into_iter().collect();
        let analysis = analyse(&again);
        assert_eq!(analysis.failure_class, FailureClass::IdenticalRepeat);
        let strategy = waypost_planning::pilot::strategy_for(&analysis, &again);
        assert_eq!(strategy.action, RetryAction::Skip);
        // A different failure is not a repeat.
        let mut other = failure("t", "error[E0308]: mismatched types\nexit status: 101");
        other.previous_signatures = first.signature.into_iter().collect();
        assert_eq!(analyse(&other).failure_class, FailureClass::BuildError);
    }

    #[test]
    fn each_class_gets_its_action() {
        let graph = TaskGraph::new((0..7).map(|i| TaskSpec::new(format!("t{i}")))).expect("graph");
        let mut ctx = PilotContext::new(&graph, "demo", "r", "batch-1", at(), 8, budget(2, 10));
        let logs = [
            "timed out\nexit status: 1",
            "CONFLICT (content): Merge conflict in a\nexit status: 1",
            "test result: FAILED\nexit status: 101",
            "error[E0425]: x\nexit status: 101",
            "fatal: Authentication failed\nexit status: 128",
            "FLAKY 2/2 x\nexit status: 100",
            "odd\nexit status: 2",
        ];
        ctx.failed = logs
            .iter()
            .enumerate()
            .map(|(i, log)| failure(&format!("t{i}"), log))
            .collect();
        let decision = heuristic_decision(&ctx);
        validate(&ctx, &decision).expect("the heuristic decision is valid");
        let actions: Vec<RetryAction> = decision
            .retry_strategies
            .values()
            .map(|s| s.action)
            .collect();
        assert_eq!(
            actions,
            vec![
                RetryAction::RetryLaterSerially,
                RetryAction::RetryLaterSerially,
                RetryAction::RetryWithGuidance,
                RetryAction::RetryWithGuidance,
                RetryAction::Escalate,
                RetryAction::Retry,
                RetryAction::RetryWithGuidance,
            ]
        );
        // Serial retries alone, at the end; the escalated task is held.
        assert_eq!(
            decision.new_batches,
            vec![
                keys(&["t2", "t3", "t5", "t6"]),
                keys(&["t0"]),
                keys(&["t1"])
            ]
        );
        assert_eq!(decision.held.len(), 1);
        assert!(decision.routed_context["t2"][0].contains("Tests failed"));
    }

    #[test]
    fn secrets_in_a_log_do_not_reach_the_decision() {
        let graph = TaskGraph::new([TaskSpec::new("t"), TaskSpec::new("u")]).expect("graph");
        let mut ctx = PilotContext::new(&graph, "demo", "r", "batch-1", at(), 2, budget(2, 10));
        ctx.failed = vec![failure(
            "t",
            "fatal: Authentication failed using token ghp_16C7e42F292c6912E7710c838347Ae178B4a\nexit status: 128",
        )];
        let decision = heuristic_decision(&ctx);
        let text = serde_json::to_string(&decision).expect("json");
        assert!(
            !text.contains("ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
            "{text}"
        );
        assert!(text.contains("REDACTED"), "{text}");
    }
}

mod validation {
    use super::*;

    fn refused(ctx: &PilotContext<'_>, edit: impl FnOnce(&mut PilotDecisionV1)) -> DecisionError {
        let mut decision = heuristic_decision(ctx);
        validate(ctx, &decision).expect("the unedited decision is valid");
        edit(&mut decision);
        validate(ctx, &decision).expect_err("the edited decision is refused")
    }

    fn skip(key: &str, because_of: Option<&str>) -> SkippedTask {
        SkippedTask {
            task_key: key.to_owned(),
            reason: "skipped".to_owned(),
            because_of: because_of.map(str::to_owned),
            extra: Default::default(),
        }
    }

    #[test]
    fn pilot_001_an_unknown_task_key_is_refused() {
        let graph = diamond();
        let ctx = ctx_b_failed(&graph);
        let err = refused(&ctx, |d| d.new_batches.push(keys(&["ghost"])));
        assert!(
            matches!(&err, DecisionError::UnknownTask { task, .. } if task == "ghost"),
            "{err}"
        );
        let err = refused(&ctx, |d| d.skips.push(skip("nobody", None)));
        assert!(err.to_string().contains("`nobody`"), "{err}");
    }

    #[test]
    fn pilot_002_a_skip_without_its_dependents_is_refused() {
        let graph = diamond();
        let ctx = ctx_b_failed(&graph);
        let err = refused(&ctx, |d| {
            d.retry_strategies.get_mut("b").expect("b").action = RetryAction::Skip;
            d.new_batches = vec![keys(&["d"])];
            d.skips = vec![skip("b", None)];
        });
        assert!(
            matches!(&err, DecisionError::DependentLeftBehind { task, dependent, .. } if task == "b" && dependent == "d"),
            "{err}"
        );
    }

    #[test]
    fn pilot_002_a_skip_takes_its_dependents_each_with_the_reason() {
        let graph = diamond();
        let mut ctx = ctx_b_failed(&graph);
        let log = ctx.failed[0].verification_log.clone().expect("log").text;
        ctx.failed[0].previous_signatures =
            analyse(&failure("b", &log)).signature.into_iter().collect();
        let decision = heuristic_decision(&ctx);
        validate(&ctx, &decision).expect("valid");
        assert_eq!(decision.retry_strategies["b"].action, RetryAction::Skip);
        assert!(decision.new_batches.is_empty());
        let d = decision
            .skips
            .iter()
            .find(|s| s.task_key == "d")
            .expect("d skipped");
        assert_eq!(d.because_of.as_deref(), Some("b"));
        assert_eq!(d.reason, "depends on `b`, which is skipped");
    }

    #[test]
    fn a_rebatch_that_misses_or_duplicates_a_task_is_refused() {
        let graph = diamond();
        let ctx = ctx_b_failed(&graph);
        let err = refused(&ctx, |d| {
            d.new_batches.pop();
        });
        assert!(
            matches!(&err, DecisionError::Missing { task } if task == "d"),
            "{err}"
        );
        let err = refused(&ctx, |d| d.new_batches.push(keys(&["b"])));
        assert!(
            matches!(&err, DecisionError::Duplicate { task, .. } if task == "b"),
            "{err}"
        );
        // A done task cannot be scheduled again.
        let err = refused(&ctx, |d| d.new_batches.push(keys(&["a"])));
        assert!(
            matches!(&err, DecisionError::NotPending { task, .. } if task == "a"),
            "{err}"
        );
    }

    #[test]
    fn a_task_before_its_dependency_is_refused() {
        let graph = diamond();
        let ctx = ctx_b_failed(&graph);
        let err = refused(&ctx, |d| d.new_batches.reverse());
        assert!(
            matches!(&err, DecisionError::DependencyOrder { task, dependency, .. } if task == "d" && dependency == "b"),
            "{err}"
        );
        let err = refused(&ctx, |d| d.new_batches = vec![keys(&["b", "d"])]);
        assert!(
            matches!(err, DecisionError::DependencyOrder { .. }),
            "{err}"
        );
    }

    #[test]
    fn two_conflicting_tasks_in_one_batch_are_refused() {
        let graph = diamond();
        let mut ctx = ctx_b_failed(&graph);
        ctx.done.remove("e");
        ctx.pending.insert("e".to_owned());
        let decision = heuristic_decision(&ctx);
        validate(&ctx, &decision).expect("valid");
        assert!(
            !decision
                .new_batches
                .iter()
                .any(|b| b.contains(&"b".to_owned()) && b.contains(&"e".to_owned())),
            "{:?}",
            decision.new_batches
        );
        let err = refused(&ctx, |d| {
            d.new_batches = vec![keys(&["b", "e"]), keys(&["d"])];
        });
        assert!(
            matches!(&err, DecisionError::Conflict { file, .. } if file == "shared.rs"),
            "{err}"
        );
    }

    #[test]
    fn a_batch_over_the_limit_and_a_serial_retry_with_company_are_refused() {
        let graph = TaskGraph::new((0..4).map(|i| TaskSpec::new(format!("t{i}")))).expect("graph");
        let mut ctx = PilotContext::new(&graph, "demo", "r", "batch-1", at(), 2, budget(2, 10));
        ctx.failed = vec![failure("t0", "timed out\nexit status: 1")];
        let err = refused(&ctx, |d| {
            d.new_batches = vec![keys(&["t0"]), keys(&["t1", "t2", "t3"])]
        });
        assert!(
            matches!(
                err,
                DecisionError::BatchSize {
                    size: 3,
                    limit: 2,
                    ..
                }
            ),
            "{err}"
        );
        let err = refused(&ctx, |d| {
            d.new_batches = vec![keys(&["t0", "t1"]), keys(&["t2", "t3"])]
        });
        assert!(
            matches!(&err, DecisionError::SerialNotAlone { task, .. } if task == "t0"),
            "{err}"
        );
    }

    #[test]
    fn a_strategy_that_disagrees_with_the_placement_is_refused() {
        let graph = diamond();
        let ctx = ctx_b_failed(&graph);
        let err = refused(&ctx, |d| {
            d.retry_strategies.get_mut("b").expect("b").action = RetryAction::Skip;
        });
        assert!(
            matches!(err, DecisionError::StrategyDisagrees { .. }),
            "{err}"
        );
        let err = refused(&ctx, |d| {
            d.retry_strategies.clear();
        });
        assert!(matches!(err, DecisionError::Unanswered { .. }), "{err}");
    }

    #[test]
    fn pilot_003_a_retry_over_the_task_limit_or_the_run_budget_is_refused() {
        let graph = diamond();
        let mut ctx = ctx_b_failed(&graph);
        let decision = heuristic_decision(&ctx);
        ctx.budget.used.insert("b".to_owned(), 2);
        let err = validate(&ctx, &decision).expect_err("over the task limit");
        assert!(
            matches!(&err, DecisionError::RetryOverTaskLimit { task, used: 2, limit: 2 } if task == "b"),
            "{err}"
        );
        ctx.budget.used.clear();
        ctx.budget.run_remaining = 0;
        let err = validate(&ctx, &decision).expect_err("over the run budget");
        assert!(
            matches!(
                err,
                DecisionError::RetryBudgetExhausted {
                    granted: 1,
                    remaining: 0,
                    ..
                }
            ),
            "{err}"
        );
        // The heuristic escalates instead, and that is valid.
        let within = heuristic_decision(&ctx);
        validate(&ctx, &within).expect("valid");
        assert_eq!(within.retry_strategies["b"].action, RetryAction::Escalate);
        assert!(within.retry_strategies["b"].reason.contains("retry budget"));
        assert_eq!(
            within
                .held
                .iter()
                .map(|h| h.task_key.as_str())
                .collect::<Vec<_>>(),
            vec!["b", "d"]
        );
    }

    #[test]
    fn the_governance_budget_caps_the_run_wide_retries() {
        let anchor: IntentionAnchorV2 = waypost_schemas::validate::validate(&serde_json::json!({
            "format_version": "v2",
            "project_id": "demo",
            "created_at": "2026-01-01T00:00:00Z",
            "raw_input_digest": "9f86d081884c7d65",
            "pivot_intentions": {"budget_cost": {"token_cap_global": 250}}
        }))
        .expect("anchor");
        let budget = Budget::from_anchor(&anchor, BTreeMap::new());
        let limits = RetryLimits {
            per_task: 5,
            run_total: 10,
            cost_per_retry: Spend {
                tokens: 100,
                seconds: 0,
            },
        };
        let used = BTreeMap::from([("x".to_owned(), 1)]);
        let retry = RetryBudget::new(limits, used.clone(), Some(&budget));
        assert_eq!(
            retry.run_remaining, 2,
            "250 tokens pay for two retries of 100"
        );
        assert_eq!(RetryBudget::new(limits, used, None).run_remaining, 9);
        assert_eq!(retry.left_for("x"), 4);
    }
}

mod runs {
    use super::*;

    /// An advisor that always answers `answer`.
    struct Fixed(Result<PilotDecisionV1, String>);

    impl Advisor for Fixed {
        fn name(&self) -> &str {
            "fixed"
        }

        fn decide(&self, _: &PilotContext<'_>) -> Result<PilotDecisionV1, AdvisorError> {
            self.0.clone().map_err(|reason| AdvisorError::Unavailable {
                advisor: "fixed".to_owned(),
                reason,
            })
        }
    }

    /// The diamond after batch-1 ran a (done) and e (failed).
    fn e_failed() -> (Run, TaskGraph) {
        let run = run();
        run.passed("a");
        run.failed(
            "e",
            "test result: FAILED. 0 passed; 1 failed\nexit status: 101\n",
        );
        (run, diamond())
    }

    #[test]
    fn an_advisor_error_falls_back_and_the_reason_is_recorded() {
        let (run, graph) = e_failed();
        let advisor = Fixed(Err("model endpoint down".to_owned()));
        let pilot = Pilot::new(PilotConfig::default(), &advisor);
        let applied = apply(
            pilot
                .after_batch(&run.layout, &graph, "batch-1", &keys(&["a", "e"]), &at())
                .expect("decided"),
        );
        assert_eq!(applied.decision.source, DecisionSource::Fallback);
        assert_eq!(applied.decision.advisor, "fixed");
        let reason = applied.decision.fallback_reason.clone().expect("a reason");
        assert!(reason.contains("model endpoint down"), "{reason}");
        let on_disk: PilotDecisionV1 =
            waypost_schemas::io::read_artifact(&applied.path).expect("written");
        assert_eq!(on_disk, applied.decision);
    }

    #[test]
    fn pilot_001_an_invalid_advisor_decision_falls_back_with_the_refusal() {
        let (run, graph) = e_failed();
        let pilot = Pilot::new(PilotConfig::default(), &HeuristicAdvisor);
        let ctx = pilot
            .context(&run.layout, &graph, "batch-1", &keys(&["a", "e"]), &at())
            .expect("context");
        // An advisor that skips e but lets everything else run, and names a ghost.
        let mut bad = heuristic_decision(&ctx);
        bad.new_batches.push(keys(&["ghost"]));
        let advisor = Fixed(Ok(bad));
        let pilot = Pilot::new(PilotConfig::default(), &advisor);
        let applied = apply(
            pilot
                .after_batch(&run.layout, &graph, "batch-1", &keys(&["a", "e"]), &at())
                .expect("decided"),
        );
        assert_eq!(applied.decision.source, DecisionSource::Fallback);
        let reason = applied.decision.fallback_reason.expect("reason");
        assert!(
            reason.contains("was refused") && reason.contains("`ghost`"),
            "{reason}"
        );
        assert!(
            !applied
                .decision
                .new_batches
                .iter()
                .flatten()
                .any(|k| k == "ghost")
        );
    }

    #[test]
    fn a_valid_advisor_decision_is_applied_as_given() {
        let (run, graph) = e_failed();
        let pilot = Pilot::new(PilotConfig::default(), &HeuristicAdvisor);
        let ctx = pilot
            .context(&run.layout, &graph, "batch-1", &keys(&["a", "e"]), &at())
            .expect("context");
        let mut mine = heuristic_decision(&ctx);
        mine.retry_strategies.get_mut("e").expect("e").reason = "the model's own reason".to_owned();
        let advisor = Fixed(Ok(mine));
        let pilot = Pilot::new(PilotConfig::default(), &advisor);
        let applied = apply(
            pilot
                .after_batch(&run.layout, &graph, "batch-1", &keys(&["a", "e"]), &at())
                .expect("decided"),
        );
        assert_eq!(applied.decision.source, DecisionSource::Advisor);
        assert_eq!(applied.decision.advisor, "fixed");
        assert_eq!(
            applied.decision.retry_strategies["e"].reason,
            "the model's own reason"
        );
    }

    #[test]
    fn secrets_an_advisor_echoes_are_redacted_before_writing() {
        let (run, graph) = e_failed();
        let pilot = Pilot::new(PilotConfig::default(), &HeuristicAdvisor);
        let ctx = pilot
            .context(&run.layout, &graph, "batch-1", &keys(&["a", "e"]), &at())
            .expect("context");
        let token = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
        let mut mine = heuristic_decision(&ctx);
        mine.retry_strategies.get_mut("e").expect("e").guidance =
            Some(format!("use the token {token} to push"));
        mine.new_learnings.push(format!("the token is {token}"));
        let advisor = Fixed(Ok(mine));
        let applied = apply(
            Pilot::new(PilotConfig::default(), &advisor)
                .after_batch(&run.layout, &graph, "batch-1", &keys(&["a", "e"]), &at())
                .expect("decided"),
        );
        assert_eq!(applied.decision.source, DecisionSource::Advisor);
        let written = fs::read_to_string(&applied.path).expect("written");
        assert!(!written.contains(token), "{written}");
        assert!(written.contains("REDACTED"), "{written}");
    }

    #[test]
    fn pilot_005_decisions_are_written_run_local_and_byte_identical() {
        let (run, graph) = e_failed();
        let pilot = Pilot::new(PilotConfig::default(), &HeuristicAdvisor);
        let ran = keys(&["a", "e"]);
        let first = apply(
            pilot
                .after_batch(&run.layout, &graph, "batch-1", &ran, &at())
                .expect("decided"),
        );
        assert_eq!(
            first.path,
            run.layout.run_dir().join("pilot").join("batch-1.json")
        );
        let bytes = fs::read(&first.path).expect("written");
        let second = apply(
            pilot
                .after_batch(&run.layout, &graph, "batch-1", &ran, &at())
                .expect("decided"),
        );
        assert_eq!(fs::read(&second.path).expect("written"), bytes);
        // Only the run directory was written.
        let runs = run.layout.root().join(".autonomous_runs");
        let top: Vec<_> = fs::read_dir(run.layout.root())
            .expect("root")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(top, vec![runs]);
        assert!(
            pilot
                .after_batch(&run.layout, &graph, "../x", &ran, &at())
                .is_err()
        );
    }

    #[test]
    fn the_pilot_is_not_called_when_off_without_failures_or_without_remaining_tasks() {
        let (run, graph) = e_failed();
        let off = PilotConfig {
            enabled: false,
            ..PilotConfig::default()
        };
        let outcome = Pilot::new(off, &HeuristicAdvisor)
            .after_batch(&run.layout, &graph, "batch-1", &keys(&["a", "e"]), &at())
            .expect("ok");
        assert_eq!(outcome, PilotOutcome::NotCalled(NotCalled::Disabled));
        let pilot = Pilot::new(PilotConfig::default(), &HeuristicAdvisor);
        let outcome = pilot
            .after_batch(&run.layout, &graph, "batch-1", &keys(&["a"]), &at())
            .expect("ok");
        assert_eq!(outcome, PilotOutcome::NotCalled(NotCalled::NoFailures));
        // Everything else done: e failed but nothing remains besides it.
        for key in ["b", "c", "d"] {
            run.passed(key);
        }
        let outcome = pilot
            .after_batch(&run.layout, &graph, "batch-3", &keys(&["d", "e"]), &at())
            .expect("ok");
        assert_eq!(
            outcome,
            PilotOutcome::NotCalled(NotCalled::NoRemainingTasks)
        );
        assert!(
            !run.layout.run_dir().join("pilot").exists(),
            "nothing written"
        );
        let err = pilot
            .after_batch(&run.layout, &graph, "batch-1", &keys(&["zz"]), &at())
            .expect_err("unknown task");
        assert!(err.to_string().contains("`zz`"), "{err}");
    }

    #[test]
    fn a_retried_task_keeps_its_key_and_unblocks_its_dependents_when_verified() {
        let run = run();
        let graph = diamond();
        run.passed("a");
        run.passed("c");
        run.passed("e");
        run.failed("b", "error[E0425]: cannot find value\nexit status: 101\n");
        let pilot = Pilot::new(PilotConfig::default(), &HeuristicAdvisor);
        let first = apply(
            pilot
                .after_batch(&run.layout, &graph, "batch-2", &keys(&["b", "c"]), &at())
                .expect("decided"),
        );
        assert_eq!(first.decision.new_batches, vec![keys(&["b"]), keys(&["d"])]);
        // b's retry fails differently; d still waits on b, b keeps its key.
        run.failed("b", "test result: FAILED\nexit status: 101\n");
        let second = apply(
            pilot
                .after_batch(&run.layout, &graph, "batch-3", &keys(&["b"]), &at())
                .expect("decided"),
        );
        assert_eq!(second.decision.failure_analysis[0].attempts, 2);
        assert_eq!(
            second.decision.new_batches,
            vec![keys(&["b"]), keys(&["d"])]
        );
        // b's next retry passes: d is runnable and the pilot is not needed.
        run.passed("b");
        let ctx = pilot
            .context(&run.layout, &graph, "batch-4", &keys(&["b"]), &at())
            .expect("context");
        assert!(ctx.done.contains("b"));
        assert_eq!(ctx.pending, set(&["d"]));
        assert_eq!(
            graph.batches(&ctx.pending, &BTreeSet::new(), 4),
            vec![keys(&["d"])]
        );
    }

    #[test]
    fn pilot_003_retries_are_counted_across_batches_from_one_run_budget() {
        let run = run();
        let graph = TaskGraph::new((0..6).map(|i| TaskSpec::new(format!("t{i}")))).expect("graph");
        let config = PilotConfig {
            retry: RetryLimits {
                per_task: 5,
                run_total: 2,
                cost_per_retry: Spend::default(),
            },
            ..PilotConfig::default()
        };
        let pilot = Pilot::new(config, &HeuristicAdvisor);
        let mut actions = Vec::new();
        for (i, key) in ["t0", "t1", "t2"].into_iter().enumerate() {
            run.failed(key, "test result: FAILED\nexit status: 101\n");
            let applied = apply(
                pilot
                    .after_batch(
                        &run.layout,
                        &graph,
                        &format!("batch-{i}"),
                        &keys(&[key]),
                        &at(),
                    )
                    .expect("decided"),
            );
            actions.push(applied.decision.retry_strategies[key].action);
            // The retried tasks pass before the next batch.
            if applied.decision.retry_strategies[key].action.retries() {
                run.passed(key);
            }
        }
        assert_eq!(
            actions,
            vec![
                RetryAction::RetryWithGuidance,
                RetryAction::RetryWithGuidance,
                RetryAction::Escalate
            ]
        );
    }

    #[test]
    fn an_identical_failure_after_a_retry_is_skipped_with_its_dependents() {
        let run = run();
        let graph = diamond();
        run.passed("a");
        run.passed("c");
        run.passed("e");
        let log = "test result: FAILED. 1 passed; 1 failed; finished in 0.52s\nexit status: 101\n";
        run.failed("b", log);
        let pilot = Pilot::new(PilotConfig::default(), &HeuristicAdvisor);
        apply(
            pilot
                .after_batch(&run.layout, &graph, "batch-2", &keys(&["b"]), &at())
                .expect("decided"),
        );
        run.failed("b", &log.replace("0.52", "0.61"));
        let second = apply(
            pilot
                .after_batch(&run.layout, &graph, "batch-3", &keys(&["b"]), &at())
                .expect("decided"),
        );
        assert_eq!(
            second.decision.failure_analysis[0].failure_class,
            FailureClass::IdenticalRepeat
        );
        assert_eq!(
            second
                .decision
                .skips
                .iter()
                .map(|s| s.task_key.as_str())
                .collect::<Vec<_>>(),
            vec!["b", "d"]
        );
        // Skipped tasks stay skipped in later calls.
        let ctx = pilot
            .context(&run.layout, &graph, "batch-4", &[], &at())
            .expect("context");
        assert_eq!(ctx.skipped, set(&["b", "d"]));
        assert!(ctx.pending.is_empty());
    }
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// A random DAG: each task depends on up to 3 earlier ones and touches
    /// up to 2 of `files` files.
    fn dag(n: usize, files: usize, seed: u64) -> TaskGraph {
        let mut jitter = waypost_test_support::Jitter::new(seed);
        let mut next = move |below: usize| jitter.index(below);
        TaskGraph::new((0..n).map(|i| {
            let deps: Vec<String> = if i == 0 {
                Vec::new()
            } else {
                (0..next(4)).map(|_| format!("t{:04}", next(i))).collect()
            };
            let touched: Vec<RepoPath> = (0..next(3))
                .map(|_| file(&format!("f{}.rs", next(files))))
                .collect();
            TaskSpec::new(format!("t{i:04}"))
                .depends_on(deps)
                .touches(touched)
        }))
        .expect("edges point to earlier tasks: acyclic")
    }

    const LOGS: &[&str] = &[
        "timed out\nexit status: 1",
        "CONFLICT (content): Merge conflict in x\nexit status: 1",
        "test result: FAILED\nexit status: 101",
        "error[E0425]: x\nexit status: 101",
        "fatal: Authentication failed\nexit status: 128",
        "FLAKY 2/2 x\nexit status: 100",
        "odd\nexit status: 2",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_dags_rebatch_validly(
            n in 1usize..80,
            files in 1usize..40,
            seed in any::<u64>(),
            done_fraction in 0usize..100,
            failures in proptest::collection::vec((any::<usize>(), 0usize..7, 0u32..3, any::<bool>()), 0..6),
            concurrency in 1usize..6,
            run_remaining in 0u32..4,
        ) {
            let graph = dag(n, files, seed);
            let all: Vec<String> = graph.keys().map(str::to_owned).collect();
            // Done: a prefix (dependencies point backwards, so it is closed).
            let done_count = n * done_fraction / 100;
            let mut ctx = PilotContext::new(&graph, "demo", "r", "batch-1", at(), concurrency, budget(2, run_remaining));
            ctx.done = all[..done_count].iter().cloned().collect();
            ctx.pending = all[done_count..].iter().cloned().collect();
            let mut failed: BTreeMap<String, FailedTask> = BTreeMap::new();
            for (pick, log, used, repeat) in failures {
                if done_count == n {
                    break;
                }
                // Failed tasks ran: their dependencies are done.
                let key = &all[done_count + pick % (n - done_count)];
                if graph.dependencies(key).iter().any(|d| !ctx.done.contains(*d)) {
                    continue;
                }
                let mut f = failure(key, LOGS[log]);
                f.attempts = used + 1;
                if repeat {
                    // The same failure as last time: skipped, with its dependents.
                    f.previous_signatures = analyse(&f).signature.into_iter().collect();
                }
                ctx.budget.used.insert(key.clone(), used);
                failed.insert(key.clone(), f);
            }
            ctx.failed = failed.into_values().collect();
            let decision = heuristic_decision(&ctx);
            prop_assert!(validate(&ctx, &decision).is_ok(), "{:?}", validate(&ctx, &decision));
            // Every pending task placed exactly once.
            let placed: usize = decision.new_batches.iter().map(Vec::len).sum::<usize>()
                + decision.skips.len()
                + decision.held.len();
            prop_assert_eq!(placed, ctx.pending.len());
            // Same inputs, same bytes.
            let again = heuristic_decision(&ctx);
            prop_assert_eq!(
                waypost_schemas::io::to_pretty_json(&decision),
                waypost_schemas::io::to_pretty_json(&again)
            );
        }
    }
}
