//! The contract state machine.

use std::time::Duration;

use waypost_schemas::{
    AuditVerdict, ContractSnapshotV1, ContractStatus, FormatV1, ProposedChange, Timestamp,
};

use crate::history::{self, HistoryError, Machine, Refusal, verify_history};

/// How long a draft lives before it expires, unless configured otherwise.
pub const DEFAULT_DRAFT_TTL: Duration = Duration::from_secs(72 * 3600);

// Invariant: CONTRACT-001 Terminal contract states are immutable.
// Category: state-machine
// Why: a completed, rejected, expired or failed contract is a record of what happened.
// Enforced by: Contract::transition (through history::transition) returns
//      ContractError::Terminal.

// Invariant: CONTRACT-002 Only the documented transitions exist.
// Category: state-machine
// Why: skipping validation or approval (draft -> active) bypasses governance.
// Enforced by: Contract::transition (through history::transition) checks the edge table in
//      ContractStatus's Machine::allowed and returns InvalidTransition.

// Invariant: CONTRACT-003 An approved contract names who approved it.
// Category: governance
// Why: an approval nobody owns is not an approval.
// Enforced by: Contract::approve returns MissingApprover for an empty approver.

// Invariant: CONTRACT-004 An active contract has a job.
// Category: state-machine
// Why: "active" with nothing carrying it out hides work that is not happening.
// Enforced by: Contract::activate returns MissingJob for an empty job id.

// Invariant: CONTRACT-005 A contract completes only with an audit verdict of pass.
// Category: governance
// Why: completion is a claim that the work is right; only an audit can make it.
// Enforced by: Contract::complete returns AuditNotPassed unless the verdict is pass.

/// A contract transition was refused. The contract is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContractError {
    /// The contract is in a terminal state.
    #[error("contract {contract_id} is {status} and can no longer change")]
    Terminal {
        /// The contract.
        contract_id: String,
        /// Its terminal state.
        status: &'static str,
    },
    /// No such transition.
    #[error("contract {contract_id} cannot go from {from} to {to}")]
    InvalidTransition {
        /// The contract.
        contract_id: String,
        /// Current state.
        from: &'static str,
        /// Requested state.
        to: &'static str,
    },
    /// Approval without an approver.
    #[error("contract {contract_id} cannot be approved without naming who approved it")]
    MissingApprover {
        /// The contract.
        contract_id: String,
    },
    /// Activation without a job.
    #[error("contract {contract_id} cannot become active without a job")]
    MissingJob {
        /// The contract.
        contract_id: String,
    },
    /// Completion without a passing audit.
    #[error("contract {contract_id} cannot complete: the audit verdict is {}", match verdict { Some(AuditVerdict::Fail) => "fail", _ => "missing" })]
    AuditNotPassed {
        /// The contract.
        contract_id: String,
        /// The verdict given.
        verdict: Option<AuditVerdict>,
    },
    /// Validation of a contract that proposes nothing.
    #[error("contract {contract_id} proposes no change")]
    NoChanges {
        /// The contract.
        contract_id: String,
    },
    /// A loaded snapshot's fields disagree with its (verified) history.
    #[error("contract {contract_id}: the snapshot disagrees with its history: {problem}")]
    Inconsistent {
        /// The contract.
        contract_id: String,
        /// What disagrees.
        problem: String,
    },
    /// A loaded snapshot's history does not verify.
    #[error("contract {contract_id}: {source}")]
    History {
        /// The contract.
        contract_id: String,
        /// Where the chain breaks.
        source: HistoryError,
    },
}

impl ContractError {
    /// The error for a transition `history::transition` refused.
    fn refused(contract_id: &str, refusal: Refusal<ContractStatus>) -> Self {
        match refusal {
            Refusal::Terminal(status) => Self::Terminal {
                contract_id: contract_id.to_owned(),
                status: status.as_str(),
            },
            Refusal::NoEdge { from, to } => Self::InvalidTransition {
                contract_id: contract_id.to_owned(),
                from: from.as_str(),
                to: to.as_str(),
            },
        }
    }
}

