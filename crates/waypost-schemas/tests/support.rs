//! Shared helpers: the fixture tree and its manifest.

use std::path::PathBuf;

use serde_json::Value;

/// `fixtures/artifacts/` of this repository.
pub(crate) fn fixtures_dir() -> PathBuf {
    waypost_test_support::fixtures_dir().join("artifacts")
}

/// One manifest entry.
pub(crate) struct Entry {
    pub(crate) file: String,
    pub(crate) kind: String,
    pub(crate) valid: bool,
    pub(crate) error: Option<String>,
    pub(crate) pointer: Option<String>,
}

pub(crate) fn manifest() -> Vec<Entry> {
    let text = std::fs::read_to_string(fixtures_dir().join("manifest.json")).expect("manifest");
    let value: Value = serde_json::from_str(&text).expect("manifest is JSON");
    let text_of = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
    value["fixtures"]
        .as_array()
        .expect("fixtures list")
        .iter()
        .map(|e| Entry {
            file: text_of(e, "file").expect("file"),
            kind: text_of(e, "kind").expect("kind"),
            valid: e["valid"].as_bool().expect("valid flag"),
            error: text_of(e, "error"),
            pointer: text_of(e, "pointer"),
        })
        .collect()
}

/// The JSON of every valid fixture, with its file name.
pub(crate) fn valid_values() -> Vec<(String, Value)> {
    manifest()
        .into_iter()
        .filter(|e| e.valid)
        .map(|e| {
            let text = std::fs::read_to_string(fixtures_dir().join(&e.file)).expect("fixture");
            (
                e.file,
                serde_json::from_str(&text).expect("valid fixtures are JSON"),
            )
        })
        .collect()
}
