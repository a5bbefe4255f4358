//! FENCE-005: heartbeats.

use std::sync::Arc;
use std::time::Duration;

use waypost_fences::{ClaimOutcome, ClaimStore, FileClaimStore, Heartbeat, HeartbeatEnd, Owner};

#[test]
fn fence_005_a_heartbeat_keeps_a_short_lease_alive() {
    let dir = tempfile::tempdir().expect("temp");
    let store = Arc::new(FileClaimStore::new(dir.path()));
    let a = Owner::new(Some("a"));
    // Wide margins: the suite runs process tests alongside on two cores.
    let lease = Duration::from_millis(500);
    assert!(matches!(
        store.claim("k", &a, lease).expect("claim"),
        ClaimOutcome::Claimed { .. }
    ));
    let heartbeat = Heartbeat::start(
        Arc::clone(&store),
        "k",
        a.token(),
        Duration::from_millis(40),
    );
    // Three lease lengths later the claim is still a's.
    std::thread::sleep(lease * 3);
    assert!(matches!(
        store
            .claim("k", &Owner::new(Some("b")), lease)
            .expect("claim"),
        ClaimOutcome::HeldBy { .. }
    ));
    assert!(heartbeat.is_running());
    match heartbeat.stop() {
        HeartbeatEnd::Stopped { renewals } => assert!(renewals >= 10, "{renewals} renewals"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn fence_005_a_heartbeat_stops_itself_when_ownership_is_lost() {
    let dir = tempfile::tempdir().expect("temp");
    let store = Arc::new(FileClaimStore::new(dir.path()));
    let a = Owner::new(Some("a"));
    let _ = store
        .claim("k", &a, Duration::from_secs(600))
        .expect("claim");
    let heartbeat = Heartbeat::start(
        Arc::clone(&store),
        "k",
        a.token(),
        Duration::from_millis(20),
    );
    // Someone releases a's claim (an operator, or a's own other thread) and b claims it.
    store.release("k", a.token()).expect("release");
    let b = Owner::new(Some("b"));
    let _ = store
        .claim("k", &b, Duration::from_secs(600))
        .expect("claim");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !heartbeat.is_running(),
        "the heartbeat noticed the loss and stopped"
    );
    assert!(matches!(heartbeat.stop(), HeartbeatEnd::Lost { .. }));
    let record = store.inspect("k").expect("record");
    assert_eq!(
        record.holder.map(|h| h.owner_token),
        Some(b.token().to_owned()),
        "b's claim is untouched"
    );
}
