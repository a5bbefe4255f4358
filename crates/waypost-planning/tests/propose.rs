//! The plan proposer against reports built gap by gap.

use serde_json::{Value, json};
use waypost_planning::propose::candidates::Candidate;
use waypost_planning::propose::order::order;
use waypost_planning::propose::risk::Assessment;
use waypost_planning::{ProposeError, ProposeOptions, propose};
use waypost_schemas::{
    ActionType, ApprovalStatus, Artifact, ArtifactKind, GapReportV1, IntentionAnchorV2, PathMove,
    PlanProposalV1, RiskLevel, TextEdit, Timestamp, validate,
};
use waypost_test_support::{PathVerdict, protected_path_cases};

fn anchor() -> IntentionAnchorV2 {
    serde_json::from_value(json!({
        "format_version": "v2",
        "project_id": "demo",
        "created_at": "2026-01-01T00:00:00Z",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {
            "scope_boundaries": {
                "allowed_write_roots": ["docs/", "archive/", "*.md", "*.log", "*.lock", "tmp/"],
                "protected_paths": ["deploy/**", "LICENSE"]
            },
            "budget_cost": {"token_cap_global": 1000000, "token_cap_per_call": 300000},
            "governance_review": {
                "default_policy": "deny",
                "auto_approve_rules": [
                    {"rule_id": "doc-links", "criteria": {"action_types": ["doc_update"], "path_globs": ["docs/**", "*.md"], "max_changed_lines": 5, "max_risk_score": 0.3}}
                ]
            }
        }
    }))
    .expect("anchor")
}

/// A gap of `detector` about `path`, with `evidence` merged in.
fn gap(detector: &str, gap_type: &str, risk: &str, path: &str, evidence: Value) -> Value {
    let mut ev = json!({"file_paths": [path]});
    if let (Some(target), Some(extra)) = (ev.as_object_mut(), evidence.as_object()) {
        for (k, v) in extra {
            target.insert(k.clone(), v.clone());
        }
    }
    json!({
        "gap_id": format!("gap-{detector}-{}", path.len()),
        "gap_type": gap_type,
        "detector": detector,
        "title": format!("{path}: {detector}"),
        "description": format!("{detector} at {path}."),
        "detection_signals": [path],
        "evidence": ev,
        "risk_classification": risk,
        "blocks_autopilot": false
    })
}

fn report(gaps: Vec<Value>) -> GapReportV1 {
    let mut gaps = gaps;
    for (i, g) in gaps.iter_mut().enumerate() {
        // Unique ids whatever the inputs.
        let id = format!("{}-{i}", g["gap_id"].as_str().unwrap_or("gap"));
        g["gap_id"] = json!(id);
    }
    serde_json::from_value(json!({
        "format_version": "v1",
        "project_id": "demo",
        "run_id": "scan-20260101T000000Z",
        "generated_at": "2026-01-01T00:00:00Z",
        "gaps": gaps
    }))
    .expect("report")
}

fn options() -> ProposeOptions {
    ProposeOptions::new(
        "plan-20260101T000000Z",
        Timestamp::parse("2026-01-01T00:00:00Z").expect("time"),
    )
}

fn moved_link() -> Value {
    gap(
        "broken_markdown_link",
        "doc_drift",
        "low",
        "docs/guide/setup.md",
        json!({
            "moved_to": "docs/reference/install.md",
            "written_as": "install.md",
            "reference": "link",
            "locations": [{"path": "docs/guide/setup.md", "start_line": 7}]
        }),
    )
}

fn mixed() -> GapReportV1 {
    report(vec![
        gap(
            "old_lock_file",
            "db_lock_contention",
            "medium",
            "build.lock",
            json!({}),
        ),
        gap(
            "root_file_outside_allowlist",
            "root_clutter",
            "low",
            "debug.log",
            json!({}),
        ),
        gap(
            "root_file_outside_allowlist",
            "root_clutter",
            "low",
            "notes-old.md",
            json!({}),
        ),
        moved_link(),
        gap(
            "git_operation_in_progress",
            "git_state_corruption",
            "high",
            ".git/MERGE_HEAD",
            json!({}),
        ),
        gap(
            "mixed_line_endings",
            "windows_encoding_issue",
            "low",
            "docs/a.md",
            json!({}),
        ),
    ])
}

