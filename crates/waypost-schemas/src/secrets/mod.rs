//! The secret redactor: what keeps credentials out of every artifact and
//! report.
//!
//! Three layers, applied to a text in one pass each:
//!
//! 1. **A maintained rule set**: the default configuration of
//!    [gitleaks](https://github.com/gitleaks/gitleaks) (MIT), kept as data in
//!    `data/gitleaks/` with its licence and the version it was taken from
//!    ([`RULE_SET`]), and turned into Rust by `cargo xtask secret-rules`.
//!    Each rule is applied as gitleaks applies it: only when one of its
//!    keywords occurs in the text (case-insensitive); the secret is the
//!    rule's secret group, else its first non-empty group, else the whole
//!    match; a secret at or below the rule's entropy is not one; the global
//!    and the rule's own allowlists (regexes on the secret, the match or the
//!    line, and stopwords) let a match through. Allowlists that need the
//!    file's path, and rules that judge a path alone, cannot apply to text
//!    and are left out (they only ever let matches through, so leaving them
//!    out redacts more, never less). Patterns are compiled with ASCII
//!    classes (`\w`, `\s`, `\b` as in Go's RE2), each on first use.
//! 2. **waypost's own shapes** where the rule set has none: private key
//!    blocks cut short, credentials in URLs, `Authorization` headers, bearer
//!    tokens, `curl -u`, Azure connection strings and any value assigned to a secret-looking key (`password`, `secret`,
//!    `token`, `api_key`, `private_key`, ...).
//! 3. **An entropy fallback** for tokens no rule names: see
//!    [`ENTROPY_THRESHOLD`].
//!
//! Every matching span is replaced with `[REDACTED:<rule id>]`; overlapping
//! spans become one marker. Markers already in the text are never matched
//! again, so redacting twice changes nothing.

use std::borrow::Cow;
use std::fmt;
use std::sync::{LazyLock, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::bytes::{Regex, RegexBuilder};

#[rustfmt::skip]
mod gitleaks;
mod own;

/// Where the maintained rule set came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleSetInfo {
    /// The rule set's name.
    pub name: &'static str,
    /// The release it was taken from (`git describe` of its repository).
    pub version: &'static str,
    /// The commit of that release.
    pub commit: &'static str,
    /// The repository.
    pub repository: &'static str,
    /// Its licence (SPDX id); the text is in `data/gitleaks/LICENSE`.
    pub license: &'static str,
    /// How many rules it holds, including those that judge a path alone.
    pub rules: usize,
}

/// The maintained rule set the redactor applies.
pub const RULE_SET: RuleSetInfo = gitleaks::INFO;

/// What the part of a finding an allowlist regex is matched against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The secret (the rule's secret group).
    Secret,
    /// The whole match of the rule.
    Match,
    /// The line the match starts on.
    Line,
}

/// One allowlist of a rule (or the global one): a match is let through when
/// one of its regexes matches the target or the secret contains one of its
/// stopwords (lowercase).
pub(crate) struct AllowData {
    pub(crate) target: Target,
    pub(crate) regexes: &'static [&'static str],
    pub(crate) stopwords: &'static [&'static str],
}

/// One rule, as data.
pub(crate) struct RuleData {
    /// Named in the marker: `[REDACTED:<id>]`.
    pub(crate) id: &'static str,
    pub(crate) regex: &'static str,
    /// Lowercase; the rule runs only on text holding one of them (any text
    /// when there are none).
    pub(crate) keywords: &'static [&'static str],
    /// A secret whose Shannon entropy (bits per byte) is at or below this is
    /// not one.
    pub(crate) entropy: Option<f64>,
    /// The capture group that holds the secret.
    pub(crate) secret_group: Option<usize>,
    pub(crate) allow: &'static [AllowData],
}

/// Tokens of at least this many characters are judged by the entropy
/// fallback.
pub const ENTROPY_MIN_LEN: usize = 20;

