//! POLICY-001..003: table-driven decisions, rule-order independence,
//! determinism, counterfactuals.

use proptest::prelude::*;
use serde_json::{Value, json};
use waypost_governance::{Action, Policy, RuleId, Verdict};

use crate::support::{action, base_anchor, policy_of};

use Verdict::{AutoApprove as Auto, Deny, RequireApproval as Require};

/// Applies `edit` to a copy of the base anchor.
fn anchor_with(edit: impl FnOnce(&mut Value)) -> Value {
    let mut anchor = base_anchor();
    edit(&mut anchor);
    anchor
}

fn set(pointer: &'static str, value: Value) -> impl FnOnce(&mut Value) {
    move |anchor: &mut Value| *anchor.pointer_mut(pointer).expect(pointer) = value
}

struct Case {
    name: &'static str,
    anchor: Value,
    action: Action,
    verdict: Verdict,
    rule: &'static str,
}

fn case(name: &'static str, action: Action, verdict: Verdict, rule: &'static str) -> Case {
    Case {
        name,
        anchor: base_anchor(),
        action,
        verdict,
        rule,
    }
}

fn with(mut a: Action, f: impl FnOnce(&mut Action)) -> Action {
    f(&mut a);
    a
}

fn cases() -> Vec<Case> {
    let doc = |paths: &[&str]| action("doc_update", paths);
    let mut cases = vec![
        // Auto-approved: a narrow rule covers every condition.
        case(
            "small doc fix",
            doc(&["docs/guide.md"]),
            Auto,
            "rule:small-doc-fixes",
        ),
        case(
            "top-level markdown",
            doc(&["README.md"]),
            Auto,
            "rule:small-doc-fixes",
        ),
        case(
            "source tidy",
            action("tidy_apply", &["src/lib.rs"]),
            Auto,
            "rule:source-format",
        ),
        case(
            "dot segment",
            doc(&["./docs/a.md"]),
            Auto,
            "rule:small-doc-fixes",
        ),
        case(
            "double slash",
            doc(&["docs//a.md"]),
            Auto,
            "rule:small-doc-fixes",
        ),
        case(
            "dot-dot inside",
            doc(&["docs/sub/../a.md"]),
            Auto,
            "rule:small-doc-fixes",
        ),
        case(
            "two files, both covered",
            doc(&["docs/a.md", "README.md"]),
            Auto,
            "rule:small-doc-fixes",
        ),
        // Requires approval: the rule's limits, size, risk.
        case(
            "doc fix over the rule's lines",
            with(doc(&["docs/a.md"]), |a| a.changed_lines = Some(41)),
            Require,
            "builtin.default_deny",
        ),
        case(
            "doc fix over the rule's risk",
            with(doc(&["docs/a.md"]), |a| a.risk_score = 0.25),
            Require,
            "builtin.default_deny",
        ),
        case(
            "risk over the tolerance",
            with(doc(&["docs/a.md"]), |a| a.risk_score = 0.5),
            Require,
            "anchor.risk_tolerance",
        ),
        case(
            "no line estimate",
            with(doc(&["docs/a.md"]), |a| a.changed_lines = None),
            Require,
            "builtin.too_large",
        ),
        case(
            "too many lines",
            with(doc(&["docs/a.md"]), |a| a.changed_lines = Some(600)),
            Require,
            "builtin.too_large",
        ),
        case(
            "doc update outside the rule's globs",
            doc(&["src/notes.txt"]),
            Require,
            "builtin.default_deny",
        ),
        case(
            "no rule for the type",
            action("config_update", &["src/config.rs"]),
            Require,
            "builtin.default_deny",
        ),
        case(
            "file delete has no rule",
            action("file_delete", &["docs/old.md"]),
            Require,
            "builtin.default_deny",
        ),
        case(
            "outside the write roots",
            doc(&["notes/x.md"]),
            Require,
            "anchor.outside_write_roots",
        ),
        // Requires approval: never auto-approved.
        case(
            "CI workflow",
            action("config_update", &[".github/workflows/ci.yml"]),
            Require,
            "builtin.never_auto_approve",
        ),
        case(
            "gitlab CI",
            action("config_update", &[".gitlab-ci.yml"]),
            Require,
            "builtin.never_auto_approve",
        ),
        case(
            "lockfile",
            action("config_update", &["Cargo.lock"]),
            Require,
            "builtin.never_auto_approve",
        ),
        case(
            "nested lockfile",
            action("config_update", &["crates/a/Cargo.lock"]),
            Require,
            "builtin.never_auto_approve",
        ),
        case(
            "npm lockfile",
            action("config_update", &["crates/web/package-lock.json"]),
            Require,
            "builtin.never_auto_approve",
        ),
        case(
            "dotenv at root",
            doc(&[".env"]),
            Require,
            "builtin.never_auto_approve",
        ),
        case(
            "dotenv variant",
            doc(&["docs/.env.local"]),
            Require,
            "builtin.never_auto_approve",
        ),
        case(
            "pem file",
            doc(&["docs/server.pem"]),
            Require,
            "builtin.never_auto_approve",
        ),
        case(
            "ssh key",
            doc(&["docs/id_rsa"]),
            Require,
            "builtin.never_auto_approve",
        ),
        case(
            "the anchor itself",
            doc(&["intention.toml"]),
            Require,
            "builtin.never_auto_approve",
        ),
        case(
            "an anchor artifact",
            doc(&["docs/intention_anchor_v2.json"]),
            Require,
            "builtin.never_auto_approve",
        ),
        case(
            "approval records",
            doc(&[".autonomous_runs/p/runs/f/r/approvals/a.json"]),
            Require,
            "builtin.never_auto_approve",
        ),
        case(
            "anchor never-auto glob",
            action("tidy_apply", &["src/main.rs"]),
            Require,
            "anchor.never_auto_approve",
        ),
        case(
            "requires-approval path",
            doc(&["migrations/001.sql"]),
            Require,
            "anchor.requires_approval",
        ),
        case(
            "requires-approval command",
            with(action("test_fix", &["src/a.rs"]), |a| {
                a.command = Some("cargo publish --allow-dirty".into())
            }),
            Require,
            "anchor.requires_approval",
        ),
        case(
            "dependency install",
            with(action("dependency_install", &[]), |a| {
                a.command = Some("cargo add serde".into())
            }),
            Require,
            "builtin.sensitive_action_type",
        ),
        case(
            "git operation",
            action("git_operation", &[]),
            Require,
            "builtin.sensitive_action_type",
        ),
        case(
            "custom action",
            action("custom", &["docs/a.md"]),
            Require,
            "builtin.sensitive_action_type",
        ),
        // Requires approval: malformed input is never auto-approved.
        case(
            "unknown action type",
            action("rm_rf", &["docs/a.md"]),
            Require,
            "builtin.unknown_action_type",
        ),
        case(
            "file action without targets",
            doc(&[]),
            Require,
            "builtin.no_targets",
        ),
        case(
            "risk is NaN",
            with(doc(&["docs/a.md"]), |a| a.risk_score = f64::NAN),
            Require,
            "builtin.invalid_risk",
        ),
        case(
            "risk above one",
            with(doc(&["docs/a.md"]), |a| a.risk_score = 1.5),
            Require,
            "builtin.invalid_risk",
        ),
        case(
            "negative risk",
            with(doc(&["docs/a.md"]), |a| a.risk_score = -0.1),
            Require,
            "builtin.invalid_risk",
        ),
        case(
            "over the per-call token cap",
            with(doc(&["docs/a.md"]), |a| a.estimated_tokens = Some(9000)),
            Require,
            "anchor.budget_per_call",
        ),
        case(
            "the whole repository",
            doc(&["."]),
            Require,
            "builtin.too_large",
        ),
        case("an empty path", doc(&[""]), Require, "builtin.too_large"),
        // Denied: paths that leave the repository, in every form.
        case(
            "parent directory",
            doc(&["../etc/passwd"]),
            Deny,
            "builtin.path_escapes_repo",
        ),
        case(
            "absolute path",
            doc(&["/etc/passwd"]),
            Deny,
            "builtin.path_escapes_repo",
        ),
        case(
            "climbing out from inside",
            doc(&["docs/../../x"]),
            Deny,
            "builtin.path_escapes_repo",
        ),
        case(
            "backslash climb",
            doc(&["..\\..\\windows\\system32"]),
            Deny,
            "builtin.path_escapes_repo",
        ),
        case(
            "backslash climb from inside",
            doc(&["docs\\..\\..\\x"]),
            Deny,
            "builtin.path_escapes_repo",
        ),
        case(
            "drive letter with backslash",
            doc(&["C:\\Windows\\x"]),
            Deny,
            "builtin.path_escapes_repo",
        ),
        case(
            "drive letter",
            doc(&["C:/x"]),
            Deny,
            "builtin.path_escapes_repo",
        ),
        case(
            "UNC path",
            doc(&["\\\\server\\share\\x"]),
            Deny,
            "builtin.path_escapes_repo",
        ),
        case(
            "home directory",
            doc(&["~/.ssh/config"]),
            Deny,
            "builtin.path_escapes_repo",
        ),
        case(
            "NUL byte",
            doc(&["docs/a\0.md"]),
            Deny,
            "builtin.path_escapes_repo",
        ),
        case(
            "one bad target among good ones",
            doc(&["docs/a.md", "../x"]),
            Deny,
            "builtin.path_escapes_repo",
        ),
        // Denied: protected paths and hard prohibitions beat any rule.
        case(
            "protected file",
            action("config_update", &["LICENSE"]),
            Deny,
            "anchor.protected_path",
        ),
        case(
            "protected folder",
            action("config_update", &["deploy/prod.yml"]),
            Deny,
            "anchor.protected_path",
        ),
        case(
            "protected path a rule would approve",
            doc(&["docs/legal/terms.md"]),
            Deny,
            "anchor.protected_path",
        ),
        case(
            "never-allow path",
            doc(&["secrets/token"]),
            Deny,
            "anchor.never_allow",
        ),
        case(
            "never-allow command",
            with(action("git_operation", &[]), |a| {
                a.command = Some("git push --force origin main".into())
            }),
            Deny,
            "anchor.never_allow",
        ),
        case(
            "risk over the hard limit",
            with(doc(&["docs/a.md"]), |a| a.risk_score = 0.9),
            Deny,
            "anchor.risk_tolerance",
        ),
    ];
    // Anchor variants.
    let mut variant = |name, anchor: Value, action, verdict, rule| {
        cases.push(Case {
            name,
            anchor,
            action,
            verdict,
            rule,
        });
    };
    variant(
        "minimal tolerance: small risk needs approval",
        anchor_with(set(
            "/pivot_intentions/safety_risk/risk_tolerance",
            json!("minimal"),
        )),
        with(doc(&["docs/a.md"]), |a| a.risk_score = 0.15),
        Require,
        "anchor.risk_tolerance",
    );
    variant(
        "minimal tolerance: moderate risk is denied",
        anchor_with(set(
            "/pivot_intentions/safety_risk/risk_tolerance",
            json!("minimal"),
        )),
        with(doc(&["docs/a.md"]), |a| a.risk_score = 0.6),
        Deny,
        "anchor.risk_tolerance",
    );
    variant(
        "high tolerance: high risk needs approval only",
        anchor_with(set(
            "/pivot_intentions/safety_risk/risk_tolerance",
            json!("high"),
        )),
        with(doc(&["docs/a.md"]), |a| a.risk_score = 0.9),
        Require,
        "anchor.risk_tolerance",
    );
    variant(
        "default allow: nothing objects",
        anchor_with(set(
            "/pivot_intentions/governance_review/default_policy",
            json!("allow"),
        )),
        action("config_update", &["src/config.rs"]),
        Auto,
        "anchor.default_allow",
    );
    variant(
        "default allow still respects never-auto",
        anchor_with(set(
            "/pivot_intentions/governance_review/default_policy",
            json!("allow"),
        )),
        action("config_update", &["Cargo.lock"]),
        Require,
        "builtin.never_auto_approve",
    );
    variant(
        "an unparseable anchor glob stops every auto approval",
        anchor_with(set(
            "/pivot_intentions/scope_boundaries/protected_paths",
            json!(["src/[unclosed"]),
        )),
        doc(&["docs/a.md"]),
        Require,
        "builtin.policy_unenforceable",
    );
    variant(
        "a rule with a bad glob approves nothing",
        anchor_with(set(
            "/pivot_intentions/governance_review/auto_approve_rules/0/criteria/path_globs",
            json!(["docs/[x"]),
        )),
        doc(&["docs/a.md"]),
        Require,
        "builtin.policy_unenforceable",
    );
    variant(
        "escalation block: over the cap is denied",
        anchor_with(set(
            "/pivot_intentions/budget_cost/cost_escalation_policy",
            json!("block"),
        )),
        with(doc(&["docs/a.md"]), |a| a.estimated_tokens = Some(9000)),
        Deny,
        "anchor.budget_per_call",
    );
    variant(
        "escalation warn: over the cap is a warning",
        anchor_with(set(
            "/pivot_intentions/budget_cost/cost_escalation_policy",
            json!("warn"),
        )),
        with(doc(&["docs/a.md"]), |a| a.estimated_tokens = Some(9000)),
        Auto,
        "anchor.budget_per_call",
    );
    variant(
        "a prose-only rule approves nothing",
        anchor_with(set(
            "/pivot_intentions/governance_review/auto_approve_rules",
            json!([{"rule_id": "docs", "conditions": ["docs only"]}]),
        )),
        doc(&["docs/a.md"]),
        Require,
        "builtin.default_deny",
    );
    variant(
        "an empty anchor approves nothing",
        json!({"format_version": "v2", "project_id": "x", "created_at": "2026-01-01T00:00:00Z", "raw_input_digest": "0123456789abcdef", "pivot_intentions": {}}),
        doc(&["docs/a.md"]),
        Require,
        "anchor.outside_write_roots",
    );
    cases
}

