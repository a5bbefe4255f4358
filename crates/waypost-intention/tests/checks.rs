//! Contradictions and risks: every code, and none on a clean anchor.

use waypost_intention::{CODES, Severity, check_anchor, load_anchor};

use crate::support::{CLOCK, complete_toml};

fn findings_for(text: &str) -> Vec<(&'static str, String, Severity)> {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("intention.toml");
    std::fs::write(&path, text).expect("write");
    let anchor = load_anchor(&path, &CLOCK).expect("load").anchor;
    check_anchor(&anchor)
        .into_iter()
        .map(|f| (f.code, f.field, f.severity))
        .collect()
}

#[test]
fn the_template_has_no_findings() {
    assert!(findings_for(&complete_toml()).is_empty());
}

#[test]
fn every_code_has_a_case() {
    let t = complete_toml();
    let cases = [
        (
            "write_root_protected",
            t.replace(
                "allowed_write_roots = [\".autonomous_runs/\"]",
                "allowed_write_roots = [\".autonomous_runs/\", \".github/workflows\"]",
            ),
            "/pivot_intentions/scope_boundaries/allowed_write_roots/1",
            Severity::Error,
        ),
        (
            "parallel_single_run",
            t.replace("allowed = false", "allowed = true"),
            "/pivot_intentions/parallelism_isolation/max_concurrent_runs",
            Severity::Error,
        ),
        (
            "parallel_without_isolation",
            t.replace("allowed = false", "allowed = true")
                .replace("max_concurrent_runs = 1", "max_concurrent_runs = 4")
                .replace(
                    "isolation_model = \"four_layer\"",
                    "isolation_model = \"none\"",
                ),
            "/pivot_intentions/parallelism_isolation/isolation_model",
            Severity::Error,
        ),
        (
            "default_allow",
            t.replace("default_policy = \"deny\"", "default_policy = \"allow\""),
            "/pivot_intentions/governance_review/default_policy",
            Severity::Warning,
        ),
        (
            "zero_budget_cap",
            t.replace("time_cap_seconds = 3600", "time_cap_seconds = 0"),
            "/pivot_intentions/budget_cost/time_cap_seconds",
            Severity::Error,
        ),
        (
            "invalid_glob",
            t.replace(
                "protected_paths = [\".git/**\", \".github/**\"]",
                "protected_paths = [\".git/**\", \"src/[unclosed\"]",
            ),
            "/pivot_intentions/scope_boundaries/protected_paths/1",
            Severity::Error,
        ),
        (
            "path_escapes_repo",
            t.replace(
                "allowed_write_roots = [\".autonomous_runs/\"]",
                "allowed_write_roots = [\"../elsewhere\"]",
            ),
            "/pivot_intentions/scope_boundaries/allowed_write_roots/0",
            Severity::Error,
        ),
        (
            "invalid_command_rule",
            t.replace(
                "never_allow = [\"git push --force\"",
                "never_allow = [\"git push --force except\"",
            ),
            "/pivot_intentions/safety_risk/never_allow/0",
            Severity::Error,
        ),
        (
            "not_enforceable",
            t.replace(
                "requires_approval = [\"**/Cargo.toml\"",
                "requires_approval = [\"dependency changes\"",
            ),
            "/pivot_intentions/safety_risk/requires_approval/0",
            Severity::Warning,
        ),
    ];
    // Found only in values no human wrote (next test).
    assert_eq!(cases.len() + 1, CODES.len());
    for (code, text, field, severity) in cases {
        let found = findings_for(&text);
        assert!(
            found.contains(&(code, field.to_owned(), severity)),
            "{code}: expected at {field}, got {found:?}"
        );
    }
}

#[test]
fn escaping_paths_come_in_every_shape() {
    let t = complete_toml();
    for hostile in ["/etc", "a/../../b", "..\\\\windows", "C:/x", "~/.ssh"] {
        let text = t.replace(
            "protected_paths = [\".git/**\", \".github/**\"]",
            &format!("protected_paths = [\"{hostile}\"]"),
        );
        let found = findings_for(&text);
        assert!(
            found.iter().any(|(c, _, _)| *c == "path_escapes_repo"),
            "{hostile}: {found:?}"
        );
    }
}

#[test]
fn a_write_root_whose_contents_are_all_protected_is_caught() {
    // `root/**` does not match `root` itself; the check must still see that
    // nothing under the root may be written.
    let t = complete_toml();
    for protected in [".autonomous_runs/**", "**", ".autonomous_runs"] {
        let text = t.replace(
            "protected_paths = [\".git/**\", \".github/**\"]",
            &format!("protected_paths = [\"{protected}\"]"),
        );
        let found = findings_for(&text);
        assert!(
            found.iter().any(|(c, _, _)| *c == "write_root_protected"),
            "{protected}: {found:?}"
        );
    }
    // A protected path below a root is ordinary: protect a part, write the rest.
    let text = t
        .replace(
            "allowed_write_roots = [\".autonomous_runs/\"]",
            "allowed_write_roots = [\"crates/\"]",
        )
        .replace(
            "protected_paths = [\".git/**\", \".github/**\"]",
            "protected_paths = [\"crates/secret/**\"]",
        );
    assert!(findings_for(&text).is_empty());
}

#[test]
fn a_glob_write_root_inside_a_protected_folder_is_caught() {
    let t = complete_toml();
    for (root, protected, caught) in [
        ("docs/**", "docs", true),
        (".github/workflows/**", ".github/**", true),
        ("docs/*.md", "docs", true),
        ("docs/legal", "docs/*", true),
        ("crates/**", "crates/secret/**", false),
        ("docs/**", "src/**", false),
    ] {
        let text = t
            .replace(
                "allowed_write_roots = [\".autonomous_runs/\"]",
                &format!("allowed_write_roots = [\"{root}\"]"),
            )
            .replace(
                "protected_paths = [\".git/**\", \".github/**\"]",
                &format!("protected_paths = [\"{protected}\"]"),
            );
        let found = findings_for(&text);
        assert_eq!(
            found.iter().any(|(c, _, _)| *c == "write_root_protected"),
            caught,
            "{root} / {protected}: {found:?}"
        );
    }
}

/// Values no human wrote never contradict each other as an error: an
/// inferred write root under a protected path is information naming both
/// sources, and a catch-all CODEOWNERS entry is one line of information.
#[test]
fn inferred_and_default_values_are_information_not_errors() {
    let dir = tempfile::tempdir().expect("temp");
    crate::support::write_files(
        dir.path(),
        &[
            ("Cargo.toml", "[workspace]\nmembers = [\".github/tools\"]\n"),
            (".github/CODEOWNERS", "* @owner\n"),
        ],
    );
    let anchor = waypost_intention::resolve_anchor(dir.path(), None, &CLOCK)
        .expect("resolve")
        .anchor;
    let found = check_anchor(&anchor);
    assert!(
        found.iter().all(|f| f.severity == Severity::Info),
        "{found:?}"
    );
    let protected = found
        .iter()
        .find(|f| f.code == "write_root_protected")
        .expect("the inferred root under .github/**");
    assert!(
        protected.message.contains("inferred from Cargo.toml")
            && protected.message.contains("inferred from .github")
            && protected.message.contains("protected paths win"),
        "{}",
        protected.message
    );
    let catch_all: Vec<_> = found
        .iter()
        .filter(|f| f.code == "codeowners_catch_all")
        .collect();
    assert_eq!(catch_all.len(), 1, "{found:?}");
    assert_eq!(
        catch_all[0].field,
        "/pivot_intentions/governance_review/never_auto_approve"
    );
}
