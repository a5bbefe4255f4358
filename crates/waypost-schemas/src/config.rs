//! `waypost.toml`: the one configuration file, read once into one typed
//! value, [`WaypostToml`], with a section per part of waypost.
//!
//! Every section refuses keys it does not know, takes its defaults from one
//! place (its `Default`), and checks its values while it is read, so an
//! error always names the file, the line and column, and the dotted key
//! (`[scan] generated[0].inputs`), with "did you mean" for a misspelt key.
//!
//! Adding a section: a struct with `#[serde(default, deny_unknown_fields)]`
//! and a `Default`, and one field here.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::io::{Links, MAX_CONFIG_BYTES, ReadError, read_text};
use crate::paths::{PatternSet, RepoPath};

/// The configuration file's name, at the repository root.
pub const FILE_NAME: &str = "waypost.toml";

/// The largest `max_file_bytes` a configuration may set: 256 MiB.
pub const MAX_READ_CAP: u64 = 256 * 1024 * 1024;

/// Everything `waypost.toml` says.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WaypostToml {
    /// `[intention]`: the anchor in its authored form. Its fields are those
    /// of the anchor, which `waypost-intention` checks against the anchor's
    /// schema and reports at their lines; here it is kept as written.
    pub intention: Option<toml::Table>,
    /// `[scan]`: what the gap scanner checks and with which limits.
    #[serde(deserialize_with = "table")]
    pub scan: ScanConfig,
    /// `[output]`: how artifacts are written.
    #[serde(deserialize_with = "table")]
    pub output: OutputConfig,
    /// `[runs]`: parallel runs (worktrees, leases, ports, copied files).
    #[serde(deserialize_with = "table")]
    pub runs: RunsConfig,
    /// `[autopilot]`: whether `waypost run` executes approved actions.
    #[serde(deserialize_with = "table")]
    pub autopilot: AutopilotConfig,
    /// `[store]`: where coordination state (claims, leases, slots, the
    /// queue, ledger appends) lives.
    #[serde(deserialize_with = "table")]
    pub store: StoreConfig,
}

/// The `[store]` section: files on this machine (the default), or a shared
/// PostgreSQL database for runs on several machines.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `postgres://USER@HOST:PORT/DATABASE`: keep coordination state in
    /// that database. Absent: in files under the repository. The
    /// `WAYPOST_STORE_URL` environment variable, read by the command-line
    /// tool, takes precedence.
    #[serde(deserialize_with = "store_url")]
    pub url: Option<String>,
    /// The database schema that holds waypost's tables.
    #[serde(deserialize_with = "store_identifier")]
    pub schema: String,
    /// The part of the store this repository's claims, queue and ledgers
    /// use, so one database can serve several repositories.
    #[serde(deserialize_with = "non_empty_string")]
    pub namespace: String,
    /// How long one operation keeps reconnecting to an unreachable
    /// database (with a doubling pause) before it fails, in seconds.
    #[serde(deserialize_with = "positive_seconds")]
    pub retry_seconds: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: None,
            schema: "waypost".to_owned(),
            namespace: "default".to_owned(),
            retry_seconds: 30,
        }
    }
}

impl StoreConfig {
    /// The `[store]` section of `root/waypost.toml`, or the defaults.
    pub fn load(root: &Path) -> Result<Self, ConfigError> {
        WaypostToml::load(root).map(|file| file.store)
    }
}

/// Whether `url` names a PostgreSQL store (`postgres://` or
/// `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn store_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let url = String::deserialize(d)?;
    if is_postgres_url(&url) {
        Ok(Some(url))
    } else {
        Err(de::Error::custom(
            "expected a PostgreSQL URL, `postgres://USER@HOST:PORT/DATABASE` (leave `url` out to keep the store in files)",
        ))
    }
}

fn store_identifier<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let name = String::deserialize(d)?;
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63;
    if ok {
        Ok(name)
    } else {
        Err(de::Error::custom(format!(
            "`{name}` is not a schema name (1 to 63 lowercase letters, digits and `_`, starting with a letter or `_`)"
        )))
    }
}

