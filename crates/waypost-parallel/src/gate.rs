//! The parallelism gate: counted run slots, as the anchor allows.

use std::time::Duration;

use waypost_fences::{ClaimOutcome, Owner};
use waypost_schemas::{ClaimRecordV1, IntentionAnchorV2};

use crate::error::StartError;
use crate::repo::{Repository, SharedClaimStore};

/// Concurrent runs allowed when the anchor allows parallel runs without
/// saying how many.
pub const DEFAULT_MAX_CONCURRENT_RUNS: u32 = 4;

/// How many runs may hold a slot at once, as an anchor says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// `parallelism_isolation.allowed = true`.
    pub parallel_allowed: bool,
    /// Slots: 1 when parallel runs are not allowed, else
    /// `max_concurrent_runs` (default [`DEFAULT_MAX_CONCURRENT_RUNS`]).
    pub slots: u32,
}

impl Capacity {
    /// The capacity `anchor` allows.
    pub fn of(anchor: &IntentionAnchorV2) -> Self {
        let isolation = anchor.pivot_intentions.parallelism_isolation.as_ref();
        let allowed = isolation.and_then(|p| p.allowed) == Some(true);
        let slots = if allowed {
            isolation
                .and_then(|p| p.max_concurrent_runs)
                .unwrap_or(DEFAULT_MAX_CONCURRENT_RUNS)
                .max(1)
        } else {
            1
        };
        Self {
            parallel_allowed: allowed,
            slots,
        }
    }
}

// Invariant: PARALLEL-001 No more runs hold a slot than the anchor allows, and a dead run's slot comes back.
// Category: concurrency
// Why: the anchor's parallelism policy is the human's decision; a counter kept in memory
//      or in a file without a lock lets two starters both see "one slot left".
// Correct pattern: one claim per slot (slot-0 .. slot-N-1) in the fences claim store; a
//      run holds one for its lifetime with a heartbeat; a holder that is gone or whose
//      lease ran out is taken over by the next starter.
// Forbidden: counting live runs by listing worktrees or processes; a shared counter file.
// Enforced by: ParallelismGate::admit.
/// Admits runs into counted slots: one claim per slot.
#[derive(Debug)]
pub struct ParallelismGate {
    store: SharedClaimStore,
}

/// A held slot. Release it with [`ParallelismGate::release`] (a
/// [`crate::RunGuard`] does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotClaim {
    /// The slot's claim key (`slot-<n>`).
    pub key: String,
    /// The slot's fencing token.
    pub fencing_token: u64,
}

impl ParallelismGate {
    /// The gate of `repo`.
    pub fn new(repo: &Repository) -> Result<Self, StartError> {
        Ok(Self {
            store: repo.claim_store("slots")?,
        })
    }

    /// The claim store the slots live in.
    pub fn store(&self) -> &SharedClaimStore {
        &self.store
    }

    /// Admits `run_id` into a free slot for `owner`, or refuses with the
    /// reason: parallel runs not allowed by `anchor` while another run
    /// holds the one slot, or every slot of `max_concurrent_runs` held.
    pub fn admit(
        &self,
        anchor: &IntentionAnchorV2,
        run_id: &str,
        owner: &Owner,
        lease: Duration,
    ) -> Result<SlotClaim, StartError> {
        let capacity = Capacity::of(anchor);
        let mut holders = Vec::new();
        for n in 0..capacity.slots {
            let key = format!("slot-{n}");
            match self.store.claim(&key, owner, lease)? {
                ClaimOutcome::Claimed { fencing_token, .. } => {
                    return Ok(SlotClaim { key, fencing_token });
                }
                ClaimOutcome::HeldBy { holder, .. } => holders.push(describe(&holder)),
            }
        }
        let reason = if capacity.parallel_allowed {
            format!(
                "all {} run slots (max_concurrent_runs) are held, by {}; wait for one to end",
                capacity.slots,
                holders.join(", ")
            )
        } else {
            format!(
                "another run is active ({}) and the anchor does not allow parallel runs (set pivot_intentions.parallelism_isolation.allowed = true to allow them)",
                holders.join(", ")
            )
        };
        Err(StartError::Refused {
            run_id: run_id.to_owned(),
            reason,
        })
    }

    /// Gives a slot back.
    pub fn release(&self, slot: &SlotClaim, owner: &Owner) -> Result<(), StartError> {
        self.store.release(&slot.key, owner.token())?;
        Ok(())
    }

    /// The records of slots `0..slots`.
    pub fn slots(&self, slots: u32) -> Result<Vec<ClaimRecordV1>, StartError> {
        (0..slots)
            .map(|n| Ok(self.store.inspect(&format!("slot-{n}"))?))
            .collect()
    }
}

fn describe(holder: &waypost_schemas::HolderIdentity) -> String {
    format!(
        "{} (pid {})",
        holder.label.as_deref().unwrap_or("an unnamed run"),
        holder.pid
    )
}