#[test]
fn policy_002_every_case_gets_the_documented_verdict() {
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let decision = policy_of(&c.anchor).decide(&c.action);
        let cited = decision.reasons.iter().any(|r| r.rule_id == c.rule);
        if decision.verdict != c.verdict || !cited {
            failures.push(format!(
                "{}: expected {} citing {}, got {} {:?}",
                c.name, c.verdict, c.rule, decision.verdict, decision.reasons
            ));
        }
        if c.verdict != Auto {
            assert_ne!(decision.verdict, Auto, "{}", c.name);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_cited_rule_is_in_the_registry() {
    for c in cases() {
        for reason in policy_of(&c.anchor).decide(&c.action).reasons {
            assert!(
                RuleId::parse(&reason.rule_id) == Some(reason.rule),
                "{}: {} is not the id of its RuleId",
                c.name,
                reason.rule_id
            );
        }
    }
    let mut ids: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), RuleId::ALL.len(), "rule ids are unique");
    for rule in RuleId::ALL {
        assert_eq!(RuleId::parse(rule.as_str()), Some(*rule));
        assert!(!rule.description().is_empty());
    }
}

#[test]
fn policy_001_deny_beats_approval_beats_auto_whatever_the_rule_order() {
    // A protected path that an auto-approve rule also covers, with the rules
    // and protected paths listed in both orders.
    let forward = base_anchor();
    let mut backward = base_anchor();
    for pointer in [
        "/pivot_intentions/governance_review/auto_approve_rules",
        "/pivot_intentions/scope_boundaries/protected_paths",
        "/pivot_intentions/scope_boundaries/allowed_write_roots",
    ] {
        backward
            .pointer_mut(pointer)
            .and_then(Value::as_array_mut)
            .expect(pointer)
            .reverse();
    }
    for a in [
        action("doc_update", &["docs/legal/terms.md"]),
        action("doc_update", &["docs/a.md", "Cargo.lock"]),
        action("doc_update", &["docs/a.md"]),
    ] {
        let one = policy_of(&forward).decide(&a);
        let two = policy_of(&backward).decide(&a);
        assert_eq!(one, two, "rule order changed the decision for {a:?}");
    }
    let denied = policy_of(&forward).decide(&action("doc_update", &["docs/legal/terms.md"]));
    assert_eq!(denied.verdict, Deny);
    assert!(
        denied
            .reasons
            .iter()
            .all(|r| !r.rule_id.starts_with("rule:")),
        "no rule approves over a denial"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// POLICY-003: the same input gives the same decision; shuffling the
    /// anchor's lists never changes it.
    #[test]
    fn policy_003_decisions_are_pure_and_order_independent(
        seed in any::<u64>(),
        path in prop::sample::select(vec!["docs/a.md", "README.md", "src/lib.rs", "LICENSE", "../x", "Cargo.lock", "notes/a.md", "docs/legal/x.md"]),
        kind in prop::sample::select(vec!["doc_update", "tidy_apply", "config_update", "git_operation", "nonsense"]),
        lines in 0u64..700,
        risk in 0.0f64..1.0,
    ) {
        let a = with(action(kind, &[path]), |a| { a.changed_lines = Some(lines); a.risk_score = risk; });
        let reference = policy_of(&base_anchor()).decide(&a);
        prop_assert_eq!(&policy_of(&base_anchor()).decide(&a), &reference);
        let mut shuffled = base_anchor();
        let mut jitter = waypost_test_support::Jitter::new(seed);
        for pointer in ["/pivot_intentions/governance_review/auto_approve_rules", "/pivot_intentions/scope_boundaries/protected_paths", "/pivot_intentions/scope_boundaries/allowed_write_roots", "/pivot_intentions/safety_risk/never_allow"] {
            let list = shuffled.pointer_mut(pointer).and_then(Value::as_array_mut).expect("list");
            for i in (1..list.len()).rev() {
                list.swap(i, jitter.index(i + 1));
            }
        }
        prop_assert_eq!(&policy_of(&shuffled).decide(&a), &reference);
        if reference.verdict != Auto {
            prop_assert!(!reference.reasons.iter().any(|r| r.rule_id.starts_with("rule:")));
        }
    }
}

#[test]
fn symlinks_are_resolved_against_the_real_tree() {
    let dir = tempfile::tempdir().expect("temp");
    let outside = tempfile::tempdir().expect("temp");
    std::fs::create_dir_all(dir.path().join("docs/sub")).expect("mkdir");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outside.path(), dir.path().join("docs/out")).expect("link");
        std::os::unix::fs::symlink(dir.path().join("docs/sub"), dir.path().join("docs/in"))
            .expect("link");
    }
    let anchor: waypost_schemas::IntentionAnchorV2 =
        serde_json::from_value(base_anchor()).expect("anchor");
    let policy = Policy::from_anchor(&anchor, Some(dir.path().to_owned()));
    let out = policy.decide(&action("doc_update", &["docs/out/stolen.md"]));
    assert_eq!(out.verdict, Deny, "{:?}", out.reasons);
    assert!(
        out.reasons[0].message.contains("symlink"),
        "{:?}",
        out.reasons
    );
    // A link that stays inside still moves the write: never automatic.
    let inside = policy.decide(&action("doc_update", &["docs/in/a.md"]));
    assert_eq!(inside.verdict, Require, "{:?}", inside.reasons);
    assert!(
        inside
            .reasons
            .iter()
            .any(|r| r.rule == RuleId::SymlinkWrite && r.message.contains("docs/sub/a.md")),
        "{:?}",
        inside.reasons
    );
    let plain = policy.decide(&action("doc_update", &["docs/sub/a.md"]));
    assert_eq!(plain.verdict, Auto, "{:?}", plain.reasons);
}

