//! Evidence excerpts and the secret redactor.
//!
//! An [`Excerpt`] is the only way evidence text enters an artifact. Its
//! constructor hashes the full content and keeps only a short, redacted
//! preview; deserializing one redacts the preview again, so an excerpt read
//! from an older or foreign file cannot carry a secret forward either.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::canonical::sha256_hex;

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
// Enforced by: Excerpt's fields are private; Excerpt::new redacts before it truncates,
//      and deserializing goes through ExcerptFields, which redacts the preview again.
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

/// Redacts `content` and cuts it to [`PREVIEW_MAX_CHARS`] characters.
fn preview_of(content: &str) -> String {
    let window = &content[..content.floor_char_boundary(REDACT_WINDOW_BYTES)];
    let redacted = redact(window);
    match redacted.char_indices().nth(PREVIEW_MAX_CHARS) {
        Some((cut, _)) => redacted[..cut].to_owned(),
        None => redacted.into_owned(),
    }
}

/// One secret shape: what it is called in the replacement marker, the
/// pattern, and the replacement (which may keep a captured prefix such as the
/// key of a `key=value` pair).
struct SecretShape {
    pattern: Regex,
    replacement: String,
}

/// Key names whose values are secrets in `key=value` and `key: value` forms.
const SECRET_KEY: &str = r"[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth[_-]?key|private[_-]?key|client[_-]?secret|credentials?|session[_-]?key)[A-Za-z0-9_.-]*";

/// The secret shapes, in the order they are applied: multi-line blocks and
/// structured forms first, then token shapes, then generic assignments.
const SHAPES: &[(&str, &str, &str)] = &[
    (
        "private_key",
        r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
        "",
    ),
    (
        "url_credentials",
        r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@",
        "${1}[REDACTED:url_credentials]@",
    ),
    (
        "authorization",
        r"(?i)\b((?:proxy-)?authorization\s*:\s*)[^\r\n]+",
        "${1}[REDACTED:authorization]",
    ),
    (
        "bearer",
        r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*",
        "${1}[REDACTED:bearer]",
    ),
    (
        "basic_auth_option",
        r"((?:^|\s)(?:-u|--user)\s+)[^\s:]+:\S+",
        "${1}[REDACTED:basic_auth]",
    ),
    (
        "aws_access_key_id",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b",
        "",
    ),
    (
        "aws_secret_access_key",
        r#"(?i)(aws_?secret_?access_?key["']?\s*[=:]\s*["']?)[A-Za-z0-9/+=]{40}"#,
        "${1}[REDACTED:aws_secret_access_key]",
    ),
    (
        "github_token",
        r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b",
        "",
    ),
    ("github_pat", r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b", ""),
    (
        "gitlab_token",
        r"\bgl(?:pat|dt|rt|ptt|ft|soat|cbt)-[A-Za-z0-9_-]{20,}",
        "",
    ),
    ("slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}", ""),
    ("slack_app_token", r"\bxapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+", ""),
    (
        "slack_webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+",
        "",
    ),
    (
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
        "",
    ),
    ("google_api_key", r"\bAIza[0-9A-Za-z_-]{35}", ""),
    (
        "stripe_key",
        r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}",
        "",
    ),
    (
        "openai_anthropic_key",
        r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}",
        "",
    ),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b", ""),
    (
        "pypi_token",
        r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{40,}",
        "",
    ),
    (
        "sendgrid_key",
        r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",
        "",
    ),
    ("twilio_key", r"\b(?:SK|AC)[0-9a-f]{32}\b", ""),
    ("vault_token", r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}", ""),
    (
        "telegram_bot_token",
        r"\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b",
        "",
    ),
    (
        "discord_bot_token",
        r"\b[MN][A-Za-z0-9]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}",
        "",
    ),
    (
        "azure_key",
        r#"(?i)\b(AccountKey|SharedAccessKey|SharedAccessSignature)=[^;\s"']+"#,
        "${1}=[REDACTED:azure_key]",
    ),
    (
        "docker_auth",
        r#"("auth"\s*:\s*")[A-Za-z0-9+/=]{16,}"#,
        "${1}[REDACTED:docker_auth]",
    ),
];

