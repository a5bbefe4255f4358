//! FENCE-010: the chain check every ledger store runs before it appends.

use std::collections::BTreeMap;

use waypost_fences::{LedgerStoreError, check_chain};
use waypost_schemas::{
    EntrySource, EntryStatus, FormatV1, GENESIS_HASH, LedgerEntryV1, LedgerName, Timestamp,
};

fn entry(ledger: LedgerName, sequence: u64, prev_hash: &str, text: &str) -> LedgerEntryV1 {
    let mut entry = LedgerEntryV1 {
        format_version: FormatV1,
        entry_id: String::new(),
        ledger,
        sequence,
        kind: "note".to_owned(),
        subject: None,
        status: EntryStatus::Recorded,
        supersedes: None,
        source: EntrySource {
            project_id: "demo".to_owned(),
            family: "build".to_owned(),
            run_id: "build-1".to_owned(),
            artifact: "logs/notes.md".to_owned(),
            artifact_sha256: "0".repeat(64),
        },
        summary: text.to_owned(),
        payload: serde_json::json!({ "text": text }),
        recorded_at: Timestamp::parse("2026-01-01T00:00:00Z").expect("timestamp"),
        prev_hash: prev_hash.to_owned(),
        hash: String::new(),
        extra: BTreeMap::new(),
    };
    entry.entry_id = entry.derive_entry_id();
    entry.hash = entry.compute_hash();
    entry
}

#[test]
fn fence_010_an_entry_that_does_not_continue_the_chain_is_refused() {
    let ledger = LedgerName::LearnedRules;
    let first = entry(ledger, 1, GENESIS_HASH, "one");
    let second = entry(ledger, 2, &first.hash, "two");
    check_chain(ledger, None, &[first.clone(), second.clone()]).expect("a chain from genesis");
    check_chain(ledger, Some(&first), std::slice::from_ref(&second)).expect("after the head");

    // A second appender that read the same head writes sequence 2 again.
    let fork = entry(ledger, 2, &first.hash, "fork");
    let err = check_chain(ledger, Some(&second), &[fork]).expect_err("a fork");
    assert!(
        matches!(&err, LedgerStoreError::Chain { sequence: 2, problem, .. } if problem.contains("next sequence is 3")),
        "{err}"
    );
    // The right sequence after a head it never saw.
    let stale = entry(ledger, 3, &first.hash, "stale head");
    let err = check_chain(ledger, Some(&second), &[stale]).expect_err("wrong prev_hash");
    assert!(err.to_string().contains("prev_hash"), "{err}");
    // Content edited after hashing.
    let mut edited = entry(ledger, 3, &second.hash, "three");
    edited.summary = "edited".to_owned();
    let err = check_chain(ledger, Some(&second), &[edited]).expect_err("edited");
    assert!(err.to_string().contains("hashes to"), "{err}");
    // An entry of another ledger.
    let other = entry(LedgerName::DebugLog, 3, &second.hash, "elsewhere");
    assert!(check_chain(ledger, Some(&second), &[other]).is_err());
}
