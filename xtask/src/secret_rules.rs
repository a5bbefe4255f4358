//! `cargo xtask secret-rules`: the redactor's maintained rule set as Rust.
//!
//! `crates/waypost-schemas/data/gitleaks/` holds the gitleaks default
//! configuration as published (`gitleaks.toml`), its licence and
//! `SOURCE.toml`, which records where it came from and its SHA-256. This
//! task turns the configuration into `crates/waypost-schemas/src/secrets/
//! gitleaks.rs`:
//!
//! - `cargo xtask secret-rules` regenerates the Rust from the copy;
//! - `--check` fails when the copy is not the recorded one or the Rust is
//!   stale;
//! - `--from FILE --version V --commit C` replaces the copy with a newer
//!   one, rewrites `SOURCE.toml` and regenerates.
//!
//! Three changes to patterns: braces that Go's RE2 reads as literals are
//! escaped for the regex crate; where a rule says a secret ends (a quote,
//! a space, `;`), `.,:/&|)]}>` may end it too, so a token named in a path or
//! a URL is found; and an allowlist pattern `^a|b$` is grouped as
//! `^(?:a|b)$`, as its authors meant (unguarded, it lets through any secret
//! that merely contains `b`). Redaction may take more than gitleaks
//! reports, never less.
//!
//! What cannot apply to text is left out, and the generated file says so:
//! rules that judge a path alone, and allowlists that need a path or a
//! commit to let a match through (leaving an allowlist out only redacts
//! more).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use sha2::{Digest, Sha256};
use toml::Value;

use crate::codegen::Mode;

const DATA: &str = "crates/waypost-schemas/data/gitleaks";
const GENERATED: &str = "crates/waypost-schemas/src/secrets/gitleaks.rs";
const COMMAND: &str = "cargo xtask secret-rules";

/// Runs the task with its flags.
pub(crate) fn run(root: &Path, flags: &[String]) -> Result<()> {
    match flags {
        [] => generate(root, Mode::Write),
        [flag] if flag == "--check" => generate(root, Mode::Check),
        _ => {
            let refresh = Refresh::parse(flags)?;
            refresh.apply(root)?;
            generate(root, Mode::Write)
        }
    }
}

/// `--from FILE --version V --commit C`.
struct Refresh {
    from: String,
    version: String,
    commit: String,
}

impl Refresh {
    fn parse(flags: &[String]) -> Result<Self> {
        let usage = "usage: cargo xtask secret-rules [--check | --from FILE --version VERSION --commit COMMIT]";
        let mut from = None;
        let mut version = None;
        let mut commit = None;
        let mut args = flags.iter();
        while let Some(flag) = args.next() {
            let slot = match flag.as_str() {
                "--from" => &mut from,
                "--version" => &mut version,
                "--commit" => &mut commit,
                other => bail!("unexpected argument `{other}`; {usage}"),
            };
            *slot = Some(
                args.next()
                    .with_context(|| format!("`{flag}` needs a value; {usage}"))?
                    .clone(),
            );
        }
        match (from, version, commit) {
            (Some(from), Some(version), Some(commit)) => Ok(Self {
                from,
                version,
                commit,
            }),
            _ => bail!("--from, --version and --commit go together; {usage}"),
        }
    }

    /// Copies the new configuration in (after checking it parses and holds
    /// rules) and rewrites `SOURCE.toml`.
    fn apply(&self, root: &Path) -> Result<()> {
        let text = fs::read_to_string(&self.from)
            .with_context(|| format!("cannot read the new rule set {}", self.from))?;
        let parsed = RuleSet::parse(&text).with_context(|| format!("in {}", self.from))?;
        ensure!(
            !parsed.rules.is_empty(),
            "{} holds no [[rules]]: not a gitleaks configuration",
            self.from
        );
        let data = root.join(DATA);
        let old = Source::read(&data)?;
        fs::write(data.join("gitleaks.toml"), &text)
            .with_context(|| format!("cannot write {DATA}/gitleaks.toml"))?;
        let source = Source {
            version: self.version.clone(),
            commit: self.commit.clone(),
            sha256: sha256_hex(text.as_bytes()),
            ..old
        };
        fs::write(data.join("SOURCE.toml"), source.render())
            .with_context(|| format!("cannot write {DATA}/SOURCE.toml"))?;
        Ok(())
    }
}

