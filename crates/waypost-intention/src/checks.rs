//! Contradictions and risks in an anchor, each with a stable code. Reported,
//! never silently resolved.

use waypost_schemas::command::CommandPattern;
use waypost_schemas::paths::{PathPattern, PatternError, RepoPath};
use waypost_schemas::{
    DefaultPolicy, IntentionAnchorV2, IsolationModel, ProvenanceOrigin, SafetyEntry,
};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The anchor contradicts itself or cannot be enforced: fix it.
    Error,
    /// Legal, but risky: confirm it is meant.
    Warning,
    /// Nothing to fix: how two values that were not written by a human
    /// (inferred, built-in) combine, or what a value means for agents.
    Info,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code (`write_root_protected`, ...).
    pub code: &'static str,
    /// The field, as a JSON pointer into the anchor.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// Every finding code, for documentation and tests.
pub const CODES: [&str; 10] = [
    "write_root_protected",
    "codeowners_catch_all",
    "parallel_single_run",
    "parallel_without_isolation",
    "default_allow",
    "zero_budget_cap",
    "invalid_glob",
    "path_escapes_repo",
    "invalid_command_rule",
    "not_enforceable",
];

/// The code of what [`check_autopack_profile`] finds.
pub const AUTOPACK_NOT_ENFORCED: &str = "autopack_not_enforced";

/// What Autopack will not enforce of `anchor` when it is written in the
/// Autopack profile (`[output] compat = "autopack"`): each auto-approve
/// rule's typed `criteria` and the `never_auto_approve` globs (the compat
/// anchor only describes them). Warnings, in field order.
pub fn check_autopack_profile(anchor: &IntentionAnchorV2) -> Vec<Finding> {
    let Some(governance) = anchor.pivot_intentions.governance_review.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (r, rule) in governance.auto_approve_rules.iter().enumerate() {
        if rule.criteria.is_some() {
            out.push(Finding {
                severity: Severity::Warning,
                code: AUTOPACK_NOT_ENFORCED,
                field: format!("/pivot_intentions/governance_review/auto_approve_rules/{r}/criteria"),
                message: format!(
                    "Autopack does not enforce the typed criteria of rule `{}`: the Autopack profile only describes them in the rule's description, so an Autopack runner may approve more than this rule allows",
                    rule.rule_id.as_deref().unwrap_or("(unnamed)")
                ),
            });
        }
    }
    if !governance.never_auto_approve.is_empty() {
        out.push(Finding {
            severity: Severity::Warning,
            code: AUTOPACK_NOT_ENFORCED,
            field: "/pivot_intentions/governance_review/never_auto_approve".into(),
            message: format!(
                "Autopack has no never-auto-approve globs: the Autopack profile lists {} under safety_risk.requires_approval, which Autopack reads as prose",
                governance.never_auto_approve.join(", ")
            ),
        });
    }
    out
}

