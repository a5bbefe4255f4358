//! Evidence excerpts and the secret redactor.
//!
//! An [`Excerpt`] is the only way evidence text enters an artifact. Its
//! constructor hashes the full content and keeps only a short, redacted
//! preview; deserializing one redacts the preview again, so an excerpt read
//! from an older or foreign file cannot carry a secret forward either.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canonical::sha256_hex;
use crate::secrets::redact;

/// Longest preview kept in an excerpt, in characters (the published schema's
/// `maxLength`).
pub const PREVIEW_MAX_CHARS: usize = 200;

/// How much of the content the redactor reads before the preview is cut.
/// Far larger than the preview, so a secret that starts inside the preview is
/// seen whole even when it runs past the preview's end.
const REDACT_WINDOW_BYTES: usize = 8 * 1024;

// Invariant: SCHEMA-003 No secret reaches an artifact through an excerpt.
// Category: security
// Why: artifacts are shared (pull-request comments, CI logs, ledgers); a token copied
//      into a preview leaks with them.
// Enforced by: Excerpt's fields are private; Excerpt::new redacts (the gitleaks rule set,
//      waypost's own shapes, the entropy fallback) before it truncates, and deserializing
//      goes through ExcerptFields, which redacts the preview again. Findings' titles,
//      descriptions and named evidence are redacted where they become gaps, and the
//      SARIF, Markdown and text renderers take report text only as Redacted.
/// A pointer to evidence: where it came from, the SHA-256 of the full content
/// and a redacted preview of at most 200 characters.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(from = "ExcerptFields")]
pub struct Excerpt {
    source: String,
    content_hash: String,
    preview: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

/// The wire form of an [`Excerpt`]. Reading one goes through this, and the
/// preview is redacted again on the way in.
#[derive(Deserialize, JsonSchema)]
#[schemars(rename = "Excerpt")]
struct ExcerptFields {
    /// Where the content came from (a repository-relative path, a command).
    source: String,
    /// SHA-256 (lowercase hex) of the full content, before redaction.
    content_hash: String,
    /// Redacted, truncated preview of the content.
    #[schemars(length(max = 200))]
    preview: String,
    /// waypost addition: first line of the content in `source` (1-based).
    #[serde(default)]
    #[schemars(range(min = 1))]
    #[schemars(extend("x-waypost-addition" = true))]
    line: Option<u32>,
}

impl From<ExcerptFields> for Excerpt {
    fn from(fields: ExcerptFields) -> Self {
        Self {
            source: fields.source,
            content_hash: fields.content_hash,
            preview: preview_of(&fields.preview),
            line: fields.line,
        }
    }
}

impl Excerpt {
    /// Builds an excerpt of `content` found at `source`: hashes the content
    /// and keeps a redacted preview.
    pub fn new(source: impl Into<String>, content: &str) -> Self {
        Self {
            source: source.into(),
            content_hash: sha256_hex(content.as_bytes()),
            preview: preview_of(content),
            line: None,
        }
    }

    /// The same excerpt, noting the 1-based line the content starts on.
    #[must_use]
    pub fn at_line(mut self, line: u32) -> Self {
        self.line = Some(line.max(1));
        self
    }

    /// Where the content came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// SHA-256 (lowercase hex) of the full content.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// The redacted preview.
    pub fn preview(&self) -> &str {
        &self.preview
    }

    /// The 1-based line the content starts on, if known.
    pub fn line(&self) -> Option<u32> {
        self.line
    }
}

impl<'a> From<&'a Excerpt> for crate::secrets::Redacted<'a> {
    /// The preview, which was redacted when the excerpt was made or read.
    fn from(excerpt: &'a Excerpt) -> Self {
        crate::secrets::Redacted::already(&excerpt.preview)
    }
}

/// Redacts `content` and cuts it to [`PREVIEW_MAX_CHARS`] characters.
fn preview_of(content: &str) -> String {
    let window = &content[..content.floor_char_boundary(REDACT_WINDOW_BYTES)];
    let redacted = redact(window);
    match redacted.char_indices().nth(PREVIEW_MAX_CHARS) {
        Some((cut, _)) => redacted[..cut].to_owned(),
        None => redacted.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_is_cut_on_a_char_boundary() {
        let content = "é".repeat(500);
        let excerpt = Excerpt::new("a.txt", &content);
        assert_eq!(excerpt.preview().chars().count(), PREVIEW_MAX_CHARS);
        assert_eq!(excerpt.content_hash(), sha256_hex(content.as_bytes()));
    }

    #[test]
    fn a_private_key_cut_by_the_window_is_still_redacted() {
        let content = format!(
            "key:\n-----BEGIN RSA PRIVATE KEY-----\n{}",
            "MIIEowIBAAKCAQEA7".repeat(1000)
        );
        let excerpt = Excerpt::new("id_rsa", &content);
        assert!(
            !excerpt.preview().contains("MIIEow"),
            "{}",
            excerpt.preview()
        );
        assert!(
            excerpt.preview().contains("[REDACTED:"),
            "{}",
            excerpt.preview()
        );
    }

    #[test]
    fn deserializing_redacts_the_preview_again() {
        let json = serde_json::json!({
            "source": "config.env",
            "content_hash": "00",
            "preview": "password=hunter2hunter2"
        });
        let excerpt: Excerpt = serde_json::from_value(json).expect("valid excerpt");
        assert!(
            excerpt.preview().starts_with("password=[REDACTED:"),
            "{}",
            excerpt.preview()
        );
        assert!(!excerpt.preview().contains("hunter2"));
    }
}
