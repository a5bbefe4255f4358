//! Deterministic inference from the repository's files. Read-only; every
//! value names the files it came from, as repository-relative paths, so the
//! same repository gives the same result wherever it is checked out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value, json};

/// What inference found: pivot fields (as JSON in the authored shape) and,
/// for each field, the files it came from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inferred {
    /// The project's name, from a package manifest.
    pub project_id: Option<(String, String)>,
    /// Pivot sections with only the inferred fields.
    pub pivots: Map<String, Value>,
    /// Sources per field, by pointer under `/pivot_intentions`.
    pub sources: BTreeMap<String, Vec<String>>,
}

impl Inferred {
    fn set(&mut self, section: &str, field: &str, value: Value, sources: BTreeSet<String>) {
        let table = self
            .pivots
            .entry(section.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(table) = table {
            table.insert(field.to_owned(), value);
        }
        self.sources.insert(
            format!("/pivot_intentions/{section}/{field}"),
            sources.into_iter().collect(),
        );
    }
}

/// Where forges look for a CODEOWNERS file.
const CODEOWNERS: [&str; 4] = [
    "CODEOWNERS",
    ".github/CODEOWNERS",
    "docs/CODEOWNERS",
    ".gitlab/CODEOWNERS",
];

/// Protected in every repository: git's own files, the anchor, and files
/// shaped like secrets (the built-in default protects them too).
pub(crate) const ALWAYS_PROTECTED: [&str; 6] = [
    ".git/**",
    "intention.toml",
    "**/.env",
    "**/.env.*",
    "**/*.pem",
    "**/*.key",
];

/// CI and forge configuration, protected when the repository has it: (what
/// is looked for, the protected pattern).
const FORGE_CONFIG: [(&str, &str); 12] = [
    (".github", ".github/**"),
    (".gitlab", ".gitlab/**"),
    (".gitlab-ci.yml", ".gitlab-ci.yml"),
    (".circleci", ".circleci/**"),
    (".buildkite", ".buildkite/**"),
    (".woodpecker", ".woodpecker/**"),
    (".forgejo", ".forgejo/**"),
    ("Jenkinsfile", "Jenkinsfile"),
    ("azure-pipelines.yml", "azure-pipelines.yml"),
    ("bitbucket-pipelines.yml", "bitbucket-pipelines.yml"),
    ("CODEOWNERS", "CODEOWNERS"),
    ("docs/CODEOWNERS", "docs/CODEOWNERS"),
];

/// Folders that hold source code when they sit at the repository root.
const SOURCE_DIRS: [&str; 10] = [
    "src", "lib", "crates", "packages", "app", "cmd", "pkg", "tests", "docs", "xtask",
];

/// Infers what it can from `root`. Missing or unreadable files are simply
/// not used: inference never fails.
pub fn infer_from_repo(root: &Path) -> Inferred {
    let mut inferred = Inferred::default();
    // Never blocks, never follows a link, never reads past the cap: a
    // hostile file is simply not used.
    let read = |rel: &str| {
        waypost_schemas::io::read_text(
            &root.join(rel),
            waypost_schemas::io::MAX_CONFIG_BYTES,
            waypost_schemas::io::Links::Refuse,
        )
        .ok()
    };

    // CODEOWNERS says who must review a change, not that agents may never
    // make it: its patterns are paths no rule may auto-approve.
    let mut reviewed = BTreeSet::new();
    let mut reviewed_from = BTreeSet::new();
    for owners in CODEOWNERS {
        if let Some(text) = read(owners) {
            reviewed_from.insert(owners.to_owned());
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
                    continue;
                }
                let mut words = line.split_whitespace();
                // A pattern with no owner removes ownership: nothing to review.
                if let (Some(pattern), Some(_owner)) = (words.next(), words.next()) {
                    reviewed.insert(codeowners_glob(pattern));
                }
            }
        }
    }
    if !reviewed.is_empty() {
        inferred.set(
            "governance_review",
            "never_auto_approve",
            json!(reviewed),
            reviewed_from,
        );
    }

    // Protected paths: only what agents must never change. Git's own
    // files, the anchor, secrets-shaped files, and the CI and forge
    // configuration the repository has (CODEOWNERS among it).
    let mut protected: BTreeSet<String> =
        ALWAYS_PROTECTED.iter().map(|p| (*p).to_owned()).collect();
    let mut protected_from = BTreeSet::new();
    for (path, pattern) in FORGE_CONFIG {
        if std::fs::symlink_metadata(root.join(path)).is_ok() {
            protected.insert((*pattern).to_owned());
            protected_from.insert((*path).to_owned());
        }
    }
    // With nothing of the kind found, the built-in default (the same list
    // and `.github/`) says it, as a default.
    if !protected_from.is_empty() {
        inferred.set(
            "scope_boundaries",
            "protected_paths",
            json!(protected),
            protected_from,
        );
    }

    // Write roots: workspace members, else top-level source folders; always
    // the run directory.
    let mut roots = BTreeSet::from([crate::default::RUN_ROOT.to_owned()]);
    let mut roots_from = BTreeSet::new();
    let cargo = read("Cargo.toml").and_then(|t| toml::from_str::<toml::Table>(&t).ok());
    if let Some(members) = cargo
        .as_ref()
        .and_then(|c| c.get("workspace")?.get("members")?.as_array().cloned())
    {
        roots_from.insert("Cargo.toml".to_owned());
        for member in members.iter().filter_map(toml::Value::as_str) {
            let member = member.trim_end_matches('/');
            roots.insert(if member.ends_with('*') {
                format!("{member}*")
            } else {
                format!("{member}/")
            });
        }
    }
    for dir in SOURCE_DIRS {
        if root.join(dir).is_dir() && !roots.iter().any(|r| r.starts_with(&format!("{dir}/"))) {
            roots.insert(format!("{dir}/"));
            roots_from.insert(format!("{dir}/"));
        }
    }
    if !roots_from.is_empty() {
        inferred.set(
            "scope_boundaries",
            "allowed_write_roots",
            json!(roots),
            roots_from,
        );
    }

    // Checks that must pass: the test commands the manifests declare.
    let mut checks = BTreeSet::new();
    let mut checks_from = BTreeSet::new();
    if cargo.is_some() {
        checks.insert("cargo test --workspace".to_owned());
        checks_from.insert("Cargo.toml".to_owned());
    }
    let pyproject = read("pyproject.toml").and_then(|t| toml::from_str::<toml::Table>(&t).ok());
    if let Some(py) = &pyproject
        && (py.get("tool").and_then(|t| t.get("pytest")).is_some() || root.join("tests").is_dir())
    {
        checks.insert("pytest".to_owned());
        checks_from.insert("pyproject.toml".to_owned());
    }
    let package = read("package.json").and_then(|t| serde_json::from_str::<Value>(&t).ok());
    if let Some(script) = package
        .as_ref()
        .and_then(|p| p.get("scripts")?.get("test")?.as_str())
        && !script.contains("no test specified")
    {
        checks.insert("npm test".to_owned());
        checks_from.insert("package.json".to_owned());
    }
    if !checks.is_empty() {
        inferred.set(
            "evidence_verification",
            "hard_blocks",
            json!(checks),
            checks_from,
        );
    }

    // The project's name, from the first manifest that has one.
    let named = [
        (
            "Cargo.toml",
            cargo
                .as_ref()
                .and_then(|c| c.get("package")?.get("name")?.as_str().map(str::to_owned)),
        ),
        (
            "pyproject.toml",
            pyproject
                .as_ref()
                .and_then(|p| p.get("project")?.get("name")?.as_str().map(str::to_owned)),
        ),
        (
            "package.json",
            package
                .as_ref()
                .and_then(|p| p.get("name")?.as_str().map(str::to_owned)),
        ),
    ];
    inferred.project_id = named
        .into_iter()
        .find_map(|(file, name)| Some((name?, file.to_owned())));
    inferred
}

/// A CODEOWNERS pattern as a repository-relative glob.
fn codeowners_glob(pattern: &str) -> String {
    let anchored = pattern.trim_start_matches('/');
    if anchored == "*" {
        "**".to_owned()
    } else if anchored.ends_with('/') {
        format!("{anchored}**")
    } else if pattern.starts_with('/') || anchored.contains('/') {
        anchored.to_owned()
    } else {
        format!("**/{anchored}")
    }
}
