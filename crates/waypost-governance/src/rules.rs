//! The one registry of governance rules: every rule a decision can cite
//! ([`RuleId`]), the built-in never-auto-approve globs, and the risk
//! thresholds. No other place in waypost lists them.

use waypost_schemas::RiskTolerance;

use crate::Verdict;

/// Declares [`RuleId`] from one table: variant, stable id, the strongest
/// verdict, whether an edit of the action's size, risk or cost can remove it
/// (`soft`) or not (`hard`), and what it checks.
macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $verdict:ident, $fix:ident, $description:literal; )*) => {
        /// Every rule a decision can cite. Anchor auto-approve rules are
        /// cited as [`RuleId::AutoApproveRule`] with the rule's own id
        /// (`rule:<rule_id>`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum RuleId {
            $( $(#[$doc])* $variant, )*
        }

        impl RuleId {
            /// Every rule, most fundamental first: a counterfactual names the
            /// first hard objection in this order.
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant),*];

            /// The stable id quoted in reasons (`builtin.…`, `anchor.…`, `rule`).
            pub fn as_str(self) -> &'static str {
                match self { $(RuleId::$variant => $id,)* }
            }

            /// The strongest verdict the rule produces.
            pub fn verdict(self) -> Verdict {
                match self { $(RuleId::$variant => Verdict::$verdict,)* }
            }

            /// What it checks.
            pub fn description(self) -> &'static str {
                match self { $(RuleId::$variant => $description,)* }
            }

            /// Whether no edit of the action's size, risk or estimated cost
            /// removes this objection.
            pub fn is_hard(self) -> bool {
                match self { $(RuleId::$variant => rules!(@hard $fix),)* }
            }
        }
    };
    (@hard hard) => { true };
    (@hard soft) => { false };
}

rules! {
    /// A target leaves the repository.
    PathEscapesRepo = "builtin.path_escapes_repo", Deny, hard,
        "a target path leaves the repository (.., absolute, drive letter, NUL, symlink pointing outside)";
    /// A target is protected.
    ProtectedPath = "anchor.protected_path", Deny, hard,
        "a target path (or the file it reaches) is under the anchor's protected_paths";
    /// A target or command is never allowed.
    NeverAllow = "anchor.never_allow", Deny, hard,
        "a target path or a simple command matches the anchor's safety_risk.never_allow";
    /// A target matches a built-in never-auto-approve glob.
    BuiltinNeverAutoApprove = "builtin.never_auto_approve", RequireApproval, hard,
        "a target path matches waypost's built-in never-auto-approve globs (git, CI, anchor and governance files, lockfiles, secrets)";
    /// A target matches the anchor's never-auto-approve globs.
    AnchorNeverAutoApprove = "anchor.never_auto_approve", RequireApproval, hard,
        "a target path matches the anchor's never_auto_approve globs";
    /// A target or command needs approval by the anchor.
    RequiresApproval = "anchor.requires_approval", RequireApproval, hard,
        "a target path or a simple command matches the anchor's safety_risk.requires_approval";
    /// The action type always needs a human.
    SensitiveActionType = "builtin.sensitive_action_type", RequireApproval, hard,
        "git operations, dependency installs and custom actions always need a human";
    /// The action type is not one waypost knows.
    UnknownActionType = "builtin.unknown_action_type", RequireApproval, hard,
        "the action type is not one waypost knows";
    /// Part of the anchor cannot be enforced as written.
    PolicyUnenforceable = "builtin.policy_unenforceable", RequireApproval, hard,
        "a glob or command rule in the anchor does not parse, so the policy cannot be fully enforced";
    /// The command cannot be understood.
    CommandNotUnderstood = "builtin.command_not_understood", RequireApproval, hard,
        "the command has parts the parser cannot reason about (eval, here-documents, computed program names, syntax errors)";
    /// A target is written through a symlink.
    SymlinkWrite = "builtin.symlink_write", RequireApproval, hard,
        "a target path goes through a symlink, so the write lands somewhere other than where it is written";
    /// A target names different files on different systems.
    AmbiguousName = "builtin.ambiguous_name", RequireApproval, hard,
        "a target contains a backslash (a separator on Windows, part of the name elsewhere) or a Windows short name (GIT~1), so it may name another file than it seems";
    /// A folder target too large to check entry by entry.
    FolderUnchecked = "builtin.folder_unchecked", RequireApproval, hard,
        "a target is a folder with more entries than waypost lists, so what the action touches inside it was not all checked";
    /// A target is a file with other names.
    HardLink = "builtin.hard_link", RequireApproval, hard,
        "a target is a regular file with more than one hard link, whose other names may be protected";
    /// A file action names no target path.
    NoTargets = "builtin.no_targets", RequireApproval, hard,
        "a file action names no target path";
    /// The risk score is not a number from 0 to 1.
    InvalidRisk = "builtin.invalid_risk", RequireApproval, hard,
        "the risk score is not a number from 0 to 1";
    /// A target is outside the write roots.
    OutsideWriteRoots = "anchor.outside_write_roots", RequireApproval, hard,
        "a target path is outside the anchor's allowed_write_roots";
    /// No rule allows every command the action runs.
    CommandNotAllowed = "builtin.command_not_allowed", RequireApproval, hard,
        "the action runs a command that no auto-approve rule explicitly allows";
    /// The cost is not known.
    CostUnknown = "builtin.cost_unknown", RequireApproval, soft,
        "the action's cost is not known, so its estimate is the documented upper bound";
    /// Too many changed lines, or no estimate.
    TooLarge = "builtin.too_large", RequireApproval, soft,
        "the action changes more lines than any automatic approval allows, or gives no estimate";
    /// Risk above the tolerance.
    RiskTolerance = "anchor.risk_tolerance", Deny, soft,
        "the risk score is above what the anchor's risk_tolerance allows (approval above the auto limit, deny above the hard limit)";
    /// Estimated tokens above the per-call cap.
    BudgetPerCall = "anchor.budget_per_call", Deny, soft,
        "the estimated tokens exceed the per-call cap (the escalation policy decides block, approval or warning)";
    /// No rule covers the action under default deny.
    DefaultDeny = "builtin.default_deny", RequireApproval, soft,
        "no auto-approve rule covers the action and the default policy is deny";
    /// Default allow lets the action through.
    DefaultAllow = "anchor.default_allow", AutoApprove, soft,
        "nothing stops the action and the anchor's default policy is allow";
    /// An anchor auto-approve rule approves the action.
    AutoApproveRule = "rule", AutoApprove, soft,
        "an auto-approve rule of the anchor covers every condition of the action (cited as `rule:<rule_id>`)";
}

impl RuleId {
    /// The rule with this id (`rule:<anything>` is [`RuleId::AutoApproveRule`]).
    pub fn parse(id: &str) -> Option<Self> {
        if id.starts_with("rule:") {
            return Some(Self::AutoApproveRule);
        }
        Self::ALL.iter().copied().find(|r| r.as_str() == id)
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
