//! The default-deny policy engine.

use std::fmt;
use std::path::{Path, PathBuf};

use waypost_schemas::command::{CommandLine, CommandMatch, CommandPattern};
use waypost_schemas::paths::{
    MAX_FOLDER_ENTRIES, PathError, PathPattern, PatternSet, RepoPath, resolve, same_file,
};
use waypost_schemas::{
    ActionType, ApprovalStatus, CostEscalationPolicy, DecisionReason, DefaultPolicy,
    IntentionAnchorV2, PlanAction, SafetyEntry,
};

use crate::rules::{MAX_AUTO_CHANGED_LINES, NEVER_AUTO_APPROVE, RiskLimits, RuleId, risk_limits};

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
    /// The rule.
    pub rule: RuleId,
    /// The rule as cited: [`RuleId::as_str`], or `rule:<rule_id>` for an
    /// anchor auto-approve rule.
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
    /// The cost is not known: the estimate is an upper bound.
    pub cost_unknown: bool,
}

impl Action {
    /// The governance view of a plan action: every path it names is judged
    /// (its target paths, the files its edits change, both ends of its
    /// moves), and it changes at least one line per edit, whatever its
    /// estimate says.
    pub fn from_plan(action: &PlanAction) -> Self {
        let mut target_paths = action.target_paths.clone();
        let named = action
            .edits
            .iter()
            .map(|e| &e.path)
            .chain(action.moves.iter().flat_map(|m| [&m.from, &m.to]));
        for path in named {
            if !target_paths.contains(path) {
                target_paths.push(path.clone());
            }
        }
        let edits = u64::try_from(action.edits.len()).unwrap_or(u64::MAX);
        let changed_lines = match action.estimated_changed_lines {
            Some(n) => Some(n.max(edits)),
            None if edits > 0 => Some(edits),
            None => None,
        };
        Self {
            kind: ActionKind::Known(action.action_type),
            target_paths,
            changed_lines,
            command: action.command.clone(),
            risk_score: action.risk_score,
            estimated_tokens: action.estimated_cost.as_ref().and_then(|c| c.tokens),
            cost_unknown: action
                .estimated_cost
                .as_ref()
                .is_some_and(|c| c.upper_bound),
        }
    }
}

#[derive(Clone, Debug)]
struct CompiledRule {
    id: String,
    action_types: Vec<ActionType>,
    globs: PatternSet,
    commands: Vec<CommandPattern>,
    max_changed_lines: Option<u64>,
    max_risk: Option<f64>,
}

/// The policy of one anchor: everything a decision consults, compiled once.
#[derive(Clone, Debug)]
pub struct Policy {
    default_policy: DefaultPolicy,
    limits: RiskLimits,
    protected: PatternSet,
    never_allow_paths: PatternSet,
    never_allow_commands: Vec<CommandPattern>,
    requires_paths: PatternSet,
    requires_commands: Vec<CommandPattern>,
    builtin_never_auto: PatternSet,
    anchor_never_auto: PatternSet,
    write_roots: PatternSet,
    rules: Vec<CompiledRule>,
    per_call_cap: Option<u64>,
    escalation: CostEscalationPolicy,
    approval_channels: Vec<String>,
    problems: Vec<String>,
    unenforceable: Vec<String>,
    root: Option<PathBuf>,
}

/// Compiles a list of patterns, recording each one that does not parse.
fn patterns(entries: &[String], field: &str, problems: &mut Vec<String>) -> PatternSet {
    entries
        .iter()
        .filter_map(|e| match PathPattern::new(e) {
            Ok(p) => Some(p),
            Err(e) => {
                problems.push(format!("{field}: {e}"));
                None
            }
        })
        .collect()
}

/// `never_allow` / `requires_approval` entries: path patterns, command
/// rules, and free text that neither can enforce.
struct SafetyList {
    paths: PatternSet,
    commands: Vec<CommandPattern>,
}

