//! root_clutter: files at the repository root shaped like clutter or
//! secrets, outside the allowlist.

use waypost_schemas::paths::{PathKey, PathPattern, PatternSet, RepoPath};
use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext, ScannedFile};

/// `.env` files that document the variables an environment needs, by
/// convention without their values: allowed at the root (they are in
/// [`DEFAULT_ROOT_ALLOWLIST`](waypost_schemas::config::DEFAULT_ROOT_ALLOWLIST))
/// and never taken for secrets.
pub(crate) const ENV_TEMPLATES: [&str; 3] = [".env.example", ".env.sample", ".env.template"];

/// Whether a root file looks like it holds secrets: `.env` and its variants
/// (`.env.local`, `.env.production`, `.env.bak.1`), except the templates;
/// keys, certificates and key stores.
fn looks_secret(name: &str) -> bool {
    // `.envrc` is direnv's script; `.env.dist` and `.env.defaults` are
    // templates by other names.
    let not_secret =
        ENV_TEMPLATES.contains(&name) || matches!(name, ".envrc" | ".env.dist" | ".env.defaults");
    (name.starts_with(".env") && !not_secret)
        || [".pem", ".key", ".p12", ".pfx", ".keystore", ".jks"]
            .iter()
            .any(|ext| name.ends_with(ext))
        || matches!(name, "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519")
}

/// What clutter looks like, by kind: the shapes of file names that are
/// left behind rather than kept (matched ignoring letter case). A root file
/// of no such shape is not reported, whatever it is: tool configuration,
/// build files and entry points are too many and too new to list.
const CLUTTER: [(&str, &[&str]); 6] = [
    (
        "a log",
        &[
            "*.log",
            "*.log.[0-9]*",
            "nohup.out",
            "npm-debug.log*",
            "yarn-debug.log*",
            "yarn-error.log*",
        ],
    ),
    (
        "a temporary or backup file",
        &[
            "*.tmp", "*.temp", "*.bak", "*.bak.*", "*.backup", "*.old", "*.orig", "*.rej", "*~",
            "*.swp", "*.swo", ".#*", "#*#", "* copy", "* copy.*", "*.copy",
        ],
    ),
    (
        "an editor or system leftover",
        &[
            ".ds_store",
            "thumbs.db",
            "desktop.ini",
            ".directory",
            "*.sublime-workspace",
        ],
    ),
    (
        "a scratch file",
        &[
            "scratch",
            "scratch.*",
            "scratch_*",
            "scratch-*",
            "untitled",
            "untitled*",
            "tmp.*",
            "temp.*",
            "foo.*",
            "bar.*",
            "baz.*",
            "asdf*",
            "junk*",
            "deleteme*",
            "delme*",
        ],
    ),
    (
        "a dump",
        &[
            "*.dump",
            "*.sql.gz",
            "core",
            "core.[0-9]*",
            "*.core",
            "*.hprof",
            "*.heapsnapshot",
            "*.stackdump",
            "*.pcap",
        ],
    ),
    (
        "a stray archive",
        &[
            "*.zip",
            "*.tar",
            "*.tar.gz",
            "*.tgz",
            "*.tar.bz2",
            "*.tar.xz",
            "*.gz",
            "*.bz2",
            "*.xz",
            "*.7z",
            "*.rar",
        ],
    ),
];

/// Root files shaped like clutter ([`CLUTTER`]) or secrets, unless the
/// allowlist keeps them.
pub(crate) struct RootClutter {
    allow: PatternSet,
    deny: PatternSet,
    shapes: Vec<(&'static str, PatternSet)>,
}

impl RootClutter {
    /// Patterns that do not parse are refused when the configuration loads.
    pub(crate) fn new(allowlist: &[String], denylist: &[String]) -> Self {
        let set = |list: &[String]| -> PatternSet {
            list.iter()
                .filter_map(|p| PathPattern::new(p).ok())
                .collect()
        };
        Self {
            allow: set(allowlist),
            deny: set(denylist),
            shapes: CLUTTER
                .iter()
                .map(|(kind, patterns)| {
                    (
                        *kind,
                        PatternSet::new(patterns).expect("the clutter shapes are valid patterns"),
                    )
                })
                .collect(),
        }
    }