/// The `[autopilot]` section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutopilotConfig {
    /// `enabled = true`: `waypost run` executes the actions that are
    /// auto-approved or carry a valid approval. Off by default: the loop
    /// stops after proposing and says so.
    pub enabled: bool,
}

impl AutopilotConfig {
    /// The `[autopilot]` section of `root/waypost.toml`, or the defaults.
    pub fn load(root: &Path) -> Result<Self, ConfigError> {
        WaypostToml::load(root).map(|file| file.autopilot)
    }
}

/// The `[runs]` section: how parallel runs are set up.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunsConfig {
    /// What a run's branch name starts with; the run id follows
    /// (`waypost/<run_id>`).
    #[serde(deserialize_with = "branch_prefix")]
    pub branch_prefix: String,
    /// How long a workspace lease lasts without a heartbeat, in seconds.
    #[serde(deserialize_with = "positive_seconds")]
    pub lease_seconds: u64,
    /// The TCP ports runs lease from, `"FIRST-LAST"` (inclusive).
    #[serde(deserialize_with = "port_range")]
    pub port_range: (u16, u16),
    /// The named ports every run leases (`["web", "db"]`): each run gets
    /// its own port per name, free on the host when handed out.
    pub ports: Vec<String>,
    /// Untracked files (`.env`-style) copied from the repository root into
    /// each fresh worktree, repository-relative.
    #[serde(deserialize_with = "plain_repo_paths")]
    pub copy_files: Vec<String>,
}

impl Default for RunsConfig {
    fn default() -> Self {
        Self {
            branch_prefix: "waypost/".to_owned(),
            lease_seconds: 60,
            port_range: (41000, 41999),
            ports: Vec::new(),
            copy_files: Vec::new(),
        }
    }
}

impl RunsConfig {
    /// The `[runs]` section of `root/waypost.toml`, or the defaults.
    pub fn load(root: &Path) -> Result<Self, ConfigError> {
        WaypostToml::load(root).map(|file| file.runs)
    }
}

/// The `[output]` section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// `compat = "autopack"`: anchors, gap reports, plans and autopilot
    /// sessions are written and printed in the Autopack profile (only the
    /// fields Autopack's published schemas name, the rest in a
    /// `<name>.waypost.json` sidecar); `"waypost"` (the default): every
    /// field.
    pub compat: crate::compat::Profile,
}

impl OutputConfig {
    /// The `[output]` section of `root/waypost.toml`, or the defaults.
    pub fn load(root: &Path) -> Result<Self, ConfigError> {
        WaypostToml::load(root).map(|file| file.output)
    }
}

/// Scanner settings: the `[scan]` section, plus what a run adds
/// (the anchor's protected paths, a commit range).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScanConfig {
    /// Files larger than this are not read (noted, not scanned for content).
    #[serde(deserialize_with = "read_cap")]
    pub max_file_bytes: u64,
    /// Files at the repository root that are expected (globs), kept even
    /// when their names look like clutter; what the file lists is added to
    /// [`DEFAULT_ROOT_ALLOWLIST`].
    #[serde(deserialize_with = "added_to_default_root_allowlist")]
    pub root_allowlist: Vec<String>,
    /// Files at the repository root that are clutter whatever their names
    /// look like (globs), unless the allowlist keeps them.
    #[serde(deserialize_with = "patterns")]
    pub root_denylist: Vec<String>,
    /// A single file over this size is a memory-budget gap.
    #[serde(deserialize_with = "positive_bytes")]
    pub file_budget_bytes: u64,
    /// Detector ids to leave out.
    pub disabled: Vec<String>,
    /// The anchor's protected paths (globs or plain paths); set from the
    /// anchor, never from the file.
    #[serde(skip)]
    pub protected_paths: Vec<String>,
    /// A `*.lock` file older than this many seconds is stale.
    pub lock_age_seconds: u64,
    /// A commit range (`BASE..HEAD`) for the checks over history; set by
    /// the caller, never from the file.
    #[serde(skip)]
    pub range: Option<String>,
    /// A run directory larger than this is a memory-budget gap.
    pub run_budget_bytes: u64,
    /// Run logs older than this many days are past retention.
    pub log_retention_days: u64,
    /// Folders whose source files must declare their feature intent.
    pub critical_dirs: Vec<String>,
    /// The declaration those files must contain.
    #[serde(deserialize_with = "non_empty_string")]
    pub intent_marker: String,
    /// Declared generated files (`[[scan.generated]]`), checked for staleness.
    #[serde(deserialize_with = "tables")]
    pub generated: Vec<GeneratedFile>,
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
    "waypost-baseline.json",
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
    // Templates that document the variables a `.env` needs, without values.
    ".env.example",
    ".env.sample",
    ".env.template",
    "*.md",
];

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            max_file_bytes: 4 * 1024 * 1024,
            root_allowlist: default_root_allowlist(),
            root_denylist: Vec::new(),
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

