//! The gate pilot: what happens next when a batch of agent tasks ends with
//! failures while tasks remain.
//!
//! An orchestrator runs the tasks of a [`TaskGraph`] in batches
//! ([`TaskGraph::batches`]: dependencies first, at most `concurrency` tasks
//! per batch, never two tasks touching one file together). After each
//! batch it calls [`Pilot::after_batch`], which
//!
//! 1. does nothing when the pilot is off (`pilot = false`, [`PilotConfig::enabled`]);
//! 2. rebuilds the run's state from its directory ([`assemble`]): a task is
//!    done only when its verification evidence says so, never on the
//!    agent's own report; earlier decisions give the retries spent and the
//!    tasks skipped or held; oversized logs are cut from the middle;
//! 3. does nothing when no task of the batch failed or no task remains;
//! 4. asks the [`Advisor`] and [`validate`]s its decision; an advisor
//!    error or a refused decision falls back to [`HeuristicAdvisor`]'s
//!    deterministic replan, recording why;
//! 5. writes the decision applied to `pilot/<batch_id>.json` in the run
//!    directory, atomically, and returns it: the orchestrator then runs
//!    `new_batches` in order, with each task's `routed_context`.
//!
//! Retries are counted per task and from one run-wide budget
//! ([`RetryBudget`], a counter fed from the governance
//! [`Budget`]); a retried task keeps its key,
//! so its dependents run once its verification passes.
//!
//! ```
//! use waypost_planning::pilot::{HeuristicAdvisor, Pilot, PilotConfig, PilotOutcome, TaskGraph, TaskSpec};
//! use waypost_schemas::{RunLayout, Timestamp};
//!
//! let dir = tempfile::tempdir()?;
//! let layout = RunLayout::new(dir.path(), "demo", "build-20260101T000000Z")?;
//! let graph = TaskGraph::new([TaskSpec::new("a"), TaskSpec::new("b").depends_on(["a"])])?;
//! let pilot = Pilot::new(PilotConfig::default(), &HeuristicAdvisor);
//! // Batch 1 ran `a`, which left no verification evidence: it failed.
//! let at = Timestamp::parse("2026-01-01T00:00:00Z")?;
//! let outcome = pilot.after_batch(&layout, &graph, "batch-1", &["a".to_owned()], &at)?;
//! let PilotOutcome::Applied(applied) = outcome else { panic!("a failed and b remains") };
//! assert_eq!(applied.decision.new_batches, vec![vec!["a"], vec!["b"]]);
//! assert!(applied.path.ends_with("pilot/batch-1.json"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod advisor;
mod budget;
mod context;
mod graph;
mod validate;

use std::path::PathBuf;

pub use advisor::{
    Advisor, AdvisorError, HEURISTIC_ADVISOR, HeuristicAdvisor, analyse, class_name, classify_log,
    heuristic_decision, replan, strategy_for,
};
pub use budget::{RETRY_PHASE, RetryBudget, RetryLimits};
pub use context::{
    AssembleInput, ContextError, FailedTask, LogText, PilotContext, QaVerdict, assemble,
    cut_marker, cut_middle, exit_status, parse_qa_verdict, read_log,
};
pub use graph::{GraphError, TaskGraph, TaskSpec};
pub use validate::{DecisionError, validate};

use waypost_governance::Budget;
use waypost_schemas::io::{WriteError, write_artifact};
use waypost_schemas::layout::IdError;
use waypost_schemas::{DecisionSource, PilotDecisionV1, RunLayout, Timestamp, redact};

/// How the pilot runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PilotConfig {
    /// `pilot = false` turns the pilot off: failed tasks are left as they
    /// are and nothing is decided or written.
    pub enabled: bool,
    /// How many tasks may share a batch (at least 1).
    pub concurrency: usize,
    /// Retry limits per task and for the run.
    pub retry: RetryLimits,
    /// Largest verification log read whole; a larger one is cut from the
    /// middle.
    pub max_log_bytes: u64,
}

impl Default for PilotConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            concurrency: 4,
            retry: RetryLimits::default(),
            max_log_bytes: 64 * 1024,
        }
    }
}

/// The gate pilot of one orchestrator: its configuration, its advisor and,
/// optionally, the run's governance budget.
///
/// Holds no state of the run: every call rebuilds it from the run
/// directory.
#[derive(Clone, Copy)]
pub struct Pilot<'a> {
    config: PilotConfig,
    advisor: &'a dyn Advisor,
    budget: Option<&'a Budget>,
}

impl std::fmt::Debug for Pilot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pilot")
            .field("config", &self.config)
            .field("advisor", &self.advisor.name())
            .field("budget", &self.budget)
            .finish()
    }
}

/// Why the pilot was not called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotCalled {
    /// The pilot is off (`pilot = false`).
    Disabled,
    /// Every task of the batch is done by its evidence.
    NoFailures,
    /// No task remains besides the failed ones.
    NoRemainingTasks,
}

/// A decision applied after a batch.
#[derive(Clone, Debug, PartialEq)]
pub struct Applied {
    /// The decision, as written.
    pub decision: PilotDecisionV1,
    /// Where it was written: `pilot/<batch_id>.json` in the run directory.
    pub path: PathBuf,
}

/// What [`Pilot::after_batch`] did.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PilotOutcome {
    /// Nothing: the pilot was not called.
    NotCalled(NotCalled),
    /// A validated decision, written run-local (boxed: it is large, and
    /// most calls end in `NotCalled`).
    Applied(Box<Applied>),
}

