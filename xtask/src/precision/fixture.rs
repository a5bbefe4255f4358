//! Marks into regression fixtures.
//!
//! A fixture `DIR/<detector>-<gap id>/` holds `expect.json` (what the
//! scanner should say) and `tree/`, a minimal reproduction built by code
//! from the sample's data and the source repository's file NAMES. No file
//! content of the source repository is copied: the finding's file holds one
//! synthesized reference, marker files (`Cargo.toml`, `book.toml`, ...) are
//! written from templates with at most the one setting that changes where
//! paths resolve, and files that share the target's name are created
//! empty. A fixture is therefore safe to commit whatever the source was.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use waypost_schemas::io::{Links, MAX_CONFIG_BYTES, read_text};
use waypost_schemas::paths::RepoPath;

use super::marked::{self, Verdict};
use super::report::head_commit;
use super::{FIXTURE_DETECTORS, Sample};

/// At most this many same-name files go into one fixture.
const MAX_SAME_NAME_FILES: usize = 200;

/// What `fixtures` did.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// The fixture folders written, in report order.
    pub(super) written: Vec<PathBuf>,
    /// Samples that gave no fixture: their heading and why.
    pub(super) skipped: Vec<(String, String)>,
    /// Remarks that did not stop a fixture (a source that moved on).
    pub(super) notes: Vec<String>,
    /// Per detector, the samples marked right and wrong.
    pub(super) marks: BTreeMap<String, (usize, usize)>,
}

impl Outcome {
    /// Reports on the terminal what was written and what was not.
    pub(super) fn print(&self) {
        #[expect(clippy::print_stderr, reason = "the xtask reports to the terminal")]
        {
            for (detector, (right, wrong)) in &self.marks {
                let judged = right + wrong;
                eprintln!(
                    "{detector}: {right} right, {wrong} wrong of {judged} judged ({:.0}% precision)",
                    100.0 * *right as f64 / judged as f64
                );
            }
            for note in &self.notes {
                eprintln!("note: {note}");
            }
            for (heading, reason) in &self.skipped {
                eprintln!("skipped {heading}: {reason}");
            }
            eprintln!(
                "wrote {} fixtures, skipped {} samples",
                self.written.len(),
                self.skipped.len()
            );
        }
    }
}

/// Reads the marked report `marked` and writes a fixture under `to` for
/// every sample it can. Fails only when the report cannot be read (or
/// holds no sample at all) or a fixture cannot be written.
pub(super) fn write_fixtures(marked: &Path, to: &Path) -> Result<Outcome> {
    let text = fs::read_to_string(marked)
        .with_context(|| format!("cannot read the marked report {}", marked.display()))?;
    let sections = marked::parse(&text);
    if sections.is_empty() {
        bail!(
            "{} holds no samples: is it a report of `cargo xtask precision`?",
            marked.display()
        );
    }
    let mut outcome = Outcome::default();
    for section in sections {
        let (sample, verdict) = match (&section.sample, section.verdict()) {
            (Err(why), _) => {
                outcome.skipped.push((section.heading, why.clone()));
                continue;
            }
            (Ok(_), Err(why)) => {
                outcome.skipped.push((section.heading, why.to_owned()));
                continue;
            }
            (Ok(sample), Ok(verdict)) => (sample, verdict),
        };
        let tally = outcome.marks.entry(sample.detector.clone()).or_default();
        match verdict {
            Verdict::Right => tally.0 += 1,
            Verdict::Wrong => tally.1 += 1,
        }
        match plan(sample, verdict) {
            Ok(fixture) => {
                if fixture.source.head != sample.head {
                    outcome.notes.push(format!(
                        "{} is at {} now, the report saw {}: the fixture for {} reflects its files now",
                        sample.repo, fixture.source.head, sample.head, sample.gap_id
                    ));
                }
                let dir = to.join(format!("{}-{}", sample.detector, sample.gap_id));
                fixture.write(&dir)?;
                outcome.written.push(dir);
            }
            Err(why) => outcome.skipped.push((section.heading, why)),
        }
    }
    Ok(outcome)
}

/// Where a fixture came from.
#[derive(Debug)]
struct Source {
    /// The source repository's folder name.
    name: String,
    /// Its HEAD commit now.
    head: String,
}

/// A fixture, in memory.
#[derive(Debug)]
struct Fixture {
    detector: String,
    /// The finding's file (repository-relative).
    file: String,
    target: String,
    reference: String,
    finding_expected: bool,
    source: Source,
    /// The HEAD the report saw: what `expect.json` records.
    reported_head: String,
    /// `tree/`: repository-relative path -> contents.
    tree: BTreeMap<String, String>,
}