/// `SOURCE.toml`.
#[derive(Clone, Debug)]
struct Source {
    name: String,
    repository: String,
    path: String,
    version: String,
    commit: String,
    license: String,
    license_file: String,
    sha256: String,
}

impl Source {
    fn read(data: &Path) -> Result<Self> {
        let file = data.join("SOURCE.toml");
        let text =
            fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let table: toml::Table =
            toml::from_str(&text).with_context(|| format!("{} is not TOML", file.display()))?;
        let field = |name: &str| -> Result<String> {
            table
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .with_context(|| format!("{} has no string `{name}`", file.display()))
        };
        Ok(Self {
            name: field("name")?,
            repository: field("repository")?,
            path: field("path")?,
            version: field("version")?,
            commit: field("commit")?,
            license: field("license")?,
            license_file: field("license_file")?,
            sha256: field("sha256")?,
        })
    }

    fn render(&self) -> String {
        let quoted = |s: &str| toml::Value::String(s.to_owned()).to_string();
        format!(
            "# Where gitleaks.toml in this folder came from. Refresh it with\n\
             #   cargo xtask secret-rules --from PATH/TO/gitleaks.toml --version VERSION --commit COMMIT\n\
             # which copies the file, rewrites this record and regenerates\n\
             # crates/waypost-schemas/src/secrets/gitleaks.rs; `cargo xtask secret-rules\n\
             # --check` proves the copy is the one recorded and the Rust is current.\n\
             name = {}\nrepository = {}\npath = {}\nversion = {}\ncommit = {}\nlicense = {}\nlicense_file = {}\nsha256 = {}\n",
            quoted(&self.name),
            quoted(&self.repository),
            quoted(&self.path),
            quoted(&self.version),
            quoted(&self.commit),
            quoted(&self.license),
            quoted(&self.license_file),
            quoted(&self.sha256),
        )
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// One allowlist that can apply to text.
#[derive(Debug, PartialEq)]
struct Allowlist {
    target: &'static str,
    regexes: Vec<String>,
    stopwords: Vec<String>,
}

/// One rule of the configuration.
#[derive(Debug)]
struct Rule {
    id: String,
    /// `None` for a rule that judges a path alone.
    regex: Option<String>,
    keywords: Vec<String>,
    entropy: Option<f64>,
    secret_group: Option<i64>,
    allow: Vec<Allowlist>,
    /// Allowlists left out because they need a path or a commit.
    dropped_allowlists: usize,
}

/// The parts of a gitleaks configuration the redactor uses.
#[derive(Debug)]
struct RuleSet {
    global: Vec<Allowlist>,
    rules: Vec<Rule>,
}

impl RuleSet {
    fn parse(text: &str) -> Result<Self> {
        let table: toml::Table = toml::from_str(text).context("not TOML")?;
        let mut global = Vec::new();
        for list in allowlists(&table)? {
            global.extend(list);
        }
        let mut rules = Vec::new();
        for (i, rule) in table
            .get("rules")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let rule = rule
                .as_table()
                .with_context(|| format!("rules[{i}] is not a table"))?;
            let id = rule
                .get("id")
                .and_then(Value::as_str)
                .with_context(|| format!("rules[{i}] has no id"))?
                .to_owned();
            let string = |name: &str| rule.get(name).and_then(Value::as_str).map(str::to_owned);
            let entropy = match rule.get("entropy") {
                None => None,
                Some(Value::Float(f)) => Some(*f),
                #[expect(clippy::cast_precision_loss, reason = "entropies are small")]
                Some(Value::Integer(n)) => Some(*n as f64),
                Some(other) => bail!("rule {id}: entropy {other} is not a number"),
            };
            let secret_group = match rule.get("secretGroup") {
                None => None,
                Some(Value::Integer(n)) if *n >= 0 => Some(*n).filter(|n| *n > 0),
                Some(other) => bail!("rule {id}: secretGroup {other} is not a group number"),
            };
            let keywords = rule
                .get("keywords")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|k| {
                    k.as_str()
                        .map(str::to_lowercase)
                        .with_context(|| format!("rule {id}: keyword {k} is not a string"))
                })
                .collect::<Result<Vec<_>>>()?;
            let lists = allowlists(rule).with_context(|| format!("rule {id}"))?;
            let dropped_allowlists = lists.iter().filter(|l| l.is_none()).count();
            rules.push(Rule {
                id,
                regex: string("regex"),
                keywords,
                entropy: entropy.filter(|e| *e != 0.0),
                secret_group,
                allow: lists.into_iter().flatten().collect(),
                dropped_allowlists,
            });
        }
        Ok(Self { global, rules })
    }
}

