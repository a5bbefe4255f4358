//! Verification: every kind of tampering is found, named by file and line.

use std::path::Path;

use waypost_ledger::tidy;
use waypost_ledger::{Ledger, LedgerName, ProblemKind};

use crate::support::{learnings, options, run};

/// A learned-rules ledger of `n` entries (one run per entry) and its lines.
fn ledger_of(root: &Path, n: usize) -> (Ledger, Vec<String>) {
    for i in 1..=n {
        learnings(
            &run(root, &format!("build-202601{i:02}T000000Z")),
            &[&format!("learning {i}")],
        );
    }
    tidy::execute(root, &options()).expect("tidy");
    let ledger = Ledger::new(root, LedgerName::LearnedRules);
    let text = std::fs::read_to_string(ledger.path()).expect("ledger");
    let lines = text.lines().map(str::to_owned).collect();
    (ledger, lines)
}

fn rewrite(ledger: &Ledger, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(ledger.path(), text).expect("write");
}

/// (line, problem) of every problem.
fn problems(ledger: &Ledger) -> Vec<(usize, ProblemKind)> {
    ledger
        .verify()
        .expect("verify")
        .problems
        .into_iter()
        .map(|p| (p.line, p.kind))
        .collect()
}

#[test]
fn an_intact_ledger_verifies_and_reads() {
    let repo = tempfile::tempdir().expect("temp");
    let (ledger, _) = ledger_of(repo.path(), 3);
    let verification = ledger.verify().expect("verify");
    assert!(verification.is_ok(), "{:?}", verification.problems);
    assert_eq!(verification.entries, 3);
    assert!(!verification.view_stale);
    let history = ledger.read().expect("read");
    assert_eq!(
        history
            .entries()
            .iter()
            .map(|e| e.sequence)
            .collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        history.entries()[0].prev_hash,
        waypost_schemas::GENESIS_HASH
    );
    // A ledger nobody wrote is an empty one.
    let empty = Ledger::new(repo.path(), LedgerName::BuildHistory);
    assert!(empty.verify().expect("verify").is_ok());
    assert!(empty.read().expect("read").entries().is_empty());
}

#[test]
fn an_edited_entry_is_named_by_file_and_line() {
    let repo = tempfile::tempdir().expect("temp");
    let (ledger, mut lines) = ledger_of(repo.path(), 3);
    lines[1] = lines[1].replace("learning 2", "learning two");
    rewrite(&ledger, &lines);
    let found = problems(&ledger);
    assert!(
        found
            .iter()
            .any(|(l, p)| *l == 2 && matches!(p, ProblemKind::Edited { .. })),
        "{found:?}"
    );
    assert!(found.iter().all(|(l, _)| *l == 2), "only line 2: {found:?}");
    let err = ledger.read().expect_err("an edited ledger is not read");
    let message = err.to_string();
    assert!(
        message.contains("learned_rules.jsonl:2: edited"),
        "{message}"
    );
}

#[test]
fn an_edit_that_recomputes_the_hash_breaks_the_chain_after_it() {
    let repo = tempfile::tempdir().expect("temp");
    let (ledger, mut lines) = ledger_of(repo.path(), 3);
    let mut entry: waypost_schemas::LedgerEntryV1 = serde_json::from_str(&lines[1]).expect("entry");
    entry.summary = "rewritten".into();
    entry.hash = entry.compute_hash();
    lines[1] = serde_json::to_string(&entry).expect("json");
    rewrite(&ledger, &lines);
    let found = problems(&ledger);
    assert!(
        found
            .iter()
            .any(|(l, p)| *l == 3 && matches!(p, ProblemKind::ChainBroken { .. })),
        "{found:?}"
    );
}

#[test]
fn a_deleted_entry_is_found() {
    let repo = tempfile::tempdir().expect("temp");
    let (ledger, mut lines) = ledger_of(repo.path(), 4);
    lines.remove(1);
    rewrite(&ledger, &lines);
    let found = problems(&ledger);
    assert!(
        found.iter().any(|(l, p)| *l == 2
            && matches!(
                p,
                ProblemKind::Deleted {
                    expected: 2,
                    found: 3,
                    ..
                }
            )),
        "{found:?}"
    );
    // The first entry too.
    let other = tempfile::tempdir().expect("temp");
    let (ledger, mut lines) = ledger_of(other.path(), 2);
    lines.remove(0);
    rewrite(&ledger, &lines);
    let found = problems(&ledger);
    assert!(
        found.iter().any(|(l, p)| *l == 1
            && matches!(
                p,
                ProblemKind::Deleted {
                    expected: 1,
                    found: 2,
                    ..
                }
            )),
        "{found:?}"
    );
}

#[test]
fn reordered_entries_are_found() {
    let repo = tempfile::tempdir().expect("temp");
    let (ledger, mut lines) = ledger_of(repo.path(), 4);
    lines.swap(1, 2);
    rewrite(&ledger, &lines);
    let found = problems(&ledger);
    assert!(
        found.iter().any(|(l, p)| *l == 2
            && matches!(
                p,
                ProblemKind::Reordered {
                    expected: 2,
                    found: 3
                }
            )),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|(_, p)| matches!(p, ProblemKind::Deleted { .. })),
        "a move is not a deletion: {found:?}"
    );
}

#[test]
fn entries_cut_off_the_end_are_found_through_the_view() {
    let repo = tempfile::tempdir().expect("temp");
    let (ledger, mut lines) = ledger_of(repo.path(), 3);
    lines.pop();
    rewrite(&ledger, &lines);
    let found = problems(&ledger);
    assert!(
        found.iter().any(|(l, p)| *l == 3
            && matches!(
                p,
                ProblemKind::Truncated {
                    recorded: 3,
                    found: 2,
                    ..
                }
            )),
        "{found:?}"
    );
}

#[test]
fn a_broken_line_in_the_middle_is_corruption_not_a_torn_tail() {
    let repo = tempfile::tempdir().expect("temp");
    let (ledger, mut lines) = ledger_of(repo.path(), 3);
    lines[1].truncate(20);
    rewrite(&ledger, &lines);
    let verification = ledger.verify().expect("verify");
    assert!(verification.torn_tail.is_none());
    assert!(
        verification
            .problems
            .iter()
            .any(|p| p.line == 2 && matches!(p.kind, ProblemKind::NotJson { .. })),
        "{:?}",
        verification.problems
    );
    let shown = verification.problems[0].to_string();
    assert!(shown.contains("learned_rules.jsonl:2: not JSON"), "{shown}");
}

#[test]
fn an_entry_moved_from_another_ledger_is_found() {
    let repo = tempfile::tempdir().expect("temp");
    let (_, lines) = ledger_of(repo.path(), 1);
    let other = Ledger::new(repo.path(), LedgerName::BuildHistory);
    std::fs::write(other.path(), format!("{}\n", lines[0])).expect("write");
    let found = problems(&other);
    assert!(
        found.iter().any(|(l, p)| *l == 1
            && matches!(
                p,
                ProblemKind::WrongLedger {
                    found: LedgerName::LearnedRules
                }
            )),
        "{found:?}"
    );
}
