//! `cargo xtask invariants-doc [--check]`: the `// Invariant:` comment blocks
//! of `crates/**.rs`, the tests that carry their ids and the danger-fence
//! registry, as `docs/invariants/INDEX.md` and one page per crate.
//!
//! Everything is read as text: the crates are never built or linked. The
//! block format is described in `docs/invariants/README.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::codegen::Mode;

/// The command that regenerates the docs, named in their first line.
const COMMAND: &str = "cargo xtask invariants-doc";
/// Where the docs go, relative to the root.
const DOCS_DIR: &str = "docs/invariants";
/// The hand-written page in `DOCS_DIR` that is not generated.
const README: &str = "README.md";
/// The danger-fence registry, relative to the root.
const REGISTRY: &str = "crates/waypost-fences/src/registry.rs";
/// From a page in `DOCS_DIR` back to the root.
const UP: &str = "../../";

/// The categories a block may name.
const CATEGORIES: &[&str] = &[
    "audit",
    "concurrency",
    "crash-safety",
    "determinism",
    "filesystem",
    "governance",
    "read-only",
    "safety",
    "schema",
    "security",
    "state-machine",
];

/// The fields a block may have after its `Invariant:` line, in no order.
const FIELDS: &[&str] = &[
    "Category",
    "Why",
    "Enforced by",
    "Root cause",
    "Correct pattern",
    "Forbidden",
    "Forbidden fixes",
];

/// The fields every block must have.
const REQUIRED: &[&str] = &["Category", "Why", "Enforced by"];

/// Writes the docs (or, with [`Mode::Check`], compares them) and fails
/// naming every problem found.
pub(crate) fn generate(root: &Path, mode: Mode) -> Result<()> {
    let problems = run(root, mode)?;
    if problems.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
    bail!(
        "{} invariant problem(s):\n  {}",
        problems.len(),
        list.join("\n  ")
    )
}

/// One problem, at a place in the tree.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Problem {
    /// `/`-joined, relative to the root.
    pub(crate) path: String,
    /// 1-based.
    pub(crate) line: usize,
    pub(crate) message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// Scans, renders, writes or compares; returns every problem, sorted.
pub(crate) fn run(root: &Path, mode: Mode) -> Result<Vec<Problem>> {
    let tree = scan(root)?;
    let mut problems = tree.problems.clone();
    problems.extend(validate(&tree));
    let files = render(&tree);
    problems.extend(ensure_docs(&root.join(DOCS_DIR), &files, mode)?);
    problems.sort();
    problems.dedup();
    Ok(problems)
}

/// A `// Invariant:` block.
#[derive(Clone, Debug)]
struct Invariant {
    id: String,
    title: String,
    /// The folder under `crates/`.
    krate: String,
    path: String,
    line: usize,
    /// (name, value) in the block's order; continuation lines joined.
    fields: Vec<(String, String)>,
}

impl Invariant {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn category(&self) -> &str {
        self.field("Category").unwrap_or("uncategorised")
    }
}