/// The allowlists of a table (`allowlists = [...]`, or the older single
/// `allowlist`): `None` for one that cannot apply to text.
fn allowlists(table: &toml::Table) -> Result<Vec<Option<Allowlist>>> {
    let mut found: Vec<&toml::Table> = Vec::new();
    if let Some(one) = table.get("allowlist") {
        found.push(one.as_table().context("`allowlist` is not a table")?);
    }
    for list in table
        .get("allowlists")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        found.push(list.as_table().context("an allowlist is not a table")?);
    }
    found.into_iter().map(allowlist).collect()
}

fn allowlist(table: &toml::Table) -> Result<Option<Allowlist>> {
    let strings = |name: &str| -> Result<Vec<String>> {
        table
            .get(name)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .with_context(|| format!("allowlist {name}: {v} is not a string"))
            })
            .collect()
    };
    let target = match table.get("regexTarget").and_then(Value::as_str) {
        None | Some("secret") => "Secret",
        Some("match") => "Match",
        Some("line") => "Line",
        Some(other) => bail!("allowlist regexTarget `{other}` is not secret, match or line"),
    };
    let and = match table.get("condition").and_then(Value::as_str) {
        None => false,
        Some(c) if c.eq_ignore_ascii_case("or") => false,
        Some(c) if c.eq_ignore_ascii_case("and") => true,
        Some(other) => bail!("allowlist condition `{other}` is not AND or OR"),
    };
    let needs_place = !strings("paths")?.is_empty() || !strings("commits")?.is_empty();
    let regexes = strings("regexes")?;
    let stopwords: Vec<String> = strings("stopwords")?
        .into_iter()
        .map(|w| w.to_lowercase())
        .collect();
    if (and && needs_place) || (regexes.is_empty() && stopwords.is_empty()) {
        return Ok(None);
    }
    Ok(Some(Allowlist {
        target,
        regexes,
        stopwords,
    }))
}

/// How most rules of the set say where a secret ends: a quote, a space, a
/// `;`, an escaped line break or the end of the text.
const SECRET_END: &str = r#"(?:[\x60'"\s;]|\\[nr]|$)"#;

/// Where a secret may end for redaction: also before `.`, `,`, `:`, `/`,
/// `&`, `|` and closing brackets, so a token named inside a path, a URL or
/// a call (`keys/<token>.json`, `?key=<token>&`) is still found. Redaction
/// may take more than gitleaks reports, never less.
const SECRET_END_WIDER: &str = r#"(?:[\x60'"\s;.,:/&|)\]}>]|\\[nr]|$)"#;

