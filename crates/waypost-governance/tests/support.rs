//! A base anchor and action builders.

use serde_json::{Value, json};
use waypost_governance::{Action, ActionKind, Policy};
use waypost_schemas::{ActionType, IntentionAnchorV2};

/// The anchor most cases run against.
pub(crate) fn base_anchor() -> Value {
    json!({
        "format_version": "v2",
        "project_id": "demo",
        "created_at": "2026-01-01T00:00:00Z",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {
            "safety_risk": {
                "never_allow": ["git push --force", "secrets/**"],
                "requires_approval": ["dependency changes", "cargo publish", "migrations/**"],
                "risk_tolerance": "low"
            },
            "scope_boundaries": {
                "allowed_write_roots": ["docs/", "src/", "crates/**", ".autonomous_runs/", "*.md"],
                "protected_paths": ["LICENSE", "deploy/**", "docs/legal/**"]
            },
            "budget_cost": {"token_cap_per_call": 8000, "cost_escalation_policy": "request_approval"},
            "governance_review": {
                "default_policy": "deny",
                "approval_channels": ["cli", "pr"],
                "never_auto_approve": ["src/main.rs"],
                "auto_approve_rules": [
                    {"rule_id": "small-doc-fixes", "criteria": {"action_types": ["doc_update"], "path_globs": ["docs/**", "*.md"], "max_changed_lines": 40, "max_risk_score": 0.2}},
                    {"rule_id": "source-format", "criteria": {"action_types": ["tidy_apply"], "path_globs": ["src/**"], "max_changed_lines": 200, "max_risk_score": 0.3}}
                ]
            }
        }
    })
}

pub(crate) fn policy_of(anchor: &Value) -> Policy {
    let anchor: IntentionAnchorV2 = serde_json::from_value(anchor.clone()).expect("anchor");
    Policy::from_anchor(&anchor, None)
}

/// An action of `kind` on `targets`, 5 lines, risk 0.1, no command or cost.
pub(crate) fn action(kind: &str, targets: &[&str]) -> Action {
    let kind = match serde_json::from_value::<ActionType>(json!(kind)) {
        Ok(t) => ActionKind::Known(t),
        Err(_) => ActionKind::Unknown(kind.to_owned()),
    };
    Action {
        kind,
        target_paths: targets.iter().map(|s| (*s).to_owned()).collect(),
        changed_lines: Some(5),
        command: None,
        risk_score: 0.1,
        estimated_tokens: None,
        cost_unknown: false,
    }
}
