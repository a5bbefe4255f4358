//! FENCE-006: the append-only log.

use std::fs::OpenOptions;
use std::io::Write;

use serde_json::{Value, json};
use waypost_fences::{JsonlError, JsonlLog, TornTail};

#[test]
fn fence_006_a_torn_final_line_is_reported_and_ignored() {
    let dir = tempfile::tempdir().expect("temp");
    let log = JsonlLog::new(dir.path().join("ledger.jsonl"));
    log.append(&json!({"n": 1})).expect("append");
    log.append(&json!({"n": 2})).expect("append");
    let whole = std::fs::metadata(log.path()).expect("meta").len();
    // A writer dies in the middle of its append.
    OpenOptions::new()
        .append(true)
        .open(log.path())
        .expect("open")
        .write_all(b"{\"n\": 3, \"tr")
        .expect("partial write");
    let read = log.read::<Value>().expect("read");
    assert_eq!(read.entries, vec![json!({"n": 1}), json!({"n": 2})]);
    assert_eq!(
        read.torn_tail,
        Some(TornTail {
            offset: whole,
            len: 12
        })
    );
}

#[test]
fn fence_006_the_next_append_cuts_the_torn_tail() {
    let dir = tempfile::tempdir().expect("temp");
    let log = JsonlLog::new(dir.path().join("ledger.jsonl"));
    log.append(&json!({"n": 1})).expect("append");
    OpenOptions::new()
        .append(true)
        .open(log.path())
        .expect("open")
        .write_all(b"{\"n\": 2")
        .expect("partial write");
    let appended = log.append(&json!({"n": 3})).expect("append");
    assert_eq!(appended.repaired.map(|t| t.len), Some(7));
    let read = log.read::<Value>().expect("read");
    assert_eq!(read.entries, vec![json!({"n": 1}), json!({"n": 3})]);
    assert_eq!(read.torn_tail, None);
}

#[test]
fn fence_006_a_bad_middle_line_is_corruption() {
    let dir = tempfile::tempdir().expect("temp");
    let log = JsonlLog::new(dir.path().join("ledger.jsonl"));
    std::fs::write(log.path(), "{\"n\": 1}\nnot json\n{\"n\": 3}\n").expect("write");
    match log.read::<Value>() {
        Err(JsonlError::Corrupt { line, .. }) => assert_eq!(line, 2),
        other => panic!("expected corruption at line 2, got {other:?}"),
    }
}

#[test]
fn a_missing_log_is_empty_and_entries_with_newlines_stay_one_line() {
    let dir = tempfile::tempdir().expect("temp");
    let log = JsonlLog::new(dir.path().join("new.jsonl"));
    assert!(log.read::<Value>().expect("read").entries.is_empty());
    log.append(&json!({"text": "two\nlines"})).expect("append");
    let text = std::fs::read_to_string(log.path()).expect("read");
    assert_eq!(text.lines().count(), 1);
    assert_eq!(
        log.read::<Value>().expect("read").entries[0]["text"],
        "two\nlines"
    );
}