/// The entropy fallback: a run of at least [`ENTROPY_MIN_LEN`] characters of
/// `A-Z a-z 0-9 + / _ -` (with up to two `=` of padding) is redacted as
/// `high-entropy-token` when its Shannon entropy is at least this many bits
/// per character, it mixes upper case, lower case and digits, and at least
/// [`ENTROPY_MIN_UPPER_OR_DIGIT`] of it is upper case or digits (random
/// base62 and base64 text is over half; words, paths and identifiers in
/// camel case are far below). A run of at least [`ENTROPY_MIN_LEN_LOWER`]
/// lowercase letters and digits alone, with no separator, at least three
/// of each, and the same entropy, is redacted too (tokens such as NuGet's).
///
/// Left alone however they look, so evidence stays useful: hexadecimal
/// strings (git object ids, SHA-256 digests, UUIDs, waypost's ids and
/// content hashes, which are all lowercase hex), digests written with their
/// algorithm (`sha256:…`, `sha512-…` as in lock files, `h1:…` as in
/// `go.sum`), and tokens without digits or without both cases (identifiers,
/// constants, words).
pub const ENTROPY_THRESHOLD: f64 = 4.0;

/// See [`ENTROPY_THRESHOLD`].
pub const ENTROPY_MIN_UPPER_OR_DIGIT: f64 = 0.3;

/// See [`ENTROPY_THRESHOLD`].
pub const ENTROPY_MIN_LEN_LOWER: usize = 32;

/// A rule's secret shorter than this many bytes is taken to be a fragment
/// (a capture group under a repetition), and the rule's whole match is
/// redacted instead.
const SHORTEST_SECRET: usize = 8;

/// The id of the entropy fallback in markers.
const ENTROPY_RULE: &str = "high-entropy-token";

/// A rule ready to run: its data and its patterns, compiled on first use.
struct Rule {
    data: &'static RuleData,
    /// One of waypost's own shapes (not the rule set's).
    own: bool,
    regex: OnceLock<Result<Regex, String>>,
    allow: Vec<Allow>,
}

struct Allow {
    data: &'static AllowData,
    regexes: OnceLock<Vec<Result<Regex, String>>>,
}

/// Compiles a rule-set pattern: bytes, ASCII classes, as Go's RE2 reads
/// them. Large patterns (bounded repetitions of classes) get room.
fn compile(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(64 << 20)
        .dfa_size_limit(16 << 20)
        .build()
        .map_err(|e| e.to_string())
}

impl Rule {
    fn new(data: &'static RuleData, own: bool) -> Self {
        Self {
            data,
            own,
            regex: OnceLock::new(),
            allow: data
                .allow
                .iter()
                .map(|data| Allow {
                    data,
                    regexes: OnceLock::new(),
                })
                .collect(),
        }
    }

    fn regex(&self) -> &Result<Regex, String> {
        self.regex.get_or_init(|| compile(self.data.regex))
    }
}

impl Allow {
    fn regexes(&self) -> &[Result<Regex, String>] {
        self.regexes
            .get_or_init(|| self.data.regexes.iter().map(|p| compile(p)).collect())
    }

    /// Whether this allowlist lets the finding through. A regex that does
    /// not compile lets nothing through.
    fn allows<'t>(
        &self,
        secret: &'t [u8],
        matched: &'t [u8],
        line: impl FnOnce() -> &'t [u8],
    ) -> bool {
        let target = match self.data.target {
            Target::Secret => secret,
            Target::Match => matched,
            Target::Line => line(),
        };
        if self
            .regexes()
            .iter()
            .any(|re| re.as_ref().is_ok_and(|re| re.is_match(target)))
        {
            return true;
        }
        if self.data.stopwords.is_empty() {
            return false;
        }
        let lower = secret.to_ascii_lowercase();
        self.data
            .stopwords
            .iter()
            .any(|word| memchr::memmem::find(&lower, word.as_bytes()).is_some())
    }
}

