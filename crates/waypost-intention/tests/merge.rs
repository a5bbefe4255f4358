//! ANCHOR-001: explicit beats inferred field by field; provenance; determinism.

use waypost_intention::{
    AnchorOrigin, UNNAMED_PROJECT, create_from_inputs, infer_from_repo, load_anchor, resolve_anchor,
};
use waypost_schemas::ProvenanceOrigin;

use crate::support::{CLOCK, sample_repo, write_files};

#[test]
fn inference_reads_owners_forge_workspace_and_test_commands() {
    let dir = tempfile::tempdir().expect("temp");
    sample_repo(dir.path());
    let inferred = infer_from_repo(dir.path());
    let scope = &inferred.pivots["scope_boundaries"];
    // Only what agents must never change is protected; what CODEOWNERS
    // owns needs an owner's approval instead.
    assert_eq!(
        scope["protected_paths"],
        serde_json::json!([
            "**/*.key",
            "**/*.pem",
            "**/.env",
            "**/.env.*",
            ".git/**",
            ".github/**",
            ".gitmodules",
            "CODEOWNERS",
            "intention.toml",
            "waypost.toml"
        ])
    );
    assert_eq!(
        inferred.pivots["governance_review"]["never_auto_approve"],
        serde_json::json!(["**/*.lock", "deploy/**"])
    );
    assert_eq!(
        inferred.sources["/pivot_intentions/governance_review/never_auto_approve"],
        ["CODEOWNERS"]
    );
    assert_eq!(
        scope["allowed_write_roots"],
        serde_json::json!([".autonomous_runs/", "crates/**", "xtask/"])
    );
    assert_eq!(
        inferred.pivots["evidence_verification"]["hard_blocks"],
        serde_json::json!(["cargo test --workspace", "npm test"])
    );
    assert_eq!(
        inferred.sources["/pivot_intentions/scope_boundaries/protected_paths"],
        [".github", "CODEOWNERS"]
    );
    assert_eq!(
        inferred.project_id,
        Some(("web-ui".to_owned(), "package.json".to_owned()))
    );
}

#[test]
fn anchor_001_explicit_input_beats_inferred_field_by_field() {
    let dir = tempfile::tempdir().expect("temp");
    sample_repo(dir.path());
    write_files(
        dir.path(),
        &[(
            "intention.toml",
            "project_id = \"mine\"\n[scope_boundaries]\nprotected_paths = [\"secrets/**\"]\n",
        )],
    );
    let explicit = load_anchor(&dir.path().join("intention.toml"), &CLOCK)
        .expect("load")
        .anchor;
    let merged = create_from_inputs(Some(&explicit), &infer_from_repo(dir.path()), &CLOCK);
    let scope = merged
        .pivot_intentions
        .scope_boundaries
        .as_ref()
        .expect("scope");
    // The human's field wins whole; the field they left out is inferred.
    assert_eq!(scope.protected_paths, ["secrets/**"]);
    assert!(scope.allowed_write_roots.contains(&"crates/**".to_owned()));
    assert_eq!(merged.project_id, "mine");
    assert!(
        !merged
            .provenance
            .contains_key("/pivot_intentions/scope_boundaries/protected_paths")
    );
    let roots = &merged.provenance["/pivot_intentions/scope_boundaries/allowed_write_roots"];
    assert_eq!(roots.origin, ProvenanceOrigin::Inferred);
    assert_eq!(roots.sources, ["Cargo.toml"]);
    // With a human anchor, built-in defaults do not sneak in.
    assert!(merged.pivot_intentions.budget_cost.is_none());
    assert!(
        merged
            .provenance
            .values()
            .all(|p| p.origin == ProvenanceOrigin::Inferred)
    );
}