/// The pilot could not decide or record a decision. (An advisor that fails
/// is not an error: it falls back.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PilotError {
    /// The batch id cannot name a decision file.
    #[error("{0}")]
    BatchId(#[from] IdError),
    /// The batch ran a task that is not in the graph.
    #[error("batch `{batch}` ran task `{task}`, which is not a task of the graph")]
    UnknownTask {
        /// The batch.
        batch: String,
        /// The key.
        task: String,
    },
    /// The run directory could not be read.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// The deterministic replan was refused: a defect in waypost, reported
    /// rather than applied.
    #[error(
        "the deterministic replan was refused ({0}); this is a waypost defect, please report it"
    )]
    InvalidFallback(DecisionError),
    /// The decision could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl<'a> Pilot<'a> {
    /// A pilot asking `advisor`.
    pub fn new(config: PilotConfig, advisor: &'a dyn Advisor) -> Self {
        Self {
            config,
            advisor,
            budget: None,
        }
    }

    /// The same pilot, granting no more retries than `budget` (the run's
    /// governance budget) still allows at
    /// [`RetryLimits::cost_per_retry`].
    pub fn with_budget(mut self, budget: &'a Budget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// The pilot's context for the end of `batch_id`, rebuilt from the run
    /// directory.
    pub fn context<'g>(
        &self,
        layout: &RunLayout,
        graph: &'g TaskGraph,
        batch_id: &str,
        ran: &[String],
        decided_at: &Timestamp,
    ) -> Result<PilotContext<'g>, PilotError> {
        layout.pilot_decision(batch_id)?;
        if let Some(task) = ran.iter().find(|t| !graph.contains(t)) {
            return Err(PilotError::UnknownTask {
                batch: batch_id.to_owned(),
                task: task.clone(),
            });
        }
        let input = AssembleInput {
            batch_id,
            ran,
            decided_at,
            concurrency: self.config.concurrency.max(1),
            max_log_bytes: self.config.max_log_bytes,
        };
        let (limits, budget) = (self.config.retry, self.budget);
        Ok(assemble(layout, graph, &input, |used| {
            RetryBudget::new(limits, used, budget)
        })?)
    }

    // Invariant: PILOT-005 Every pilot decision and fallback is written run-local.
    // Category: filesystem
    // Why: execution writes run-local only, and a decision nobody can read back cannot
    //      be audited or counted against the retry budget by the next call.
    // Enforced by: Pilot::after_batch writes through io::write_artifact (validated,
    //      atomic) to RunLayout::pilot_decision, `pilot/<batch_id>.json`, before returning it.
    /// Decides what happens after batch `batch_id`, which ran `ran`, and
    /// records it (see the [module documentation](self)). `decided_at` is
    /// the time written into the decision: pass a fixed one for
    /// reproducible files.
    pub fn after_batch(
        &self,
        layout: &RunLayout,
        graph: &TaskGraph,
        batch_id: &str,
        ran: &[String],
        decided_at: &Timestamp,
    ) -> Result<PilotOutcome, PilotError> {
        if !self.config.enabled {
            return Ok(PilotOutcome::NotCalled(NotCalled::Disabled));
        }
        let ctx = self.context(layout, graph, batch_id, ran, decided_at)?;
        if ctx.failed.is_empty() {
            return Ok(PilotOutcome::NotCalled(NotCalled::NoFailures));
        }
        if ctx.remaining().next().is_none() {
            return Ok(PilotOutcome::NotCalled(NotCalled::NoRemainingTasks));
        }
        let decision = self.decide(&ctx)?;
        let path = layout.pilot_decision(batch_id)?;
        write_artifact(&path, &decision)?;
        Ok(PilotOutcome::Applied(Box::new(Applied { decision, path })))
    }

    /// The decision for `ctx`, validated: the advisor's, or the
    /// deterministic replan with the reason the advisor's was not used.
    /// Writes nothing.
    pub fn decide(&self, ctx: &PilotContext<'_>) -> Result<PilotDecisionV1, PilotError> {
        let name = self.advisor.name().to_owned();
        let refused = match self.advisor.decide(ctx) {
            Ok(mut decision) => {
                decision.decided_at = ctx.decided_at.clone();
                decision.source = DecisionSource::Advisor;
                decision.advisor.clone_from(&name);
                decision.fallback_reason = None;
                redact_free_text(&mut decision);
                decision.sort();
                match validate(ctx, &decision) {
                    Ok(()) => return Ok(decision),
                    Err(e) => format!("the decision of advisor `{name}` was refused: {e}"),
                }
            }
            Err(e) => e.to_string(),
        };
        let mut fallback = heuristic_decision(ctx);
        fallback.source = DecisionSource::Fallback;
        fallback.advisor = name;
        fallback.fallback_reason = Some(redact(&refused).into_owned());
        validate(ctx, &fallback).map_err(PilotError::InvalidFallback)?;
        Ok(fallback)
    }
}

/// Passes every free-text field of an advisor's decision through the
/// secret redactor: a model may echo a credential it read in a log. Task
/// keys are ids and stay as they are (validation checks them).
fn redact_free_text(decision: &mut PilotDecisionV1) {
    let clean = |text: &mut String| {
        if let std::borrow::Cow::Owned(redacted) = redact(text) {
            *text = redacted;
        }
    };
    for analysis in &mut decision.failure_analysis {
        analysis.signature.as_mut().map(clean);
        clean(&mut analysis.evidence);
    }
    for strategy in decision.retry_strategies.values_mut() {
        strategy.guidance.as_mut().map(clean);
        clean(&mut strategy.reason);
    }
    for lines in decision.routed_context.values_mut() {
        lines.iter_mut().for_each(clean);
    }
    for task in decision.skips.iter_mut().chain(decision.held.iter_mut()) {
        clean(&mut task.reason);
    }
    decision.new_learnings.iter_mut().for_each(clean);
    decision.fallback_reason.as_mut().map(clean);
    for value in decision.extra.values_mut() {
        waypost_schemas::redact_json(value);
    }
}