/// Every rule, the global allowlist and the keyword matcher.
struct Redactor {
    rules: Vec<Rule>,
    global: Vec<Allow>,
    /// All keywords, ASCII case-insensitive; pattern `i` is `keywords[i]`.
    keywords: AhoCorasick,
    /// For each keyword, the rules it selects.
    selects: Vec<Vec<usize>>,
    /// Rules without keywords: run on every text.
    always: Vec<usize>,
    /// Markers already in a text.
    markers: Regex,
}

static REDACTOR: LazyLock<Redactor> = LazyLock::new(|| {
    let rules: Vec<Rule> = gitleaks::RULES
        .iter()
        .map(|r| Rule::new(r, false))
        .chain(own::RULES.iter().map(|r| Rule::new(r, true)))
        .collect();
    assert!(
        rules.len() <= MAX_RULES,
        "{} secret rules; raise MAX_RULES in secrets/mod.rs",
        rules.len()
    );
    let mut words: Vec<&str> = Vec::new();
    let mut selects: Vec<Vec<usize>> = Vec::new();
    let mut always = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if rule.data.keywords.is_empty() {
            always.push(i);
        }
        for &word in rule.data.keywords {
            match words.iter().position(|w| *w == word) {
                Some(k) => selects[k].push(i),
                None => {
                    words.push(word);
                    selects.push(vec![i]);
                }
            }
        }
    }
    Redactor {
        global: gitleaks::GLOBAL_ALLOW
            .iter()
            .map(|data| Allow {
                data,
                regexes: OnceLock::new(),
            })
            .collect(),
        keywords: AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&words)
            .expect("keywords are short literals"),
        selects,
        always,
        rules,
        markers: {
            let ids: std::collections::BTreeSet<&str> = gitleaks::RULES
                .iter()
                .chain(own::RULES)
                .map(|r| r.id)
                .chain([ENTROPY_RULE])
                .collect();
            let alternatives: Vec<String> = ids.iter().map(|id| regex::escape(id)).collect();
            compile(&format!(r"\[REDACTED:(?:{})\]", alternatives.join("|")))
                .expect("escaped rule ids make a valid pattern")
        },
    }
});

/// A span of a text to replace, and the rule that found it.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    end: usize,
    rule: &'static str,
}

impl Redactor {
    /// The spans of `text` to replace: sorted, not overlapping, on char
    /// boundaries, none inside a marker already there.
    fn spans(&self, text: &str) -> Vec<Span> {
        self.spans_of(text, |_| true, true)
    }

    /// [`Redactor::spans`] of the rules `uses` accepts (by index), with the
    /// entropy fallback when `entropy` holds.
    fn spans_of(&self, text: &str, uses: impl Fn(usize) -> bool, entropy: bool) -> Vec<Span> {
        let bytes = text.as_bytes();
        let mut spans = Vec::new();
        // Most text holds no keyword: one quick pass says so, and only text
        // that does is searched for every keyword it holds.
        if !self.always.is_empty() || self.keywords.is_match(bytes) {
            let mut selected = Selected::default();
            for &i in &self.always {
                selected.insert(i);
            }
            for found in self.keywords.find_overlapping_iter(bytes) {
                for &i in &self.selects[found.pattern().as_usize()] {
                    selected.insert(i);
                }
            }
            for i in selected.iter() {
                if uses(i) {
                    self.apply(&self.rules[i], bytes, &mut spans);
                }
            }
        }
        if entropy {
            self.entropy_spans(bytes, &mut spans);
        }
        if spans.is_empty() {
            return spans;
        }
        // Markers already there stay as they are: a span keeps only its
        // pieces outside them (a whole-text span of a rule that cannot
        // run is kept whole).
        let markers: Vec<(usize, usize)> = self
            .markers
            .find_iter(bytes)
            .map(|m| (m.start(), m.end()))
            .collect();
        if !markers.is_empty() {
            let mut pieces = Vec::with_capacity(spans.len());
            for span in spans {
                if span.start == 0 && span.end == bytes.len() && !self.compiled(span.rule) {
                    pieces.push(span);
                    continue;
                }
                let mut at = span.start;
                for &(a, b) in markers
                    .iter()
                    .filter(|&&(a, b)| a < span.end && span.start < b)
                {
                    if at < a {
                        pieces.push(Span {
                            start: at,
                            end: a,
                            rule: span.rule,
                        });
                    }
                    at = at.max(b);
                }
                if at < span.end {
                    pieces.push(Span {
                        start: at,
                        end: span.end,
                        rule: span.rule,
                    });
                }
            }
            spans = pieces;
        }
        for span in &mut spans {
            span.start = text.floor_char_boundary(span.start);
            span.end = text.ceil_char_boundary(span.end);
        }
        // Earliest first; of two that start together, the longer names it.
        spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
        for span in spans {
            match merged.last_mut() {
                Some(last) if span.start < last.end => last.end = last.end.max(span.end),
                _ => merged.push(span),
            }
        }
        merged
    }

