//! Advisors: what decides after a failed batch. [`Advisor`] is the seam an
//! embedder plugs a model into; [`HeuristicAdvisor`] is waypost's own,
//! deterministic one, and its decision is also the fallback.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use waypost_schemas::{
    DecisionSource, Extra, FailureAnalysis, FailureClass, FormatV1, PilotDecisionV1, RetryAction,
    RetryStrategy, SkippedTask, redact,
};

use super::context::{FailedTask, PilotContext};

/// An advisor could not decide.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdvisorError {
    /// The advisor could not be reached or gave no answer (a model endpoint
    /// that is down, a timeout).
    #[error("advisor `{advisor}` is unavailable: {reason}")]
    Unavailable {
        /// The advisor.
        advisor: String,
        /// What happened.
        reason: String,
    },
    /// The advisor answered with something that is not a decision (text
    /// that does not parse as `pilot_decision_v1`).
    #[error("advisor `{advisor}` answered with no usable decision: {reason}")]
    Unusable {
        /// The advisor.
        advisor: String,
        /// What is wrong with the answer.
        reason: String,
    },
}

/// Decides what happens after a batch ended with failures while tasks
/// remain.
///
/// Called with a context rebuilt from the run directory; the decision it
/// returns is validated before anything is applied, and an error or an
/// invalid decision falls back to [`HeuristicAdvisor`]'s (the fallback
/// and its reason are recorded). `decided_at`, `source`, `advisor` and
/// `fallback_reason` are filled in by the pilot; array order does not
/// matter (the pilot sorts). An advisor is called from one thread at a time
/// and should not keep state between calls: everything it may use is in the
/// context.
///
/// ```
/// use waypost_planning::pilot::{Advisor, AdvisorError, PilotContext};
/// use waypost_schemas::PilotDecisionV1;
///
/// /// Asks a model; here, a model that is never reachable.
/// struct Model;
///
/// impl Advisor for Model {
///     fn name(&self) -> &str {
///         "model"
///     }
///
///     fn decide(&self, _ctx: &PilotContext<'_>) -> Result<PilotDecisionV1, AdvisorError> {
///         Err(AdvisorError::Unavailable {
///             advisor: self.name().to_owned(),
///             reason: "no endpoint configured".to_owned(),
///         })
///     }
/// }
/// ```
pub trait Advisor {
    /// The name recorded in every decision.
    fn name(&self) -> &str {
        "custom"
    }

    /// The decision for `ctx`.
    fn decide(&self, ctx: &PilotContext<'_>) -> Result<PilotDecisionV1, AdvisorError>;
}

/// waypost's deterministic advisor: classifies each failure from its log
/// signature and decides by class.
///
/// | class | action |
/// |---|---|
/// | `timeout`, `merge_conflict` | retry later, serially, with guidance |
/// | `test_failure`, `build_error`, `unknown` | retry with guidance |
/// | `flaky` | retry |
/// | `identical_repeat` | skip (and its remaining dependents) |
/// | `missing_credentials` | escalate to a human (its dependents wait) |
///
/// A retry the budget does not allow (per task or for the run) becomes an
/// escalation. The remaining tasks are re-batched with
/// [`TaskGraph::batches`](super::TaskGraph::batches).
#[derive(Clone, Copy, Debug, Default)]
pub struct HeuristicAdvisor;

/// The name [`HeuristicAdvisor`] records.
pub const HEURISTIC_ADVISOR: &str = "heuristic";

impl Advisor for HeuristicAdvisor {
    fn name(&self) -> &str {
        HEURISTIC_ADVISOR
    }

