//! The danger-fence registry: every known race, what causes it, the wrong
//! fixes people reach for, and the helper and tests that fence it.

/// One fenced race.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DangerFence {
    /// Invariant id, e.g. `FENCE-001`.
    pub id: &'static str,
    /// Short name.
    pub name: &'static str,
    /// The race it prevents.
    pub race: &'static str,
    /// Why the race happens.
    pub root_cause: &'static str,
    /// What to do instead.
    pub correct_pattern: &'static str,
    /// What people do instead that is wrong.
    pub forbidden: &'static [&'static str],
    /// The helper that implements the fence.
    pub helper: &'static str,
    /// Tests that prove it (in `crates/waypost-fences/tests/`).
    pub tests: &'static [&'static str],
}

/// Every danger fence, by id.
pub const DANGER_FENCES: &[DangerFence] = &[
    DangerFence {
        id: "FENCE-001",
        name: "exclusive file lock",
        race: "two processes both hold a lock, or a dead process holds one forever",
        root_cause: "a lock file unlinked and recreated between another process's open and flock leaves two holders of two inodes; pid-file locks outlive their holder",
        correct_pattern: "flock/LockFileEx through fd-lock on an open file, then re-check that the path still names the locked inode; the kernel releases the lock when the holder's descriptor closes, also on SIGKILL",
        forbidden: &[
            "deleting lock files on release or in cleanup",
            "pid files or O_EXCL marker files used as locks",
            "removing a lock file because it looks old",
        ],
        helper: "waypost_fences::LockFile::{try_acquire, acquire}",
        tests: &[
            "lock::fence_001_a_second_process_cannot_take_a_held_lock",
            "lock::fence_001_a_replaced_lock_file_is_not_trusted",
            "processes::fence_001_a_holder_killed_with_sigkill_releases_the_lock",
        ],
    },
    DangerFence {
        id: "FENCE-002",
        name: "claim compare-and-set",
        race: "two owners both claim the same key",
        root_cause: "check-then-act: reading 'free' and writing 'mine' as separate steps",
        correct_pattern: "read, decide and write the claim record under one exclusive lock per key, with an atomic write",
        forbidden: &[
            "write, then re-read to see who won",
            "O_EXCL marker files as claims",
            "writing the record without holding the key's lock",
        ],
        helper: "waypost_fences::FileClaimStore::claim",
        tests: &[
            "claim::fence_002_a_held_claim_is_refused_to_another_owner",
            "processes::fence_002_contending_processes_never_hold_a_key_together",
        ],
    },
    DangerFence {
        id: "FENCE-003",
        name: "fencing token",
        race: "a holder that stalled writes after its claim was taken over",
        root_cause: "a holder cannot know its lease ended: leases end by the observer's clock",
        correct_pattern: "a per-key counter incremented on every acquisition and kept on release, passed with every fenced write",
        forbidden: &[
            "deleting the record on release (the counter restarts)",
            "resetting the counter when repairing a file",
            "timestamps as tokens",
        ],
        helper: "ClaimOutcome::Claimed { fencing_token, .. }",
        tests: &[
            "claim::fence_003_tokens_increase_across_release_and_takeover",
            "processes::fence_003_the_fencing_counter_never_goes_backwards_when_holders_are_killed",
        ],
    },
    DangerFence {
        id: "FENCE-004",
        name: "stale recovery with a reclaim budget",
        race: "a dead holder blocks its key until a long lease ends, or keys whose holders keep dying are retaken forever",
        root_cause: "a claim outlives its holder's process; blind retries turn a crash loop into an endless takeover loop",
        correct_pattern: "stale = lease expired by the duration stored in the record, or a holder on this host whose process is gone (pid absent, zombie, reused pid, other boot); count consecutive takeovers and fail past a budget",
        forbidden: &[
            "judging expiry with the caller's lease duration",
            "deleting a dead holder's record",
            "unbounded takeover retries",
        ],
        helper: "waypost_fences::FileClaimStore::{claim, with_reclaim_budget}",
        tests: &[
            "claim::fence_004_expiry_uses_the_duration_in_the_record",
            "claim::fence_004_a_dead_holder_is_taken_over_at_once",
            "claim::fence_004_repeated_takeovers_exhaust_the_budget",
        ],
    },
    DangerFence {
        id: "FENCE-005",
        name: "heartbeat",
        race: "a renewer keeps a claim alive after its owner lost it",
        root_cause: "renewing by key alone rewrites the timestamp of someone else's claim",
        correct_pattern: "renew compares the owner token; the first NotOwner stops the heartbeat and reports the loss",
        forbidden: &["renewing without the owner token", "retrying NotOwner"],
        helper: "waypost_fences::Heartbeat",
        tests: &[
            "heartbeat::fence_005_a_heartbeat_keeps_a_short_lease_alive",
            "heartbeat::fence_005_a_heartbeat_stops_itself_when_ownership_is_lost",
        ],
    },
    DangerFence {
        id: "FENCE-006",
        name: "append-only log",
        race: "a half-written ledger entry is read as whole, or breaks every later read",
        root_cause: "a writer dies mid-append; appends written in pieces interleave",
        correct_pattern: "one write per whole line under an exclusive lock; readers ignore and report a final line without a newline; the next appender cuts it off",
        forbidden: &[
            "writing an entry in several writes",
            "rewriting the file to append",
            "treating a bad middle line as torn",
        ],
        helper: "waypost_fences::JsonlLog",
        tests: &[
            "jsonl::fence_006_a_torn_final_line_is_reported_and_ignored",
            "jsonl::fence_006_the_next_append_cuts_the_torn_tail",
            "jsonl::fence_006_a_bad_middle_line_is_corruption",
        ],
    },
    DangerFence {
        id: "FENCE-007",
        name: "idempotent enqueue",
        race: "the dual-unique-constraint race: the same job is queued twice, or a conflict handler deletes another caller's job",
        root_cause: "two callers both see 'absent' and both insert; a conflict on a second unique field while the lookup still sees nothing",
        correct_pattern: "look up, insert if absent, on conflict look up again; bounded retries; never delete on conflict",
        forbidden: &[
            "delete-then-insert",
            "rolling back the conflicting row",
            "unbounded retries",
        ],
        helper: "waypost_fences::enqueue_once",
        tests: &[
            "enqueue::fence_007_a_conflict_returns_the_other_callers_item",
            "enqueue::fence_007_persistent_conflicts_are_bounded",
            "processes::fence_007_processes_enqueueing_one_key_store_it_once",
        ],
    },
    DangerFence {
        id: "FENCE-008",
        name: "atomic state file",
        race: "a reader after a crash sees a torn state file",
        root_cause: "writing in place leaves a prefix of the new content when the writer dies",
        correct_pattern: "temporary file in the same directory, fsync, rename, fsync the directory",
        forbidden: &[
            "truncate-and-write in place",
            "a temporary file in another directory",
        ],
        helper: "waypost_fences::write_atomic (waypost_schemas::io::write_atomic)",
        tests: &["processes::fence_008_claim_files_always_parse_when_writers_are_killed"],
    },
    DangerFence {
        id: "FENCE-009",
        name: "fenced write",
        race: "a holder paused past its lease wakes up and overwrites what its successor wrote",
        root_cause: "the writer checks a token it cached, or checks and writes as two steps, so a takeover in between goes unseen",
        correct_pattern: "check the presented token against the record on disk and write, both under the key's lock, so a takeover happens wholly before the check or wholly after the write",
        forbidden: &[
            "comparing against a token cached by the writer",
            "writing first and checking after",
            "timestamps as fencing tokens",
        ],
        helper: "waypost_fences::FileClaimStore::fenced",
        tests: &[
            "claim::fence_009_a_write_with_an_old_token_is_refused",
            "processes::fence_009_a_paused_holder_cannot_write_after_a_takeover",
        ],
    },
    DangerFence {
        id: "FENCE-010",
        name: "chained ledger append",
        race: "two appenders both read head N and both write entry N+1, forking the chain",
        root_cause: "reading the head and appending after it as two steps, outside one lock or transaction",
        correct_pattern: "read, chain and append under one exclusive hold of the ledger (file lock or database transaction); the store checks every new entry continues the chain before keeping any",
        forbidden: &[
            "appending after a head read outside the lock",
            "trusting the caller's chain without checking it",
            "rewriting or deleting entries to repair a fork",
        ],
        helper: "waypost_fences::LedgerStore::append_chained, waypost_fences::check_chain",
        tests: &["ledger_store::fence_010_an_entry_that_does_not_continue_the_chain_is_refused"],
    },
];

/// The fence with `id`, if any.
pub fn fence(id: &str) -> Option<&'static DangerFence> {
    DANGER_FENCES.iter().find(|f| f.id == id)
}