/// A pattern in Go's RE2 syntax as the regex crate reads it. The one
/// difference the rule set meets: RE2 reads a `{` or `}` that does not
/// make a repetition (`{n}`, `{n,}`, `{n,m}`) as a literal brace, where
/// the regex crate refuses it; such braces are escaped. Inside a character
/// class, and after a backslash, nothing changes.
fn go_to_rust_regex(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                out.push(c);
                if let Some(&next) = chars.get(i + 1) {
                    out.push(next);
                }
                i += 2;
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` (or `^]`) right after the opening is a literal.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push(']');
                    i += 1;
                }
            }
            '[' if in_class && chars.get(i + 1) == Some(&':') => {
                // A POSIX class such as `[:alnum:]` inside a class.
                let end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == ':' && chars[j + 1] == ']');
                match end {
                    Some(end) => {
                        out.extend(&chars[i..=end + 1]);
                        i = end + 2;
                        continue;
                    }
                    None => out.push(c),
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '{' if !in_class => match repetition_end(&chars, i) {
                Some(end) => {
                    out.extend(&chars[i..=end]);
                    i = end + 1;
                    continue;
                }
                None => out.push_str("\\{"),
            },
            '}' if !in_class => out.push_str("\\}"),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Where the repetition `{n}`, `{n,}` or `{n,m}` that starts at `start`
/// ends (the index of its `}`), if one does.
fn repetition_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    let digits = |i: &mut usize| {
        let from = *i;
        while chars.get(*i).is_some_and(char::is_ascii_digit) {
            *i += 1;
        }
        *i > from
    };
    if !digits(&mut i) {
        return None;
    }
    if chars.get(i) == Some(&',') {
        i += 1;
        digits(&mut i);
    }
    (chars.get(i) == Some(&'}')).then_some(i)
}

/// An allowlist pattern written `^a|b|c$` means, as written, "starts with
/// a, or contains b, or ends with c", which lets through any secret that
/// merely contains `b`; what its authors meant is the whole secret being
/// one of them. Such a pattern (flags, `^`, a top-level `|`, `$`) is
/// grouped: `^(?:a|b|c)$`.
fn group_anchored_alternation(pattern: &str) -> String {
    let (flags, rest) = match pattern.strip_prefix("(?") {
        Some(after)
            if after.find(')').is_some_and(|i| {
                after[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphabetic() || c == '-')
            }) =>
        {
            let end = after.find(')').expect("checked") + 3;
            (&pattern[..end], &pattern[end..])
        }
        _ => ("", pattern),
    };
    let Some(inner) = rest.strip_prefix('^').and_then(|r| r.strip_suffix('$')) else {
        return pattern.to_owned();
    };
    let (mut depth, mut in_class, mut escaped, mut top_level_bar) = (0i32, false, false, false);
    for c in inner.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => depth -= 1,
            '|' if !in_class && depth == 0 => top_level_bar = true,
            _ => {}
        }
    }
    if top_level_bar {
        format!("{flags}^(?:{inner})$")
    } else {
        pattern.to_owned()
    }
}

fn render_allow(out: &mut String, indent: &str, list: &Allowlist) {
    let regexes: Vec<String> = list
        .regexes
        .iter()
        .map(|r| go_to_rust_regex(&group_anchored_alternation(r)))
        .collect();
    let _ = writeln!(
        out,
        "{indent}AllowData {{ target: Target::{}, regexes: &{regexes:?}, stopwords: &{:?} }},",
        list.target, list.stopwords
    );
}

/// The generated Rust for a rule set and its source.
fn render(set: &RuleSet, source: &Source) -> String {
    let mut out = String::new();
    out.push_str(
        "//! The gitleaks default configuration as Rust data.\n//!\n\
         //! Generated by `cargo xtask secret-rules` from\n\
         //! `crates/waypost-schemas/data/gitleaks/gitleaks.toml`; do not edit.\n\
         //! Changes to the patterns: braces RE2 reads as literals are escaped,\n\
         //! a secret may also end before `.,:/&|)]}>`, and allowlist patterns\n\
         //! `^a|b$` are grouped as `^(?:a|b)$`.\n\n\
         use super::{AllowData, RuleData, RuleSetInfo, Target};\n\n",
    );
    let _ = writeln!(
        out,
        "pub(super) const INFO: RuleSetInfo = RuleSetInfo {{ name: {:?}, version: {:?}, commit: {:?}, repository: {:?}, license: {:?}, rules: {} }};\n",
        source.name,
        source.version,
        source.commit,
        source.repository,
        source.license,
        set.rules.len()
    );
    out.push_str("pub(super) const GLOBAL_ALLOW: &[AllowData] = &[\n");
    for list in &set.global {
        render_allow(&mut out, "    ", list);
    }
    out.push_str("];\n\npub(super) const RULES: &[RuleData] = &[\n");
    for rule in &set.rules {
        let Some(regex) = &rule.regex else { continue };
        let _ = writeln!(out, "    RuleData {{");
        let _ = writeln!(out, "        id: {:?},", rule.id);
        let regex = regex.replace(SECRET_END, SECRET_END_WIDER);
        let _ = writeln!(out, "        regex: {:?},", go_to_rust_regex(&regex));
        let _ = writeln!(out, "        keywords: &{:?},", rule.keywords);
        let _ = writeln!(out, "        entropy: {:?},", rule.entropy);
        let _ = writeln!(
            out,
            "        secret_group: {:?},",
            rule.secret_group
                .map(|g| usize::try_from(g).unwrap_or(usize::MAX))
        );
        if rule.dropped_allowlists > 0 {
            let _ = writeln!(
                out,
                "        // {} allowlist(s) that need a path or a commit left out.",
                rule.dropped_allowlists
            );
        }
        if rule.allow.is_empty() {
            out.push_str("        allow: &[],\n");
        } else {
            out.push_str("        allow: &[\n");
            for list in &rule.allow {
                render_allow(&mut out, "            ", list);
            }
            out.push_str("        ],\n");
        }
        out.push_str("    },\n");
    }
    out.push_str(
        "];\n\n/// Rules that judge a file by its path alone: text cannot be redacted by them.\n\
         pub(super) const PATH_ONLY: &[&str] = &[\n",
    );
    for rule in set.rules.iter().filter(|r| r.regex.is_none()) {
        let _ = writeln!(out, "    {:?},", rule.id);
    }
    out.push_str("];\n");
    out
}

/// Checks the copy against `SOURCE.toml` and writes (or checks) the Rust.
fn generate(root: &Path, mode: Mode) -> Result<()> {
    let data = root.join(DATA);
    let source = Source::read(&data)?;
    let text = fs::read_to_string(data.join("gitleaks.toml"))
        .with_context(|| format!("cannot read {DATA}/gitleaks.toml"))?;
    let digest = sha256_hex(text.as_bytes());
    ensure!(
        digest == source.sha256,
        "{DATA}/gitleaks.toml (sha256 {digest}) is not the copy {DATA}/SOURCE.toml records \
         (sha256 {}): the vendored rule set is edited only by `{COMMAND} --from FILE --version V --commit C`",
        source.sha256
    );
    ensure!(
        data.join(&source.license_file).is_file(),
        "{DATA}/{} (the rule set's licence) is missing",
        source.license_file
    );
    let set = RuleSet::parse(&text).with_context(|| format!("in {DATA}/gitleaks.toml"))?;
    ensure!(
        set.rules
            .iter()
            .any(|r| r.regex.as_deref().is_some_and(|p| p.contains(SECRET_END))),
        "no rule of {DATA}/gitleaks.toml ends its secret with {SECRET_END}: the rule set changed \
         how it writes that, so SECRET_END in xtask/src/secret_rules.rs needs a look"
    );
    let rendered = render(&set, &source);
    let (dir, name) = GENERATED
        .rsplit_once('/')
        .expect("the generated file is in a folder");
    // The suffix is the whole name: the folder's other files are not generated.
    crate::codegen::ensure_dir_contents(
        &root.join(dir),
        &std::collections::BTreeMap::from([(name.to_owned(), rendered)]),
        name,
        COMMAND,
        mode,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_rules_are_current() {
        generate(&crate::workspace_root(), Mode::Check).expect("secret rules are current");
    }

    #[test]
    fn literal_braces_of_re2_are_escaped_and_repetitions_kept() {
        assert_eq!(
            go_to_rust_regex(r"^\$(?:\d+|{\d+})$"),
            r"^\$(?:\d+|\{\d+\})$"
        );
        assert_eq!(go_to_rust_regex(r"a{2,5}b{3}c{1,}"), r"a{2,5}b{3}c{1,}");
        assert_eq!(go_to_rust_regex(r"\{\{x}}"), r"\{\{x\}\}");
        assert_eq!(
            go_to_rust_regex(r"[{}][[:alnum:]{]{2}"),
            r"[{}][[:alnum:]{]{2}"
        );
        assert_eq!(go_to_rust_regex(r"[]{]x{,3}"), r"[]{]x\{,3\}");
    }

    #[test]
    fn anchored_alternations_are_grouped() {
        assert_eq!(
            group_anchored_alternation("(?i)^true|false|null$"),
            "(?i)^(?:true|false|null)$"
        );
        assert_eq!(group_anchored_alternation("^(?i:a+|b+)$"), "^(?i:a+|b+)$");
        assert_eq!(group_anchored_alternation(r"^[a|b]x$"), r"^[a|b]x$");
        assert_eq!(group_anchored_alternation("a|b"), "a|b");
    }

    #[test]
    fn allowlists_that_need_a_path_are_left_out() {
        let set = RuleSet::parse(
            r#"
[allowlist]
regexes = ['''^true$''']
stopwords = ["EXAMPLE"]

[[rules]]
id = "demo"
regex = '''demo_([a-z0-9]{8})'''
keywords = ["DEMO_"]
entropy = 2

[[rules.allowlists]]
condition = "AND"
paths = ['''\.lock$''']
regexes = ['''x''']

[[rules.allowlists]]
paths = ['''\.md$''']
regexTarget = "line"
regexes = ['''ignore-me''']

[[rules]]
id = "keystore"
path = '''\.p12$'''
"#,
        )
        .expect("parses");
        assert_eq!(set.global.len(), 1);
        assert_eq!(set.global[0].stopwords, ["example"]);
        let demo = &set.rules[0];
        assert_eq!(demo.keywords, ["demo_"]);
        assert_eq!(demo.entropy, Some(2.0));
        assert_eq!(demo.dropped_allowlists, 1);
        assert_eq!(demo.allow.len(), 1);
        assert_eq!(demo.allow[0].target, "Line");
        assert!(set.rules[1].regex.is_none());
        let source = Source {
            name: "n".into(),
            repository: "r".into(),
            path: "p".into(),
            version: "v1".into(),
            commit: "c".into(),
            license: "MIT".into(),
            license_file: "LICENSE".into(),
            sha256: "00".into(),
        };
        let rust = render(&set, &source);
        assert!(rust.contains("rules: 2 }"), "{rust}");
        assert!(rust.contains("pub(super) const PATH_ONLY: &[&str] = &[\n    \"keystore\",\n];"));
        assert!(rust.contains("1 allowlist(s) that need a path or a commit left out"));
    }

    #[test]
    fn a_bad_refresh_is_refused_before_anything_is_written() {
        let err = Refresh::parse(&["--from".into(), "x.toml".into()])
            .err()
            .expect("incomplete");
        assert!(err.to_string().contains("go together"), "{err}");
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("empty.toml");
        fs::write(&file, "title = \"nothing\"\n").expect("write");
        let refresh = Refresh {
            from: file.display().to_string(),
            version: "v0".into(),
            commit: "0".into(),
        };
        let err = refresh.apply(dir.path()).expect_err("no rules");
        assert!(err.to_string().contains("holds no [[rules]]"), "{err}");
    }
}
