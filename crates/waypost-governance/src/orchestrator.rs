//! The execution orchestrator and contract activation. Both derive and
//! record; neither runs a step.

use waypost_schemas::{AuditVerdict, Clock, JobStep, ProposedChange, StepStatus, Timestamp};

use crate::contract::{Contract, ContractError};
use crate::job::{Job, JobError};

/// Seconds every step gets before its size is counted.
pub const STEP_TIMEOUT_BASE_SECONDS: u64 = 60;
/// Extra seconds per estimated changed line.
pub const STEP_TIMEOUT_PER_LINE_SECONDS: u64 = 2;
/// No step may run longer than this.
pub const STEP_TIMEOUT_CAP_SECONDS: u64 = 1800;

/// The execution orchestrator: one step per proposed change, in the
/// contract's order, each with a timeout derived from its size and capped.
/// It plans; it never runs anything.
pub fn plan_steps(changes: &[ProposedChange]) -> Vec<JobStep> {
    changes
        .iter()
        .enumerate()
        .map(|(i, change)| JobStep {
            index: u32::try_from(i).unwrap_or(u32::MAX),
            change_id: change.change_id.clone(),
            description: change.description.clone(),
            timeout_seconds: STEP_TIMEOUT_BASE_SECONDS
                .saturating_add(
                    change
                        .changed_lines
                        .saturating_mul(STEP_TIMEOUT_PER_LINE_SECONDS),
                )
                .min(STEP_TIMEOUT_CAP_SECONDS),
            status: StepStatus::Pending,
            started_at: None,
            result: None,
        })
        .collect()
}

/// Activation failed; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ActivationError {
    /// The contract refused the transition.
    #[error(transparent)]
    Contract(#[from] ContractError),
    /// The job could not be created.
    #[error(transparent)]
    Job(#[from] JobError),
}

/// Contract activation: an approved contract becomes active with a pending
/// job whose steps derive only from the contract's proposed changes.
pub fn activate(
    contract: &mut Contract,
    job_id: &str,
    at: Timestamp,
    actor: &str,
) -> Result<Job, ActivationError> {
    let steps = plan_steps(&contract.snapshot().proposed_changes);
    let job = Job::new(job_id, contract.id(), steps, at.clone(), actor)?;
    contract.activate(job_id, at, actor)?;
    Ok(job)
}

/// One change carried out as a one-step job: a contract proposing it,
/// validated, made eligible and approved by `approver`, activated with
/// job `job_id`, the job started and its step running. The caller runs the
/// step, then [`Job::finish_step`] and [`close_single_step`].
pub fn start_single_step(
    contract_id: &str,
    job_id: &str,
    change: ProposedChange,
    approver: &str,
    clock: &Clock,
    actor: &str,
) -> Result<(Contract, Job), ActivationError> {
    let mut contract = Contract::draft(contract_id, vec![change], clock.now(), actor);
    contract.validate(clock.now(), actor)?;
    contract.make_eligible(clock.now(), actor)?;
    contract.approve(approver, clock.now())?;
    let mut job = activate(&mut contract, job_id, clock.now(), actor)?;
    job.start(clock.now(), actor)?;
    job.start_step(0, clock.now(), actor)?;
    Ok((contract, job))
}

/// Ends a single-step job and its contract on the evidence: `Ok` completes
/// both (the contract with a passing audit), `Err(why)` fails both.
pub fn close_single_step(
    contract: &mut Contract,
    job: &mut Job,
    verdict: Result<(), &str>,
    clock: &Clock,
    actor: &str,
) -> Result<(), ActivationError> {
    match verdict {
        Ok(()) => {
            job.complete(clock.now(), actor)?;
            contract.complete(Some(AuditVerdict::Pass), clock.now(), actor)?;
        }
        Err(why) => {
            job.fail(why, clock.now(), actor)?;
            contract.fail(why, clock.now(), actor)?;
        }
    }
    Ok(())
}