/// Checks `anchor` for contradictions and risks, sorted by severity, code, field.
pub fn check_anchor(anchor: &IntentionAnchorV2) -> Vec<Finding> {
    let p = &anchor.pivot_intentions;
    let mut out = Vec::new();
    let mut add = |severity, code, field: String, message: String| {
        out.push(Finding {
            severity,
            code,
            field,
            message,
        });
    };

    // Every path and glob field: parses as a glob, stays inside the repository.
    let scope = p.scope_boundaries.as_ref();
    let governance = p.governance_review.as_ref();
    let mut path_fields: Vec<(String, &String)> = Vec::new();
    let lists = [
        (
            "/pivot_intentions/scope_boundaries/allowed_write_roots",
            scope.map(|s| &s.allowed_write_roots),
        ),
        (
            "/pivot_intentions/scope_boundaries/protected_paths",
            scope.map(|s| &s.protected_paths),
        ),
        (
            "/pivot_intentions/governance_review/never_auto_approve",
            governance.map(|g| &g.never_auto_approve),
        ),
    ];
    for (pointer, list) in lists {
        for (i, value) in list.into_iter().flatten().enumerate() {
            path_fields.push((format!("{pointer}/{i}"), value));
        }
    }
    let rules = governance
        .map(|g| g.auto_approve_rules.as_slice())
        .unwrap_or_default();
    for (r, rule) in rules.iter().enumerate() {
        for (i, glob) in rule.criteria.iter().flat_map(|c| &c.path_globs).enumerate() {
            path_fields.push((
                format!("/pivot_intentions/governance_review/auto_approve_rules/{r}/criteria/path_globs/{i}"),
                glob,
            ));
        }
    }
    for (field, value) in &path_fields {
        if let Err(e) = PathPattern::new(value) {
            pattern_finding(&mut add, field, &e);
        }
    }

    // never_allow / requires_approval: paths, commands, or unenforceable prose.
    let safety = p.safety_risk.as_ref();
    for (name, list) in [
        ("never_allow", safety.map(|s| &s.never_allow)),
        ("requires_approval", safety.map(|s| &s.requires_approval)),
    ] {
        for (i, value) in list.into_iter().flatten().enumerate() {
            let field = format!("/pivot_intentions/safety_risk/{name}/{i}");
            let classified = SafetyEntry::classify(value);
            if classified.is_free_text() {
                add(
                    Severity::Warning,
                    "not_enforceable",
                    field.clone(),
                    format!(
                        "`{}` is neither a path pattern nor a command, so no check can enforce it; write the paths (`**/Cargo.toml`) or commands (`cargo add`, or `$ tool args` for a program waypost does not know) it means",
                        value.trim()
                    ),
                );
            }
            if let Some(Err(e)) = &classified.path {
                pattern_finding(&mut add, &field, e);
            }
            if let Some(Err(e)) = &classified.command {
                add(
                    Severity::Error,
                    "invalid_command_rule",
                    field.clone(),
                    format!("{e}"),
                );
            }
        }
    }
    for (r, rule) in rules.iter().enumerate() {
        for (i, command) in rule.criteria.iter().flat_map(|c| &c.commands).enumerate() {
            if let Err(e) = CommandPattern::parse(command) {
                add(
                    Severity::Error,
                    "invalid_command_rule",
                    format!(
                        "/pivot_intentions/governance_review/auto_approve_rules/{r}/criteria/commands/{i}"
                    ),
                    format!("{e}"),
                );
            }
        }
    }

    // A write root that is protected (or inside a protected path). Unless a
    // human wrote both values, nothing is for the human to fix: the
    // documented precedence (protected wins) decides, and it is said with
    // where each value came from.
    if let Some(scope) = scope {
        let roots_from = source_of(
            anchor,
            "/pivot_intentions/scope_boundaries/allowed_write_roots",
        );
        let protected_from =
            source_of(anchor, "/pivot_intentions/scope_boundaries/protected_paths");
        for (i, root) in scope.allowed_write_roots.iter().enumerate() {
            for protected in &scope.protected_paths {
                if !root_is_protected(root, protected) {
                    continue;
                }
                let field = format!("/pivot_intentions/scope_boundaries/allowed_write_roots/{i}");
                let human = "written in the anchor".to_owned();
                match (&roots_from, &protected_from) {
                    (Some(_), _) | (_, Some(_)) => add(
                        Severity::Info,
                        "write_root_protected",
                        field,
                        format!(
                            "`{root}` ({}) is an allowed write root and the protected path `{protected}` ({}) covers it: protected paths win, so agents write nothing there",
                            roots_from.as_ref().unwrap_or(&human),
                            protected_from.as_ref().unwrap_or(&human),
                        ),
                    ),
                    (None, None) => add(
                        Severity::Error,
                        "write_root_protected",
                        field,
                        format!(
                            "`{root}` is an allowed write root and is also covered by the protected path `{protected}`; remove one of them"
                        ),
                    ),
                }
            }
        }
    }

    // A catch-all CODEOWNERS entry: every change needs an owner.
    let reviewed = "/pivot_intentions/governance_review/never_auto_approve";
    if let Some(from) = source_of(anchor, reviewed)
        && governance.is_some_and(|g| g.never_auto_approve.iter().any(|p| p == "**"))
    {
        add(
            Severity::Info,
            "codeowners_catch_all",
            reviewed.into(),
            format!(
                "every path has a code owner ({from}): every change needs a human's approval (never_auto_approve `**`) unless the anchor says otherwise"
            ),
        );
    }

    if let Some(par) = &p.parallelism_isolation {
        if par.allowed == Some(true) && par.max_concurrent_runs == Some(1) {
            add(
                Severity::Error,
                "parallel_single_run",
                "/pivot_intentions/parallelism_isolation/max_concurrent_runs".into(),
                "parallel runs are allowed but at most 1 run may be active; raise max_concurrent_runs or set allowed = false".into(),
            );
        }
        if par.allowed == Some(true) && par.isolation_model == Some(IsolationModel::None) {
            add(
                Severity::Error,
                "parallel_without_isolation",
                "/pivot_intentions/parallelism_isolation/isolation_model".into(),
                "parallel runs are allowed without isolation; concurrent agents would share one work tree: use four_layer".into(),
            );
        }
    }

    if governance.and_then(|g| g.default_policy) == Some(DefaultPolicy::Allow) {
        add(
            Severity::Warning,
            "default_allow",
            "/pivot_intentions/governance_review/default_policy".into(),
            "default_policy is allow: every action no rule stops runs without approval (high risk); prefer deny with narrow auto-approve rules".into(),
        );
    }

    if let Some(budget) = &p.budget_cost {
        for (name, cap) in [
            ("token_cap_global", budget.token_cap_global),
            ("token_cap_per_call", budget.token_cap_per_call),
            ("time_cap_seconds", budget.time_cap_seconds),
        ] {
            if cap == Some(0) {
                add(
                    Severity::Error,
                    "zero_budget_cap",
                    format!("/pivot_intentions/budget_cost/{name}"),
                    format!(
                        "{name} is 0, so nothing can ever run; set a positive cap or remove it"
                    ),
                );
            }
        }
    }
    out.sort();
    out
}

