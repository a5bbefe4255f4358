//! Budgets: token and time caps for a run and for each phase, with the
//! anchor's escalation policy deciding what happens at a cap.

use std::collections::BTreeMap;
use std::fmt;

use waypost_schemas::{CostEscalationPolicy, IntentionAnchorV2};

// Invariant: POLICY-005 waypost never raises a budget cap by itself.
// Category: governance
// Why: a cap a program can lift is not a cap; only a human edits the anchor.
// Enforced by: Budget has no method that changes a cap after construction; an approved
//      overspend is recorded against the same caps, so the next spend still meets them.

/// Caps of one scope; `None` is uncapped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    /// Model tokens.
    pub tokens: Option<u64>,
    /// Wall-clock seconds.
    pub seconds: Option<u64>,
}

/// Resources spent by one step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Spend {
    /// Model tokens.
    pub tokens: u64,
    /// Wall-clock seconds.
    pub seconds: u64,
}

/// Which cap a spend would cross.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Limit {
    /// The per-call token cap (`token_cap_per_call`).
    PerCallTokens,
    /// A phase's token cap.
    PhaseTokens(String),
    /// A phase's time cap.
    PhaseSeconds(String),
    /// The run's token cap (`token_cap_global`).
    RunTokens,
    /// The run's time cap (`time_cap_seconds`).
    RunSeconds,
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PerCallTokens => f.write_str("the per-call token cap"),
            Self::PhaseTokens(p) => write!(f, "the token cap of phase `{p}`"),
            Self::PhaseSeconds(p) => write!(f, "the time cap of phase `{p}`"),
            Self::RunTokens => f.write_str("the run's token cap"),
            Self::RunSeconds => f.write_str("the run's time cap"),
        }
    }
}

/// A cap a spend would cross: which, the cap, and the total it would reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crossing {
    /// Which cap.
    pub limit: Limit,
    /// The cap.
    pub cap: u64,
    /// The total the spend would reach.
    pub would_reach: u64,
}

impl fmt::Display for Crossing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is {}, this spend would reach {}",
            self.limit, self.cap, self.would_reach
        )
    }
}

/// What recording a spend did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub enum Recorded {
    /// Within every cap; recorded.
    Within,
    /// Over a cap under a `warn` policy; recorded, with the caps crossed.
    Warned(Vec<Crossing>),
}

/// A spend that was not recorded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BudgetError {
    /// Over a cap under a `block` policy.
    #[error("budget exceeded, blocked: {}", first(.0))]
    Blocked(Vec<Crossing>),
    /// Over a cap under a `request_approval` policy: record it with
    /// [`Budget::record_approved`] once a human agrees.
    #[error("budget would be exceeded, approval required: {}", first(.0))]
    NeedsApproval(Vec<Crossing>),
}

