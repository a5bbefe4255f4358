//! The default-deny policy engine.

use std::fmt;
use std::path::PathBuf;

use globset::{GlobBuilder, GlobMatcher};
use waypost_schemas::{
    ActionType, ApprovalStatus, CostEscalationPolicy, DecisionReason, DefaultPolicy,
    IntentionAnchorV2, PlanAction,
};

use crate::paths::{PathProblem, normalise, stays_inside};
use crate::rules::{MAX_AUTO_CHANGED_LINES, NEVER_AUTO_APPROVE, RiskLimits, risk_limits};

// Invariant: POLICY-001 Deny beats RequireApproval beats AutoApprove, whatever the rule order.
// Category: governance
// Why: a permissive rule listed first must not override a prohibition listed later.
// Enforced by: Policy::decide evaluates every rule and takes the strongest verdict;
//      auto-approve rules are consulted only when nothing objects.

// Invariant: POLICY-002 Nothing is auto-approved unless a narrow rule says so.
// Category: governance
// Why: default-deny: an action no rule covers needs a human, and malformed or
//      unenforceable input never slips through.
// Enforced by: Policy::decide: malformed input, escaping paths, protected and
//      never-auto-approve paths, sensitive action types, writes outside the roots, size
//      and risk all object before any auto-approve rule is consulted.

// Invariant: POLICY-003 Decisions are pure functions of (policy, action).
// Category: determinism
// Why: the same plan must get the same verdicts on every machine and every run, so a
//      decision can be recomputed and audited.
// Enforced by: Policy::decide reads no clock, environment or randomness; reasons are
//      sorted; the only outside input is the repository tree when a root is given.

/// The three verdicts, weakest first: the strongest among the reasons wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// May run without a human.
    AutoApprove,
    /// Needs a human's approval.
    RequireApproval,
    /// Must not run.
    Deny,
}

impl Verdict {
    /// The plan artifact's classification.
    pub fn approval_status(self) -> ApprovalStatus {
        match self {
            Self::AutoApprove => ApprovalStatus::AutoApproved,
            Self::RequireApproval => ApprovalStatus::RequiresApproval,
            Self::Deny => ApprovalStatus::Blocked,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AutoApprove => "auto-approve",
            Self::RequireApproval => "require approval",
            Self::Deny => "deny",
        })
    }
}

/// One rule's contribution to a decision.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reason {
    /// What this rule alone would decide.
    pub verdict: Verdict,
    /// The rule (`builtin.…`, `anchor.…`, or `rule:<auto-approve rule id>`).
    pub rule_id: String,
    /// What it found, in one plain sentence.
    pub message: String,
}

/// What would have made a decision an automatic approval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Counterfactual {
    /// The action is auto-approved already.
    NotNeeded,
    /// The smallest changes that would make it auto-approvable.
    Change(Vec<String>),
    /// No change to the action helps: why.
    None(String),
}

impl fmt::Display for Counterfactual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotNeeded => f.write_str("not needed: auto-approved"),
            Self::Change(changes) => write!(f, "{}", changes.join("; ")),
            Self::None(why) => write!(f, "none: {why}"),
        }
    }
}

/// A governance decision with its evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The verdict: the strongest of the reasons.
    pub verdict: Verdict,
    /// Every rule that contributed, strongest first, then by rule id.
    pub reasons: Vec<Reason>,
    /// For a non-automatic decision, what would have changed it.
    pub counterfactual: Counterfactual,
}

impl Decision {
    /// The reasons as the plan artifact records them.
    pub fn decision_reasons(&self) -> Vec<DecisionReason> {
        self.reasons
            .iter()
            .map(|r| DecisionReason {
                rule_id: r.rule_id.clone(),
                message: r.message.clone(),
            })
            .collect()
    }

