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

    // Protected paths: CODEOWNERS entries, and the forge configuration.
    let mut protected = BTreeSet::new();
    let mut protected_from = BTreeSet::new();
    for owners in [
        "CODEOWNERS",
        ".github/CODEOWNERS",
        "docs/CODEOWNERS",
        ".gitlab/CODEOWNERS",
    ] {
        if let Some(text) = read(owners) {
            protected_from.insert(owners.to_owned());
            protected.insert(owners.to_owned());
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') || line.starts_with('[') {
                    continue;
                }
                if let Some(pattern) = line.split_whitespace().next() {
                    protected.insert(codeowners_glob(pattern));
                }
            }
        }
    }
    for forge in [".github", ".gitlab"] {
        if root.join(forge).is_dir() {
            protected.insert(format!("{forge}/**"));
            protected_from.insert(format!("{forge}/"));
        }
    }
    if !protected.is_empty() {
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
