//! The retry budget: how many more times a failed task may run, per task
//! and for the whole run.
//!
//! A small counter, not a [`Budget`] itself: governance budgets count
//! tokens and seconds, and a retry is a count. The counter is fed from the
//! governance budget: with an estimated cost per retry, the run may grant
//! only as many retries as the anchor's caps (through [`Budget`], with what
//! the run has already spent) still allow.

use std::collections::BTreeMap;

use waypost_governance::{Budget, Limit, Spend};

/// The phase retries are charged to when the governance budget is asked.
pub const RETRY_PHASE: &str = "pilot_retries";

/// Limits on retries, as the orchestrator configures them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryLimits {
    /// Retries one task may have over the run (not counting its first run).
    pub per_task: u32,
    /// Retries the whole run may have, over every batch and layer.
    pub run_total: u32,
    /// What one retry is expected to cost; with a governance budget, the
    /// run gets no more retries than its caps still allow at this cost.
    pub cost_per_retry: Spend,
}

impl Default for RetryLimits {
    fn default() -> Self {
        Self {
            per_task: 2,
            run_total: 10,
            cost_per_retry: Spend::default(),
        }
    }
}

// Invariant: PILOT-003 Retries are bounded per task and drawn from one run-wide budget.
// Category: governance
// Why: a pilot that grants retries per layer multiplies them across layers; the system
//      this design descends from let retries grow with the number of batches.
// Enforced by: RetryBudget::new counts the retries already granted by every earlier
//      decision of the run; validate refuses a decision over the per-task limit or over
//      what the run has left (DecisionError::RetryOverTaskLimit, RetryBudgetExhausted).
/// Retries left: per task, and for the run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetryBudget {
    /// Retries one task may have over the run.
    pub per_task: u32,
    /// Retries the run may still grant.
    pub run_remaining: u32,
    /// Retries already granted, by task.
    pub used: BTreeMap<String, u32>,
}

impl RetryBudget {
    /// The budget left after the retries in `used` (counted from the run's
    /// earlier decisions), capped by what `budget` still allows at
    /// `limits.cost_per_retry` (the per-call cap is not a run cap and is
    /// not applied to the sum).
    pub fn new(limits: RetryLimits, used: BTreeMap<String, u32>, budget: Option<&Budget>) -> Self {
        let spent: u32 = used.values().copied().fold(0, u32::saturating_add);
        let mut run_remaining = limits.run_total.saturating_sub(spent);
        if let Some(budget) = budget {
            run_remaining = affordable(budget, limits.cost_per_retry, run_remaining);
        }
        Self {
            per_task: limits.per_task,
            run_remaining,
            used,
        }
    }

    /// Retries `task` may still have, not counting the run-wide limit.
    pub fn left_for(&self, task: &str) -> u32 {
        self.per_task
            .saturating_sub(self.used.get(task).copied().unwrap_or(0))
    }
}

/// The most retries, up to `at_most`, whose total cost crosses no run or
/// phase cap of `budget`.
fn affordable(budget: &Budget, cost: Spend, at_most: u32) -> u32 {
    let fits = |k: u32| {
        let total = Spend {
            tokens: cost.tokens.saturating_mul(u64::from(k)),
            seconds: cost.seconds.saturating_mul(u64::from(k)),
        };
        budget
            .crossings(RETRY_PHASE, total)
            .iter()
            .all(|c| c.limit == Limit::PerCallTokens)
    };
    if fits(at_most) {
        return at_most;
    }
    // Totals grow with k, so the ones that fit are a prefix: binary search.
    let (mut low, mut high) = (0u32, at_most);
    while low < high {
        let mid = low + (high - low).div_ceil(2);
        if fits(mid) {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    low
}