fn default_root_allowlist() -> Vec<String> {
    DEFAULT_ROOT_ALLOWLIST
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

/// One declared generated file: a `[[scan.generated]]` table.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratedFile {
    /// The generated file, repository-relative with `/` separators.
    #[serde(deserialize_with = "plain_repo_path")]
    pub output: String,
    /// Globs (repository-relative) of the files it is generated from.
    #[serde(deserialize_with = "non_empty_globs")]
    pub inputs: Vec<String>,
    /// The command that regenerates it, for the remedy.
    #[serde(default)]
    pub command: Option<String>,
}

impl GeneratedFile {
    /// The inputs as one pattern set (the shared [`PatternSet`] meaning:
    /// `*` stays within a folder, `**` crosses folders); a pattern that does
    /// not parse is an error naming it.
    pub fn input_set(&self) -> Result<PatternSet, String> {
        PatternSet::new(&self.inputs).map_err(|e| e.to_string())
    }
}

/// A section or `[[...]]` entry: a table, never an array read by position
/// (which serde's derived structs would otherwise accept).
fn table<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(TableVisitor(std::marker::PhantomData))
}

/// A list of tables, each read as [`table`] reads one.
fn tables<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Vec::<Table<T>>::deserialize(d)?
        .into_iter()
        .map(|t| t.0)
        .collect())
}

struct Table<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Table<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        table(d).map(Table)
    }
}

struct TableVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> de::Visitor<'de> for TableVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a table")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map))
    }
}

fn read_cap<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = positive_bytes(d)?;
    if n > MAX_READ_CAP {
        // Each walker thread holds one file of this size.
        return Err(de::Error::custom(format!(
            "at most {MAX_READ_CAP} bytes (each scanning thread holds one file of this size)"
        )));
    }
    Ok(n)
}

fn positive_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match u64::deserialize(d) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(de::Error::custom("expected a positive number of bytes")),
    }
}

fn non_empty_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match String::deserialize(d) {
        Ok(s) if !s.is_empty() => Ok(s),
        _ => Err(de::Error::custom("expected a non-empty string")),
    }
}

fn added_to_default_root_allowlist<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<String>, D::Error> {
    let added = Vec::<String>::deserialize(d)?;
    PatternSet::new(&added).map_err(de::Error::custom)?;
    let mut list = default_root_allowlist();
    list.extend(added);
    Ok(list)
}

fn patterns<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    PatternSet::new(&list).map_err(de::Error::custom)?;
    Ok(list)
}

fn plain_repo_path<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let path = match String::deserialize(d) {
        Ok(path) if !path.is_empty() => path,
        _ => return Err(de::Error::custom("expected a path")),
    };
    match RepoPath::new(&path) {
        Err(problem) => Err(de::Error::custom(format!("`{path}` {problem}"))),
        Ok(normal) if normal.as_str() != path => Err(de::Error::custom(format!(
            "`{path}` must be written as the plain repository path `{normal}`"
        ))),
        Ok(_) => Ok(path),
    }
}

fn plain_repo_paths<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    struct Plain(#[serde(deserialize_with = "plain_repo_path")] String);
    let paths: Vec<Plain> = Vec::deserialize(d)?;
    Ok(paths.into_iter().map(|p| p.0).collect())
}

fn positive_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match u64::deserialize(d) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(de::Error::custom("expected a positive number of seconds")),
    }
}

