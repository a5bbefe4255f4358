//! The built-in conservative anchor, used when no human wrote one.

use serde_json::json;
use waypost_schemas::PivotIntentions;

/// Where run-local output goes; the one place the default lets waypost write.
pub const RUN_ROOT: &str = ".autonomous_runs/";

/// The conservative defaults: default-deny with no auto-approval rule,
/// writes only under the run directory, no network, modest budgets that
/// block when reached, parallelism off. North star, evidence and memory are
/// left empty: they are what only a human can say, and `anchor check` asks.
pub fn default_pivots() -> PivotIntentions {
    serde_json::from_value(json!({
        "safety_risk": {
            "never_allow": ["git push --force", ".git/**", "**/.env*", "**/*.pem"],
            "requires_approval": ["**/Cargo.toml", "**/package.json", "**/pyproject.toml", ".github/**", "cargo add", "npm install", "pip install"],
            "risk_tolerance": "low"
        },
        "scope_boundaries": {
            "allowed_write_roots": [RUN_ROOT],
            "protected_paths": [".git/**", ".github/**", "intention.toml", "**/.env", "**/.env.*", "**/*.pem", "**/*.key"],
            "network_allowlist": []
        },
        "budget_cost": {
            "token_cap_global": 200_000,
            "token_cap_per_call": 16_000,
            "time_cap_seconds": 3600,
            "cost_escalation_policy": "block"
        },
        "governance_review": {
            "default_policy": "deny",
            "approval_channels": ["cli"]
        },
        "parallelism_isolation": {
            "allowed": false,
            "isolation_model": "four_layer",
            "max_concurrent_runs": 1
        }
    }))
    .expect("the built-in default matches the anchor types")
}