    /// Whether the rule `id` compiled (a rule that did not redacts whole
    /// texts).
    fn compiled(&self, id: &str) -> bool {
        self.rules
            .iter()
            .filter(|r| r.data.id == id)
            .all(|r| r.regex().is_ok())
    }

    /// The spans one rule finds in `bytes`.
    fn apply(&self, rule: &Rule, bytes: &[u8], spans: &mut Vec<Span>) {
        let regex = match rule.regex() {
            Ok(regex) => regex,
            // Fail closed: a rule that cannot run redacts every text it
            // was selected for. The rule-set tests prove none of the
            // shipped rules gets here.
            Err(_) => {
                spans.push(Span {
                    start: 0,
                    end: bytes.len(),
                    rule: rule.data.id,
                });
                return;
            }
        };
        for caps in regex.captures_iter(bytes) {
            let whole = caps.get(0).expect("group 0 is the match");
            if whole.is_empty() {
                continue;
            }
            let secret = match rule.data.secret_group {
                Some(group) => caps.get(group),
                None => caps.iter().skip(1).flatten().find(|m| !m.is_empty()),
            }
            .unwrap_or(whole);
            if secret.is_empty() {
                continue;
            }
            // A secret group under a repetition holds only its last
            // round: a secret that short is not the credential, so the
            // whole match goes.
            let span = if secret.len() < SHORTEST_SECRET {
                whole
            } else {
                secret
            };
            if rule
                .data
                .entropy
                .is_some_and(|least| shannon_entropy(secret.as_bytes()) <= least)
            {
                continue;
            }
            // The rule set's global allowlist is for its own rules;
            // waypost's shapes have none.
            let global: &[Allow] = if rule.own { &[] } else { &self.global };
            let allowed = global.iter().chain(&rule.allow).any(|a| {
                a.allows(secret.as_bytes(), whole.as_bytes(), || {
                    line_of(bytes, whole.start())
                })
            });
            if !allowed {
                spans.push(Span {
                    start: span.start(),
                    end: span.end(),
                    rule: rule.data.id,
                });
            }
        }
    }

    /// The entropy fallback's spans (see [`ENTROPY_THRESHOLD`]): each
    /// maximal run of `A-Z a-z 0-9 + / _ -` (and up to two `=` after it) of
    /// at least [`ENTROPY_MIN_LEN`] bytes is judged.
    fn entropy_spans(&self, bytes: &[u8], spans: &mut Vec<Span>) {
        let token_byte =
            |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-');
        let mut i = 0;
        while i < bytes.len() {
            if !token_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && token_byte(bytes[i]) {
                i += 1;
            }
            if i - start < ENTROPY_MIN_LEN {
                continue;
            }
            let mut end = i;
            while end < bytes.len() && end - i < 2 && bytes[end] == b'=' {
                end += 1;
            }
            if high_entropy_token(&bytes[start..end], &bytes[..start]) {
                spans.push(Span {
                    start,
                    end,
                    rule: ENTROPY_RULE,
                });
            }
            i = end;
        }
    }
}

