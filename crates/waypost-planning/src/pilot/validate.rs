//! Validation of a decision before anything in it is applied.

use waypost_schemas::{PilotDecisionV1, RetryAction, ValidationError, validate};

use super::context::PilotContext;

/// Why a decision was refused. Each names the task (and batch, file or
/// limit) involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecisionError {
    /// The decision does not conform to the `pilot_decision_v1` schema.
    #[error("the decision does not conform to its schema: {0}")]
    Schema(#[from] ValidationError),
    /// The decision is for another project, run or batch.
    #[error(
        "the decision is for {field} `{found}`, but the batch that ended is {field} `{expected}`"
    )]
    WrongRun {
        /// `project_id`, `run_id` or `batch_id`.
        field: &'static str,
        /// What the decision says.
        found: String,
        /// What it should say.
        expected: String,
    },
    /// A task key that is not a task of the graph.
    #[error("{field} names task `{task}`, which is not a task of the run")]
    UnknownTask {
        /// Where it appears.
        field: &'static str,
        /// The key.
        task: String,
    },
    /// A failed task without a strategy or an analysis.
    #[error("task `{task}` failed, but the decision has no {field} for it")]
    Unanswered {
        /// `retry_strategies` or `failure_analysis`.
        field: &'static str,
        /// The task.
        task: String,
    },
    /// A strategy or an analysis for a task that did not fail.
    #[error("{field} has an entry for `{task}`, which did not fail in this batch")]
    NotFailed {
        /// `retry_strategies` or `failure_analysis`.
        field: &'static str,
        /// The task.
        task: String,
    },
    /// A task placed somewhere that is not pending (done, or skipped or held
    /// by an earlier decision).
    #[error("{field} places task `{task}`, which is not pending (it is done, skipped or held)")]
    NotPending {
        /// `skips`, `held` or `new_batches`.
        field: &'static str,
        /// The task.
        task: String,
    },
    /// A task placed twice.
    #[error(
        "task `{task}` is placed twice (in {first} and in {second}); each pending task goes in exactly one place"
    )]
    Duplicate {
        /// The task.
        task: String,
        /// The first place.
        first: String,
        /// The second place.
        second: String,
    },
    /// A pending task placed nowhere.
    #[error("pending task `{task}` is in no new batch and neither skipped nor held")]
    Missing {
        /// The task.
        task: String,
    },
    /// A strategy whose action does not match where the task was placed.
    #[error("task `{task}` has action {action:?}, but the decision places it in {placed}")]
    StrategyDisagrees {
        /// The task.
        task: String,
        /// Its action.
        action: RetryAction,
        /// Where it was placed.
        placed: String,
    },
    /// A skipped or held task whose pending dependent is neither.
    #[error(
        "task `{task}` is {how}, but its dependent `{dependent}` is not; a dependent cannot run without it"
    )]
    DependentLeftBehind {
        /// The skipped or held task.
        task: String,
        /// `skipped` or `held`.
        how: &'static str,
        /// The dependent that would still run.
        dependent: String,
    },
    /// A task placed in the same batch as, or before, a dependency.
    #[error(
        "task `{task}` is in batch {batch} but its dependency `{dependency}` is in batch {dependency_batch}; a dependency runs in an earlier batch"
    )]
    DependencyOrder {
        /// The task.
        task: String,
        /// Its batch (0-based).
        batch: usize,
        /// The dependency.
        dependency: String,
        /// The dependency's batch (0-based).
        dependency_batch: usize,
    },
    /// Two tasks in one batch that touch the same file.
    #[error("tasks `{first}` and `{second}` are both in batch {batch} and both touch `{file}`")]
    Conflict {
        /// One task.
        first: String,
        /// The other.
        second: String,
        /// The file.
        file: String,
        /// The batch (0-based).
        batch: usize,
    },
    /// A batch larger than the concurrency limit, or empty.
    #[error("batch {batch} has {size} tasks; a batch holds 1 to {limit}")]
    BatchSize {
        /// The batch (0-based).
        batch: usize,
        /// Its size.
        size: usize,
        /// The concurrency limit.
        limit: usize,
    },
    /// A task retried serially that shares its batch.
    #[error("task `{task}` is retried serially but shares batch {batch} with {size} other tasks")]
    SerialNotAlone {
        /// The task.
        task: String,
        /// The batch (0-based).
        batch: usize,
        /// How many others.
        size: usize,
    },
    /// A retry beyond the task's limit.
    #[error("task `{task}` has had {used} retries; the limit is {limit} per task")]
    RetryOverTaskLimit {
        /// The task.
        task: String,
        /// Retries already granted.
        used: u32,
        /// The per-task limit.
        limit: u32,
    },
    /// More retries than the run has left.
    #[error(
        "the decision grants {granted} retries but the run has {remaining} left (the first over the budget: `{task}`)"
    )]
    RetryBudgetExhausted {
        /// The first task (in key order) beyond the budget.
        task: String,
        /// Retries the decision grants.
        granted: u32,
        /// Retries the run has left.
        remaining: u32,
    },
}

