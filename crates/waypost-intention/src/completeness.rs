//! Clarifying questions for what the anchor does not say.

use serde_json::Value;
use waypost_schemas::IntentionAnchorV2;

use crate::default::default_pivots;
use crate::infer::Inferred;

/// Most questions asked at once: more than this is a questionnaire nobody
/// answers; the rest come once these are answered.
pub const MAX_QUESTIONS: usize = 8;

// Invariant: ANCHOR-002 waypost asks at most 8 clarifying questions, most important first.
// Category: governance
// Why: safety and scope gaps matter more than missing success signals; a long
//      questionnaire buries them.
// Enforced by: validate_pivot_completeness walks QUESTIONS in priority order and stops at 8.

/// One question: the field it would fill, and the value waypost would use
/// if the human accepts a default.
#[derive(Clone, Debug, PartialEq)]
pub struct ClarifyingQuestion {
    /// The pivot type (`safety_risk`, ...).
    pub pivot: &'static str,
    /// The field it fills, as a JSON pointer into the anchor.
    pub field: String,
    /// The question, in plain words.
    pub question: &'static str,
    /// An inferred or built-in value to offer, if there is one.
    pub suggested: Option<(Value, Suggestion)>,
}

/// Where a suggested value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suggestion {
    /// Inferred from the repository.
    Inferred,
    /// waypost's built-in conservative default.
    BuiltIn,
}

/// Every question, in priority order: safety and scope first, aspirations last.
const QUESTIONS: [(&str, &str, &str); 14] = [
    (
        "safety_risk",
        "never_allow",
        "What must an agent never do here (commands, paths)?",
    ),
    (
        "safety_risk",
        "risk_tolerance",
        "How much risk may an agent take unattended: minimal, low, moderate or high?",
    ),
    (
        "scope_boundaries",
        "allowed_write_roots",
        "Under which paths may agents write?",
    ),
    (
        "scope_boundaries",
        "protected_paths",
        "Which paths must agents never modify?",
    ),
    (
        "governance_review",
        "default_policy",
        "Should actions no rule covers be denied (deny) or allowed (allow)?",
    ),
    (
        "governance_review",
        "approval_channels",
        "Through which channels may a human approve an action (cli, pr, ...)?",
    ),
    (
        "budget_cost",
        "token_cap_global",
        "How many model tokens may one run spend in total?",
    ),
    (
        "budget_cost",
        "time_cap_seconds",
        "How long may one run take, in seconds?",
    ),
    (
        "evidence_verification",
        "hard_blocks",
        "Which checks must pass before a change counts (test commands)?",
    ),
    (
        "parallelism_isolation",
        "allowed",
        "May several agent runs work on this repository at once?",
    ),
    (
        "memory_continuity",
        "persist_to_sot",
        "Which outcomes should become permanent project memory?",
    ),
    (
        "north_star",
        "desired_outcomes",
        "What should agents achieve here? Name the outcomes you want.",
    ),
    (
        "north_star",
        "success_signals",
        "How will you see that it worked (observable signals)?",
    ),
    (
        "budget_cost",
        "cost_escalation_policy",
        "When a budget would be exceeded: block, warn or request_approval?",
    ),
];

/// The missing or empty fields of `anchor` as clarifying questions, at most
/// [`MAX_QUESTIONS`], in a fixed priority order. A complete anchor gets none.
/// Suggestions come from `inferred` where it has a value, else from the
/// built-in defaults.
pub fn validate_pivot_completeness(
    anchor: &IntentionAnchorV2,
    inferred: Option<&Inferred>,
) -> Vec<ClarifyingQuestion> {
    let pivots = serde_json::to_value(&anchor.pivot_intentions).expect("pivot sections serialize");
    let defaults = serde_json::to_value(default_pivots()).expect("pivot sections serialize");
    QUESTIONS
        .iter()
        .filter(|(section, field, _)| {
            pivots
                .get(section)
                .and_then(|s| s.get(field))
                .is_none_or(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty))
        })
        .take(MAX_QUESTIONS)
        .map(|&(pivot, field, question)| {
            let from_inference = inferred
                .and_then(|i| i.pivots.get(pivot)?.get(field).cloned())
                .map(|v| (v, Suggestion::Inferred));
            let from_defaults = defaults
                .get(pivot)
                .and_then(|s| s.get(field))
                .filter(|v| !v.as_array().is_some_and(Vec::is_empty))
                .cloned()
                .map(|v| (v, Suggestion::BuiltIn));
            ClarifyingQuestion {
                pivot,
                field: format!("/pivot_intentions/{pivot}/{field}"),
                question,
                suggested: from_inference.or(from_defaults),
            }
        })
        .collect()
}
