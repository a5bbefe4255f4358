//! Tidy: what goes into the ledgers, once, redacted, and what is pruned.

use std::collections::BTreeSet;

use waypost_ledger::tidy::{self, Allowlist, Retention, TidyError};
use waypost_ledger::{Ledger, LedgerName};
use waypost_schemas::MemoryContinuity;

use crate::support::{all_ids, bytes, fixture, learnings, options, pilot_decision, run, write};

#[test]
fn a_dry_run_writes_nothing_and_says_exactly_what_execute_appends() {
    let repo = tempfile::tempdir().expect("temp");
    let one = run(repo.path(), "build-20260101T000000Z");
    learnings(
        &one,
        &["run cargo fmt before clippy", "the CI cache is per branch"],
    );
    pilot_decision(&one, "batch-2");

    let planned = tidy::plan(repo.path(), &options()).expect("plan");
    assert!(!planned.executed);
    assert_eq!(planned.appended(), 3);
    assert!(
        !repo.path().join("docs").exists(),
        "a dry run creates nothing"
    );
    let done = tidy::execute(repo.path(), &options()).expect("execute");
    assert_eq!(
        planned.ledgers, done.ledgers,
        "the plan is exactly what is appended"
    );
    assert_eq!(
        Ledger::new(repo.path(), LedgerName::LearnedRules)
            .read()
            .expect("read")
            .entries()
            .len(),
        2
    );
    assert!(
        Ledger::new(repo.path(), LedgerName::DebugLog)
            .view_path()
            .exists(),
        "each ledger gets its view"
    );
}

#[test]
fn ledger_001_tidying_twice_appends_nothing() {
    let repo = tempfile::tempdir().expect("temp");
    let one = run(repo.path(), "build-20260101T000000Z");
    learnings(&one, &["a", "b"]);
    pilot_decision(&one, "batch-1");
    let first = tidy::execute(repo.path(), &options()).expect("first");
    assert_eq!(first.appended(), 3);
    let before: Vec<Vec<u8>> = LedgerName::ALL
        .iter()
        .map(|n| bytes(repo.path(), *n))
        .collect();
    let again = tidy::execute(repo.path(), &options()).expect("again");
    assert_eq!(again.appended(), 0);
    assert_eq!(
        again
            .ledgers
            .iter()
            .map(|l| l.already_present)
            .sum::<usize>(),
        3
    );
    let after: Vec<Vec<u8>> = LedgerName::ALL
        .iter()
        .map(|n| bytes(repo.path(), *n))
        .collect();
    assert_eq!(before, after, "not one byte changes");
    let ids = all_ids(repo.path());
    let unique: BTreeSet<_> = ids.iter().collect();
    assert_eq!(ids.len(), unique.len(), "each entry id once");
}

#[test]
fn ledger_002_a_ledgers_old_bytes_are_a_prefix_of_its_new_bytes() {
    let repo = tempfile::tempdir().expect("temp");
    learnings(&run(repo.path(), "build-20260101T000000Z"), &["first"]);
    tidy::execute(repo.path(), &options()).expect("first");
    let mut previous = bytes(repo.path(), LedgerName::LearnedRules);
    for i in 2..6 {
        let next = run(repo.path(), &format!("build-2026010{i}T000000Z"));
        learnings(&next, &[&format!("learning {i}"), "shared text"]);
        tidy::execute(repo.path(), &options()).expect("tidy");
        let now = bytes(repo.path(), LedgerName::LearnedRules);
        assert!(now.len() > previous.len());
        assert!(now.starts_with(&previous), "append only, after tidy {i}");
        previous = now;
    }
    let verification = Ledger::new(repo.path(), LedgerName::LearnedRules)
        .verify()
        .expect("verify");
    assert!(verification.is_ok(), "{:?}", verification.problems);
    assert_eq!(verification.entries, 9);
}

#[test]
fn ledger_003_a_torn_tail_is_cut_before_the_next_append_and_reported() {
    let repo = tempfile::tempdir().expect("temp");
    learnings(&run(repo.path(), "build-20260101T000000Z"), &["first"]);
    tidy::execute(repo.path(), &options()).expect("first");
    let ledger = Ledger::new(repo.path(), LedgerName::LearnedRules);
    let good = bytes(repo.path(), LedgerName::LearnedRules);
    let mut torn = good.clone();
    torn.extend_from_slice(b"{\"format_version\":\"v1\",\"entry_id\":\"entry-0");
    std::fs::write(ledger.path(), &torn).expect("tear");

    let verification = ledger.verify().expect("verify");
    assert!(verification.is_ok(), "a torn tail is not a problem");
    let tail = verification.torn_tail.expect("reported");
    assert_eq!(tail.offset, good.len() as u64);
    assert_eq!(ledger.read().expect("read").entries().len(), 1, "ignored");

    learnings(&run(repo.path(), "build-20260102T000000Z"), &["second"]);
    let planned = tidy::plan(repo.path(), &options()).expect("plan");
    assert!(planned.ledgers.iter().any(|l| l.torn_tail.is_some()));
    let done = tidy::execute(repo.path(), &options()).expect("tidy");
    let change = done
        .ledgers
        .iter()
        .find(|l| l.ledger == LedgerName::LearnedRules)
        .expect("learned rules");
    assert_eq!(
        change.torn_tail.as_ref().map(|t| t.offset),
        Some(good.len() as u64)
    );
    assert_eq!(change.appended.len(), 1);
    let after = bytes(repo.path(), LedgerName::LearnedRules);
    assert!(after.starts_with(&good), "only the torn line was removed");
    let verification = ledger.verify().expect("verify");
    assert!(verification.is_ok() && verification.torn_tail.is_none());
}

