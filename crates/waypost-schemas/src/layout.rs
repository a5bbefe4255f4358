//! `RunLayout`: the one place run paths are built.
//!
//! Every run writes under
//! `<root>/.autonomous_runs/<project>/runs/<family>/<run_id>/` and nowhere
//! else. Project ids, run ids, families and the ids used as file names
//! (action ids, batch ids, phase ids) are checked before they become path
//! components, so no id can escape the run directory.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::common::Timestamp;
use crate::kind::{ArtifactKind, Kind, RunFile};

/// The folder under the repository root that holds every run.
pub const RUNS_ROOT: &str = ".autonomous_runs";

/// Longest id accepted as a path component.
pub const MAX_ID_LEN: usize = 128;

/// What an id names, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdKind {
    /// A project id.
    Project,
    /// A run id.
    Run,
    /// A run family.
    Family,
    /// An action id (approval file names).
    Action,
    /// A pilot batch id.
    Batch,
    /// A proof phase id.
    Phase,
    /// A claim or lease key.
    Claim,
    /// A contract id.
    Contract,
    /// A job id.
    Job,
    /// A task key (task evidence folders).
    Task,
}

impl IdKind {
    fn label(self) -> &'static str {
        match self {
            Self::Project => "project id",
            Self::Run => "run id",
            Self::Family => "run family",
            Self::Action => "action id",
            Self::Batch => "batch id",
            Self::Phase => "phase id",
            Self::Claim => "claim key",
            Self::Contract => "contract id",
            Self::Job => "job id",
            Self::Task => "task key",
        }
    }
}

/// An id that cannot be used as a path component.
#[derive(Debug, thiserror::Error)]
#[error("invalid {}: `{}` {problem} (use 1 to {MAX_ID_LEN} of A-Z a-z 0-9 . _ -, not starting with `.` or `-`)", .kind.label(), .value.escape_debug())]
pub struct IdError {
    /// What the id names.
    pub kind: IdKind,
    /// The id as given.
    pub value: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

// Invariant: SCHEMA-004 No id escapes the run directory.
// Category: filesystem
// Why: execution writes run-local only; an id such as `../../.github` used as a file
//      name would let a run write anywhere.
// Enforced by: RunLayout builds every run path and passes every id through check_id,
//      which allows one component of A-Z a-z 0-9 . _ - without `..`.
/// Checks that `value` is safe as one path component: 1 to [`MAX_ID_LEN`]
/// characters of `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`, and
/// without `..`.
pub fn check_id(kind: IdKind, value: &str) -> Result<(), IdError> {
    let fail = |problem| {
        Err(IdError {
            kind,
            value: value.to_owned(),
            problem,
        })
    };
    if value.is_empty() {
        return fail("is empty");
    }
    if value.len() > MAX_ID_LEN {
        return fail("is too long");
    }
    if value.contains('\0') {
        return fail("contains a NUL byte");
    }
    if value.contains('/') || value.contains('\\') {
        return fail("contains a path separator");
    }
    if value.contains("..") {
        return fail("contains `..`");
    }
    if value.starts_with('.') || value.starts_with('-') {
        return fail("starts with `.` or `-`");
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return fail("contains a character outside A-Z a-z 0-9 . _ -");
    }
    Ok(())
}

/// A run id's timestamp suffix: `-YYYYMMDDTHHMMSSZ`, `-YYYYMMDD-HHMMSS` or
/// `-YYYYMMDDHHMMSS`, optionally followed by a short `-<disambiguator>`.
static TIMESTAMP_SUFFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"-\d{8}(?:T\d{6}Z?|-\d{6}|\d{6})(?:-[A-Za-z0-9]{1,8})?$").expect("literal pattern")
});

/// The family of a run id: the id without its timestamp suffix, or the whole
/// id when it has none (`scan-20261121T083800Z` → `scan`).
pub fn family_of(run_id: &str) -> &str {
    match TIMESTAMP_SUFFIX.find(run_id) {
        Some(m) if m.start() > 0 => &run_id[..m.start()],
        _ => run_id,
    }
}

/// A new run id: `<family>-<YYYYMMDDTHHMMSSZ>` (UTC).
pub fn new_run_id(family: &str, at: &Timestamp) -> Result<String, IdError> {
    check_id(IdKind::Family, family)?;
    let id = format!("{family}-{}", at.compact_utc());
    check_id(IdKind::Run, &id)?;
    Ok(id)
}

/// A run directory could not be created.
#[derive(Debug, thiserror::Error)]
#[error("cannot create run directory {}: {source}", path.display())]
pub struct CreateDirError {
    /// The directory.
    pub path: PathBuf,
    /// The OS error.
    #[source]
    pub source: io::Error,
}