fn action_of(plan: &PlanProposalV1, action_type: ActionType) -> &waypost_schemas::PlanAction {
    plan.actions
        .iter()
        .find(|a| a.action_type == action_type)
        .unwrap_or_else(|| {
            panic!(
                "no {} action; deferred: {:#?}",
                action_type.as_str(),
                plan.deferred
            )
        })
}

#[test]
fn each_gap_becomes_its_kind_of_action() {
    let plan = propose(&anchor(), &mixed(), &options()).expect("plan");
    let delete = action_of(&plan, ActionType::FileDelete);
    assert_eq!(delete.target_paths, ["build.lock"]);
    assert!(
        delete.evidence.iter().any(|e| e.contains("old_lock_file")),
        "{:?}",
        delete.evidence
    );

    let mv = action_of(&plan, ActionType::FileMove);
    assert_eq!(
        mv.moves,
        [
            PathMove {
                from: "debug.log".into(),
                to: "archive/debug.log".into()
            },
            PathMove {
                from: "notes-old.md".into(),
                to: "archive/notes-old.md".into()
            },
        ]
    );
    assert_eq!(mv.target_gap_ids.len(), 2);

    let doc = action_of(&plan, ActionType::DocUpdate);
    assert_eq!(
        doc.edits,
        [TextEdit {
            path: "docs/guide/setup.md".into(),
            line: 7,
            old_text: "install.md".into(),
            new_text: "../reference/install.md".into(),
        }]
    );
    // The edit is part of what an approval binds to.
    let mut other = doc.clone();
    other.edits[0].new_text = "../elsewhere.md".into();
    assert_ne!(other.content_sha256(), doc.content_sha256());

    let git = action_of(&plan, ActionType::GitOperation);
    assert_eq!(git.approval_status, ApprovalStatus::RequiresApproval);
    assert!(
        git.approval_reasons
            .iter()
            .any(|r| r.rule_id == "builtin.sensitive_action_type")
    );

    let custom = action_of(&plan, ActionType::Custom);
    let cost = custom.estimated_cost.as_ref().expect("cost");
    assert!(cost.upper_bound, "an unknown cost is the upper bound");
    // The anchor caps one call at 300,000 tokens: that is the bound.
    assert_eq!(cost.tokens, Some(300_000));
    assert_eq!(
        cost.time_seconds,
        Some(waypost_planning::propose::UNKNOWN_COST.1)
    );
    assert_eq!(custom.approval_status, ApprovalStatus::RequiresApproval);
    assert!(
        custom
            .approval_reasons
            .iter()
            .any(|r| r.rule_id == "builtin.cost_unknown")
    );
    assert!(plan.deferred.is_empty(), "{:?}", plan.deferred);
}

#[test]
fn every_action_is_classified_by_governance_with_its_rules() {
    let anchor = anchor();
    let plan = propose(&anchor, &mixed(), &options()).expect("plan");
    let policy = waypost_governance::Policy::from_anchor(&anchor, None);
    for action in &plan.actions {
        let decision = policy.decide(&waypost_governance::Action::from_plan(action));
        assert_eq!(action.approval_status, decision.verdict.approval_status());
        assert_eq!(action.approval_reasons, decision.decision_reasons());
        assert!(!action.approval_reasons.is_empty());
        assert!(
            action
                .approval_reason
                .as_deref()
                .is_some_and(|r| !r.is_empty())
        );
        let source = action.source.as_ref().expect("source");
        assert_eq!(source.anchor_id, plan.anchor_id);
        assert_eq!(source.gap_report_id, plan.gap_report_id);
        assert!(!action.target_gap_ids.is_empty());
    }
    // The small link fix is approved by the anchor's rule.
    let doc = action_of(&plan, ActionType::DocUpdate);
    assert_eq!(
        doc.approval_status,
        ApprovalStatus::AutoApproved,
        "{:?}",
        doc.approval_reasons
    );
    assert!(
        doc.approval_reasons
            .iter()
            .any(|r| r.rule_id == "rule:doc-links")
    );

    let checks = plan.governance_checks.as_ref().expect("checks");
    assert_eq!(checks.default_deny_applied, Some(true));
    // The archive move writes `notes-old.md` at the root: `*.md` is a write
    // root, and nothing there is never-auto-approve; a lock file is.
    assert!(
        checks.never_auto_approve_violations.is_empty()
            || checks
                .never_auto_approve_violations
                .iter()
                .all(|v| v.starts_with("action-")),
        "{:?}",
        checks.never_auto_approve_violations
    );
    let budget = checks.budget_compliance.as_ref().expect("budget");
    let pct = budget.estimated_usage_pct.expect("a global cap");
    assert!((0.0..=100.0).contains(&pct));
    assert!(pct > 0.0, "the custom action's upper bound counts");
    assert_eq!(budget.within_global_cap, Some(true));
    let paths: Vec<&str> = checks
        .protected_path_checks
        .iter()
        .filter_map(|c| c.path.as_deref())
        .collect();
    assert!(paths.contains(&"build.lock"));
}

