//! Claims on PostgreSQL: one row per key, decided by a function that runs
//! under the row's lock, with the database's clock.

use std::time::Duration;

use postgres::Row;
use waypost_fences::{ClaimError, ClaimOutcome, ClaimStore, DEFAULT_RECLAIM_BUDGET, Owner};
use waypost_schemas::layout::{IdKind, check_id};
use waypost_schemas::{ClaimRecordV1, FormatV1, HolderIdentity, Timestamp};

use crate::connection::{PgStore, is_connection_error};
use crate::error::StoreError;

/// The longest lease the store records: ten years. Longer leases are
/// recorded as this long.
pub const MAX_LEASE: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

// Invariant: PGSTORE-001 At most one owner holds a claim, whichever host it runs on.
// Category: concurrency
// Why: runs spread over several machines share workspaces, slots and ports; file locks
//      do not reach across hosts, so two hosts would both believe they own a key.
// Root cause: deciding on a row read without its lock, or in two transactions (read,
//      then write) between which another host's claim lands.
// Correct pattern: one call of claim_key() per claim: it locks the key's row (FOR UPDATE,
//      inserting the row first if needed), reads the database's clock once the row is
//      held, decides and writes in the same transaction.
// Forbidden: SELECT then UPDATE from the client; judging expiry with the client's clock;
//      advisory locks that end with the session that took them (a reconnect loses them).
// Enforced by: PgClaimStore::claim and the claim_key() function of migration 1.

// Invariant: PGSTORE-002 A lease expires by the database's clock only.
// Category: concurrency
// Why: hosts' clocks disagree; a claimer whose clock runs ahead would take over a live
//      holder, one whose clock lags would wait for a dead one.
// Correct pattern: acquired_at and renewed_at are written with clock_timestamp() inside
//      the database and expiry compares them with clock_timestamp() there; no client time
//      is ever sent.
// Forbidden: passing a client's now() as a parameter; computing expiry in the client.
// Enforced by: claim_key(), touch_key() and fence_check() of migration 1.

// Invariant: PGSTORE-003 A write with a stale fencing token is refused by the database itself.
// Category: concurrency
// Why: a holder that lost its lease (paused, partitioned) may still send writes; a check
//      in client code is skipped by any other client, or by the same client racing a
//      takeover.
// Correct pattern: fence_check() raises SQLSTATE WPF01 unless the token is the key's live
//      holder's and holds the row FOR SHARE to the end of the transaction; the trigger on
//      fenced_values calls it for every row written, whoever sends it; the claims trigger
//      refuses a fencing counter that goes backwards or a deleted claim row.
// Forbidden: checking the token in the client and then writing; a token compared with a
//      cached copy.
// Enforced by: PgClaimStore::run_fenced, PgClaimStore::put_fenced, the fenced_values and
//      claims triggers.

/// Claims of one namespace in a [`PgStore`]: a [`ClaimStore`] shared by
/// every host that reaches the database.
///
/// Differences from the file store, on purpose: a holder is judged stale
/// only when its lease ran out by the database's clock (a holder on another
/// host cannot be seen to be dead, so none is), and every time in a record
/// is the database's.
#[derive(Clone, Debug)]
pub struct PgClaimStore {
    store: PgStore,
    namespace: String,
    reclaim_budget: u32,
}

impl PgClaimStore {
    /// Claims in `namespace` (`"slots"`, `"<project>/leases"`, …) of `store`.
    pub fn new(store: PgStore, namespace: impl Into<String>) -> Self {
        Self {
            store,
            namespace: namespace.into(),
            reclaim_budget: DEFAULT_RECLAIM_BUDGET,
        }
    }

