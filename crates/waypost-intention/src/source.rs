//! Reading an authored anchor: TOML (`intention.toml`, or the `[intention]`
//! table of `waypost.toml`) or JSON (the same authored form, or a complete
//! `intention_anchor_v2` artifact).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use waypost_schemas::canonical::sha256_hex;
use waypost_schemas::config::{ConfigError, WaypostToml};
use waypost_schemas::io::{Links, MAX_ARTIFACT_BYTES, ReadError, read_bounded, read_file};
use waypost_schemas::validate::validate;
use waypost_schemas::{ArtifactKind, Clock, FormatV2, IntentionAnchorV2, schema};

/// The pivot sections an authored anchor may contain, as top-level tables.
pub const PIVOT_SECTIONS: [&str; 9] = [
    "north_star",
    "safety_risk",
    "evidence_verification",
    "scope_boundaries",
    "budget_cost",
    "memory_continuity",
    "governance_review",
    "parallelism_isolation",
    "deployment",
];

/// Top-level keys of the authored form besides the pivot sections.
const AUTHORED_KEYS: [&str; 4] = ["project_id", "created_at", "updated_at", "metadata"];

/// How the anchor file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    /// `intention.toml`: the authored form at the top level.
    Toml,
    /// `waypost.toml`: the authored form in its `[intention]` table.
    WaypostToml,
    /// JSON in the authored form.
    Json,
    /// JSON that is already a complete `intention_anchor_v2` artifact.
    Artifact,
}

/// An anchor read from a file, with what it was read from.
#[derive(Clone, Debug)]
pub struct LoadedAnchor {
    /// The anchor.
    pub anchor: IntentionAnchorV2,
    /// The file.
    pub path: PathBuf,
    /// How the file is written.
    pub format: SourceFormat,
}

/// One problem in an authored anchor, located as precisely as the input allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The field, as a dotted path in the authored form (`safety_risk.risk_tolerance`).
    pub field: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(f, "{line}:{}: ", self.column.unwrap_or(1))?;
        }
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// An anchor file could not be loaded. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnchorError {
    /// The file could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Not valid TOML or JSON.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// `waypost.toml` is not a usable configuration file.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `waypost.toml` has no `[intention]` table.
    #[error("{}: no [intention] table; add one, or write the anchor in intention.toml (`waypost anchor init`)", path.display())]
    NoIntentionTable {
        /// The file.
        path: PathBuf,
    },
    /// The content does not make a valid anchor.
    #[error("{}: {} problem{}:\n{}", path.display(), problems.len(), if problems.len() == 1 { "" } else { "s" }, problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

/// Reads the anchor at `path`. The format comes from the file name
/// (`waypost.toml`, `*.toml`, `*.json`). Timestamps the author left out come
/// from `clock`; `raw_input_digest` is the SHA-256 of the file's bytes.
pub fn load_anchor(path: &Path, clock: &Clock) -> Result<LoadedAnchor, AnchorError> {
    let bytes = read_bounded(path, MAX_ARTIFACT_BYTES)?;
    parse_anchor(path, &bytes, clock)
}

/// [`load_anchor`] for a file found in a repository rather than named by a
/// person: a symbolic link there is refused, never followed (it could lead
/// anywhere, and the file's text appears in error messages).
pub fn load_found_anchor(path: &Path, clock: &Clock) -> Result<LoadedAnchor, AnchorError> {
    let bytes = read_file(path, MAX_ARTIFACT_BYTES, Links::Refuse)?;
    parse_anchor(path, &bytes, clock)
}

