//! waypost's own secret shapes: the ones the maintained rule set does not
//! name (each is proven to catch something the rule set lets through by the
//! tests of `tests/redaction.rs`).

use super::RuleData;

/// Key names whose values are secrets in `key=value` and `key: value` forms.
macro_rules! secret_key {
    () => {
        r"[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth[_-]?key|private[_-]?key|client[_-]?secret|credentials?|session[_-]?key)[A-Za-z0-9_.-]*"
    };
}

/// Keywords of the two assignment shapes.
const SECRET_KEY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api",
    "access",
    "auth",
    "private",
    "credential",
    "session",
];

pub(super) const RULES: &[RuleData] = &[
    RuleData {
        // A key block, also one cut short before its END line.
        id: "private-key-block",
        regex: r"(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
        keywords: &["private key"],
        entropy: None,
        secret_group: None,
        allow: &[],
    },
    RuleData {
        id: "url-credentials",
        regex: r"\b[a-zA-Z][a-zA-Z0-9+.-]*://([^/\s:@]*:[^/\s@]+)@",
        keywords: &["://"],
        entropy: None,
        secret_group: None,
        allow: &[],
    },
    RuleData {
        id: "authorization-header",
        regex: r#"(?i)\b(?:proxy-)?authorization["']?\s*:\s*["']?([^\r\n"']+)"#,
        keywords: &["authorization"],
        entropy: None,
        secret_group: None,
        allow: &[],
    },
    RuleData {
        id: "bearer-token",
        regex: r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{8,}=*)",
        keywords: &["bearer"],
        entropy: None,
        secret_group: None,
        allow: &[],
    },
    RuleData {
        // `curl -u user:pass`, `--user user:pass`, wherever the command is.
        id: "basic-auth-option",
        regex: r"(?:^|\s)(?:-u|--user)\s+([^\s:]+:\S+)",
        keywords: &["-u", "--user"],
        entropy: None,
        secret_group: None,
        allow: &[],
    },
    RuleData {
        id: "azure-connection-key",
        regex: r#"(?i)\b(?:AccountKey|SharedAccessKey|SharedAccessSignature)=([^;\s"']+)"#,
        keywords: &["accountkey", "sharedaccesskey", "sharedaccesssignature"],
        entropy: None,
        secret_group: None,
        allow: &[],
    },
    RuleData {
        // `key = value` and `key := value`: any value is a secret (one that
        // starts with `[` is left alone, so a marker survives).
        id: "assignment",
        regex: concat!(
            r#"(?i)\b"#,
            secret_key!(),
            r#"["']?\s*:?=\s*("[^"\r\n]*"|'[^'\r\n]*'|[^\s,;'"\[][^\s,;'"]*)"#
        ),
        keywords: SECRET_KEY_WORDS,
        entropy: None,
        secret_group: None,
        allow: &[],
    },
    RuleData {
        // `key: value` (YAML, JSON, headers): quoted values, or bare values
        // that hold a digit, so type annotations such as `token: String`
        // survive.
        id: "assignment",
        regex: concat!(
            r#"(?i)\b"#,
            secret_key!(),
            r#"["']?\s*:\s*("[^"\r\n]+"|'[^'\r\n]+'|[A-Za-z0-9_\-+/=.]*[0-9][A-Za-z0-9_\-+/=.]*)"#
        ),
        keywords: SECRET_KEY_WORDS,
        entropy: None,
        secret_group: None,
        allow: &[],
    },
];