/// A contract and its history.
#[derive(Clone, Debug, PartialEq)]
pub struct Contract {
    snapshot: ContractSnapshotV1,
}

impl Machine for ContractStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }

    fn is_terminal(self) -> bool {
        ContractStatus::is_terminal(self)
    }

    fn allowed(from: Self, to: Self) -> bool {
        use ContractStatus::*;
        matches!(
            (from, to),
            (Draft, Validated)
                | (Validated, Eligible)
                | (Eligible, Approved)
                | (Approved, Active)
                | (Active, Completed)
                | (Draft | Validated | Eligible, Rejected | Expired)
                | (Approved | Active, Failed)
        )
    }
}

impl Contract {
    /// A new draft proposing `changes`.
    pub fn draft(
        contract_id: &str,
        changes: Vec<ProposedChange>,
        at: Timestamp,
        actor: &str,
    ) -> Self {
        let history = history::begin(ContractStatus::Draft, at.clone(), actor, None);
        Self {
            snapshot: ContractSnapshotV1 {
                format_version: FormatV1,
                contract_id: contract_id.to_owned(),
                status: ContractStatus::Draft,
                proposed_changes: changes,
                created_at: at,
                approved_by: None,
                job_id: None,
                audit_verdict: None,
                history,
                extra: Default::default(),
            },
        }
    }

    /// A contract from a stored snapshot. Its history must verify, and the
    /// fields outside the chain (status, approver, job) must agree with it,
    /// so none of them can be edited unnoticed.
    pub fn from_snapshot(snapshot: ContractSnapshotV1) -> Result<Self, ContractError> {
        let id = snapshot.contract_id.clone();
        verify_history(&snapshot.history).map_err(|source| ContractError::History {
            contract_id: id.clone(),
            source,
        })?;
        let inconsistent = |problem: String| ContractError::Inconsistent {
            contract_id: id.clone(),
            problem,
        };
        let last = snapshot.history.last().map(|e| e.to.as_str());
        if last != Some(snapshot.status.as_str()) {
            return Err(inconsistent(format!(
                "status is {}, the history ends in {}",
                snapshot.status.as_str(),
                last.unwrap_or("nothing")
            )));
        }
        let entry_to =
            |state: ContractStatus| snapshot.history.iter().find(|e| e.to == state.as_str());
        let approver = entry_to(ContractStatus::Approved).map(|e| e.actor.as_str());
        if snapshot.approved_by.as_deref() != approver {
            return Err(inconsistent(format!(
                "approved_by is {:?}, the history's approval is by {:?}",
                snapshot.approved_by, approver
            )));
        }
        let job_note = entry_to(ContractStatus::Active).and_then(|e| e.note.clone());
        if snapshot.job_id.as_ref().map(|j| format!("job {j}")) != job_note {
            return Err(inconsistent(format!(
                "job_id is {:?}, the history's activation says {:?}",
                snapshot.job_id, job_note
            )));
        }
        Ok(Self { snapshot })
    }

    /// The snapshot (the artifact to store).
    pub fn snapshot(&self) -> &ContractSnapshotV1 {
        &self.snapshot
    }

    /// The current state.
    pub fn status(&self) -> ContractStatus {
        self.snapshot.status
    }

    /// The contract id.
    pub fn id(&self) -> &str {
        &self.snapshot.contract_id
    }

    /// Every status change goes through here: `history::transition` checks
    /// it and appends it to the chain.
    fn transition(
        &mut self,
        to: ContractStatus,
        at: Timestamp,
        actor: &str,
        note: Option<String>,
    ) -> Result<(), ContractError> {
        let s = &mut self.snapshot;
        history::transition(&mut s.status, to, &mut s.history, at, actor, note, |r| {
            ContractError::refused(&s.contract_id, r)
        })
    }