#[test]
fn risk_comes_from_recorded_factors() {
    let plan = propose(&anchor(), &mixed(), &options()).expect("plan");
    for action in &plan.actions {
        assert!((0.0..=1.0).contains(&action.risk_score));
        assert!(
            action
                .risk_factors
                .iter()
                .any(|f| f.starts_with("action_type:")),
            "{:?}",
            action.risk_factors
        );
        let sum: f64 = action
            .risk_factors
            .iter()
            .map(|f| {
                f.rsplit("=+")
                    .next()
                    .and_then(|v| v.parse::<f64>().ok())
                    .expect("a value")
            })
            .sum();
        assert!(
            (sum.min(1.0) - action.risk_score).abs() < 0.011,
            "{action:#?}"
        );
    }
    let git = action_of(&plan, ActionType::GitOperation);
    assert!(git.target_paths.is_empty(), "git writes its own state");
    assert!(
        git.evidence.iter().any(|e| e.contains(".git/MERGE_HEAD")),
        "{:?}",
        git.evidence
    );
    assert!(git.risk_factors.iter().any(|f| f == "irreversible=+0.15"));
    assert!(git.risk_factors.iter().any(|f| f == "gap_risk:high=+0.20"));
    let doc = action_of(&plan, ActionType::DocUpdate);
    assert!(doc.risk_score < git.risk_score);
}

#[test]
fn a_protected_target_is_never_in_the_plan() {
    let r = report(vec![gap(
        "old_lock_file",
        "db_lock_contention",
        "low",
        "deploy/run.lock",
        json!({}),
    )]);
    let plan = propose(&anchor(), &r, &options()).expect("plan");
    assert!(plan.actions.is_empty(), "{:#?}", plan.actions);
    assert_eq!(plan.deferred.len(), 1);
    assert!(
        plan.deferred[0].reason.contains("anchor.protected_path"),
        "{:?}",
        plan.deferred
    );
}

#[test]
fn bounds_defer_what_does_not_fit_with_the_reason() {
    let mut gaps: Vec<Value> = (0..7)
        .map(|i| {
            gap(
                "old_lock_file",
                "db_lock_contention",
                "low",
                &format!("tmp/l{i}.lock"),
                json!({}),
            )
        })
        .collect();
    gaps.push(gap(
        "old_lock_file",
        "db_lock_contention",
        "critical",
        "tmp/urgent.lock",
        json!({}),
    ));
    let plan = propose(&anchor(), &report(gaps), &options().with_bounds(3, 20)).expect("plan");
    assert_eq!(plan.actions.len(), 3);
    assert_eq!(plan.deferred.len(), 5);
    assert!(
        plan.deferred
            .iter()
            .all(|d| d.reason == "the plan holds at most 3 actions")
    );
    // The most severe gap got a place.
    assert!(
        plan.actions
            .iter()
            .any(|a| a.target_paths == ["tmp/urgent.lock"])
    );

    // Root clutter: chunks of at most M paths; a gap needing more is deferred.
    let clutter: Vec<Value> = (0..5)
        .map(|i| {
            gap(
                "root_file_outside_allowlist",
                "root_clutter",
                "low",
                &format!("c{i}.log"),
                json!({}),
            )
        })
        .collect();
    let many =
        json!({"file_paths": ["docs/a.md", "docs/b.md", "docs/c.md", "docs/d.md", "docs/e.md"]});
    let mut all = clutter;
    all.push(gap(
        "case_collision",
        "windows_encoding_issue",
        "low",
        "docs/a.md",
        many,
    ));
    let plan = propose(&anchor(), &report(all), &options().with_bounds(50, 4)).expect("plan");
    let moves: Vec<_> = plan
        .actions
        .iter()
        .filter(|a| a.action_type == ActionType::FileMove)
        .collect();
    assert_eq!(moves.len(), 3, "5 files, 2 per action");
    assert!(moves.iter().all(|a| a.target_paths.len() <= 4));
    assert_eq!(plan.deferred.len(), 1);
    assert!(
        plan.deferred[0].reason.contains("5 paths, more than the 4"),
        "{:?}",
        plan.deferred
    );
    let covered: usize = plan.actions.iter().map(|a| a.target_gap_ids.len()).sum();
    assert_eq!(
        covered + plan.deferred.len(),
        6,
        "every gap is in an action or deferred"
    );

    assert_eq!(
        propose(&anchor(), &mixed(), &options().with_bounds(0, 3)),
        Err(ProposeError::ZeroBound {
            name: "max_actions"
        })
    );
}

