//! root_clutter: files at the repository root outside the allowlist.

use waypost_schemas::paths::{PathPattern, PatternSet, RepoPath};
use waypost_schemas::{GapType, RiskLevel};

use crate::detector::{Detector, Finding, ScanContext, ScannedFile};

/// `.env` files that document the variables an environment needs, by
/// convention without their values: allowed at the root (they are in
/// [`DEFAULT_ROOT_ALLOWLIST`](waypost_schemas::config::DEFAULT_ROOT_ALLOWLIST))
/// and never taken for secrets.
pub(crate) const ENV_TEMPLATES: [&str; 3] = [".env.example", ".env.sample", ".env.template"];

/// Whether a root file looks like it holds secrets: `.env` and its variants
/// (`.env.local`, `.env.production`, `.env.bak.1`), except the templates;
/// keys and certificates.
fn looks_secret(name: &str) -> bool {
    (name.starts_with(".env") && !ENV_TEMPLATES.contains(&name))
        || name.ends_with(".pem")
        || name.ends_with(".key")
}

/// Files at the root outside the allowlist.
pub(crate) struct RootClutter {
    allow: PatternSet,
}

impl RootClutter {
    /// Patterns that do not parse are refused when the configuration loads.
    pub(crate) fn new(allowlist: &[String]) -> Self {
        Self {
            allow: allowlist
                .iter()
                .filter_map(|p| PathPattern::new(p).ok())
                .collect(),
        }
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
        "a file at the repository root is not one a project is expected to keep there (logs, scratch scripts, archives, editor files)"
    }
    fn wants(&self, path: &str) -> bool {
        !path.contains('/')
    }
    fn check_file(&self, file: &ScannedFile<'_>, _ctx: &ScanContext<'_>, out: &mut Vec<Finding>) {
        let path = file.path;
        if !RepoPath::new(path).is_ok_and(|p| self.allow.matching(&p).is_some()) {
            let secret = looks_secret(path);
            let risk = if secret {
                RiskLevel::High
            } else {
                RiskLevel::Low
            };
            out.push(
                Finding::of(self, risk, path, format!("{path} clutters the repository root"))
                    .describe(if secret { "A secrets-looking file at the root: it should not be in the repository at all." } else { "Not in the root allowlist: stray logs, scratch files and archives belong elsewhere or nowhere." })
                    .remedy(if secret { "remove it and rotate whatever it holds" } else { "move it under a folder or delete it (configure [scan] root_allowlist if it belongs)" }, secret),
            );
        }
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
