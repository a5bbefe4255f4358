//! The job state machine: a job observes and records; it never executes.

use waypost_schemas::{
    Excerpt, FormatV1, HealthSnapshot, JobSnapshotV1, JobStatus, JobStep, StepResult, StepStatus,
    Timestamp,
};

use crate::history::{self, HistoryError, Machine, Refusal, append, verify_history};

// Invariant: JOB-001 A job requires a contract id: there are no orphan jobs.
// Category: state-machine
// Why: work without a contract is work nobody approved.
// Enforced by: Job::new returns JobError::Orphan for an empty contract id; the schema
//      requires a non-empty contract_id.

// Invariant: JOB-002 Steps execute in index order.
// Category: state-machine
// Why: the orchestrator ordered the steps (later ones may depend on earlier ones); running
//      step 2 before step 1 is a different job than the one approved.
// Enforced by: Job::start_step and Job::skip_step accept only the lowest pending index, and
//      only when every earlier step has finished.

// Invariant: JOB-003 Terminal job states are immutable.
// Category: state-machine
// Why: audit evidence must describe what happened; a finished job that changes loses it.
// Enforced by: every state-changing Job method returns JobError::Terminal.

// Invariant: JOB-004 Evidence is recorded per step.
// Category: audit
// Why: an auditor must be able to see what each step did, not only the job's outcome.
// Enforced by: Job::finish_step and Job::skip_step refuse an empty evidence list.

// Invariant: JOB-005 Health snapshots are read-only observations.
// Category: audit
// Why: health before and after is how an audit judges a job; rewriting it, or letting it
//      change the job, corrupts the judgement.
// Enforced by: record_health_before / record_health_after change neither status nor steps
//      and refuse a second snapshot of the same kind.

/// A job operation was refused. The job is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// A job without a contract.
    #[error("job {job_id} has no contract id; every job carries out a contract")]
    Orphan {
        /// The job.
        job_id: String,
    },
    /// A step out of index order.
    #[error("job {job_id}: step {index} cannot run before step {expected}")]
    OutOfOrder {
        /// The job.
        job_id: String,
        /// The step asked for.
        index: u32,
        /// The step that must come first.
        expected: u32,
    },
    /// The job is in a terminal state.
    #[error("job {job_id} is {status} and can no longer change")]
    Terminal {
        /// The job.
        job_id: String,
        /// Its terminal state.
        status: &'static str,
    },
    /// A step finished without evidence.
    #[error("job {job_id}: step {index} cannot finish without evidence of what it did")]
    MissingEvidence {
        /// The job.
        job_id: String,
        /// The step.
        index: u32,
    },
    /// A health snapshot was already recorded.
    #[error(
        "job {job_id}: the {which} health snapshot was already recorded and cannot be replaced"
    )]
    HealthAlreadyRecorded {
        /// The job.
        job_id: String,
        /// `before` or `after`.
        which: &'static str,
    },
    /// No such job transition.
    #[error("job {job_id} cannot go from {from} to {to}")]
    InvalidTransition {
        /// The job.
        job_id: String,
        /// Current state.
        from: &'static str,
        /// Requested state.
        to: &'static str,
    },
    /// A step index that does not exist, or a step in the wrong state.
    #[error("job {job_id}: {problem}")]
    Step {
        /// The job.
        job_id: String,
        /// What is wrong.
        problem: String,
    },
    /// Completion while steps are unfinished.
    #[error("job {job_id} cannot complete: steps {pending:?} have not finished")]
    Incomplete {
        /// The job.
        job_id: String,
        /// Unfinished step indices.
        pending: Vec<u32>,
    },
    /// A loaded snapshot's fields disagree with its (verified) history.
    #[error("job {job_id}: the snapshot disagrees with its history: {problem}")]
    Inconsistent {
        /// The job.
        job_id: String,
        /// What disagrees.
        problem: String,
    },
    /// A loaded snapshot's history does not verify.
    #[error("job {job_id}: {source}")]
    History {
        /// The job.
        job_id: String,
        /// Where the chain breaks.
        source: HistoryError,
    },
}