impl Fixture {
    /// `expect.json`, keys in a fixed order.
    fn expect_json(&self) -> String {
        let s = |text: &str| Value::from(text).to_string();
        let mut out = String::from("{\n");
        let _ = writeln!(out, "  \"detector\": {},", s(&self.detector));
        let _ = writeln!(out, "  \"file\": {},", s(&self.file));
        let _ = writeln!(out, "  \"target\": {},", s(&self.target));
        let _ = writeln!(out, "  \"reference\": {},", s(&self.reference));
        let _ = writeln!(out, "  \"finding_expected\": {},", self.finding_expected);
        let _ = writeln!(
            out,
            "  \"source\": {{ \"repo\": {}, \"head\": {} }}",
            s(&self.source.name),
            s(&self.reported_head)
        );
        out.push_str("}\n");
        out
    }

    /// Writes the fixture to `dir`, replacing what was there.
    fn write(&self, dir: &Path) -> Result<()> {
        if dir.exists() {
            fs::remove_dir_all(dir)
                .with_context(|| format!("cannot replace the fixture {}", dir.display()))?;
        }
        let tree = dir.join("tree");
        fs::create_dir_all(&tree).with_context(|| format!("cannot create {}", tree.display()))?;
        let expect = dir.join("expect.json");
        fs::write(&expect, self.expect_json())
            .with_context(|| format!("cannot write {}", expect.display()))?;
        for (relative, contents) in &self.tree {
            let path = tree.join(relative);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            fs::write(&path, contents)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}

/// A repository path a fixture may hold: plain, normalised, shown as is
/// (no escaped name).
fn plain_path(text: &str) -> Result<String, String> {
    match RepoPath::new(text) {
        Ok(path) if path.as_str() == text && !text.contains('\\') => Ok(text.to_owned()),
        _ => Err(format!("`{text}` is not a plain repository path")),
    }
}

/// The fixture for `sample` marked `verdict`, or why there is none.
fn plan(sample: &Sample, verdict: Verdict) -> Result<Fixture, String> {
    let detector = sample.detector.as_str();
    if !FIXTURE_DETECTORS.contains(&detector) {
        return Err(format!(
            "no fixture template for detector `{detector}` (only {})",
            FIXTURE_DETECTORS.join(", ")
        ));
    }
    let target = sample.target().ok_or("the evidence has no `written_as`")?;
    let reference = match (detector, sample.extra_str("reference")) {
        (_, Some(reference)) => reference,
        ("missing_test_fixture", None) => "string_literal",
        _ => return Err("the evidence has no `reference`".to_owned()),
    };
    if sample.gap_id.is_empty()
        || sample.gap_id.contains(['/', '\\'])
        || sample.gap_id.starts_with('.')
    {
        return Err(format!("gap id `{}` cannot name a folder", sample.gap_id));
    }
    let file = plain_path(sample.file().ok_or("the finding names no file")?)?;
    let contents = reference_file(detector, reference, &file, target)?;

    let root = Path::new(&sample.repo);
    if !root.is_dir() {
        return Err(format!(
            "the source repository {} is not a folder here",
            sample.repo
        ));
    }
    let name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| sample.repo.clone());

    // Later entries win: a same-name file that is also a marker or the
    // finding's own file gets the synthesized content.
    let mut tree: BTreeMap<String, String> = same_name_files(root, target)
        .into_iter()
        .map(|path| (path, String::new()))
        .collect();
    tree.extend(markers(root, &file));
    tree.insert(file.clone(), contents);

    Ok(Fixture {
        detector: detector.to_owned(),
        file,
        target: target.to_owned(),
        reference: reference.to_owned(),
        finding_expected: verdict == Verdict::Right,
        source: Source {
            name,
            head: head_commit(root),
        },
        reported_head: sample.head.clone(),
        tree,
    })
}

/// `text` inside a double-quoted string literal of Rust, Python or
/// JavaScript.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The finding's file, synthesized: the one reference to `target`, written
/// as the detector reads it.
fn reference_file(
    detector: &str,
    reference: &str,
    file: &str,
    target: &str,
) -> Result<String, String> {
    if detector == "broken_markdown_link" {
        return Ok(if reference == "code_span" {
            let ticks = "`".repeat(target.split(|c| c != '`').map(str::len).max().unwrap_or(0) + 1);
            let pad = if target.starts_with('`') || target.ends_with('`') {
                " "
            } else {
                ""
            };
            format!("See {ticks}{pad}{target}{pad}{ticks}.\n")
        } else if target.contains([' ', '(', ')']) && !target.contains(['<', '>']) {
            // A destination with spaces or brackets needs the <...> form.
            format!("[x](<{target}>)\n")
        } else {
            format!("[x]({target})\n")
        });
    }
    let literal = quoted(target);
    let extension = file.rsplit_once('.').map_or("", |(_, e)| e);
    match extension {
        "rs" => Ok(format!(
            "#[test]\nfn reads_fixture() {{\n    let _ = std::fs::read({literal});\n}}\n"
        )),
        "py" => Ok(format!("def test_reads_fixture():\n    open({literal})\n")),
        "js" | "ts" | "mjs" | "cjs" | "jsx" | "tsx" => {
            Ok(format!("test(\"x\", () => readFileSync({literal}));\n"))
        }
        _ => Err(format!("no test template for `{file}`")),
    }
}

/// The name a reference's target has on disk: its last segment, without
/// `#fragment` or `?query`.
fn target_name(target: &str) -> Option<&str> {
    let path = target.split(['#', '?']).next().unwrap_or(target);
    path.rsplit('/')
        .next()
        .filter(|name| !name.is_empty() && *name != "." && *name != "..")
}

/// Files of `root` (walked honouring `.gitignore`, `.git` left out) that
/// carry the target's name, or for a `.html` target its stem plus `.md`:
/// where a resolver might find it. Repository-relative, sorted, at most
/// [`MAX_SAME_NAME_FILES`].
fn same_name_files(root: &Path, target: &str) -> Vec<String> {
    let Some(name) = target_name(target) else {
        return Vec::new();
    };
    let mut names = vec![name.to_owned()];
    if let Some(stem) = name.strip_suffix(".html") {
        names.push(format!("{stem}.md"));
    }
    let walk = ignore::WalkBuilder::new(root)
        .hidden(false)
        .parents(false)
        .require_git(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|entry| entry.file_name() != ".git")
        .build();
    let mut found = Vec::new();
    for entry in walk.flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Some(file_name) = entry.file_name().to_str() else {
            continue;
        };
        if !names.iter().any(|n| n == file_name) {
            continue;
        }
        let Some(relative) = relative_path(root, entry.path()) else {
            continue;
        };
        found.push(relative);
        if found.len() == MAX_SAME_NAME_FILES {
            break;
        }
    }
    found
}

