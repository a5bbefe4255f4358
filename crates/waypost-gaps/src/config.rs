//! What the scanner checks and with which limits (the `[scan]` section of
//! `waypost.toml`; defaults here).

/// Scanner settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanConfig {
    /// Files larger than this are not read (noted, not scanned for content).
    pub max_file_bytes: u64,
    /// Files at the repository root that are expected (globs).
    pub root_allowlist: Vec<String>,
    /// A single file over this size is a memory-budget gap.
    pub file_budget_bytes: u64,
    /// Detector ids to leave out.
    pub disabled: Vec<String>,
}

/// Root files every kind of project is expected to have.
pub const DEFAULT_ROOT_ALLOWLIST: &[&str] = &[
    "README*",
    "LICENSE*",
    "LICENCE*",
    "COPYING*",
    "NOTICE*",
    "AUTHORS*",
    "CHANGELOG*",
    "CHANGES*",
    "CONTRIBUTING*",
    "CODE_OF_CONDUCT*",
    "SECURITY*",
    "CODEOWNERS",
    "Cargo.toml",
    "Cargo.lock",
    "rust-toolchain*",
    "clippy.toml",
    ".clippy.toml",
    "rustfmt.toml",
    ".rustfmt.toml",
    "deny.toml",
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "tsconfig*.json",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "requirements*.txt",
    "poetry.lock",
    "uv.lock",
    "go.mod",
    "go.sum",
    "Makefile",
    "Dockerfile",
    "docker-compose*.yml",
    "Justfile",
    "justfile",
    "intention.toml",
    "waypost.toml",
    ".gitignore",
    ".gitattributes",
    ".gitmodules",
    ".editorconfig",
    ".dockerignore",
    ".npmrc",
    ".nvmrc",
    ".python-version",
    ".tool-versions",
    ".pre-commit-config.yaml",
    "*.md",
];

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            max_file_bytes: 4 * 1024 * 1024,
            root_allowlist: DEFAULT_ROOT_ALLOWLIST
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            file_budget_bytes: 10 * 1024 * 1024,
            disabled: Vec::new(),
        }
    }
}