impl JobError {
    /// The error for a transition `history::transition` refused.
    fn refused(job_id: &str, refusal: Refusal<JobStatus>) -> Self {
        match refusal {
            Refusal::Terminal(status) => Self::Terminal {
                job_id: job_id.to_owned(),
                status: status.as_str(),
            },
            Refusal::NoEdge { from, to } => Self::InvalidTransition {
                job_id: job_id.to_owned(),
                from: from.as_str(),
                to: to.as_str(),
            },
        }
    }
}

impl Machine for JobStatus {
    fn name(self) -> &'static str {
        self.as_str()
    }

    fn is_terminal(self) -> bool {
        JobStatus::is_terminal(self)
    }

    fn allowed(from: Self, to: Self) -> bool {
        use JobStatus::*;
        matches!(
            (from, to),
            (Pending, Running) | (Running, Completed | Failed) | (Pending | Running, Cancelled)
        )
    }
}

/// How far a job has come.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// All steps.
    pub total: usize,
    /// Steps that completed.
    pub completed: usize,
    /// Steps that failed.
    pub failed: usize,
    /// Steps that were skipped.
    pub skipped: usize,
    /// Steps not finished yet (pending or running).
    pub unfinished: usize,
}

/// A job and its history.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    snapshot: JobSnapshotV1,
}

fn finished(status: StepStatus) -> bool {
    matches!(
        status,
        StepStatus::Completed | StepStatus::Failed | StepStatus::Skipped
    )
}

impl Job {
    /// A pending job carrying out contract `contract_id` in `steps` (their
    /// indices are renumbered 0.. in the given order).
    pub fn new(
        job_id: &str,
        contract_id: &str,
        mut steps: Vec<JobStep>,
        at: Timestamp,
        actor: &str,
    ) -> Result<Self, JobError> {
        if contract_id.trim().is_empty() {
            return Err(JobError::Orphan {
                job_id: job_id.to_owned(),
            });
        }
        for (i, step) in steps.iter_mut().enumerate() {
            step.index = u32::try_from(i).unwrap_or(u32::MAX);
            step.status = StepStatus::Pending;
            step.started_at = None;
            step.result = None;
        }
        let history = history::begin(
            JobStatus::Pending,
            at.clone(),
            actor,
            Some(format!("contract {contract_id}")),
        );
        Ok(Self {
            snapshot: JobSnapshotV1 {
                format_version: FormatV1,
                job_id: job_id.to_owned(),
                contract_id: contract_id.to_owned(),
                status: JobStatus::Pending,
                steps,
                created_at: at,
                health_before: None,
                health_after: None,
                history,
                extra: Default::default(),
            },
        })
    }

    /// A job from a stored snapshot, whose history must verify and which
    /// must have a contract.
    pub fn from_snapshot(snapshot: JobSnapshotV1) -> Result<Self, JobError> {
        if snapshot.contract_id.trim().is_empty() {
            return Err(JobError::Orphan {
                job_id: snapshot.job_id,
            });
        }
        verify_history(&snapshot.history).map_err(|source| JobError::History {
            job_id: snapshot.job_id.clone(),
            source,
        })?;
        // Status and step states live outside the chain: they must be the
        // last states the history records.
        let inconsistent = |problem: String| JobError::Inconsistent {
            job_id: snapshot.job_id.clone(),
            problem,
        };
        let last_job = snapshot
            .history
            .iter()
            .rev()
            .find(|e| !e.to.starts_with("step-"))
            .map(|e| e.to.as_str());
        if last_job != Some(snapshot.status.as_str()) {
            return Err(inconsistent(format!(
                "status is {}, the history says {}",
                snapshot.status.as_str(),
                last_job.unwrap_or("nothing")
            )));
        }
        for step in &snapshot.steps {
            let prefix = format!("step-{}:", step.index);
            let recorded = snapshot
                .history
                .iter()
                .rev()
                .find_map(|e| e.to.strip_prefix(&prefix))
                .unwrap_or("pending");
            let actual = match step.status {
                StepStatus::Pending => "pending",
                StepStatus::Running => "running",
                StepStatus::Completed => "completed",
                StepStatus::Failed => "failed",
                StepStatus::Skipped => "skipped",
            };
            if recorded != actual {
                return Err(inconsistent(format!(
                    "step {} is {actual}, the history says {recorded}",
                    step.index
                )));
            }
        }
        Ok(Self { snapshot })
    }