/// A `#[test]` whose name carries an id.
#[derive(Clone, Debug)]
struct IdTest {
    id: String,
    name: String,
    path: String,
    line: usize,
    ignore: Ignore,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ignore {
    /// Not ignored.
    No,
    /// `#[ignore]` with no reason string.
    Bare,
    /// `#[ignore = "reason"]`.
    Because(String),
}

/// A `DangerFence { .. }` entry of the registry.
#[derive(Clone, Debug)]
struct Fence {
    id: String,
    name: String,
    line: usize,
    /// (field, values) in the entry's order, `id` and `name` left out; a
    /// string field has one value, a list field any number.
    fields: Vec<(String, FenceValue)>,
}

#[derive(Clone, Debug)]
enum FenceValue {
    One(String),
    List(Vec<String>),
}

#[derive(Debug, Default)]
struct Tree {
    invariants: Vec<Invariant>,
    tests: Vec<IdTest>,
    fences: Vec<Fence>,
    /// The crate holding the registry, when there is one.
    registry_crate: Option<String>,
    /// Problems found while reading (malformed blocks, an unreadable registry).
    problems: Vec<Problem>,
}

/// Reads every `.rs` file under `crates/`, in path order.
fn scan(root: &Path) -> Result<Tree> {
    let mut tree = Tree::default();
    for path in rust_files(root)? {
        let text =
            fs::read_to_string(root.join(&path)).with_context(|| format!("cannot read {path}"))?;
        let Some(krate) = path
            .strip_prefix("crates/")
            .and_then(|rest| rest.split('/').next())
            .filter(|_| path.matches('/').count() >= 2)
        else {
            continue;
        };
        parse_blocks(&path, krate, &text, &mut tree);
        parse_tests(&path, &text, &mut tree);
        if path == REGISTRY {
            tree.registry_crate = Some(krate.to_owned());
            match parse_registry(&text) {
                Ok(fences) => tree.fences = fences,
                Err(RegistryError { line, why }) => tree.problems.push(Problem {
                    path: path.clone(),
                    line,
                    message: format!("cannot read the danger-fence registry as text: {why}"),
                }),
            }
        }
    }
    Ok(tree)
}

/// `/`-joined paths of the `.rs` files under `root/crates`, sorted; hidden
/// folders and `target` are skipped.
fn rust_files(root: &Path) -> Result<Vec<String>> {
    let files = crate::codegen::existing_files(&root.join("crates"), ".rs", |name| {
        !name.starts_with('.') && name != "target"
    })?;
    Ok(files.into_iter().map(|f| format!("crates/{f}")).collect())
}

/// Whether `id` is a crate prefix and three digits (`[A-Z]+-\d{3}`).
fn is_id(id: &str) -> bool {
    id.split_once('-').is_some_and(|(prefix, number)| {
        !prefix.is_empty()
            && prefix.bytes().all(|b| b.is_ascii_uppercase())
            && number.len() == 3
            && number.bytes().all(|b| b.is_ascii_digit())
    })
}

/// The body of a plain `//` comment line (not `///` or `//!`).
fn plain_comment(line: &str) -> Option<&str> {
    let body = line.trim_start().strip_prefix("//")?;
    (!body.starts_with('/') && !body.starts_with('!')).then_some(body)
}

/// Collapses runs of whitespace to one space.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_blocks(path: &str, krate: &str, text: &str, tree: &mut Tree) {
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let Some(head) =
            plain_comment(lines[i]).and_then(|b| b.trim_start().strip_prefix("Invariant:"))
        else {
            i += 1;
            continue;
        };
        let line = i + 1;
        let head = head.trim();
        let (id, title) = head.split_once(char::is_whitespace).unwrap_or((head, ""));
        let mut title = title.trim().to_owned();
        let mut fields: Vec<(String, String)> = Vec::new();
        i += 1;
        while let Some(body) = lines.get(i).and_then(|l| plain_comment(l)) {
            if body.starts_with("  ") {
                // A continuation of the title or of the last field.
                let target = fields.last_mut().map_or(&mut title, |(_, v)| v);
                target.push(' ');
                target.push_str(body.trim());
            } else if let Some((name, value)) = body.trim_start().split_once(':')
                && FIELDS.contains(&name)
            {
                fields.push((name.to_owned(), value.trim().to_owned()));
            } else {
                break;
            }
            i += 1;
        }
        let invariant = Invariant {
            id: id.to_owned(),
            title: squash(&title),
            krate: krate.to_owned(),
            path: path.to_owned(),
            line,
            fields: fields.into_iter().map(|(n, v)| (n, squash(&v))).collect(),
        };
        let mut problem = |message: String| {
            tree.problems.push(Problem {
                path: path.to_owned(),
                line,
                message,
            });
        };
        if !is_id(&invariant.id) {
            problem(format!(
                "`{}` is not an invariant id (a crate prefix and three digits, like JOB-003)",
                invariant.id
            ));
            continue;
        }
        if invariant.title.is_empty() {
            problem(format!("{} states no invariant after its id", invariant.id));
        }
        for required in REQUIRED {
            if invariant.field(required).is_none_or(str::is_empty) {
                problem(format!("{} has no `// {required}:` line", invariant.id));
            }
        }
        if let Some(category) = invariant.field("Category")
            && !category.is_empty()
            && !CATEGORIES.contains(&category)
        {
            problem(format!(
                "{} has the unknown category `{category}`; known: {}",
                invariant.id,
                CATEGORIES.join(", ")
            ));
        }
        tree.invariants.push(invariant);
    }
}

