//! FENCE-002..004: claims, fencing tokens, stale recovery, bad claim files.

use std::fs;
use std::time::Duration;

use waypost_fences::{ClaimError, ClaimOutcome, ClaimStore, FileClaimStore, Owner, identity};
use waypost_schemas::HolderIdentity;

const LONG: Duration = Duration::from_secs(600);

fn token_of(outcome: ClaimOutcome) -> u64 {
    match outcome {
        ClaimOutcome::Claimed { fencing_token, .. } => fencing_token,
        ClaimOutcome::HeldBy { holder, .. } => panic!("held by pid {}", holder.pid),
    }
}

/// An owner that looks like a process on this host that has exited.
fn dead_owner() -> Owner {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("reap");
    Owner::from_identity(HolderIdentity {
        pid,
        process_start: None,
        ..identity::this_process(Some("dead"))
    })
}

#[test]
fn fence_002_a_held_claim_is_refused_to_another_owner() {
    let dir = tempfile::tempdir().expect("temp");
    let store = FileClaimStore::new(dir.path());
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
    // Only the holder may release or renew.
    assert!(matches!(
        store.release("k", b.token()),
        Err(ClaimError::NotOwner { .. })
    ));
    assert!(matches!(
        store.renew("k", b.token()),
        Err(ClaimError::NotOwner { .. })
    ));
    store.release("k", a.token()).expect("release");
    assert!(matches!(
        store.release("k", a.token()),
        Err(ClaimError::NotOwner { holder: None, .. })
    ));
}

#[test]
fn fence_003_tokens_increase_across_release_and_takeover() {
    let dir = tempfile::tempdir().expect("temp");
    let store = FileClaimStore::new(dir.path());
    let a = Owner::new(Some("a"));
    let t1 = token_of(store.claim("k", &a, LONG).expect("claim"));
    store.release("k", a.token()).expect("release");
    let t2 = token_of(store.claim("k", &a, LONG).expect("claim"));
    store.release("k", a.token()).expect("release");
    let dead = dead_owner();
    let t3 = token_of(store.claim("k", &dead, LONG).expect("claim"));
    let t4 = token_of(store.claim("k", &a, LONG).expect("takeover"));
    assert_eq!([t1, t2, t3, t4], [1, 2, 3, 4]);
    let record = store.inspect("k").expect("record");
    assert_eq!((record.fencing_token, record.transitions), (4, 1));
}

#[test]
fn fence_004_expiry_uses_the_duration_in_the_record() {
    let dir = tempfile::tempdir().expect("temp");
    let store = FileClaimStore::new(dir.path());
    let (a, b) = (Owner::new(Some("a")), Owner::new(Some("b")));
    // a is alive (this process), so only expiry can free the claim.
    token_of(
        store
            .claim("k", &a, Duration::from_millis(800))
            .expect("claim"),
    );
    // b asks for a long lease: that does not extend a's.
    assert!(matches!(
        store.claim("k", &b, LONG).expect("claim"),
        ClaimOutcome::HeldBy { .. }
    ));
    std::thread::sleep(Duration::from_millis(1000));
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
}

#[test]
fn fence_004_a_dead_holder_is_taken_over_at_once() {
    let dir = tempfile::tempdir().expect("temp");
    let store = FileClaimStore::new(dir.path());
    token_of(store.claim("k", &dead_owner(), LONG).expect("claim"));
    match store
        .claim("k", &Owner::new(Some("b")), LONG)
        .expect("claim")
    {
        ClaimOutcome::Claimed {
            took_over: Some(previous),
            ..
        } => assert_eq!(previous.label.as_deref(), Some("dead")),
        other => panic!("a dead holder's ten-minute lease blocked the key: {other:?}"),
    }
}

#[test]
fn fence_004_repeated_takeovers_exhaust_the_budget() {
    let dir = tempfile::tempdir().expect("temp");
    let store = FileClaimStore::new(dir.path()).with_reclaim_budget(2);
    token_of(store.claim("k", &dead_owner(), LONG).expect("first holder"));
    token_of(store.claim("k", &dead_owner(), LONG).expect("takeover 1"));
    token_of(store.claim("k", &dead_owner(), LONG).expect("takeover 2"));
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
    assert!(
        err.to_string().contains("reclaim budget exhausted"),
        "{err}"
    );
}