    fn decide(&self, ctx: &PilotContext<'_>) -> Result<PilotDecisionV1, AdvisorError> {
        Ok(heuristic_decision(ctx))
    }
}

/// Signatures by class, in the order they are tried: a log that shows a
/// missing credential and a failed test failed for the credential.
/// Matched case-insensitively against each line.
const SIGNATURES: &[(FailureClass, &[&str])] = &[
    (
        FailureClass::MissingCredentials,
        &[
            "authentication failed",
            "permission denied (publickey)",
            "could not read username",
            "401 unauthorized",
            "403 forbidden",
            "missing credentials",
            "no credentials",
            "credentials not found",
            "invalid api key",
            "api key not set",
            "environment variable not found",
        ],
    ),
    (
        FailureClass::MergeConflict,
        &[
            "conflict (",
            "merge conflict",
            "automatic merge failed",
            "could not apply",
            "<<<<<<< ",
        ],
    ),
    (
        FailureClass::Timeout,
        &["timed out", "timeout", "deadline exceeded"],
    ),
    (
        FailureClass::BuildError,
        &[
            "error[e",
            "could not compile",
            "compilation failed",
            "build failed",
            "cannot find symbol",
            "syntaxerror",
            "undefined reference",
            "modulenotfounderror",
        ],
    ),
    (
        FailureClass::Flaky,
        &[
            "flaky",
            "passed on retry",
            "rerun",
            "try 2 pass",
            "try 3 pass",
        ],
    ),
    (
        FailureClass::TestFailure,
        &[
            "test result: failed",
            "assertion failed",
            "assertionerror",
            "--- fail:",
            "tests failed",
            "test failed",
            "failures:",
        ],
    ),
];

/// Exit statuses that mean the command was stopped for taking too long
/// (`timeout` exits 124; a kill after it, 137).
const TIMEOUT_STATUSES: &[i32] = &[124, 137];

/// Longest signature kept.
const MAX_SIGNATURE_CHARS: usize = 200;

/// The class of a log and the line that shows it, normalised (digit runs
/// become `#`, so durations and line numbers do not make two identical
/// failures look different) and redacted; `None` when no signature matches.
pub fn classify_log(log: &str, exit_status: Option<i32>) -> Option<(FailureClass, String)> {
    for (class, needles) in SIGNATURES {
        for line in log.lines() {
            let lower = line.to_ascii_lowercase();
            if needles.iter().any(|n| lower.contains(n)) {
                return Some((*class, normalise(line)));
            }
        }
    }
    exit_status
        .filter(|s| TIMEOUT_STATUSES.contains(s))
        .map(|s| (FailureClass::Timeout, format!("exit status: {s}")))
}

/// A log line as a signature: trimmed, secrets redacted, digit runs as
/// `#`, at most [`MAX_SIGNATURE_CHARS`] characters.
fn normalise(line: &str) -> String {
    // Redacted first: a secret with its digits replaced would no longer be
    // recognised, and its other characters would leak.
    let redacted = redact(line.trim());
    let mut out = String::with_capacity(redacted.len());
    let mut in_digits = false;
    for c in redacted.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out.chars().take(MAX_SIGNATURE_CHARS).collect()
}

/// The analysis of one failed task: its class, signature and evidence.
pub fn analyse(failure: &FailedTask) -> FailureAnalysis {
    let log = failure.verification_log.as_ref().map(|l| l.text.as_str());
    let qa_notes = failure
        .qa_verdict
        .as_ref()
        .filter(|q| !q.passed)
        .map(|q| q.notes.as_str());
    let found = log
        .and_then(|l| classify_log(l, failure.exit_status))
        .or_else(|| qa_notes.and_then(|n| classify_log(n, None)));
    let (mut class, signature) = match found {
        Some((class, signature)) => (class, Some(signature)),
        None => (FailureClass::Unknown, None),
    };
    if class != FailureClass::Flaky
        && signature
            .as_ref()
            .is_some_and(|s| failure.previous_signatures.contains(s))
    {
        class = FailureClass::IdenticalRepeat;
    }
    let evidence = match (&failure.verification_log, failure.exit_status) {
        (None, _) => "no verification log".to_owned(),
        (Some(_), None) => "the verification log ends without an exit status".to_owned(),
        (Some(_), Some(0)) => "verification passed but the QA verdict is not pass".to_owned(),
        (Some(_), Some(code)) => format!("verification exited with status {code}"),
    };
    FailureAnalysis {
        task_key: failure.key.clone(),
        failure_class: class,
        signature,
        attempts: failure.attempts.max(1),
        evidence,
        extra: Extra::new(),
    }
}

/// The last `n` non-empty lines of a log, redacted.
fn log_tail(failure: &FailedTask, n: usize) -> Option<String> {
    let log = failure.verification_log.as_ref()?;
    let mut lines: Vec<&str> = log
        .text
        .lines()
        .rev()
        .filter(|l| !l.trim().is_empty())
        .take(n)
        .collect();
    lines.reverse();
    (!lines.is_empty()).then(|| redact(&lines.join("\n")).into_owned())
}

/// The strategy [`HeuristicAdvisor`] picks for one analysed failure.
pub fn strategy_for(analysis: &FailureAnalysis, failure: &FailedTask) -> RetryStrategy {
    let sig = analysis.signature.as_deref().unwrap_or("no signature");
    let (action, guidance, reason) = match analysis.failure_class {
        FailureClass::Timeout => (
            RetryAction::RetryLaterSerially,
            Some(format!(
                "The last attempt timed out (`{sig}`): keep the change small and avoid long-running commands; this attempt runs alone."
            )),
            "timed out; run again alone, once the other ready tasks are done".to_owned(),
        ),
        FailureClass::MergeConflict => (
            RetryAction::RetryLaterSerially,
            Some(format!(
                "The last attempt stopped on a merge conflict (`{sig}`): start from the current base and change only the task's files."
            )),
            "merge conflict with work that landed meanwhile; run again alone, after the others".to_owned(),
        ),
        FailureClass::TestFailure => (
            RetryAction::RetryWithGuidance,
            Some(format!(
                "Tests failed (`{sig}`): fix the code unless the test is wrong, and run the failing test before finishing."
            )),
            "tests failed; another attempt with the failure in hand can fix it".to_owned(),
        ),
        FailureClass::BuildError => (
            RetryAction::RetryWithGuidance,
            Some(format!(
                "The build failed (`{sig}`): make it compile before running the tests."
            )),
            "the build failed; another attempt with the error in hand can fix it".to_owned(),
        ),
        FailureClass::Flaky => (
            RetryAction::Retry,
            None,
            format!("a flaky test failed (`{sig}`); the change itself may be right"),
        ),
        FailureClass::IdenticalRepeat => (
            RetryAction::Skip,
            None,
            format!("failed exactly as on an earlier attempt (`{sig}`); another attempt would repeat it"),
        ),
        FailureClass::MissingCredentials => (
            RetryAction::Escalate,
            None,
            format!("credentials are missing (`{sig}`); a human must provide them"),
        ),
        FailureClass::Unknown => (
            RetryAction::RetryWithGuidance,
            Some(match log_tail(failure, 5) {
                Some(tail) => format!(
                    "The verification failed without a known signature; the end of its log:\n{tail}"
                ),
                None => "The last attempt left no verification log: make sure the verification commands run and their output is kept.".to_owned(),
            }),
            format!("{}; no known failure signature", analysis.evidence),
        ),
    };
    RetryStrategy {
        action,
        guidance,
        reason,
        extra: Extra::new(),
    }
}

/// [`HeuristicAdvisor`]'s decision: every failure analysed, a strategy by
/// class, the budget applied, then [`replan`].
pub fn heuristic_decision(ctx: &PilotContext<'_>) -> PilotDecisionV1 {
    let mut analyses = Vec::with_capacity(ctx.failed.len());
    let mut strategies = BTreeMap::new();
    let mut learnings = Vec::new();
    for failure in &ctx.failed {
        let analysis = analyse(failure);
        let strategy = strategy_for(&analysis, failure);
        tracing::debug!(
            task = %failure.key,
            class = class_name(analysis.failure_class),
            strategy = ?strategy,
            "failure analysed"
        );
        if let Some(signature) = &analysis.signature {
            learnings.push(format!(
                "{}: {} ({signature})",
                failure.key,
                class_name(analysis.failure_class)
            ));
        }
        strategies.insert(failure.key.clone(), strategy);
        analyses.push(analysis);
    }
    replan(ctx, analyses, strategies, learnings)
}

/// The snake-case name of a class, as the schema writes it.
pub fn class_name(class: FailureClass) -> &'static str {
    match class {
        FailureClass::Timeout => "timeout",
        FailureClass::MergeConflict => "merge_conflict",
        FailureClass::TestFailure => "test_failure",
        FailureClass::BuildError => "build_error",
        FailureClass::MissingCredentials => "missing_credentials",
        FailureClass::Flaky => "flaky",
        FailureClass::IdenticalRepeat => "identical_repeat",
        _ => "unknown",
    }
}

