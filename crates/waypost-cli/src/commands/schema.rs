//! `waypost schema KIND`

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::Value;
use waypost::schemas::{ArtifactKind, schema};

use crate::Format;
use crate::error::CommandError;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The artifact kind (intention_anchor_v2, gap_report_v1,
    /// plan_proposal_v1, autopilot_session_v1, approval_record_v1; short
    /// forms such as `anchor` or `plan` work too).
    #[arg(value_parser = super::parse_kind, value_name = "KIND")]
    kind: ArtifactKind,
    /// `json`: the published schema, byte for byte. `text`: an outline of
    /// the fields.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

pub(crate) fn run(args: &Args) -> Result<ExitCode, CommandError> {
    let text = schema::embedded(args.kind);
    match args.format {
        Format::Json => out!("{text}"),
        Format::Text => {
            let root: Value = serde_json::from_str(text).context("parse the embedded schema")?;
            out!("{}", outline(args.kind, &root));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per field: its JSON pointer (`*` for array elements), its type,
/// whether it is required, its constraints and the first line of its
/// description.
fn outline(kind: ArtifactKind, root: &Value) -> String {
    let mut out = format!(
        "{} (format_version {})\n",
        kind.name(),
        kind.format_version()
    );
    if let Some(title) = root.get("title").and_then(Value::as_str) {
        let _ = writeln!(out, "{title}");
    }
    out.push('\n');
    let mut rows = Vec::new();
    fields(root, root, "", &mut rows, 0);
    let width = rows.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    for (pointer, summary) in rows {
        let _ = writeln!(out, "{pointer:width$}  {summary}");
    }
    out
}

/// Follows a local `$ref` into `$defs`.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix("#/$defs/")
            .and_then(|name| root.get("$defs")?.get(name))
            .unwrap_or(node),
        None => node,
    }
}

fn fields(
    root: &Value,
    node: &Value,
    prefix: &str,
    rows: &mut Vec<(String, String)>,
    depth: usize,
) {
    // Schemas here are not recursive, but stay bounded whatever is embedded.
    if depth > 12 {
        return;
    }
    let node = resolve(root, node);
    let required: Vec<&str> = node
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = node.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, property) in properties {
        let pointer = format!("{prefix}/{name}");
        // The first paragraph, on one line.
        let description = property
            .get("description")
            .and_then(Value::as_str)
            .and_then(|d| d.split("\n\n").next())
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        let target = resolve(root, property);
        let mut summary = type_of(root, target);
        if required.contains(&name.as_str()) {
            summary.push_str(", required");
        }
        for (key, label) in [
            ("const", "="),
            ("minLength", "min length"),
            ("maxLength", "max length"),
            ("minimum", "min"),
            ("pattern", "pattern"),
            ("format", "format"),
        ] {
            if let Some(value) = target.get(key) {
                if key == "format" && value.as_str().is_some_and(|f| f.starts_with("uint")) {
                    continue;
                }
                let _ = write!(summary, ", {label} {value}");
            }
        }
        if let Some(max) = target
            .get("maximum")
            .filter(|m| m.as_u64() != Some(u64::MAX) && m.as_u64() != Some(u64::from(u32::MAX)))
        {
            let _ = write!(summary, ", max {max}");
        }
        if let Some(options) = target.get("enum").and_then(Value::as_array) {
            let names: Vec<&str> = options.iter().filter_map(Value::as_str).collect();
            let _ = write!(summary, ": {}", names.join(" | "));
        }
        if !description.is_empty() {
            let _ = write!(summary, " — {description}");
        }
        rows.push((pointer.clone(), summary));
        fields(root, target, &pointer, rows, depth + 1);
        if let Some(items) = target.get("items") {
            fields(root, items, &format!("{pointer}/*"), rows, depth + 1);
        }
    }
}

fn type_of(root: &Value, node: &Value) -> String {
    match node.get("type").and_then(Value::as_str) {
        Some("array") => {
            let item = node.get("items").map(|i| resolve(root, i));
            match item.and_then(|i| i.get("type")).and_then(Value::as_str) {
                Some(t) => format!("array of {t}"),
                None => "array".to_owned(),
            }
        }
        Some(t) => t.to_owned(),
        None => "any".to_owned(),
    }
}