#[test]
fn a_clean_release_resets_the_takeover_count() {
    let dir = tempfile::tempdir().expect("temp");
    let store = FileClaimStore::new(dir.path()).with_reclaim_budget(1);
    let alive = Owner::new(Some("alive"));
    for _ in 0..3 {
        token_of(store.claim("k", &dead_owner(), LONG).expect("claim"));
        token_of(
            store
                .claim("k", &alive, LONG)
                .expect("one takeover fits the budget"),
        );
        store.release("k", alive.token()).expect("clean release");
    }
    assert_eq!(store.inspect("k").expect("record").transitions, 3);
}

#[test]
fn bad_claim_files_are_typed_errors_and_are_never_deleted() {
    let dir = tempfile::tempdir().expect("temp");
    let store = FileClaimStore::new(dir.path());
    let path = store.record_path("k").expect("key");
    let good = {
        let a = Owner::new(None);
        token_of(store.claim("k", &a, LONG).expect("claim"));
        fs::read_to_string(&path).expect("record")
    };
    let future = good.replace("\"format_version\": \"v1\"", "\"format_version\": \"v9\"");
    type Case = (&'static str, String, fn(&ClaimError) -> bool);
    let cases: [Case; 5] = [
        (
            "empty",
            String::new(),
            |e| matches!(e, ClaimError::Corrupt { problem, .. } if problem.contains("empty")),
        ),
        (
            "truncated",
            good[..good.len() / 2].to_owned(),
            |e| matches!(e, ClaimError::Corrupt { problem, .. } if problem.contains("not JSON")),
        ),
        ("not JSON", "lock held by bob".to_owned(), |e| {
            matches!(e, ClaimError::Corrupt { .. })
        }),
        (
            "future version",
            future,
            |e| matches!(e, ClaimError::UnsupportedVersion { found, .. } if found == "v9"),
        ),
        (
            "other key",
            good.replace("\"key\": \"k\"", "\"key\": \"other\""),
            |e| matches!(e, ClaimError::Corrupt { problem, .. } if problem.contains("`other`")),
        ),
    ];
    for (what, contents, expected) in cases {
        fs::write(&path, &contents).expect("write bad file");
        let err = store.claim("k", &Owner::new(None), LONG).expect_err(what);
        assert!(expected(&err), "{what}: {err}");
        assert!(err.to_string().contains("k.claim.json"), "{what}: {err}");
        assert_eq!(
            fs::read_to_string(&path).expect("still there"),
            contents,
            "{what}: file changed"
        );
        assert!(
            store.inspect("k").is_err(),
            "{what}: inspect reports it too"
        );
    }
}

#[test]
fn hostile_keys_are_refused() {
    let dir = tempfile::tempdir().expect("temp");
    let store = FileClaimStore::new(dir.path());
    for key in ["../escape", "a/b", "", ".hidden"] {
        let err = store.claim(key, &Owner::new(None), LONG).expect_err(key);
        assert!(matches!(err, ClaimError::InvalidKey(_)), "{key}: {err}");
    }
}

#[test]
fn fence_009_a_write_with_an_old_token_is_refused() {
    let dir = tempfile::tempdir().expect("temp");
    let store = FileClaimStore::new(dir.path());
    let live = Owner::new(Some("live"));
    let first = token_of(store.claim("ws", &live, LONG).expect("claim"));
    assert_eq!(
        store.fenced("ws", first, || 7).expect("current token"),
        7,
        "a current token runs the write and returns its value"
    );
    store.release("ws", live.token()).expect("release");

    // A holder that died: its token no longer writes, even before anyone
    // takes over.
    let dead = dead_owner();
    let old = token_of(store.claim("ws", &dead, LONG).expect("claim"));
    let mut ran = false;
    let err = store
        .fenced("ws", old, || ran = true)
        .expect_err("dead holder");
    assert!(
        matches!(err, ClaimError::StaleToken { current: None, .. }),
        "{err}"
    );

    let next = Owner::new(Some("next"));
    let new = token_of(store.claim("ws", &next, LONG).expect("takeover"));
    let err = store
        .fenced("ws", old, || ran = true)
        .expect_err("old token");
    assert!(!ran, "a refused write never runs");
    assert!(
        matches!(err, ClaimError::StaleToken { presented, current: Some(c), .. } if presented == old && c == new),
        "{err}"
    );
    store
        .fenced("ws", new, || ())
        .expect("the successor writes");
    store.release("ws", next.token()).expect("release");
    let err = store.fenced("ws", new, || ()).expect_err("released");
    assert!(
        matches!(err, ClaimError::StaleToken { current: None, .. }),
        "a released lease fences every token: {err}"
    );
}
