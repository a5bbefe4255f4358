//! Shared test fixtures: a repository with a first commit, anchors, config.

use serde_json::json;
use waypost_schemas::IntentionAnchorV2;
use waypost_schemas::config::RunsConfig;
use waypost_test_support::TestRepo;

/// A repository on `main` with two committed files.
pub(crate) fn repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "# demo\n")
        .write(".gitignore", ".autonomous_runs/\n")
        .write("src/lib.rs", "pub fn one() -> u32 { 1 }\n")
        .commit_all("first");
    repo
}

/// An anchor that allows parallel runs (`max` of them) or not.
pub(crate) fn anchor(parallel: Option<u32>) -> IntentionAnchorV2 {
    let isolation = match parallel {
        Some(max) => json!({"allowed": true, "max_concurrent_runs": max}),
        None => json!({"allowed": false}),
    };
    serde_json::from_value(json!({
        "format_version": "v2", "project_id": "demo", "created_at": "2026-01-01T00:00:00Z",
        "raw_input_digest": "0123456789abcdef",
        "pivot_intentions": {"parallelism_isolation": isolation}
    }))
    .expect("anchor")
}

/// The default `[runs]` configuration with a short lease.
pub(crate) fn config() -> RunsConfig {
    RunsConfig {
        lease_seconds: 5,
        ..RunsConfig::default()
    }
}

/// Hermetic git in `dir`, returning stdout; panics on failure.
pub(crate) fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let output = waypost_test_support::hermetic_git(dir)
        .args(args)
        .output()
        .expect("git");
    assert!(
        output.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Commits a new file in `worktree`.
pub(crate) fn commit_in(worktree: &std::path::Path, file: &str, text: &str) {
    let path = worktree.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("folders");
    }
    std::fs::write(&path, text).expect("write");
    git(worktree, &["add", "--all"]);
    git(
        worktree,
        &["commit", "--quiet", "-m", &format!("add {file}")],
    );
}