fn first(crossings: &[Crossing]) -> String {
    crossings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One recorded spend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpendRecord {
    /// The phase it was spent in.
    pub phase: String,
    /// What was spent.
    pub spend: Spend,
    /// The caps it crossed (warned or approved).
    pub crossed: Vec<Crossing>,
    /// Who approved crossing them, if anyone.
    pub approved_by: Option<String>,
}

/// A run's budget: caps fixed at creation, and every spend recorded.
#[derive(Clone, Debug)]
pub struct Budget {
    run: Caps,
    per_call_tokens: Option<u64>,
    phases: BTreeMap<String, Caps>,
    escalation: CostEscalationPolicy,
    records: Vec<SpendRecord>,
}

impl Budget {
    /// The run budget of `anchor` (`token_cap_global`, `time_cap_seconds`,
    /// `token_cap_per_call`, `cost_escalation_policy`; `block` when unset)
    /// with per-phase caps.
    pub fn from_anchor(anchor: &IntentionAnchorV2, phases: BTreeMap<String, Caps>) -> Self {
        let b = anchor.pivot_intentions.budget_cost.as_ref();
        Self {
            run: Caps {
                tokens: b.and_then(|b| b.token_cap_global),
                seconds: b.and_then(|b| b.time_cap_seconds),
            },
            per_call_tokens: b.and_then(|b| b.token_cap_per_call),
            phases,
            escalation: b
                .and_then(|b| b.cost_escalation_policy)
                .unwrap_or(CostEscalationPolicy::Block),
            records: Vec::new(),
        }
    }

    /// Total spent in the run.
    pub fn spent(&self) -> Spend {
        self.sum(|_| true)
    }

    /// Total spent in `phase`.
    pub fn spent_in(&self, phase: &str) -> Spend {
        self.sum(|r| r.phase == phase)
    }

    /// Every recorded spend, in order.
    pub fn records(&self) -> &[SpendRecord] {
        &self.records
    }

    fn sum(&self, keep: impl Fn(&SpendRecord) -> bool) -> Spend {
        self.records
            .iter()
            .filter(|r| keep(r))
            .fold(Spend::default(), |acc, r| Spend {
                tokens: acc.tokens.saturating_add(r.spend.tokens),
                seconds: acc.seconds.saturating_add(r.spend.seconds),
            })
    }

    /// The caps `spend` in `phase` would cross, most specific first.
    pub fn crossings(&self, phase: &str, spend: Spend) -> Vec<Crossing> {
        let mut out = Vec::new();
        let mut check = |limit: Limit, cap: Option<u64>, total: u64| {
            if let Some(cap) = cap
                && total > cap
            {
                out.push(Crossing {
                    limit,
                    cap,
                    would_reach: total,
                });
            }
        };
        check(Limit::PerCallTokens, self.per_call_tokens, spend.tokens);
        let in_phase = self.spent_in(phase);
        let caps = self.phases.get(phase).copied().unwrap_or_default();
        check(
            Limit::PhaseTokens(phase.to_owned()),
            caps.tokens,
            in_phase.tokens.saturating_add(spend.tokens),
        );
        check(
            Limit::PhaseSeconds(phase.to_owned()),
            caps.seconds,
            in_phase.seconds.saturating_add(spend.seconds),
        );
        let run = self.spent();
        check(
            Limit::RunTokens,
            self.run.tokens,
            run.tokens.saturating_add(spend.tokens),
        );
        check(
            Limit::RunSeconds,
            self.run.seconds,
            run.seconds.saturating_add(spend.seconds),
        );
        out
    }

    /// Records `spend` in `phase` if it stays within every cap; over a cap,
    /// the escalation policy decides: `warn` records and says so, `block`
    /// and `request_approval` refuse (nothing is recorded).
    pub fn record(&mut self, phase: &str, spend: Spend) -> Result<Recorded, BudgetError> {
        let crossed = self.crossings(phase, spend);
        if crossed.is_empty() {
            self.push(phase, spend, Vec::new(), None);
            return Ok(Recorded::Within);
        }
        match self.escalation {
            CostEscalationPolicy::Warn => {
                self.push(phase, spend, crossed.clone(), None);
                Ok(Recorded::Warned(crossed))
            }
            CostEscalationPolicy::Block => Err(BudgetError::Blocked(crossed)),
            CostEscalationPolicy::RequestApproval => Err(BudgetError::NeedsApproval(crossed)),
        }
    }

    /// Records a spend a human approved crossing the caps. The caps stay as
    /// they are: the next spend meets them again.
    pub fn record_approved(&mut self, phase: &str, spend: Spend, approved_by: &str) {
        let crossed = self.crossings(phase, spend);
        self.push(phase, spend, crossed, Some(approved_by.to_owned()));
    }

    fn push(
        &mut self,
        phase: &str,
        spend: Spend,
        crossed: Vec<Crossing>,
        approved_by: Option<String>,
    ) {
        self.records.push(SpendRecord {
            phase: phase.to_owned(),
            spend,
            crossed,
            approved_by,
        });
    }
}
