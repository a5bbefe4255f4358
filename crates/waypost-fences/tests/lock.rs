//! FENCE-001: exclusive file locks.

use std::time::{Duration, Instant};

use waypost_fences::{LockError, LockFile, identity};

#[test]
fn fence_001_a_second_process_cannot_take_a_held_lock() {
    // flock is per open file description: a second open in this process
    // contends exactly as another process would (the SIGKILL case runs in
    // processes.rs).
    let dir = tempfile::tempdir().expect("temp");
    let lock = LockFile::new(dir.path().join("a.lock"));
    let me = identity::this_process(Some("first"));
    let guard = lock.try_acquire(&me).expect("try").expect("free");
    assert!(
        lock.try_acquire(&identity::this_process(Some("second")))
            .expect("try")
            .is_none()
    );
    let start = Instant::now();
    let err = lock
        .acquire(
            &identity::this_process(Some("second")),
            Duration::from_millis(100),
        )
        .expect_err("held for the whole timeout");
    assert!(start.elapsed() >= Duration::from_millis(100));
    match &err {
        LockError::Timeout {
            holder: Some(holder),
            ..
        } => assert_eq!(holder.label.as_deref(), Some("first")),
        other => panic!("expected a timeout naming the holder, got {other}"),
    }
    assert!(
        err.to_string().contains("a.lock") && err.to_string().contains("first"),
        "{err}"
    );
    drop(guard);
    assert!(
        lock.try_acquire(&me).expect("try").is_some(),
        "free again after release"
    );
}

#[test]
fn fence_001_a_replaced_lock_file_is_not_trusted() {
    // A holder locks the file; someone "cleans up" by deleting it; the next
    // process creates a new file at the path. Both would hold "the lock" if
    // the newcomer trusted the old inode: the re-check after locking makes
    // the newcomer lock the file that is on disk now.
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("b.lock");
    let lock = LockFile::new(&path);
    let old = lock
        .try_acquire(&identity::this_process(Some("old")))
        .expect("try")
        .expect("free");
    std::fs::remove_file(&path).expect("someone deletes the lock file");
    let new = lock
        .try_acquire(&identity::this_process(Some("new")))
        .expect("try")
        .expect("the new file is free");
    // The old holder's inode is gone from the path: a third party now
    // contends with the new holder, not the orphaned inode.
    assert!(
        lock.try_acquire(&identity::this_process(Some("third")))
            .expect("try")
            .is_none()
    );
    assert_eq!(lock.holder().and_then(|h| h.label), Some("new".to_owned()));
    drop((old, new));
}

#[test]
fn waiting_acquire_gets_the_lock_when_the_holder_lets_go() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("c.lock");
    let guard = LockFile::new(&path)
        .try_acquire(&identity::this_process(None))
        .expect("try")
        .expect("free");
    let waiter = std::thread::spawn(move || {
        LockFile::new(path).acquire(
            &identity::this_process(Some("waiter")),
            Duration::from_secs(5),
        )
    });
    std::thread::sleep(Duration::from_millis(50));
    drop(guard);
    let acquired = waiter
        .join()
        .expect("thread")
        .expect("acquired after release");
    assert_eq!(acquired.holder().label.as_deref(), Some("waiter"));
}