/// `path` relative to `root`, `/`-separated, when it is a plain path.
fn relative_path(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect();
    plain_path(&parts?.join("/")).ok()
}

/// The folders from the root down to `file`'s: `""`, `"a/"`, `"a/b/"`.
fn folders_of(file: &str) -> Vec<String> {
    let mut folders = vec![String::new()];
    let mut prefix = String::new();
    if let Some((dir, _)) = file.rsplit_once('/') {
        for segment in dir.split('/') {
            prefix.push_str(segment);
            prefix.push('/');
            folders.push(prefix.clone());
        }
    }
    folders
}

/// The marker files of the folders from the root down to `file`'s, as far
/// as the source repository has them, synthesized from templates.
fn markers(root: &Path, file: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for folder in folders_of(file) {
        let dir = root.join(&folder);
        for name in MARKERS {
            let Ok(text) = read_text(&dir.join(name), MAX_CONFIG_BYTES, Links::Refuse) else {
                continue;
            };
            if let Some(contents) = marker(name, &text) {
                out.insert(format!("{folder}{name}"), contents);
            }
        }
        // A VitePress site: its config's presence is what counts.
        if let Ok(entries) = fs::read_dir(dir.join(".vitepress")) {
            for entry in entries.flatten() {
                let is_file = entry.file_type().is_ok_and(|t| t.is_file());
                if let Some(name) = entry.file_name().to_str()
                    && is_file
                    && name.starts_with("config.")
                {
                    out.insert(format!("{folder}.vitepress/{name}"), String::new());
                }
            }
        }
    }
    out
}

/// The files that tell a reader of the tree what kind of project (or
/// documentation site, or test suite) a folder is.
const MARKERS: [&str; 9] = [
    "Cargo.toml",
    "book.toml",
    "mkdocs.yml",
    "mkdocs.yaml",
    "package.json",
    "pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
];