/// Depth change of `[`/`]` outside string literals.
fn bracket_depth(text: &str) -> i32 {
    let mut depth = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else {
            match c {
                '"' => in_string = true,
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
        }
    }
    depth
}

/// The path of an attribute (`test` in `#[test]`, `ignore` in
/// `#[ignore = ".."]`).
fn attribute_path(attribute: &str) -> &str {
    let inner = attribute.trim_start_matches("#[").trim_start();
    let end = inner
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(inner.len());
    &inner[..end]
}

/// The name of the function a trimmed line declares, if it declares one.
fn fn_name(line: &str) -> Option<&str> {
    let mut rest = line;
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?.trim_start();
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// The id a test name carries: `job_003_terminal…` carries JOB-003.
fn carried_id(name: &str) -> Option<String> {
    let (prefix, rest) = name.split_once('_')?;
    let (number, tail) = rest.split_at_checked(3)?;
    let carries = !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && number.bytes().all(|b| b.is_ascii_digit())
        && tail.starts_with('_');
    carries.then(|| format!("{}-{number}", prefix.to_ascii_uppercase()))
}

/// The reason string of `#[ignore = "reason"]`, if any.
fn ignore_reason(attribute: &str) -> Option<String> {
    let (_, value) = attribute.split_once('=')?;
    let value = value.trim().trim_end_matches(']').trim();
    let reason = value.strip_prefix('"')?.strip_suffix('"')?;
    (!reason.trim().is_empty()).then(|| reason.to_owned())
}

fn parse_tests(path: &str, text: &str, tree: &mut Tree) {
    // The attributes directly above the current line, and one still open
    // over several lines.
    let mut attributes: Vec<String> = Vec::new();
    let mut open: Option<(String, i32)> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some((mut attribute, depth)) = open.take() {
            attribute.push(' ');
            attribute.push_str(trimmed);
            let depth = depth + bracket_depth(trimmed);
            if depth > 0 {
                open = Some((attribute, depth));
            } else {
                attributes.push(attribute);
            }
            continue;
        }
        if trimmed.starts_with("#[") {
            let depth = bracket_depth(trimmed);
            if depth > 0 {
                open = Some((trimmed.to_owned(), depth));
            } else {
                attributes.push(trimmed.to_owned());
            }
        } else if trimmed.is_empty() || trimmed.starts_with("//") {
            // Comments and blank lines keep the attributes above.
        } else if let Some(name) = fn_name(trimmed) {
            let is_test = attributes.iter().any(|a| {
                let p = attribute_path(a);
                p == "test" || p.ends_with("::test")
            });
            if is_test && let Some(id) = carried_id(name) {
                let ignore = attributes
                    .iter()
                    .find(|a| attribute_path(a) == "ignore")
                    .map_or(Ignore::No, |a| {
                        ignore_reason(a).map_or(Ignore::Bare, Ignore::Because)
                    });
                tree.tests.push(IdTest {
                    id,
                    name: name.to_owned(),
                    path: path.to_owned(),
                    line: index + 1,
                    ignore,
                });
            }
            attributes.clear();
        } else {
            attributes.clear();
        }
    }
}