#[test]
fn built_in_globs_compile() {
    waypost_schemas::paths::PatternSet::new(waypost_governance::NEVER_AUTO_APPROVE)
        .unwrap_or_else(|e| panic!("{e}"));
}

/// The explanations people read: verdict, reasons, counterfactual.
#[test]
fn decision_explanations() {
    let explain = |name: &str, anchor: &Value, a: &Action| {
        let d = policy_of(anchor).decide(a);
        let reasons: Vec<String> = d
            .reasons
            .iter()
            .map(|r| format!("  [{}] {}: {}", r.verdict, r.rule_id, r.message))
            .collect();
        format!(
            "{name}\n  verdict: {}\n{}\n  counterfactual: {}\n",
            d.verdict,
            reasons.join("\n"),
            d.counterfactual
        )
    };
    let base = base_anchor();
    let doc = |p: &str| action("doc_update", &[p]);
    let report = [
        explain("small doc fix", &base, &doc("docs/a.md")),
        explain(
            "doc fix too long and too risky for the rule",
            &base,
            &with(doc("docs/a.md"), |a| {
                a.changed_lines = Some(120);
                a.risk_score = 0.25;
            }),
        ),
        explain(
            "risk over the tolerance",
            &base,
            &with(doc("docs/a.md"), |a| a.risk_score = 0.5),
        ),
        explain(
            "CI workflow",
            &base,
            &action("config_update", &[".github/workflows/ci.yml"]),
        ),
        explain(
            "protected path a rule would approve",
            &base,
            &doc("docs/legal/terms.md"),
        ),
        explain("escaping path", &base, &doc("docs/../../etc/passwd")),
        explain(
            "a forced push behind a chain, a wrapper and git's global options",
            &base,
            &with(action("git_operation", &[]), |a| {
                a.command = Some("cd sub && sudo git -C .. push -f origin main".into());
            }),
        ),
        explain(
            "a case variant of a protected folder",
            &base,
            &doc("Docs/Legal/terms.md"),
        ),
        explain(
            "a command nobody allowed",
            &base,
            &with(doc("docs/a.md"), |a| a.command = Some("make docs".into())),
        ),
        explain(
            "no rule exists",
            &anchor_with(set(
                "/pivot_intentions/governance_review/auto_approve_rules",
                json!([]),
            )),
            &action("tidy_apply", &["src/lib.rs"]),
        ),
    ]
    .join("\n");
    insta::assert_snapshot!(report);
}

