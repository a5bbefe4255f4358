//! The audit trigger: packages what a job did for an auditor. It collects
//! evidence and never decides an audit.

use waypost_schemas::{AuditEvidenceV1, FormatV1, Timestamp};

use crate::job::Job;

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
