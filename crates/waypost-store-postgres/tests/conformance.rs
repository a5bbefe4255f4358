//! One conformance suite for the store traits, run against the file store
//! (always) and the PostgreSQL store (when `WAYPOST_TEST_PG` is set): the
//! same test code, parameterised by the store.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use waypost_fences::{
    ClaimError, ClaimOutcome, ClaimStore, Enqueued, FileClaimStore, JsonlQueue, LedgerStore,
    LedgerStoreError, Owner, enqueue_once, fenced,
};
use waypost_ledger::FileLedgerStore;
use waypost_schemas::{
    EntrySource, EntryStatus, FormatV1, GENESIS_HASH, LedgerEntryV1, LedgerName, Timestamp,
};

use crate::support::TestDb;

const LONG: Duration = Duration::from_secs(600);
const SHORT: Duration = Duration::from_millis(300);
const PAST_SHORT: Duration = Duration::from_millis(500);

/// The stores a conformance test works with; every call of one test shares
/// the same state.
pub(crate) trait Stores {
    /// The claims, with a reclaim budget.
    fn claims(&self, budget: u32) -> Box<dyn ClaimStore>;
    /// `enqueue_once` of `item` under `key` in the queue.
    fn enqueue(&self, key: &str, item: &str) -> Enqueued<String>;
    /// The ledgers.
    fn ledgers(&self) -> Box<dyn LedgerStore>;
}

/// The file stores in a temporary folder.
pub(crate) struct Files(pub(crate) tempfile::TempDir);

impl Files {
    fn dir(&self) -> PathBuf {
        self.0.path().to_owned()
    }
}

impl Stores for Files {
    fn claims(&self, budget: u32) -> Box<dyn ClaimStore> {
        Box::new(FileClaimStore::new(self.dir().join("claims")).with_reclaim_budget(budget))
    }
    fn enqueue(&self, key: &str, item: &str) -> Enqueued<String> {
        let queue: JsonlQueue<String> = JsonlQueue::new(self.dir().join("queue.jsonl"));
        enqueue_once(&queue, key, item.to_owned(), 5).expect("enqueue")
    }
    fn ledgers(&self) -> Box<dyn LedgerStore> {
        Box::new(FileLedgerStore::new(self.dir()))
    }
}

/// The PostgreSQL stores in a schema of the test's own.
pub(crate) struct Pg(pub(crate) TestDb);

impl Stores for Pg {
    fn claims(&self, budget: u32) -> Box<dyn ClaimStore> {
        Box::new(
            self.0
                .store
                .claims("conformance")
                .with_reclaim_budget(budget),
        )
    }
    fn enqueue(&self, key: &str, item: &str) -> Enqueued<String> {
        let queue = self.0.store.queue::<String>("conformance");
        enqueue_once(&queue, key, item.to_owned(), 5).expect("enqueue")
    }
    fn ledgers(&self) -> Box<dyn LedgerStore> {
        Box::new(self.0.store.ledgers("conformance"))
    }
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod file {
            $(
                #[test]
                fn $name() {
                    super::$name(&super::Files(tempfile::tempdir().expect("temp")));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let Some(db) = crate::support::TestDb::new(stringify!($name)) else {
                        return;
                    };
                    super::$name(&super::Pg(db));
                }
            )*
        }
    };
}

conformance!(
    fence_002_a_held_claim_is_refused_to_another_owner,
    fence_003_tokens_increase_across_release_and_takeover,
    fence_004_expiry_uses_the_duration_in_the_record,
    fence_004_repeated_takeovers_exhaust_the_budget,
    fence_005_only_the_holder_renews,
    fence_009_a_write_with_an_old_token_is_refused,
    an_unclaimed_key_reads_as_free_and_a_bad_key_is_refused,
    fence_007_enqueueing_a_key_twice_stores_one_item,
    fence_010_ledger_appends_continue_the_chain,
);

fn token_of(outcome: ClaimOutcome) -> u64 {
    match outcome {
        ClaimOutcome::Claimed { fencing_token, .. } => fencing_token,
        ClaimOutcome::HeldBy { holder, .. } => panic!("held by pid {}", holder.pid),
    }
}

fn fence_002_a_held_claim_is_refused_to_another_owner(stores: &dyn Stores) {
    let store = stores.claims(5);
    let (a, b) = (Owner::new(Some("a")), Owner::new(Some("b")));
    assert_eq!(token_of(store.claim("k", &a, LONG).expect("claim")), 1);
    match store.claim("k", &b, LONG).expect("claim") {
        ClaimOutcome::HeldBy {
            holder,
            fencing_token,
            expires_at_unix_ms,
        } => {
            assert_eq!(holder.label.as_deref(), Some("a"));
            assert_eq!(fencing_token, 1);
            assert!(expires_at_unix_ms.is_some());
        }
        other => panic!("b got the claim: {other:?}"),
    }
    // Re-claiming one's own claim renews it and keeps the token.
    assert_eq!(token_of(store.claim("k", &a, LONG).expect("claim")), 1);
    assert!(matches!(
        store.release("k", b.token()),
        Err(ClaimError::NotOwner {
            holder: Some(_),
            ..
        })
    ));
    let released = store.release("k", a.token()).expect("release");
    assert!(released.holder.is_none());
    assert_eq!(released.fencing_token, 1, "release keeps the counter");
    assert!(released.released_at.is_some());
    assert!(matches!(
        store.release("k", a.token()),
        Err(ClaimError::NotOwner { holder: None, .. })
    ));
}