    /// How many consecutive takeovers a key allows before claims fail with
    /// [`ClaimError::ReclaimExhausted`].
    #[must_use]
    pub fn with_reclaim_budget(mut self, budget: u32) -> Self {
        self.reclaim_budget = budget;
        self
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The store.
    pub fn store(&self) -> &PgStore {
        &self.store
    }

    /// Writes `value` as `name` under `key`'s claim. The database refuses
    /// it with [`ClaimError::StaleToken`] unless `fencing_token` is the
    /// token of the key's live holder.
    pub fn put_fenced(
        &self,
        key: &str,
        fencing_token: u64,
        name: &str,
        value: &[u8],
    ) -> Result<(), ClaimError> {
        check_id(IdKind::Claim, key)?;
        let token = to_i64(fencing_token);
        self.store
            .run("write a fenced value", |conn| {
                let statement = conn.prepared(
                    "INSERT INTO fenced_values (namespace, claim_key, name, fencing_token, value)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (namespace, claim_key, name)
                     DO UPDATE SET value = EXCLUDED.value, fencing_token = EXCLUDED.fencing_token",
                )?;
                conn.client
                    .execute(&statement, &[&self.namespace, &key, &name, &token, &value])
            })
            .map_err(|e| self.error(key, fencing_token, e))?;
        Ok(())
    }

    /// The value written as `name` under `key`'s claim, with the token it
    /// was written with.
    pub fn get_fenced(&self, key: &str, name: &str) -> Result<Option<(u64, Vec<u8>)>, ClaimError> {
        check_id(IdKind::Claim, key)?;
        let row = self
            .store
            .run("read a fenced value", |conn| {
                let statement = conn.prepared(
                    "SELECT fencing_token, value FROM fenced_values
                     WHERE namespace = $1 AND claim_key = $2 AND name = $3",
                )?;
                conn.client
                    .query_opt(&statement, &[&self.namespace, &key, &name])
            })
            .map_err(|e| store_error(key, e))?;
        Ok(row.map(|row| (to_u64(row.get(0)), row.get(1))))
    }

    /// Maps a store error, turning the database's fence refusal (SQLSTATE
    /// WPF01) into [`ClaimError::StaleToken`].
    fn error(&self, key: &str, presented: u64, error: StoreError) -> ClaimError {
        if let StoreError::Query { source, .. } = &error
            && let Some(db) = source.as_db_error()
            && db.code().code() == "WPF01"
        {
            return ClaimError::StaleToken {
                key: key.to_owned(),
                presented,
                current: db.detail().and_then(|d| d.parse().ok()),
            };
        }
        store_error(key, error)
    }

    fn record(
        &self,
        key: &str,
        row: Option<&Row>,
        offset: usize,
    ) -> Result<ClaimRecordV1, ClaimError> {
        let Some(row) = row else {
            return Ok(ClaimRecordV1::unclaimed(key));
        };
        let holder: Option<String> = row.get(offset + 1);
        let holder = holder.map(|text| self.holder(key, &text)).transpose()?;
        let stamp = |i: usize| -> Result<Option<Timestamp>, ClaimError> {
            row.get::<_, Option<i64>>(offset + i)
                .map(|ms| {
                    Timestamp::from_unix_millis(ms).map_err(|e| {
                        store_error(key, self.store.corrupt("claim time", e.to_string()))
                    })
                })
                .transpose()
        };
        Ok(ClaimRecordV1 {
            format_version: FormatV1,
            key: key.to_owned(),
            fencing_token: to_u64(row.get(offset)),
            holder,
            acquired_at: stamp(2)?,
            renewed_at: stamp(3)?,
            lease_duration_ms: to_u64(row.get(offset + 4)),
            released_at: stamp(5)?,
            transitions: to_u64(row.get(offset + 6)),
            consecutive_takeovers: u32::try_from(row.get::<_, i32>(offset + 7)).unwrap_or(0),
            extra: Default::default(),
        })
    }

    fn holder(&self, key: &str, text: &str) -> Result<HolderIdentity, ClaimError> {
        serde_json::from_str(text).map_err(|e| {
            store_error(
                key,
                self.store.corrupt("claim holder", format!("{e}: {text}")),
            )
        })
    }

    /// Renews (`release` false) or releases a claim the token holds: one
    /// UPDATE that changes the row only if the token holds it.
    fn touch(
        &self,
        key: &str,
        owner_token: &str,
        release: bool,
    ) -> Result<ClaimRecordV1, ClaimError> {
        check_id(IdKind::Claim, key)?;
        // A release whose answer was lost with the connection ran or did
        // not: the retry then finds the key free or another's and cannot
        // tell which. The key is no longer this owner's either way, so that
        // counts as released.
        let mut lost_answer = false;
        let (changed, row) = self
            .store
            .run(
                if release {
                    "release a claim"
                } else {
                    "renew a claim"
                },
                |conn| {
                    let statement = conn.prepared(if release { RELEASE } else { RENEW })?;
                    let result = conn
                        .client
                        .query_opt(&statement, &[&self.namespace, &key, &owner_token]);
                    if result.as_ref().is_err_and(is_connection_error) {
                        lost_answer = true;
                    }
                    if let Some(row) = result? {
                        return Ok((true, Some(row)));
                    }
                    let statement = conn.prepared(RECORD)?;
                    Ok((
                        false,
                        conn.client
                            .query_opt(&statement, &[&self.namespace, &key])?,
                    ))
                },
            )
            .map_err(|e| store_error(key, e))?;
        let record = self.record(key, row.as_ref(), 0)?;
        if changed || (release && lost_answer) {
            return Ok(record);
        }
        Err(ClaimError::NotOwner {
            key: key.to_owned(),
            holder: record.holder.map(Box::new),
        })
    }
}

const RECORD: &str = "SELECT * FROM claim_record($1, $2)";

const RENEW: &str = "UPDATE claims c SET renewed_at = clock_timestamp()
     WHERE c.namespace = $1 AND c.key = $2 AND c.owner_token = $3
     RETURNING c.fencing_token, c.holder, unix_ms(c.acquired_at), unix_ms(c.renewed_at), c.lease_ms,
         unix_ms(c.released_at), c.transitions, c.consecutive_takeovers";

const RELEASE: &str = "UPDATE claims c SET owner_token = NULL, holder = NULL, acquired_at = NULL,
         renewed_at = NULL, released_at = clock_timestamp(), consecutive_takeovers = 0
     WHERE c.namespace = $1 AND c.key = $2 AND c.owner_token = $3
     RETURNING c.fencing_token, c.holder, unix_ms(c.acquired_at), unix_ms(c.renewed_at), c.lease_ms,
         unix_ms(c.released_at), c.transitions, c.consecutive_takeovers";

// Invariant: PGSTORE-004 The one-statement claim decides exactly as claim_key() does.
// Category: concurrency
// Why: the common claim (a free, own or expired key) is one UPDATE for speed; if its
//      rule differed from the function's, a key could be granted by one and refused by
//      the other.
// Correct pattern: the UPDATE's WHERE admits only what claim_key() grants without a
//      decision of its own (free, own, expired within the reclaim budget), re-checked by
//      PostgreSQL on the newest row version after any wait for its lock, with the
//      database's clock; anything else (a new key, a live holder, a spent budget) goes to
//      claim_key(). SET expressions read the old row, so previous_holder names the holder
//      this very statement took over (NULL for a free key or a renewal).
// Forbidden: a SELECT then an UPDATE from the client; a client time in the statement.
// Enforced by: CLAIM and the conformance suite, which runs every claim through it.
const CLAIM: &str = "UPDATE claims c SET
        fencing_token = c.fencing_token + CASE WHEN c.owner_token = $3 THEN 0 ELSE 1 END,
        previous_holder = CASE WHEN c.owner_token = $3 THEN NULL ELSE c.holder END,
        owner_token = $3,
        holder = $4,
        acquired_at = CASE WHEN c.owner_token = $3 THEN c.acquired_at ELSE clock_timestamp() END,
        renewed_at = clock_timestamp(),
        lease_ms = $5,
        transitions = c.transitions
            + CASE WHEN c.owner_token IS NULL OR c.owner_token = $3 THEN 0 ELSE 1 END,
        consecutive_takeovers = CASE WHEN c.owner_token IS NULL THEN 0
            WHEN c.owner_token = $3 THEN c.consecutive_takeovers
            ELSE c.consecutive_takeovers + 1 END
    WHERE c.namespace = $1 AND c.key = $2
      AND (c.owner_token IS NULL OR c.owner_token = $3
           OR (clock_timestamp() > c.renewed_at + c.lease_ms * interval '1 millisecond'
               AND c.consecutive_takeovers < $6))
    RETURNING c.fencing_token, c.previous_holder";

const CLAIM_DECIDED: &str = "SELECT * FROM claim_key($1, $2, $3, $4, $5, $6)";

impl PgClaimStore {
    /// The outcome a claim's row says.
    fn claim_outcome(
        &self,
        key: &str,
        fast: bool,
        row: &postgres::Row,
    ) -> Result<ClaimOutcome, ClaimError> {
        if fast {
            return Ok(ClaimOutcome::Claimed {
                fencing_token: to_u64(row.get(0)),
                took_over: row
                    .get::<_, Option<String>>(1)
                    .map(|text| self.holder(key, &text))
                    .transpose()?,
            });
        }
        let outcome: String = row.get(0);
        let token = to_u64(row.get(1));
        match outcome.as_str() {
            "claimed" => Ok(ClaimOutcome::Claimed {
                fencing_token: token,
                took_over: row
                    .get::<_, Option<String>>(4)
                    .map(|text| self.holder(key, &text))
                    .transpose()?,
            }),
            "held" => Ok(ClaimOutcome::HeldBy {
                holder: self.holder(key, &row.get::<_, String>(2))?,
                fencing_token: token,
                expires_at_unix_ms: row.get(3),
            }),
            "exhausted" => Err(ClaimError::ReclaimExhausted {
                key: key.to_owned(),
                takeovers: u32::try_from(row.get::<_, i32>(5)).unwrap_or(0),
                budget: self.reclaim_budget,
            }),
            other => Err(store_error(
                key,
                self.store
                    .corrupt("claim answer", format!("unknown outcome `{other}`")),
            )),
        }
    }
}

impl ClaimStore for PgClaimStore {
    fn claim(&self, key: &str, owner: &Owner, lease: Duration) -> Result<ClaimOutcome, ClaimError> {
        check_id(IdKind::Claim, key)?;
        let holder = serde_json::to_string(owner.identity()).expect("holder identities serialize");
        let owner_token = owner.token();
        let lease_ms =
            i64::try_from(lease.min(MAX_LEASE).as_millis()).expect("ten years of ms fit");
        let budget = i32::try_from(self.reclaim_budget).unwrap_or(i32::MAX);
        // Claiming a key one already holds renews it and returns the same
        // token, so running the claim again after a lost answer never
        // grants a second token.
        let (fast, row) = self
            .store
            .run("claim", |conn| {
                let params: [&(dyn postgres::types::ToSql + Sync); 6] = [
                    &self.namespace,
                    &key,
                    &owner_token,
                    &holder,
                    &lease_ms,
                    &budget,
                ];
                let statement = conn.prepared(CLAIM)?;
                if let Some(row) = conn.client.query_opt(&statement, &params)? {
                    return Ok((true, row));
                }
                let statement = conn.prepared(CLAIM_DECIDED)?;
                Ok((false, conn.client.query_one(&statement, &params)?))
            })
            .map_err(|e| store_error(key, e))?;
        let outcome = self.claim_outcome(key, fast, &row)?;
        waypost_fences::log_takeover(key, &outcome);
        Ok(outcome)
    }