fn safety_list(
    entries: &[String],
    field: &str,
    problems: &mut Vec<String>,
    unenforceable: &mut Vec<String>,
) -> SafetyList {
    let mut paths = Vec::new();
    let mut commands = Vec::new();
    for entry in entries {
        let classified = SafetyEntry::classify(entry);
        if classified.is_free_text() {
            unenforceable.push(format!("{field}: `{}`", entry.trim()));
        }
        match classified.path {
            Some(Ok(p)) => paths.push(p),
            Some(Err(e)) => problems.push(format!("{field}: {e}")),
            None => {}
        }
        match classified.command {
            Some(Ok(c)) => commands.push(c),
            Some(Err(e)) => problems.push(format!("{field}: {e}")),
            None => {}
        }
    }
    SafetyList {
        paths: paths.into_iter().collect(),
        commands,
    }
}

impl Policy {
    /// The policy of `anchor`. With a `root`, target paths are also resolved
    /// against the real tree: what each reaches through symlinks is checked
    /// too.
    pub fn from_anchor(anchor: &IntentionAnchorV2, root: Option<PathBuf>) -> Self {
        let p = &anchor.pivot_intentions;
        let mut problems = Vec::new();
        let mut unenforceable = Vec::new();
        let empty = Vec::new();
        let scope = p.scope_boundaries.as_ref();
        let safety = p.safety_risk.as_ref();
        let governance = p.governance_review.as_ref();
        let budget = p.budget_cost.as_ref();
        let protected = patterns(
            scope.map_or(&empty, |s| &s.protected_paths),
            "protected_paths",
            &mut problems,
        );
        let write_roots = patterns(
            scope.map_or(&empty, |s| &s.allowed_write_roots),
            "allowed_write_roots",
            &mut problems,
        );
        let never_allow = safety_list(
            safety.map_or(&empty, |s| &s.never_allow),
            "never_allow",
            &mut problems,
            &mut unenforceable,
        );
        let requires = safety_list(
            safety.map_or(&empty, |s| &s.requires_approval),
            "requires_approval",
            &mut problems,
            &mut unenforceable,
        );
        let anchor_never_auto = patterns(
            governance.map_or(&empty, |g| &g.never_auto_approve),
            "never_auto_approve",
            &mut problems,
        );
        let builtin_never_auto =
            PatternSet::new(NEVER_AUTO_APPROVE).expect("built-in globs are checked by tests");
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
            let field = format!("auto_approve_rules `{id}`");
            let before = problems.len();
            let globs = patterns(&criteria.path_globs, &field, &mut problems);
            let commands: Vec<CommandPattern> = criteria
                .commands
                .iter()
                .filter_map(|c| {
                    CommandPattern::parse(c)
                        .map_err(|e| problems.push(format!("{field}: {e}")))
                        .ok()
                })
                .collect();
            if problems.len() > before {
                // A rule that cannot be enforced as written approves nothing.
                continue;
            }
            rules.push(CompiledRule {
                id,
                action_types: criteria.action_types.clone(),
                globs,
                commands,
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
            never_allow_paths: never_allow.paths,
            never_allow_commands: never_allow.commands,
            requires_paths: requires.paths,
            requires_commands: requires.commands,
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
            unenforceable,
            root,
        }
    }

    /// The channels approvals may come through.
    pub fn approval_channels(&self) -> &[String] {
        &self.approval_channels
    }

    /// Globs and command rules in the anchor that do not parse (each makes
    /// every decision require approval).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// `never_allow` and `requires_approval` entries that are neither a path
    /// pattern nor a command rule (free text such as `dependency changes`):
    /// the policy cannot enforce them, and `waypost anchor check` says so.
    pub fn unenforceable(&self) -> &[String] {
        &self.unenforceable
    }

    /// The anchor's default policy (`deny` unless the anchor says `allow`).
    pub fn default_policy(&self) -> DefaultPolicy {
        self.default_policy
    }

    /// Decides `action`: every check adds its reasons, the strongest verdict
    /// wins, and only when nothing objects may an auto-approve rule approve.
    pub fn decide(&self, action: &Action) -> Decision {
        let mut d = Deciding::new(action);
        self.check_anchor(&mut d);
        self.check_action(&mut d);
        self.check_targets(&mut d);
        self.check_prohibited_paths(&mut d);
        self.check_command(&mut d);
        self.check_never_auto(&mut d);
        self.check_write_roots(&mut d);
        self.check_size_risk_cost(&mut d);
        self.approve(&mut d);
        d.reasons.sort_by(|a, b| {
            b.verdict
                .cmp(&a.verdict)
                .then_with(|| a.rule_id.cmp(&b.rule_id))
                .then_with(|| a.message.cmp(&b.message))
        });
        d.reasons.dedup();
        let verdict = d
            .reasons
            .iter()
            .map(|r| r.verdict)
            .max()
            .unwrap_or(Verdict::RequireApproval);
        let counterfactual = self.counterfactual(verdict, &d);
        Decision {
            verdict,
            reasons: d.reasons,
            counterfactual,
        }
    }

    /// Malformed or unenforceable anchor input.
    fn check_anchor(&self, d: &mut Deciding<'_>) {
        for problem in &self.problems {
            d.add(
                RuleId::PolicyUnenforceable,
                format!("the anchor cannot be enforced as written: {problem}"),
            );
        }
    }

    /// The action's own shape: type, targets, risk score.
    fn check_action(&self, d: &mut Deciding<'_>) {
        if let ActionKind::Unknown(name) = &d.action.kind {
            d.add(
                RuleId::UnknownActionType,
                format!("`{name}` is not an action type waypost knows"),
            );
        }
        if d.file_action() && d.action.target_paths.is_empty() {
            d.add(
                RuleId::NoTargets,
                "a file action names no target path, so its reach cannot be checked".into(),
            );
        }
        if !d.risk_valid() {
            d.add(
                RuleId::InvalidRisk,
                format!(
                    "risk score {} is not a number from 0 to 1",
                    d.action.risk_score
                ),
            );
        }
        if let Some(t) = d.known().filter(|t| {
            matches!(
                t,
                ActionType::GitOperation | ActionType::DependencyInstall | ActionType::Custom
            )
        }) {
            d.add(
                RuleId::SensitiveActionType,
                format!("{} actions always need a human", t.as_str()),
            );
        }
    }

    /// Each target as written and, with a root, every path it reaches and,
    /// for a folder, everything it holds.
    fn check_targets(&self, d: &mut Deciding<'_>) {
        // The action's targets, then the files its command writes
        // (redirections, `git diff --output`): both are writes.
        let written_by_command: Vec<String> = d
            .command
            .as_ref()
            .map(|c| c.written_paths().to_vec())
            .unwrap_or_default();
        let targets: Vec<String> = d
            .action
            .target_paths
            .iter()
            .cloned()
            .chain(written_by_command)
            .collect();
        for written in &targets {
            let path = match RepoPath::new(written) {
                Ok(path) => path,
                Err(PathError::Root) => {
                    d.add(RuleId::TooLarge, format!("`{written}` {}", PathError::Root));
                    continue;
                }
                Err(problem) => {
                    d.add(
                        RuleId::PathEscapesRepo,
                        format!("`{}` {problem}", written.escape_debug()),
                    );
                    continue;
                }
            };
            if let Some(why) = ambiguous_name(written) {
                d.add(
                    RuleId::AmbiguousName,
                    format!("`{}` {why}", written.escape_debug()),
                );
            }
            let mut target = Target {
                written: path,
                reached: Vec::new(),
                held: Vec::new(),
            };
            if let Some(root) = &self.root {
                // As written (the kernel's walk), and as a writer that tidies
                // `..` away first would open it.
                let normal = target.written.as_str().to_owned();
                let mut forms = vec![written.as_str()];
                if normal != *written {
                    forms.push(&normal);
                }
                // A form that leaves the repository ends this target.
                if !forms
                    .into_iter()
                    .all(|form| self.reach(d, root, form, &mut target))
                {
                    continue;
                }
                for list in [&mut target.reached, &mut target.held] {
                    list.sort();
                    list.dedup();
                }
            }
            d.targets.push(target);
        }
    }

    /// Resolves one form of a target, adding what it reaches to `target` and
    /// its objections to `d`; `false` when it leaves the repository.
    fn reach(&self, d: &mut Deciding<'_>, root: &Path, form: &str, target: &mut Target) -> bool {
        let written = target.written.as_str().to_owned();
        let reach = match resolve(root, form) {
            Ok(reach) => reach,
            Err(problem) => {
                d.add(
                    RuleId::PathEscapesRepo,
                    format!("`{}` {problem}", form.escape_debug()),
                );
                return false;
            }
        };
        if let Some(outside) = &reach.outside {
            d.add(
                RuleId::PathEscapesRepo,
                format!(
                    "`{}` goes through a symlink that points outside the repository (`{}`)",
                    form.escape_debug(),
                    outside.display()
                ),
            );
            return false;
        }
        if reach.too_many_links {
            d.add(
                RuleId::SymlinkWrite,
                format!("`{form}` goes through more than 40 symlinks; the system would refuse it"),
            );
        } else if reach.through_symlink() {
            let links: Vec<String> = reach.links.iter().map(|l| format!("`{l}`")).collect();
            let end = reach
                .reached
                .last()
                .map_or_else(String::new, |p| format!(" and reaches `{p}`"));
            d.add(
                RuleId::SymlinkWrite,
                format!(
                    "`{form}` goes through the symlink {}{end}",
                    links.join(", ")
                ),
            );
        }
        target.reached.extend(reach.reached);
        if reach.hard_links > 1 {
            let others = reach
                .target
                .as_ref()
                .map(|t| self.other_names(root, t))
                .unwrap_or_default();
            let known = if others.is_empty() {
                "its other names are not known, and one may be protected".to_owned()
            } else {
                let names: Vec<String> = others.iter().map(|o| format!("`{o}`")).collect();
                format!("it is also {}", names.join(", "))
            };
            d.add(
                RuleId::HardLink,
                format!(
                    "`{written}` is a file with {} hard links; {known}",
                    reach.hard_links
                ),
            );
            target.reached.extend(others);
        }
        if reach.contents_truncated {
            d.add(
                RuleId::FolderUnchecked,
                format!(
                    "`{written}` is a folder of more than {MAX_FOLDER_ENTRIES} entries; what it holds was not all checked"
                ),
            );
        }
        target.held.extend(reach.contents);
        true
    }

    /// Other names of the file at `target` among the plain paths the policy
    /// restricts (a hard link to `intention.toml` is `intention.toml`).
    fn other_names(&self, root: &Path, target: &RepoPath) -> Vec<RepoPath> {
        let file = target.under(root);
        [
            &self.protected,
            &self.never_allow_paths,
            &self.builtin_never_auto,
            &self.anchor_never_auto,
            &self.requires_paths,
        ]
        .iter()
        .flat_map(|set| set.patterns())
        .filter_map(PathPattern::literal)
        .filter(|name| name != target && same_file(&file, &name.under(root)))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
    }

    /// Protected paths and never-allow paths, on every path a target reaches.
    fn check_prohibited_paths(&self, d: &mut Deciding<'_>) {
        self.check_restricted(
            d,
            &[
                (&self.protected, RuleId::ProtectedPath, "protected by"),
                (
                    &self.never_allow_paths,
                    RuleId::NeverAllow,
                    "matches never_allow",
                ),
            ],
        );
    }

    /// Every path a target reaches (folded once) against restricting
    /// pattern lists: a reason per list that covers it.
    fn check_restricted(&self, d: &mut Deciding<'_>, lists: &[(&PatternSet, RuleId, &str)]) {
        let mut found = Vec::new();
        for (target, path) in d.paths() {
            let key = path.key();
            for (set, rule, relation) in lists {
                if let Some(p) = set.covering_key(&key) {
                    found.push((*rule, target.describe(path, relation, p)));
                }
            }
        }
        for (rule, message) in found {
            d.add(rule, message);
        }
    }

    /// The command: every simple command it would run against the command
    /// rules; parts the parser cannot understand need a human.
    fn check_command(&self, d: &mut Deciding<'_>) {
        let Some(line) = d.command.as_ref() else {
            return;
        };
        let mut found = Vec::new();
        for why in line.not_understood() {
            found.push((
                RuleId::CommandNotUnderstood,
                Verdict::RequireApproval,
                why.clone(),
            ));
        }
        for simple in line.simple_commands() {
            for rule in &self.never_allow_commands {
                match rule.matches(simple) {
                    CommandMatch::No => {}
                    CommandMatch::Yes => found.push((
                        RuleId::NeverAllow,
                        Verdict::Deny,
                        format!("`{}` matches never_allow `{}`", simple.text, rule.text()),
                    )),
                    CommandMatch::Maybe(why) => found.push((
                        RuleId::NeverAllow,
                        Verdict::RequireApproval,
                        format!(
                            "`{}` may match never_allow `{}`: {why}",
                            simple.text,
                            rule.text()
                        ),
                    )),
                }
            }
            for rule in &self.requires_commands {
                let message = match rule.matches(simple) {
                    CommandMatch::No => continue,
                    CommandMatch::Yes => {
                        format!(
                            "`{}` matches requires_approval `{}`",
                            simple.text,
                            rule.text()
                        )
                    }
                    CommandMatch::Maybe(why) => format!(
                        "`{}` may match requires_approval `{}`: {why}",
                        simple.text,
                        rule.text()
                    ),
                };
                found.push((RuleId::RequiresApproval, Verdict::RequireApproval, message));
            }
        }
        for (rule, verdict, message) in found {
            d.add_as(rule, verdict, message);
        }
    }

    /// Paths that are never approved automatically.
    fn check_never_auto(&self, d: &mut Deciding<'_>) {
        self.check_restricted(
            d,
            &[
                (
                    &self.builtin_never_auto,
                    RuleId::BuiltinNeverAutoApprove,
                    "matches",
                ),
                (
                    &self.anchor_never_auto,
                    RuleId::AnchorNeverAutoApprove,
                    "matches",
                ),
                (
                    &self.requires_paths,
                    RuleId::RequiresApproval,
                    "matches requires_approval",
                ),
            ],
        );
    }

    /// Every path a target reaches lies inside an allowed write root, as
    /// written (a permission is never folded wider).
    fn check_write_roots(&self, d: &mut Deciding<'_>) {
        let outside: Vec<String> = d
            .paths()
            .filter(|(_, path)| self.write_roots.matching(path).is_none())
            .map(|(target, path)| {
                if *path == target.written {
                    format!("`{path}` is outside every allowed write root")
                } else {
                    format!(
                        "`{}` reaches `{path}`, which is outside every allowed write root",
                        target.written
                    )
                }
            })
            .collect();
        for message in outside {
            d.add(RuleId::OutsideWriteRoots, message);
        }
    }

    /// Size, risk and cost.
    fn check_size_risk_cost(&self, d: &mut Deciding<'_>) {
        if d.action.cost_unknown {
            d.add(
                RuleId::CostUnknown,
                "the cost of the action is not known: its estimate is the documented upper bound"
                    .into(),
            );
        }
        match d.action.changed_lines {
            None if d.file_action() => d.add(
                RuleId::TooLarge,
                "the action gives no estimate of changed lines".into(),
            ),
            Some(lines) if lines > MAX_AUTO_CHANGED_LINES => d.add(
                RuleId::TooLarge,
                format!(
                    "{lines} changed lines is more than the {MAX_AUTO_CHANGED_LINES} any automatic approval allows"
                ),
            ),
            _ => {}
        }
        let risk = d.action.risk_score;
        if d.risk_valid() {
            if risk > self.limits.deny {
                d.add_as(
                    RuleId::RiskTolerance,
                    Verdict::Deny,
                    format!(
                        "risk {risk} is above the hard limit {} of the risk tolerance",
                        self.limits.deny
                    ),
                );
            } else if risk > self.limits.auto {
                d.add_as(
                    RuleId::RiskTolerance,
                    Verdict::RequireApproval,
                    format!(
                        "risk {risk} is above {}, the most the risk tolerance approves automatically",
                        self.limits.auto
                    ),
                );
            }
        }
        if let (Some(tokens), Some(cap)) = (d.action.estimated_tokens, self.per_call_cap)
            && tokens > cap
        {
            let message = format!("{tokens} estimated tokens exceed the per-call cap of {cap}");
            let (verdict, message) = match self.escalation {
                CostEscalationPolicy::Block => (Verdict::Deny, message),
                CostEscalationPolicy::RequestApproval => (Verdict::RequireApproval, message),
                CostEscalationPolicy::Warn => (Verdict::AutoApprove, format!("warning: {message}")),
            };
            d.add_as(RuleId::BudgetPerCall, verdict, message);
        }
    }

    /// Only now, when nothing objects, may a rule approve.
    fn approve(&self, d: &mut Deciding<'_>) {
        if d.reasons.iter().any(|r| r.verdict > Verdict::AutoApprove) {
            return;
        }
        if let Some(rule) = self.rules.iter().find(|rule| rule_gaps(rule, d).is_empty()) {
            d.reasons.push(Reason {
                verdict: Verdict::AutoApprove,
                rule: RuleId::AutoApproveRule,
                rule_id: format!("rule:{}", rule.id),
                message: format!("auto-approved by rule `{}`", rule.id),
            });
            return;
        }
        match self.default_policy {
            DefaultPolicy::Deny => d.add(
                RuleId::DefaultDeny,
                "no auto-approve rule covers this action and the default policy is deny".into(),
            ),
            DefaultPolicy::Allow if d.command.is_some() => d.add(
                RuleId::CommandNotAllowed,
                "the action runs a command, and a command is approved automatically only when an auto-approve rule allows every part of it".into(),
            ),
            DefaultPolicy::Allow => d.add(
                RuleId::DefaultAllow,
                "nothing stops this action and the default policy is allow".into(),
            ),
        }
    }

    fn counterfactual(&self, verdict: Verdict, d: &Deciding<'_>) -> Counterfactual {
        match verdict {
            Verdict::AutoApprove => Counterfactual::NotNeeded,
            Verdict::Deny => {
                let rule = d
                    .reasons
                    .iter()
                    .find(|r| r.verdict == Verdict::Deny)
                    .map_or("a rule", |r| r.rule_id.as_str());
                Counterfactual::None(format!("denied by {rule}"))
            }
            Verdict::RequireApproval => {
                let cited = |id: RuleId| {
                    d.reasons
                        .iter()
                        .any(|r| r.verdict == Verdict::RequireApproval && r.rule == id)
                };
                // Reasons no edit of the action's size, risk or cost removes,
                // most fundamental first.
                if let Some(hard) = RuleId::ALL.iter().find(|r| r.is_hard() && cited(**r)) {
                    return Counterfactual::None(format!("{hard} always requires approval"));
                }
                // Soft limits, merged with the closest rule's into the tightest bounds.
                let action = d.action;
                let mut limits = Limits::default();
                if cited(RuleId::RiskTolerance) {
                    limits.risk(self.limits.auto);
                }
                if cited(RuleId::TooLarge) {
                    limits.lines(MAX_AUTO_CHANGED_LINES, action.changed_lines.is_none());
                }
                if cited(RuleId::BudgetPerCall) {
                    limits.tokens = self.per_call_cap;
                }
                let closest = self
                    .rules
                    .iter()
                    .map(|rule| (rule_gaps(rule, d), &rule.id))
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

/// A target path as written, what it reaches on disk, and what it holds
/// when it is a folder.
#[derive(Debug)]
struct Target {
    written: RepoPath,
    reached: Vec<RepoPath>,
    held: Vec<RepoPath>,
}

impl Target {
    /// "`x` is protected by `p`", or, for a path reached through a link,
    /// "`x` reaches `y`, which is protected by `p`".
    fn describe(&self, path: &RepoPath, relation: &str, pattern: &PathPattern) -> String {
        let verb = if relation == "protected by" {
            "is "
        } else {
            ""
        };
        if *path == self.written {
            format!("`{path}` {verb}{relation} `{pattern}`")
        } else {
            let how = if self.held.contains(path) {
                "holds"
            } else {
                "reaches"
            };
            format!(
                "`{}` {how} `{path}`, which {verb}{relation} `{pattern}`",
                self.written
            )
        }
    }
}

/// One decision in progress.
struct Deciding<'a> {
    action: &'a Action,
    command: Option<CommandLine>,
    targets: Vec<Target>,
    reasons: Vec<Reason>,
}

impl<'a> Deciding<'a> {
    fn new(action: &'a Action) -> Self {
        let command = action
            .command
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(CommandLine::parse);
        Self {
            action,
            command,
            targets: Vec::new(),
            reasons: Vec::new(),
        }
    }

    fn known(&self) -> Option<ActionType> {
        match &self.action.kind {
            ActionKind::Known(t) => Some(*t),
            ActionKind::Unknown(_) => None,
        }
    }

    fn file_action(&self) -> bool {
        self.known().is_some_and(|t| {
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
        })
    }

    fn risk_valid(&self) -> bool {
        let risk = self.action.risk_score;
        risk.is_finite() && (0.0..=1.0).contains(&risk)
    }

    /// Every (target, path) pair to check: each target as written, then
    /// every path it reaches.
    fn paths(&self) -> impl Iterator<Item = (&Target, &RepoPath)> {
        self.targets.iter().flat_map(|t| {
            std::iter::once(&t.written)
                .chain(&t.reached)
                .chain(&t.held)
                .map(move |p| (t, p))
        })
    }

    /// A reason with the rule's own verdict.
    fn add(&mut self, rule: RuleId, message: String) {
        self.add_as(rule, rule.verdict(), message);
    }

    /// A reason with a verdict the rule chose (risk, budget, maybe-matches).
    fn add_as(&mut self, rule: RuleId, verdict: Verdict, message: String) {
        self.reasons.push(Reason {
            verdict,
            rule,
            rule_id: rule.as_str().to_owned(),
            message,
        });
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
    Commands(Vec<String>),
    NoCommands,
    Unvouched(String),
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
            Self::Commands(allowed) => {
                format!("run only commands among {}", allowed.join(", "))
            }
            Self::NoCommands => "run no command (the rule allows none)".into(),
            Self::Unvouched(why) => format!("drop what no rule can vouch for ({why})"),
            Self::Lines(max) => format!("reduce changed lines to at most {max}"),
            Self::Estimate(max) => format!("estimate the changed lines (at most {max})"),
            Self::Risk(max) => format!("lower risk_score to at most {max}"),
        }
    }
}

/// The conditions of `rule` that the action does not meet (empty: it applies).
fn rule_gaps(rule: &CompiledRule, d: &Deciding<'_>) -> Vec<Gap> {
    let action = d.action;
    if rule.action_types.is_empty() || rule.globs.is_empty() {
        return vec![Gap::Unusable];
    }
    let mut gaps = Vec::new();
    if !d.known().is_some_and(|k| rule.action_types.contains(&k)) {
        gaps.push(Gap::Type(
            rule.action_types.iter().map(|t| t.as_str()).collect(),
        ));
    }
    let outside = d.paths().any(|(_, p)| rule.globs.matching(p).is_none());
    if d.targets.is_empty() || outside {
        gaps.push(Gap::Paths(
            rule.globs
                .patterns()
                .iter()
                .map(|g| g.text().to_owned())
                .collect(),
        ));
    }
    if let Some(line) = &d.command {
        if rule.commands.is_empty() {
            gaps.push(Gap::NoCommands);
        } else {
            if let Some(why) = line.unvouched().first() {
                gaps.push(Gap::Unvouched(why.clone()));
            }
            let allowed = line.not_understood().is_empty()
                && line.simple_commands().iter().all(|simple| {
                    rule.commands
                        .iter()
                        .any(|c| matches!(c.matches(simple), CommandMatch::Yes))
                });
            if !allowed {
                gaps.push(Gap::Commands(
                    rule.commands.iter().map(|c| c.text().to_owned()).collect(),
                ));
            }
        }
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

/// Why `written` may name another file than it seems, on some system.
fn ambiguous_name(written: &str) -> Option<&'static str> {
    if written.contains('\\') {
        return Some("contains a backslash: a separator on Windows, part of a name elsewhere");
    }
    written
        .split('/')
        .any(is_short_name)
        .then_some("has a segment shaped like a Windows short name (`GIT~1`), which Windows may resolve to another file")
}

/// `NAME~N` or `NAME~N.EXT`, as Windows generates 8.3 short names.
fn is_short_name(segment: &str) -> bool {
    let stem = segment.split('.').next().unwrap_or_default();
    let Some((name, number)) = stem.rsplit_once('~') else {
        return false;
    };
    !name.is_empty()
        && name.len() <= 6
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}