    /// One sentence for `approval_reason`.
    pub fn summary(&self) -> String {
        match self.reasons.first() {
            Some(top) => format!("{}: {}", top.rule_id, top.message),
            None => self.verdict.to_string(),
        }
    }
}

/// An action's type, which may be one waypost does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// A standard action type.
    Known(ActionType),
    /// Anything else (from a foreign or newer plan).
    Unknown(String),
}

/// What governance needs to know about an action.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    /// The action type.
    pub kind: ActionKind,
    /// Paths it writes, moves or deletes, as given.
    pub target_paths: Vec<String>,
    /// Conservative estimate of changed lines.
    pub changed_lines: Option<u64>,
    /// The command it runs, if any.
    pub command: Option<String>,
    /// 0 (safe) to 1 (dangerous).
    pub risk_score: f64,
    /// Estimated model tokens.
    pub estimated_tokens: Option<u64>,
}

impl Action {
    /// The governance view of a plan action.
    pub fn from_plan(action: &PlanAction) -> Self {
        Self {
            kind: ActionKind::Known(action.action_type),
            target_paths: action.target_paths.clone(),
            changed_lines: action.estimated_changed_lines,
            command: action.command.clone(),
            risk_score: action.risk_score,
            estimated_tokens: action.estimated_cost.as_ref().and_then(|c| c.tokens),
        }
    }
}

/// A path pattern from the anchor or the built-ins: a glob, or a plain path
/// that covers itself and everything below it. Globs use `/` literally
/// (`*.md` is a top-level file; `**/*.md` is any depth).
#[derive(Clone, Debug)]
struct PathPattern {
    text: String,
    matcher: Option<GlobMatcher>,
    prefix: Option<String>,
}

impl PathPattern {
    fn compile(text: &str) -> Result<Self, String> {
        let trimmed = text.trim().trim_start_matches("./");
        if trimmed.contains(['*', '?', '[', '{']) {
            let glob = GlobBuilder::new(trimmed)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("`{text}` is not a valid glob: {}", e.kind()))?;
            Ok(Self {
                text: text.to_owned(),
                matcher: Some(glob.compile_matcher()),
                prefix: None,
            })
        } else {
            Ok(Self {
                text: text.to_owned(),
                matcher: None,
                prefix: Some(trimmed.trim_end_matches('/').to_owned()),
            })
        }
    }

    fn matches(&self, path: &str) -> bool {
        match (&self.matcher, &self.prefix) {
            (Some(m), _) => m.is_match(path),
            (None, Some(prefix)) if prefix.is_empty() => true,
            (None, Some(prefix)) => path == prefix || path.starts_with(&format!("{prefix}/")),
            (None, None) => false,
        }
    }
}

#[derive(Clone, Debug)]
struct CompiledRule {
    id: String,
    action_types: Vec<ActionType>,
    globs: Vec<PathPattern>,
    max_changed_lines: Option<u64>,
    max_risk: Option<f64>,
}

/// The policy of one anchor: everything a decision consults, compiled once.
#[derive(Clone, Debug)]
pub struct Policy {
    default_policy: DefaultPolicy,
    limits: RiskLimits,
    protected: Vec<PathPattern>,
    never_allow_paths: Vec<PathPattern>,
    never_allow_commands: Vec<String>,
    requires_paths: Vec<PathPattern>,
    requires_commands: Vec<String>,
    builtin_never_auto: Vec<PathPattern>,
    anchor_never_auto: Vec<PathPattern>,
    write_roots: Vec<PathPattern>,
    rules: Vec<CompiledRule>,
    per_call_cap: Option<u64>,
    escalation: CostEscalationPolicy,
    approval_channels: Vec<String>,
    problems: Vec<String>,
    root: Option<PathBuf>,
}