/// The run-local directories, in layout order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RunDir {
    /// `intention/`: the anchor in force for the run.
    Intention,
    /// `gaps/`: gap reports.
    Gaps,
    /// `plans/`: plan proposals.
    Plans,
    /// `approvals/`: one approval record per action.
    Approvals,
    /// `autonomy/`: autopilot sessions.
    Autonomy,
    /// `pilot/`: gate pilot decisions per batch.
    Pilot,
    /// `tasks/`: per-task evidence an orchestrator writes (verification
    /// logs, QA verdicts, the agent's summary), one folder per task key.
    Tasks,
    /// `governance/`: contract and job snapshots, history, audit evidence.
    Governance,
    /// `proofs/`: per-phase proofs.
    Proofs,
    /// `logs/`: run logs.
    Logs,
}

impl RunDir {
    /// Every run directory.
    pub const ALL: [RunDir; 10] = [
        Self::Intention,
        Self::Gaps,
        Self::Plans,
        Self::Approvals,
        Self::Autonomy,
        Self::Pilot,
        Self::Tasks,
        Self::Governance,
        Self::Proofs,
        Self::Logs,
    ];

    /// The directory name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intention => "intention",
            Self::Gaps => "gaps",
            Self::Plans => "plans",
            Self::Approvals => "approvals",
            Self::Autonomy => "autonomy",
            Self::Pilot => "pilot",
            Self::Tasks => "tasks",
            Self::Governance => "governance",
            Self::Proofs => "proofs",
            Self::Logs => "logs",
        }
    }
}

/// One piece of a task's evidence in `tasks/<task_key>/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskFile {
    /// `verification.log`: the output of the task's verification commands,
    /// ending with the line `exit status: <code>` (0 means verified).
    VerificationLog,
    /// `qa_verdict.md`: a reviewer's verdict, `pass` or `fail` on the first
    /// line, notes below.
    QaVerdict,
    /// `summary.md`: the agent's own account of what it did (context only,
    /// never evidence).
    Summary,
}

impl TaskFile {
    /// The file name.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::VerificationLog => "verification.log",
            Self::QaVerdict => "qa_verdict.md",
            Self::Summary => "summary.md",
        }
    }
}

/// The paths of one run.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RunLayout {
    root: PathBuf,
    project_id: String,
    family: String,
    run_id: String,
}

impl RunLayout {
    /// The layout of run `run_id` of `project_id` under repository `root`;
    /// the family is derived from the run id ([`family_of`]).
    pub fn new(root: impl Into<PathBuf>, project_id: &str, run_id: &str) -> Result<Self, IdError> {
        Self::with_family(root, project_id, family_of(run_id), run_id)
    }

    /// The same with an explicit family.
    pub fn with_family(
        root: impl Into<PathBuf>,
        project_id: &str,
        family: &str,
        run_id: &str,
    ) -> Result<Self, IdError> {
        check_id(IdKind::Project, project_id)?;
        check_id(IdKind::Family, family)?;
        check_id(IdKind::Run, run_id)?;
        Ok(Self {
            root: root.into(),
            project_id: project_id.to_owned(),
            family: family.to_owned(),
            run_id: run_id.to_owned(),
        })
    }

    /// The repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The project id.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The run family.
    pub fn family(&self) -> &str {
        &self.family
    }

    /// The run id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// `<root>/.autonomous_runs/<project>/`.
    pub fn project_dir(&self) -> PathBuf {
        self.root.join(RUNS_ROOT).join(&self.project_id)
    }

    /// `<root>/.autonomous_runs/<project>/runs/<family>/<run_id>/`.
    pub fn run_dir(&self) -> PathBuf {
        self.project_dir()
            .join("runs")
            .join(&self.family)
            .join(&self.run_id)
    }

    /// One run-local directory.
    pub fn dir(&self, dir: RunDir) -> PathBuf {
        self.run_dir().join(dir.as_str())
    }

    /// The file of a one-per-run artifact kind, `<dir>/<kind name>.json`;
    /// `None` for kinds kept one per id or outside run directories.
    pub fn run_file<K: Kind>(&self, kind: K) -> Option<PathBuf> {
        let facts = kind.facts();
        match facts.run_file {
            RunFile::OnePerRun(dir) => Some(self.dir(dir).join(format!("{}.json", facts.name))),
            _ => None,
        }
    }

    /// The file of a one-per-id artifact kind for `id`,
    /// `<dir>/<prefix><id>.json`, after checking `id` can name a file;
    /// `None` for kinds kept one per run or outside run directories.
    pub fn id_file<K: Kind>(&self, kind: K, id: &str) -> Option<Result<PathBuf, IdError>> {
        match kind.facts().run_file {
            RunFile::OnePerId {
                dir,
                prefix,
                id: id_kind,
            } => Some(
                check_id(id_kind, id).map(|()| self.dir(dir).join(format!("{prefix}{id}.json"))),
            ),
            _ => None,
        }
    }

    fn one_per_run(&self, kind: ArtifactKind) -> PathBuf {
        self.run_file(kind)
            .expect("the kinds with their own accessor are kept one per run")
    }