/// Turns per-task strategies into a whole decision that passes validation:
/// retries the budget does not allow become escalations (per task first,
/// then the run's budget in task-key order); skipped tasks take their
/// remaining dependents with them, each naming the task it waited on;
/// escalated tasks hold theirs; the rest is re-batched with the retried
/// tasks keeping their keys, serial retries alone and last.
pub fn replan(
    ctx: &PilotContext<'_>,
    analyses: Vec<FailureAnalysis>,
    mut strategies: BTreeMap<String, RetryStrategy>,
    new_learnings: Vec<String>,
) -> PilotDecisionV1 {
    let mut run_left = ctx.budget.run_remaining;
    for (task, strategy) in &mut strategies {
        if !strategy.action.retries() {
            continue;
        }
        let refusal = if ctx.budget.left_for(task) == 0 {
            Some(format!(
                "retry limit reached: `{task}` has had its {} retries",
                ctx.budget.per_task
            ))
        } else if run_left == 0 {
            Some("the run's retry budget is spent".to_owned())
        } else {
            None
        };
        match refusal {
            Some(why) => {
                tracing::debug!(task = %task, reason = %why, "retry refused: escalated");
                *strategy = RetryStrategy {
                    action: RetryAction::Escalate,
                    guidance: None,
                    reason: format!("{why}; a human decides (was: {})", strategy.reason),
                    extra: Extra::new(),
                };
            }
            None => run_left -= 1,
        }
    }
    let graph = ctx.graph;
    let n = graph.len();
    let mut pending = vec![false; n];
    for key in &ctx.pending {
        if let Some(node) = graph.node(key) {
            pending[node] = true;
        }
    }
    // Closure of skips, then of holds over what is left; each dependent
    // names the root it waits on (roots in key order, breadth first).
    let mut skips = Vec::new();
    let mut held = Vec::new();
    let roots = |action: RetryAction| -> Vec<&str> {
        strategies
            .iter()
            .filter(|(_, s)| s.action == action)
            .map(|(k, _)| k.as_str())
            .collect()
    };
    for (action, out) in [
        (RetryAction::Skip, &mut skips),
        (RetryAction::Escalate, &mut held),
    ] {
        let verb = if action == RetryAction::Skip {
            "skipped"
        } else {
            "waiting for a human"
        };
        let mut queue = VecDeque::new();
        for root in roots(action) {
            let Some(node) = graph.node(root) else {
                continue;
            };
            if !pending[node] {
                continue;
            }
            pending[node] = false;
            out.push(SkippedTask {
                task_key: root.to_owned(),
                reason: strategies[root].reason.clone(),
                because_of: None,
                extra: Extra::new(),
            });
            queue.push_back((node, root));
            while let Some((at, root)) = queue.pop_front() {
                for dependent in graph.dependents_of(at) {
                    if pending[dependent] {
                        pending[dependent] = false;
                        out.push(SkippedTask {
                            task_key: graph.key_of(dependent).to_owned(),
                            reason: format!("depends on `{root}`, which is {verb}"),
                            because_of: Some(root.to_owned()),
                            extra: Extra::new(),
                        });
                        queue.push_back((dependent, root));
                    }
                }
            }
        }
    }
    let mut serial = vec![false; n];
    for (task, strategy) in &strategies {
        if strategy.action == RetryAction::RetryLaterSerially
            && let Some(node) = graph.node(task)
        {
            serial[node] = true;
        }
    }
    let new_batches: Vec<Vec<String>> = graph
        .batches_of(&pending, &serial, ctx.concurrency)
        .into_iter()
        .map(|b| b.into_iter().map(|n| graph.key_of(n).to_owned()).collect())
        .collect();
    let routed_context = route(ctx, &strategies, &new_batches);
    let mut decision = PilotDecisionV1 {
        format_version: FormatV1,
        project_id: ctx.project_id.clone(),
        run_id: ctx.run_id.clone(),
        batch_id: ctx.batch_id.clone(),
        decided_at: ctx.decided_at.clone(),
        source: DecisionSource::Advisor,
        advisor: HEURISTIC_ADVISOR.to_owned(),
        fallback_reason: None,
        failure_analysis: analyses,
        retry_strategies: strategies,
        routed_context,
        skips,
        held,
        new_learnings,
        new_batches,
        extra: Extra::new(),
    };
    decision.sort();
    tracing::info!(
        failed = decision.failure_analysis.len(),
        skipped = decision.skips.len(),
        held = decision.held.len(),
        batches = decision.new_batches.len(),
        "pilot decided"
    );
    decision
}