/// Where a task was placed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Nowhere,
    Skipped,
    Held,
    Batch(usize),
}

impl Place {
    fn describe(self) -> String {
        match self {
            Self::Nowhere => "no place".to_owned(),
            Self::Skipped => "skips".to_owned(),
            Self::Held => "held".to_owned(),
            Self::Batch(i) => format!("batch {i}"),
        }
    }
}

// Invariant: PILOT-001 A pilot decision is validated before anything in it is applied.
// Category: governance
// Why: the system this design descends from applied an advisor's skip list without
//      checking it; an unknown key, a lost dependent or a re-batch that drops a task
//      silently loses work or runs it on a broken base.
// Enforced by: pilot::validate, called by Pilot::after_batch on every advisor decision
//      (and on the fallback) before it is written; a refusal falls back with its reason.
// Invariant: PILOT-002 Skipping or holding a task skips or holds its remaining dependents too.
// Category: governance
// Why: a dependent of a skipped task would run on a base that lacks what it depends on.
// Enforced by: validate refuses DependentLeftBehind; replan skips the dependents breadth
//      first, each with the task it waited on as its reason.
/// Checks `decision` against `ctx`: the schema; the run and batch; every
/// task key known; an analysis and a strategy for exactly the failed tasks;
/// every pending task placed exactly once (in a new batch, skipped or held)
/// and nothing else placed; strategies agreeing with placements; skipped
/// and held tasks taking their pending dependents with them; batches of 1
/// to `ctx.concurrency` tasks, without two tasks touching one file, each
/// task after its dependencies, serial retries alone; retries within the
/// per-task limit and the run's budget.
///
/// O(n + e + f) for n tasks, e dependencies and f file references.
pub fn validate(ctx: &PilotContext<'_>, decision: &PilotDecisionV1) -> Result<(), DecisionError> {
    validate::validate_artifact(decision)?;
    for (field, found, expected) in [
        ("project_id", &decision.project_id, &ctx.project_id),
        ("run_id", &decision.run_id, &ctx.run_id),
        ("batch_id", &decision.batch_id, &ctx.batch_id),
    ] {
        if found != expected {
            return Err(DecisionError::WrongRun {
                field,
                found: found.clone(),
                expected: expected.clone(),
            });
        }
    }
    let graph = ctx.graph;
    let n = graph.len();
    let node = |field: &'static str, task: &str| {
        graph.node(task).ok_or_else(|| DecisionError::UnknownTask {
            field,
            task: task.to_owned(),
        })
    };

    // Known keys, and answers for exactly the failed tasks.
    let mut failed = vec![false; n];
    for failure in &ctx.failed {
        failed[node("failed", &failure.key)?] = true;
    }
    let mut analysed = vec![false; n];
    for analysis in &decision.failure_analysis {
        let at = node("failure_analysis", &analysis.task_key)?;
        if !failed[at] {
            return Err(DecisionError::NotFailed {
                field: "failure_analysis",
                task: analysis.task_key.clone(),
            });
        }
        analysed[at] = true;
    }
    for task in decision.retry_strategies.keys() {
        if !failed[node("retry_strategies", task)?] {
            return Err(DecisionError::NotFailed {
                field: "retry_strategies",
                task: task.clone(),
            });
        }
    }
    for failure in &ctx.failed {
        let at = node("failed", &failure.key)?;
        for (field, answered) in [
            ("failure_analysis", analysed[at]),
            (
                "retry_strategies",
                decision.retry_strategies.contains_key(&failure.key),
            ),
        ] {
            if !answered {
                return Err(DecisionError::Unanswered {
                    field,
                    task: failure.key.clone(),
                });
            }
        }
    }
    for task in decision.routed_context.keys() {
        node("routed_context", task)?;
    }

    // Every pending task exactly once.
    let mut pending = vec![false; n];
    for task in &ctx.pending {
        pending[node("pending", task)?] = true;
    }
    let mut place = vec![Place::Nowhere; n];
    let mut put = |field: &'static str, task: &str, to: Place| -> Result<usize, DecisionError> {
        let at = node(field, task)?;
        if !pending[at] {
            return Err(DecisionError::NotPending {
                field,
                task: task.to_owned(),
            });
        }
        if place[at] != Place::Nowhere {
            return Err(DecisionError::Duplicate {
                task: task.to_owned(),
                first: place[at].describe(),
                second: to.describe(),
            });
        }
        place[at] = to;
        Ok(at)
    };
    for skip in &decision.skips {
        put("skips", &skip.task_key, Place::Skipped)?;
    }
    for hold in &decision.held {
        put("held", &hold.task_key, Place::Held)?;
    }
    let mut batches: Vec<Vec<usize>> = Vec::with_capacity(decision.new_batches.len());
    for (i, batch) in decision.new_batches.iter().enumerate() {
        let nodes = batch
            .iter()
            .map(|task| put("new_batches", task, Place::Batch(i)))
            .collect::<Result<Vec<_>, _>>()?;
        batches.push(nodes);
    }
    if let Some(missing) = (0..n).find(|&at| pending[at] && place[at] == Place::Nowhere) {
        return Err(DecisionError::Missing {
            task: graph.key_of(missing).to_owned(),
        });
    }

    // Strategies agree with placements.
    for (task, strategy) in &decision.retry_strategies {
        let at = node("retry_strategies", task)?;
        let agrees = match strategy.action {
            RetryAction::Skip => place[at] == Place::Skipped,
            RetryAction::Escalate => place[at] == Place::Held,
            _ => matches!(place[at], Place::Batch(_)),
        };
        if !agrees {
            return Err(DecisionError::StrategyDisagrees {
                task: task.clone(),
                action: strategy.action,
                placed: place[at].describe(),
            });
        }
    }

    // Skips and holds take their pending dependents with them.
    for at in 0..n {
        let how = match place[at] {
            Place::Skipped => "skipped",
            Place::Held => "held",
            _ => continue,
        };
        for dependent in graph.dependents_of(at) {
            let ok = match place[at] {
                Place::Skipped => place[dependent] == Place::Skipped,
                _ => matches!(place[dependent], Place::Skipped | Place::Held),
            };
            if pending[dependent] && !ok {
                return Err(DecisionError::DependentLeftBehind {
                    task: graph.key_of(at).to_owned(),
                    how,
                    dependent: graph.key_of(dependent).to_owned(),
                });
            }
        }
    }

    // Batches: size, conflicts, order, serial retries alone.
    let limit = ctx.concurrency.max(1);
    let mut serial = vec![false; n];
    for (task, strategy) in &decision.retry_strategies {
        if strategy.action == RetryAction::RetryLaterSerially {
            serial[node("retry_strategies", task)?] = true;
        }
    }
    let mut file_owner: Vec<(usize, usize)> = vec![(usize::MAX, 0); graph.file_count()];
    for (i, batch) in batches.iter().enumerate() {
        if batch.is_empty() || batch.len() > limit {
            return Err(DecisionError::BatchSize {
                batch: i,
                size: batch.len(),
                limit,
            });
        }
        for &at in batch {
            for &file in graph.file_ids(at) {
                let (owner_batch, owner) = file_owner[file as usize];
                if owner_batch == i {
                    return Err(DecisionError::Conflict {
                        first: graph.key_of(owner).to_owned(),
                        second: graph.key_of(at).to_owned(),
                        file: graph.file_name(file).to_owned(),
                        batch: i,
                    });
                }
                file_owner[file as usize] = (i, at);
            }
            for dependency in graph.deps_of(at) {
                if !pending[dependency] {
                    continue;
                }
                if let Place::Batch(j) = place[dependency]
                    && j >= i
                {
                    return Err(DecisionError::DependencyOrder {
                        task: graph.key_of(at).to_owned(),
                        batch: i,
                        dependency: graph.key_of(dependency).to_owned(),
                        dependency_batch: j,
                    });
                }
            }
            if serial[at] && batch.len() > 1 {
                return Err(DecisionError::SerialNotAlone {
                    task: graph.key_of(at).to_owned(),
                    batch: i,
                    size: batch.len() - 1,
                });
            }
        }
    }

    // Retries: per task, then the run's budget.
    let mut granted = 0u32;
    let mut first_over = None;
    for (task, strategy) in &decision.retry_strategies {
        if !strategy.action.retries() {
            continue;
        }
        let used = ctx.budget.used.get(task).copied().unwrap_or(0);
        if used >= ctx.budget.per_task {
            return Err(DecisionError::RetryOverTaskLimit {
                task: task.clone(),
                used,
                limit: ctx.budget.per_task,
            });
        }
        granted += 1;
        if granted > ctx.budget.run_remaining && first_over.is_none() {
            first_over = Some(task.clone());
        }
    }
    if let Some(task) = first_over {
        return Err(DecisionError::RetryBudgetExhausted {
            task,
            granted,
            remaining: ctx.budget.run_remaining,
        });
    }
    Ok(())
}