    /// The kind of clutter `name` looks like, if any.
    fn shape(&self, name: &str) -> Option<&'static str> {
        let key = PathKey::of(name);
        self.shapes
            .iter()
            .find(|(_, set)| set.covering_key(&key).is_some())
            .map(|(kind, _)| *kind)
    }
}

impl Detector for RootClutter {
    fn id(&self) -> &'static str {
        "root_file_outside_allowlist"
    }
    fn gap_type(&self) -> GapType {
        GapType::RootClutter
    }
    fn description(&self) -> &'static str {
        "a file at the repository root looks like clutter (a log, a temporary or backup file, an editor leftover, a scratch file, a dump, a stray archive) or like secrets, and the root allowlist does not keep it"
    }
    fn wants(&self, path: &str) -> bool {
        !path.contains('/')
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let path = file.path;
        if RepoPath::new(path).is_ok_and(|p| self.allow.matching(&p).is_some()) {
            return;
        }
        let finding = if looks_secret(path) {
            Finding::of(
                self,
                RiskLevel::High,
                path,
                format!("{path} looks like secrets at the repository root"),
            )
            .describe(
                "A secrets-looking file at the root: it should not be in the repository at all.",
            )
            .remedy("remove it and rotate whatever it holds", true)
        } else if let Some(kind) = self.shape(path) {
            Finding::of(self, RiskLevel::Low, path, format!("{path} looks like {kind} at the repository root"))
                .describe(format!("Its name has the shape of {kind}: something left behind, which belongs elsewhere or nowhere."))
                .remedy("move it under a folder or delete it (configure [scan] root_allowlist if it belongs)", false)
        } else if RepoPath::new(path).is_ok_and(|p| self.deny.matching(&p).is_some()) {
            Finding::of(
                self,
                RiskLevel::Low,
                path,
                format!("{path} is on the root denylist"),
            )
            .describe("`[scan] root_denylist` names it: it does not belong at the repository root.")
            .remedy("move it under a folder or delete it", false)
        } else {
            return;
        };
        out.push(finding.with_evidence(
            "shape",
            if looks_secret(path) {
                "secrets"
            } else {
                "clutter"
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_templates_are_not_secrets_and_other_env_files_are() {
        for name in ENV_TEMPLATES {
            assert!(!looks_secret(name), "{name}");
        }
        for name in [
            ".env",
            ".env.local",
            ".env.production",
            ".env.bak.1",
            ".env.example.local",
            "server.pem",
            "id.key",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        assert!(!looks_secret("debug.log"));
        for name in [".envrc", ".env.dist", ".env.defaults"] {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn clutter_is_known_by_its_shape_and_ordinary_files_are_left_alone() {
        let detector = RootClutter::new(&[], &[]);
        for (name, kind) in [
            ("debug.log", "a log"),
            ("server.log.1", "a log"),
            ("npm-debug.log.123", "a log"),
            ("main.rs.orig", "a temporary or backup file"),
            ("notes.txt~", "a temporary or backup file"),
            ("report copy.pdf", "a temporary or backup file"),
            (".DS_Store", "an editor or system leftover"),
            ("Thumbs.db", "an editor or system leftover"),
            ("scratch.py", "a scratch file"),
            ("Untitled-1.ipynb", "a scratch file"),
            ("core.1234", "a dump"),
            ("heap.hprof", "a dump"),
            ("release.tar.gz", "a stray archive"),
            ("site.zip", "a stray archive"),
        ] {
            assert_eq!(detector.shape(name), Some(kind), "{name}");
        }
        for name in [
            "vite.config.ts",
            "vitest.config.e2e.ts",
            "pytest.ini",
            "mypy.ini",
            ".eslintrc.cjs",
            "index.html",
            "Dockerfile.frontend",
            ".gitleaks.toml",
            "triagebot.toml",
            ".git-blame-ignore-revs",
            "CITATION.cff",
            "rust-version",
            "pnpm-workspace.yaml",
            "Makefile",
            "core.py",
            "foo",
        ] {
            assert_eq!(detector.shape(name), None, "{name}");
        }
    }

    #[test]
    fn env_templates_are_in_the_default_allowlist() {
        for name in ENV_TEMPLATES {
            assert!(
                waypost_schemas::config::DEFAULT_ROOT_ALLOWLIST.contains(&name),
                "{name}"
            );
        }
    }
}