/// Why the registry could not be read as text, and where.
#[derive(Debug)]
struct RegistryError {
    line: usize,
    why: String,
}

impl RegistryError {
    fn at(line: usize, why: impl Into<String>) -> Self {
        Self {
            line,
            why: why.into(),
        }
    }
}

/// A `name: value` of a registry entry.
struct RegistryField {
    name: String,
    value: FenceValue,
    line: usize,
}

/// A token of the registry's source, with its line.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Ident(String),
    Str(String),
    Punct(char),
}

fn tokens(text: &str) -> std::result::Result<Vec<(Token, usize)>, RegistryError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '"' => {
                let start = line;
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => return Err(RegistryError::at(start, "a string that never ends")),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => value.push('\n'),
                            Some('t') => value.push('\t'),
                            Some('\n') => {
                                line += 1;
                                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                                    if chars.next() == Some('\n') {
                                        line += 1;
                                    }
                                }
                            }
                            Some(other) => value.push(other),
                            None => {
                                return Err(RegistryError::at(start, "a string that never ends"));
                            }
                        },
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            value.push(c);
                        }
                    }
                }
                out.push((Token::Str(value), start));
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut ident = String::from(c);
                while let Some(&c) = chars.peek() {
                    if !(c.is_alphanumeric() || c == '_') {
                        break;
                    }
                    ident.push(c);
                    chars.next();
                }
                out.push((Token::Ident(ident), line));
            }
            c => out.push((Token::Punct(c), line)),
        }
    }
    Ok(out)
}

/// The entries of `DANGER_FENCES`: every `DangerFence { field: "..", list:
/// &[".."], .. }` literal in the value of `DANGER_FENCES`, in order.
fn parse_registry(text: &str) -> std::result::Result<Vec<Fence>, RegistryError> {
    let all = tokens(text)?;
    let start = all
        .iter()
        .position(|(t, _)| *t == Token::Ident("DANGER_FENCES".to_owned()))
        .ok_or_else(|| RegistryError::at(1, "no `DANGER_FENCES` item"))?;
    // Past the type (`&[DangerFence]`), at the value.
    let start = start
        + all[start..]
            .iter()
            .position(|(t, _)| *t == Token::Punct('='))
            .ok_or_else(|| RegistryError::at(1, "`DANGER_FENCES` has no value"))?;
    let mut fences = Vec::new();
    let mut iter = all[start..].iter().peekable();
    let unexpected = |token: Option<&(Token, usize)>, want: &str| {
        let line = token.map_or(0, |(_, line)| *line);
        RegistryError::at(
            line,
            format!("expected {want}, found {:?}", token.map(|(t, _)| t)),
        )
    };
    while let Some((token, line)) = iter.next() {
        if *token == Token::Punct(';') {
            break;
        }
        if *token != Token::Ident("DangerFence".to_owned()) {
            continue;
        }
        let entry_line = *line;
        match iter.next() {
            Some((Token::Punct('{'), _)) => {}
            other => return Err(unexpected(other, "`{`")),
        }
        let mut fields: Vec<RegistryField> = Vec::new();
        loop {
            let (name, line) = match iter.next() {
                Some((Token::Punct('}'), _)) => break,
                Some((Token::Ident(name), line)) => (name.clone(), *line),
                other => return Err(unexpected(other, "a field name or `}`")),
            };
            match iter.next() {
                Some((Token::Punct(':'), _)) => {}
                other => return Err(unexpected(other, "`:`")),
            }
            let value = match iter.next() {
                Some((Token::Str(value), _)) => FenceValue::One(squash(value)),
                Some((Token::Punct('&'), _)) => {
                    match iter.next() {
                        Some((Token::Punct('['), _)) => {}
                        other => return Err(unexpected(other, "`[`")),
                    }
                    let mut values = Vec::new();
                    loop {
                        match iter.next() {
                            Some((Token::Str(value), _)) => values.push(squash(value)),
                            Some((Token::Punct(','), _)) => {}
                            Some((Token::Punct(']'), _)) => break,
                            other => return Err(unexpected(other, "a string, `,` or `]`")),
                        }
                    }
                    FenceValue::List(values)
                }
                other => return Err(unexpected(other, "a string or `&[..]`")),
            };
            fields.push(RegistryField { name, value, line });
            if let Some((Token::Punct(','), _)) = iter.peek() {
                iter.next();
            }
        }
        let mut take = |name: &str| -> std::result::Result<String, RegistryError> {
            let index = fields.iter().position(|f| f.name == name).ok_or_else(|| {
                RegistryError::at(entry_line, format!("an entry without `{name}`"))
            })?;
            let field = fields.remove(index);
            match field.value {
                FenceValue::One(value) => Ok(value),
                FenceValue::List(_) => Err(RegistryError::at(
                    field.line,
                    format!("`{name}` is not a string"),
                )),
            }
        };
        let id = take("id")?;
        let name = take("name")?;
        fences.push(Fence {
            id,
            name,
            line: entry_line,
            fields: fields.into_iter().map(|f| (f.name, f.value)).collect(),
        });
    }
    if fences.is_empty() {
        return Err(RegistryError::at(1, "no `DangerFence { .. }` entries"));
    }
    Ok(fences)
}