    /// The snapshot (the artifact to store).
    pub fn snapshot(&self) -> &JobSnapshotV1 {
        &self.snapshot
    }

    /// The current state.
    pub fn status(&self) -> JobStatus {
        self.snapshot.status
    }

    /// The job id.
    pub fn id(&self) -> &str {
        &self.snapshot.job_id
    }

    fn not_terminal(&self) -> Result<(), JobError> {
        history::ensure_live(self.snapshot.status)
            .map_err(|r| JobError::refused(&self.snapshot.job_id, r))
    }

    /// Every job status change goes through here: `history::transition`
    /// checks it and appends it to the chain. Step entries use `log_step`.
    fn transition(
        &mut self,
        to: JobStatus,
        at: Timestamp,
        actor: &str,
        note: Option<String>,
    ) -> Result<(), JobError> {
        let s = &mut self.snapshot;
        history::transition(&mut s.status, to, &mut s.history, at, actor, note, |r| {
            JobError::refused(&s.job_id, r)
        })
    }

    fn step_error(&self, problem: String) -> JobError {
        JobError::Step {
            job_id: self.snapshot.job_id.clone(),
            problem,
        }
    }

    /// The next step allowed to start (the lowest pending index), if any.
    pub fn next_step(&self) -> Option<u32> {
        self.snapshot
            .steps
            .iter()
            .find(|s| !finished(s.status))
            .filter(|s| s.status == StepStatus::Pending)
            .map(|s| s.index)
    }

    /// pending -> running.
    pub fn start(&mut self, at: Timestamp, actor: &str) -> Result<(), JobError> {
        self.transition(JobStatus::Running, at, actor, None)
    }

    /// Marks step `index` running: only the next step, only while the job runs.
    pub fn start_step(&mut self, index: u32, at: Timestamp, actor: &str) -> Result<(), JobError> {
        self.check_next(index)?;
        let step = self.step_mut(index)?;
        step.status = StepStatus::Running;
        step.started_at = Some(at.clone());
        self.log_step(index, "pending", "running", at, actor, None);
        Ok(())
    }

    fn check_next(&self, index: u32) -> Result<(), JobError> {
        self.not_terminal()?;
        if self.snapshot.status != JobStatus::Running {
            return Err(self.step_error(format!(
                "step {index} cannot run while the job is {}",
                self.snapshot.status.as_str()
            )));
        }
        match self.next_step() {
            Some(expected) if expected == index => Ok(()),
            Some(expected) => Err(JobError::OutOfOrder {
                job_id: self.snapshot.job_id.clone(),
                index,
                expected,
            }),
            None => Err(self.step_error(format!(
                "step {index} cannot start: a step is still running or none is left"
            ))),
        }
    }

    fn step_mut(&mut self, index: u32) -> Result<&mut JobStep, JobError> {
        let job_id = self.snapshot.job_id.clone();
        self.snapshot
            .steps
            .iter_mut()
            .find(|s| s.index == index)
            .ok_or(JobError::Step {
                job_id,
                problem: format!("there is no step {index}"),
            })
    }

    fn log_step(
        &mut self,
        index: u32,
        from: &str,
        to: &str,
        at: Timestamp,
        actor: &str,
        note: Option<String>,
    ) {
        append(
            &mut self.snapshot.history,
            Some(&format!("step-{index}:{from}")),
            &format!("step-{index}:{to}"),
            at,
            actor,
            note,
        );
    }

