//! What the PostgreSQL store does when things go wrong: bad input, a
//! server that is down, a newer schema, a session cut off mid-claim, a
//! restart, a stale token sent straight to the database.

use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use waypost_fences::{ClaimError, ClaimOutcome, ClaimStore, Owner};
use waypost_store_postgres::{PgOptions, PgStore, SCHEMA_VERSION, StoreError};

use crate::support::{TestDb, exclusive, options, pg_url};

const LONG: Duration = Duration::from_secs(600);

fn token_of(outcome: ClaimOutcome) -> u64 {
    match outcome {
        ClaimOutcome::Claimed { fencing_token, .. } => fencing_token,
        ClaimOutcome::HeldBy { holder, .. } => panic!("held by pid {}", holder.pid),
    }
}

#[test]
fn a_bad_url_is_named_without_its_password() {
    for (url, wants) in [
        ("postgres://ann:s3cret@db:notaport/wp", "not usable"),
        ("postgres:///wp", "names no host"),
        ("mysql://ann:s3cret@db/wp", "not usable"),
    ] {
        let err = PgStore::connect(url, PgOptions::default()).expect_err(url);
        let text = err.to_string();
        assert!(matches!(err, StoreError::BadUrl { .. }), "{url}: {text}");
        assert!(text.contains(wants), "{url}: {text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
    let err = PgStore::connect(
        "postgres://ann@db/wp",
        PgOptions::default().with_schema("Bad-Name"),
    )
    .expect_err("bad schema");
    assert!(err.to_string().contains("`Bad-Name`"), "{err}");
}

#[test]
fn a_server_that_is_down_is_reported_after_a_bounded_wait() {
    let port = TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let started = Instant::now();
    let err = PgStore::connect(
        &format!("postgres://ann:s3cret@127.0.0.1:{port}/wp"),
        PgOptions::default().with_retry_budget(Duration::from_millis(600)),
    )
    .expect_err("nothing listens there");
    let text = err.to_string();
    assert!(
        matches!(err, StoreError::Unavailable { attempts, .. } if attempts > 1),
        "{text}"
    );
    assert!(text.contains(&format!("ann@127.0.0.1:{port}/wp")), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(10), "bounded");
}

#[test]
fn migrations_apply_once_and_a_newer_schema_is_refused() {
    let Some(db) = TestDb::new("migrations") else {
        return;
    };
    assert_eq!(db.store.schema_version().expect("version"), SCHEMA_VERSION);
    let again = db.store.migrate().expect("migrate again");
    assert_eq!((again.from, again.to), (SCHEMA_VERSION, SCHEMA_VERSION));
    let mut client = db.client();
    let versions: i64 = client
        .query_one("SELECT count(*) FROM schema_version", &[])
        .expect("count")
        .get(0);
    assert_eq!(versions, i64::from(SCHEMA_VERSION));
    client
        .execute(
            "INSERT INTO schema_version (version, description) VALUES (99, 'from the future')",
            &[],
        )
        .expect("a newer version");
    let err = PgStore::connect(&db.url, options(&db.schema)).expect_err("newer schema");
    let text = err.to_string();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, .. }),
        "{text}"
    );
    assert!(
        text.contains("schema version 99") && text.contains("upgrade waypost"),
        "{text}"
    );
}

#[test]
fn pgstore_002_expiry_is_judged_by_the_database_clock() {
    let Some(db) = TestDb::new("clock") else {
        return;
    };
    let store = db.store.claims("clock");
    let (a, b) = (Owner::new(Some("a")), Owner::new(Some("b")));
    token_of(store.claim("k", &a, LONG).expect("claim"));
    let mut client = db.client();
    let db_now: i64 = client
        .query_one("SELECT unix_ms(clock_timestamp())", &[])
        .expect("clock")
        .get(0);
    let record = store.inspect("k").expect("record");
    let renewed = record.renewed_at.expect("renewed").unix_millis();
    assert!(
        (db_now - renewed).abs() < 5_000,
        "the record holds the database's time ({renewed} vs {db_now})"
    );
    assert!(matches!(
        store.claim("k", &b, LONG).expect("claim"),
        ClaimOutcome::HeldBy { .. }
    ));
    // Eleven minutes pass on the database's clock (whatever the clients'
    // clocks say): the ten-minute lease is over and b takes over at once.
    client
        .execute(
            "UPDATE claims SET renewed_at = renewed_at - interval '11 minutes' WHERE key = 'k'",
            &[],
        )
        .expect("age the lease");
    match store.claim("k", &b, LONG).expect("claim") {
        ClaimOutcome::Claimed {
            fencing_token,
            took_over,
        } => {
            assert_eq!(fencing_token, 2);
            assert_eq!(took_over.and_then(|h| h.label).as_deref(), Some("a"));
        }
        other => panic!("an expired lease was not taken over: {other:?}"),
    }
}