/// Duplicate ids, untested invariants, tests of undeclared ids, ignored
/// tests without a reason, registry entries without a block.
fn validate(tree: &Tree) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut declared: BTreeMap<&str, &Invariant> = BTreeMap::new();
    for invariant in &tree.invariants {
        if let Some(first) = declared.get(invariant.id.as_str()) {
            problems.push(Problem {
                path: invariant.path.clone(),
                line: invariant.line,
                message: format!(
                    "{} is declared twice (also at {}:{})",
                    invariant.id, first.path, first.line
                ),
            });
        } else {
            declared.insert(&invariant.id, invariant);
        }
    }
    let tested: BTreeSet<&str> = tree.tests.iter().map(|t| t.id.as_str()).collect();
    for invariant in declared.values() {
        if !tested.contains(invariant.id.as_str()) {
            problems.push(Problem {
                path: invariant.path.clone(),
                line: invariant.line,
                message: format!(
                    "{} has no test: name one `{}_…` after what it proves",
                    invariant.id,
                    invariant.id.to_ascii_lowercase().replace('-', "_")
                ),
            });
        }
    }
    for test in &tree.tests {
        if !declared.contains_key(test.id.as_str()) {
            problems.push(Problem {
                path: test.path.clone(),
                line: test.line,
                message: format!(
                    "test {} carries {}, which no `// Invariant:` block declares",
                    test.name, test.id
                ),
            });
        }
        if test.ignore == Ignore::Bare {
            problems.push(Problem {
                path: test.path.clone(),
                line: test.line,
                message: format!(
                    "test {} carries {} and is ignored without a reason: write `#[ignore = \"why\"]`",
                    test.name, test.id
                ),
            });
        }
    }
    let mut registered = BTreeSet::new();
    for fence in &tree.fences {
        if !registered.insert(fence.id.as_str()) {
            problems.push(Problem {
                path: REGISTRY.to_owned(),
                line: fence.line,
                message: format!("{} is registered twice", fence.id),
            });
        }
        if !declared.contains_key(fence.id.as_str()) {
            problems.push(Problem {
                path: REGISTRY.to_owned(),
                line: fence.line,
                message: format!(
                    "danger fence {} has no `// Invariant: {}` block",
                    fence.id, fence.id
                ),
            });
        }
    }
    problems
}