/// Most rules one redactor may hold.
const MAX_RULES: usize = 1024;

/// The rules selected for one text: a bit set on the stack.
#[derive(Default)]
struct Selected([u64; MAX_RULES / 64]);

impl Selected {
    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    /// The selected rules, in index order.
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(word, &bits)| {
            let mut rest = bits;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    word * 64 + bit
                })
            })
        })
    }
}

/// The line of `bytes` that holds `at`, without its line break.
fn line_of(bytes: &[u8], at: usize) -> &[u8] {
    let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i);
    &bytes[start..end]
}

/// Shannon entropy of `bytes`, in bits per byte (as gitleaks computes it).
pub(crate) fn shannon_entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    #[expect(clippy::cast_precision_loss, reason = "texts are far below 2^52 bytes")]
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Whether a run of token characters is a secret by the entropy fallback;
/// `before` is the text before it.
fn high_entropy_token(token: &[u8], before: &[u8]) -> bool {
    let body = token
        .strip_suffix(b"==")
        .or_else(|| token.strip_suffix(b"="))
        .unwrap_or(token);
    if body.len() < ENTROPY_MIN_LEN {
        return false;
    }
    // Digests written with their algorithm.
    let lower_start = body[..body.len().min(8)].to_ascii_lowercase();
    if [&b"sha1-"[..], b"sha256-", b"sha384-", b"sha512-"]
        .iter()
        .any(|p| lower_start.starts_with(p))
        || before.ends_with(b"h1:")
        || {
            let tail = before[before.len().saturating_sub(7)..].to_ascii_lowercase();
            tail.ends_with(b"sha256:") || tail.ends_with(b"sha512:")
        }
    {
        return false;
    }
    if body.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-') {
        return false;
    }
    let upper = body.iter().filter(|b| b.is_ascii_uppercase()).count();
    let lower = body.iter().filter(|b| b.is_ascii_lowercase()).count();
    let digits = body.iter().filter(|b| b.is_ascii_digit()).count();
    if upper == 0 && lower + digits == body.len() {
        return body.len() >= ENTROPY_MIN_LEN_LOWER
            && lower >= 3
            && digits >= 3
            && shannon_entropy(body) >= ENTROPY_THRESHOLD;
    }
    if upper == 0 || lower == 0 || digits == 0 {
        return false;
    }
    #[expect(clippy::cast_precision_loss, reason = "token lengths are small")]
    let share = (upper + digits) as f64 / body.len() as f64;
    share >= ENTROPY_MIN_UPPER_OR_DIGIT && shannon_entropy(body) >= ENTROPY_THRESHOLD
}

/// Replaces every secret in `text` with a `[REDACTED:<rule id>]` marker
/// (see the [module documentation](self) for what counts as one). Returns
/// the input unchanged (borrowed) when nothing matched. Redacting twice
/// changes nothing more.
pub fn redact(text: &str) -> Cow<'_, str> {
    let spans = REDACTOR.spans(text);
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&text[at..span.start]);
        out.push_str("[REDACTED:");
        out.push_str(span.rule);
        out.push(']');
        at = span.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Redacts every string in `value`, at any depth (object keys stay).
pub fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => {
            if let Cow::Owned(redacted) = redact(text) {
                *text = redacted;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(redact_json),
        _ => {}
    }
}

/// Text that has passed the redactor: the only text waypost's report
/// renderers (SARIF, Markdown, plain text) accept from an artifact.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Redacted<'a>(Cow<'a, str>);

impl<'a> Redacted<'a> {
    /// `text`, redacted.
    pub fn new(text: &'a str) -> Self {
        Self(redact(text))
    }

    /// Text that passed the redactor already (an excerpt's preview).
    pub(crate) fn already(text: &'a str) -> Self {
        Self(Cow::Borrowed(text))
    }