#[test]
fn pgstore_003_the_database_refuses_a_stale_token_from_any_client() {
    let Some(db) = TestDb::new("stale") else {
        return;
    };
    let store = db.store.claims("stale");
    let (a, b) = (Owner::new(Some("a")), Owner::new(Some("b")));
    let old = token_of(
        store
            .claim("k", &a, Duration::from_millis(200))
            .expect("claim"),
    );
    store
        .put_fenced("k", old, "state", b"a's")
        .expect("current holder writes");
    thread::sleep(Duration::from_millis(400));
    let new = token_of(store.claim("k", &b, LONG).expect("takeover"));
    store
        .put_fenced("k", new, "state", b"b's")
        .expect("new holder writes");
    let err = store
        .put_fenced("k", old, "state", b"late")
        .expect_err("stale token");
    assert!(
        matches!(err, ClaimError::StaleToken { presented, current: Some(c), .. } if presented == old && c == new),
        "{err}"
    );
    // The same write sent by any other client, without waypost's code.
    let mut client = db.client();
    let raw = client
        .execute(
            "UPDATE fenced_values SET value = 'raw', fencing_token = $1 WHERE claim_key = 'k'",
            &[&i64::try_from(old).expect("small")],
        )
        .expect_err("the database refuses it");
    assert_eq!(raw.code().map(|c| c.code()), Some("WPF01"), "{raw}");
    let raw = client
        .execute(
            "INSERT INTO fenced_values (namespace, claim_key, name, fencing_token, value) VALUES ('stale', 'k', 'other', $1, 'x')",
            &[&i64::try_from(old).expect("small")],
        )
        .expect_err("the database refuses it");
    assert_eq!(raw.code().map(|c| c.code()), Some("WPF01"), "{raw}");
    assert_eq!(
        store.get_fenced("k", "state").expect("read"),
        Some((new, b"b's".to_vec()))
    );
    // The counter never goes back, and a claim row is never deleted.
    let back = client
        .execute("UPDATE claims SET fencing_token = 1 WHERE key = 'k'", &[])
        .expect_err("counter back");
    assert_eq!(back.code().map(|c| c.code()), Some("WPC01"), "{back}");
    let delete = client
        .execute("DELETE FROM claims WHERE key = 'k'", &[])
        .expect_err("delete");
    assert_eq!(delete.code().map(|c| c.code()), Some("WPC02"), "{delete}");
}

#[test]
fn pgstore_001_a_claim_cut_off_before_its_commit_is_not_granted() {
    let Some(db) = TestDb::new("cutoff") else {
        return;
    };
    // A claim runs inside a transaction whose session is ended by the
    // server before it commits: nothing of it remains.
    let mut victim = db.client();
    let victim_pid: i32 = victim
        .query_one("SELECT pg_backend_pid()", &[])
        .expect("pid")
        .get(0);
    victim.batch_execute("BEGIN").expect("begin");
    let owner = Owner::new(Some("cut off"));
    let holder = serde_json::to_string(owner.identity()).expect("json");
    let granted: i64 = victim
        .query_one(
            "SELECT o_token FROM claim_key('cutoff', 'k', $1, $2, 600000, 5)",
            &[&owner.token(), &holder],
        )
        .expect("claim inside the transaction")
        .get(0);
    assert_eq!(granted, 1);
    let mut admin = db.client();
    let ended: bool = admin
        .query_one("SELECT pg_terminate_backend($1)", &[&victim_pid])
        .expect("terminate")
        .get(0);
    assert!(ended);
    assert!(
        victim.batch_execute("COMMIT").is_err(),
        "the session is gone"
    );
    let store = db.store.claims("cutoff");
    let next = Owner::new(Some("next"));
    // The row lock of the dead session is released with it.
    assert_eq!(token_of(store.claim("k", &next, LONG).expect("claim")), 1);
    let record = store.inspect("k").expect("record");
    assert_eq!(record.holder.and_then(|h| h.label).as_deref(), Some("next"));
}

#[test]
fn pgstore_001_a_store_whose_session_is_ended_reconnects_and_never_grants_twice() {
    let Some(db) = TestDb::new("reconnect") else {
        return;
    };
    let store = db.store.claims("reconnect");
    let (a, b) = (Owner::new(Some("a")), Owner::new(Some("b")));
    let token = token_of(store.claim("k", &a, LONG).expect("claim"));
    let pid = db.store.backend_pid().expect("pid");
    let mut admin = db.client();
    admin
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .expect("terminate");
    // The next call reconnects and, claiming its own key, gets its token back.
    assert_eq!(token_of(store.claim("k", &a, LONG).expect("claim")), token);
    assert_ne!(db.store.backend_pid().expect("pid"), pid, "a new session");
    assert!(matches!(
        store.claim("k", &b, LONG).expect("claim"),
        ClaimOutcome::HeldBy { fencing_token, .. } if fencing_token == token
    ));
}