    /// Records what running step `index` produced: `completed` or `failed`,
    /// with at least one evidence excerpt. Observes; never runs anything.
    pub fn finish_step(
        &mut self,
        index: u32,
        outcome: StepStatus,
        evidence: Vec<Excerpt>,
        at: Timestamp,
        actor: &str,
    ) -> Result<(), JobError> {
        self.not_terminal()?;
        if !matches!(outcome, StepStatus::Completed | StepStatus::Failed) {
            return Err(self.step_error(format!(
                "a step finishes as completed or failed, not {outcome:?}"
            )));
        }
        if evidence.is_empty() {
            return Err(JobError::MissingEvidence {
                job_id: self.snapshot.job_id.clone(),
                index,
            });
        }
        let job_id = self.snapshot.job_id.clone();
        let step = self.step_mut(index)?;
        if step.status != StepStatus::Running {
            return Err(JobError::Step {
                job_id,
                problem: format!("step {index} is not running"),
            });
        }
        step.status = outcome;
        step.result = Some(StepResult {
            outcome,
            evidence,
            finished_at: at.clone(),
        });
        let to = if outcome == StepStatus::Completed {
            "completed"
        } else {
            "failed"
        };
        self.log_step(index, "running", to, at, actor, None);
        Ok(())
    }

    /// Skips the next step, with evidence of why.
    pub fn skip_step(
        &mut self,
        index: u32,
        evidence: Vec<Excerpt>,
        at: Timestamp,
        actor: &str,
    ) -> Result<(), JobError> {
        self.check_next(index)?;
        if evidence.is_empty() {
            return Err(JobError::MissingEvidence {
                job_id: self.snapshot.job_id.clone(),
                index,
            });
        }
        let step = self.step_mut(index)?;
        step.status = StepStatus::Skipped;
        step.result = Some(StepResult {
            outcome: StepStatus::Skipped,
            evidence,
            finished_at: at.clone(),
        });
        self.log_step(index, "pending", "skipped", at, actor, None);
        Ok(())
    }

    /// How far the job has come.
    pub fn completion(&self) -> Completion {
        let mut c = Completion {
            total: self.snapshot.steps.len(),
            ..Completion::default()
        };
        for step in &self.snapshot.steps {
            match step.status {
                StepStatus::Completed => c.completed += 1,
                StepStatus::Failed => c.failed += 1,
                StepStatus::Skipped => c.skipped += 1,
                StepStatus::Pending | StepStatus::Running => c.unfinished += 1,
            }
        }
        c
    }

    /// running -> completed, once every step completed or was skipped.
    pub fn complete(&mut self, at: Timestamp, actor: &str) -> Result<(), JobError> {
        self.not_terminal()?;
        let pending: Vec<u32> = self
            .snapshot
            .steps
            .iter()
            .filter(|s| !matches!(s.status, StepStatus::Completed | StepStatus::Skipped))
            .map(|s| s.index)
            .collect();
        if !pending.is_empty() && self.snapshot.status == JobStatus::Running {
            return Err(JobError::Incomplete {
                job_id: self.snapshot.job_id.clone(),
                pending,
            });
        }
        self.transition(JobStatus::Completed, at, actor, None)
    }

    /// running -> failed.
    pub fn fail(&mut self, reason: &str, at: Timestamp, actor: &str) -> Result<(), JobError> {
        self.transition(JobStatus::Failed, at, actor, Some(reason.to_owned()))
    }

    /// pending or running -> cancelled.
    pub fn cancel(&mut self, reason: &str, at: Timestamp, actor: &str) -> Result<(), JobError> {
        self.transition(JobStatus::Cancelled, at, actor, Some(reason.to_owned()))
    }

    /// Records health before the job runs: an observation that changes
    /// nothing else, recorded once.
    pub fn record_health_before(&mut self, health: HealthSnapshot) -> Result<(), JobError> {
        if self.snapshot.health_before.is_some() {
            return Err(JobError::HealthAlreadyRecorded {
                job_id: self.snapshot.job_id.clone(),
                which: "before",
            });
        }
        self.snapshot.health_before = Some(health);
        Ok(())
    }

    /// Records health after the job ran (also once it is terminal: observing
    /// a finished job is how it gets audited), once.
    pub fn record_health_after(&mut self, health: HealthSnapshot) -> Result<(), JobError> {
        if self.snapshot.health_after.is_some() {
            return Err(JobError::HealthAlreadyRecorded {
                job_id: self.snapshot.job_id.clone(),
                which: "after",
            });
        }
        self.snapshot.health_after = Some(health);
        Ok(())
    }
}