    fn renew(&self, key: &str, owner_token: &str) -> Result<ClaimRecordV1, ClaimError> {
        self.touch(key, owner_token, false)
    }

    fn release(&self, key: &str, owner_token: &str) -> Result<ClaimRecordV1, ClaimError> {
        self.touch(key, owner_token, true)
    }

    fn inspect(&self, key: &str) -> Result<ClaimRecordV1, ClaimError> {
        check_id(IdKind::Claim, key)?;
        let row = self
            .store
            .run("inspect a claim", |conn| {
                let statement = conn.prepared("SELECT * FROM claim_record($1, $2)")?;
                conn.client.query_opt(&statement, &[&self.namespace, &key])
            })
            .map_err(|e| store_error(key, e))?;
        self.record(key, row.as_ref(), 0)
    }

    fn run_fenced(
        &self,
        key: &str,
        fencing_token: u64,
        write: &mut dyn FnMut(),
    ) -> Result<(), ClaimError> {
        check_id(IdKind::Claim, key)?;
        let token = to_i64(fencing_token);
        let mut wrote = false;
        let mut uncertain = false;
        let result = self.store.run("hold a fence", |conn| {
            if wrote {
                // The write ran and the connection was lost before the
                // fence was confirmed held to its end: never run it twice.
                uncertain = true;
                return Ok(());
            }
            let mut tx = conn.client.transaction()?;
            tx.execute(
                "SELECT fence_check($1, $2, $3)",
                &[&self.namespace, &key, &token],
            )?;
            wrote = true;
            write();
            tx.commit()
        });
        match result {
            Ok(()) if uncertain => Err(store_error(
                key,
                StoreError::FenceUncertain {
                    target: self.store.target().to_owned(),
                    key: key.to_owned(),
                },
            )),
            Ok(()) => Ok(()),
            Err(error) => Err(self.error(key, fencing_token, error)),
        }
    }
}

fn store_error(key: &str, error: StoreError) -> ClaimError {
    ClaimError::Store {
        key: key.to_owned(),
        source: Box::new(error),
    }
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
