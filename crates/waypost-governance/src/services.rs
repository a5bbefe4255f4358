//! Services around contracts and jobs. None of them executes a step or
//! decides an audit: they derive, record and package.

use waypost_schemas::io::{LoadError, WriteError, read_artifact, write_artifact};
use waypost_schemas::layout::IdError;
use waypost_schemas::{
    AuditEvidenceV1, ContractSnapshotV1, FormatV1, JobSnapshotV1, JobStep, ProposedChange,
    RunLayout, StepStatus, Timestamp,
};

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

/// The audit trigger: packages what a job did for an auditor. Evidence only;
/// it carries no verdict.
pub fn collect_audit_evidence(job: &Job, collected_at: Timestamp) -> AuditEvidenceV1 {
    let s = job.snapshot();
    let start = s
        .steps
        .iter()
        .filter_map(|st| st.started_at.as_ref())
        .map(Timestamp::unix_millis)
        .min();
    let end = s
        .steps
        .iter()
        .filter_map(|st| st.result.as_ref())
        .map(|r| r.finished_at.unix_millis())
        .max();
    let duration_seconds = match (start, end) {
        (Some(a), Some(b)) if b > a => u64::try_from((b - a) / 1000).unwrap_or(0),
        _ => 0,
    };
    AuditEvidenceV1 {
        format_version: FormatV1,
        job_id: s.job_id.clone(),
        contract_id: s.contract_id.clone(),
        status: s.status,
        steps: s.steps.clone(),
        health_before: s.health_before.clone(),
        health_after: s.health_after.clone(),
        duration_seconds,
        collected_at,
        extra: Default::default(),
    }
}

/// Storing or loading governance state failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The id cannot name a file.
    #[error(transparent)]
    InvalidId(#[from] IdError),
    /// Writing failed; nothing was written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Reading failed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The stored contract's history does not verify.
    #[error(transparent)]
    Contract(#[from] ContractError),
    /// The stored job's history does not verify.
    #[error(transparent)]
    Job(#[from] JobError),
}

/// Writes the contract snapshot under the run's `governance/`, atomically.
pub fn store_contract(layout: &RunLayout, contract: &Contract) -> Result<(), StoreError> {
    Ok(write_artifact(
        &layout.contract_snapshot(contract.id())?,
        contract.snapshot(),
    )?)
}

/// Reads a contract snapshot and verifies its history.
pub fn load_contract(layout: &RunLayout, contract_id: &str) -> Result<Contract, StoreError> {
    let snapshot: ContractSnapshotV1 = read_artifact(&layout.contract_snapshot(contract_id)?)?;
    Ok(Contract::from_snapshot(snapshot)?)
}

/// Writes the job snapshot under the run's `governance/`, atomically.
pub fn store_job(layout: &RunLayout, job: &Job) -> Result<(), StoreError> {
    Ok(write_artifact(
        &layout.job_snapshot(job.id())?,
        job.snapshot(),
    )?)
}

/// Reads a job snapshot and verifies its history.
pub fn load_job(layout: &RunLayout, job_id: &str) -> Result<Job, StoreError> {
    let snapshot: JobSnapshotV1 = read_artifact(&layout.job_snapshot(job_id)?)?;
    Ok(Job::from_snapshot(snapshot)?)
}

/// Writes audit evidence under the run's `governance/`, atomically.
pub fn store_audit_evidence(
    layout: &RunLayout,
    evidence: &AuditEvidenceV1,
) -> Result<(), StoreError> {
    Ok(write_artifact(
        &layout.audit_evidence(&evidence.job_id)?,
        evidence,
    )?)
}