/// Entries with white space are commands (`git push --force`); the rest are
/// path patterns.
fn split_entries(
    entries: &[String],
    field: &str,
    problems: &mut Vec<String>,
) -> (Vec<PathPattern>, Vec<String>) {
    let mut paths = Vec::new();
    let mut commands = Vec::new();
    for entry in entries {
        if entry.trim().contains(char::is_whitespace) {
            commands.push(entry.trim().to_owned());
        } else {
            match PathPattern::compile(entry) {
                Ok(p) => paths.push(p),
                Err(e) => problems.push(format!("{field}: {e}")),
            }
        }
    }
    (paths, commands)
}

fn compile_all(entries: &[String], field: &str, problems: &mut Vec<String>) -> Vec<PathPattern> {
    entries
        .iter()
        .filter_map(|e| match PathPattern::compile(e) {
            Ok(p) => Some(p),
            Err(e) => {
                problems.push(format!("{field}: {e}"));
                None
            }
        })
        .collect()
}

impl Policy {
    /// The policy of `anchor`. With a `root`, target paths are also resolved
    /// against the real tree (symlinks must stay inside it).
    pub fn from_anchor(anchor: &IntentionAnchorV2, root: Option<PathBuf>) -> Self {
        let p = &anchor.pivot_intentions;
        let mut problems = Vec::new();
        let empty = Vec::new();
        let scope = p.scope_boundaries.as_ref();
        let safety = p.safety_risk.as_ref();
        let governance = p.governance_review.as_ref();
        let budget = p.budget_cost.as_ref();
        let protected = compile_all(
            scope.map_or(&empty, |s| &s.protected_paths),
            "protected_paths",
            &mut problems,
        );
        let write_roots = compile_all(
            scope.map_or(&empty, |s| &s.allowed_write_roots),
            "allowed_write_roots",
            &mut problems,
        );
        let (never_allow_paths, never_allow_commands) = split_entries(
            safety.map_or(&empty, |s| &s.never_allow),
            "never_allow",
            &mut problems,
        );
        let (requires_paths, requires_commands) = split_entries(
            safety.map_or(&empty, |s| &s.requires_approval),
            "requires_approval",
            &mut problems,
        );
        let anchor_never_auto = compile_all(
            governance.map_or(&empty, |g| &g.never_auto_approve),
            "never_auto_approve",
            &mut problems,
        );
        let builtin_never_auto = NEVER_AUTO_APPROVE
            .iter()
            .map(|g| PathPattern::compile(g).expect("built-in globs are checked by tests"))
            .collect();
        let mut rules = Vec::new();
        for (index, rule) in governance
            .map_or(&[][..], |g| &g.auto_approve_rules)
            .iter()
            .enumerate()
        {
            let id = rule.rule_id.clone().unwrap_or_else(|| format!("#{index}"));
            let Some(criteria) = &rule.criteria else {
                continue;
            };
            let before = problems.len();
            let globs = compile_all(
                &criteria.path_globs,
                &format!("auto_approve_rules `{id}`"),
                &mut problems,
            );
            if problems.len() > before {
                // A rule that cannot be enforced as written approves nothing.
                continue;
            }
            rules.push(CompiledRule {
                id,
                action_types: criteria.action_types.clone(),
                globs,
                max_changed_lines: criteria.max_changed_lines,
                max_risk: criteria.max_risk_score,
            });
        }
        rules.sort_by(|a, b| a.id.cmp(&b.id));
        Self {
            default_policy: governance
                .and_then(|g| g.default_policy)
                .unwrap_or(DefaultPolicy::Deny),
            limits: risk_limits(safety.and_then(|s| s.risk_tolerance)),
            protected,
            never_allow_paths,
            never_allow_commands,
            requires_paths,
            requires_commands,
            builtin_never_auto,
            anchor_never_auto,
            write_roots,
            rules,
            per_call_cap: budget.and_then(|b| b.token_cap_per_call),
            escalation: budget
                .and_then(|b| b.cost_escalation_policy)
                .unwrap_or(CostEscalationPolicy::Block),
            approval_channels: governance
                .map(|g| g.approval_channels.clone())
                .unwrap_or_default(),
            problems,
            root,
        }
    }