    fn one_per_id(&self, kind: ArtifactKind, id: &str) -> Result<PathBuf, IdError> {
        self.id_file(kind, id)
            .expect("the kinds with their own accessor are kept one per id")
    }

    /// `intention/intention_anchor_v2.json`.
    pub fn intention_anchor(&self) -> PathBuf {
        self.one_per_run(ArtifactKind::IntentionAnchorV2)
    }

    /// `gaps/gap_report_v1.json`.
    pub fn gap_report(&self) -> PathBuf {
        self.one_per_run(ArtifactKind::GapReportV1)
    }

    /// `plans/plan_proposal_v1.json`.
    pub fn plan_proposal(&self) -> PathBuf {
        self.one_per_run(ArtifactKind::PlanProposalV1)
    }

    /// `autonomy/autopilot_session_v1.json`.
    pub fn autopilot_session(&self) -> PathBuf {
        self.one_per_run(ArtifactKind::AutopilotSessionV1)
    }

    /// `approvals/<action_id>.json`.
    pub fn approval(&self, action_id: &str) -> Result<PathBuf, IdError> {
        self.one_per_id(ArtifactKind::ApprovalRecordV1, action_id)
    }

    /// `pilot/<batch>.json`.
    pub fn pilot_decision(&self, batch: &str) -> Result<PathBuf, IdError> {
        self.one_per_id(ArtifactKind::PilotDecisionV1, batch)
    }

    /// `governance/contract-<contract_id>.json`.
    pub fn contract_snapshot(&self, contract_id: &str) -> Result<PathBuf, IdError> {
        self.one_per_id(ArtifactKind::ContractSnapshotV1, contract_id)
    }

    /// `governance/job-<job_id>.json`.
    pub fn job_snapshot(&self, job_id: &str) -> Result<PathBuf, IdError> {
        self.one_per_id(ArtifactKind::JobSnapshotV1, job_id)
    }

    /// `governance/audit-<job_id>.json`.
    pub fn audit_evidence(&self, job_id: &str) -> Result<PathBuf, IdError> {
        self.one_per_id(ArtifactKind::AuditEvidenceV1, job_id)
    }

    /// `tasks/<task_key>/<file>`: one piece of a task's evidence.
    pub fn task_file(&self, task_key: &str, file: TaskFile) -> Result<PathBuf, IdError> {
        check_id(IdKind::Task, task_key)?;
        Ok(self
            .dir(RunDir::Tasks)
            .join(task_key)
            .join(file.file_name()))
    }

    /// `logs/learnings.md`: what the run has learnt so far, one learning
    /// per line, written by the orchestrator and read by the gate pilot.
    pub fn learnings(&self) -> PathBuf {
        self.dir(RunDir::Logs).join("learnings.md")
    }

    /// `proofs/<phase_id>.json`.
    pub fn proof(&self, phase_id: &str) -> Result<PathBuf, IdError> {
        check_id(IdKind::Phase, phase_id)?;
        Ok(self.dir(RunDir::Proofs).join(format!("{phase_id}.json")))
    }

    /// Every run directory under `root`, sorted by project, family and run
    /// id: `<root>/.autonomous_runs/<project>/runs/<family>/<run_id>/`.
    /// Names that [`check_id`] refuses, and anything that is not a real
    /// directory (a symbolic link included), are not runs and are left out.
    /// A repository without a run folder has no runs.
    pub fn discover(root: &Path) -> io::Result<Vec<RunLayout>> {
        let mut runs = Vec::new();
        let top = root.join(RUNS_ROOT);
        for project in subdirs(&top, IdKind::Project)? {
            let runs_dir = top.join(&project).join("runs");
            for family in subdirs(&runs_dir, IdKind::Family)? {
                for run_id in subdirs(&runs_dir.join(&family), IdKind::Run)? {
                    runs.push(
                        Self::with_family(root, &project, &family, &run_id).map_err(|e| {
                            io::Error::new(io::ErrorKind::InvalidData, e.to_string())
                        })?,
                    );
                }
            }
        }
        runs.sort_by(|a, b| {
            (&a.project_id, &a.family, &a.run_id).cmp(&(&b.project_id, &b.family, &b.run_id))
        });
        Ok(runs)
    }

    /// Creates the run directory and every run-local directory.
    pub fn create_dirs(&self) -> Result<(), CreateDirError> {
        for dir in RunDir::ALL {
            let path = self.dir(dir);
            fs::create_dir_all(&path).map_err(|source| CreateDirError { path, source })?;
        }
        Ok(())
    }
}

/// The names of the real directories in `dir` that are valid ids of `kind`,
/// sorted; none when `dir` does not exist.
fn subdirs(dir: &Path, kind: IdKind) -> io::Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        // file_type does not follow a link: a linked folder is not a run.
        if !entry.file_type()?.is_dir() {
            continue;
        }
        if let Some(name) = entry.file_name().to_str()
            && check_id(kind, name).is_ok()
        {
            names.push(name.to_owned());
        }
    }
    names.sort();
    Ok(names)
}
