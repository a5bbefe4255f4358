//! An action's risk score, from explicit factors.
//!
//! The score is the sum of these, capped at 1, each recorded in
//! `risk_factors` as `name=value`:
//!
//! | factor | adds |
//! |---|---|
//! | `action_type` | `doc_update`, `tidy_apply` 0.10; `file_move` 0.20; `custom`, `test_fix`, `baseline_refresh`, `config_update` 0.30; `file_delete`, `git_operation` 0.35; `dependency_install` 0.50 |
//! | `paths` | 0.02 per target path beyond the first, at most 0.20 |
//! | `protected_path` | 0.30 when a target is under the anchor's protected paths |
//! | `config_path` | 0.15 when a target is one governance never approves automatically (git, CI, anchor, lockfiles, secrets) |
//! | `irreversible` | 0.15 when undoing the action is not a plain inverse |
//! | `gap_risk` | the gaps' most severe risk: critical 0.30, high 0.20, medium 0.10, low 0.05, info 0 |
//!
//! Whether a path is protected or never auto-approved is asked of
//! waypost-governance, never decided here.

use waypost_governance::{Action, ActionKind, Policy};
use waypost_schemas::{ActionType, RiskLevel};

use super::candidates::Candidate;

/// A risk score and the factors it is made of.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// 0 (safe) to 1 (dangerous), two decimals.
    pub score: f64,
    /// `name=value`, one per factor that adds something.
    pub factors: Vec<String>,
}

/// The base risk of an action type.
pub fn type_risk(action_type: ActionType) -> f64 {
    match action_type {
        ActionType::DocUpdate | ActionType::TidyApply => 0.10,
        ActionType::FileMove => 0.20,
        ActionType::Custom
        | ActionType::TestFix
        | ActionType::BaselineRefresh
        | ActionType::ConfigUpdate => 0.30,
        ActionType::FileDelete | ActionType::GitOperation => 0.35,
        ActionType::DependencyInstall => 0.50,
    }
}

/// What a gap's risk adds.
pub fn gap_risk(risk: RiskLevel) -> f64 {
    match risk {
        RiskLevel::Critical => 0.30,
        RiskLevel::High => 0.20,
        RiskLevel::Medium => 0.10,
        RiskLevel::Low => 0.05,
        RiskLevel::Info => 0.0,
    }
}

/// What governance says about paths on their own, asked once per path.
#[derive(Debug)]
pub struct PathRules<'p> {
    policy: &'p Policy,
    asked: std::collections::HashMap<String, (bool, bool)>,
}

impl<'p> PathRules<'p> {
    /// Nothing asked yet, of `policy`.
    pub fn new(policy: &'p Policy) -> Self {
        Self {
            policy,
            asked: std::collections::HashMap::new(),
        }
    }

    /// Whether `path` is protected, and whether it is never approved
    /// automatically.
    fn of(&mut self, path: &str) -> (bool, bool) {
        if let Some(known) = self.asked.get(path) {
            return *known;
        }
        let rules = cited(self.policy, path);
        let answer = (
            rules.iter().any(|r| r == "anchor.protected_path"),
            rules
                .iter()
                .any(|r| r == "builtin.never_auto_approve" || r == "anchor.never_auto_approve"),
        );
        self.asked.insert(path.to_owned(), answer);
        answer
    }

    /// Whether governance counts `path` as protected.
    pub fn is_protected(&mut self, path: &str) -> bool {
        self.of(path).0
    }
}

/// The rules governance cites for writing `path` alone.
fn cited(policy: &Policy, path: &str) -> Vec<String> {
    let probe = Action {
        kind: ActionKind::Known(ActionType::DocUpdate),
        target_paths: vec![path.to_owned()],
        changed_lines: Some(1),
        command: None,
        risk_score: 0.0,
        estimated_tokens: None,
        cost_unknown: false,
    };
    policy
        .decide(&probe)
        .reasons
        .into_iter()
        .map(|r| r.rule_id)
        .collect()
}

/// Whether governance counts `path` as protected.
pub fn is_protected(policy: &Policy, path: &str) -> bool {
    cited(policy, path)
        .iter()
        .any(|r| r == "anchor.protected_path")
}

/// The risk of `candidate`, asking `paths` about its targets.
pub fn assess(candidate: &Candidate, paths: &mut PathRules<'_>) -> Assessment {
    let mut factors: Vec<(String, f64)> = vec![(
        format!("action_type:{}", candidate.action_type.as_str()),
        type_risk(candidate.action_type),
    )];
    let extra_paths = candidate.target_paths.len().saturating_sub(1);
    if extra_paths > 0 {
        #[expect(clippy::cast_precision_loss, reason = "path counts are small")]
        let add = (extra_paths as f64 * 0.02).min(0.20);
        factors.push((format!("paths:{}", candidate.target_paths.len()), add));
    }
    let mut protected = None;
    let mut config = None;
    for path in &candidate.target_paths {
        let (is_protected, never_auto) = paths.of(path);
        if protected.is_none() && is_protected {
            protected = Some(path.clone());
        }
        if config.is_none() && never_auto {
            config = Some(path.clone());
        }
    }
    if let Some(path) = protected {
        factors.push((format!("protected_path:{path}"), 0.30));
    }
    if let Some(path) = config {
        factors.push((format!("config_path:{path}"), 0.15));
    }
    if !candidate.reversible {
        factors.push(("irreversible".to_owned(), 0.15));
    }
    let from_gap = gap_risk(candidate.gap_risk);
    if from_gap > 0.0 {
        factors.push((
            format!("gap_risk:{}", candidate.gap_risk.as_str()),
            from_gap,
        ));
    }
    let sum: f64 = factors.iter().map(|(_, v)| v).sum();
    Assessment {
        score: (sum.min(1.0) * 100.0).round() / 100.0,
        factors: factors
            .into_iter()
            .map(|(name, value)| format!("{name}=+{value:.2}"))
            .collect(),
    }
}