fn branch_prefix<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let prefix = String::deserialize(d)?;
    let ok = !prefix.is_empty()
        && prefix.ends_with('/')
        && !prefix.starts_with('/')
        && !prefix.contains("..")
        && !prefix.contains("//")
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    if ok {
        Ok(prefix)
    } else {
        Err(de::Error::custom(format!(
            "`{prefix}` is not a branch prefix (use letters, digits, `-`, `_`, `.` and `/`, ending with `/`, e.g. \"waypost/\")"
        )))
    }
}

fn port_range<'de, D: Deserializer<'de>>(d: D) -> Result<(u16, u16), D::Error> {
    let text = String::deserialize(d)?;
    let parsed = text.split_once('-').and_then(|(a, b)| {
        let first: u16 = a.trim().parse().ok()?;
        let last: u16 = b.trim().parse().ok()?;
        (first >= 1024 && first <= last).then_some((first, last))
    });
    parsed.ok_or_else(|| {
        de::Error::custom(format!(
            "`{text}` is not a port range (expected \"FIRST-LAST\" with 1024 <= FIRST <= LAST <= 65535)"
        ))
    })
}

fn non_empty_globs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    // A wrong element is reported at its own index, by serde.
    let list = Vec::<String>::deserialize(d)?;
    if list.is_empty() {
        return Err(de::Error::custom("expected a non-empty list of globs"));
    }
    PatternSet::new(&list).map_err(de::Error::custom)?;
    Ok(list)
}

/// `waypost.toml` is not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not valid TOML.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// The file exists but cannot be read safely (not a regular file, a
    /// symbolic link, too large, not UTF-8).
    #[error(transparent)]
    Read(ReadError),
    /// A key with the wrong kind of value, a value out of range, a missing
    /// key or an unknown one.
    #[error("{}:{line}:{column}: {}{message}", path.display(), key_label(.key))]
    Field {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// The dotted key, section first (`scan.generated[0].inputs`).
        key: String,
        /// What is wrong, and for an unknown key what was probably meant.
        message: String,
    },
}

/// `[scan] generated[0].inputs: ` for `scan.generated[0].inputs`, the way
/// people find it in the file: the section in brackets, then the key.
fn key_label(key: &str) -> String {
    if key.is_empty() {
        return String::new();
    }
    // The section ends at the first `.` or `[` outside a quoted key.
    let mut quoted = false;
    let mut escaped = false;
    let mut end = key.len();
    for (i, c) in key.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '.' | '[' if !quoted => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let (section, rest) = (&key[..end], key[end..].trim_start_matches('.'));
    if rest.is_empty() {
        format!("[{section}]: ")
    } else {
        format!("[{section}] {rest}: ")
    }
}

impl WaypostToml {
    /// Reads `root/waypost.toml`; the defaults when there is none.
    pub fn load(root: &Path) -> Result<Self, ConfigError> {
        let path = root.join(FILE_NAME);
        // Never blocks, never follows a link, never reads past the cap.
        match read_text(&path, MAX_CONFIG_BYTES, Links::Refuse) {
            Ok(text) => Self::parse(&path, &text),
            Err(ReadError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(Self::default())
            }
            Err(e) => Err(ConfigError::Read(e)),
        }
    }

    /// Parses `text` as the configuration file `path` (named in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        Self::read(path, text)
    }

    /// Reads `text` as a `T`, errors located in the file `path`.
    fn read<T: for<'de> Deserialize<'de>>(path: &Path, text: &str) -> Result<T, ConfigError> {
        let deserializer = toml::Deserializer::parse(text).map_err(|e| {
            let (line, column) = position(text, e.span());
            ConfigError::Syntax {
                path: path.to_owned(),
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        })?;
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            let segments: Vec<String> = e
                .path()
                .iter()
                .filter_map(|segment| match segment {
                    serde_path_to_error::Segment::Map { key } => Some(key_text(key)),
                    serde_path_to_error::Segment::Seq { index } => Some(format!("[{index}]")),
                    _ => None,
                })
                .collect();
            let inner = e.into_inner();
            let (line, column) = position(text, inner.span());
            let (key, message) = explain(segments, inner.message());
            ConfigError::Field {
                path: path.to_owned(),
                line,
                column,
                key,
                message,
            }
        })
    }
}