/// Parses `bytes` as the anchor file `path` (whose name decides the format).
pub(crate) fn parse_anchor(
    path: &Path,
    bytes: &[u8],
    clock: &Clock,
) -> Result<LoadedAnchor, AnchorError> {
    let digest = sha256_hex(bytes);
    let text = String::from_utf8(bytes.to_vec()).map_err(|e| AnchorError::Syntax {
        path: path.to_owned(),
        line: 1,
        column: 1,
        message: format!("not UTF-8 text: {e}"),
    })?;
    let is_json = path.extension().is_some_and(|e| e == "json");
    let is_waypost = path.file_name().is_some_and(|n| n == "waypost.toml");
    let (authored, format) = if is_json {
        let value: Value = serde_json::from_str(&text).map_err(|e| AnchorError::Syntax {
            path: path.to_owned(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        if value.get("format_version").is_some() {
            let anchor =
                validate::<IntentionAnchorV2>(&value).map_err(|e| AnchorError::Invalid {
                    path: path.to_owned(),
                    problems: e
                        .violations()
                        .into_iter()
                        .map(|v| problem_at(&text, &v.pointer, &v.message, false))
                        .collect(),
                })?;
            return Ok(LoadedAnchor {
                anchor,
                path: path.to_owned(),
                format: SourceFormat::Artifact,
            });
        }
        (value, SourceFormat::Json)
    } else {
        let table: toml::Table = if is_waypost {
            // The anchor is waypost.toml's [intention] section, read by the
            // configuration's own type; the other sections are for their
            // readers to check.
            match WaypostToml::parse_intention(path, &text) {
                Ok(table) => table.ok_or_else(|| AnchorError::NoIntentionTable {
                    path: path.to_owned(),
                })?,
                Err(ConfigError::Syntax {
                    path,
                    line,
                    column,
                    message,
                }) => {
                    return Err(AnchorError::Syntax {
                        path,
                        line,
                        column,
                        message,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            toml::from_str(&text).map_err(|e| {
                let (line, column) = e
                    .span()
                    .map_or((1, 1), |span| line_column(&text, span.start));
                AnchorError::Syntax {
                    path: path.to_owned(),
                    line,
                    column,
                    message: e.message().trim().to_owned(),
                }
            })?
        };
        let value = crate::convert::toml_to_json(&toml::Value::Table(table));
        let format = if is_waypost {
            SourceFormat::WaypostToml
        } else {
            SourceFormat::Toml
        };
        (value, format)
    };
    let in_table = format == SourceFormat::WaypostToml;
    // Report unknown keys and every other problem together.
    let (artifact, mut problems) = authored_to_artifact(&authored, &digest, clock);
    let validated = validate::<IntentionAnchorV2>(&artifact);
    if let Err(e) = &validated {
        problems.extend(
            e.violations()
                .into_iter()
                .map(|v| (authored_pointer(&v.pointer), v.message)),
        );
    }
    let anchor = match validated {
        Ok(anchor) if problems.is_empty() => anchor,
        _ => {
            let mut located: Vec<Problem> = problems
                .into_iter()
                .map(|(pointer, message)| problem_at(&text, &pointer, &message, in_table))
                .collect();
            // In the order the author reads the file.
            located.sort_by(|a, b| {
                (a.line.unwrap_or(usize::MAX), &a.field)
                    .cmp(&(b.line.unwrap_or(usize::MAX), &b.field))
            });
            return Err(AnchorError::Invalid {
                path: path.to_owned(),
                problems: located,
            });
        }
    };
    Ok(LoadedAnchor {
        anchor,
        path: path.to_owned(),
        format,
    })
}

/// The artifact JSON for an authored anchor (unknown keys left out), and the
/// unknown keys as (authored pointer, message).
pub(crate) fn authored_to_artifact(
    authored: &Value,
    digest: &str,
    clock: &Clock,
) -> (Value, Vec<(String, String)>) {
    let empty = Map::new();
    let table = authored.as_object().unwrap_or(&empty);
    let mut problems = Vec::new();
    let mut pivots = Map::new();
    let mut artifact = Map::new();
    artifact.insert("format_version".into(), FormatV2::VALUE.into());
    for (key, value) in table {
        if PIVOT_SECTIONS.contains(&key.as_str()) {
            pivots.insert(key.clone(), value.clone());
        } else if AUTHORED_KEYS.contains(&key.as_str()) {
            artifact.insert(key.clone(), value.clone());
        } else {
            problems.push((
                format!("/{key}"),
                format!(
                    "unknown field (expected one of: {}, {})",
                    AUTHORED_KEYS.join(", "),
                    PIVOT_SECTIONS.join(", ")
                ),
            ));
        }
    }
    artifact
        .entry("created_at")
        .or_insert_with(|| clock.now().to_string().into());
    artifact.insert("raw_input_digest".into(), digest.into());
    artifact.insert("pivot_intentions".into(), Value::Object(pivots));
    let mut artifact = Value::Object(artifact);
    // Keys the schema does not know are typos in authored input, not
    // extensions: refuse them instead of keeping them as extra fields.
    let root: Value = serde_json::from_str(schema::embedded(ArtifactKind::IntentionAnchorV2))
        .expect("the embedded anchor schema is JSON");
    let mut unknown = Vec::new();
    unknown_keys(&root, &root, &artifact, "", &mut unknown);
    for (pointer, _) in &unknown {
        if let Some((parent, key)) = pointer.rsplit_once('/')
            && let Some(Value::Object(map)) = artifact.pointer_mut(parent)
        {
            map.remove(&key.replace("~1", "/").replace("~0", "~"));
        }
    }
    problems.extend(unknown.into_iter().map(|(p, m)| (authored_pointer(&p), m)));
    (artifact, problems)
}

/// Walks `value` beside its schema and reports keys no `properties` names.
fn unknown_keys(
    root: &Value,
    schema: &Value,
    value: &Value,
    pointer: &str,
    out: &mut Vec<(String, String)>,
) {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/$defs/")
            .and_then(|name| root.get("$defs")?.get(name))
            .unwrap_or(schema),
        None => schema,
    };
    match value {
        Value::Object(map) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            for (key, child) in map {
                let child_pointer =
                    format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                match properties.get(key) {
                    Some(child_schema) => {
                        unknown_keys(root, child_schema, child, &child_pointer, out)
                    }
                    None => out.push((
                        child_pointer,
                        format!(
                            "unknown field (expected one of: {})",
                            properties.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    )),
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    unknown_keys(root, item_schema, item, &format!("{pointer}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

/// An artifact pointer as the author wrote it: the pivot sections sit at the
/// top level of the authored form.
fn authored_pointer(pointer: &str) -> String {
    pointer
        .strip_prefix("/pivot_intentions")
        .unwrap_or(pointer)
        .to_owned()
}

/// A problem at an authored pointer, located in `text` where possible.
fn problem_at(text: &str, pointer: &str, message: &str, in_intention_table: bool) -> Problem {
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let field = segments
        .iter()
        .map(|s| {
            if s.parse::<usize>().is_ok() {
                format!("[{s}]")
            } else {
                s.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
        .replace(".[", "[");
    let mut keys: Vec<&str> = Vec::new();
    if in_intention_table {
        keys.push("intention");
    }
    keys.extend(
        segments
            .iter()
            .map(String::as_str)
            .filter(|s| s.parse::<usize>().is_err()),
    );
    let (line, column) = match locate(text, &keys) {
        Some((l, c)) => (Some(l), Some(c)),
        None => (None, None),
    };
    Problem {
        field,
        line,
        column,
        message: message.to_owned(),
    }
}

/// Best-effort position of a key path in TOML or JSON text: each key is
/// looked for after the previous one, as a table header, a `key =` line or a
/// `"key":` member. Returns the position of the deepest key found.
fn locate(text: &str, keys: &[&str]) -> Option<(usize, usize)> {
    let mut from = 0;
    let mut found = None;
    for key in keys {
        let candidates = [
            format!("\"{key}\""),
            format!("{key} ="),
            format!("{key}="),
            format!(".{key}]"),
            format!("[{key}]"),
            format!("[{key}."),
            format!(".{key}."),
        ];
        let hit = candidates
            .iter()
            .filter_map(|c| text[from..].find(c.as_str()).map(|i| from + i))
            .min();
        let Some(at) = hit else { break };
        found = Some(line_column(text, at));
        from = at + key.len();
    }
    found
}

/// 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, column)
}

/// The anchor in the authored TOML form (what `intention.toml` holds), so it
/// can be saved and loaded again. A header comment gives the anchor id and
/// names the fields no human wrote.
pub fn to_authored_toml(anchor: &IntentionAnchorV2) -> String {
    let mut table = toml::Table::new();
    table.insert(
        "project_id".into(),
        toml::Value::String(anchor.project_id.clone()),
    );
    table.insert(
        "created_at".into(),
        toml::Value::String(anchor.created_at.to_string()),
    );
    if let Some(updated) = &anchor.updated_at {
        table.insert(
            "updated_at".into(),
            toml::Value::String(updated.to_string()),
        );
    }
    if let Some(metadata) = &anchor.metadata {
        let value = serde_json::to_value(metadata).expect("metadata serializes");
        if let Some(v) = crate::convert::json_to_toml(&value) {
            table.insert("metadata".into(), v);
        }
    }
    let pivots = serde_json::to_value(&anchor.pivot_intentions).expect("pivots serialize");
    if let Some(toml::Value::Table(sections)) = crate::convert::json_to_toml(&pivots) {
        table.extend(sections);
    }
    let mut out = format!("# anchor_id: {}\n", anchor.anchor_id());
    for (field, provenance) in &anchor.provenance {
        let origin = match provenance.origin {
            waypost_schemas::ProvenanceOrigin::Inferred => "inferred",
            waypost_schemas::ProvenanceOrigin::Default => "built-in default",
        };
        let from = if provenance.sources.is_empty() {
            String::new()
        } else {
            format!(" from {}", provenance.sources.join(", "))
        };
        out.push_str(&format!(
            "# {}: {origin}{from}\n",
            authored_pointer(field)
                .trim_start_matches('/')
                .replace('/', ".")
        ));
    }
    out.push('\n');
    out.push_str(&toml::to_string_pretty(&table).expect("a TOML table serializes"));
    out
}
