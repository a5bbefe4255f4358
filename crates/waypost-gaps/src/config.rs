//! What the scanner checks and with which limits (the `[scan]` section of
//! `waypost.toml`; defaults here).

use waypost_schemas::io::{Links, MAX_CONFIG_BYTES, ReadError, read_text};

/// The largest `max_file_bytes` a configuration may set: 256 MiB.
pub const MAX_READ_CAP: u64 = 256 * 1024 * 1024;

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
    /// The anchor's protected paths (globs or plain paths).
    pub protected_paths: Vec<String>,
    /// A `*.lock` file older than this many seconds is stale.
    pub lock_age_seconds: u64,
    /// A commit range (`BASE..HEAD`) for the checks over history.
    pub range: Option<String>,
    /// A run directory larger than this is a memory-budget gap.
    pub run_budget_bytes: u64,
    /// Run logs older than this many days are past retention.
    pub log_retention_days: u64,
    /// Folders whose source files must declare their feature intent.
    pub critical_dirs: Vec<String>,
    /// The declaration those files must contain.
    pub intent_marker: String,
    /// Declared generated files, checked for staleness.
    pub generated: Vec<crate::generated::GeneratedFile>,
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
            protected_paths: Vec::new(),
            lock_age_seconds: 3600,
            range: None,
            run_budget_bytes: 512 * 1024 * 1024,
            log_retention_days: 30,
            critical_dirs: Vec::new(),
            intent_marker: "FEATURE_INTENT".to_owned(),
            generated: Vec::new(),
        }
    }
}

/// The `[scan]` section of `waypost.toml` is not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not valid TOML.
    #[error("{}: {message}", path.display())]
    Syntax {
        /// The file.
        path: std::path::PathBuf,
        /// What the parser said.
        message: String,
    },
    /// The file exists but cannot be read safely (not a regular file, a
    /// symbolic link, too large, not UTF-8).
    #[error(transparent)]
    Read(ReadError),
    /// A key with the wrong kind of value, or an unknown key.
    #[error("{}: [scan] {key}: {message}", path.display())]
    Field {
        /// The file.
        path: std::path::PathBuf,
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl ScanConfig {
    /// The defaults, adjusted by the `[scan]` table of `root/waypost.toml` if
    /// there is one: `max_file_bytes`, `file_budget_bytes` (integers),
    /// `root_allowlist` (added to the defaults) and `disabled` (detector ids).
    pub fn load(root: &std::path::Path) -> Result<Self, ConfigError> {
        let path = root.join("waypost.toml");
        let mut config = Self::default();
        // Never blocks, never follows a link, never reads past the cap.
        let text = match read_text(&path, MAX_CONFIG_BYTES, Links::Refuse) {
            Ok(text) => text,
            Err(ReadError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                return Ok(config);
            }
            Err(e) => return Err(ConfigError::Read(e)),
        };
        let table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    path: path.clone(),
                    message: e.message().to_owned(),
                })?;
        let Some(scan) = table.get("scan").and_then(toml::Value::as_table) else {
            return Ok(config);
        };
        let field = |key: &str, message: &str| ConfigError::Field {
            path: path.clone(),
            key: key.to_owned(),
            message: message.to_owned(),
        };
        for (key, value) in scan {
            match key.as_str() {
                "lock_age_seconds" | "log_retention_days" | "run_budget_bytes" => {
                    let n = value
                        .as_integer()
                        .and_then(|n| u64::try_from(n).ok())
                        .ok_or_else(|| field(key, "expected a whole number"))?;
                    match key.as_str() {
                        "lock_age_seconds" => config.lock_age_seconds = n,
                        "log_retention_days" => config.log_retention_days = n,
                        _ => config.run_budget_bytes = n,
                    }
                }
                "intent_marker" => {
                    config.intent_marker = value
                        .as_str()
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| field(key, "expected a non-empty string"))?
                        .to_owned();
                }
                "max_file_bytes" | "file_budget_bytes" => {
                    let n = value
                        .as_integer()
                        .and_then(|n| u64::try_from(n).ok())
                        .filter(|n| *n > 0)
                        .ok_or_else(|| field(key, "expected a positive number of bytes"))?;
                    if key == "max_file_bytes" {
                        // Each walker thread holds one file of this size.
                        if n > MAX_READ_CAP {
                            return Err(field(
                                key,
                                &format!(
                                    "at most {MAX_READ_CAP} bytes (each scanning thread holds one file of this size)"
                                ),
                            ));
                        }
                        config.max_file_bytes = n;
                    } else {
                        config.file_budget_bytes = n;
                    }
                }
                "root_allowlist" | "disabled" | "critical_dirs" => {
                    let list =
                        strings(value).ok_or_else(|| field(key, "expected a list of strings"))?;
                    match key.as_str() {
                        "disabled" => config.disabled = list,
                        "critical_dirs" => config.critical_dirs = list,
                        _ => {
                            waypost_schemas::paths::PatternSet::new(&list)
                                .map_err(|e| field(key, &e.to_string()))?;
                            config.root_allowlist.extend(list);
                        }
                    }
                }
                "generated" => {
                    let tables = value
                        .as_array()
                        .ok_or_else(|| field(key, "expected [[scan.generated]] tables"))?;
                    for (i, table) in tables.iter().enumerate() {
                        config.generated.push(generated_file(table).map_err(
                            |(sub, message)| field(&format!("generated[{i}]{sub}"), &message),
                        )?);
                    }
                }
                _ => {
                    return Err(field(
                        key,
                        "unknown key (expected max_file_bytes, file_budget_bytes, root_allowlist, disabled, lock_age_seconds, run_budget_bytes, log_retention_days, critical_dirs, intent_marker, generated)",
                    ));
                }
            }
        }
        Ok(config)
    }
}