/// The synthesized marker `name` for a source file that reads `text`, or
/// None when the source's file does not make the folder what the marker
/// says (a `pyproject.toml` without pytest settings).
fn marker(name: &str, text: &str) -> Option<String> {
    match name {
        "Cargo.toml" => {
            let has_package = match text.parse::<toml::Table>() {
                Ok(table) => table.get("package").is_some_and(toml::Value::is_table),
                Err(_) => text.lines().any(|l| l.trim() == "[package]"),
            };
            Some(if has_package {
                "[package]\nname = \"fixture\"\nversion = \"0.0.0\"\n".to_owned()
            } else {
                "[workspace]\n".to_owned()
            })
        }
        "book.toml" => {
            let mut out = "[book]\n".to_owned();
            let src = text.parse::<toml::Table>().ok().and_then(|t| {
                t.get("book")
                    .and_then(|b| b.get("src"))
                    .and_then(toml::Value::as_str)
                    .map(str::to_owned)
            });
            if let Some(src) = src {
                let _ = writeln!(out, "src = {}", toml::Value::String(src));
            }
            Some(out)
        }
        "mkdocs.yml" | "mkdocs.yaml" => {
            let mut out = "site_name: fixture\n".to_owned();
            let docs_dir = text
                .lines()
                .find_map(|l| l.strip_prefix("docs_dir:"))
                .map(|v| v.split(" #").next().unwrap_or(v).trim())
                .filter(|v| !v.is_empty());
            if let Some(docs_dir) = docs_dir {
                let _ = writeln!(out, "docs_dir: {docs_dir}");
            }
            Some(out)
        }
        "package.json" => Some("{\"name\": \"fixture\"}\n".to_owned()),
        "pytest.ini" => Some(ini_section(text, "pytest", true)),
        "tox.ini" => ini_has_section(text, "pytest").then(|| ini_section(text, "pytest", false)),
        "setup.cfg" => {
            ini_has_section(text, "tool:pytest").then(|| ini_section(text, "tool:pytest", false))
        }
        "pyproject.toml" => {
            let table = text.parse::<toml::Table>().ok()?;
            let options = table.get("tool")?.get("pytest")?.get("ini_options")?;
            let mut out = "[tool.pytest.ini_options]\n".to_owned();
            if let Some(paths) = options.get("testpaths") {
                let _ = writeln!(out, "testpaths = {paths}");
            }
            Some(out)
        }
        _ => None,
    }
}

/// The name of the INI section a line opens, if it opens one.
fn ini_header(line: &str) -> Option<&str> {
    line.trim()
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .map(str::trim)
}

fn ini_has_section(text: &str, section: &str) -> bool {
    text.lines().any(|l| ini_header(l) == Some(section))
}