    /// The channels approvals may come through.
    pub fn approval_channels(&self) -> &[String] {
        &self.approval_channels
    }

    /// Globs in the anchor that do not parse (each makes every decision
    /// require approval).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Decides `action`.
    pub fn decide(&self, action: &Action) -> Decision {
        let mut reasons: Vec<Reason> = Vec::new();
        use Verdict::{AutoApprove, Deny, RequireApproval};

        // 1. Malformed or unenforceable input.
        for problem in &self.problems {
            add(
                &mut reasons,
                RequireApproval,
                "builtin.policy_unenforceable",
                format!("the anchor cannot be enforced as written: {problem}"),
            );
        }
        let known = match &action.kind {
            ActionKind::Known(t) => Some(*t),
            ActionKind::Unknown(name) => {
                add(
                    &mut reasons,
                    RequireApproval,
                    "builtin.unknown_action_type",
                    format!("`{name}` is not an action type waypost knows"),
                );
                None
            }
        };
        let file_action = known.is_some_and(|t| {
            matches!(
                t,
                ActionType::TidyApply
                    | ActionType::TestFix
                    | ActionType::DocUpdate
                    | ActionType::BaselineRefresh
                    | ActionType::ConfigUpdate
                    | ActionType::FileMove
                    | ActionType::FileDelete
            )
        });
        if file_action && action.target_paths.is_empty() {
            add(
                &mut reasons,
                RequireApproval,
                "builtin.no_targets",
                "a file action names no target path, so its reach cannot be checked".into(),
            );
        }
        let risk_valid = action.risk_score.is_finite() && (0.0..=1.0).contains(&action.risk_score);
        if !risk_valid {
            add(
                &mut reasons,
                RequireApproval,
                "builtin.invalid_risk",
                format!(
                    "risk score {} is not a number from 0 to 1",
                    action.risk_score
                ),
            );
        }

        // 2. Paths that leave the repository.
        let mut paths = Vec::new();
        for target in &action.target_paths {
            match normalise(target) {
                Ok(path) => {
                    if self
                        .root
                        .as_deref()
                        .is_some_and(|root| !stays_inside(root, &path))
                    {
                        add(
                            &mut reasons,
                            Deny,
                            "builtin.path_escapes_repo",
                            format!(
                                "`{}` {}",
                                target.escape_debug(),
                                PathProblem::SymlinkOutside.describe()
                            ),
                        );
                    } else {
                        paths.push(path);
                    }
                }
                Err(PathProblem::Root) => add(
                    &mut reasons,
                    RequireApproval,
                    "builtin.too_large",
                    format!("`{target}` {}", PathProblem::Root.describe()),
                ),
                Err(problem) => add(
                    &mut reasons,
                    Deny,
                    "builtin.path_escapes_repo",
                    format!("`{}` {}", target.escape_debug(), problem.describe()),
                ),
            }
        }

        // 3. Protected paths and hard prohibitions.
        let command = action.command.as_deref().unwrap_or("");
        for path in &paths {
            if let Some(p) = self.protected.iter().find(|p| p.matches(path)) {
                add(
                    &mut reasons,
                    Deny,
                    "anchor.protected_path",
                    format!("`{path}` is protected by `{}`", p.text),
                );
            }
            if let Some(p) = self.never_allow_paths.iter().find(|p| p.matches(path)) {
                add(
                    &mut reasons,
                    Deny,
                    "anchor.never_allow",
                    format!("`{path}` matches never_allow `{}`", p.text),
                );
            }
        }
        if let Some(c) = self
            .never_allow_commands
            .iter()
            .find(|c| command.contains(c.as_str()))
        {
            add(
                &mut reasons,
                Deny,
                "anchor.never_allow",
                format!("the command contains never_allow `{c}`"),
            );
        }

        // 4. Never auto-approved.
        for path in &paths {
            if let Some(p) = self.builtin_never_auto.iter().find(|p| p.matches(path)) {
                add(
                    &mut reasons,
                    RequireApproval,
                    "builtin.never_auto_approve",
                    format!("`{path}` matches `{}`", p.text),
                );
            }
            if let Some(p) = self.anchor_never_auto.iter().find(|p| p.matches(path)) {
                add(
                    &mut reasons,
                    RequireApproval,
                    "anchor.never_auto_approve",
                    format!("`{path}` matches `{}`", p.text),
                );
            }
            if let Some(p) = self.requires_paths.iter().find(|p| p.matches(path)) {
                add(
                    &mut reasons,
                    RequireApproval,
                    "anchor.requires_approval",
                    format!("`{path}` matches requires_approval `{}`", p.text),
                );
            }
        }
        if let Some(c) = self
            .requires_commands
            .iter()
            .find(|c| command.contains(c.as_str()))
        {
            add(
                &mut reasons,
                RequireApproval,
                "anchor.requires_approval",
                format!("the command contains requires_approval `{c}`"),
            );
        }
        if let Some(t) = known.filter(|t| {
            matches!(
                t,
                ActionType::GitOperation | ActionType::DependencyInstall | ActionType::Custom
            )
        }) {
            add(
                &mut reasons,
                RequireApproval,
                "builtin.sensitive_action_type",
                format!("{} actions always need a human", t.as_str()),
            );
        }

        // 5. Scope.
        for path in &paths {
            if !self.write_roots.iter().any(|r| r.matches(path)) {
                add(
                    &mut reasons,
                    RequireApproval,
                    "anchor.outside_write_roots",
                    format!("`{path}` is outside every allowed write root"),
                );
            }
        }

        // 6. Size, risk and cost.
        match action.changed_lines {
            None if file_action => add(
                &mut reasons,
                RequireApproval,
                "builtin.too_large",
                "the action gives no estimate of changed lines".into(),
            ),
            Some(lines) if lines > MAX_AUTO_CHANGED_LINES => add(
                &mut reasons,
                RequireApproval,
                "builtin.too_large",
                format!(
                    "{lines} changed lines is more than the {MAX_AUTO_CHANGED_LINES} any automatic approval allows"
                ),
            ),
            _ => {}
        }
        if risk_valid {
            if action.risk_score > self.limits.deny {
                add(
                    &mut reasons,
                    Deny,
                    "anchor.risk_tolerance",
                    format!(
                        "risk {} is above the hard limit {} of the risk tolerance",
                        action.risk_score, self.limits.deny
                    ),
                );
            } else if action.risk_score > self.limits.auto {
                add(
                    &mut reasons,
                    RequireApproval,
                    "anchor.risk_tolerance",
                    format!(
                        "risk {} is above {}, the most the risk tolerance approves automatically",
                        action.risk_score, self.limits.auto
                    ),
                );
            }
        }
        if let (Some(tokens), Some(cap)) = (action.estimated_tokens, self.per_call_cap)
            && tokens > cap
        {
            let message = format!("{tokens} estimated tokens exceed the per-call cap of {cap}");
            match self.escalation {
                CostEscalationPolicy::Block => {
                    add(&mut reasons, Deny, "anchor.budget_per_call", message)
                }
                CostEscalationPolicy::RequestApproval => add(
                    &mut reasons,
                    RequireApproval,
                    "anchor.budget_per_call",
                    message,
                ),
                CostEscalationPolicy::Warn => add(
                    &mut reasons,
                    AutoApprove,
                    "anchor.budget_per_call",
                    format!("warning: {message}"),
                ),
            }
        }

        // 7. Only now may a rule approve.
        let objections = reasons.iter().any(|r| r.verdict > AutoApprove);
        if !objections {
            match self
                .rules
                .iter()
                .find(|rule| rule_gaps(rule, known, &paths, action).is_empty())
            {
                Some(rule) => add(
                    &mut reasons,
                    AutoApprove,
                    &format!("rule:{}", rule.id),
                    format!("auto-approved by rule `{}`", rule.id),
                ),
                None => match self.default_policy {
                    DefaultPolicy::Deny => add(
                        &mut reasons,
                        RequireApproval,
                        "builtin.default_deny",
                        "no auto-approve rule covers this action and the default policy is deny"
                            .into(),
                    ),
                    DefaultPolicy::Allow => add(
                        &mut reasons,
                        AutoApprove,
                        "anchor.default_allow",
                        "nothing stops this action and the default policy is allow".into(),
                    ),
                },
            }
        }

        reasons.sort_by(|a, b| {
            b.verdict
                .cmp(&a.verdict)
                .then_with(|| a.rule_id.cmp(&b.rule_id))
                .then_with(|| a.message.cmp(&b.message))
        });
        reasons.dedup();
        let verdict = reasons
            .iter()
            .map(|r| r.verdict)
            .max()
            .unwrap_or(RequireApproval);
        let counterfactual = self.counterfactual(verdict, &reasons, known, &paths, action);
        Decision {
            verdict,
            reasons,
            counterfactual,
        }
    }