#[test]
fn ledger_005_secrets_are_redacted_before_they_reach_a_ledger() {
    let repo = tempfile::tempdir().expect("temp");
    let secret = "ghp_8x2M1vQ7rT0yK3nB5zL9aC4dF6hJ2kP1sW0e";
    let one = run(repo.path(), "build-20260101T000000Z");
    learnings(&one, &[&format!("deploy with token {secret}")]);
    let mut decision: serde_json::Value =
        serde_json::from_str(&fixture("pilot_decision_v1", "advisor_retry_and_skip"))
            .expect("json");
    decision["x_note"] = serde_json::json!(format!("the log said GITHUB_TOKEN={secret}"));
    write(
        &one.pilot_decision("batch-2").expect("batch"),
        &decision.to_string(),
    );
    let planned = tidy::plan(repo.path(), &options()).expect("plan");
    assert_eq!(planned.appended(), 2);
    tidy::execute(repo.path(), &options()).expect("tidy");
    for name in LedgerName::ALL {
        let ledger = Ledger::new(repo.path(), name);
        for path in [ledger.path(), ledger.view_path()] {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                !text.contains(secret),
                "{} holds the secret",
                path.display()
            );
        }
    }
    let rules = Ledger::new(repo.path(), LedgerName::LearnedRules)
        .read()
        .expect("read");
    let text = rules.entries()[0].payload["text"].as_str().expect("text");
    assert!(text.contains("[REDACTED:"), "{text}");
}

#[test]
fn only_allowlisted_sources_go_in_and_the_anchor_can_add_a_whole_ledger() {
    let repo = tempfile::tempdir().expect("temp");
    let one = run(repo.path(), "build-20260101T000000Z");
    write(&one.gap_report(), &fixture("gap_report_v1", "several_gaps"));
    write(
        &one.intention_anchor(),
        &fixture("intention_anchor_v2", "complete"),
    );
    let planned = tidy::plan(repo.path(), &options()).expect("plan");
    assert_eq!(
        planned.appended(),
        0,
        "gap reports and anchors are not defaults"
    );

    let memory = MemoryContinuity {
        persist_to_sot: vec!["debug_log".into(), "intention_anchor_v2".into()],
        ..MemoryContinuity::default()
    };
    let mut opts = options();
    opts.allowlist = Allowlist::from_anchor(Some(&memory)).expect("allowlist");
    let planned = tidy::plan(repo.path(), &opts).expect("plan");
    let kinds: BTreeSet<(LedgerName, String)> = planned
        .ledgers
        .iter()
        .flat_map(|l| l.appended.iter().map(|e| (e.ledger, e.kind.clone())))
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            (LedgerName::DebugLog, "gap_report_v1".to_owned()),
            (
                LedgerName::ArchitectureDecisions,
                "intention_anchor_v2".to_owned()
            ),
        ])
    );

    for (name, unknown) in [("future_plan", true), ("claim_record_v1", false)] {
        let memory = MemoryContinuity {
            persist_to_sot: vec![name.into()],
            ..MemoryContinuity::default()
        };
        let err = Allowlist::from_anchor(Some(&memory)).expect_err(name);
        assert_eq!(
            matches!(err, TidyError::UnknownPersistName { .. }),
            unknown,
            "{err}"
        );
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn a_new_decision_supersedes_the_one_in_force_and_the_old_one_stays_in_the_history() {
    let repo = tempfile::tempdir().expect("temp");
    let memory = MemoryContinuity {
        persist_to_sot: vec!["architecture_decisions".into()],
        ..MemoryContinuity::default()
    };
    let mut opts = options();
    opts.allowlist = Allowlist::from_anchor(Some(&memory)).expect("allowlist");
    let anchor = fixture("intention_anchor_v2", "complete");
    write(
        &run(repo.path(), "build-20260101T000000Z").intention_anchor(),
        &anchor,
    );
    tidy::execute(repo.path(), &opts).expect("first");
    // The same anchor in the next run is no new decision.
    write(
        &run(repo.path(), "build-20260102T000000Z").intention_anchor(),
        &anchor,
    );
    let same = tidy::execute(repo.path(), &opts).expect("same");
    assert_eq!(same.appended(), 0);
    let decisions = same
        .ledgers
        .iter()
        .find(|l| l.ledger == LedgerName::ArchitectureDecisions)
        .expect("architecture decisions");
    assert_eq!(decisions.unchanged, 1);
    // A changed anchor replaces it.
    let mut changed: serde_json::Value = serde_json::from_str(&anchor).expect("json");
    changed["project_id"] = serde_json::json!("renamed");
    write(
        &run(repo.path(), "build-20260103T000000Z").intention_anchor(),
        &changed.to_string(),
    );
    let done = tidy::execute(repo.path(), &opts).expect("changed");
    assert_eq!(done.appended(), 1);

    let history = Ledger::new(repo.path(), LedgerName::ArchitectureDecisions)
        .read()
        .expect("read");
    let [old, new] = history.entries() else {
        panic!("two entries: {:?}", history.entries())
    };
    assert_eq!(new.supersedes.as_deref(), Some(old.entry_id.as_str()));
    let current = history.current();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].entry_id, new.entry_id);
    assert_eq!(
        history.current_for("intention_anchor").map(|e| &e.entry_id),
        Some(&new.entry_id)
    );
    let states = history.states();
    assert_eq!(states[0].effective_status(), "superseded");
    assert_eq!(states[0].superseded_by, Some(new.entry_id.as_str()));
    assert_eq!(states[1].effective_status(), "accepted");
    let view = std::fs::read_to_string(
        Ledger::new(repo.path(), LedgerName::ArchitectureDecisions).view_path(),
    )
    .expect("view");
    assert!(
        view.contains(&format!("status: superseded (by {})", new.entry_id)),
        "{view}"
    );
}