fn fence_003_tokens_increase_across_release_and_takeover(stores: &dyn Stores) {
    let store = stores.claims(5);
    let a = Owner::new(Some("a"));
    let t1 = token_of(store.claim("k", &a, LONG).expect("claim"));
    store.release("k", a.token()).expect("release");
    let t2 = token_of(store.claim("k", &a, LONG).expect("claim"));
    store.release("k", a.token()).expect("release");
    let gone = Owner::new(Some("gone"));
    let t3 = token_of(store.claim("k", &gone, SHORT).expect("claim"));
    thread::sleep(PAST_SHORT);
    let t4 = token_of(store.claim("k", &a, LONG).expect("takeover"));
    assert_eq!([t1, t2, t3, t4], [1, 2, 3, 4]);
    let record = store.inspect("k").expect("record");
    assert_eq!((record.fencing_token, record.transitions), (4, 1));
    assert_eq!(record.consecutive_takeovers, 1);
}

fn fence_004_expiry_uses_the_duration_in_the_record(stores: &dyn Stores) {
    let store = stores.claims(5);
    let (a, b) = (Owner::new(Some("a")), Owner::new(Some("b")));
    token_of(store.claim("k", &a, SHORT).expect("claim"));
    // b asks for a long lease: that does not extend a's.
    assert!(matches!(
        store.claim("k", &b, LONG).expect("claim"),
        ClaimOutcome::HeldBy { .. }
    ));
    thread::sleep(PAST_SHORT);
    match store.claim("k", &b, LONG).expect("claim") {
        ClaimOutcome::Claimed {
            fencing_token,
            took_over,
        } => {
            assert_eq!(fencing_token, 2);
            assert_eq!(took_over.and_then(|h| h.label).as_deref(), Some("a"));
        }
        other => panic!("expired claim not taken over: {other:?}"),
    }
    assert!(
        matches!(
            store.renew("k", a.token()),
            Err(ClaimError::NotOwner { .. })
        ),
        "a lost it"
    );
    let record = store.inspect("k").expect("record");
    assert_eq!(record.lease_duration_ms, 600_000);
    let expires = record.expires_at_unix_ms().expect("held");
    let renewed = record.renewed_at.expect("renewed").unix_millis();
    assert_eq!(expires - renewed, 600_000);
}

fn fence_004_repeated_takeovers_exhaust_the_budget(stores: &dyn Stores) {
    let store = stores.claims(2);
    let short = Duration::from_millis(50);
    token_of(
        store
            .claim("k", &Owner::new(None), short)
            .expect("first holder"),
    );
    for takeover in 1..=2 {
        thread::sleep(Duration::from_millis(120));
        token_of(
            store
                .claim("k", &Owner::new(None), short)
                .unwrap_or_else(|e| panic!("takeover {takeover}: {e}")),
        );
    }
    thread::sleep(Duration::from_millis(120));
    let err = store
        .claim("k", &Owner::new(None), LONG)
        .expect_err("budget spent");
    assert!(
        matches!(
            err,
            ClaimError::ReclaimExhausted {
                takeovers: 2,
                budget: 2,
                ..
            }
        ),
        "{err}"
    );
}

fn fence_005_only_the_holder_renews(stores: &dyn Stores) {
    let store = stores.claims(5);
    let (a, b) = (Owner::new(Some("a")), Owner::new(Some("b")));
    token_of(store.claim("k", &a, SHORT).expect("claim"));
    let first = store.inspect("k").expect("record");
    assert!(matches!(
        store.renew("k", b.token()),
        Err(ClaimError::NotOwner {
            holder: Some(_),
            ..
        })
    ));
    // Renewing every 100 ms keeps a 300 ms lease for a whole second.
    for _ in 0..10 {
        thread::sleep(Duration::from_millis(100));
        store.renew("k", a.token()).expect("renew");
    }
    assert!(matches!(
        store.claim("k", &b, LONG).expect("claim"),
        ClaimOutcome::HeldBy { .. }
    ));
    let renewed = store.inspect("k").expect("record");
    let millis = |r: &waypost_schemas::ClaimRecordV1| {
        r.renewed_at
            .as_ref()
            .map(waypost_schemas::Timestamp::unix_millis)
    };
    assert!(millis(&renewed) > millis(&first));
    assert_eq!(renewed.acquired_at, first.acquired_at);
    assert_eq!(renewed.fencing_token, first.fencing_token);
}