    /// `text`, redacted, owned.
    pub fn owned(text: String) -> Redacted<'static> {
        match redact(&text) {
            Cow::Borrowed(_) => Redacted(Cow::Owned(text)),
            Cow::Owned(redacted) => Redacted(Cow::Owned(redacted)),
        }
    }

    /// The redacted text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The redacted text, owned.
    pub fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Redacted<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The rules whose pattern, or one of whose allowlist patterns, the regex
/// crate cannot compile, with the error. Empty for the shipped rules (a
/// test says so); such a rule would redact every text it is selected for.
pub fn rules_that_do_not_compile() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for allow in &REDACTOR.global {
        for e in allow.regexes().iter().filter_map(|r| r.as_ref().err()) {
            out.push(("(global allowlist)", e.clone()));
        }
    }
    for rule in &REDACTOR.rules {
        if let Err(e) = rule.regex() {
            out.push((rule.data.id, e.clone()));
        }
        for allow in &rule.allow {
            for e in allow.regexes().iter().filter_map(|r| r.as_ref().err()) {
                out.push((rule.data.id, format!("allowlist: {e}")));
            }
        }
    }
    out
}

/// The ids of every rule the redactor applies: the rule set's content rules,
/// then waypost's own shapes (the entropy fallback is not among them).
pub fn rule_ids() -> Vec<&'static str> {
    REDACTOR.rules.iter().map(|r| r.data.id).collect()
}

/// The ids of the rule set's rules that judge a file by its path alone, so
/// that text cannot be redacted by them.
pub fn path_only_rules() -> &'static [&'static str] {
    gitleaks::PATH_ONLY
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant_text() {
        assert!(shannon_entropy(b"aaaa").abs() < f64::EPSILON);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn spans_are_merged_and_markers_kept() {
        let text = "password = [REDACTED:x] and token=abc123def456";
        let once = redact(text);
        assert!(
            once.starts_with("password = [REDACTED:x] and token=[REDACTED:"),
            "{once}"
        );
        assert_eq!(redact(&once), once.as_ref());
    }

    #[test]
    fn each_own_shape_catches_what_the_rule_set_lets_through() {
        let redactor = &*REDACTOR;
        let from_set = gitleaks::RULES.len();
        let samples = [
            (
                "private-key-block",
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7abcdefgh",
            ),
            ("url-credentials", "redis://:s3cretpass@cache:6379/0"),
            (
                "authorization-header",
                "Authorization: Basic dXNlcjpwYXNzd29yZA==",
            ),
            ("bearer-token", "curl -H 'X-Auth: Bearer abcdefgh12'"),
            (
                "basic-auth-option",
                "http --auth-type basic -u deploy:Sup3rS3cret example.invalid",
            ),
            (
                "azure-connection-key",
                "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=b&sig=Xy%2Bq9%3D",
            ),
            ("assignment", "DB_PASSWORD=correct-horse-battery"),
        ];
        let own: BTreeSet<&str> = own::RULES.iter().map(|r| r.id).collect();
        let sampled: BTreeSet<&str> = samples.iter().map(|(id, _)| *id).collect();
        assert_eq!(own, sampled, "every own shape has a sample");
        for (id, text) in samples {
            let by_set = redactor.spans_of(text, |i| i < from_set, false);
            assert!(
                by_set.is_empty(),
                "{id}: the rule set already finds {by_set:?} in {text:?}"
            );
            let by_own = redactor.spans_of(
                text,
                |i| i >= from_set && redactor.rules[i].data.id == id,
                false,
            );
            assert!(!by_own.is_empty(), "{id}: finds nothing in {text:?}");
        }
    }

    #[test]
    fn a_span_never_splits_a_character() {
        let text = format!("api_key=\"é{}é\"", "Zq9".repeat(8));
        let out = redact(&text);
        assert!(!out.contains("Zq9"), "{out}");
    }
}