    /// Checks the proposal: draft -> validated. A contract must propose something.
    pub fn validate(&mut self, at: Timestamp, actor: &str) -> Result<(), ContractError> {
        if self.snapshot.proposed_changes.is_empty() && !self.snapshot.status.is_terminal() {
            return Err(ContractError::NoChanges {
                contract_id: self.snapshot.contract_id.clone(),
            });
        }
        self.transition(ContractStatus::Validated, at, actor, None)
    }

    /// validated -> eligible.
    pub fn make_eligible(&mut self, at: Timestamp, actor: &str) -> Result<(), ContractError> {
        self.transition(ContractStatus::Eligible, at, actor, None)
    }

    /// eligible -> approved, naming the approver.
    pub fn approve(&mut self, approved_by: &str, at: Timestamp) -> Result<(), ContractError> {
        if approved_by.trim().is_empty() && !self.snapshot.status.is_terminal() {
            return Err(ContractError::MissingApprover {
                contract_id: self.snapshot.contract_id.clone(),
            });
        }
        self.transition(ContractStatus::Approved, at, approved_by, None)?;
        self.snapshot.approved_by = Some(approved_by.to_owned());
        Ok(())
    }

    /// approved -> active, with the job that carries it out.
    pub fn activate(
        &mut self,
        job_id: &str,
        at: Timestamp,
        actor: &str,
    ) -> Result<(), ContractError> {
        if job_id.trim().is_empty() && !self.snapshot.status.is_terminal() {
            return Err(ContractError::MissingJob {
                contract_id: self.snapshot.contract_id.clone(),
            });
        }
        self.transition(
            ContractStatus::Active,
            at,
            actor,
            Some(format!("job {job_id}")),
        )?;
        self.snapshot.job_id = Some(job_id.to_owned());
        Ok(())
    }

    /// active -> completed, only with an audit verdict of pass.
    pub fn complete(
        &mut self,
        verdict: Option<AuditVerdict>,
        at: Timestamp,
        actor: &str,
    ) -> Result<(), ContractError> {
        if verdict != Some(AuditVerdict::Pass) && !self.snapshot.status.is_terminal() {
            return Err(ContractError::AuditNotPassed {
                contract_id: self.snapshot.contract_id.clone(),
                verdict,
            });
        }
        self.transition(ContractStatus::Completed, at, actor, None)?;
        self.snapshot.audit_verdict = verdict;
        Ok(())
    }

    /// draft, validated or eligible -> rejected.
    pub fn reject(
        &mut self,
        reason: &str,
        at: Timestamp,
        actor: &str,
    ) -> Result<(), ContractError> {
        self.transition(ContractStatus::Rejected, at, actor, Some(reason.to_owned()))
    }

    /// draft, validated or eligible -> expired.
    pub fn expire(&mut self, at: Timestamp, actor: &str) -> Result<(), ContractError> {
        self.transition(ContractStatus::Expired, at, actor, None)
    }

    /// approved or active -> failed.
    pub fn fail(&mut self, reason: &str, at: Timestamp, actor: &str) -> Result<(), ContractError> {
        self.transition(ContractStatus::Failed, at, actor, Some(reason.to_owned()))
    }

    /// Expires a draft older than `ttl` at `now`; returns whether it did.
    pub fn expire_if_stale(
        &mut self,
        now: Timestamp,
        ttl: Duration,
        actor: &str,
    ) -> Result<bool, ContractError> {
        if self.snapshot.status != ContractStatus::Draft {
            return Ok(false);
        }
        let age_ms = now
            .unix_millis()
            .saturating_sub(self.snapshot.created_at.unix_millis());
        if u128::try_from(age_ms).unwrap_or(0) < ttl.as_millis() {
            return Ok(false);
        }
        self.transition(
            ContractStatus::Expired,
            now,
            actor,
            Some(format!("draft older than {} h", ttl.as_secs() / 3600)),
        )?;
        Ok(true)
    }
}
