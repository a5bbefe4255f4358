//! FENCE-007: idempotent enqueue.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use waypost_fences::{EnqueueError, EnqueueStore, Enqueued, Insert, JsonlQueue, enqueue_once};

/// A store whose inserts conflict a given number of times (another writer
/// got there first, or a second unique field clashed), and whose rows
/// become visible only after those conflicts, like an uncommitted rival.
struct RacyStore {
    rows: RefCell<BTreeMap<String, String>>,
    conflicts_left: Cell<u32>,
    rival: Option<(String, String)>,
    deletes: Cell<u32>,
}

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

impl EnqueueStore for RacyStore {
    type Item = String;
    type Error = Never;

    fn find(&self, key: &str) -> Result<Option<String>, Never> {
        Ok(self.rows.borrow().get(key).cloned())
    }

    fn insert(&self, key: &str, item: &String) -> Result<Insert, Never> {
        if self.conflicts_left.get() > 0 {
            self.conflicts_left.set(self.conflicts_left.get() - 1);
            if self.conflicts_left.get() == 0
                && let Some((k, v)) = &self.rival
            {
                // The rival's row commits.
                self.rows.borrow_mut().insert(k.clone(), v.clone());
            }
            return Ok(Insert::Conflict);
        }
        if self.rows.borrow().contains_key(key) {
            return Ok(Insert::Conflict);
        }
        self.rows.borrow_mut().insert(key.to_owned(), item.clone());
        Ok(Insert::Inserted)
    }
}

#[test]
fn fence_007_a_conflict_returns_the_other_callers_item() {
    let store = RacyStore {
        rows: RefCell::default(),
        conflicts_left: Cell::new(2),
        rival: Some(("job".into(), "rival's".into())),
        deletes: Cell::new(0),
    };
    let outcome = enqueue_once(&store, "job", "mine".to_owned(), 5).expect("enqueue");
    assert_eq!(outcome, Enqueued::Existing("rival's".to_owned()));
    assert_eq!(
        store.rows.borrow().len(),
        1,
        "the rival's row was neither duplicated nor removed"
    );
    assert_eq!(store.deletes.get(), 0);
}

#[test]
fn fence_007_persistent_conflicts_are_bounded() {
    let store = RacyStore {
        rows: RefCell::default(),
        conflicts_left: Cell::new(u32::MAX),
        rival: None,
        deletes: Cell::new(0),
    };
    let err = enqueue_once(&store, "job", "mine".to_owned(), 3).expect_err("always conflicting");
    assert!(
        matches!(err, EnqueueError::Exhausted { attempts: 3, .. }),
        "{err}"
    );
    assert!(store.rows.borrow().is_empty());
}

#[test]
fn the_jsonl_queue_stores_each_key_once() {
    let dir = tempfile::tempdir().expect("temp");
    let queue: JsonlQueue<String> = JsonlQueue::new(dir.path().join("q.jsonl"));
    assert_eq!(
        enqueue_once(&queue, "a", "first".into(), 3).expect("a"),
        Enqueued::Inserted("first".into())
    );
    assert_eq!(
        enqueue_once(&queue, "a", "second".into(), 3).expect("a again"),
        Enqueued::Existing("first".into())
    );
    assert_eq!(
        enqueue_once(&queue, "b", "other".into(), 3)
            .expect("b")
            .into_item(),
        "other"
    );
    assert_eq!(
        queue.entries().expect("entries"),
        vec![("a".into(), "first".into()), ("b".into(), "other".into())]
    );
}
