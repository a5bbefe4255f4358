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
pub(crate) const ALWAYS_PROTECTED: [&str; 8] = [
    ".git/**",
    ".gitmodules",
    "intention.toml",
    "waypost.toml",
    "**/.env",
    "**/.env.*",
    "**/*.pem",
    "**/*.key",
];

/// CI and forge configuration, protected when the repository has it: (what
/// is looked for, the protected pattern).
const FORGE_CONFIG: [(&str, &str); 22] = [
    (".github", ".github/**"),
    (".gitlab", ".gitlab/**"),
    (".gitea", ".gitea/**"),
    (".forgejo", ".forgejo/**"),
    (".gitlab-ci.yml", ".gitlab-ci.yml"),
    (".circleci", ".circleci/**"),
    (".buildkite", ".buildkite/**"),
    (".woodpecker", ".woodpecker/**"),
    (".woodpecker.yml", ".woodpecker.yml"),
    (".azure-pipelines", ".azure-pipelines/**"),
    (".ci", ".ci/**"),
    (".travis.yml", ".travis.yml"),
    (".drone.yml", ".drone.yml"),
    (".cirrus.yml", ".cirrus.yml"),
    ("appveyor.yml", "appveyor.yml"),
    (".appveyor.yml", ".appveyor.yml"),
    ("Jenkinsfile", "Jenkinsfile"),
    ("azure-pipelines.yml", "azure-pipelines.yml"),
    ("azure-pipelines.yaml", "azure-pipelines.yaml"),
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
    // A file below a linked folder is not read either: the folder may lead
    // out of the repository.
    let read = |rel: &str| {
        let mut folder = root.to_path_buf();
        for segment in rel
            .split('/')
            .rev()
            .skip(1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            folder.push(segment);
            if !std::fs::symlink_metadata(&folder).is_ok_and(|m| m.is_dir()) {
                return None;
            }
        }
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
            reviewed.extend(codeowners_globs(&text));
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
    // Set even when no such file is there: a human anchor that leaves the
    // field out gets no built-in default, and these are never to change.
    inferred.set(
        "scope_boundaries",
        "protected_paths",
        json!(protected),
        protected_from,
    );

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
            // A member outside the repository is no write root of it.
            if waypost_schemas::paths::RepoPath::new(member).is_err() {
                continue;
            }
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
        .find_map(|(file, name)| Some((project_id_from_name(&name?)?, file.to_owned())));
    inferred
}

/// A manifest's package name as a project id (`A-Z a-z 0-9 . _ -`, at most
/// 128, not starting with `.` or `-`): an npm scope loses its `@` and its
/// `/` becomes `-` (`@vitejs/vite-monorepo` is `vitejs-vite-monorepo`),
/// any other character becomes `-`. `None` when nothing is left.
pub(crate) fn project_id_from_name(name: &str) -> Option<String> {
    let mapped: String = name
        .trim()
        .trim_start_matches('@')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let id: String = mapped
        .trim_start_matches(['.', '-'])
        .chars()
        .take(waypost_schemas::layout::MAX_ID_LEN)
        .collect();
    waypost_schemas::layout::check_id(waypost_schemas::layout::IdKind::Project, &id)
        .is_ok()
        .then_some(id)
}

/// The globs of the paths a CODEOWNERS file gives an owner, in GitHub's
/// and GitLab's syntax: `#` comments (also after a pattern), `\ ` and
/// `\#` escapes, `[Section]` and `^[Optional section]` headers with their
/// default owners (a pattern with no owner of its own takes them; with
/// none, it removes ownership and is left out). A pattern that does not
/// make a valid path glob inside the repository is left out.
pub(crate) fn codeowners_globs(text: &str) -> Vec<String> {
    let mut globs = Vec::new();
    let mut section_owned = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = split_unescaped(line);
        let Some((first, owners)) = words.split_first() else {
            continue;
        };
        if first.starts_with('[') || first.starts_with("^[") {
            // The header's owners are what the rest of the header line
            // holds after its closing bracket.
            let after = line.split_once(']').map_or("", |(_, rest)| rest);
            section_owned = split_unescaped(after)
                .iter()
                .any(|w| !w.starts_with('[') && !w.is_empty());
            continue;
        }
        if owners.is_empty() && !section_owned {
            continue;
        }
        let glob = codeowners_glob(first);
        if waypost_schemas::paths::PathPattern::new(&glob).is_ok() {
            globs.push(glob);
        }
    }
    globs
}

/// `line` split on whitespace that is not escaped, up to a `#` that starts
/// a comment; escapes removed.
fn split_unescaped(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            '#' if word.is_empty() => break,
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// A CODEOWNERS pattern as a repository-relative glob with the same
/// meaning: anchored at the root when it starts with `/` or holds a `/`
/// before its end, anywhere otherwise; a trailing `/` names a folder and
/// everything in it; `[` and `{` are names, not glob syntax.
fn codeowners_glob(pattern: &str) -> String {
    let escaped: String = pattern
        .chars()
        .map(|c| match c {
            '[' => "[[]".to_owned(),
            '{' => "[{]".to_owned(),
            '}' => "[}]".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let folder = escaped.ends_with('/');
    let core = escaped.trim_start_matches('/').trim_end_matches('/');
    if core == "*" || core == "**" || core.is_empty() {
        return "**".to_owned();
    }
    let anchored = escaped.starts_with('/') || core.contains('/');
    let base = if anchored {
        core.to_owned()
    } else {
        format!("**/{core}")
    };
    if folder { format!("{base}/**") } else { base }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_become_valid_project_ids() {
        assert_eq!(
            project_id_from_name("@vitejs/vite-monorepo").as_deref(),
            Some("vitejs-vite-monorepo")
        );
        assert_eq!(
            project_id_from_name("my crate").as_deref(),
            Some("my-crate")
        );
        assert_eq!(project_id_from_name("waypost").as_deref(), Some("waypost"));
        assert_eq!(project_id_from_name("..."), None);
        assert_eq!(
            project_id_from_name(&"x".repeat(300)).map(|s| s.len()),
            Some(128)
        );
    }

    #[test]
    fn codeowners_patterns_keep_their_meaning_as_globs() {
        let text = concat!(
            "# owners\n",
            "*                       @all\n",
            "apps/                   @web   # anywhere\n",
            "/docs/                  docs@example.org\n",
            "docs/*.md               @writers\n",
            "/pages/[id].tsx         @web\n",
            "/{{slug}}/              @tmpl\n",
            "path\\ with\\ spaces/    @o\n",
            "\\#hash                  @o\n",
            "/build/logs/\n",
            "../outside              @x\n",
            "^[Optional Section] @team\n",
            "guide/\n",
            "[Plain]\n",
            "orphan/\n",
        );
        assert_eq!(
            codeowners_globs(text),
            [
                "**",
                "**/apps/**",
                "docs/**",
                "docs/*.md",
                "pages/[[]id].tsx",
                "[{][{]slug[}][}]/**",
                "**/path with spaces/**",
                "**/#hash",
                // `../outside` leaves the repository: left out.
                // `guide/` takes the optional section's owners.
                "**/guide/**",
                // `orphan/` is in a section without owners: no owner.
            ]
        );
    }
}