#[test]
fn pgstore_001_a_database_restart_loses_no_claim_and_grants_none_twice() {
    let Some(url) = pg_url("restart") else {
        return;
    };
    let Ok(restart) = std::env::var("WAYPOST_TEST_PG_RESTART") else {
        eprintln!(
            "skipped restart: WAYPOST_TEST_PG_RESTART is not set (cargo xtask with-postgres sets it)"
        );
        return;
    };
    let _alone = exclusive();
    let db = TestDb::unguarded(&url, "restart");
    let store = db.store.claims("restart");
    let (a, b) = (Owner::new(Some("a")), Owner::new(Some("b")));
    let token = token_of(store.claim("k", &a, LONG).expect("claim"));
    let restarting = thread::spawn(move || {
        let status = std::process::Command::new(&restart)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run the restart script");
        assert!(status.success(), "restart: {status}");
    });
    // Renew through the restart: calls wait for the server and go on.
    let started = Instant::now();
    while !restarting.is_finished() {
        store
            .renew("k", a.token())
            .expect("renew across the restart");
        thread::sleep(Duration::from_millis(20));
    }
    restarting.join().expect("restart thread");
    store
        .renew("k", a.token())
        .expect("renew after the restart");
    let other = db.store.claims("restart");
    match other.claim("k", &b, LONG).expect("claim after the restart") {
        ClaimOutcome::HeldBy {
            fencing_token,
            holder,
            ..
        } => {
            assert_eq!(fencing_token, token);
            assert_eq!(holder.label.as_deref(), Some("a"));
        }
        other => panic!("the claim was granted twice: {other:?}"),
    }
    store.release("k", a.token()).expect("release");
    assert_eq!(
        token_of(other.claim("k", &b, LONG).expect("claim")),
        token + 1
    );
    eprintln!(
        "restart: the server restarted in {:.1?}; the claim survived",
        started.elapsed()
    );
}

#[test]
fn pgstore_004_the_one_statement_claim_agrees_with_claim_key() {
    let Some(db) = TestDb::new("agree") else {
        return;
    };
    // The same steps on two namespaces: through the store (the one-statement
    // claim wherever it applies) and through claim_key() alone.
    let store = db.store.claims("fast");
    let mut client = db.client();
    let mut decided = |owner: &Owner, lease_ms: i64| -> (String, i64, Option<String>) {
        let holder = serde_json::to_string(owner.identity()).expect("json");
        let row = client
            .query_one(
                "SELECT o_outcome, o_token, o_took_over FROM claim_key('slow', 'k', $1, $2, $3, 5)",
                &[&owner.token(), &holder, &lease_ms],
            )
            .expect("claim_key");
        let took_over: Option<String> = row.get(2);
        let label = took_over.map(|t| {
            serde_json::from_str::<waypost_schemas::HolderIdentity>(&t)
                .expect("holder")
                .label
                .unwrap_or_default()
        });
        (row.get(0), row.get(1), label)
    };
    let slow = db.store.claims("slow");
    let fast = |owner: &Owner, lease_ms: u64| -> (String, i64, Option<String>) {
        match store
            .claim("k", owner, Duration::from_millis(lease_ms))
            .expect("claim")
        {
            ClaimOutcome::Claimed {
                fencing_token,
                took_over,
            } => (
                "claimed".to_owned(),
                i64::try_from(fencing_token).expect("small"),
                took_over.and_then(|h| h.label),
            ),
            ClaimOutcome::HeldBy { fencing_token, .. } => (
                "held".to_owned(),
                i64::try_from(fencing_token).expect("small"),
                None,
            ),
        }
    };
    let (a, b) = (Owner::new(Some("a")), Owner::new(Some("b")));
    let compare = |step: &str, fast: (String, i64, Option<String>), slow_answer| {
        assert_eq!(fast, slow_answer, "{step}: the answers differ");
        let (f, s) = (
            store.inspect("k").expect("fast record"),
            slow.inspect("k").expect("slow record"),
        );
        assert_eq!(
            (
                f.fencing_token,
                f.transitions,
                f.consecutive_takeovers,
                f.lease_duration_ms
            ),
            (
                s.fencing_token,
                s.transitions,
                s.consecutive_takeovers,
                s.lease_duration_ms
            ),
            "{step}: the records differ"
        );
        assert_eq!(
            f.holder.map(|h| h.label),
            s.holder.map(|h| h.label),
            "{step}: the holders differ"
        );
    };
    compare("a claims a new key", fast(&a, 300), decided(&a, 300));
    compare("a claims its own key", fast(&a, 300), decided(&a, 300));
    compare(
        "b meets a live holder",
        fast(&b, 60_000),
        decided(&b, 60_000),
    );
    thread::sleep(Duration::from_millis(450));
    compare(
        "b takes over an expired lease",
        fast(&b, 60_000),
        decided(&b, 60_000),
    );
    store.release("k", b.token()).expect("release fast");
    slow.release("k", b.token()).expect("release slow");
    compare("a claims a free key", fast(&a, 60_000), decided(&a, 60_000));
}