#[test]
fn likely_gaps_are_deferred_not_acted_on() {
    let mut likely = moved_link();
    likely["detection_signals"] = json!(["docs/guide/setup.md", waypost_schemas::LIKELY_SIGNAL]);
    let plan = propose(&anchor(), &report(vec![likely]), &options()).expect("plan");
    assert!(plan.actions.is_empty());
    assert!(plan.deferred[0].reason.contains("confidence:likely"));
}

#[test]
fn no_action_targets_a_disallowed_path_whatever_form_it_takes() {
    let hostile: Vec<String> = protected_path_cases()
        .into_iter()
        .filter(|c| c.expected == PathVerdict::Invalid)
        .map(|c| c.path)
        .collect();
    assert!(hostile.len() >= 5, "{hostile:?}");
    let anchor = anchor();
    let policy = waypost_governance::Policy::from_anchor(&anchor, None);
    for path in &hostile {
        for detector in [
            "old_lock_file",
            "root_file_outside_allowlist",
            "utf8_bom",
            "stale_generated_file",
        ] {
            let gaps = vec![gap(detector, "root_clutter", "low", path, json!({}))];
            let plan = propose(&anchor, &report(gaps), &options()).expect("plan");
            for action in &plan.actions {
                for target in &action.target_paths {
                    let decision = policy.decide(&waypost_governance::Action {
                        kind: waypost_governance::ActionKind::Known(action.action_type),
                        target_paths: vec![target.clone()],
                        changed_lines: Some(1),
                        command: None,
                        risk_score: 0.0,
                        estimated_tokens: None,
                        cost_unknown: false,
                    });
                    assert_ne!(
                        decision.verdict,
                        waypost_governance::Verdict::Deny,
                        "{detector} smuggled {target:?} into the plan"
                    );
                }
                assert_ne!(action.approval_status, ApprovalStatus::Blocked);
            }
            assert_eq!(
                plan.actions.len() + plan.deferred.len(),
                1,
                "{path:?} via {detector}: {:?}",
                plan.deferred
            );
        }
    }
}

#[test]
fn no_action_targets_a_protected_path_whatever_form_it_takes() {
    // Every protected (path, pattern) form of the shared corpus: the
    // anchor protects the pattern, a gap names the path.
    let cases: Vec<_> = protected_path_cases()
        .into_iter()
        .filter(|c| c.expected == PathVerdict::Protected)
        .collect();
    assert!(cases.len() >= 10, "{}", cases.len());
    for case in cases {
        let mut value = serde_json::to_value(anchor()).expect("json");
        value["pivot_intentions"]["scope_boundaries"]["protected_paths"] = json!([case.pattern]);
        let protecting: IntentionAnchorV2 = serde_json::from_value(value).expect("anchor");
        for detector in ["old_lock_file", "root_file_outside_allowlist", "utf8_bom"] {
            let gaps = vec![gap(detector, "root_clutter", "low", &case.path, json!({}))];
            let plan = propose(&protecting, &report(gaps), &options()).expect("plan");
            assert!(
                plan.actions.is_empty(),
                "{} ({}) via {detector}: {:#?}",
                case.path,
                case.about,
                plan.actions
            );
            assert_eq!(plan.deferred.len(), 1);
        }
    }
}