    fn counterfactual(
        &self,
        verdict: Verdict,
        reasons: &[Reason],
        known: Option<ActionType>,
        paths: &[String],
        action: &Action,
    ) -> Counterfactual {
        match verdict {
            Verdict::AutoApprove => Counterfactual::NotNeeded,
            Verdict::Deny => {
                let rule = reasons
                    .iter()
                    .find(|r| r.verdict == Verdict::Deny)
                    .map_or("a rule", |r| r.rule_id.as_str());
                Counterfactual::None(format!("denied by {rule}"))
            }
            Verdict::RequireApproval => {
                // Reasons no edit of the action's size, risk or cost removes,
                // most fundamental first.
                const HARD: [&str; 9] = [
                    "builtin.never_auto_approve",
                    "anchor.never_auto_approve",
                    "anchor.requires_approval",
                    "builtin.sensitive_action_type",
                    "builtin.unknown_action_type",
                    "builtin.policy_unenforceable",
                    "builtin.no_targets",
                    "builtin.invalid_risk",
                    "anchor.outside_write_roots",
                ];
                let cited = |id: &str| {
                    reasons
                        .iter()
                        .any(|r| r.verdict == Verdict::RequireApproval && r.rule_id == id)
                };
                if let Some(hard) = HARD.iter().find(|id| cited(id)) {
                    return Counterfactual::None(format!("{hard} always requires approval"));
                }
                // Soft limits, merged with the closest rule's into the tightest bounds.
                let mut limits = Limits::default();
                if cited("anchor.risk_tolerance") {
                    limits.risk(self.limits.auto);
                }
                if cited("builtin.too_large") {
                    limits.lines(MAX_AUTO_CHANGED_LINES, action.changed_lines.is_none());
                }
                if cited("anchor.budget_per_call") {
                    limits.tokens = self.per_call_cap;
                }
                let closest = self
                    .rules
                    .iter()
                    .map(|rule| (rule_gaps(rule, known, paths, action), &rule.id))
                    .min_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.1.cmp(b.1)));
                let Some((gaps, rule_id)) = closest else {
                    return Counterfactual::None("no auto-approve rule exists; add one to governance_review.auto_approve_rules".into());
                };
                let mut changes = Vec::new();
                for gap in gaps {
                    match gap {
                        Gap::Risk(max) => limits.risk(max),
                        Gap::Lines(max) => limits.lines(max, false),
                        Gap::Estimate(max) => limits.lines(max, true),
                        other => changes.push(other.describe()),
                    }
                }
                if limits.estimate {
                    changes.push(format!(
                        "estimate the changed lines (at most {})",
                        limits.max_lines.unwrap_or(MAX_AUTO_CHANGED_LINES)
                    ));
                } else if let (Some(max), Some(lines)) = (limits.max_lines, action.changed_lines)
                    && lines > max
                {
                    changes.push(format!(
                        "reduce changed lines from {lines} to at most {max}"
                    ));
                }
                if let Some(max) = limits.max_risk
                    && action.risk_score > max
                {
                    changes.push(format!(
                        "lower risk_score from {} to at most {max}",
                        action.risk_score
                    ));
                }
                if let (Some(cap), Some(tokens)) = (limits.tokens, action.estimated_tokens)
                    && tokens > cap
                {
                    changes.push(format!("estimate at most {cap} tokens"));
                }
                changes.push(format!("then rule `{rule_id}` approves it"));
                Counterfactual::Change(changes)
            }
        }
    }
}