#[test]
fn with_no_anchor_the_default_fills_what_inference_does_not() {
    let dir = tempfile::tempdir().expect("temp");
    let resolved = resolve_anchor(dir.path(), None, &CLOCK).expect("resolve");
    assert_eq!(resolved.origin, AnchorOrigin::BuiltInDefault);
    let anchor = &resolved.anchor;
    assert_eq!(anchor.project_id, UNNAMED_PROJECT);
    let governance = anchor
        .pivot_intentions
        .governance_review
        .as_ref()
        .expect("governance");
    assert_eq!(
        governance.default_policy,
        Some(waypost_schemas::DefaultPolicy::Deny)
    );
    assert!(governance.auto_approve_rules.is_empty());
    let par = anchor
        .pivot_intentions
        .parallelism_isolation
        .as_ref()
        .expect("parallelism");
    assert_eq!(par.allowed, Some(false));
    let scope = anchor
        .pivot_intentions
        .scope_boundaries
        .as_ref()
        .expect("scope");
    assert_eq!(scope.allowed_write_roots, [".autonomous_runs/"]);
    assert!(scope.network_allowlist.is_empty(), "no network");
    // Everything is a built-in default but what agents must never change,
    // which is inferred for every repository.
    assert!(
        anchor
            .provenance
            .iter()
            .filter(|(k, _)| *k != "/pivot_intentions/scope_boundaries/protected_paths")
            .all(|(_, p)| p.origin == ProvenanceOrigin::Default)
    );
    assert!(
        anchor
            .provenance
            .contains_key("/pivot_intentions/budget_cost/token_cap_global")
    );
}

#[test]
fn anchor_001_the_same_repository_anywhere_gives_the_same_anchor_bytes() {
    let a = tempfile::tempdir().expect("temp");
    let b = tempfile::tempdir().expect("temp");
    let b_nested = b.path().join("somewhere/else/checkout");
    for root in [a.path(), b_nested.as_path()] {
        std::fs::create_dir_all(root).expect("mkdir");
        sample_repo(root);
        write_files(
            root,
            &[("intention.toml", &crate::support::complete_toml())],
        );
    }
    let one = resolve_anchor(a.path(), None, &CLOCK).expect("a").anchor;
    let two = resolve_anchor(&b_nested, None, &CLOCK).expect("b").anchor;
    assert_eq!(one.anchor_id(), two.anchor_id());
    assert_eq!(
        waypost_schemas::io::to_pretty_json(&one),
        waypost_schemas::io::to_pretty_json(&two),
        "byte-identical"
    );
    // And from another working directory, with a relative path.
    let cwd = std::env::current_dir().expect("cwd");
    assert_ne!(cwd, a.path());
    let relative = pathdiff(a.path(), &cwd);
    let three = resolve_anchor(&relative, None, &CLOCK)
        .expect("relative")
        .anchor;
    assert_eq!(three.anchor_id(), one.anchor_id());
}

/// `path` relative to `base` (both absolute).
fn pathdiff(path: &std::path::Path, base: &std::path::Path) -> std::path::PathBuf {
    let ups = base.components().count() - 1;
    let mut out = std::path::PathBuf::new();
    for _ in 0..ups {
        out.push("..");
    }
    out.push(path.strip_prefix("/").expect("absolute"));
    out
}

/// A saved artifact loaded as the human's anchor is the human's, whatever
/// provenance it carries; a human anchor that leaves protected paths out
/// still gets what agents must never change.
#[test]
fn a_human_anchor_is_all_human_and_still_protects_git_and_secrets() {
    let dir = tempfile::tempdir().expect("temp");
    let mut explicit = resolve_anchor(dir.path(), None, &CLOCK)
        .expect("resolve")
        .anchor;
    assert!(
        !explicit.provenance.is_empty(),
        "the default says where it came from"
    );
    explicit
        .pivot_intentions
        .scope_boundaries
        .as_mut()
        .expect("scope")
        .protected_paths = Vec::new();
    let merged = create_from_inputs(Some(&explicit), &infer_from_repo(dir.path()), &CLOCK);
    // Only what was filled in is marked: the protected paths the human left
    // empty are the only field not written by the human.
    assert_eq!(
        merged.provenance.keys().collect::<Vec<_>>(),
        ["/pivot_intentions/scope_boundaries/protected_paths"]
    );
    let protected = &merged
        .pivot_intentions
        .scope_boundaries
        .as_ref()
        .expect("scope")
        .protected_paths;
    for path in [".git/**", "intention.toml", "waypost.toml", "**/.env"] {
        assert!(
            protected.iter().any(|p| p == path),
            "{path} in {protected:?}"
        );
    }
}