#[test]
fn the_same_input_gives_the_same_bytes_and_id() {
    let a = propose(&anchor(), &mixed(), &options()).expect("plan");
    let b = propose(&anchor(), &mixed(), &options()).expect("plan");
    let bytes = |p: &PlanProposalV1| serde_json::to_vec_pretty(p).expect("json");
    assert_eq!(bytes(&a), bytes(&b));
    assert_eq!(a.plan_proposal_id(), b.plan_proposal_id());
    // Gaps in another order: the same plan.
    let mut shuffled = mixed();
    shuffled.gaps.reverse();
    let c = propose(&anchor(), &shuffled, &options()).expect("plan");
    assert_eq!(c.actions, a.actions);
}

#[test]
fn the_plan_validates_against_the_published_schema() {
    let plan = propose(&anchor(), &mixed(), &options()).expect("plan");
    let value = serde_json::to_value(&plan).expect("json");
    validate::validate_value(ArtifactKind::PlanProposalV1, &value).expect("valid plan");
    let back: PlanProposalV1 = validate::validate(&value).expect("reads back");
    assert_eq!(back, plan);
    assert!(plan.content_id().starts_with("plan-"));
}

#[test]
fn dependencies_order_actions_and_a_cycle_is_named() {
    let plan = propose(&anchor(), &mixed(), &options()).expect("plan");
    let position = |id: &str| {
        plan.actions
            .iter()
            .position(|a| a.action_id == id)
            .expect("listed")
    };
    for (i, action) in plan.actions.iter().enumerate() {
        for dep in &action.dependencies {
            assert!(
                position(dep) < i,
                "{} runs before its dependency",
                action.action_id
            );
        }
    }

    let base = |action_type, title: &str, paths: &[&str]| Candidate {
        action_type,
        title: title.to_owned(),
        description: String::new(),
        gap_ids: vec![format!("gap-{title}")],
        gap_risk: RiskLevel::Low,
        target_paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        edits: Vec::new(),
        moves: Vec::new(),
        evidence: Vec::new(),
        changed_lines: Some(1),
        cost: Some((0, 1, 0)),
        reversible: true,
        rollback: None,
    };
    let risk = || Assessment {
        score: 0.1,
        factors: Vec::new(),
    };
    // A link to where a file moves waits for the move.
    let mut mv = base(ActionType::FileMove, "move", &["old.md", "docs/new.md"]);
    mv.moves = vec![PathMove {
        from: "old.md".into(),
        to: "docs/new.md".into(),
    }];
    let mut link = base(ActionType::DocUpdate, "link", &["docs/index.md"]);
    link.edits = vec![TextEdit {
        path: "docs/index.md".into(),
        line: 3,
        old_text: "../old.md".into(),
        new_text: "new.md".into(),
    }];
    let ordered = order(vec![(link.clone(), risk()), (mv.clone(), risk())]).expect("a DAG");
    assert_eq!(ordered[0].0.title, "move");
    assert_eq!(ordered[1].2, [0], "the link depends on the move");

    // A document edited to point at where it is itself moved: a cycle.
    let mut self_move = base(
        ActionType::FileMove,
        "move the guide",
        &["docs/guide.md", "docs/old/guide.md"],
    );
    self_move.moves = vec![PathMove {
        from: "docs/guide.md".into(),
        to: "docs/old/guide.md".into(),
    }];
    let mut self_link = base(
        ActionType::DocUpdate,
        "relink the guide",
        &["docs/guide.md"],
    );
    self_link.edits = vec![TextEdit {
        path: "docs/guide.md".into(),
        line: 1,
        old_text: "x".into(),
        new_text: "old/guide.md".into(),
    }];
    let err = order(vec![(self_link, risk()), (self_move, risk())]).expect_err("a cycle");
    assert_eq!(
        err,
        ProposeError::Cycle {
            actions: vec!["relink the guide".into(), "move the guide".into()]
        }
    );
    assert!(
        err.to_string()
            .contains("relink the guide -> move the guide"),
        "{err}"
    );
}