/// The tightest soft limits a counterfactual must meet.
#[derive(Default)]
struct Limits {
    max_risk: Option<f64>,
    max_lines: Option<u64>,
    estimate: bool,
    tokens: Option<u64>,
}

impl Limits {
    fn risk(&mut self, max: f64) {
        self.max_risk = Some(self.max_risk.map_or(max, |m| m.min(max)));
    }

    fn lines(&mut self, max: u64, estimate: bool) {
        self.max_lines = Some(self.max_lines.map_or(max, |m| m.min(max)));
        self.estimate |= estimate;
    }
}

/// One unmet condition of an auto-approve rule.
#[derive(Clone, Debug, PartialEq)]
enum Gap {
    Unusable,
    Type(Vec<&'static str>),
    Paths(Vec<String>),
    Lines(u64),
    Estimate(u64),
    Risk(f64),
}

impl Gap {
    fn describe(&self) -> String {
        match self {
            Self::Unusable => {
                "the rule names no action types or path globs, so it approves nothing".into()
            }
            Self::Type(types) => format!("use an action type among {}", types.join(", ")),
            Self::Paths(globs) => format!("keep target paths within {}", globs.join(", ")),
            Self::Lines(max) => format!("reduce changed lines to at most {max}"),
            Self::Estimate(max) => format!("estimate the changed lines (at most {max})"),
            Self::Risk(max) => format!("lower risk_score to at most {max}"),
        }
    }
}

fn add(reasons: &mut Vec<Reason>, verdict: Verdict, rule_id: &str, message: String) {
    reasons.push(Reason {
        verdict,
        rule_id: rule_id.to_owned(),
        message,
    });
}

/// The conditions of `rule` that `action` does not meet (empty: it applies).
fn rule_gaps(
    rule: &CompiledRule,
    kind: Option<ActionType>,
    paths: &[String],
    action: &Action,
) -> Vec<Gap> {
    if rule.action_types.is_empty() || rule.globs.is_empty() {
        return vec![Gap::Unusable];
    }
    let mut gaps = Vec::new();
    if !kind.is_some_and(|k| rule.action_types.contains(&k)) {
        gaps.push(Gap::Type(
            rule.action_types.iter().map(|t| t.as_str()).collect(),
        ));
    }
    let outside = paths
        .iter()
        .any(|p| !rule.globs.iter().any(|g| g.matches(p)));
    if paths.is_empty() || outside {
        gaps.push(Gap::Paths(
            rule.globs.iter().map(|g| g.text.clone()).collect(),
        ));
    }
    if let Some(max) = rule.max_changed_lines {
        match action.changed_lines {
            None => gaps.push(Gap::Estimate(max)),
            Some(lines) if lines > max => gaps.push(Gap::Lines(max)),
            _ => {}
        }
    }
    if let Some(max) = rule.max_risk
        && (action.risk_score.is_nan() || action.risk_score > max)
    {
        gaps.push(Gap::Risk(max));
    }
    gaps
}