#[test]
fn following_a_counterfactual_makes_the_action_auto_approved() {
    let policy = policy_of(&base_anchor());
    let before = with(action("doc_update", &["docs/a.md"]), |a| {
        a.changed_lines = Some(120);
        a.risk_score = 0.5;
    });
    let decision = policy.decide(&before);
    let waypost_governance::Counterfactual::Change(changes) = &decision.counterfactual else {
        panic!("{:?}", decision.counterfactual)
    };
    assert_eq!(
        changes,
        &[
            "reduce changed lines from 120 to at most 40",
            "lower risk_score from 0.5 to at most 0.2",
            "then rule `small-doc-fixes` approves it"
        ]
    );
    let after = with(before, |a| {
        a.changed_lines = Some(40);
        a.risk_score = 0.2;
    });
    assert_eq!(policy.decide(&after).verdict, Auto);
}

#[test]
fn policy_002_a_plan_action_is_judged_on_every_path_its_edits_and_moves_write() {
    // A doc update whose listed target is a harmless doc, but whose edit
    // writes a protected file, or whose move lands under `.git/`.
    let plan = |edits: Value, moves: Value| -> waypost_schemas::PlanAction {
        let mut action: waypost_schemas::PlanAction = serde_json::from_value(json!({
            "action_id": "a", "action_type": "doc_update", "target_gap_ids": ["g"],
            "risk_score": 0.1, "approval_status": "requires_approval",
            "target_paths": ["docs/a.md"], "estimated_changed_lines": 1,
            "edits": edits, "moves": moves
        }))
        .expect("plan action");
        action.action_id = action.derive_action_id();
        action
    };
    let policy = policy_of(&base_anchor());
    let honest = plan(
        json!([{"path": "docs/a.md", "line": 1, "old_text": "a", "new_text": "b"}]),
        json!([]),
    );
    assert_eq!(policy.decide(&Action::from_plan(&honest)).verdict, Auto);
    let smuggled_edit = plan(
        json!([{"path": "LICENSE", "line": 1, "old_text": "a", "new_text": "b"}]),
        json!([]),
    );
    assert_ne!(
        policy.decide(&Action::from_plan(&smuggled_edit)).verdict,
        Auto
    );
    let smuggled_move = plan(
        json!([]),
        json!([{"from": "docs/a.md", "to": ".git/hooks/pre-commit"}]),
    );
    assert_ne!(
        policy.decide(&Action::from_plan(&smuggled_move)).verdict,
        Auto
    );
    // Fifty edits are fifty changed lines, whatever the estimate says.
    let many: Vec<Value> = (1..=50)
        .map(|l| json!({"path": "docs/a.md", "line": l, "old_text": "a", "new_text": "b"}))
        .collect();
    let understated = plan(json!(many), json!([]));
    assert_eq!(Action::from_plan(&understated).changed_lines, Some(50));
    assert_ne!(
        policy.decide(&Action::from_plan(&understated)).verdict,
        Auto
    );
}