/// The generated pages: `INDEX.md` and `<crate>.md`, by file name.
fn render(tree: &Tree) -> BTreeMap<String, String> {
    let mut invariants: Vec<&Invariant> = tree.invariants.iter().collect();
    invariants.sort_by(|a, b| (&a.id, &a.path, a.line).cmp(&(&b.id, &b.path, b.line)));
    let mut tests: Vec<&IdTest> = tree.tests.iter().collect();
    tests.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    let mut by_crate: BTreeMap<&str, Vec<&Invariant>> = BTreeMap::new();
    let mut by_category: BTreeMap<&str, Vec<&Invariant>> = BTreeMap::new();
    for invariant in &invariants {
        by_crate
            .entry(&invariant.krate)
            .or_default()
            .push(invariant);
        by_category
            .entry(invariant.category())
            .or_default()
            .push(invariant);
    }
    let fence_crate = tree
        .registry_crate
        .as_deref()
        .filter(|_| !tree.fences.is_empty());
    if let Some(krate) = fence_crate {
        by_crate.entry(krate).or_default();
    }

    let mut files = BTreeMap::new();
    let mut index = header();
    index.push_str("# Invariants\n\n");
    let _ = writeln!(
        index,
        "Every `// Invariant:` block in `crates/`, beside the code that enforces it \
         ([the format](README.md)). Invariants: {}; tests that carry their ids: {}; \
         danger fences: {}.",
        invariants.len(),
        tests.len(),
        tree.fences.len()
    );
    index.push_str("\n## By crate\n");
    for (krate, list) in &by_crate {
        let _ = writeln!(index, "\n### [{krate}]({krate}.md)\n");
        if list.is_empty() {
            index.push_str("No invariant blocks.\n");
        }
        for invariant in list {
            let _ = writeln!(
                index,
                "- {} {} ({})",
                invariant_link(invariant),
                text(&invariant.title),
                invariant.category()
            );
        }
    }
    index.push_str("\n## By category\n");
    for (category, list) in &by_category {
        let _ = writeln!(index, "\n### {category}\n");
        for invariant in list {
            let _ = writeln!(
                index,
                "- {} {} ({})",
                invariant_link(invariant),
                text(&invariant.title),
                invariant.krate
            );
        }
    }
    if let Some(krate) = fence_crate {
        let _ = writeln!(
            index,
            "\n## Danger fences\n\n\
             The races `{krate}` fences, from its registry \
             [`{REGISTRY}`]({UP}{REGISTRY}) ([details]({krate}.md#danger-fences)):\n"
        );
        for fence in &tree.fences {
            let _ = writeln!(index, "- {} {}", fence_link(fence), text(&fence.name));
        }
    }
    files.insert("INDEX.md".to_owned(), index);

    for (krate, list) in &by_crate {
        let mut page = header();
        let _ = writeln!(page, "# Invariants of {krate}\n");
        page.push_str("[All invariants](INDEX.md) · [The format](README.md)\n");
        for invariant in list {
            let _ = writeln!(
                page,
                "\n## {} {}\n\n[`{}:{}`]({}{}#L{})\n",
                invariant.id,
                text(&invariant.title),
                invariant.path,
                invariant.line,
                UP,
                invariant.path,
                invariant.line
            );
            for (name, value) in &invariant.fields {
                let _ = writeln!(page, "- **{name}:** {}", text(value));
            }
            page.push_str("\nTests:\n\n");
            let carrying: Vec<&&IdTest> = tests.iter().filter(|t| t.id == invariant.id).collect();
            if carrying.is_empty() {
                page.push_str("- none\n");
            }
            for test in carrying {
                let ignored = match &test.ignore {
                    Ignore::No => String::new(),
                    Ignore::Bare => " (ignored, no reason given)".to_owned(),
                    Ignore::Because(reason) => format!(" (ignored: {})", text(reason)),
                };
                let _ = writeln!(
                    page,
                    "- [`{}`]({}{}#L{}) in `{}`{ignored}",
                    test.name, UP, test.path, test.line, test.path
                );
            }
        }
        if fence_crate == Some(*krate) {
            let _ = writeln!(
                page,
                "\n## Danger fences\n\n\
                 The entries of the registry [`{REGISTRY}`]({UP}{REGISTRY}), in its order."
            );
            for fence in &tree.fences {
                let _ = writeln!(
                    page,
                    "\n### {} {}\n\n[`{REGISTRY}:{}`]({UP}{REGISTRY}#L{})\n",
                    fence.id,
                    text(&fence.name),
                    fence.line,
                    fence.line
                );
                for (field, value) in &fence.fields {
                    // Helpers and tests are Rust paths: shown as code.
                    let shown = |value: &str| match field.as_str() {
                        "helper" | "tests" => format!("`{value}`"),
                        _ => text(value),
                    };
                    let label = label(field);
                    match value {
                        FenceValue::One(value) => {
                            let _ = writeln!(page, "- **{label}:** {}", shown(value));
                        }
                        FenceValue::List(values) => {
                            let _ = writeln!(page, "- **{label}:**");
                            for value in values {
                                let _ = writeln!(page, "  - {}", shown(value));
                            }
                        }
                    }
                }
            }
        }
        files.insert(format!("{krate}.md"), page);
    }
    files
}

