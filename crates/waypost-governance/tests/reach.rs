//! What a path reaches: the shared corpus, and symlinks and hard links on
//! real trees. None of them is auto-approved, and the reason names the
//! protected file reached.

use serde_json::{Value, json};
use waypost_governance::{Decision, Policy, RuleId, Verdict};
use waypost_schemas::IntentionAnchorV2;
use waypost_test_support::{PathVerdict, protected_path_cases};

use crate::support::action;

/// Protected `.github/**` and `intention.toml`, everything writable, and a
/// rule that approves small doc updates anywhere under `docs/`.
fn anchor(protected: &[&str]) -> IntentionAnchorV2 {
    let value: Value = json!({
        "format_version": "v2", "project_id": "demo", "created_at": "2026-01-01T00:00:00Z",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {
            "scope_boundaries": {"allowed_write_roots": ["**"], "protected_paths": protected},
            "governance_review": {"default_policy": "deny", "auto_approve_rules": [
                {"rule_id": "docs", "criteria": {"action_types": ["doc_update"], "path_globs": ["docs/**"], "max_changed_lines": 50, "max_risk_score": 0.3}}
            ]}
        }
    });
    serde_json::from_value(value).expect("anchor")
}

#[test]
fn the_policy_agrees_with_the_shared_corpus() {
    let mut failures = Vec::new();
    for case in protected_path_cases() {
        let policy = Policy::from_anchor(&anchor(&[case.pattern.as_str()]), None);
        let decision = policy.decide(&action("doc_update", &[case.path.as_str()]));
        let cites = |rule| decision.reasons.iter().any(|r| r.rule == rule);
        let answer = if cites(RuleId::PathEscapesRepo) {
            PathVerdict::Invalid
        } else if cites(RuleId::ProtectedPath) {
            PathVerdict::Protected
        } else {
            PathVerdict::Free
        };
        if answer != case.expected {
            failures.push(format!(
                "{:?} under {:?} ({}): policy says {answer:?}, expected {:?}: {:?}",
                case.path, case.pattern, case.about, case.expected, decision.reasons
            ));
        }
        if case.expected != PathVerdict::Free {
            assert_ne!(decision.verdict, Verdict::AutoApprove, "{case:?}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A tree with `.github/workflows/ci.yml` and `intention.toml`.
fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp");
    std::fs::create_dir_all(dir.path().join(".github/workflows")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("docs")).expect("mkdir");
    std::fs::write(dir.path().join(".github/workflows/ci.yml"), "on: push\n").expect("write");
    std::fs::write(dir.path().join("intention.toml"), "[north_star]\n").expect("write");
    std::fs::write(dir.path().join("docs/guide.md"), "# Guide\n").expect("write");
    dir
}

fn decide(dir: &tempfile::TempDir, target: &str) -> Decision {
    Policy::from_anchor(
        &anchor(&[".github/**", "intention.toml"]),
        Some(dir.path().to_owned()),
    )
    .decide(&action("doc_update", &[target]))
}

/// Not auto-approved, and some reason names `reached`.
fn refused_naming(decision: &Decision, reached: &str) {
    assert_ne!(
        decision.verdict,
        Verdict::AutoApprove,
        "{:?}",
        decision.reasons
    );
    assert!(
        decision
            .reasons
            .iter()
            .any(|r| r.rule == RuleId::ProtectedPath && r.message.contains(&format!("`{reached}`"))),
        "no reason names {reached}: {:?}",
        decision.reasons
    );
}

#[cfg(unix)]
#[test]
fn symlinks_and_hard_links_never_reach_a_protected_file_unnoticed() {
    use std::os::unix::fs::symlink;

    let dir = tree();
    let root = dir.path();
    // The control: a plain doc update is approved.
    assert_eq!(decide(&dir, "docs/guide.md").verdict, Verdict::AutoApprove);

    // A symlinked folder inside docs/ that points at .github/.
    symlink("../.github", root.join("docs/ci")).expect("link");
    let d = decide(&dir, "docs/ci/workflows/ci.yml");
    assert_eq!(d.verdict, Verdict::Deny);
    refused_naming(&d, ".github/workflows/ci.yml");

    // `..` after the link is applied to the link's target, as the kernel does.
    let d = decide(&dir, "docs/ci/../intention.toml");
    assert_eq!(d.verdict, Verdict::Deny);
    refused_naming(&d, "intention.toml");

    // A file symlink.
    symlink("../intention.toml", root.join("docs/anchor.md")).expect("link");
    let d = decide(&dir, "docs/anchor.md");
    assert_eq!(d.verdict, Verdict::Deny);
    refused_naming(&d, "intention.toml");

    // A dangling link as the final component: the write would create the target.
    symlink("../.github/workflows/new.yml", root.join("docs/new.md")).expect("link");
    let d = decide(&dir, "docs/new.md");
    refused_naming(&d, ".github/workflows/new.yml");

    // An absolute link into the repository.
    symlink(root.join(".github"), root.join("docs/abs")).expect("link");
    refused_naming(
        &decide(&dir, "docs/abs/workflows/ci.yml"),
        ".github/workflows/ci.yml",
    );

    // A chain of links.
    symlink("abs", root.join("docs/chain")).expect("link");
    refused_naming(
        &decide(&dir, "docs/chain/workflows/ci.yml"),
        ".github/workflows/ci.yml",
    );

    // A hard link to a protected file.
    std::fs::hard_link(root.join("intention.toml"), root.join("docs/hard.md")).expect("link");
    let d = decide(&dir, "docs/hard.md");
    assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
    refused_naming(&d, "intention.toml");
    assert!(d.reasons.iter().any(|r| r.rule == RuleId::HardLink));

    // A hard link whose other name is not a known path still needs a human.
    std::fs::create_dir_all(root.join("notes")).expect("mkdir");
    std::fs::write(root.join("notes/a.md"), "x\n").expect("write");
    std::fs::hard_link(root.join("notes/a.md"), root.join("docs/other.md")).expect("link");
    let d = decide(&dir, "docs/other.md");
    assert_eq!(d.verdict, Verdict::RequireApproval, "{:?}", d.reasons);
    assert!(d.reasons.iter().any(|r| r.rule == RuleId::HardLink));

    // A link that stays inside and reaches nothing protected: still a human.
    std::fs::create_dir_all(root.join("docs/real")).expect("mkdir");
    symlink("real", root.join("docs/alias")).expect("link");
    let d = decide(&dir, "docs/alias/page.md");
    assert_eq!(d.verdict, Verdict::RequireApproval, "{:?}", d.reasons);
    assert!(
        d.reasons
            .iter()
            .any(|r| r.rule == RuleId::SymlinkWrite && r.message.contains("docs/real/page.md"))
    );

    // A loop is refused, not followed forever.
    symlink("loop", root.join("docs/loop")).expect("link");
    let d = decide(&dir, "docs/loop/x.md");
    assert_ne!(d.verdict, Verdict::AutoApprove, "{:?}", d.reasons);

    // Out of the repository.
    let outside = tempfile::tempdir().expect("temp");
    symlink(outside.path(), root.join("docs/out")).expect("link");
    assert_eq!(decide(&dir, "docs/out/x.md").verdict, Verdict::Deny);
    symlink("../..", root.join("docs/up")).expect("link");
    let d = decide(&dir, "docs/up/x.md");
    assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
    assert!(d.reasons.iter().any(|r| r.rule == RuleId::PathEscapesRepo));
}

#[test]
fn spellings_of_protected_root_files_name_the_protection() {
    // Case and Windows variants of a protected root file are caught as
    // protected, not only as outside a write root.
    let policy = Policy::from_anchor(&anchor(&["intention.toml"]), None);
    for spelling in [
        "Intention.toml",
        "intention.toml.",
        "INTENTION.TOML ",
        "intention.toml::$DATA",
    ] {
        let d = policy.decide(&action("config_update", &[spelling]));
        assert_eq!(d.verdict, Verdict::Deny, "{spelling}: {:?}", d.reasons);
        assert!(
            d.reasons.iter().any(|r| r.rule == RuleId::ProtectedPath
                && r.message.contains("protected by `intention.toml`")),
            "{spelling}: {:?}",
            d.reasons
        );
    }
}

#[cfg(unix)]
#[test]
fn a_missing_folder_then_dot_dot_still_goes_through_the_link() {
    use std::os::unix::fs::symlink;

    let dir = tree();
    let root = dir.path();
    symlink("../.github", root.join("docs/evil")).expect("link");
    symlink("../intention.toml", root.join("docs/anchor.md")).expect("link");
    symlink("../..", root.join("docs/up2")).expect("link");
    std::fs::hard_link(root.join("intention.toml"), root.join("docs/hard.md")).expect("link");
    refused_naming(
        &decide(&dir, "docs/newdir/../evil/workflows/ci.yml"),
        ".github/workflows/ci.yml",
    );
    refused_naming(&decide(&dir, "docs/n/../anchor.md"), "intention.toml");
    refused_naming(&decide(&dir, "docs/n/../hard.md"), "intention.toml");
    let d = decide(&dir, "docs/n/../up2/x.md");
    assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
}

#[cfg(unix)]
#[test]
fn a_backslash_is_part_of_a_name_to_the_kernel() {
    use std::os::unix::fs::symlink;

    let dir = tree();
    symlink(".github", dir.path().join("docs\\evil")).expect("link");
    let d = decide(&dir, "docs\\evil/workflows/ci.yml");
    refused_naming(&d, ".github/workflows/ci.yml");
    assert!(d.reasons.iter().any(|r| r.rule == RuleId::AmbiguousName));
    // Even with nothing on disk, a backslash is never automatic.
    let d = decide(&dir, "docs\\a.md");
    assert_eq!(d.verdict, Verdict::RequireApproval, "{:?}", d.reasons);
}

#[test]
fn windows_short_names_are_never_automatic() {
    let policy = Policy::from_anchor(&anchor(&[".github/**"]), None);
    for target in [
        "docs/GITHUB~1/workflows/ci.yml",
        "docs/INTENT~1.TOM",
        "docs/a/git~12/x.md",
    ] {
        let d = policy.decide(&action("doc_update", &[target]));
        assert_ne!(d.verdict, Verdict::AutoApprove, "{target}: {:?}", d.reasons);
        assert!(
            d.reasons.iter().any(|r| r.rule == RuleId::AmbiguousName),
            "{target}"
        );
    }
    // A tilde elsewhere is an ordinary name.
    let d = policy.decide(&action("doc_update", &["docs/notes~/a.md"]));
    assert_eq!(d.verdict, Verdict::AutoApprove, "{:?}", d.reasons);
}

/// Deleting or moving a folder acts on everything it holds.
#[test]
fn a_folder_target_is_judged_by_what_it_holds() {
    let value = json!({
        "format_version": "v2", "project_id": "demo", "created_at": "2026-01-01T00:00:00Z",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {
            "scope_boundaries": {"allowed_write_roots": ["**"], "protected_paths": ["docs/legal/**/*.md"]},
            "governance_review": {"default_policy": "deny", "auto_approve_rules": [
                {"rule_id": "tidy", "criteria": {"action_types": ["file_delete", "file_move"], "path_globs": ["docs/**"], "max_changed_lines": 50, "max_risk_score": 0.3}}
            ]}
        }
    });
    let anchor: IntentionAnchorV2 = serde_json::from_value(value).expect("anchor");
    // Without a tree: a folder above everything a pattern protects.
    let policy = Policy::from_anchor(&anchor, None);
    let d = policy.decide(&action("file_delete", &["docs/legal"]));
    assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
    assert_eq!(
        policy.decide(&action("file_delete", &["docs/old"])).verdict,
        Verdict::AutoApprove
    );
    // With a tree: what the folder holds, by every pattern.
    let dir = tempfile::tempdir().expect("temp");
    std::fs::create_dir_all(dir.path().join("docs/certs/old")).expect("mkdir");
    std::fs::write(dir.path().join("docs/certs/old/server.pem"), "key").expect("write");
    std::fs::create_dir_all(dir.path().join("docs/old")).expect("mkdir");
    std::fs::write(dir.path().join("docs/old/a.txt"), "x").expect("write");
    let policy = Policy::from_anchor(&anchor, Some(dir.path().to_owned()));
    for kind in ["file_delete", "file_move"] {
        let d = policy.decide(&action(kind, &["docs/certs"]));
        assert_ne!(d.verdict, Verdict::AutoApprove, "{kind}: {:?}", d.reasons);
        assert!(
            d.reasons
                .iter()
                .any(|r| r.rule == RuleId::BuiltinNeverAutoApprove
                    && r.message
                        .contains("`docs/certs` holds `docs/certs/old/server.pem`")),
            "{kind}: {:?}",
            d.reasons
        );
    }
    assert_eq!(
        policy.decide(&action("file_delete", &["docs/old"])).verdict,
        Verdict::AutoApprove
    );
}

#[test]
fn a_one_word_entry_that_is_a_program_is_a_path_and_a_command() {
    let value = json!({
        "format_version": "v2", "project_id": "demo", "created_at": "2026-01-01T00:00:00Z",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {
            "safety_risk": {"never_allow": ["terraform"]},
            "scope_boundaries": {"allowed_write_roots": ["**"]},
            "governance_review": {"default_policy": "allow"}
        }
    });
    let anchor: IntentionAnchorV2 = serde_json::from_value(value).expect("anchor");
    let policy = Policy::from_anchor(&anchor, None);
    let d = policy.decide(&action("config_update", &["terraform/main.tf"]));
    assert_eq!(d.verdict, Verdict::Deny, "{:?}", d.reasons);
    let mut run = action("config_update", &["src/a.rs"]);
    run.command = Some("terraform apply".into());
    assert_eq!(policy.decide(&run).verdict, Verdict::Deny);
}
