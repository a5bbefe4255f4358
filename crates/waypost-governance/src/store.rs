//! Run-local storage of contracts, jobs and audit evidence under the run's
//! `governance/`. Writes are atomic; loads verify the history.

use waypost_schemas::io::{LoadError, WriteError, read_artifact, write_artifact};
use waypost_schemas::layout::IdError;
use waypost_schemas::{AuditEvidenceV1, ContractSnapshotV1, JobSnapshotV1, RunLayout, Timestamp};

use crate::contract::{Contract, ContractError};
use crate::job::{Job, JobError};

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

/// Writes a job's contract, the job and its audit evidence (collected at
/// `at`), each atomically.
pub fn store_with_evidence(
    layout: &RunLayout,
    contract: &Contract,
    job: &Job,
    at: Timestamp,
) -> Result<(), StoreError> {
    store_contract(layout, contract)?;
    store_job(layout, job)?;
    store_audit_evidence(layout, &crate::audit::collect_audit_evidence(job, at))
}
