//! A first run on repositories of common shapes with no anchor: the
//! inferred anchor never contradicts itself, and the scan reports root
//! clutter only for files shaped like clutter.

use std::collections::BTreeSet;

use serde_json::Value;
use waypost_test_support::TestRepo;

use crate::support::waypost_in;

/// One file of each clutter shape, and one secrets-shaped file.
const CLUTTER: [&str; 7] = [
    "debug.log",
    "notes.txt.bak",
    ".DS_Store",
    "scratch.py",
    "heap.hprof",
    "backup.zip",
    ".env.local",
];

/// A repository shape: its name and its files (path, content).
struct Shape {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
}

const SHAPES: [Shape; 6] = [
    Shape {
        name: "one owner reviews everything",
        files: &[
            (".github/CODEOWNERS", "* @owner\n"),
            (
                "Cargo.toml",
                "[package]\nname = \"solo\"\nversion = \"0.1.0\"\n",
            ),
            ("src/lib.rs", "pub fn f() {}\n"),
        ],
    },
    Shape {
        name: "owners per folder, comments and email owners",
        files: &[
            (
                "CODEOWNERS",
                "# who reviews what\n/docs/ docs@example.org\n*.js @web-team\n/build/logs/\n[Section]\n/src/core/ @core @lead\n",
            ),
            (
                "package.json",
                "{\"name\": \"owned\", \"scripts\": {\"test\": \"vitest\"}}\n",
            ),
            ("src/core/index.js", "export const x = 1;\n"),
            ("docs/guide.md", "# Guide\n"),
        ],
    },
    Shape {
        name: "a Python project with its tool configuration",
        files: &[
            (
                "pyproject.toml",
                "[project]\nname = \"tooling\"\n\n[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n",
            ),
            ("pytest.ini", "[pytest]\n"),
            ("mypy.ini", "[mypy]\n"),
            ("tox.ini", "[tox]\n"),
            ("setup.cfg", "[metadata]\n"),
            (".flake8", "[flake8]\n"),
            (".coveragerc", "[run]\n"),
            (".pre-commit-config.yaml", "repos: []\n"),
            ("requirements-dev.txt", "pytest\n"),
            ("noxfile.py", "import nox\n"),
            ("tooling/__init__.py", ""),
            ("tests/test_a.py", "def test_a():\n    assert True\n"),
        ],
    },
    Shape {
        name: "a Vite and TypeScript app",
        files: &[
            (
                "package.json",
                "{\"name\": \"app\", \"scripts\": {\"test\": \"vitest\"}}\n",
            ),
            ("vite.config.ts", "export default {}\n"),
            ("vitest.config.ts", "export default {}\n"),
            ("index.html", "<div id=\"app\"></div>\n"),
            ("tsconfig.json", "{}\n"),
            (".eslintrc.cjs", "module.exports = {}\n"),
            ("Dockerfile.frontend", "FROM node:22\n"),
            (".gitleaks.toml", "title = \"x\"\n"),
            (".prettierrc", "{}\n"),
            (".nvmrc", "22\n"),
            ("pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
            ("src/main.ts", "console.log(1);\n"),
        ],
    },
    Shape {
        name: "a Rust workspace",
        files: &[
            ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
            (
                "crates/a/Cargo.toml",
                "[package]\nname = \"a\"\nversion = \"0.1.0\"\n",
            ),
            ("crates/a/src/lib.rs", "pub fn a() {}\n"),
            ("rust-toolchain.toml", "[toolchain]\nchannel = \"stable\"\n"),
            ("clippy.toml", ""),
            ("deny.toml", ""),
            ("rustfmt.toml", ""),
            (".typos.toml", ""),
            ("triagebot.toml", ""),
            (".git-blame-ignore-revs", ""),
        ],
    },
    Shape {
        name: "a monorepo with several manifests",
        files: &[
            ("package.json", "{\"private\": true}\n"),
            ("pnpm-workspace.yaml", "packages: ['apps/*']\n"),
            ("apps/web/package.json", "{\"name\": \"web\"}\n"),
            ("services/api/pyproject.toml", "[project]\nname = \"api\"\n"),
            (
                "crates/core/Cargo.toml",
                "[package]\nname = \"core\"\nversion = \"0.1.0\"\n",
            ),
            ("go.mod", "module example.org/mono\n"),
            ("Makefile", "all:\n"),
            ("docker-compose.yml", "services: {}\n"),
            (".gitlab-ci.yml", "test:\n  script: [make]\n"),
            ("CITATION.cff", "cff-version: 1.2.0\n"),
        ],
    },
];

fn build(shape: &Shape) -> TestRepo {
    let repo = TestRepo::new();
    for (path, content) in shape.files {
        repo.write(path, content);
    }
    repo.commit_all("initial");
    for path in CLUTTER {
        repo.write(path, "x\n");
    }
    repo
}

#[test]
fn the_inferred_anchor_has_no_errors_and_only_clutter_is_clutter() {
    let mut failures = Vec::new();
    for shape in &SHAPES {
        let repo = build(shape);
        let check = waypost_in(repo.path(), &["anchor", "check", "--format", "json"]);
        let report: Value = serde_json::from_str(&check.stdout).expect("JSON");
        let errors: Vec<&Value> = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{}: anchor check errors {errors:?}", shape.name));
        }
        let scan = waypost_in(repo.path(), &["scan", "--quiet", "--format", "json"]);
        let gaps: Value = serde_json::from_str(&scan.stdout).expect("JSON");
        let clutter: BTreeSet<&str> = gaps["gaps"]
            .as_array()
            .expect("gaps")
            .iter()
            .filter(|g| g["gap_type"] == "root_clutter")
            .filter_map(|g| g["evidence"]["file_paths"][0].as_str())
            .collect();
        let planted: BTreeSet<&str> = CLUTTER.into_iter().collect();
        if clutter != planted {
            failures.push(format!(
                "{}: root clutter {clutter:?}, planted {planted:?}",
                shape.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// CODEOWNERS says who reviews, not what agents may never touch: its
/// patterns are never auto-approved, and a catch-all is one line of
/// information.
#[test]
fn codeowners_means_review_not_protection() {
    let repo = build(&SHAPES[0]);
    let show = waypost_in(repo.path(), &["anchor", "show", "--format", "json"]);
    let anchor: Value = serde_json::from_str(&show.stdout).expect("JSON");
    let pivots = &anchor["pivot_intentions"];
    assert_eq!(
        pivots["governance_review"]["never_auto_approve"],
        serde_json::json!(["**"])
    );
    let protected: Vec<&str> = pivots["scope_boundaries"]["protected_paths"]
        .as_array()
        .expect("protected")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!protected.contains(&"**"), "{protected:?}");
    assert!(protected.contains(&".github/**"), "{protected:?}");
    assert!(protected.contains(&".git/**"), "{protected:?}");
    let check = waypost_in(repo.path(), &["anchor", "check"]);
    let lines: Vec<&str> = check
        .stdout
        .lines()
        .filter(|l| l.starts_with("info    codeowners_catch_all"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", check.stdout);
    assert!(!check.stdout.contains("error "), "{}", check.stdout);

    let owned = build(&SHAPES[1]);
    let show = waypost_in(owned.path(), &["anchor", "show", "--format", "json"]);
    let anchor: Value = serde_json::from_str(&show.stdout).expect("JSON");
    // An entry without an owner removes ownership; sections are skipped.
    assert_eq!(
        anchor["pivot_intentions"]["governance_review"]["never_auto_approve"],
        serde_json::json!(["**/*.js", "docs/**", "src/core/**"])
    );
}

/// The anchor a human wrote without `never_auto_approve` takes it from
/// CODEOWNERS: a rule that auto-approves documentation still needs a
/// human for the owned folder, and writes in the run directory are still
/// auto-approved by their rule.
#[test]
fn the_policy_never_auto_approves_what_codeowners_owns() {
    let repo = build(&SHAPES[1]);
    repo.write(
        "intention.toml",
        concat!(
            "project_id = \"owned\"\ncreated_at = \"2026-01-01T00:00:00Z\"\n\n",
            "[scope_boundaries]\nallowed_write_roots = [\".autonomous_runs/\", \"docs/\", \"notes/\"]\n\n",
            "[governance_review]\ndefault_policy = \"deny\"\n\n",
            "[[governance_review.auto_approve_rules]]\nrule_id = \"docs\"\ndescription = \"doc fixes\"\n",
            "criteria = { action_types = [\"doc_update\"], path_globs = [\"docs/**\", \"notes/**\"], max_changed_lines = 40, max_risk_score = 0.2 }\n\n",
            "[[governance_review.auto_approve_rules]]\nrule_id = \"run-local\"\ndescription = \"run output\"\n",
            "criteria = { action_types = [\"tidy_apply\"], path_globs = [\".autonomous_runs/**\"], max_changed_lines = 40, max_risk_score = 0.2 }\n",
        ),
    );
    let verdict = |action: Value| {
        std::fs::write(repo.path().join("action.json"), action.to_string()).expect("write");
        let run = waypost_in(
            repo.path(),
            &[
                "policy",
                "check",
                "--action",
                "action.json",
                "--format",
                "json",
            ],
        );
        let decision: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
        decision["verdict"].as_str().unwrap_or_default().to_owned()
    };
    let doc = |path: &str| serde_json::json!({"action_type": "doc_update", "target_paths": [path], "estimated_changed_lines": 3, "risk_score": 0.1});
    assert_eq!(verdict(doc("notes/a.md")), "auto-approve");
    assert_eq!(verdict(doc("docs/guide.md")), "require approval");
    let run_local = serde_json::json!({"action_type": "tidy_apply", "target_paths": [".autonomous_runs/owned/report.json"], "estimated_changed_lines": 3, "risk_score": 0.1});
    assert_eq!(verdict(run_local), "auto-approve");
    // What agents must never change stays denied, though the human anchor
    // names no protected path.
    let secret = serde_json::json!({"action_type": "doc_update", "target_paths": [".env"], "estimated_changed_lines": 3, "risk_score": 0.1});
    assert_eq!(verdict(secret), "deny");
}