/// The `[intention]` section alone, for readers of the anchor: the other
/// sections are checked by their own readers, so a mistake in `[scan]`
/// does not stop the anchor from loading.
#[derive(Deserialize)]
struct IntentionOnly {
    #[serde(default)]
    intention: Option<toml::Table>,
}

impl WaypostToml {
    /// The `[intention]` table of the configuration file `path` holding
    /// `text`, without reading the other sections (see [`WaypostToml::parse`]
    /// for the whole file).
    pub fn parse_intention(path: &Path, text: &str) -> Result<Option<toml::Table>, ConfigError> {
        let file: IntentionOnly = Self::read(path, text)?;
        Ok(file.intention)
    }
}

impl ScanConfig {
    /// The `[scan]` section of `root/waypost.toml`, or the defaults.
    pub fn load(root: &Path) -> Result<Self, ConfigError> {
        WaypostToml::load(root).map(|file| file.scan)
    }
}

/// A key as it is written in the dotted form: bare when it is a plain
/// word, quoted otherwise (`"a.b"`, `""`).
fn key_text(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

/// The dotted form of `segments`: `scan.generated[0].inputs`.
fn dotted(segments: &[String]) -> String {
    let mut out = String::new();
    for segment in segments {
        if !out.is_empty() && !segment.starts_with('[') {
            out.push('.');
        }
        out.push_str(segment);
    }
    out
}

/// Serde's messages, reworded around the key: a missing or unknown key is
/// named in the dotted key (with "did you mean" when one known key is
/// close), a wrong type says what was expected first.
fn explain(mut segments: Vec<String>, message: &str) -> (String, String) {
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        segments.push(key_text(name));
        return (dotted(&segments), "missing".to_owned());
    }
    if let Some((name, _)) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
    {
        let expected = expected_names(message);
        let mut text = format!("unknown key (expected {})", expected.join(", "));
        if let Some(close) = nearest_name(name, expected.iter().copied()) {
            text.push_str(&format!("; did you mean `{close}`?"));
        }
        // The path may or may not already end at the unknown key.
        if segments.last() != Some(&key_text(name)) {
            segments.push(key_text(name));
        }
        return (dotted(&segments), text);
    }
    if let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.rsplit_once(", expected "))
    {
        return (
            dotted(&segments),
            format!("expected {expected}, found {found}"),
        );
    }
    (dotted(&segments), message.trim().to_owned())
}

/// The names serde lists after "expected" in an unknown-field message.
fn expected_names(message: &str) -> Vec<&str> {
    let Some((_, list)) = message.rsplit_once(", expected ") else {
        return Vec::new();
    };
    list.split('`').skip(1).step_by(2).collect()
}

/// The name among `known` nearest to `given`, when it is near enough to be
/// a typo: at most one edit (insert, delete, substitute, swap of neighbours)
/// per three characters of `given`. Every "did you mean" uses this.
pub fn nearest_name<'n>(given: &str, known: impl IntoIterator<Item = &'n str>) -> Option<&'n str> {
    let limit = given.chars().count() / 3;
    known
        .into_iter()
        .map(|k| (strsim::osa_distance(given, k), k))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