#[test]
fn an_invalid_artifact_is_skipped_with_the_reason() {
    let repo = tempfile::tempdir().expect("temp");
    let one = run(repo.path(), "build-20260101T000000Z");
    write(
        &one.pilot_decision("batch-1").expect("batch"),
        "{\"format_version\": \"v1\"",
    );
    let planned = tidy::plan(repo.path(), &options()).expect("plan");
    assert_eq!(planned.appended(), 0);
    assert_eq!(planned.skipped.len(), 1);
    assert!(
        planned.skipped[0].reason.contains("not JSON"),
        "{:?}",
        planned.skipped
    );
}

#[test]
fn ledger_004_retention_prunes_old_run_directories_never_ledgers() {
    let repo = tempfile::tempdir().expect("temp");
    let runs: Vec<_> = (1..=4)
        .map(|i| run(repo.path(), &format!("build-2026010{i}T000000Z")))
        .collect();
    for (i, r) in runs.iter().enumerate() {
        learnings(r, &[&format!("learning {i}")]);
    }
    // The oldest run holds a broken file: it is kept.
    write(&runs[0].pilot_decision("b").expect("batch"), "not json");
    let mut opts = options();
    opts.retention = Retention::KeepLast(1);
    let planned = tidy::plan(repo.path(), &opts).expect("plan");
    assert_eq!(planned.pruned, vec![runs[1].run_dir(), runs[2].run_dir()]);
    assert_eq!(planned.kept, vec![runs[0].run_dir()]);
    assert!(runs[1].run_dir().exists(), "a plan prunes nothing");
    let done = tidy::execute(repo.path(), &opts).expect("execute");
    assert_eq!(done.pruned, planned.pruned);
    assert!(!runs[1].run_dir().exists() && !runs[2].run_dir().exists());
    assert!(runs[0].run_dir().exists() && runs[3].run_dir().exists());
    let rules = Ledger::new(repo.path(), LedgerName::LearnedRules)
        .read()
        .expect("read");
    assert_eq!(rules.entries().len(), 4, "what pruned runs held stays");
    // Tidying after the prune keeps the ledger as it is.
    let again = tidy::execute(repo.path(), &opts).expect("again");
    assert_eq!(again.appended(), 0);

    let memory = MemoryContinuity {
        retention_rules: [("runs".to_owned(), "keep_last 3".to_owned())].into(),
        ..MemoryContinuity::default()
    };
    assert_eq!(
        Retention::from_anchor(Some(&memory)).expect("rule"),
        Retention::KeepLast(3)
    );
    let bad = MemoryContinuity {
        retention_rules: [("runs".to_owned(), "forever".to_owned())].into(),
        ..MemoryContinuity::default()
    };
    assert!(Retention::from_anchor(Some(&bad)).is_err());
}