/// The first line of every generated page.
fn header() -> String {
    format!(
        "<!-- Generated by `{COMMAND}` from the `// Invariant:` blocks in crates/; edit those, not this file. -->\n\n"
    )
}

fn invariant_link(invariant: &Invariant) -> String {
    format!(
        "[{}]({UP}{}#L{})",
        invariant.id, invariant.path, invariant.line
    )
}

fn fence_link(fence: &Fence) -> String {
    format!("[{}]({UP}{REGISTRY}#L{})", fence.id, fence.line)
}

/// `root_cause` -> `Root cause`.
fn label(field: &str) -> String {
    let words = field.replace('_', " ");
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Comment text as Markdown: characters Markdown would read as markup are
/// escaped outside code spans.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut in_code = false;
    for c in value.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code && matches!(c, '<' | '>' | '*' | '[' | ']' | '\\' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Makes `dir` hold `files` (by file name) among its `.md` files other than
/// the README, or in check mode reports every difference.
fn ensure_docs(dir: &Path, files: &BTreeMap<String, String>, mode: Mode) -> Result<Vec<Problem>> {
    let mut problems = Vec::new();
    let relative = |name: &str| format!("{DOCS_DIR}/{name}");
    for (name, contents) in files {
        let path = dir.join(name);
        let current = fs::read_to_string(&path).ok();
        if current.as_deref() == Some(contents.as_str()) {
            continue;
        }
        match mode {
            Mode::Check => {
                let (line, what) = match &current {
                    Some(current) => (first_difference(current, contents), "is stale"),
                    None => (1, "is missing"),
                };
                problems.push(Problem {
                    path: relative(name),
                    line,
                    message: format!("{what}: run `{COMMAND}` and commit"),
                });
            }
            Mode::Write => {
                fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                fs::write(&path, contents)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries.collect::<std::io::Result<Vec<_>>>()?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    let mut extra: Vec<String> = entries
        .iter()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md") && n != README && !files.contains_key(n))
        .collect();
    extra.sort();
    for name in extra {
        match mode {
            Mode::Check => problems.push(Problem {
                path: relative(&name),
                line: 1,
                message: format!("is not generated: run `{COMMAND}` and commit"),
            }),
            Mode::Write => {
                let path = dir.join(&name);
                fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
    }
    Ok(problems)
}

/// The 1-based number of the first line where `a` and `b` differ.
fn first_difference(a: &str, b: &str) -> usize {
    let mut a_lines = a.lines();
    let mut b_lines = b.lines();
    let mut line = 1;
    loop {
        match (a_lines.next(), b_lines.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            _ => return line,
        }
    }
}

#[cfg(test)]
mod tests;