/// `[section]` plus `testpaths = ...` when the section sets it (values on
/// continuation lines joined by spaces, as pytest splits them). `always`:
/// the header is written even when the file has no such section.
fn ini_section(text: &str, section: &str, always: bool) -> String {
    let mut out = format!("[{section}]\n");
    if !always && !ini_has_section(text, section) {
        return out;
    }
    let mut inside = false;
    let mut value: Option<Vec<String>> = None;
    for line in text.lines() {
        if let Some(header) = ini_header(line) {
            if value.is_some() {
                break;
            }
            inside = header == section;
            continue;
        }
        if !inside {
            continue;
        }
        let continued = line.starts_with([' ', '\t']) && !line.trim().is_empty();
        match value.as_mut() {
            Some(parts) if continued => {
                parts.extend(line.split_whitespace().map(str::to_owned));
            }
            Some(_) => break,
            None => {
                let Some((key, rest)) = line.split_once(['=', ':']) else {
                    continue;
                };
                if key.trim() == "testpaths" {
                    value = Some(rest.split_whitespace().map(str::to_owned).collect());
                }
            }
        }
    }
    if let Some(parts) = value.filter(|p| !p.is_empty()) {
        let _ = writeln!(out, "testpaths = {}", parts.join(" "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_written_as_the_detector_reads_them() {
        let md = |reference, target| {
            reference_file("broken_markdown_link", reference, "docs/a.md", target)
                .expect("template")
        };
        assert_eq!(md("link", "b.md"), "[x](b.md)\n");
        assert_eq!(md("image", "i.png"), "[x](i.png)\n");
        assert_eq!(md("code_span", "src/x.rs"), "See `src/x.rs`.\n");
        assert_eq!(md("link", "my file.md"), "[x](<my file.md>)\n");
        let test = |file| {
            reference_file(
                "missing_test_fixture",
                "string_literal",
                file,
                "assets/a.txt",
            )
        };
        assert_eq!(
            test("tests/a.rs").as_deref(),
            Ok("#[test]\nfn reads_fixture() {\n    let _ = std::fs::read(\"assets/a.txt\");\n}\n")
        );
        assert_eq!(
            test("pkg/test_a.py").as_deref(),
            Ok("def test_reads_fixture():\n    open(\"assets/a.txt\")\n")
        );
        assert_eq!(
            test("web/test_a.tsx").as_deref(),
            Ok("test(\"x\", () => readFileSync(\"assets/a.txt\"));\n")
        );
        assert!(test("tests/a.go").is_err());
    }

    #[test]
    fn markers_keep_only_what_moves_paths() {
        let m = |name, text| marker(name, text);
        assert_eq!(
            m(
                "Cargo.toml",
                "[package]\nname = \"secret\"\nversion = \"9.9.9\"\n"
            )
            .as_deref(),
            Some("[package]\nname = \"fixture\"\nversion = \"0.0.0\"\n")
        );
        assert_eq!(
            m("Cargo.toml", "[workspace]\nmembers = [\"a\"]\n").as_deref(),
            Some("[workspace]\n")
        );
        assert_eq!(
            m("book.toml", "[book]\ntitle = \"T\"\nsrc = \"pages\"\n").as_deref(),
            Some("[book]\nsrc = \"pages\"\n")
        );
        assert_eq!(
            m("book.toml", "[book]\ntitle = \"T\"\n").as_deref(),
            Some("[book]\n")
        );
        assert_eq!(
            m(
                "mkdocs.yml",
                "site_name: Mine\ndocs_dir: site-src # here\nnav:\n  docs_dir: no\n"
            )
            .as_deref(),
            Some("site_name: fixture\ndocs_dir: site-src\n")
        );
        assert_eq!(
            m("package.json", "{\"name\": \"x\", \"private\": true}").as_deref(),
            Some("{\"name\": \"fixture\"}\n")
        );
        assert_eq!(
            m(
                "pytest.ini",
                "[pytest]\naddopts = -q\ntestpaths =\n    tests\n    integration\n"
            )
            .as_deref(),
            Some("[pytest]\ntestpaths = tests integration\n")
        );
        assert_eq!(m("pytest.ini", "").as_deref(), Some("[pytest]\n"));
        assert_eq!(m("tox.ini", "[tox]\nenvlist = py3\n"), None);
        assert_eq!(
            m(
                "tox.ini",
                "[tox]\ntestpaths = no\n[pytest]\ntestpaths = t\n[other]\n"
            )
            .as_deref(),
            Some("[pytest]\ntestpaths = t\n")
        );
        assert_eq!(
            m(
                "setup.cfg",
                "[metadata]\nname = x\n[tool:pytest]\nminversion = 6\n"
            )
            .as_deref(),
            Some("[tool:pytest]\n")
        );
        assert_eq!(m("pyproject.toml", "[project]\nname = \"x\"\n"), None);
        assert_eq!(
            m(
                "pyproject.toml",
                "[project]\nname = \"x\"\n[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\naddopts = \"-q\"\n"
            )
            .as_deref(),
            Some("[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n")
        );
    }

    #[test]
    fn folders_run_from_the_root_down() {
        assert_eq!(folders_of("README.md"), [""]);
        assert_eq!(folders_of("a/b/c.md"), ["", "a/", "a/b/"]);
    }

    #[test]
    fn target_names_drop_fragments_and_folders() {
        assert_eq!(
            target_name("../docs/guide.html#install"),
            Some("guide.html")
        );
        assert_eq!(target_name("a.md?raw"), Some("a.md"));
        assert_eq!(target_name("docs/"), None);
        assert_eq!(target_name(".."), None);
    }

    #[test]
    fn same_name_files_include_md_for_html_and_honour_gitignore() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for path in [
            "docs/guide.md",
            "site/guide.html",
            "other/guide.md.bak",
            "build/guide.md",
            ".git/guide.md",
            ".hidden/guide.html",
        ] {
            let path = root.join(path);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(path, "content").expect("write");
        }
        fs::write(root.join(".gitignore"), "/build\n").expect("write");
        assert_eq!(
            same_name_files(root, "../site/guide.html"),
            [".hidden/guide.html", "docs/guide.md", "site/guide.html"]
        );
        assert_eq!(same_name_files(root, "guide.md"), ["docs/guide.md"]);
    }
}