/// The context each task that runs next is handed: a retried task's
/// guidance, then every learning that names the task or one of its files.
fn route(
    ctx: &PilotContext<'_>,
    strategies: &BTreeMap<String, RetryStrategy>,
    batches: &[Vec<String>],
) -> BTreeMap<String, Vec<String>> {
    let mut routed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if ctx.learnings.is_empty() && strategies.values().all(|s| s.guidance.is_none()) {
        return routed;
    }
    let learnings: BTreeSet<&str> = ctx.learnings.iter().map(String::as_str).collect();
    if learnings.is_empty() {
        // Only guidance to route: the retried tasks (every one of them is
        // in a batch), not every task.
        for (key, strategy) in strategies {
            if let Some(guidance) = &strategy.guidance
                && strategy.action.retries()
            {
                routed.insert(key.clone(), vec![guidance.clone()]);
            }
        }
        return routed;
    }
    for key in batches.iter().flatten() {
        let mut lines = Vec::new();
        if let Some(guidance) = strategies.get(key).and_then(|s| s.guidance.clone()) {
            lines.push(guidance);
        }
        let files = ctx.graph.files(key);
        for learning in &learnings {
            if mentions(learning, key) || files.iter().any(|f| learning.contains(f)) {
                lines.push(redact(learning).into_owned());
            }
        }
        if !lines.is_empty() {
            routed.insert(key.clone(), lines);
        }
    }
    routed
}

/// Whether `text` names `key` as a word (not as part of a longer key).
fn mentions(text: &str, key: &str) -> bool {
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    text.match_indices(key).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + key.len()..].chars().next();
        !before.is_some_and(is_key_char) && !after.is_some_and(is_key_char)
    })
}