/// Where a field's value came from when a human did not write it:
/// `inferred from CODEOWNERS`, `built-in default`; `None` for a human's.
fn source_of(anchor: &IntentionAnchorV2, field: &str) -> Option<String> {
    let provenance = anchor.provenance.get(field)?;
    Some(match provenance.origin {
        ProvenanceOrigin::Inferred if provenance.sources.is_empty() => "inferred".to_owned(),
        ProvenanceOrigin::Inferred => format!("inferred from {}", provenance.sources.join(", ")),
        ProvenanceOrigin::Default => "built-in default".to_owned(),
    })
}

/// The finding for a path or glob field that does not compile.
fn pattern_finding(
    add: &mut impl FnMut(Severity, &'static str, String, String),
    field: &str,
    error: &PatternError,
) {
    let code = match error {
        PatternError::Path { .. } => "path_escapes_repo",
        _ => "invalid_glob",
    };
    let hint = match error {
        PatternError::Path { .. } => {
            "; paths are relative to the repository root and stay inside it"
        }
        _ => "",
    };
    add(
        Severity::Error,
        code,
        field.to_owned(),
        format!("{error}{hint}"),
    );
}

/// Whether everything the write root `root` allows is protected by
/// `protected` (under the same folding and folder rules the policy and the
/// scanner use). A glob root allows writes at or below its literal folder
/// (`docs` for `docs/**/*.md`); that folder must not be wholly protected.
fn root_is_protected(root: &str, protected: &str) -> bool {
    let Ok(pattern) = PathPattern::new(protected) else {
        return false;
    };
    let Ok(root_path) = RepoPath::new(root) else {
        return false;
    };
    if !root.contains(['*', '?', '[', '{']) {
        return pattern.covers_all_of(&root_path);
    }
    if RepoPath::new(protected).is_ok_and(|p| p.key() == root_path.key()) {
        return true;
    }
    let literal: Vec<&str> = root_path
        .segments()
        .take_while(|s| !s.contains(['*', '?', '[', '{']))
        .collect();
    !literal.is_empty()
        && RepoPath::new(&literal.join("/")).is_ok_and(|folder| pattern.covers_all_of(&folder))
}
