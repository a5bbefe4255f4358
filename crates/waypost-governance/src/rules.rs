//! The one registry of governance rules: every rule id a decision can cite,
//! the built-in never-auto-approve globs, and the risk thresholds. No other
//! place in waypost lists them.

use waypost_schemas::RiskTolerance;

use crate::Verdict;

/// A rule a decision can cite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable id quoted in reasons.
    pub id: &'static str,
    /// The strongest verdict the rule produces.
    pub verdict: Verdict,
    /// What it checks.
    pub description: &'static str,
}

/// Built-in rules. Anchor auto-approve rules are cited as `rule:<rule_id>`.
pub const RULES: &[RuleInfo] = &[
    RuleInfo {
        id: "builtin.unknown_action_type",
        verdict: Verdict::RequireApproval,
        description: "the action type is not one waypost knows",
    },
    RuleInfo {
        id: "builtin.no_targets",
        verdict: Verdict::RequireApproval,
        description: "a file action names no target path",
    },
    RuleInfo {
        id: "builtin.invalid_risk",
        verdict: Verdict::RequireApproval,
        description: "the risk score is not a number from 0 to 1",
    },
    RuleInfo {
        id: "builtin.policy_unenforceable",
        verdict: Verdict::RequireApproval,
        description: "a glob in the anchor does not parse, so the policy cannot be fully enforced",
    },
    RuleInfo {
        id: "builtin.path_escapes_repo",
        verdict: Verdict::Deny,
        description: "a target path leaves the repository (.., absolute, drive letter, NUL, symlink pointing outside)",
    },
    RuleInfo {
        id: "anchor.protected_path",
        verdict: Verdict::Deny,
        description: "a target path is under the anchor's protected_paths",
    },
    RuleInfo {
        id: "anchor.never_allow",
        verdict: Verdict::Deny,
        description: "a target path or the command matches the anchor's safety_risk.never_allow",
    },
    RuleInfo {
        id: "builtin.never_auto_approve",
        verdict: Verdict::RequireApproval,
        description: "a target path matches waypost's built-in never-auto-approve globs (git, CI, anchor and governance files, lockfiles, secrets)",
    },
    RuleInfo {
        id: "anchor.never_auto_approve",
        verdict: Verdict::RequireApproval,
        description: "a target path matches the anchor's never_auto_approve globs",
    },
    RuleInfo {
        id: "anchor.requires_approval",
        verdict: Verdict::RequireApproval,
        description: "a target path or the command matches the anchor's safety_risk.requires_approval",
    },
    RuleInfo {
        id: "builtin.sensitive_action_type",
        verdict: Verdict::RequireApproval,
        description: "git operations, dependency installs and custom actions always need a human",
    },
    RuleInfo {
        id: "anchor.outside_write_roots",
        verdict: Verdict::RequireApproval,
        description: "a target path is outside the anchor's allowed_write_roots",
    },
    RuleInfo {
        id: "builtin.too_large",
        verdict: Verdict::RequireApproval,
        description: "the action changes more lines than any automatic approval allows, or gives no estimate",
    },
    RuleInfo {
        id: "anchor.risk_tolerance",
        verdict: Verdict::Deny,
        description: "the risk score is above what the anchor's risk_tolerance allows (approval above the auto limit, deny above the hard limit)",
    },
    RuleInfo {
        id: "anchor.budget_per_call",
        verdict: Verdict::Deny,
        description: "the estimated tokens exceed the per-call cap (the escalation policy decides block, approval or warning)",
    },
    RuleInfo {
        id: "builtin.default_deny",
        verdict: Verdict::RequireApproval,
        description: "no auto-approve rule covers the action and the default policy is deny",
    },
    RuleInfo {
        id: "anchor.default_allow",
        verdict: Verdict::AutoApprove,
        description: "nothing stops the action and the anchor's default policy is allow",
    },
];

/// Paths that are never approved automatically, whatever a rule says.
pub const NEVER_AUTO_APPROVE: &[&str] = &[
    // Version control internals and forge configuration.
    ".git/**",
    ".github/**",
    ".gitlab/**",
    ".gitlab-ci.yml",
    ".circleci/**",
    ".buildkite/**",
    "azure-pipelines.yml",
    "Jenkinsfile",
    ".ci/**",
    ".gitattributes",
    ".gitmodules",
    // The anchor and governance configuration.
    "intention.toml",
    "waypost.toml",
    "**/intention_anchor_v2.json",
    "**/approvals/**",
    "deny.toml",
    "rust-toolchain.toml",
    // Lockfiles.
    "**/Cargo.lock",
    "**/package-lock.json",
    "**/yarn.lock",
    "**/pnpm-lock.yaml",
    "**/poetry.lock",
    "**/uv.lock",
    "**/Pipfile.lock",
    "**/Gemfile.lock",
    "**/go.sum",
    "**/composer.lock",
    // Secrets-looking files.
    "**/.env",
    "**/.env.*",
    "**/*.pem",
    "**/*.key",
    "**/*.p12",
    "**/*.pfx",
    "**/id_rsa*",
    "**/id_ed25519*",
    "**/.npmrc",
    "**/.pypirc",
    "**/.netrc",
    "**/credentials*",
    "**/secrets/**",
];

/// Most changed lines any automatic approval allows (an auto-approve rule
/// may allow fewer, never more).
pub const MAX_AUTO_CHANGED_LINES: u64 = 500;

/// Risk limits per tolerance: at or below `auto` an action may be approved
/// automatically; above `deny` it is refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RiskLimits {
    /// Highest risk an automatic approval allows.
    pub auto: f64,
    /// Above this the action is denied outright.
    pub deny: f64,
}

/// The limits for a tolerance; stricter for `minimal` and `low`. An anchor
/// without a tolerance gets `low`.
pub fn risk_limits(tolerance: Option<RiskTolerance>) -> RiskLimits {
    match tolerance.unwrap_or(RiskTolerance::Low) {
        RiskTolerance::Minimal => RiskLimits {
            auto: 0.1,
            deny: 0.5,
        },
        RiskTolerance::Low => RiskLimits {
            auto: 0.3,
            deny: 0.8,
        },
        RiskTolerance::Moderate => RiskLimits {
            auto: 0.5,
            deny: 0.9,
        },
        RiskTolerance::High => RiskLimits {
            auto: 0.7,
            deny: 1.0,
        },
    }
}

/// The registry entry for `id` (`rule:<id>` anchor rules are not listed).
pub fn rule(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}