fn fence_009_a_write_with_an_old_token_is_refused(stores: &dyn Stores) {
    let store = stores.claims(5);
    let (a, b) = (Owner::new(Some("a")), Owner::new(Some("b")));
    let old = token_of(store.claim("k", &a, SHORT).expect("claim"));
    assert_eq!(fenced(&*store, "k", old, || 7).expect("current token"), 7);
    thread::sleep(PAST_SHORT);
    // Expired, not yet taken over: no live holder.
    let err = fenced(&*store, "k", old, || ()).expect_err("expired");
    assert!(
        matches!(err, ClaimError::StaleToken { current: None, .. }),
        "{err}"
    );
    let new = token_of(store.claim("k", &b, LONG).expect("takeover"));
    let mut ran = false;
    let err = fenced(&*store, "k", old, || ran = true).expect_err("stale");
    assert!(!ran, "a refused write never runs");
    assert!(
        matches!(err, ClaimError::StaleToken { presented, current: Some(c), .. } if presented == old && c == new),
        "{err}"
    );
    fenced(&*store, "k", new, || ()).expect("the new holder writes");
    store.release("k", b.token()).expect("release");
    let err = fenced(&*store, "k", new, || ()).expect_err("released");
    assert!(
        matches!(err, ClaimError::StaleToken { current: None, .. }),
        "{err}"
    );
}

fn an_unclaimed_key_reads_as_free_and_a_bad_key_is_refused(stores: &dyn Stores) {
    let store = stores.claims(5);
    let record = store.inspect("never").expect("record");
    assert_eq!(record.fencing_token, 0);
    assert!(record.holder.is_none());
    for key in ["", "../up", "a/b"] {
        let err = store
            .claim(key, &Owner::new(None), LONG)
            .expect_err("bad key");
        assert!(matches!(err, ClaimError::InvalidKey(_)), "{key}: {err}");
    }
}

fn fence_007_enqueueing_a_key_twice_stores_one_item(stores: &dyn Stores) {
    assert_eq!(
        stores.enqueue("job-1", "first"),
        Enqueued::Inserted("first".to_owned())
    );
    assert_eq!(
        stores.enqueue("job-1", "second"),
        Enqueued::Existing("first".to_owned())
    );
    assert_eq!(
        stores.enqueue("job-2", "other"),
        Enqueued::Inserted("other".to_owned())
    );
}

fn entry(sequence: u64, prev_hash: &str, text: &str) -> LedgerEntryV1 {
    let mut entry = LedgerEntryV1 {
        format_version: FormatV1,
        entry_id: String::new(),
        ledger: LedgerName::LearnedRules,
        sequence,
        kind: "rule".to_owned(),
        subject: None,
        status: EntryStatus::Recorded,
        supersedes: None,
        source: EntrySource {
            project_id: "demo".to_owned(),
            family: "build".to_owned(),
            run_id: "build-1".to_owned(),
            artifact: "logs/learnings.md".to_owned(),
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

/// Chains `texts` after `existing`, skipping texts already there.
fn chain_texts(existing: &[LedgerEntryV1], texts: &[&str]) -> Vec<LedgerEntryV1> {
    let mut sequence = existing.last().map_or(0, |e| e.sequence);
    let mut prev = existing
        .last()
        .map_or(GENESIS_HASH.to_owned(), |e| e.hash.clone());
    let mut out = Vec::new();
    for text in texts {
        if existing.iter().any(|e| e.summary == *text) {
            continue;
        }
        sequence += 1;
        let next = entry(sequence, &prev, text);
        prev.clone_from(&next.hash);
        out.push(next);
    }
    out
}

fn fence_010_ledger_appends_continue_the_chain(stores: &dyn Stores) {
    let ledgers = stores.ledgers();
    let name = LedgerName::LearnedRules;
    assert!(ledgers.entries(name).expect("empty").is_empty());
    let appended = ledgers
        .append_chained(name, &mut |existing| chain_texts(existing, &["one", "two"]))
        .expect("append");
    assert_eq!(appended.len(), 2);
    // Appending again adds only what is new.
    let appended = ledgers
        .append_chained(name, &mut |existing| {
            chain_texts(existing, &["two", "three"])
        })
        .expect("append");
    assert_eq!(appended.len(), 1);
    let entries = ledgers.entries(name).expect("read");
    let texts: Vec<&str> = entries.iter().map(|e| e.summary.as_str()).collect();
    assert_eq!(texts, ["one", "two", "three"]);
    // A chain built on a head that is no longer the head is refused whole.
    let stale_head = entries[0].clone();
    let err = ledgers
        .append_chained(name, &mut |_| {
            vec![
                entry(2, &stale_head.hash, "fork"),
                entry(3, &stale_head.hash, "more"),
            ]
        })
        .expect_err("a fork");
    assert!(matches!(err, LedgerStoreError::Chain { .. }), "{err}");
    assert_eq!(
        ledgers.entries(name).expect("read").len(),
        3,
        "nothing of it was kept"
    );
    assert!(
        ledgers
            .entries(LedgerName::DebugLog)
            .expect("other ledger")
            .is_empty()
    );
}