/// 1-based line and column (in characters) of a byte span's start.
fn position(text: &str, span: Option<std::ops::Range<usize>>) -> (usize, usize) {
    let Some(span) = span else { return (1, 1) };
    let at = span.start.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    // A byte-order mark is not a column.
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |l| l.trim_start_matches('\u{feff}').chars().count())
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WaypostToml, String> {
        WaypostToml::parse(Path::new("waypost.toml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn the_store_section_names_a_postgres_database() {
        let file = parse(
            "[store]\nurl = \"postgres://waypost@db:5432/wp\"\nschema = \"wp_1\"\nnamespace = \"repo-a\"\n",
        )
        .expect("a store section");
        assert_eq!(
            file.store.url.as_deref(),
            Some("postgres://waypost@db:5432/wp")
        );
        assert_eq!(
            (file.store.schema.as_str(), file.store.namespace.as_str()),
            ("wp_1", "repo-a")
        );
        let defaults = parse("").expect("empty").store;
        assert_eq!(defaults, StoreConfig::default());
        assert_eq!(defaults.url, None, "files unless a URL is given");
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(parse("").expect("empty"), WaypostToml::default());
        assert_eq!(
            parse("[scan]\n").expect("empty section").scan,
            ScanConfig::default()
        );
    }

    #[test]
    fn sections_are_typed_and_root_allowlist_adds_to_the_defaults() {
        let file = parse(
            "[intention]\nproject_id = \"demo\"\n\n[scan]\nmax_file_bytes = 1000\nroot_allowlist = [\"notes.txt\"]\ndisabled = [\"x\"]\n",
        )
        .expect("valid");
        assert_eq!(
            file.intention.as_ref().and_then(|t| t.get("project_id")),
            Some(&toml::Value::String("demo".into()))
        );
        assert_eq!(file.scan.max_file_bytes, 1000);
        assert_eq!(file.scan.disabled, ["x"]);
        assert_eq!(
            file.scan.root_allowlist.len(),
            DEFAULT_ROOT_ALLOWLIST.len() + 1
        );
        assert_eq!(
            file.scan.root_allowlist.last().map(String::as_str),
            Some("notes.txt")
        );
        // Untouched keys keep their defaults.
        assert_eq!(
            file.scan.lock_age_seconds,
            ScanConfig::default().lock_age_seconds
        );
    }

    #[test]
    fn the_runs_section_is_read_and_checked() {
        let runs = parse(
            "[runs]\nbranch_prefix = \"agents/\"\nlease_seconds = 30\nport_range = \"42000-42009\"\nports = [\"web\"]\ncopy_files = [\".env\", \"config/local.toml\"]\n",
        )
        .expect("valid")
        .runs;
        assert_eq!(runs.branch_prefix, "agents/");
        assert_eq!(runs.lease_seconds, 30);
        assert_eq!(runs.port_range, (42000, 42009));
        assert_eq!(runs.ports, vec!["web".to_owned()]);
        assert_eq!(runs.copy_files.len(), 2);
        assert_eq!(parse("").expect("empty").runs, RunsConfig::default());
        for (text, expected) in [
            (
                "[runs]\nport_range = \"80-90\"\n",
                "[runs] port_range: `80-90` is not a port range",
            ),
            (
                "[runs]\nport_range = \"5000-4000\"\n",
                "is not a port range",
            ),
            ("[runs]\nport_range = \"5000\"\n", "is not a port range"),
            (
                "[runs]\nbranch_prefix = \"waypost\"\n",
                "[runs] branch_prefix: `waypost` is not a branch prefix",
            ),
            (
                "[runs]\nbranch_prefix = \"../x/\"\n",
                "is not a branch prefix",
            ),
            (
                "[runs]\nlease_seconds = 0\n",
                "[runs] lease_seconds: expected a positive number of seconds",
            ),
            (
                "[runs]\ncopy_files = [\"../secrets.env\"]\n",
                "[runs] copy_files[0]",
            ),
            (
                "[runs]\ncopy_files = [\"/etc/passwd\"]\n",
                "[runs] copy_files[0]",
            ),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn errors_name_the_file_position_and_dotted_key() {
        for (text, expected) in [
            (
                "[scan]\nmax_file_byte = 10\n",
                "waypost.toml:2:1: [scan] max_file_byte: unknown key (expected max_file_bytes,",
            ),
            (
                "[scan]\nmax_file_byte = 10\n",
                "did you mean `max_file_bytes`?",
            ),
            (
                "[scna]\n",
                "waypost.toml:1:2: [scna]: unknown key (expected intention, scan, output, runs, autopilot, store); did you mean `scan`?",
            ),
            (
                "[scan]\nmax_file_bytes = 0\n",
                "waypost.toml:2:18: [scan] max_file_bytes: expected a positive number of bytes",
            ),
            (
                "[scan]\nmax_file_bytes = 999999999999\n",
                "[scan] max_file_bytes: at most 268435456 bytes",
            ),
            (
                "[scan]\ndisabled = \"x\"\n",
                "waypost.toml:2:12: [scan] disabled: expected a sequence, found string \"x\"",
            ),
            (
                "[scan]\nlock_age_seconds = -1\n",
                "[scan] lock_age_seconds: ",
            ),
            (
                "[scan]\nintent_marker = \"\"\n",
                "[scan] intent_marker: expected a non-empty string",
            ),
            (
                "[scan]\nroot_allowlist = [\"a/[\"]\n",
                "[scan] root_allowlist: `a/[`",
            ),
            (
                "[scan]\nroot_denylist = [\"a/[\"]\n",
                "[scan] root_denylist: `a/[`",
            ),
            ("[scan\n", "waypost.toml:1:"),
            (
                "[store]\nurl = \"mysql://db/wp\"\n",
                "waypost.toml:2:7: [store] url: expected a PostgreSQL URL",
            ),
            (
                "[store]\nschema = \"Bad-Name\"\n",
                "[store] schema: `Bad-Name` is not a schema name",
            ),
            (
                "[store]\nnamespace = \"\"\n",
                "[store] namespace: expected a non-empty string",
            ),
            ("[store]\nuri = \"postgres://db\"\n", "did you mean `url`?"),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn sections_and_generated_entries_must_be_tables() {
        for (text, expected) in [
            ("scan = []\n", "[scan]: expected a table, found"),
            ("scan = [1000]\n", "[scan]: expected a table, found"),
            (
                "[[scan]]\nmax_file_bytes = 10\n",
                "[scan]: expected a table, found",
            ),
            (
                "[scan]\ngenerated = [[\"docs/api.md\", [\"src/**\"]]]\n",
                "[scan] generated[0]: expected a table, found",
            ),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn odd_keys_are_quoted_once_and_messages_are_not_read_from_values() {
        for (text, expected) in [
            ("[scan]\n\"a.b\" = 1\n", "[scan] \"a.b\": unknown key"),
            ("[scan]\n\"\" = 1\n", "[scan] \"\": unknown key"),
            ("\"a.b\" = 1\n", "[\"a.b\"]: unknown key"),
            (
                "[scan]\nintent_marker = 5\n",
                "[scan] intent_marker: expected a non-empty string",
            ),
            (
                "[scan]\ndisabled = \"missing field `x`, expected y\"\n",
                "[scan] disabled: expected a sequence",
            ),
            (
                "[[scan.generated]]\noutput = \"a.md\"\ninputs = [\"src/**\", 3]\n",
                "[scan] generated[0].inputs[1]: expected a string, found integer `3`",
            ),
            ("\u{feff}[scna]\n", "waypost.toml:1:2: [scna]"),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn the_intention_section_is_read_without_the_others() {
        let path = Path::new("waypost.toml");
        let text =
            "[intention]\nproject_id = \"demo\"\n\n[scan]\nmax_file_byte = 1\n\n[later]\nx = 1\n";
        let table = WaypostToml::parse_intention(path, text)
            .expect("a [scan] mistake does not stop the anchor")
            .expect("has [intention]");
        assert_eq!(
            table.get("project_id"),
            Some(&toml::Value::String("demo".into()))
        );
        assert!(WaypostToml::parse(path, text).is_err());
        assert!(WaypostToml::parse_intention(path, "intention = 5\n").is_err());
    }

    #[test]
    fn a_close_misspelling_is_suggested_and_a_far_one_is_not() {
        assert_eq!(nearest_name("scna", ["intention", "scan"]), Some("scan"));
        assert_eq!(
            nearest_name("intension", ["intention", "scan"]),
            Some("intention")
        );
        assert_eq!(nearest_name("widgets", ["intention", "scan"]), None);
        assert_eq!(nearest_name("", ["intention", "scan"]), None);
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        assert_eq!(position("é = 1\nab", Some(8..9)), (2, 2));
        assert_eq!(position("é = 1\nab", Some(2..3)), (1, 2));
        assert_eq!(position("ab", None), (1, 1));
    }
}