/// One `[[scan.generated]]` table: `output`, `inputs` and an optional
/// `command`. An error names the key (`.inputs`) and what is wrong.
fn generated_file(
    value: &toml::Value,
) -> Result<crate::generated::GeneratedFile, (String, String)> {
    let table = value
        .as_table()
        .ok_or_else(|| (String::new(), "expected a table".to_owned()))?;
    let err = |key: &str, message: &str| (format!(".{key}"), message.to_owned());
    let mut output = None;
    let mut inputs = None;
    let mut command = None;
    for (key, value) in table {
        match key.as_str() {
            "output" => {
                let path = value
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| err(key, "expected a path"))?;
                match waypost_schemas::paths::RepoPath::new(path) {
                    Err(problem) => return Err(err(key, &format!("`{path}` {problem}"))),
                    Ok(normal) if normal.as_str() != path => {
                        return Err(err(
                            key,
                            &format!(
                                "`{path}` must be written as the plain repository path `{normal}`"
                            ),
                        ));
                    }
                    Ok(_) => {}
                }
                output = Some(path.to_owned());
            }
            "inputs" => {
                let list = strings(value)
                    .filter(|l| !l.is_empty())
                    .ok_or_else(|| err(key, "expected a non-empty list of globs"))?;
                inputs = Some(list);
            }
            "command" => {
                command = Some(
                    value
                        .as_str()
                        .ok_or_else(|| err(key, "expected a string"))?
                        .to_owned(),
                );
            }
            _ => return Err(err(key, "unknown key (expected output, inputs, command)")),
        }
    }
    let generated = crate::generated::GeneratedFile {
        output: output.ok_or_else(|| err("output", "missing"))?,
        inputs: inputs.ok_or_else(|| err("inputs", "missing"))?,
        command,
    };
    generated.input_set().map_err(|e| err("inputs", &e))?;
    Ok(generated)
}

/// A TOML array of strings, or None for anything else.
fn strings(value: &toml::Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}