static REDACTOR: LazyLock<Vec<SecretShape>> = LazyLock::new(|| {
    let mut shapes: Vec<SecretShape> = SHAPES
        .iter()
        .map(|&(name, pattern, replacement)| SecretShape {
            pattern: Regex::new(pattern).expect("secret shapes are literals checked by tests"),
            replacement: if replacement.is_empty() {
                format!("[REDACTED:{name}]")
            } else {
                replacement.to_owned()
            },
        })
        .collect();
    // `key = value` and `key := value`: any value is a secret (a value that
    // starts with `[` is left alone, so an earlier, more specific marker
    // survives).
    shapes.push(SecretShape {
        pattern: Regex::new(&format!(
            r#"(?i)\b({SECRET_KEY}["']?\s*:?=\s*)("[^"\r\n]*"|'[^'\r\n]*'|[^\s,;'"\[][^\s,;'"]*)"#
        ))
        .expect("assignment shape is a literal checked by tests"),
        replacement: "${1}[REDACTED:assignment]".to_owned(),
    });
    // `key: value` (YAML, JSON, headers): quoted values, or bare values that
    // contain a digit, so type annotations such as `token: String` survive.
    shapes.push(SecretShape {
        pattern: Regex::new(&format!(
            r#"(?i)\b({SECRET_KEY}["']?\s*:\s*)("[^"\r\n]+"|'[^'\r\n]+'|[A-Za-z0-9_\-+/=.]*[0-9][A-Za-z0-9_\-+/=.]*)"#
        ))
        .expect("mapping shape is a literal checked by tests"),
        replacement: "${1}[REDACTED:assignment]".to_owned(),
    });
    shapes
});

/// Every shape of [`REDACTOR`] in one set, for a quick "nothing to redact".
/// Word boundaries (`\b`) are left out: without them each pattern matches
/// everything it matched before and more (so nothing is missed), and the
/// set runs as a DFA even over non-ASCII text, where a Unicode word
/// boundary would force the slowest engine.
static REDACTOR_ANY: LazyLock<regex::RegexSet> = LazyLock::new(|| {
    regex::RegexSet::new(
        REDACTOR
            .iter()
            .map(|shape| shape.pattern.as_str().replace(r"\b", "")),
    )
    .expect("the shapes compiled one by one, and dropping `\\b` keeps them valid")
});

/// Replaces every secret-looking substring of `text` with a
/// `[REDACTED:<shape>]` marker. Returns the input unchanged (borrowed) when
/// nothing matched.
///
/// The shapes cover cloud and forge tokens (AWS, GitHub, GitLab, Slack,
/// Google, Stripe, OpenAI, Anthropic, npm, PyPI, SendGrid, Twilio, Vault,
/// Telegram, Discord, Azure), private key blocks, JWTs, `Authorization:`
/// headers, bearer tokens, credentials in URLs and `curl -u`, and
/// `password=` / `secret:` / `token=` / `api_key=` style assignments.
/// It errs on the side of redacting too much.
pub fn redact(text: &str) -> Cow<'_, str> {
    // One pass over every shape at once says whether any could match; most
    // text holds none, and then no shape is run on its own.
    if !REDACTOR_ANY.is_match(text) {
        return Cow::Borrowed(text);
    }
    let mut out = Cow::Borrowed(text);
    for shape in REDACTOR.iter() {
        if let Cow::Owned(replaced) = shape.pattern.replace_all(&out, shape.replacement.as_str()) {
            out = Cow::Owned(replaced);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_compiles() {
        assert!(REDACTOR.len() >= SHAPES.len() + 2);
        assert_eq!(REDACTOR_ANY.len(), REDACTOR.len());
    }

    #[test]
    fn the_quick_check_never_misses_what_a_shape_finds() {
        // Secrets in ASCII and in non-ASCII prose: every text a shape
        // redacts, the one-pass set matches.
        for text in [
            "aws AKIAIOSFODNN7EXAMPLE here",
            "der Schlüssel: password=hunter2 ist geheim",
            "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123",
            "Überprüfen Sie token: \"abc123\" bitte",
            "https://user:pa55@example.org/x",
            "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
        ] {
            let redacted = REDACTOR.iter().any(|shape| shape.pattern.is_match(text));
            assert!(redacted, "a shape should find a secret in {text:?}");
            assert!(REDACTOR_ANY.is_match(text), "{text:?}");
            assert_ne!(redact(text), text);
        }
    }

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
        assert!(excerpt.preview().contains("[REDACTED:private_key]"));
    }

    #[test]
    fn deserializing_redacts_the_preview_again() {
        let json = serde_json::json!({
            "source": "config.env",
            "content_hash": "00",
            "preview": "password=hunter2hunter2"
        });
        let excerpt: Excerpt = serde_json::from_value(json).expect("valid excerpt");
        assert_eq!(excerpt.preview(), "password=[REDACTED:assignment]");
    }
}
